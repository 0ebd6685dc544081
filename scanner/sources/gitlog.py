"""Parsing `git log --raw -c -z`: each commit with, per changed path, its blob in every parent.

With -z every field git prints ends in a NUL, and only a NUL: paths and author names may hold any
other byte (0x01, newlines, a leading colon). So the stream is read as NUL-terminated fields and
framed by counting them, never by looking inside one: a commit is its four header fields, then
pairs of a raw line (which always starts with ':') and the path it names. The only field whose
content decides anything is the one after a header or a path: a raw line (':') or the next
commit's hex ids. Git's format fields cannot hold a NUL: it stops reading a commit header there.
"""
from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import IO

from scanner import gitcmd
from scanner.errors import GitError

# "No object" (a path absent from a parent, or deleted), whatever the repository's hash: git writes
# 40 zeros in a SHA-1 repository and 64 in a SHA-256 one; both become this.
NULL_OID = "0" * 40
_FORMAT = "--format=%H %P%x00%an%x00%aI%x00%at"
_HEADER_FIELDS = 4
_HEX = frozenset(b"0123456789abcdef")
# The latest instant Python's datetime (and so every report) can hold: a commit git accepts may
# claim a later one (the year 10000 passes `git fsck`).
_LATEST = "9999-12-31T23:59:59+00:00"


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
    date: str  # ISO 8601, always one datetime.fromisoformat() accepts
    timestamp: int
    changes: tuple[Change, ...]


def log_args(revisions: Sequence[str], extra: Sequence[str] = (), ordered: bool = True) -> list[str]:
    # -c: a merge shows only paths that differ from every parent, with each parent's blob: exactly
    # the paths a merge resolution can introduce something at. --no-renames: moves are judged by
    # content (a secret leaving one path and arriving at another in the same commit).
    # --encoding: the repository's i18n.logOutputEncoding (UTF-16, say) would put NULs into names.
    # ORDERED: oldest first, parents before children, as attribution needs; a walk that only
    # gathers blobs and paths takes git's streaming order instead.
    order = ["--topo-order", "--reverse"] if ordered else []
    return ["log", "--raw", "-c", "--root", "--no-renames", "--no-abbrev", "-z", *order,
            "--no-textconv", "--no-ext-diff", "--no-color", "--encoding=UTF-8", _FORMAT, *extra,
            *revision_args(revisions), "--"]


_REVISION_OPTIONS = ("--all", "--not", "--reflog")


def revision_args(revisions: Sequence[str]) -> list[str]:
    """REVISIONS for rev-list and log: `--all`, `--reflog` and `--not` (the options we pass), in
    their order, before `--end-of-options`, and every other word after it, so none can be read as
    an option. `--not` turns around every revision after it, those after `--end-of-options` too
    (scanner.sources.unreachable relies on that)."""
    options = [r for r in revisions if r in _REVISION_OPTIONS]
    return [*options, "--end-of-options", *[r for r in revisions if r not in _REVISION_OPTIONS]]


def commits(repo: gitcmd.Repo | Path | str, revisions: Sequence[str], extra: Sequence[str] = (),
            ordered: bool = True) -> Iterator[Commit]:
    proc = subprocess.Popen(gitcmd.argv(repo, *log_args(revisions, extra, ordered)), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=gitcmd.env())
    assert proc.stdout and proc.stderr
    finished = False
    try:
        yield from parse(_fields(proc.stdout))
        finished = True
    finally:
        if not finished:  # the caller stopped early or failed: git's answer no longer matters
            proc.kill()
        err = proc.stderr.read()
        code = proc.wait()
    if code != 0:
        raise GitError(gitcmd.describe_failure(err, ["log"]))


def _fields(stream: IO[bytes]) -> Iterator[bytes]:
    """The NUL-terminated fields of a byte stream, read in chunks."""
    pending = b""
    while True:
        chunk = stream.read(1 << 16)
        if not chunk:
            break
        pending += chunk
        *done, pending = pending.split(b"\0")
        yield from done
    if pending:
        yield pending


def parse(stream: Iterable[bytes]) -> Iterator[Commit]:
    """Commits from the fields of `git log -z --raw` with our format (see the module's docstring)."""
    fields = iter(stream)
    header: list[bytes] | None = None
    changes: list[Change] = []
    for field in fields:
        raw = field.lstrip(b"\n")
        if header is not None and raw.startswith(b":"):
            path = next(fields, None)
            if path is None:
                raise _malformed("a raw line without its path")
            change = _change(raw, path)
            if change is not None:
                changes.append(change)
            continue
        if not raw:
            continue  # git ends a merge whose combined diff is empty with an extra NUL
        if header is not None:
            yield _commit(header, changes)
        header = [field, *(next(fields, b"") for _ in range(_HEADER_FIELDS - 1))]
        changes = []
        if not _is_ids(header[0]):
            raise _malformed("a commit header without its id")
    if header is not None:
        yield _commit(header, changes)


def _is_ids(field: bytes) -> bool:
    words = field.split(b" ")
    return bool(words[0]) and all(len(w) in (40, 64) and set(w) <= _HEX for w in words if w)


def _malformed(what: str) -> GitError:
    return GitError(f"git: unexpected 'git log' output ({what}); is the repository corrupt?")


def _commit(header: list[bytes], changes: list[Change]) -> Commit:
    shas = header[0].decode().split()
    author = header[1].decode("utf-8", "replace")
    timestamp = int(header[3]) if header[3].strip().isdigit() else 0
    return Commit(shas[0], tuple(shas[1:]), author, sane_date(header[2].decode("utf-8", "replace"), timestamp),
                  timestamp, tuple(changes))


def sane_date(iso: str, timestamp: int) -> str:
    """git's %aI when Python can read it back; else the instant in UTC, clamped to year 9999.
    Git prints what a commit claims: the year 10000, an offset of +99:59 (datetime allows < 24 h)."""
    try:
        datetime.fromisoformat(iso)
        return iso
    except ValueError:
        pass
    try:
        return datetime.fromtimestamp(timestamp, timezone.utc).isoformat()
    except (ValueError, OverflowError, OSError):
        return _LATEST


_NULL_IDS = {b"0" * 40, b"0" * 64}


def _oid(raw: bytes) -> str:
    return NULL_OID if raw in _NULL_IDS else raw.decode()


def _change(meta: bytes, path_field: bytes) -> Change | None:
    """One raw line, ':' once per parent, then modes for each parent and the result, blobs likewise,
    and the status; None for a submodule gitlink (not content of this repository)."""
    parents = len(meta) - len(meta.lstrip(b":"))
    parts = meta[parents:].split()
    n = parents + 1
    if len(parts) < 2 * n or parts[parents] == b"160000":
        return None
    if parents == 1:  # the common case, spelt out: this loop runs once per changed path
        old: tuple[str, ...] = (NULL_OID if parts[0] == b"160000" else _oid(parts[2]),)
    else:
        old = tuple(NULL_OID if parts[i] == b"160000" else _oid(parts[n + i]) for i in range(parents))
    return Change(os.fsdecode(path_field), old, _oid(parts[2 * n - 1]))


# What set_blobs has git print for each commit: a field no raw line (':') or path can be taken for.
_COMMIT_MARK = b"C"


def _set_in(fields: list[bytes], raw: bytes | None, found: list[tuple[str, bytes]]) -> tuple[int, bytes | None]:
    """Parse FIELDS (RAW: a raw line the chunk before ended with) into FOUND; how many commits
    began, and the raw line this chunk ends with, if its path is still to come."""
    commits = 0
    at = 0
    if raw is not None and fields:
        _set_one(raw, fields[0], found)
        at, raw = 1, None
    count = len(fields)
    while at < count:
        field = fields[at]
        if field[:1] == b"\n":
            field = field.lstrip(b"\n")
        if not field:  # after a commit's header, and after a merge with an empty combined diff
            at += 1
        elif field == _COMMIT_MARK:
            commits += 1
            at += 1
        elif field[:1] != b":":
            raise _malformed("a raw line without its path")
        elif at + 1 == count:
            return commits, field
        else:
            _set_one(field, fields[at + 1], found)
            at += 2
    return commits, raw


def _set_one(raw: bytes, path: bytes, found: list[tuple[str, bytes]]) -> None:
    parents = len(raw) - len(raw.lstrip(b":"))
    words = raw[parents:].split(b" ")
    if len(words) < 2 * parents + 3 or words[parents] == b"160000":
        return  # a submodule's commit, not content of this repository
    new = words[2 * parents + 1]
    if new not in _NULL_IDS:
        found.append((new.decode(), path))


def set_blobs(repo: gitcmd.Repo | Path | str, revisions: Sequence[str]) -> Iterator[tuple[int, list[tuple[str, bytes]]]]:
    """(blob, raw path) for every path each commit of REVISIONS sets, in git's streaming order:
    what a history scan reads, with every path a blob occurs at. They come a chunk of git's output
    at a time, each with how many commits began in it, so counting them needs no second walk.
    Each commit's header is one letter (`--format=tformat:C`), so the stream is little more than
    pairs of a raw line and its path; this runs once per changed path of the whole history and
    does no more than that needs."""
    args = ["log", "--raw", "-c", "--root", "--no-renames", "--no-abbrev", "-z", "--no-textconv", "--no-ext-diff",
            "--no-color", "--encoding=UTF-8", f"--format=tformat:{_COMMIT_MARK.decode()}",
            *revision_args(revisions), "--"]
    proc = subprocess.Popen(gitcmd.argv(repo, *args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=gitcmd.env())
    assert proc.stdout and proc.stderr
    finished = False
    try:
        pending = b""
        raw: bytes | None = None  # a raw line whose path is in the next chunk
        while True:
            chunk = proc.stdout.read(1 << 16)
            if not chunk:
                break
            fields = (pending + chunk).split(b"\0")
            pending = fields.pop()  # the field the next chunk ends
            found: list[tuple[str, bytes]] = []
            commits, raw = _set_in(fields, raw, found)
            yield commits, found
        if pending:
            found = []
            commits, raw = _set_in([pending], raw, found)
            yield commits, found
        finished = True
    finally:
        if not finished:
            proc.kill()
        err = proc.stderr.read()
        code = proc.wait()
    if code != 0:
        raise GitError(gitcmd.describe_failure(err, ["log"]))
    if raw is not None:
        raise _malformed("a raw line without its path")
