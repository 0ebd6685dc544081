"""The files keysentry reads and writes for itself (config, baseline, report): bounded reads of
regular files only, and writes that a reader never sees half of (a temporary file, then a rename)."""
from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Sequence
from pathlib import Path

from scanner.errors import ConfigError, UsageError

_MAX_HOPS = 40  # as the kernel's limit on links followed in one lookup


def read_regular(path: Path, limit: int, what: str) -> bytes:
    """The bytes of PATH, a regular file of at most LIMIT bytes; WHAT names it in messages.

    A FIFO would block the open and /dev/zero never ends, so the file is opened without waiting
    and its type checked before a byte is read; /proc files claim size 0, so the read is bounded too.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise ConfigError(f"{what} file not found: {path}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ConfigError(f"{what} {path} is not a regular file")
        chunks = []
        left = limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limit:
        raise ConfigError(f"{what} {path} is larger than {limit // (1024 * 1024)} MiB")
    return data


def write_atomic(path: Path, text: str | Iterable[str], *, tree: Path | Sequence[Path] | None = None) -> None:
    """Write TEXT (one string, or chunks) to PATH; on any failure PATH keeps its old content.

    TREE is the scanned tree (or trees: an audit's local repositories). A symlink inside it was
    chosen by whoever wrote the repository (a clone brings `.keysentry-baseline.json -> ~/.bashrc` along), so there a link, as the file or
    as a folder on the way, is refused. Outside it PATH is the user's own choice: a symlink keeps
    pointing where it did and its target is replaced, and a device or pipe (`--output /dev/stdout`)
    cannot be replaced by a rename, so it is written in place.
    """
    chunks = [text] if isinstance(text, str) else text
    try:
        for scanned in (() if tree is None else (tree,) if isinstance(tree, Path) else tree):
            _refuse_links_inside(path, scanned)
        try:
            mode = os.stat(path).st_mode  # follows /dev/stdout to the pipe, where realpath cannot
        except FileNotFoundError:
            mode = None
        if mode is not None and not stat.S_ISREG(mode):
            if stat.S_ISDIR(mode):
                raise UsageError(f"cannot write {path}: it is a folder")
            with open(path, "w", encoding="utf-8", newline="\n") as fh:
                fh.writelines(chunks)
            return
        target = Path(os.path.realpath(path)) if path.is_symlink() else path
        directory = target.parent
        if not directory.is_dir():
            raise UsageError(f"cannot write {path}: folder {directory} does not exist")
        _replace(target, chunks, stat.S_IMODE(mode) if mode is not None else None)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


def _refuse_links_inside(path: Path, tree: Path) -> None:
    """Follow PATH hop by hop, as the write would: no hop may be a link inside TREE, nor may a path
    named inside TREE leave it through a linked folder."""
    root = os.path.realpath(tree)
    # Not normalised: the kernel resolves `LINK/..` as the parent of where LINK points, so the
    # folder is resolved as written, and only the check of where the name seems to be is lexical.
    named = os.path.join(os.getcwd(), path)
    for _ in range(_MAX_HOPS):
        where = os.path.normpath(named)
        real_folder = os.path.realpath(os.path.dirname(named))
        if (_within(where, root) or _within(where, os.path.abspath(tree))) and not _within(real_folder, root):
            raise UsageError(f"refusing to write {path}: a folder on its way is a symbolic link out of the "
                             f"scanned repository {tree}; write it elsewhere")
        here = os.path.join(real_folder, os.path.basename(named))
        if not os.path.islink(here):
            return
        if _within(here, root):
            raise UsageError(f"refusing to write {path}: it leads to a symbolic link inside the scanned "
                             "repository, which chose where that points; remove the link or write elsewhere")
        named = os.path.join(real_folder, os.readlink(here))


def _within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _replace(target: Path, chunks: Iterable[str], mode: int | None) -> None:
    # Created with O_CREAT | O_EXCL under a random name, as mkstemp does: a link planted in the
    # folder is never followed, and the rename below replaces a directory entry, never what it
    # points to. The name is chosen before the file is made, inside the `try`: a signal that lands
    # just after the file appears (mkstemp's own Python code, before its caller's `try`) would
    # otherwise leave it behind.
    tmp = ""
    try:
        for _ in range(100):
            tmp = os.path.join(target.parent, f".{target.name}.{os.urandom(6).hex()}.tmp")
            try:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
                break
            except FileExistsError:
                tmp = ""  # someone else's: never ours to remove
                continue
        else:
            raise FileExistsError(f"no free temporary name beside {target}")
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            # mkstemp makes the file private; a report or baseline gets the mode a plain write would.
            os.fchmod(fh.fileno(), mode if mode is not None else 0o666 & ~_umask())
            fh.writelines(chunks)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        # Ctrl-C, SIGTERM or a full disk: leave the old file as it was and no temporary behind.
        if tmp:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
        raise


def _umask() -> int:
    current = os.umask(0o22)
    os.umask(current)
    return current
