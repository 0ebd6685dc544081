"""Reading blobs through one long-lived `git cat-file --batch` per process, a batch at a time.

GitPython's persistent cat-file answers one object per round trip; writing a whole batch of ids
before reading lets git stream the contents back without waiting on us.
"""
from __future__ import annotations

import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path

from scanner import gitcmd
from scanner.errors import GitError

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
