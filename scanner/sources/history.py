"""History and range scans: the blobs the commits hold, each once with every path it occurs at,
for the scan loop; then which commit introduced each secret the loop found (scanner.attribution)."""
from __future__ import annotations

import dataclasses
import functools
import os
import subprocess
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from scanner import gitcmd
from scanner.attribution import Attributor
from scanner.chunked import READ_WHOLE
from scanner.detect import Detector
from scanner.errors import GitError, UsageError
from scanner.models import Blob, Finding, Hit, Location, Match, Moved, Stats, make_finding, member_path
from scanner.report import printable
from scanner.sources import gitlog, tagged, treeblobs
from scanner.sources import notes as git_notes
from scanner.sources.base import Outcomes, Reading, Rescan, Scope, Source
from scanner.sources.blobs import MANY, GitObjects

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


def walk(repo: gitcmd.Repo, revisions: Sequence[str], keep: bool = False, missing: set[str] | None = None) -> Walk:
    """Every blob the commits of REVISIONS record, with every path any of them records it at: a
    blob's findings depend on its path (dotenv-file, exclude), and git's rev-list names a blob by
    one path only. KEEP (a range): also the commits, and the blobs their parents had at the paths
    they change, which decide whether a secret is new. MISSING: trees and commits git cannot read
    are named there, and the walk goes on without them."""
    paths: dict[str, dict[str, None]] = {}
    commits: list[gitlog.Commit] = []
    if keep:
        for commit in gitlog.commits(repo, revisions, missing=missing):
            commits.append(commit)
            for change in commit.changes:
                for oid in (change.new, *change.old):
                    if oid != gitlog.NULL_OID:
                        paths.setdefault(oid, {})[change.path] = None
        count = len(commits)
    else:
        stream = Stream(repo, revisions, missing)
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

    def __init__(self, repo: gitcmd.Repo, revisions: Sequence[str], missing: set[str] | None = None) -> None:
        self._repo = repo
        self._revisions = revisions
        self._missing = missing
        self.commits = 0  # how many the walk has passed, all of them once `blobs` is exhausted
        self._paths: dict[str, str | set[str]] = {}
        self._listed: list[str] | None = []  # the commits' ids in git's order; None: not all of them
        self._done = False

    @property
    def listed(self) -> list[str] | None:
        """Once `blobs` is exhausted: the id of every commit of the revisions in git's order, which is
        `git rev-list`'s for the same revisions (scanner.sources.messages reads their messages
        without a walk of its own); None before, or when git's log could not walk them all."""
        return self._listed if self._done else None

    def read(self, oid: str) -> bool:
        """Whether the walk gave OID to the scan (so far)."""
        return oid in self._paths

    def blobs(self) -> Iterator[Blob]:
        # A blob's first path, or the set of them once there are two: most blobs have one path,
        # and a set of one for each of git/git's 165k blobs would cost 35 MB.
        paths = self._paths
        names: dict[bytes, str] = {}  # each distinct path decoded once, however many commits name it
        asked = False
        for begun, entries in self._entries():
            if not asked and len(entries) >= MANY:
                # The workers' cat-files speak --batch-command if this git has it: asked here, once,
                # while git walks on, before the scan forks them (they inherit the answer) instead
                # of a `git --version` of each worker's own, in each of the scan's phases.
                asked = True
                gitcmd.version()
            self.commits += len(begun)
            if self._listed is not None:
                self._listed += begun
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
        self._done = True

    def _entries(self) -> Iterator[tuple[list[str], list[tuple[str, bytes]]]]:
        """git's log of the blobs each commit sets; when it stops at an object it cannot read (and
        the stream is told MISSING), the tolerant walk's instead: the blobs given already come
        again, and are passed over, and the commits are counted anew."""
        if self._missing is None:
            yield from gitlog.set_blobs(self._repo, self._revisions)
            return
        try:
            yield from gitlog.set_blobs(self._repo, self._revisions)
            return
        except GitError as exc:
            if not gitlog.object_missing(exc):
                raise
        self.commits = 0
        self._listed = None  # the tolerant walk's order is not git's log's
        for commit in gitlog.tolerant_commits(self._repo, self._revisions, self._missing):
            yield [commit.sha], [(c.new, os.fsencode(c.path)) for c in commit.changes if c.new != gitlog.NULL_OID]


class Judge:
    """What a blob holds at a path, from the scan loop's hits: the content's matches plus the
    path's own (dotenv-file), nothing at an excluded path. A path the loop did not know the blob
    at (HEAD renamed it after a range) is judged here, by the scan loop (RESCAN) again only when
    a whole-file rule applies there."""

    def __init__(self, repo: gitcmd.Repo, hits: Iterable[Hit], detector: Detector,
                 is_excluded: Callable[[str], bool], max_file_size: int, rescan: Rescan) -> None:
        self._repo = repo
        self.detector = detector
        self.rescan = rescan
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
        for hit in self.rescan([Blob((path,), oid, counted=False)], GitObjects(self._repo)):
            return dict(hit.at).get(path, ())
        return ()


def scope_revisions(scope: Scope) -> list[str]:
    """history_revisions of the scope's repository, asked of git once per scan: the commits' walk
    and the messages' take the same."""
    found = scope.memo.get("history-revisions")
    if not isinstance(found, list):
        assert scope.repo is not None
        found = scope.memo["history-revisions"] = history_revisions(scope.repo)
    return found


def walked_commits(scope: Scope) -> list[str] | None:
    """Every commit of scope_revisions, in `git rev-list`'s order, as the history's streamed walk
    listed them once it is done; None when it did not list them all (a bar's walk, a tolerant
    walk) or when notes refs lead to commits that walk leaves to scanner.sources.notes."""
    stream = scope.memo.get("history-stream")
    if not isinstance(stream, Stream) or stream.listed is None or git_notes.history_refs(scope):
        return None
    return stream.listed


def history_revisions(repo: gitcmd.Repo) -> list[str]:
    """Every ref (branches, remote-tracking branches, tags, notes, HEAD) and every stash entry."""
    stash = gitcmd.run(repo, "log", "-g", "--format=%H", "--encoding=UTF-8", "--end-of-options", "refs/stash", "--",
                       ok=(0, 128))
    return ["--all", *sorted(set(_object_ids(repo, stash.decode().split(), "stash entry")))]


def attribute(repo: gitcmd.Repo, revisions: Sequence[str], walked: Walk | Stream, judge: Judge,
              missing: set[str] | None = None) -> list[Finding]:
    """Findings for what the scan found: each secret at each path once, with the commit that
    introduced it and where it is in HEAD now."""
    attributor = Attributor(judge)
    if walked.kept:
        for commit in walked.kept:
            attributor.feed(commit)
        _trace_copies(repo, attributor)
        return _findings(repo, attributor, judge, lambda oid: oid in walked.scanned, missing)
    hits = judge.oids()
    if not hits:
        return []
    extra = [f"--find-object={oid}" for oid in hits] if len(hits) <= _FIND_OBJECT_LIMIT else []
    for commit in gitlog.commits(repo, revisions, extra, missing=missing):
        attributor.feed(commit)
    _trace_copies(repo, attributor)
    return _findings(repo, attributor, judge, missing=missing)


def _trace_copies(repo: gitcmd.Repo, attributor: Attributor) -> None:
    """Which arrivals of a secret seen elsewhere before were copies (scanner.attribution)."""
    with treeblobs.TreeBlobs(repo) as trees:  # git starts at the first question, if any
        attributor.settle_copies(trees.ask)


def _findings(repo: gitcmd.Repo, attributor: Attributor, judge: Judge,
              scanned: Callable[[str], bool] = lambda oid: True, missing: set[str] | None = None) -> list[Finding]:
    """Findings with where each secret is in HEAD. SCANNED tells which blobs the scan read: a
    range scan reads only its own commits' blobs, and HEAD may hold the secret in one it did not
    (the file was renamed, and edited, after the range)."""
    head = _head_tree(repo, missing)
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
    records = [Blob((wanted[oid],), oid, sizes[oid], counted=False) for oid in readable]
    for hit in judge.rescan(records, GitObjects(repo)):
        assert hit.blob.oid is not None
        for path, held in hit.at:
            judge.add(hit.blob.oid, path, held)
            found = True
    return found


def _head_tree(repo: gitcmd.Repo, missing: set[str] | None = None) -> list[tuple[str, str]]:
    """HEAD's files and their blobs. MISSING: a tree git cannot read leaves its files out (and is
    named there) rather than ending the scan."""
    if missing is None:
        out = gitcmd.run(repo, "ls-tree", "-r", "-z", "--full-tree", "HEAD", ok=(0, 128))
    else:
        proc = subprocess.run(gitcmd.argv(repo, "ls-tree", "-r", "-z", "--full-tree", "HEAD"), capture_output=True,
                              env=gitcmd.env())
        out = proc.stdout
        if proc.returncode not in (0, 128):
            error = GitError(gitcmd.describe_failure(proc.stderr, ["ls-tree"]))
            if not gitlog.object_missing(error):
                raise error
            return gitlog.tolerant_tree(repo, "HEAD^{tree}", missing)
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
        if len(ids) == 2 and ids[0] != ids[1] and gitcmd.is_ancestor(repo, ids[1], ids[0]):
            raise UsageError(f"the range {revision_range} holds no commits: {end or 'HEAD'} is an ancestor of "
                             f"{start or 'HEAD'}, so the range is written the wrong way round; "
                             f"did you mean {end or 'HEAD'}..{start or 'HEAD'}?")
    return f"the range {revision_range} holds no commits: nothing was scanned"


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



# --- history and range as sources of the scan loop ---------------------------------------------------

def sources(scope: Scope) -> list[Source]:
    """--history: every commit of every ref, then what refs point at with no commit. --range: the
    range's commits, then what the push's refs point at that the receiving side lacks; a push of
    such tags alone has no range."""
    repo, request = scope.repo, scope.request
    assert repo is not None
    preamble: list[str] = []
    shallow = gitcmd.run(repo, "rev-parse", "--is-shallow-repository").strip() == b"true"
    if shallow:
        preamble.append("this is a shallow clone: history before its oldest commit was not scanned "
                        "(run `git fetch --unshallow` for a complete audit)")
    if repo.prefix:
        # As gitleaks does: history has no folders, and a key committed anywhere is published.
        preamble.append(f"--{request.mode} scans the whole repository, not only {printable(repo.prefix)}: "
                        "paths are relative to its top folder")
    if request.mode == "range" and request.revision_range is None:
        added = tagged.added(repo, request.pointed, request.published)
        return [tagged.Pointing(repo, list(request.pointed), added.__contains__, tuple(preamble), shallow)]
    return [Commits(scope, tuple(preamble), shallow)]


class Commits:
    """The blobs the commits hold (each once, with every path it occurs at), attributed to the
    commit that introduced each secret."""

    def __init__(self, scope: Scope, preamble: tuple[str, ...], shallow: bool) -> None:
        repo, request, settings = scope.repo, scope.request, scope.settings
        assert repo is not None
        self._repo = repo
        self._scope = scope
        self._preamble = preamble
        self._shallow = shallow
        # Trees and commits git cannot read: the walk goes on without them, and the report names them.
        self._missing: set[str] = set()
        self.hits: list[Hit] = []
        self._walk: Walk | Stream
        self._had_notes = False  # a range that held notes commits (read by scanner.sources.notes)
        if request.mode == "history":
            # The notes refs' blobs are notes, not files: scanner.sources.notes reads them.
            self._revisions = [gitlog.EXCLUDE_NOTES, *scope_revisions(scope)]
        else:
            assert request.revision_range is not None  # the CLI gives range mode its range
            # A notes ref's commits are notes, not files: scanner.sources.notes reads them.
            split = git_notes.range_notes(scope)
            self._revisions, self._had_notes = split.without_notes, bool(split.tips)
        # A history without a bar streams: git's log, the reading and the scanning overlap. A bar
        # needs its totals up front, and a range its commits for attribution.
        self._streamed = request.mode == "history" and not settings.progress
        self.reading = Reading(progress=settings.progress and not self._streamed)

    @property
    def opener(self) -> GitObjects:
        return GitObjects(self._repo)

    def blobs(self) -> Iterable[Blob]:
        if self._streamed:
            self._walk = stream = Stream(self._repo, self._revisions, self._missing)
            self._scope.memo["history-stream"] = stream  # its list of commits: see walked_commits
            return stream.blobs()
        self._walk = walk(self._repo, self._revisions, keep=self._scope.request.mode == "range",
                          missing=self._missing)
        return self._walk.blobs

    def provenance(self, hits: list[Hit], rescan: Rescan) -> list[Finding]:
        settings = self._scope.settings
        self.hits = hits  # what --unreachable's walk judges the blobs it shares with this one from
        judge = Judge(self._repo, hits, settings.detector, settings.config.is_excluded, settings.max_file_size,
                      rescan)
        return attribute(self._repo, self._revisions, self._walk, judge, self._missing)

    def notes(self, stats: Stats, outcomes: Outcomes) -> tuple[str, ...]:
        stats.commits = self._walk.commits
        stats.shallow = stats.shallow or self._shallow
        stats.note_missing(self._missing)
        request = self._scope.request
        if request.mode == "range" and stats.commits == 0 and not self._had_notes:
            assert request.revision_range is not None
            return (*self._preamble, empty_range(self._repo, request.revision_range))
        return self._preamble

    def then(self) -> Sequence[Source]:
        # Blobs and trees refs point at with no commit: the log never saw them. Those the commits
        # held were read already.
        request, walked = self._scope.request, self._walk
        if request.mode == "history":
            pointing = tagged.Pointing(self._repo, tagged.from_refs(self._repo), lambda oid: not walked.read(oid))
            return [pointing, Unreachable(self)] if request.unreachable else [pointing]
        fresh = tagged.added(self._repo, request.pointed, request.published)
        return [tagged.Pointing(self._repo, list(request.pointed), lambda oid: oid in fresh and not walked.read(oid))]

    def settle(self, findings: list[Finding]) -> list[Finding]:
        return findings


class Unreachable:
    """--unreachable: what no ref leads to (scanner.sources.unreachable). The commits only a reflog
    names are walked as a history is, their blobs the refs' walk read judged from that reading;
    then the dangling trees and blobs are read as a tag's are. Findings are marked `reachable`."""

    reading = Reading()

    def __init__(self, commits: Commits) -> None:
        from scanner.sources import unreachable

        self._commits = commits
        self._repo = commits._repo
        self._found = unreachable.dangling(self._repo)
        self._revisions: list[str] = []
        self._walked: Walk | None = None

    @property
    def opener(self) -> GitObjects:
        return GitObjects(self._repo)

    def blobs(self) -> list[Blob]:
        from scanner.sources import unreachable

        self._revisions = unreachable.revisions(self._commits._revisions, self._found.commits)
        self._walked = walked = walk(self._repo, self._revisions, missing=self._commits._missing)
        judged = {hit.blob.oid for hit in self._commits.hits}
        reached = self._commits._walk
        # A blob the refs' walk read is judged from that reading (its hits are passed on), not read
        # again; one it held nothing in is read again only here (and not counted twice).
        return [b if not reached.read(b.oid or "") else dataclasses.replace(b, counted=False)
                for b in walked.blobs if b.oid not in judged]

    def provenance(self, hits: list[Hit], rescan: Rescan) -> list[Finding]:
        if self._walked is None:
            return []
        settings = self._commits._scope.settings
        judge = Judge(self._repo, [*self._commits.hits, *hits], settings.detector, settings.config.is_excluded,
                      settings.max_file_size, rescan)
        found = attribute(self._repo, self._revisions, self._walked, judge, self._commits._missing)
        return [dataclasses.replace(f, reachable=False) for f in found]

    def notes(self, stats: Stats, outcomes: Outcomes) -> tuple[str, ...]:
        found = self._found
        if found.problems:
            stats.warnings.append(f"git fsck: {printable(found.problems)}: unreachable objects may be missing "
                                  "from the scan")
        commits = self._walked.commits if self._walked is not None else 0
        stats.unreachable = {"commits": commits, "trees": len(found.trees), "blobs": len(found.blobs)}
        stats.note_missing(self._commits._missing)  # what this walk could not read joins the refs' walk's
        return ()

    def then(self) -> Sequence[Source]:
        from scanner.sources import messages, unreachable

        # Their messages too: a key pasted into a commit message that was amended away, or into
        # the message of a tag that was deleted.
        texts = messages.Messages(self._repo, self._revisions, all_tags=False, pushed_tags=self._found.tags)
        return [tagged.Pointing(self._repo, self._found.pointed(), lambda oid: True, reachable=False),
                unreachable.Marked(texts)]

    def settle(self, findings: list[Finding]) -> list[Finding]:
        """What the refs lead to, marked reachable, and what only unreachable commits and dangling
        objects hold, marked not. A secret at a path the refs hold it at already is not reported
        again; nor is one in a dangling tree or blob (which has no path of its own) that a commit
        holds too."""
        reachable = [f if f.reachable is not None else dataclasses.replace(f, reachable=True) for f in findings
                     if f.reachable is not False]
        seen = {f.fingerprint for f in reachable}
        # A message is its text: an amend that kept it gives the reachable commit the same message.
        said = {(f.rule_id, f.secret) for f in reachable if f.place != "file"}
        walked = [f for f in findings if f.reachable is False and f.commit is not None and f.fingerprint not in seen
                  and (f.place == "file" or (f.rule_id, f.secret) not in said)]
        secrets = {(f.rule_id, f.secret) for f in (*reachable, *walked)}
        loose = [f for f in findings if f.reachable is False and f.commit is None
                 and (f.rule_id, f.secret) not in secrets]
        return [*reachable, *walked, *loose]
