"""Parsing `git log --raw -c -z`: each commit with, per changed path, its blob in every parent."""
from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from scanner import gitcmd
from scanner.errors import GitError

NULL_OID = "0" * 40
_FORMAT = "--format=%x01%H %P%x00%an%x00%aI%x00%at"


@dataclass(frozen=True)
class Change:
    path: str
    old: tuple[str, ...]  # the blob at `path` in each parent (NULL_OID where absent)
    new: str  # NULL_OID when the commit deletes the path


@dataclass(frozen=True)
class Commit:
    sha: str
    parents: tuple[str, ...]
    author: str
    date: str  # ISO 8601
    timestamp: int
    changes: tuple[Change, ...]


def log_args(revisions: Sequence[str], extra: Sequence[str] = ()) -> list[str]:
    # -c: a merge shows only paths that differ from every parent, with each parent's blob: exactly
    # the paths a merge resolution can introduce something at. --no-renames: moves are judged by
    # content (a secret leaving one path and arriving at another in the same commit).
    return ["log", "--raw", "-c", "--root", "--no-renames", "--no-abbrev", "-z", "--topo-order", "--reverse",
            "--no-textconv", "--no-ext-diff", "--no-color", _FORMAT, *extra, *revisions, "--"]


def commits(repo: gitcmd.Repo | Path | str, revisions: Sequence[str], extra: Sequence[str] = ()) -> Iterator[Commit]:
    proc = subprocess.Popen(gitcmd.argv(repo, *log_args(revisions, extra)), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=gitcmd.env())
    assert proc.stdout and proc.stderr
    pending = b""
    finished = False
    try:
        while True:
            chunk = proc.stdout.read(1 << 16)
            if not chunk:
                break
            pending += chunk
            records = pending.split(b"\x01")
            pending = records.pop()
            for record in records:
                if record:
                    yield _parse(record)
        if pending:
            yield _parse(pending)
        finished = True
    finally:
        if not finished:  # the caller stopped early or failed: git's answer no longer matters
            proc.kill()
        err = proc.stderr.read()
        code = proc.wait()
    if code != 0:
        raise GitError(gitcmd.describe_failure(err, ["log"]))


def _parse(record: bytes) -> Commit:
    fields = record.split(b"\0")
    shas = fields[0].decode().split()
    author = fields[1].decode("utf-8", "replace")
    date = fields[2].decode()
    timestamp = int(fields[3] or 0)
    changes = []
    rest = fields[4:]
    i = 0
    while i + 1 < len(rest):
        meta = rest[i].lstrip(b"\n")
        if not meta.startswith(b":"):
            i += 1
            continue
        path = os.fsdecode(rest[i + 1])
        i += 2
        parents = len(meta) - len(meta.lstrip(b":"))
        parts = meta.lstrip(b":").split()
        # parts: modes for each parent and the result, then blobs likewise, then the status
        blobs = parts[parents + 1: 2 * parents + 2]
        modes = parts[: parents + 1]
        if modes[-1] == b"160000" or len(blobs) != parents + 1:
            continue  # a submodule gitlink: not content of this repository
        old = tuple(b.decode() if m != b"160000" else NULL_OID for b, m in zip(blobs[:-1], modes[:-1]))
        changes.append(Change(path, old, blobs[-1].decode()))
    return Commit(shas[0], tuple(shas[1:]), author, date, timestamp, tuple(changes))
