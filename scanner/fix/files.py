"""Reading and replacing files of a repository we may not trust: only regular files inside it,
never through a symbolic link, never under .git, and never half-written (a temporary file in the
same folder, then an atomic rename)."""
from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from pathlib import Path

from scanner.fix.code import Refused

MAX_SIZE = 10 * 1024 * 1024  # a file this large is generated or data, not code a person edits


def _parts(rel: str) -> list[str]:
    parts = rel.split("/")
    if rel.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise Refused(f"{rel!r} is not a plain path inside the repository")
    if any(p.lower() == ".git" for p in parts):
        raise Refused("keysentry never changes anything under .git")
    return parts


def _walk(root: Path, rel: str) -> tuple[int, str]:
    """An fd of REL's folder, opened hop by hop without following any link, and REL's last part."""
    parts = _parts(rel)
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for i, part in enumerate(parts[:-1]):
            try:
                inner = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
            except OSError as exc:
                why = "a symbolic link" if exc.errno in (errno.ELOOP, errno.ENOTDIR) else exc.strerror
                raise Refused(f"{'/'.join(parts[:i + 1])}, on the way to {rel}, is {why}: "
                              "keysentry never writes through one") from None
            os.close(fd)
            fd = inner
    except BaseException:
        os.close(fd)
        raise
    return fd, parts[-1]


def read(root: Path, rel: str) -> bytes | None:
    """REL's bytes; None when it does not exist; Refused when it is a link, not a regular file, or too large."""
    folder, name = _walk(root, rel)
    try:
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=folder)
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise Refused(f"{rel} is a symbolic link: keysentry never writes through one") from None
            raise Refused(f"cannot read {rel}: {exc.strerror or exc}") from None
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise Refused(f"{rel} is not a regular file")
            if info.st_size > MAX_SIZE:
                raise Refused(f"{rel} is larger than {MAX_SIZE // (1024 * 1024)} MiB")
            chunks = []
            while chunk := os.read(fd, 1 << 20):
                chunks.append(chunk)
            return b"".join(chunks)
        finally:
            os.close(fd)
    finally:
        os.close(folder)


def replace(root: Path, rel: str, before: bytes | None, after: bytes, *, private: bool = False) -> None:
    """Make REL hold AFTER, only while it still holds BEFORE (None: it must not exist yet); Refused
    when it changed since the plan was made. A reader sees either the old or the new file, never a part."""
    current = read(root, rel)
    if current != before:
        raise Refused(f"{rel} changed since it was scanned" if before is not None else f"{rel} appeared since the scan")
    folder_fd, name = _walk(root, rel)
    try:
        # mkstemp takes a folder path; every hop of this one was just checked for links.
        folder = str(root / os.path.dirname(rel)) if "/" in rel else str(root)
        mode = 0o600 if private else 0o666 & ~_umask()
        if before is not None:
            mode = stat.S_IMODE(os.stat(name, dir_fd=folder_fd, follow_symlinks=False).st_mode)
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".keysentry-tmp", dir=folder)
        tmp_name = os.path.basename(tmp)
        try:
            with os.fdopen(fd, "wb") as fh:
                os.fchmod(fh.fileno(), mode)
                fh.write(after)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp_name, name, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name, dir_fd=folder_fd)
            raise
    except OSError as exc:
        raise Refused(f"cannot write {rel}: {exc.strerror or exc}") from None
    finally:
        os.close(folder_fd)


def _umask() -> int:
    current = os.umask(0o22)
    os.umask(current)
    return current
