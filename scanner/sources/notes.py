"""Git notes as a source (`--history` and `--range`, so pre-push and pre-receive): the text `git notes add` attaches to a commit lives in a
blob of a notes ref's tree (refs/notes/commits and any other refs/notes/*), at a path that is the
annotated object's id (split into folders once there are many: `ab/cdef…`). A note is published
with the ref, and people put credentials in them as in messages.

The history walk leaves the notes refs to this source (scanner.sources.history passes
`--exclude=refs/notes/*` before `--all`), so that a key in a note is reported once, as a note: at
`note:OBJECT-ID` with `place` "note", `commit` the annotated object, `author` and `date` those of
the notes commit that wrote it (the oldest, when several did), `in_head` false. Every version of
every note is read, those a later `git notes remove` dropped too: the notes refs' history keeps
them.

A range (a push of refs/notes/commits, or `--range` over a notes ref) holds notes commits when one
of its tips is a notes commit: a notes ref's tip or an ancestor of one (the repository's refs/notes/*,
and the notes commits a push sends to refs/notes/*, which the receiving side has no ref to yet).
Those tips are this source's; the range's commits and messages leave them out
(`RangeNotes.without_notes`), so that a key in a note is reported as in --history, never at the annotated
object's id as a file path."""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

from scanner import gitcmd
from scanner.models import Blob, Finding, Hit, Match, Stats, make_finding, secret_key
from scanner.sources import gitlog
from scanner.sources.base import Leaf, Outcomes, Reading, Rescan, Scope, Source
from scanner.sources.blobs import GitObjects

PREFIX = "note:"
NOTES_REFS = "refs/notes/"
EXCLUDE = f"--exclude={NOTES_REFS}*"  # what the history walk passes before --all


def sources(scope: Scope) -> list[Source]:
    repo, request = scope.repo, scope.request
    assert repo is not None
    if request.mode == "range":
        if request.revision_range is None:
            return []
        split = range_notes(scope)
        negated = [r for r in split.revisions if r.startswith("^")]
        return [Notes(repo, [*split.tips, *negated])] if split.tips else []
    refs = history_refs(scope)
    return [Notes(repo, refs)] if refs else []


def history_refs(scope: Scope) -> list[str]:
    """notes_refs of the scope's repository, asked of git once per scan."""
    found = scope.memo.get("notes-refs")
    if not isinstance(found, list):
        assert scope.repo is not None
        found = scope.memo["notes-refs"] = notes_refs(scope.repo)
    return found


def notes_refs(repo: gitcmd.Repo) -> list[str]:
    """The object ids the notes refs point at."""
    out = gitcmd.run(repo, "for-each-ref", "--format=%(objectname)", NOTES_REFS)
    return sorted(set(out.decode().split()))


@dataclasses.dataclass(frozen=True)
class RangeNotes:
    """A range's revisions (history.range_revisions) and those of its tips that are notes commits."""

    revisions: tuple[str, ...]
    tips: tuple[str, ...]

    @property
    def without_notes(self) -> list[str]:
        """The range minus its notes commits (each notes tip negated): its files' commits."""
        return [*self.revisions, *(f"^{tip}" for tip in self.tips)]


def range_notes(scope: Scope) -> RangeNotes:
    """SCOPE's range split into its revisions and notes tips, worked out once for the scan's three
    sources of a range (commits, messages, notes): each would otherwise ask git again."""
    found = scope.memo.get("range-notes")
    if not isinstance(found, RangeNotes):
        from scanner.sources.history import range_revisions

        assert scope.repo is not None and scope.request.revision_range is not None
        revisions = range_revisions(scope.repo, scope.request.revision_range)
        found = RangeNotes(tuple(revisions), tuple(range_tips(scope.repo, revisions, scope.request.notes)))
        scope.memo["range-notes"] = found
    return found


def range_tips(repo: gitcmd.Repo, revisions: Sequence[str], pushed: Sequence[str] = ()) -> list[str]:
    """The tips of a range (REVISIONS, from history.range_revisions) that are notes commits: a
    notes ref's tip or one of its ancestors; PUSHED: the notes commits a push sends to refs/notes/*."""
    tips = dict.fromkeys([*pushed, *notes_refs(repo)])
    if not tips:
        return []
    found = []
    for revision in revisions:
        if revision.startswith("^"):
            continue
        if revision in tips or any(gitcmd.is_ancestor(repo, revision, tip) for tip in tips):
            found.append(revision)
    return found




@dataclasses.dataclass(frozen=True)
class _Written:
    """One notes commit writing a note's blob."""

    annotated: str
    commit: gitlog.Commit


class Notes(Leaf):
    """Every blob any notes commit wrote, each once with the note path of every object it annotates."""

    reading = Reading()

    def __init__(self, repo: gitcmd.Repo, refs: Sequence[str]) -> None:
        self._repo = repo
        self._refs = refs
        self._written: dict[tuple[str, str], _Written] = {}  # (blob, note path) -> its first writing
        self._missing: set[str] = set()

    @property
    def opener(self) -> GitObjects:
        return GitObjects(self._repo)

    def blobs(self) -> Iterable[Blob]:
        paths: dict[str, dict[str, None]] = {}
        for commit in gitlog.commits(self._repo, self._refs, missing=self._missing):  # oldest first
            for change in commit.changes:
                annotated = change.path.replace("/", "")
                if change.new == gitlog.NULL_OID or len(annotated) != self._repo.hash_len \
                        or annotated.strip("0123456789abcdef"):
                    continue  # a deletion, or a file that is no note
                path = PREFIX + annotated
                self._written.setdefault((change.new, path), _Written(annotated, commit))
                paths.setdefault(change.new, {})[path] = None
        return [Blob(tuple(at), oid) for oid, at in paths.items()]

    def provenance(self, hits: list[Hit], rescan: Rescan) -> list[Finding]:
        # One secret in notes is one finding, at the oldest notes commit that wrote it.
        first: dict[tuple[str, str], tuple[_Written, str, Match]] = {}
        for hit in hits:
            assert hit.blob.oid is not None
            for path, matches in hit.at:
                written = self._written[(hit.blob.oid, path)]
                for match in matches:
                    key = secret_key(match)
                    known = first.get(key)
                    if known is None or written.commit.timestamp < known[0].commit.timestamp:
                        first[key] = (written, path, match)
        return [make_finding(match, path, commit=w.annotated, author=w.commit.author, date=w.commit.date,
                             in_head=False, place="note") for w, path, match in first.values()]

    def notes(self, stats: Stats, outcomes: Outcomes) -> tuple[str, ...]:
        stats.note_missing(self._missing)
        return ()
