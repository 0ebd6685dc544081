"""Blobs and trees a ref points at with no commit in between: a lightweight or annotated tag of a
blob (git.git's `junio-gpg-pub`) or of a tree (Linux's `v2.6.11-tree`). `git log` walks commits
only, so a history or push scan that followed the commits alone would never read them, and a tag
could carry a key to the remote unseen.

Such a blob is reported at the ref's name (`refs/tags/keys`), a tree's file at `REF:PATH`, which
is what `git show` takes to print it."""
from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from scanner import gitcmd
from scanner.errors import GitError
from scanner.models import Blob, Finding, Hit, Stats
from scanner.sources.base import Outcomes, Reading, Rescan, Source, plain_findings
from scanner.sources.blobs import GitObjects

Kind = Literal["blob", "tree"]


@dataclass(frozen=True)
class Pointed:
    """A blob or tree that refs lead to directly (tags peeled)."""

    ref: str  # the first ref (by name) that leads to it: where its findings are reported
    oid: str
    kind: Kind


def from_refs(repo: gitcmd.Repo) -> list[Pointed]:
    """Every blob or tree any ref of REPO leads to directly."""
    out = gitcmd.run(repo, "for-each-ref", "--format=%(objectname) %(objecttype) %(refname)")
    named = []
    for line in out.decode("utf-8", "surrogateescape").splitlines():
        oid, kind, ref = line.split(" ", 2)
        if kind in ("tag", "blob", "tree"):  # a tag may lead to either; a commit is the log's
            named.append((ref, oid))
    return peel(repo, named)


def peel(repo: gitcmd.Repo | str, named: Iterable[tuple[str, str]]) -> list[Pointed]:
    """Of NAMED (ref, object id), those whose object, with every tag peeled, is a blob or a tree;
    each object once, under the first of its refs by name."""
    pairs = sorted(set(named))
    if not pairs:
        return []
    out = gitcmd.run(repo, "cat-file", "--batch-check=%(objectname) %(objecttype)",
                     input="".join(f"{oid}^{{}}\n" for _, oid in pairs).encode())
    found: dict[str, Pointed] = {}
    for (ref, oid), line in zip(pairs, out.decode().splitlines(), strict=False):
        peeled, _, kind = line.partition(" ")
        if kind == "missing":
            raise gitcmd.missing_object(repo, oid)
        if kind in ("blob", "tree") and peeled not in found:
            found[peeled] = Pointed(ref, peeled, "blob" if kind == "blob" else "tree")
    return list(found.values())


def added(repo: gitcmd.Repo | str, pointed: Sequence[Pointed], published: Sequence[str]) -> frozenset[str]:
    """The objects POINTED reach that the revisions PUBLISHED (`--all`, `--remotes=origin`,
    commit ids) do not: what a push of them adds to the receiving side."""
    if not pointed:
        return frozenset()
    # rev-list takes the tips and the negated side on its standard input, so no object id or
    # ref name from outside ever reaches its command line as an option. Plain --objects would not
    # mark the published commits' trees as had (there is no commit to walk), --objects-edge-aggressive
    # does; the edges it prints ("-" and an id) are commits, not content.
    options = [p for p in published if p.startswith("--")]
    negated = "".join(f"^{p}\n" for p in published if not p.startswith("--"))
    out = gitcmd.run(repo, "rev-list", "--objects-edge-aggressive", "--no-object-names", "--stdin",
                     *(["--not", *options] if options else []),
                     input=("".join(f"{p.oid}\n" for p in pointed) + negated).encode())
    return frozenset(word for word in out.decode().split() if not word.startswith("-"))


def groups(repo: gitcmd.Repo, pointed: Sequence[Pointed], wanted: Callable[[str], bool]) -> Iterator[tuple[str, list[Blob]]]:
    """The blobs of POINTED that WANTED keeps (asked as each group is made), in groups that share
    how their paths are shown: (prefix, blobs). First every blob pointed at directly, at its ref's
    name (prefix ""), sized in one call however many tags a push carries; then each tree's files
    with every path the tree holds them at (prefix "REF:"). Submodule entries are another
    repository's commits."""
    direct = [p for p in pointed if p.kind == "blob" and wanted(p.oid)]
    if direct:
        out = gitcmd.run(repo, "cat-file", "--batch-check=%(objectsize)",
                         input="".join(f"{p.oid}\n" for p in direct).encode())
        yield "", [Blob((p.ref,), p.oid, int(size)) for p, size in zip(direct, out.decode().split(), strict=False)]
    for tree in (p for p in pointed if p.kind == "tree"):
        yield f"{tree.ref}:", _tree_blobs(repo, tree.oid, wanted)


def _tree_blobs(repo: gitcmd.Repo, tree: str, wanted: Callable[[str], bool]) -> list[Blob]:
    out = gitcmd.run(repo, "ls-tree", "-r", "-z", "-l", "--full-tree", tree)
    paths: dict[str, list[str]] = {}
    sizes: dict[str, int] = {}
    for record in out.split(b"\0"):
        meta, _, path = record.partition(b"\t")
        parts = meta.split()
        if len(parts) != 4 or parts[1] != b"blob":
            continue
        oid = parts[2].decode()
        if not wanted(oid):
            continue
        paths.setdefault(oid, []).append(os.fsdecode(path))
        try:
            sizes[oid] = int(parts[3])
        except ValueError:
            raise GitError(f"git: unexpected 'ls-tree' output for {tree}; is the repository corrupt?") from None
    return [Blob(tuple(at), oid, sizes[oid]) for oid, at in paths.items()]


# --- what refs point at, as sources of the scan loop ---------------------------------------------------

class Pointing:
    """Findings in the blobs and trees refs point at directly, each blob read once (under the first
    ref leading to it). They have no commit to attribute them to, and are not in HEAD. One group
    (scanner.sources.tagged.groups) at a time: a group's paths are judged as the tree holds them,
    and reported with the group's prefix."""

    reading = Reading()

    def __init__(self, repo: gitcmd.Repo, pointed: Sequence[Pointed], wanted: Callable[[str], bool],
                 preamble: tuple[str, ...] = (), shallow: bool = False,
                 groups: Iterator[tuple[str, list[Blob]]] | None = None, read: set[str] | None = None,
                 reachable: bool | None = None) -> None:
        """REACHABLE: False for dangling trees and blobs (--unreachable), which findings then say."""
        self._repo = repo
        self._reachable = reachable
        self._read = set() if read is None else read
        self._groups = groups if groups is not None else _groups(repo, pointed, wanted, self._read)
        self._preamble = preamble
        self._shallow = shallow
        self._prefix, self._records = next(self._groups, ("", []))
        self._read.update(b.oid for b in self._records if b.oid is not None)

    @property
    def opener(self) -> GitObjects:
        return GitObjects(self._repo)

    def blobs(self) -> list[Blob]:
        return self._records

    def provenance(self, hits: list[Hit], rescan: Rescan) -> list[Finding]:
        found = plain_findings(hits, self._prefix, in_head=False)
        if self._reachable is None:
            return found
        return [dataclasses.replace(f, reachable=self._reachable) for f in found]

    def notes(self, stats: Stats, outcomes: Outcomes) -> tuple[str, ...]:
        stats.shallow = stats.shallow or self._shallow
        return self._preamble

    def then(self) -> Sequence[Source]:
        if not self._records:
            return ()
        more = Pointing(self._repo, (), bool, groups=self._groups, read=self._read, reachable=self._reachable)
        return [more] if more._records else []

    def settle(self, findings: list[Finding]) -> list[Finding]:
        return findings


def _groups(repo: gitcmd.Repo, pointed: Sequence[Pointed], wanted: Callable[[str], bool],
            read: set[str]) -> Iterator[tuple[str, list[Blob]]]:
    return groups(repo, list(pointed), lambda oid: wanted(oid) and oid not in read)
