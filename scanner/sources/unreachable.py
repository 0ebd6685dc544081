"""What no ref leads to (`scan --history --unreachable`): commits only a reflog still names (an
amended or rebased-away commit, a reset branch, a dropped stash) and dangling objects (a blob that
was `git add`ed and never committed, the tree of an abandoned `git stash create`). A copied
repository (a backup, a developer's laptop, a CI cache) keeps them until `git gc` prunes them, so an
audit of such a copy can find keys that no clone of the remote would show.

The commits are walked as a history is, from every commit a reflog names (`--reflog`) and every
dangling commit, down to what a ref reaches (`revisions`: `--not --all`, so nothing reachable is
walked twice and no list of reflog entries ever reaches a command line). `git fsck
--connectivity-only` names the dangling objects cheaply: it walks the refs, the reflogs and the
index as a `rev-list --objects` does, without reading or hashing any blob, and prints the tips of
what none of them holds: a dangling commit heads a piece of history no reflog names (a dropped
stash, `git commit-tree`), a dangling tree or blob is held by nothing at all. The trees and blobs
are read as a tag's are (scanner.sources.tagged): a tree's file at `TREE:PATH`, a blob at its
object id, which is what `git show` takes to print either."""
from __future__ import annotations

import dataclasses
import hashlib
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from scanner import gitcmd
from scanner.errors import GitError
from scanner.models import Blob, Finding, Hit, Stats
from scanner.sources.base import Opener, Outcomes, Reading, Rescan, Source
from scanner.sources.tagged import Pointed


@dataclass(frozen=True)
class Dangling:
    commits: tuple[str, ...]  # heads of unreachable history that no reflog names
    trees: tuple[str, ...]
    blobs: tuple[str, ...]
    problems: str = ""  # what git fsck said besides (a missing or corrupt object), "" when nothing
    tags: tuple[str, ...] = ()  # annotated tag objects no ref leads to, whose messages are scanned

    def digest(self) -> str:
        """One value for the whole set: a stored audit result stands for exactly these."""
        text = "\n".join([*self.commits, "", *self.trees, "", *self.blobs])
        return hashlib.sha256(text.encode()).hexdigest()

    def pointed(self) -> list[Pointed]:
        """The trees and blobs as the scan reads those a tag points at: each under its own id."""
        return [*(Pointed(oid, oid, "tree") for oid in self.trees), *(Pointed(oid, oid, "blob") for oid in self.blobs)]


def dangling(repo: gitcmd.Repo) -> Dangling:
    """The unreachable heads of REPO. A dangling annotated tag counts for what it points at (a
    commit it leads to is not dangling itself: the tag holds it)."""
    try:
        proc = subprocess.run(gitcmd.argv(repo, "fsck", "--connectivity-only", "--no-progress", "--dangling"),
                              capture_output=True, env=gitcmd.env())
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH") from None
    found: dict[str, list[str]] = {"commit": [], "tree": [], "blob": [], "tag": []}
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        words = line.split()
        if len(words) == 3 and words[0] == "dangling" and words[1] in found and _is_oid(repo, words[2]):
            found[words[1]].append(words[2])
    problems = ""
    if proc.returncode != 0:
        # fsck exits non-zero for any broken object: what it could still list is scanned, and the
        # report says the list may be short.
        said = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        problems = said[0] if said else f"git fsck exited with status {proc.returncode}"
    if found["tag"]:
        for oid, kind in _peeled(repo, found["tag"]):
            if kind in ("commit", "tree", "blob"):
                found[kind].append(oid)

    def heads(kind: str) -> tuple[str, ...]:
        return tuple(sorted(set(found[kind])))

    return Dangling(heads("commit"), heads("tree"), heads("blob"), problems, heads("tag"))


class Marked:
    """Another source whose findings no ref leads to (the messages of unreachable commits and
    dangling tags): its own, each marked `reachable` false."""

    def __init__(self, inner: Source) -> None:
        self._inner = inner

    @property
    def opener(self) -> Opener:
        return self._inner.opener

    @property
    def reading(self) -> Reading:
        return self._inner.reading

    def blobs(self) -> Iterable[Blob]:
        return self._inner.blobs()

    def provenance(self, hits: list[Hit], rescan: Rescan) -> list[Finding]:
        return [dataclasses.replace(f, reachable=False) for f in self._inner.provenance(hits, rescan)]

    def notes(self, stats: Stats, outcomes: Outcomes) -> tuple[str, ...]:
        return self._inner.notes(stats, outcomes)

    def then(self) -> Sequence[Source]:
        return [Marked(source) for source in self._inner.then()]

    def settle(self, findings: list[Finding]) -> list[Finding]:
        return self._inner.settle(findings)


def revisions(reachable: Sequence[str], heads: Sequence[str]) -> list[str]:
    """Revisions (scanner.sources.gitlog.revision_args) for the commits the reflogs and HEADS lead
    to that REACHABLE (a history scan's revisions: `--all` and the stash entries) does not: `--not`
    turns what follows around, so the reachable side is written plain and HEADS with a `^`."""
    # Every ref counts as reachable here, the notes refs too (the history walk leaves those to the
    # notes source with an --exclude, which would make their reflogged commits look unreachable).
    refs = [r for r in reachable if not r.startswith("--exclude=")]
    return ["--reflog", "--not", *refs, *(f"^{oid}" for oid in heads)]


def reflogs(repo: gitcmd.Repo) -> str:
    """A digest of every reflog entry: with the dangling heads, what an unreachable scan stands for
    (an expired reflog moves no ref)."""
    out = gitcmd.run(repo, "reflog", "show", "--all", "--format=%H %gD", ok=(0, 128))
    return hashlib.sha256(out).hexdigest()


def _is_oid(repo: gitcmd.Repo, word: str) -> bool:
    return len(word) == repo.hash_len and not word.strip("0123456789abcdef")


def _peeled(repo: gitcmd.Repo, tags: Sequence[str]) -> list[tuple[str, str]]:
    out = gitcmd.run(repo, "cat-file", "--batch-check=%(objectname) %(objecttype)",
                     input="".join(f"{oid}^{{}}\n" for oid in tags).encode())
    pairs = []
    for line in out.decode("utf-8", "replace").splitlines():
        oid, _, kind = line.partition(" ")
        if _is_oid(repo, oid):
            pairs.append((oid, kind))
    return pairs
