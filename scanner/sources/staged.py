"""The staged change: exactly what `git commit` would record, read from the index, never the
work tree; only secrets the commit adds (absent from every parent's version of the path)."""
from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable
from dataclasses import dataclass

from scanner import gitcmd
from scanner.detect import Detector
from scanner.errors import GitError
from scanner.models import Finding, Match, Stats, make_finding
from scanner.sources.blobs import CatFile

_HEX = re.compile(r"[0-9a-fA-F]+")


def _is_null(oid: str) -> bool:
    """git's "no object": 40 zeros, or 64 in a SHA-256 repository."""
    return oid.strip("0") == ""


@dataclass(frozen=True)
class Staged:
    path: str
    source: str  # the path it came from (a rename's source), else the same path
    blob: str
    old: tuple[str, ...]  # the source path's blob in HEAD (and MERGE_HEAD during a merge)


def staged_changes(repo: gitcmd.Repo) -> list[Staged]:
    head = gitcmd.run(repo, "rev-parse", "-q", "--verify", "HEAD^{commit}", ok=(0, 1)).decode().strip()
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
        if status in (b"D", b"U") or _is_null(new_oid) or new_mode == b"160000":
            continue  # deletions add nothing; unmerged paths cannot be committed; gitlinks are not content
        changes.append((path, source, new_oid, old_oid))
    merge_heads = _merge_heads(repo)
    extra: dict[str, list[str]] = {}
    if merge_heads and changes:
        # A merge commit adds a secret only if no parent had it at that path.
        for other in merge_heads:
            for path, oid in _blobs_at(repo, other, [c[1] for c in changes]).items():
                extra.setdefault(path, []).append(oid)
    return [Staged(p, s, new, (old, *extra.get(s, []))) for p, s, new, old in changes]


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
    return [h for h in heads if not _is_null(h)]


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


def scan_staged(repo: gitcmd.Repo, detector: Detector, is_excluded: Callable[[str], bool], max_file_size: int,
                stats: Stats) -> list[Finding]:
    if repo.bare:
        raise GitError("--staged needs a repository with a work tree, not a bare one")
    changes = [c for c in staged_changes(repo) if not _excluded(c.path, is_excluded, stats)]
    if not changes:
        return []
    oids = sorted({c.blob for c in changes} | {o for c in changes for o in c.old if not _is_null(o)})
    with CatFile(repo) as cat:
        blobs = dict(cat.read(oids))
    findings: list[Finding] = []
    for change in changes:
        data = blobs[change.blob]
        if len(data) > max_file_size:
            stats.skipped_large += 1
            continue
        stats.files += 1
        stats.blobs += 1
        stats.bytes += len(data)
        scanned = detector.scan(data, change.path)
        stats.allowed += scanned.allowed
        if not scanned.matches:
            continue
        before: set[tuple[str, str]] = set()
        for oid in change.old:
            old = blobs.get(oid)
            if old is not None and len(old) <= max_file_size:
                before |= _keys(detector.scan(old, change.source).matches)
        findings.extend(make_finding(m, change.path) for m in scanned.matches
                        if (m.rule_id, m.identity) not in before)
    return _mark_unstaged_fixes(repo, findings, blobs, changes, detector, max_file_size)


def _mark_unstaged_fixes(repo: gitcmd.Repo, findings: list[Finding], blobs: dict[str, bytes],
                         changes: list[Staged], detector: Detector, max_file_size: int) -> list[Finding]:
    """Findings whose work-tree file no longer holds the secret: the fix is made but not `git add`ed,
    which the blocked message says, since the commit records the staged version, key and all."""
    if not findings:
        return findings
    from scanner.sources.worktree import TreeReader

    staged = {c.path: blobs[c.blob] for c in changes}
    still: dict[str, set[str] | None] = {}  # the fingerprints the work-tree file holds
    reader = TreeReader(repo.root)
    try:
        for path in {f.path for f in findings}:
            read = reader.read(path, max_file_size)  # never through a symlink, in or out of the tree
            if read.outcome != "text" or read.data == staged.get(path):
                still[path] = None  # deleted, unreadable or unchanged: nothing to say
            else:
                still[path] = {make_finding(m, path).fingerprint for m in detector.scan(read.data, path).matches}
    finally:
        reader.close()
    marked = []
    for f in findings:
        now = still.get(f.path)
        fixed = now is not None and f.fingerprint not in now
        marked.append(dataclasses.replace(f, unstaged_fix=True) if fixed else f)
    return marked


def _excluded(path: str, is_excluded: Callable[[str], bool], stats: Stats) -> bool:
    if is_excluded(path):
        stats.excluded += 1
        return True
    return False


def _keys(matches: tuple[Match, ...]) -> set[tuple[str, str]]:
    return {(m.rule_id, m.identity) for m in matches}
