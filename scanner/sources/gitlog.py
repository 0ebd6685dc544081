"""Parsing `git log --raw -c -z`: each commit with, per changed path, its blob in every parent.

With -z every field git prints ends in a NUL, and only a NUL: paths and author names may hold any
other byte (0x01, newlines, a leading colon). So the stream is read as NUL-terminated fields and
framed by counting them, never by looking inside one: a commit is its four header fields, then
pairs of a raw line (which always starts with ':') and the path it names. The only field whose
content decides anything is the one after a header or a path: a raw line (':') or the next
commit's hex ids. Git's format fields cannot hold a NUL: it stops reading a commit header there.
"""
from __future__ import annotations

import io
import os
import subprocess
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import IO, TYPE_CHECKING

from scanner import gitcmd
from scanner.errors import GitError

if TYPE_CHECKING:
    from scanner.sources.blobs import CatFile

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


# A history's walk leaves the notes refs to scanner.sources.notes: this goes before its `--all`.
EXCLUDE_NOTES = "--exclude=refs/notes/*"
_REVISION_OPTIONS = ("--all", "--not", "--reflog", EXCLUDE_NOTES)


def revision_args(revisions: Sequence[str]) -> list[str]:
    """REVISIONS for rev-list and log: `--all`, `--reflog` and `--not` (the options we pass), in
    their order, before `--end-of-options`, and every other word after it, so none can be read as
    an option. `--not` turns around every revision after it, those after `--end-of-options` too
    (scanner.sources.unreachable relies on that)."""
    options = [r for r in revisions if r in _REVISION_OPTIONS]
    return [*options, "--end-of-options", *[r for r in revisions if r not in _REVISION_OPTIONS]]


def commits(repo: gitcmd.Repo | Path | str, revisions: Sequence[str], extra: Sequence[str] = (),
            ordered: bool = True, missing: set[str] | None = None) -> Iterator[Commit]:
    """Each commit of REVISIONS with its changes. MISSING: a tree or commit git cannot read does
    not end the walk; each such object is added to it (see tolerant_commits)."""
    if missing is None:
        yield from _commits(repo, revisions, extra, ordered)
        return
    given: set[str] = set()
    try:
        for commit in _commits(repo, revisions, extra, ordered):
            given.add(commit.sha)
            yield commit
    except GitError as exc:
        if not object_missing(exc):
            raise
        yield from tolerant_commits(repo, revisions, missing, extra, skip=given)


def _commits(repo: gitcmd.Repo | Path | str, revisions: Sequence[str], extra: Sequence[str],
             ordered: bool) -> Iterator[Commit]:
    proc = subprocess.Popen(gitcmd.argv(repo, *log_args(revisions, extra, ordered)), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=gitcmd.env())
    assert proc.stdout and proc.stderr
    finished = False
    try:
        yield from parse(fields(proc.stdout))
        finished = True
    finally:
        if not finished:  # the caller stopped early or failed: git's answer no longer matters
            proc.kill()
        err = proc.stderr.read()
        code = proc.wait()
    if code != 0:
        raise GitError(gitcmd.describe_failure(err, ["log"]))


def fields(stream: IO[bytes]) -> Iterator[bytes]:
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


# What set_blobs has git print for each commit: this letter and the commit's id, a field no raw
# line (':') or path can be taken for.
_COMMIT_MARK = b"C"


def _set_in(fields: list[bytes], raw: bytes | None, found: list[tuple[str, bytes]],
            commits: list[str]) -> bytes | None:
    """Parse FIELDS (RAW: a raw line the chunk before ended with) into FOUND, and the ids of the
    commits that began into COMMITS; the raw line this chunk ends with, if its path is still to come."""
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
        elif field[:1] == _COMMIT_MARK:
            commits.append(field[1:].decode())
            at += 1
        elif field[:1] != b":":
            raise _malformed("a raw line without its path")
        elif at + 1 == count:
            return field
        else:
            _set_one(field, fields[at + 1], found)
            at += 2
    return raw


def _set_one(raw: bytes, path: bytes, found: list[tuple[str, bytes]]) -> None:
    parents = len(raw) - len(raw.lstrip(b":"))
    words = raw[parents:].split(b" ")
    if len(words) < 2 * parents + 3 or words[parents] == b"160000":
        return  # a submodule's commit, not content of this repository
    new = words[2 * parents + 1]
    if new not in _NULL_IDS:
        found.append((new.decode(), path))


def set_blobs(repo: gitcmd.Repo | Path | str,
              revisions: Sequence[str]) -> Iterator[tuple[list[str], list[tuple[str, bytes]]]]:
    """(blob, raw path) for every path each commit of REVISIONS sets, in git's streaming order:
    what a history scan reads, with every path a blob occurs at. They come a chunk of git's output
    at a time, each with the ids of the commits that began in it, in git's order (rev-list's for
    the same REVISIONS), so counting or listing them needs no second walk. Each commit's header is
    a letter and its id (`--format=tformat:C%H`), so the stream is little more than pairs of a raw
    line and its path; this runs once per changed path of the whole history and does no more than
    that needs."""
    args = ["log", "--raw", "-c", "--root", "--no-renames", "--no-abbrev", "-z", "--no-textconv", "--no-ext-diff",
            "--no-color", "--encoding=UTF-8", f"--format=tformat:{_COMMIT_MARK.decode()}%H",
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
            commits: list[str] = []
            raw = _set_in(fields, raw, found, commits)
            yield commits, found
        if pending:
            found, commits = [], []
            raw = _set_in([pending], raw, found, commits)
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


# --- a history with objects git cannot read ---------------------------------------------------------
#
# `git log` stops at the first tree or commit it cannot read (a partial clone, an old mirror, a
# corrupt pack), and with it the whole scan. When it fails so, the walk is done again here: the
# commits are listed by reading them one by one (a missing one is named and its ancestors are
# still reached through the other parents), and git's log is asked for a chunk of them at a time,
# a failing chunk halved until the commit it cannot diff is found, which is named and skipped.

# What git says when an object it needs is missing or corrupt.
_MISSING_WORDS = ("unable to read", "bad object", "could not read", "missing", "corrupt", "bad tree object",
                  "invalid object", "does not point to a valid object", "not a valid object", "unable to parse",
                  "failed to traverse parents", "revision walk setup failed")
_CHUNK = 512


def object_missing(exc: GitError) -> bool:
    """Whether a failed git command failed on an object it could not read."""
    text = str(exc).lower()
    return any(word in text for word in _MISSING_WORDS)


def named_object(text: str) -> str | None:
    """The object id git's error TEXT names, if any."""
    for word in text.replace("(", " ").replace(")", " ").replace("'", " ").split():
        word = word.strip(".,:;")
        if len(word) in (40, 64) and set(word.encode()) <= _HEX:
            return word
    return None


@dataclass(frozen=True)
class _Header:
    sha: str
    tree: str
    parents: tuple[str, ...]
    author: str
    date: str
    timestamp: int


def listed_commits(repo: gitcmd.Repo | Path | str, revisions: Sequence[str], missing: set[str]) -> list[_Header]:
    """The commits of REVISIONS (`--all`, ids, `^id`), oldest first with parents before children,
    read one by one so that a commit git cannot read costs only itself (named in MISSING)."""
    from scanner.sources.blobs import CatFile

    tips: list[str] = []
    hidden: list[str] = []
    negated = False  # after `--not`, as git reads it: plain revisions hide, `^` ones show
    exclude_notes = False  # `--exclude=refs/notes/*`: the next `--all` leaves them out
    for revision in revisions:
        if revision == "--not":
            negated = not negated
        elif revision == EXCLUDE_NOTES:
            exclude_notes = True
        elif revision == "--reflog":
            # Every reflog entry's commit, as tips (--no-walk: no ancestor is read here).
            logged = gitcmd.run(repo, "rev-list", "--no-walk", "--ignore-missing", "--reflog", ok=(0, 128))
            (hidden if negated else tips).extend(logged.decode("ascii", "replace").split())
        elif revision == "--all":
            out = gitcmd.run(repo, "for-each-ref", "--format=%(objectname) %(refname)").decode("utf-8", "replace")
            refs = [line.split(" ", 1) for line in out.splitlines()]
            named = [oid for oid, ref in refs if not (exclude_notes and ref.startswith("refs/notes/"))]
            head = gitcmd.run(repo, "rev-parse", "-q", "--verify", "HEAD", ok=(0, 1)).decode().split()
            (hidden if negated else tips).extend([*named, *head])
            exclude_notes = False
        elif revision.startswith("^"):
            (tips if negated else hidden).append(revision[1:])
        else:
            (hidden if negated else tips).append(revision)
    with CatFile(repo) as cat:
        excluded = set(_reach(cat, hidden, missing, {})) if hidden else set()
        headers: dict[str, _Header] = {}
        order = _reach(cat, tips, missing, headers, stop=excluded)
    return [headers[sha] for sha in order if sha in headers]


def _reach(cat: "CatFile", tips: Sequence[str], missing: set[str], headers: dict[str, _Header],
           stop: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """Every commit TIPS reach (tags peeled), but those in STOP, parents before children."""
    seen: set[str] = set(stop)
    order: list[str] = []
    parents_of: dict[str, tuple[str, ...]] = {}
    pending = [t for t in dict.fromkeys(tips) if t not in seen]
    # Read breadth-first, a batch at a time (one cat-file round trip per generation of ids).
    while pending:
        batch, pending = pending, []
        for oid, _, data in cat.read_within(batch, None, tolerant=True):
            if oid in seen:
                continue
            seen.add(oid)
            if data is None:
                missing.add(oid)
                continue
            kind, header = _parse_object(data)
            if kind == "tag":
                target = header.get("object", [""])[0]
                if target and target not in seen:
                    pending.append(target)
                continue
            if kind != "commit":
                continue  # a tag of a tree or a blob: scanner.sources.tagged reads it
            parents = tuple(header.get("parent", []))
            parents_of[oid] = parents
            author, timestamp, date = who(header.get("author", [""])[0])
            headers[oid] = _Header(oid, header.get("tree", [""])[0], parents, author, date, timestamp)
            pending.extend(p for p in parents if p not in seen)
    # Parents before children: a depth-first walk that writes a commit once all its parents are.
    done: set[str] = set()
    for root in sorted(parents_of, key=lambda s: headers[s].timestamp if s in headers else 0):
        stack = [(root, False)]
        while stack:
            sha, expanded = stack.pop()
            if sha in done or sha not in parents_of:
                continue
            if expanded:
                done.add(sha)
                order.append(sha)
                continue
            stack.append((sha, True))
            stack.extend((p, False) for p in reversed(parents_of[sha]) if p not in done)
    return order


def _parse_object(data: bytes) -> tuple[str, dict[str, list[str]]]:
    """A commit's or tag's header fields (its kind told by the fields it has)."""
    header: dict[str, list[str]] = {}
    for line in data.split(b"\n\n", 1)[0].split(b"\n"):
        key, _, value = line.partition(b" ")
        header.setdefault(key.decode("ascii", "replace"), []).append(value.decode("utf-8", "replace"))
    kind = "commit" if "tree" in header else "tag" if "object" in header else "other"
    return kind, header


def who(line: str) -> tuple[str, int, str]:
    """A commit's author line: the name, the instant, and the date as ISO 8601."""
    who, _, when = line.rpartition("> ")
    stamp, _, zone = when.partition(" ")
    timestamp = int(stamp) if stamp.isdigit() else 0
    try:
        sign = -1 if zone.startswith("-") else 1
        offset = timezone(sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5])))
        date = datetime.fromtimestamp(timestamp, offset).isoformat()
    except (ValueError, OverflowError, OSError):
        date = sane_date("", timestamp)
    return who.split(" <")[0], timestamp, date


def tolerant_commits(repo: gitcmd.Repo | Path | str, revisions: Sequence[str], missing: set[str],
                     extra: Sequence[str] = (), skip: set[str] | frozenset[str] = frozenset()) -> Iterator[Commit]:
    """What `commits` gives (oldest first), for a history holding objects git cannot read: each
    of them named in MISSING, a commit whose changes git cannot tell given with none. SKIP: commits
    given already (by a walk that then failed)."""
    listed = [h for h in listed_commits(repo, revisions, missing) if h.sha not in skip]
    _check_trees(repo, listed)
    args = log_args([], extra, ordered=False)
    args = [args[0], "--no-walk=unsorted", "--stdin", *args[1:]]
    failures = [0]
    for start in range(0, len(listed), _CHUNK):
        yield from _log_chunk(repo, args, listed[start:start + _CHUNK], missing, failures)


# Past this many commits git cannot diff, the repository lacks its trees as a rule, not by
# exception (a partial clone made without them): a walk a commit at a time would take hours and
# say little, so the scan stops with an error instead.
_MAX_UNDIFFABLE = 64


def _too_few_trees(repo: gitcmd.Repo | Path | str, what: str) -> GitError:
    return GitError(f"git cannot read the trees of {what} (a partial clone made without trees?): "
                    f"{gitcmd.missing_hint(repo)}")


def _check_trees(repo: gitcmd.Repo | Path | str, listed: Sequence[_Header]) -> None:
    """Fail at once when most of the commits' own trees are missing."""
    trees = [h.tree for h in listed if h.tree]
    if len(trees) <= _MAX_UNDIFFABLE:
        return
    out = gitcmd.run(repo, "cat-file", "--batch-check=%(objecttype)", input="".join(f"{t}\n" for t in trees).encode())
    absent = sum(1 for line in out.decode("utf-8", "replace").splitlines() if line.endswith("missing"))
    if absent > _MAX_UNDIFFABLE:
        raise _too_few_trees(repo, f"{absent} of its {len(trees)} commits")


def _log_chunk(repo: gitcmd.Repo | Path | str, args: list[str], chunk: list[_Header],
               missing: set[str], failures: list[int]) -> Iterator[Commit]:
    """The commits of CHUNK with their changes; FAILURES counts those git could not diff."""
    proc = subprocess.run(gitcmd.argv(repo, *args), input="".join(f"{h.sha}\n" for h in chunk).encode(),
                          capture_output=True, env=gitcmd.env())
    if proc.returncode == 0:
        found = {c.sha: c for c in parse(fields(io.BytesIO(proc.stdout)))}
        # In the walk's order; a commit --find-object leaves out changes nothing it looks for.
        yield from (found[h.sha] for h in chunk if h.sha in found)
        return
    error = GitError(gitcmd.describe_failure(proc.stderr, args))
    if not object_missing(error):
        raise error
    if len(chunk) > 1:
        half = len(chunk) // 2
        yield from _log_chunk(repo, args, chunk[:half], missing, failures)
        yield from _log_chunk(repo, args, chunk[half:], missing, failures)
        return
    failures[0] += 1
    if failures[0] > _MAX_UNDIFFABLE:
        raise _too_few_trees(repo, f"more than {_MAX_UNDIFFABLE} commits")
    header = chunk[0]
    named = named_object(str(error))
    if named is not None and named != header.sha:
        missing.add(named)
    yield Commit(header.sha, header.parents, header.author, header.date, header.timestamp,
                 _tolerant_changes(repo, header, missing))


def _tolerant_changes(repo: gitcmd.Repo | Path | str, header: _Header, missing: set[str]) -> tuple[Change, ...]:
    """What `git log --raw -c` would say HEADER changes, from the files of its tree and its parents'
    that can be read: a path whose blob differs from every parent's (a parent git cannot read has
    none, so all of the commit's files count as new)."""
    if not isinstance(repo, gitcmd.Repo):
        return ()
    mine = dict(tolerant_tree(repo, header.tree, missing)) if header.tree else {}
    theirs = [dict(tolerant_tree(repo, f"{parent}^{{tree}}", missing)) if parent not in missing else {}
              for parent in header.parents]
    changes = []
    for path, blob in mine.items():
        old = tuple(files.get(path, NULL_OID) for files in theirs) or (NULL_OID,)
        if blob not in old:
            changes.append(Change(path, old, blob))
    return tuple(changes)


def tolerant_tree(repo: gitcmd.Repo, tree: str, missing: set[str]) -> list[tuple[str, str]]:
    """(path, blob) for every file of TREE (`ls-tree -r`), read a tree object at a time so that
    one git cannot read leaves out only its own files (and is named in MISSING)."""
    from scanner.sources.blobs import CatFile

    try:
        root = gitcmd.run(repo, "rev-parse", "--verify", "--end-of-options", tree).decode().strip()
    except GitError:
        return []  # a commit git cannot read: named by the walk
    width = repo.hash_len // 2
    files: list[tuple[str, str]] = []
    pending = [(root, b"")]
    with CatFile(repo) as cat:
        while pending:
            folders: dict[str, list[bytes]] = {}  # one tree may sit at several paths
            for oid, prefix in pending:
                folders.setdefault(oid, []).append(prefix)
            pending = []
            for oid, _, data in cat.read_within(list(folders), None, tolerant=True):
                if data is None:
                    missing.add(oid)
                    continue
                at = 0
                while at < len(data):
                    space, nul = data.index(b" ", at), data.index(b"\0", at)
                    mode, name = data[at:space], data[space + 1:nul]
                    child = data[nul + 1:nul + 1 + width].hex()
                    at = nul + 1 + width
                    for prefix in folders[oid]:
                        path = prefix + name
                        if mode == b"40000":
                            pending.append((child, path + b"/"))
                        elif mode != b"160000":  # a submodule's commit is not content of this repository
                            files.append((os.fsdecode(path), child))
    return sorted(files)
