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

from collections.abc import Iterator, Sequence
import functools
from dataclasses import dataclass

from scanner import gitcmd
from scanner.errors import GitError
from scanner.domain import Place
from scanner.models import Blob, Finding, Hit, Match, Stats, make_finding, secret_key
from scanner.sources import gitlog
from scanner.sources.base import Leaf, InMemory, Outcomes, Reading, Rescan, Scope, Source

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
        return [Messages(repo, history.history_revisions(repo), all_tags=True)]
    revisions = history.range_revisions(repo, request.revision_range) if request.revision_range else []
    if revisions:  # a notes commit's message is git's own ("Notes added by 'git notes add'"), as in --history
        from scanner.sources import notes

        revisions, _ = notes.without_notes(repo, revisions, request.notes)
    return [Messages(repo, revisions, all_tags=False, pushed_tags=request.tags)]


class Messages(Leaf):
    """Every commit message of REVISIONS and the annotated tags that go with them, as in-memory
    blobs, each distinct text once with the paths of every object carrying it."""

    reading = Reading()

    def __init__(self, repo: gitcmd.Repo, revisions: Sequence[str], all_tags: bool,
                 pushed_tags: Sequence[str] | None = None) -> None:
        self._repo = repo
        self._revisions = revisions
        self._all_tags = all_tags
        self._pushed_tags = pushed_tags
        self._origins: dict[str, Origin] = {}
        self._missing: set[str] = set()  # commits git cannot read: named in the stats

    @property
    def opener(self) -> InMemory:
        return InMemory()

    def blobs(self) -> Iterator[Blob]:
        texts: dict[bytes, list[str]] = {}
        commits: set[str] = set()
        if self._revisions:
            for sha, origin, text in self._commit_messages():
                commits.add(sha)
                path = COMMIT_PREFIX + sha
                self._origins[path] = origin
                texts.setdefault(text, []).append(path)
        for tag, origin, text in tag_messages(self._repo, self._tags(commits)):
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

    def _commit_messages(self) -> Iterator[tuple[str, Origin, bytes]]:
        return commit_messages(self._repo, self._revisions, self._missing)

    def notes(self, stats: Stats, outcomes: Outcomes) -> tuple[str, ...]:
        stats.note_missing(self._missing)
        return ()


def commit_messages(repo: gitcmd.Repo, revisions: Sequence[str],
                    missing: set[str]) -> Iterator[tuple[str, Origin, bytes]]:
    """(commit, origin, message) for every commit of REVISIONS, newest first. The messages are read
    from the commit objects themselves, not from `git log`, which prints a message only up to a NUL
    byte: a key after one would be published with the commit yet never shown. A commit git cannot
    read is named in MISSING (its ancestors are then listed by reading the commits one by one)."""
    from scanner.sources.blobs import CatFile

    try:
        out = gitcmd.run(repo, "rev-list", *gitlog.revision_args(revisions), "--")
        shas = out.decode("ascii", "replace").split()
    except GitError as exc:
        if not gitlog.object_missing(exc):
            raise
        shas = [h.sha for h in reversed(gitlog.listed_commits(repo, revisions, missing))]
    with CatFile(repo) as cat:
        for rank, (sha, _, data) in enumerate(cat.read_within(shas, None, tolerant=True)):
            if data is None:
                missing.add(sha)
                continue
            header, _, message = data.partition(b"\n\n")
            author = next((line[7:] for line in header.split(b"\n") if line.startswith(b"author ")), b"")
            yield sha, Origin("commit-message", sha, author.decode("utf-8", "replace"), -rank), message


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

