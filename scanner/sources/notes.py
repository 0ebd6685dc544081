"""Git notes as a source (`--history`): the text `git notes add` attaches to a commit lives in a
blob of a notes ref's tree (refs/notes/commits and any other refs/notes/*), at a path that is the
annotated object's id (split into folders once there are many: `ab/cdef…`). A note is published
with the ref, and people put credentials in them as in messages.

The history walk leaves the notes refs to this source (scanner.sources.history passes
`--exclude=refs/notes/*` before `--all`), so that a key in a note is reported once, as a note: at
`note:OBJECT-ID` with `place` "note", `commit` the annotated object, `author` and `date` those of
the notes commit that wrote it (the oldest, when several did), `in_head` false. Every version of
every note is read, those a later `git notes remove` dropped too: the notes refs' history keeps
them."""
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
    assert scope.repo is not None
    refs = notes_refs(scope.repo)
    return [Notes(scope.repo, refs)] if refs else []


def notes_refs(repo: gitcmd.Repo) -> list[str]:
    """The object ids the notes refs point at."""
    out = gitcmd.run(repo, "for-each-ref", "--format=%(objectname)", NOTES_REFS)
    return sorted(set(out.decode().split()))


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
