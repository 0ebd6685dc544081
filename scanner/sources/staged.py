"""The staged change: exactly what `git commit` would record, read from the index, never the
work tree; only secrets the commit adds (absent from every parent's version of the path).

The blobs are scanned by the scan loop (scanner.scan); this module lists them (the `Index`
source) and turns what the loop found into findings."""
from __future__ import annotations

import dataclasses
import hashlib
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from scanner import gitcmd
from scanner.errors import GitError
from scanner.chunked import READ_WHOLE
from scanner.models import Blob, Finding, Hit, Stats, make_finding, secret_key
from scanner.sources.base import Leaf, Outcomes, Reading, Rescan, Scope, Source
from scanner.sources.blobs import GitObjects

_HEX = re.compile(r"[0-9a-fA-F]+")


@dataclass(frozen=True)
class Staged:
    path: str
    source: str  # the path it came from (a rename's source), else the same path
    blob: str
    old: tuple[str, ...]  # the source path's blob in HEAD (and MERGE_HEAD during a merge)


def staged_changes(repo: gitcmd.Repo) -> list[Staged]:
    head = gitcmd.run(repo, "rev-parse", "-q", "--verify", "HEAD^{commit}", ok=(0, 1)).decode().strip()
    parents: list[str] = []
    if head and amending():
        # `git commit --amend` replaces HEAD: the commit it makes adds what its parents lacked, and a
        # key HEAD holds (committed with --no-verify) is such a thing.
        parents = gitcmd.run(repo, "rev-parse", f"{head}^@").decode().split()
        head = parents[0] if parents else ""
    # The first commit is compared with the empty tree, whose id depends on the object format.
    base = head or gitcmd.run(repo, "hash-object", "-t", "tree", "--stdin", input=b"").decode().strip()
    out = gitcmd.run(repo, "diff-index", "--cached", "--raw", "-z", "--no-abbrev", "-M",
                     "--ignore-submodules=all", "--end-of-options", base, "--")
    fields = out.split(b"\0")
    changes: list[tuple[str, str, str, str]] = []  # (path, source, new blob, old blob)
    i = 0
    while i < len(fields) - 1:
        meta = fields[i].split()
        if not meta or not meta[0].startswith(b":"):
            i += 1
            continue
        status = meta[4][:1]
        if status in (b"R", b"C"):
            source, path = os.fsdecode(fields[i + 1]), os.fsdecode(fields[i + 2])
            i += 3
        else:
            source = path = os.fsdecode(fields[i + 1])
            i += 2
        new_mode, old_oid, new_oid = meta[1], meta[2].decode(), meta[3].decode()
        if status in (b"D", b"U") or gitcmd.is_null_oid(new_oid) or new_mode == b"160000":
            continue  # deletions add nothing; unmerged paths cannot be committed; gitlinks are not content
        changes.append((path, source, new_oid, old_oid))
    merge_heads = parents[1:] or _merge_heads(repo)  # an amended merge keeps its other parents
    extra: dict[str, list[str]] = {}
    if merge_heads and changes:
        # A merge commit adds a secret only if no parent had it at that path.
        for other in merge_heads:
            for path, oid in _blobs_at(repo, other, [c[1] for c in changes]).items():
                extra.setdefault(path, []).append(oid)
    return [Staged(p, s, new, (old, *extra.get(s, []))) for p, s, new, old in changes]


# How far up the process tree the git that runs the hook is looked for: git -> the hook script
# (-> the pre-commit framework -> its hook's entry) -> keysentry.
_HOOK_DEPTH = 8


def amending() -> bool:
    """Is this the pre-commit hook of `git commit --amend`? git tells the hook nothing of it, so the
    command line of the git process running the hook is read (Linux /proc; elsewhere: no). Any
    abbreviation of --amend that git accepts counts (`--am`, `--amen`)."""
    pid = os.getppid()
    for _ in range(_HOOK_DEPTH):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                argv = fh.read().split(b"\0")
            with open(f"/proc/{pid}/stat", "rb") as fh:
                parent = int(fh.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return False
        if argv and os.path.basename(argv[0]) == b"git":
            options = argv[1:argv.index(b"--")] if b"--" in argv else argv[1:]
            # Only `git commit` takes --amend: an alias of it (`git ci --amend`) counts too.
            return any(len(a) >= 4 and b"--amend".startswith(a) for a in options)
        if parent <= 1:
            return False
        pid = parent
    return False


def _merge_heads(repo: gitcmd.Repo) -> list[str]:
    """The other parents of a merge being concluded; only object ids ever reach git's command line."""
    try:
        text = (repo.git_dir / "MERGE_HEAD").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    heads = text.split()
    for head in heads:
        if len(head) != repo.hash_len or not _HEX.fullmatch(head):
            # git itself refuses to commit with this MERGE_HEAD ("Corrupt MERGE_HEAD file").
            raise GitError(f"MERGE_HEAD holds {head[:80]!r}, not an object id: conclude or abort the merge "
                           f"(`git merge --abort`)")
    return [h for h in heads if not gitcmd.is_null_oid(h)]


def _blobs_at(repo: gitcmd.Repo, commit: str, paths: list[str]) -> dict[str, str]:
    out = gitcmd.run(repo, "ls-tree", "-z", "--full-tree", "--end-of-options", commit, "--",
                     *[f":(literal){p}" for p in paths])
    found = {}
    for record in out.split(b"\0"):
        meta, _, path = record.partition(b"\t")
        parts = meta.split()
        if len(parts) == 3 and parts[1] == b"blob":
            found[os.fsdecode(path)] = parts[2].decode()
    return found


def blobs(changes: Sequence[Staged]) -> list[Blob]:
    """One record per blob the commit records, at every path it records it at, and one (not
    counted) per version in HEAD that those are judged against, at the path it had there."""
    paths: dict[str, list[str]] = {}
    counted: set[str] = set()
    for change in changes:
        paths.setdefault(change.blob, []).append(change.path)
        counted.add(change.blob)
    for change in changes:
        for oid in change.old:
            if not gitcmd.is_null_oid(oid) and change.source not in paths.setdefault(oid, []):
                paths[oid].append(change.source)
    return [Blob(tuple(dict.fromkeys(at)), oid, counted=oid in counted) for oid, at in sorted(paths.items())]


def findings(repo: gitcmd.Repo, changes: Sequence[Staged], hits: Iterable[Hit], rescan: Rescan,
             max_file_size: int) -> list[Finding]:
    """The secrets each staged path holds that its version in HEAD (at the path it came from) did not."""
    at = {(hit.blob.oid, path): matches for hit in hits for path, matches in hit.at}
    found: list[Finding] = []
    for change in changes:
        new = at.get((change.blob, change.path), ())
        if not new:
            continue
        before = {secret_key(m) for oid in change.old for m in at.get((oid, change.source), ())}
        found.extend(make_finding(m, change.path) for m in new if secret_key(m) not in before)
    return _mark_unstaged_fixes(repo, found, changes, rescan, max_file_size)


def _mark_unstaged_fixes(repo: gitcmd.Repo, findings: list[Finding], changes: Sequence[Staged],
                         rescan: Rescan, max_file_size: int) -> list[Finding]:
    """Findings whose work-tree file no longer holds the secret: the fix is made but not `git add`ed,
    which the blocked message says, since the commit records the staged version, key and all."""
    if not findings:
        return findings
    from scanner.sources.worktree import TreeReader, WorkTree

    staged = {c.path: c.blob for c in changes}
    # A finding inside an archive is at `ARCHIVE!MEMBER`: the work-tree file is the archive.
    outer = {f.path: _staged_file(f.path, staged) for f in findings}
    changed: list[str] = []  # work-tree files that differ from the staged blob
    reader = TreeReader(repo.root)
    try:
        for path in sorted(set(outer.values())):
            # Never through a symlink, in or out of the tree; whole, so no larger than a scan reads whole.
            read = reader.read(path, min(max_file_size, READ_WHOLE))
            if read.outcome == "text" and _blob_id(read.data, repo.hash_len) != staged.get(path):
                changed.append(path)  # else deleted, unreadable or unchanged: nothing to say
    finally:
        reader.close()
    # The fingerprints each changed file holds, judged by the scan loop as any file is.
    still: dict[str, set[str]] = {path: set() for path in changed}
    for hit in rescan([Blob((path,), counted=False) for path in changed], WorkTree(repo.root)):
        for path, matches in hit.at:
            still[path].update(make_finding(m, path).fingerprint for m in matches if not m.suppressed)
    marked = []
    for f in findings:
        now = still.get(outer[f.path])
        fixed = now is not None and f.fingerprint not in now
        marked.append(dataclasses.replace(f, unstaged_fix=True) if fixed else f)
    return marked


def _staged_file(path: str, staged: dict[str, str]) -> str:
    """The staged file a finding's PATH is in: itself, or the archive of an `ARCHIVE!MEMBER` path."""
    if path in staged or "!" not in path:
        return path
    parts = path.split("!")
    return next((whole for i in range(1, len(parts)) if (whole := "!".join(parts[:i])) in staged), path)


def _blob_id(data: bytes, hash_len: int) -> str:
    """The id git gives DATA as a blob: the work-tree file is unchanged when it equals the staged one."""
    digest = hashlib.sha256() if hash_len == 64 else hashlib.sha1()
    digest.update(b"blob %d\0" % len(data))
    digest.update(data)
    return digest.hexdigest()


# --- the staged change as a source of the scan loop ------------------------------------------------

def sources(scope: Scope) -> list[Source]:
    assert scope.repo is not None
    if scope.repo.bare:
        raise GitError("--staged needs a repository with a work tree, not a bare one")
    return [Index(scope.repo, scope.settings.max_file_size, scope.request.files)]


class Index(Leaf):
    """The blobs the next commit records, and the versions in HEAD they are judged against."""

    reading = Reading(count_files=True)

    def __init__(self, repo: gitcmd.Repo, max_file_size: int, only: Sequence[str] | None = None) -> None:
        self._repo = repo
        self._limit = max_file_size
        # ONLY: the files the pre-commit framework named; the staged change of those alone.
        named = None if only is None else set(only)
        self._changes = [c for c in staged_changes(repo) if named is None or c.path in named]
        self._found = False

    @property
    def opener(self) -> GitObjects:
        return GitObjects(self._repo)

    def blobs(self) -> list[Blob]:
        return blobs(self._changes)

    def provenance(self, hits: list[Hit], rescan: Rescan) -> list[Finding]:
        found = findings(self._repo, self._changes, hits, rescan, self._limit)
        self._found = bool(found)
        return found

    def notes(self, stats: Stats, outcomes: Outcomes) -> tuple[str, ...]:
        if stats.files or self._found:
            return ()
        if stats.excluded:
            return (f"every staged file is excluded by config ({stats.excluded}): nothing scanned",)
        return ("nothing staged: no changes to scan",)
