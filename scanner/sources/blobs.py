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

# A request line is "contents ", an object id and a newline: 50 bytes, or 74 in a SHA-256
# repository. 500 of them (at most 37 KB) fit in one pipe buffer (64 KiB) even while git, its
# output unread, has stopped reading: writing a whole batch before reading cannot deadlock
# against git's output.
MAX_BATCH = 500
# The size read_within gives an object git cannot read, in a tolerant read.
MISSING = -1
# Unreadable objects in a row after which a tolerant read gives up: git reads nothing here.
MAX_FAILURES = 50


# git 2.36's --batch-command: with --buffer, git writes its answers through stdio's buffer and
# flushes when asked, once a batch, instead of after every object.
_BATCH_COMMAND = (2, 36)
MANY = 64


class CatFile:
    def __init__(self, repo: gitcmd.Repo | Path | str, commands: bool | None = None) -> None:
        """COMMANDS: whether to speak --batch-command (default: when git has it)."""
        self._repo = repo
        self._commands = gitcmd.version() >= _BATCH_COMMAND if commands is None else commands
        self._proc = self._start()

    def _start(self) -> "subprocess.Popen[bytes]":
        mode = ["--batch-command", "--buffer"] if self._commands else ["--batch"]
        proc = subprocess.Popen(
            gitcmd.argv(self._repo, "cat-file", *mode), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=gitcmd.env(),
        )
        _widen(proc.stdout)
        return proc

    def read(self, oids: Sequence[str]) -> Iterator[tuple[str, bytes]]:
        """(oid, content) for each id in order. Callers ask only for objects that a tree, the
        index or rev-list names, so one git cannot read means a corrupt repository."""
        for oid, _, data in self.read_within(oids, None):
            assert data is not None
            yield oid, data

    def read_within(self, oids: Sequence[str], limit: int | None,
                    tolerant: bool = False) -> Iterator[tuple[str, int, bytes | None]]:
        """(oid, size, content) for each id in order; the content None for an object over LIMIT
        bytes, which is never read: git says the size before the content, and is then stopped
        and started again for the ids after it (the content would have filled the pipe).

        TOLERANT: an object git cannot read (missing, or corrupt: git dies on it) comes as
        (oid, MISSING, None) and git is started again for the ids after it, so one bad object
        costs one object, not the scan; MAX_FAILURES such objects in a row mean git cannot read
        this repository at all, which is an error. Otherwise a bad object is an error."""
        start = 0
        failures = 0
        while start < len(oids):
            chunk = oids[start:start + MAX_BATCH]
            self._request(chunk)
            # Bound for this chunk (a restart makes a new git with new pipes): this loop runs
            # once per object of a history.
            stdout = self._proc.stdout
            assert stdout is not None
            readline, read = stdout.readline, stdout.read
            for oid in chunk:
                start += 1
                header = readline()
                parts = header.split()
                if len(parts) >= 3:
                    size = int(parts[2])
                elif header:  # "<oid> missing"
                    size = MISSING
                else:  # git died on this object (a corrupt one)
                    if not tolerant or failures >= MAX_FAILURES:
                        raise self._failure()
                    failures += 1
                    self._restart()
                    yield oid, MISSING, None
                    break  # ask the new git for the ids after it
                if size == MISSING:
                    if not tolerant:
                        raise gitcmd.missing_object(self._repo, oid)
                    yield oid, MISSING, None
                    continue  # git goes on with the next id
                failures = 0
                if limit is not None and size > limit:
                    self._restart()
                    yield oid, size, None
                    break
                data = read(size)
                read(1)  # the newline after the content
                if len(data) != size:
                    raise self._failure()
                yield oid, size, data

    def _request(self, oids: Sequence[str]) -> None:
        assert self._proc.stdin
        try:
            if self._commands:
                self._proc.stdin.write("".join([*(f"contents {oid}\n" for oid in oids), "flush\n"]).encode())
            else:
                self._proc.stdin.write("".join(f"{oid}\n" for oid in oids).encode())
            self._proc.stdin.flush()
        except BrokenPipeError:
            raise self._failure() from None

    def _restart(self) -> None:
        self._proc.kill()
        for pipe in (self._proc.stdin, self._proc.stdout, self._proc.stderr):
            if pipe is not None:
                pipe.close()
        self._proc.wait()
        self._proc = self._start()

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


@dataclass(frozen=True)
class GitObjects:
    """The opener for blobs of a repository's object store: one cat-file per worker process,
    started on the first batch."""

    repo: gitcmd.Repo

    def open(self) -> "ObjectReader":
        return ObjectReader(self.repo)


class ObjectReader:
    def __init__(self, repo: gitcmd.Repo) -> None:
        self._repo = repo
        self._cat: CatFile | None = None

    def read(self, blobs: Sequence[Blob], limit: int) -> Iterator[tuple[Blob, Read]]:
        # A blob over the limit is never read: skipped on the size the record brings (a listed
        # walk asked git first), else on the size cat-file announces before the content.
        wanted = []
        for blob in blobs:
            if blob.size is not None and blob.size > limit:
                yield blob, Read("large", size=blob.size)
            else:
                wanted.append(blob)
        if not wanted:
            return
        if self._cat is None:
            # A handful of blobs (a commit hook's) keeps to --batch: asking git for its version
            # would cost more than --batch-command saves on them.
            self._cat = CatFile(self._repo, None if len(wanted) >= MANY else False)
        # Tolerant: a history of a partial clone or an old mirror may lack a few blobs; the scan
        # goes on without them and its report names them (stats.missing_objects).
        read = self._cat.read_within([b.oid or "" for b in wanted], limit, tolerant=True)
        for blob, (oid, size, data) in zip(wanted, read, strict=True):
            if size == MISSING:
                yield blob, Read("missing", detail=oid)
            else:
                yield blob, Read("large", size=size) if data is None else Read("text", data)

    def stream(self, blob: Blob, piece: int) -> Iterator[bytes]:
        """One blob's content through its own `git cat-file blob`, a piece at a time."""
        proc = subprocess.Popen(gitcmd.argv(self._repo, "cat-file", "blob", blob.oid or ""), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=gitcmd.env())
        assert proc.stdout is not None and proc.stderr is not None
        try:
            while True:
                chunk = proc.stdout.read(piece)
                if not chunk:
                    break
                yield chunk
            error = proc.stderr.read()
            if proc.wait() != 0:
                raise GitError(gitcmd.describe_failure(error, ["cat-file"]))
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
            proc.stderr.close()

    def close(self) -> None:
        if self._cat is not None:
            self._cat.close()
            self._cat = None
