"""What a command says to the person running it and where its reports go: standard output (in
UTF-8 where the format demands it, quiet about a reader that went away), a report file written
atomically, one escaped line on standard error. Shared by the CLI and the GitHub Action."""
from __future__ import annotations

import codecs
import io
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TextIO

def tree_of(path: str) -> Path:
    """The repository holding PATH (its top folder), else PATH's folder: the tree whose symlinks
    were chosen by whoever wrote it, so that no report or baseline is written through them."""
    named = Path.cwd() if path == "-" else Path(os.path.abspath(path))
    folder = named if named.is_dir() else named.parent
    for candidate in (folder, *folder.parents):
        if os.path.lexists(candidate / ".git"):
            return candidate
    return folder


def emit(text: str | Iterable[str], output: Path | None, tree: Path | Sequence[Path] | None = None, *,
          utf8: bool = False) -> None:
    """TEXT (one string, or chunks made as they are written) to OUTPUT (TREE: the scanned tree, see
    write_atomic) or standard output. UTF8: a JSON or SARIF report, which is UTF-8 by definition
    (RFC 8259), whatever the locale says."""
    chunks = (text,) if isinstance(text, str) else text
    if output is None:
        try:
            if utf8 and not is_utf8(sys.stdout) and hasattr(sys.stdout, "buffer"):
                sys.stdout.flush()
                for chunk in chunks:
                    sys.stdout.buffer.write(chunk.encode("utf-8"))
                sys.stdout.buffer.flush()
            else:
                for chunk in chunks:
                    sys.stdout.write(chunk)
                sys.stdout.flush()
        except BrokenPipeError:
            # `keysentry scan . | head -0`: the reader went away, which changes nothing about what
            # the scan found, so its status stands.
            drop(sys.stdout)
    else:
        from scanner.output import write_atomic

        write_atomic(output, text, tree=tree)


def drop(stream: TextIO) -> None:
    """Point STREAM at /dev/null: what is still buffered in it then goes nowhere at exit instead
    of raising BrokenPipeError again (the Python documentation's advice on SIGPIPE)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError, io.UnsupportedOperation):
        pass


def say(line: str) -> None:
    """One line for a person on standard error, control characters escaped (a file name can hold ESC)."""
    from scanner.report import printable

    try:
        print(printable(line), file=sys.stderr, flush=True)
    except BrokenPipeError:
        drop(sys.stderr)


def is_utf8(stream: TextIO) -> bool:
    try:
        return codecs.lookup(stream.encoding or "ascii").name == "utf-8"
    except LookupError:
        return False
