"""History and range scans: scan every unique blob once, in parallel, then attribute findings."""
from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from scanner import content, gitcmd, parallel
from scanner.attribution import Attributor
from scanner.detect import Detector
from scanner.errors import GitError
from scanner.models import Finding, Match, Stats, make_finding
from scanner.rules import FILE_RULES
from scanner.sources import gitlog
from scanner.sources.blobs import CatFile

# Past this many blobs with findings, asking git to filter the log by object costs more than
# filtering its full output here.
_FIND_OBJECT_LIMIT = 2000
_BATCH_BLOBS = 256
_BATCH_BYTES = 8 << 20


@dataclass(frozen=True)
class Plan:
    """What a history or range scan needs from the caller."""

    repo: gitcmd.Repo
    detector: Detector
    is_excluded: Callable[[str], bool]
    max_file_size: int
    jobs: int
    progress: object  # scanner.report.progress.Progress or a no-op with the same methods


# --- workers -------------------------------------------------------------------------------

_worker: dict[str, object] = {}


def _init(repo: gitcmd.Repo, detector: Detector) -> None:
    _worker.clear()
    _worker.update(repo=repo, detector=detector)


def _close() -> None:
    cat = _worker.pop("cat", None)
    if cat is not None:
        cat.close()  # type: ignore[attr-defined]


def _scan_batch(batch: Sequence[tuple[str, str]]) -> tuple[list[tuple[str, tuple[Match, ...]]], int, int, int, int]:
    """Scan (oid, path) pairs; returns (hits, blobs, bytes, lfs, allowed)."""
    cat = _worker.get("cat")
    if cat is None:
        cat = _worker["cat"] = CatFile(_worker["repo"])  # type: ignore[arg-type]
    detector: Detector = _worker["detector"]  # type: ignore[assignment]
    paths = dict(batch)
    hits = []
    blobs = size = lfs = allowed = 0
    for oid, data in cat.read([oid for oid, _ in batch]):  # type: ignore[attr-defined]
        if content.is_lfs_pointer(data):
            lfs += 1
            continue
        blobs += 1
        size += len(data)
        scanned = detector.scan(data, paths[oid])
        allowed += scanned.allowed
        if scanned.matches:
            hits.append((oid, scanned.matches))
    return hits, blobs, size, lfs, allowed


def scan_blobs(plan: Plan, blobs: Sequence[tuple[str, int, str]], stats: Stats) -> dict[str, tuple[Match, ...]]:
    """Scan (oid, size, path) blobs across plan.jobs processes; returns the blobs holding secrets."""
    batches: list[list[tuple[str, str]]] = []
    current: list[tuple[str, str]] = []
    current_size = 0
    total_bytes = 0
    for oid, size, path in blobs:
        if size > plan.max_file_size:
            stats.skipped_large += 1
            continue
        current.append((oid, path))
        current_size += size
        total_bytes += size
        if len(current) >= _BATCH_BLOBS or current_size >= _BATCH_BYTES:
            batches.append(current)
            current, current_size = [], 0
    if current:
        batches.append(current)
    jobs = min(plan.jobs, len(batches)) or 1
    plan.progress.start(sum(len(b) for b in batches), total_bytes)  # type: ignore[attr-defined]
    hits: dict[str, tuple[Match, ...]] = {}
    results = parallel.imap(_scan_batch, batches, jobs, initializer=_init,
                            initargs=(plan.repo, plan.detector), finalizer=_close)
    for found, count, size, lfs, allowed in results:
        hits.update(found)
        stats.blobs += count
        stats.bytes += size
        stats.skipped_lfs += lfs
        stats.allowed += allowed
        plan.progress.advance(count + lfs, size)  # type: ignore[attr-defined]
    plan.progress.stop()  # type: ignore[attr-defined]
    return hits


# --- what to scan --------------------------------------------------------------------------

def reachable_blobs(repo: gitcmd.Repo, revisions: Sequence[str]) -> Iterator[tuple[str, int, str]]:
    """(oid, size, first path) of every blob reachable from the revisions, each once."""
    rev_list = subprocess.Popen(gitcmd.argv(repo, "rev-list", "--objects", *gitlog.revision_args(revisions), "--"),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=gitcmd.env())
    check = subprocess.Popen(
        gitcmd.argv(repo, "cat-file", "--batch-check=%(objecttype) %(objectname) %(objectsize) %(rest)"),
        stdin=rev_list.stdout, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=gitcmd.env(),
    )
    assert rev_list.stdout and check.stdout
    rev_list.stdout.close()  # cat-file holds the read end now
    for line in check.stdout:
        kind, _, rest = line.partition(b" ")
        if rest.startswith(b"missing") and len(kind) == repo.hash_len:
            check.kill()
            rev_list.kill()
            raise gitcmd.missing_object(repo, kind.decode())
        if kind != b"blob":
            continue
        oid, _, rest = rest.partition(b" ")
        size, _, path = rest.rstrip(b"\n").partition(b" ")
        yield oid.decode(), int(size), os.fsdecode(path)
    check.wait()
    err = rev_list.stderr.read() if rev_list.stderr else b""
    if rev_list.wait() != 0:
        raise GitError(gitcmd.describe_failure(err, ["rev-list"]))


def history_revisions(repo: gitcmd.Repo) -> list[str]:
    """Every ref (branches, remote-tracking branches, tags, notes, HEAD) and every stash entry."""
    stash = gitcmd.run(repo, "log", "-g", "--format=%H", "--encoding=UTF-8", "--end-of-options", "refs/stash", "--",
                       ok=(0, 128))
    return ["--all", *sorted(set(_object_ids(repo, stash.decode().split(), "stash entry")))]


def _applies(plan: Plan) -> Callable[[str, str], bool]:
    path_rules = {rule.id: rule.path for rule in FILE_RULES}

    def applies(rule_id: str, path: str) -> bool:
        if plan.is_excluded(path):
            return False
        pattern = path_rules.get(rule_id)
        return pattern is None or bool(pattern.search(path))

    return applies


def _findings(attributor: Attributor, plan: Plan, scanned: Callable[[str], bool] = lambda oid: True) -> list[Finding]:
    """Findings with where each secret is in HEAD. SCANNED tells which blobs scan_blobs read: a
    range scan reads only its own commits' blobs, and HEAD may hold the secret in one it did not
    (the file was renamed, and edited, after the range)."""
    head = _head_tree(plan.repo)
    located = attributor.head_paths(head)
    absent = [intro.match for site, intro in attributor.found.items() if not located.get(site)]
    if absent:
        more = _scan_head_for(plan, [(path, oid) for path, oid in head if not scanned(oid)], absent)
        if more:
            located = attributor.head_paths(head, more)
    findings = []
    for site, intro in attributor.found.items():
        where = located.get(site, ())
        findings.append(make_finding(intro.match, site[1], commit=intro.commit, author=intro.author,
                                     date=intro.date, in_head=bool(where), head_paths=where))
    return findings


def _scan_head_for(plan: Plan, unread: Sequence[tuple[str, str]],
                   matches: Sequence[Match]) -> dict[str, tuple[Match, ...]]:
    """The blobs among UNREAD (HEAD paths and blobs not scanned yet) that hold one of MATCHES'
    secrets: `git grep` narrows them down by text, the detector then decides as everywhere."""
    needles = {m.secret.splitlines()[0] for m in matches if m.secret.strip()}
    if not unread or not needles:
        return {}
    out = gitcmd.run(plan.repo, "grep", "-z", "-l", "-F", "--no-color", "--no-textconv", "-f", "-", "HEAD", "--",
                     input="".join(f"{n}\n" for n in sorted(needles)).encode(), ok=(0, 1))
    holding = {os.fsdecode(entry.removeprefix(b"HEAD:")) for entry in out.split(b"\0") if entry}
    wanted = {oid: path for path, oid in unread if path in holding}
    if not wanted:
        return {}
    sizes = _sizes(plan.repo, list(wanted))
    hits: dict[str, tuple[Match, ...]] = {}
    readable = [oid for oid in wanted if sizes.get(oid, plan.max_file_size + 1) <= plan.max_file_size]
    with CatFile(plan.repo) as cat:
        for oid, data in cat.read(readable):
            if not content.is_lfs_pointer(data):
                found = plan.detector.scan(data, wanted[oid]).matches
                if found:
                    hits[oid] = found
    return hits


def _head_tree(repo: gitcmd.Repo) -> list[tuple[str, str]]:
    out = gitcmd.run(repo, "ls-tree", "-r", "-z", "--full-tree", "HEAD", ok=(0, 128))
    entries = []
    for record in out.split(b"\0"):
        meta, _, path = record.partition(b"\t")
        parts = meta.split()
        if len(parts) == 3 and parts[1] == b"blob":
            entries.append((os.fsdecode(path), parts[2].decode()))
    return entries


def scan_history(plan: Plan, stats: Stats) -> list[Finding]:
    revisions = history_revisions(plan.repo)
    hits = scan_blobs(plan, list(reachable_blobs(plan.repo, revisions)), stats)
    counted = gitcmd.run(plan.repo, "rev-list", "--count", *gitlog.revision_args(revisions), "--")
    stats.commits = int(counted.strip() or 0)
    attributor = Attributor(hits, _applies(plan))
    if not hits:
        return []
    extra = [f"--find-object={oid}" for oid in hits] if len(hits) <= _FIND_OBJECT_LIMIT else []
    for commit in gitlog.commits(plan.repo, revisions, extra):
        attributor.feed(commit)
    return _findings(attributor, plan)


def scan_range(plan: Plan, revision_range: str, stats: Stats) -> list[Finding]:
    """Secrets the commits in the range introduce; blobs their parents had are read to judge that."""
    revisions = range_revisions(plan.repo, revision_range)
    commits = list(gitlog.commits(plan.repo, revisions))
    stats.commits = len(commits)
    wanted: dict[str, str] = {}
    for commit in commits:
        for change in commit.changes:
            for oid in (change.new, *change.old):
                if oid != gitlog.NULL_OID:
                    wanted.setdefault(oid, change.path)
    sizes = _sizes(plan.repo, list(wanted))
    hits = scan_blobs(plan, [(oid, sizes[oid], path) for oid, path in wanted.items() if oid in sizes], stats)
    attributor = Attributor(hits, _applies(plan))
    for commit in commits:
        attributor.feed(commit)
    return _findings(attributor, plan, lambda oid: oid in wanted)


def range_revisions(repo: gitcmd.Repo, revision_range: str) -> list[str]:
    """A range as git accepts it (A..B, A...B, C^!), or several revisions ("X ^B1 ^B2", which the
    pre-push hook uses for a new branch), validated and expanded into plain revisions: object ids,
    each naming a commit (or a tag of one), some negated with '^'."""
    words = revision_range.split()
    if not words or any(w.startswith("-") for w in words):
        raise GitError(f"not a revision range: {revision_range!r}")
    out = gitcmd.run(repo, "rev-parse", "--revs-only", "--end-of-options", *words, "--")
    revisions = out.decode("utf-8", "replace").split()
    if not revisions:
        raise GitError(f"not a revision range: {revision_range!r}")
    _object_ids(repo, [r.removeprefix("^") for r in revisions], "revision")
    _only_commits(repo, revision_range, [r.removeprefix("^") for r in revisions])
    return revisions


def _object_ids(repo: gitcmd.Repo, words: Sequence[str], what: str) -> list[str]:
    """WORDS, each checked to be a full object id of this repository's hash (never an option)."""
    for word in words:
        if len(word) != repo.hash_len or word.strip("0123456789abcdef"):
            raise GitError(f"git gave an unexpected {what} {word[:80]!r}; is the repository corrupt?")
    return list(words)


def _only_commits(repo: gitcmd.Repo, revision_range: str, oids: Sequence[str]) -> None:
    """A range names commits: HEAD:file (a blob) or HEAD^{tree} has no commits to scan, and saying
    "no secrets found" about it would be a lie."""
    out = gitcmd.run(repo, "cat-file", "--batch-check=%(objecttype)",
                     input="".join(f"{oid}\n{oid}^{{commit}}\n" for oid in oids).encode())
    answers = out.decode("utf-8", "replace").splitlines()
    for oid, kind, peeled in zip(oids, answers[0::2], answers[1::2]):
        if peeled.endswith("missing"):
            raise GitError(f"not a commit range: {revision_range!r} names a {kind.split()[-1]}, not commits")


def _sizes(repo: gitcmd.Repo, oids: list[str]) -> dict[str, int]:
    if not oids:
        return {}
    out = gitcmd.run(repo, "cat-file", "--batch-check=%(objectname) %(objecttype) %(objectsize)",
                     input="".join(f"{o}\n" for o in oids).encode())
    sizes = {}
    for line in out.decode().splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1] == "missing":
            raise gitcmd.missing_object(repo, parts[0])
        if len(parts) == 3 and parts[1] == "blob":
            sizes[parts[0]] = int(parts[2])
    return sizes

