"""Writing files so that a reader never sees half of one: a temporary file, then a rename."""
from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

from scanner.errors import UsageError


def write_atomic(path: Path, text: str | Iterable[str]) -> None:
    """Write TEXT (one string, or chunks) to PATH; on any failure PATH keeps its old content.

    A device or pipe (`--output /dev/stdout`) cannot be replaced by a rename, so it is written
    in place; a symlink keeps pointing where it did and its target is replaced instead.
    """
    chunks = [text] if isinstance(text, str) else text
    try:
        target = Path(os.path.realpath(path)) if path.is_symlink() else path
        try:
            mode = os.stat(target).st_mode
        except FileNotFoundError:
            mode = None
        if mode is not None and not stat.S_ISREG(mode):
            if stat.S_ISDIR(mode):
                raise UsageError(f"cannot write {path}: it is a folder")
            with open(target, "w", encoding="utf-8", newline="\n") as fh:
                fh.writelines(chunks)
            return
        directory = target.parent
        if not directory.is_dir():
            raise UsageError(f"cannot write {path}: folder {directory} does not exist")
        _replace(target, chunks, stat.S_IMODE(mode) if mode is not None else None)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


def _replace(target: Path, chunks: Iterable[str], mode: int | None) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            # mkstemp makes the file private; a report or baseline gets the mode a plain write would.
            os.fchmod(fh.fileno(), mode if mode is not None else 0o666 & ~_umask())
            fh.writelines(chunks)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        # Ctrl-C or a full disk: leave the old file as it was and no temporary behind.
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _umask() -> int:
    current = os.umask(0o22)
    os.umask(current)
    return current
