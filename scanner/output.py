"""Writing files so that a reader never sees half of one: a temporary file, then a rename."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from scanner.errors import UsageError


def write_atomic(path: Path, text: str) -> None:
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise UsageError(f"cannot write {path}: folder {directory} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        # Ctrl-C or a full disk: leave the old file as it was and no temporary behind.
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
