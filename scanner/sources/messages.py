"""Git metadata as a source: commit messages and annotated tag messages, in --history and --range
(and so in pre-push and pre-receive, which scan ranges). People paste keys into "fix: rotate key
AIza…" commits, and a message is published with its commit.

A finding in a message is reported at `commit-message:SHA` (or `tag-message:TAG-OBJECT-ID`): a fixed
prefix and an object's full id, which no file of the repository can name before that object exists
(a file cannot hold the id of the commit that holds it); `place` says which for certain. Its line
and column are those in the
message (line 1 is the subject), `commit` the commit (a tag: the commit it tags), `author` and
`date` the commit's author (a tag: its tagger). One message text carried by many commits (a
cherry-pick, a rebase, an amend that kept the message) is read once, and each secret in it is one
finding, at the oldest of those commits: the one that published it first."""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
import functools
from dataclasses import dataclass

from scanner import gitcmd
from scanner.errors import GitError
from scanner.domain import Place
from scanner.models import Blob, Finding, Hit, Match, Stats, make_finding, secret_key
from scanner.sources import gitlog
from scanner.sources.base import Leaf, InMemory, Outcomes, Read, Reading, Rescan, Scope, Source

COMMIT_PREFIX = "commit-message:"
TAG_PREFIX = "tag-message:"


@dataclass(frozen=True)
class Origin:
    """Where one message came from: the object, and what a finding in it names."""

    place: Place
    commit: str  # the commit (a tag's: the object it tags, a commit but for a tag of a tree or blob)
    who: str  # git's "Name <email> 1700000000 +0100": read only for a message that holds something
    # Among objects of the same instant, the lower is older: git's log lists the newest first.
    rank: int = 0

    @functools.cached_property
    def author(self) -> tuple[str, int, str]:
        """The name, the instant and the ISO date."""
        return gitlog.who(self.who)

    @property
    def order(self) -> tuple[int, int]:
        return self.author[1], self.rank


def sources(scope: Scope) -> list[Source]:
    from scanner.sources import history

    repo, request = scope.repo, scope.request
    assert repo is not None
    if request.mode == "history":
        return [Messages(repo, history.scope_revisions(scope), all_tags=True,
                         listed=lambda: history.walked_commits(scope))]
    revisions: list[str] = []
    if request.revision_range:  # a notes commit's message is git's own ("Notes added by 'git notes add'"), as in --history
        from scanner.sources import notes

        revisions = notes.range_notes(scope).without_notes
    return [Messages(repo, revisions, all_tags=False, pushed_tags=request.tags)]


class Messages(Leaf):
    """Every commit message of REVISIONS and the annotated tags that go with them. A commit is a
    record the scan's workers read themselves (MessageTexts): a history's 19,000 commits read and
    parsed here took a quarter of a second of this process's time after the blob scan, while two
    workers can share it. Tags are few: their messages come as in-memory blobs, each distinct text
    once with the paths of every tag carrying it."""

    reading = Reading()

    def __init__(self, repo: gitcmd.Repo, revisions: Sequence[str], all_tags: bool,
                 pushed_tags: Sequence[str] | None = None,
                 listed: Callable[[], list[str] | None] | None = None) -> None:
        """LISTED: the commits of REVISIONS in rev-list's order if another walk of this scan listed
        them already (the history's: a second walk of 19,000 commits cost pytest's scan a tenth of
        a second with one core idle), else None."""
        self._repo = repo
        self._revisions = revisions
        self._listed = listed
        self._all_tags = all_tags
        self._pushed_tags = pushed_tags
        self._origins: dict[str, Origin] = {}  # the tags'; a commit's is read when it holds something
        self._ranks: dict[str, int] = {}  # each commit's place in git's order (see Origin.rank)
        self._missing: set[str] = set()  # commits git cannot read: named in the stats

    @property
    def opener(self) -> "MessageTexts":
        return MessageTexts(self._repo)

    def blobs(self) -> Iterator[Blob]:
        commits = self._listed() if self._listed is not None else None
        if commits is None:
            commits = list_commits(self._repo, self._revisions, self._missing) if self._revisions else []
        self._ranks = {sha: -rank for rank, sha in enumerate(commits)}
        for sha in commits:
            # Not counted: the stats' files and bytes are those of the content git stores.
            yield Blob((COMMIT_PREFIX + sha,), sha, counted=False)
        texts: dict[bytes, list[str]] = {}
        for tag, origin, text in tag_messages(self._repo, self._tags(set(self._ranks))):
            path = TAG_PREFIX + tag
            self._origins[path] = origin
            texts.setdefault(text, []).append(path)
        for text, paths in texts.items():
            if text.strip():
                # Not counted: the stats' files and bytes are those of the content git stores.
                yield Blob(tuple(paths), size=len(text), data=text, counted=False)

    def _tags(self, commits: set[str]) -> list[str]:
        """The annotated tags to read: every one (history), those a push sends (a push's range), or
        those of the range's commits (a range given on the command line)."""
        if self._pushed_tags is not None:
            return list(dict.fromkeys(self._pushed_tags))
        out = gitcmd.run(self._repo, "for-each-ref", "--format=%(objecttype) %(objectname) %(*objectname)")
        wanted: dict[str, None] = {}
        for line in out.decode("utf-8", "replace").splitlines():
            kind, oid, target = (line.split(" ") + ["", ""])[:3]
            if kind == "tag" and (self._all_tags or target in commits):
                wanted[oid] = None
        return list(wanted)

    def provenance(self, hits: list[Hit], rescan: Rescan) -> list[Finding]:
        self._origins.update(commit_origins(self._repo, [path.removeprefix(COMMIT_PREFIX) for hit in hits
                                                         for path, _ in hit.at if path.startswith(COMMIT_PREFIX)],
                                            self._ranks))
        # One secret in messages is one finding, at the oldest object whose message carries it.
        first: dict[tuple[str, tuple[str, str]], tuple[Origin, str, Match]] = {}
        for hit in hits:
            for path, matches in hit.at:
                origin = self._origins[path]
                for match in matches:
                    key = (origin.place, secret_key(match))
                    known = first.get(key)
                    if known is None or origin.order < known[0].order:
                        first[key] = (origin, path, match)
        findings = []
        for origin, path, match in first.values():
            name, _, date = origin.author
            findings.append(make_finding(match, path, commit=origin.commit, author=name, date=date,
                                         in_head=False, place=origin.place))
        return findings

    def notes(self, stats: Stats, outcomes: Outcomes) -> tuple[str, ...]:
        stats.note_missing(self._missing)
        return ()


def list_commits(repo: gitcmd.Repo, revisions: Sequence[str], missing: set[str]) -> list[str]:
    """Every commit of REVISIONS, newest first (git's order). When git cannot list them (an object
    it cannot read), they are listed by reading the commits one by one: each one that cannot be
    read is named in MISSING and its ancestors are reached through the others."""
    try:
        out = gitcmd.run(repo, "rev-list", *gitlog.revision_args(revisions), "--")
        return out.decode("ascii", "replace").split()
    except GitError as exc:
        if not gitlog.object_missing(exc):
            raise
        return [h.sha for h in reversed(gitlog.listed_commits(repo, revisions, missing))]


def message_of(commit: bytes) -> bytes:
    """A commit object's message: all after its header (whose lines, a signature's too, are never
    empty). Read from the object itself, not from `git log`, which prints a message only up to a
    NUL byte: a key after one would be published with the commit yet never shown."""
    return commit.partition(b"\n\n")[2]


def commit_origins(repo: gitcmd.Repo, shas: Sequence[str], ranks: dict[str, int]) -> dict[str, Origin]:
    """The origin of each commit of SHAS (those whose messages hold something): its author, read
    now, and its rank in git's order (RANKS)."""
    if not shas:
        return {}
    from scanner.sources.blobs import CatFile

    origins = {}
    with CatFile(repo) as cat:
        for sha, _, data in cat.read_within(list(dict.fromkeys(shas)), None, tolerant=True):
            header = (data or b"").partition(b"\n\n")[0]
            author = next((line[7:] for line in header.split(b"\n") if line.startswith(b"author ")), b"")
            origins[COMMIT_PREFIX + sha] = Origin("commit-message", sha, author.decode("utf-8", "replace"),
                                                  ranks.get(sha, 0))
    return origins


@dataclass(frozen=True)
class MessageTexts:
    """The opener of a Messages source (picklable): each worker reads the commits it is given
    through a cat-file of its own and scans their messages; tags' come with their bytes."""

    repo: gitcmd.Repo

    def open(self) -> "_MessageReader":
        return _MessageReader(self.repo)


class _MessageReader:
    def __init__(self, repo: gitcmd.Repo) -> None:
        from scanner.sources.blobs import ObjectReader

        self._objects = ObjectReader(repo)
        self._memory = InMemory().open()

    def read(self, blobs: Sequence[Blob], limit: int) -> Iterator[tuple[Blob, Read]]:
        yield from self._memory.read([b for b in blobs if b.data is not None], limit)
        commits = [b for b in blobs if b.data is None]
        if not commits:
            return
        # Whole, whatever their size: LIMIT is on the message, which is known once it is read.
        for blob, got in self._objects.read(commits, 1 << 62):
            if got.outcome != "text":
                yield blob, got  # missing: named in the stats as any object git cannot read
                continue
            message = message_of(got.data)
            yield blob, Read("large", size=len(message)) if len(message) > limit else Read("text", message)

    def stream(self, blob: Blob, piece: int) -> Iterator[bytes]:
        if blob.data is None:
            read = list(self._objects.read([blob], 1 << 62))
            data = message_of(read[0][1].data) if read and read[0][1].outcome == "text" else b""
        else:
            data = blob.data
        for start in range(0, len(data), piece):
            yield data[start:start + piece]

    def close(self) -> None:
        self._objects.close()


def tag_messages(repo: gitcmd.Repo, tags: Sequence[str]) -> Iterator[tuple[str, Origin, bytes]]:
    """(tag object id, origin, message) for each annotated tag of TAGS git can read."""
    if not tags:
        return
    from scanner.sources.blobs import CatFile

    with CatFile(repo) as cat:
        for oid, _, data in cat.read_within(list(tags), None, tolerant=True):
            if data is None:
                continue  # a missing tag object: the commits' scan names what git cannot read
            parsed = _parse_tag(data)
            if parsed is not None:
                target, tagger, message = parsed
                yield oid, Origin("tag-message", target, tagger), message


def _parse_tag(data: bytes) -> tuple[str, str, bytes] | None:
    """A tag object's target, its tagger line, and its message (signature included: it is part of
    what was published)."""
    header, sep, message = data.partition(b"\n\n")
    if not sep and not header.startswith(b"object "):
        return None
    target = tagger = ""
    for line in header.split(b"\n"):
        key, _, value = line.partition(b" ")
        if key == b"object":
            target = value.decode("ascii", "replace")
        elif key == b"tagger":
            tagger = value.decode("utf-8", "replace")
    return target, tagger, message


def pushed_tags(repo: gitcmd.Repo | str, oids: Sequence[str]) -> tuple[str, ...]:
    """Those of OIDS that are annotated tag objects (what a push's refs point at)."""
    if not oids:
        return ()
    out = gitcmd.run(repo, "cat-file", "--batch-check=%(objectname) %(objecttype)",
                     input="".join(f"{o}\n" for o in dict.fromkeys(oids)).encode())
    return tuple(parts[0] for parts in (line.split() for line in out.decode().splitlines())
                 if len(parts) == 2 and parts[1] == "tag")

