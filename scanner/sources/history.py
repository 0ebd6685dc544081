"""History and range scans: the blobs the commits hold, each once with every path it occurs at,
for the scan loop; then which commit introduced each secret the loop found (scanner.attribution)."""
from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scanner import content, gitcmd
from scanner.attribution import Attributor
from scanner.chunked import READ_WHOLE
from scanner.detect import Detector
from scanner.errors import GitError, UsageError
from scanner.models import Blob, Finding, Location, Match, Moved, make_finding, member_path
from scanner.sources import gitlog, treeblobs
from scanner.sources.blobs import CatFile

if TYPE_CHECKING:
    from scanner.scan import Hit

# Past this many blobs with findings, asking git to filter the log by object costs more than
# filtering its full output here.
_FIND_OBJECT_LIMIT = 2000


@dataclass(frozen=True)
class Walk:
    """What one pass over the commits gave: every blob with all its paths, and (a range) the commits."""

    commits: int
    blobs: list[Blob]
    kept: tuple[gitlog.Commit, ...] = ()  # range: the commits, oldest first, for attribution
    scanned: frozenset[str] = frozenset()  # range: the blobs read, so HEAD's others can be looked at

    @functools.cached_property
    def _oids(self) -> frozenset[str]:
        return frozenset(b.oid for b in self.blobs if b.oid is not None)

    def read(self, oid: str) -> bool:
        """Whether the walk gave OID to the scan."""
        return oid in self._oids


def walk(repo: gitcmd.Repo, revisions: Sequence[str], keep: bool = False) -> Walk:
    """Every blob the commits of REVISIONS record, with every path any of them records it at: a
    blob's findings depend on its path (dotenv-file, exclude), and git's rev-list names a blob by
    one path only. KEEP (a range): also the commits, and the blobs their parents had at the paths
    they change, which decide whether a secret is new."""
    paths: dict[str, dict[str, None]] = {}
    commits: list[gitlog.Commit] = []
    if keep:
        for commit in gitlog.commits(repo, revisions):
            commits.append(commit)
            for change in commit.changes:
                for oid in (change.new, *change.old):
                    if oid != gitlog.NULL_OID:
                        paths.setdefault(oid, {})[change.path] = None
        count = len(commits)
    else:
        stream = Stream(repo, revisions)
        for blob in stream.blobs():  # each blob at each of its paths once
            assert blob.oid is not None
            paths.setdefault(blob.oid, {})[blob.paths[0]] = None
        count = stream.commits
    sizes = _sizes(repo, list(paths))
    blobs = [Blob(tuple(at), oid, sizes[oid]) for oid, at in paths.items() if oid in sizes]
    return Walk(count, blobs, tuple(commits), frozenset(paths) if keep else frozenset())


class Stream:
    """A history walk streamed into the scan as git gives it, so reading and scanning the blobs
    overlaps the walk (a bar needs its totals up front: it takes `walk` instead).

    `blobs` yields a record the first time a blob is seen at each path: a blob seen again at
    another path comes again with that path only, and the scan loop judges it there without
    reading its content again. Sizes are left to the reader, which asks git before reading."""

    kept: tuple[gitlog.Commit, ...] = ()
    scanned: frozenset[str] = frozenset()

    def __init__(self, repo: gitcmd.Repo, revisions: Sequence[str]) -> None:
        self._repo = repo
        self._revisions = revisions
        self.commits = 0  # how many the walk has passed, all of them once `blobs` is exhausted
        self._paths: dict[str, str | set[str]] = {}

    def read(self, oid: str) -> bool:
        """Whether the walk gave OID to the scan (so far)."""
        return oid in self._paths

    def blobs(self) -> Iterator[Blob]:
        # A blob's first path, or the set of them once there are two: most blobs have one path,
        # and a set of one for each of git/git's 165k blobs would cost 35 MB.
        paths = self._paths
        names: dict[bytes, str] = {}  # each distinct path decoded once, however many commits name it
        for commits_begun, entries in gitlog.set_blobs(self._repo, self._revisions):
            self.commits += commits_begun
            for oid, raw in entries:
                path = names.get(raw)
                if path is None:
                    path = names[raw] = os.fsdecode(raw)
                known = paths.get(oid)
                if known is None:
                    paths[oid] = path
                elif isinstance(known, str):
                    if known == path:
                        continue
                    paths[oid] = {known, path}
                elif path in known:
                    continue
                else:
                    known.add(path)
                yield Blob((path,), oid)


class Judge:
    """What a blob holds at a path, from the scan loop's hits: the content's matches plus the
    path's own (dotenv-file), nothing at an excluded path. A path the loop did not know the blob
    at (HEAD renamed it after a range) is judged here, reading the blob again only when a
    whole-file rule applies there."""

    def __init__(self, repo: gitcmd.Repo, hits: Iterable["Hit"], detector: Detector,
                 is_excluded: Callable[[str], bool], max_file_size: int) -> None:
        self._repo = repo
        self.detector = detector
        self._excluded = is_excluded
        self.limit = max_file_size
        self._at: dict[str, dict[str, tuple[Match, ...]]] = {}
        self._content: dict[str, tuple[Match, ...]] = {}
        for hit in hits:
            assert hit.blob.oid is not None
            self._at[hit.blob.oid] = dict(hit.at)
            self._content[hit.blob.oid] = hit.content

    def oids(self) -> list[str]:
        return list(self._at)

    def add(self, oid: str, path: str, matches: tuple[Match, ...]) -> None:
        self._at.setdefault(oid, {})[path] = matches
        self._content.setdefault(oid, matches)

    def __call__(self, oid: str, path: str) -> tuple[Match, ...]:
        at = self._at.get(oid)
        if at is None:
            return ()
        found = at.get(path)
        if found is None:
            found = at[path] = self._elsewhere(oid, path)
        return found

    def _elsewhere(self, oid: str, path: str) -> tuple[Match, ...]:
        if self._excluded(path):
            return ()
        if not self.detector.judges_whole_file(path):
            return self._content[oid]
        with CatFile(self._repo) as cat:
            for _, data in cat.read([oid]):
                if len(data) <= self.limit and not content.is_lfs_pointer(data):
                    return self.detector.scan(data, path).everything
        return ()


def history_revisions(repo: gitcmd.Repo) -> list[str]:
    """Every ref (branches, remote-tracking branches, tags, notes, HEAD) and every stash entry."""
    stash = gitcmd.run(repo, "log", "-g", "--format=%H", "--encoding=UTF-8", "--end-of-options", "refs/stash", "--",
                       ok=(0, 128))
    return ["--all", *sorted(set(_object_ids(repo, stash.decode().split(), "stash entry")))]


def attribute(repo: gitcmd.Repo, revisions: Sequence[str], walked: Walk | Stream, judge: Judge) -> list[Finding]:
    """Findings for what the scan found: each secret at each path once, with the commit that
    introduced it and where it is in HEAD now."""
    attributor = Attributor(judge)
    if walked.kept:
        for commit in walked.kept:
            attributor.feed(commit)
        _trace_copies(repo, attributor)
        return _findings(repo, attributor, judge, lambda oid: oid in walked.scanned)
    hits = judge.oids()
    if not hits:
        return []
    extra = [f"--find-object={oid}" for oid in hits] if len(hits) <= _FIND_OBJECT_LIMIT else []
    for commit in gitlog.commits(repo, revisions, extra):
        attributor.feed(commit)
    _trace_copies(repo, attributor)
    return _findings(repo, attributor, judge)


def _trace_copies(repo: gitcmd.Repo, attributor: Attributor) -> None:
    """Which arrivals of a secret seen elsewhere before were copies (scanner.attribution)."""
    with treeblobs.TreeBlobs(repo) as trees:  # git starts at the first question, if any
        attributor.settle_copies(trees.ask)


def _findings(repo: gitcmd.Repo, attributor: Attributor, judge: Judge,
              scanned: Callable[[str], bool] = lambda oid: True) -> list[Finding]:
    """Findings with where each secret is in HEAD. SCANNED tells which blobs the scan read: a
    range scan reads only its own commits' blobs, and HEAD may hold the secret in one it did not
    (the file was renamed, and edited, after the range)."""
    head = _head_tree(repo)
    located = attributor.head_places(head)
    absent = [intro.match for site, intro in attributor.found.items() if not located.get(site)]
    if absent and _scan_head_for(repo, judge, [(path, oid) for path, oid in head if not scanned(oid)], absent):
        located = attributor.head_places(head)
    findings = []
    for site, intro in attributor.found.items():
        # A place inside an archive is its member's path (`app.zip!res/values/strings.xml`).
        places = tuple((member_path(path, m.member), m) for path, m in located.get(site, ()))
        where = tuple(dict.fromkeys(path for path, _ in places))
        match = intro.match
        if not match.identity and places:
            # A whole-file finding (a .env) is about the file as it is now: its value is HEAD's, at
            # its own path if it is still there, not the one of the commit that first added it.
            match = next((m for path, m in places if path == member_path(site[1], m.member)), places[0][1])
        findings.append(make_finding(match, site[1], commit=intro.commit, author=intro.author,
                                     date=intro.date, in_head=bool(where), head_paths=where,
                                     locations=tuple(Location(path, m.line, m.column) for path, m in places),
                                     # An archive carried elsewhere carries its member along.
                                     moved_to=tuple(Moved(member_path(c.path, intro.match.member), c.commit)
                                                    for c in attributor.moved_to(site))))
    return findings


def _scan_head_for(repo: gitcmd.Repo, judge: Judge, unread: Sequence[tuple[str, str]],
                   matches: Sequence[Match]) -> bool:
    """Judge the blobs among UNREAD (HEAD paths and blobs not scanned yet) that hold one of MATCHES'
    secrets: `git grep` narrows them down by text, the detector then decides as everywhere.
    Whether any holds something."""
    needles = {m.secret.splitlines()[0] for m in matches if m.secret.strip()}
    if not unread or not needles:
        return False
    out = gitcmd.run(repo, "grep", "-z", "-l", "-F", "--no-color", "--no-textconv", "-f", "-", "HEAD", "--",
                     input="".join(f"{n}\n" for n in sorted(needles)).encode(), ok=(0, 1))
    holding = {os.fsdecode(entry.removeprefix(b"HEAD:")) for entry in out.split(b"\0") if entry}
    wanted = {oid: path for path, oid in unread if path in holding}
    if not wanted:
        return False
    sizes = _sizes(repo, list(wanted))
    # Read whole, so no larger than a scan reads whole (scanner.chunked): this only places a secret.
    # One git cannot read is named by the scan that met it: HEAD's blobs were in the walk.
    limit = min(judge.limit, READ_WHOLE)
    readable = [oid for oid in wanted if (size := sizes.get(oid)) is not None and size <= limit]
    found = False
    with CatFile(repo) as cat:
        for oid, data in cat.read(readable):
            if not content.is_lfs_pointer(data):
                held = judge.detector.scan(data, wanted[oid]).everything
                if held:
                    judge.add(oid, wanted[oid], held)
                    found = True
    return found


def _head_tree(repo: gitcmd.Repo) -> list[tuple[str, str]]:
    out = gitcmd.run(repo, "ls-tree", "-r", "-z", "--full-tree", "HEAD", ok=(0, 128))
    entries = []
    for record in out.split(b"\0"):
        meta, _, path = record.partition(b"\t")
        parts = meta.split()
        if len(parts) == 3 and parts[1] == b"blob":
            entries.append((os.fsdecode(path), parts[2].decode()))
    return entries


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


def empty_range(repo: gitcmd.Repo, revision_range: str) -> str:
    """What to say about a range that holds no commits. A two-dot range whose end is an ancestor
    of its start (`HEAD..HEAD~1`) was written the wrong way round: an error naming the range the
    user meant, never a "no secrets found" about nothing. Anything else (`main..main`, a branch
    with nothing new) is what was asked for: a note."""
    words = revision_range.split()
    if len(words) == 1 and ".." in words[0] and "..." not in words[0]:
        start, end = words[0].split("..", 1)
        ids = gitcmd.run(repo, "rev-parse", "--revs-only", "--end-of-options", f"{start or 'HEAD'}^{{commit}}",
                         f"{end or 'HEAD'}^{{commit}}", "--", ok=(0, 128)).decode().split()
        if len(ids) == 2 and ids[0] != ids[1] and _is_ancestor(repo, ids[1], ids[0]):
            raise UsageError(f"the range {revision_range} holds no commits: {end or 'HEAD'} is an ancestor of "
                             f"{start or 'HEAD'}, so the range is written the wrong way round; "
                             f"did you mean {end or 'HEAD'}..{start or 'HEAD'}?")
    return f"the range {revision_range} holds no commits: nothing was scanned"


def _is_ancestor(repo: gitcmd.Repo, older: str, newer: str) -> bool:
    try:
        gitcmd.run(repo, "merge-base", "--is-ancestor", "--end-of-options", older, newer)
    except GitError:  # status 1: not an ancestor
        return False
    return True


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
    for oid, kind, peeled in zip(oids, answers[0::2], answers[1::2], strict=True):
        if kind.endswith("missing"):
            raise GitError(f"git: bad revision {oid}: this repository has no such commit{gitcmd.shallow_hint(repo)}")
        if peeled.endswith("missing"):
            raise GitError(f"not a commit range: {revision_range!r} names a {kind.split()[-1]}, not commits")


def _sizes(repo: gitcmd.Repo, oids: list[str]) -> dict[str, int | None]:
    """The size of each blob of OIDS, None for one git cannot read (the reader finds it missing
    too, and the scan names it); other objects (a submodule's commit) are left out."""
    if not oids:
        return {}
    out = gitcmd.run(repo, "cat-file", "--batch-check=%(objectname) %(objecttype) %(objectsize)",
                     input="".join(f"{o}\n" for o in oids).encode())
    sizes: dict[str, int | None] = {}
    for line in out.decode().splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1] == "missing":
            sizes[parts[0]] = None
        if len(parts) == 3 and parts[1] == "blob":
            sizes[parts[0]] = int(parts[2])
    return sizes

