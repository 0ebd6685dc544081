"""Reading blobs through one long-lived `git cat-file --batch` per process, a batch at a time.

GitPython's persistent cat-file answers one object per round trip; writing a whole batch of ids
before reading lets git stream the contents back without waiting on us.
"""
from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from scanner import gitcmd
from scanner.errors import GitError
from scanner.models import Blob
from scanner.sources.base import Read

# A request line is an object id and a newline: 41 bytes, or 65 in a SHA-256 repository. 500 of
# them (at most 32.5 KB) fit in one pipe buffer (64 KiB) even while git, its output unread, has
# stopped reading: writing a whole batch before reading cannot deadlock against git's output.
MAX_BATCH = 500


class CatFile:
    def __init__(self, repo: gitcmd.Repo | Path | str) -> None:
        self._repo = repo
        self._proc = subprocess.Popen(
            gitcmd.argv(repo, "cat-file", "--batch"), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=gitcmd.env(),
        )
        _widen(self._proc.stdout)

    def read(self, oids: Sequence[str]) -> Iterator[tuple[str, bytes]]:
        """(oid, content) for each id in order. Callers ask only for objects that a tree, the
        index or rev-list names, so one git cannot read means a corrupt repository."""
        assert self._proc.stdin and self._proc.stdout
        for start in range(0, len(oids), MAX_BATCH):
            chunk = oids[start:start + MAX_BATCH]
            try:
                self._proc.stdin.write("".join(f"{oid}\n" for oid in chunk).encode())
                self._proc.stdin.flush()
            except BrokenPipeError:
                raise self._failure() from None
            for oid in chunk:
                header = self._proc.stdout.readline()
                if not header:
                    raise self._failure()
                parts = header.split()
                if len(parts) < 3:  # "<oid> missing"
                    raise gitcmd.missing_object(self._repo, oid)
                size = int(parts[2])
                data = self._proc.stdout.read(size)
                self._proc.stdout.read(1)  # the newline after the content
                if len(data) != size:
                    raise self._failure()
                yield oid, data

    def _failure(self) -> GitError:
        self._proc.kill()
        err = self._proc.stderr.read() if self._proc.stderr else b""
        return GitError(gitcmd.describe_failure(err, ["cat-file"]) + " (is the repository corrupt?)")

    def close(self) -> None:
        if self._proc.poll() is None:
            if self._proc.stdin:
                self._proc.stdin.close()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()

    def __enter__(self) -> "CatFile":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# Linux's F_SETPIPE_SZ; a pipe of 1 MiB (the unprivileged maximum by default) instead of 64 KiB
# lets git run further ahead of the scan and halves the context switches of a history's gigabyte.
_SET_PIPE_SIZE = 1031
_PIPE_SIZE = 1 << 20


def _widen(stream: IO[bytes] | None) -> None:
    if stream is None or not sys.platform.startswith("linux"):
        return
    import fcntl

    try:
        fcntl.fcntl(stream.fileno(), _SET_PIPE_SIZE, _PIPE_SIZE)
    except OSError:  # a lower pipe-max-size, or a hard pipe-user-pages limit: the default will do
        pass


class SizeCheck:
    """Object sizes through one long-lived `git cat-file --batch-check`, a batch at a time."""

    def __init__(self, repo: gitcmd.Repo | Path | str) -> None:
        self._repo = repo
        self._proc = subprocess.Popen(
            gitcmd.argv(repo, "cat-file", "--batch-check=%(objectname) %(objecttype) %(objectsize)"),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=gitcmd.env(),
        )

    def sizes(self, oids: Sequence[str]) -> Iterator[int | None]:
        """The size of each blob among OIDS, in order; None for an object that is not a blob."""
        assert self._proc.stdin and self._proc.stdout
        for start in range(0, len(oids), MAX_BATCH):
            chunk = oids[start:start + MAX_BATCH]
            try:
                self._proc.stdin.write("".join(f"{oid}\n" for oid in chunk).encode())
                self._proc.stdin.flush()
            except BrokenPipeError:
                raise self._failure() from None
            for oid in chunk:
                parts = self._proc.stdout.readline().split()
                if not parts:
                    raise self._failure()
                if len(parts) < 3:  # "<oid> missing"
                    raise gitcmd.missing_object(self._repo, oid)
                yield int(parts[2]) if parts[1] == b"blob" else None

    def _failure(self) -> GitError:
        self._proc.kill()
        err = self._proc.stderr.read() if self._proc.stderr else b""
        return GitError(gitcmd.describe_failure(err, ["cat-file"]) + " (is the repository corrupt?)")

    def close(self) -> None:
        if self._proc.poll() is None:
            if self._proc.stdin:
                self._proc.stdin.close()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()


@dataclass(frozen=True)
class GitObjects:
    """The opener for blobs of a repository's object store: one cat-file per worker process,
    started on the first batch. ASK_SIZES: records come without sizes (a streamed history) and
    must not be read before git says how large they are; a second, `--batch-check` process per
    worker answers that (the few blobs of a commit hook are read without it)."""

    repo: gitcmd.Repo
    ask_sizes: bool = False

    def open(self) -> "ObjectReader":
        return ObjectReader(self.repo, self.ask_sizes)


class ObjectReader:
    def __init__(self, repo: gitcmd.Repo, ask_sizes: bool = False) -> None:
        self._repo = repo
        self._ask_sizes = ask_sizes
        self._cat: CatFile | None = None
        self._check: SizeCheck | None = None

    def read(self, blobs: Sequence[Blob], limit: int) -> Iterator[tuple[Blob, Read]]:
        # Sizes come from git before any read: a blob over the limit is never read. A streamed
        # history's records come without them, and git is asked here, in the worker.
        if self._ask_sizes and any(b.size is None for b in blobs):
            if self._check is None:
                self._check = SizeCheck(self._repo)
            sizes = list(self._check.sizes([b.oid or "" for b in blobs]))
        else:
            sizes = [b.size if b.size is not None else 0 for b in blobs]  # unknown: checked once read
        wanted = []
        for blob, size in zip(blobs, sizes):
            if size is None:
                yield blob, Read("other")  # not a blob: nothing of ours to scan
            elif size > limit:
                yield blob, Read("large", size=size)
            else:
                wanted.append(blob)
        if not wanted:
            return
        if self._cat is None:
            self._cat = CatFile(self._repo)
        for blob, (_, data) in zip(wanted, self._cat.read([b.oid or "" for b in wanted])):
            yield blob, Read("large", size=len(data)) if len(data) > limit else Read("text", data)

    def close(self) -> None:
        for process in (self._cat, self._check):
            if process is not None:
                process.close()
        self._cat = self._check = None
