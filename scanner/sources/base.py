"""What a source hands the scan loop: blob records (scanner.models.Blob) and an opener, a small
picklable value that makes, in each worker process, the reader that turns records into bytes; and
the Source seam itself: the protocol every place a scan reads implements."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from scanner.models import Blob, Finding, Hit, Stats, make_finding

if TYPE_CHECKING:
    from scanner import gitcmd
    from scanner.scan import Request, Settings
    from scanner.sources import worktree


@dataclass(frozen=True)
class Read:
    """What reading one blob gave."""

    outcome: str  # text | symlink | linked-folder | nested-repo | other | large | unreadable
    data: bytes = b""
    size: int = 0  # of a file too large to read
    detail: str = ""  # linked-folder: the link; unreadable: why


class Reader(Protocol):
    def read(self, blobs: Sequence[Blob], limit: int) -> Iterator[tuple[Blob, Read]]:
        """Each blob with what reading it gave, in order; LIMIT bytes at most (else "large")."""
        ...

    def stream(self, blob: Blob, piece: int) -> Iterator[bytes]:
        """The content of one blob too large to read whole, a piece of about PIECE bytes at a time
        (scanner.chunked). OSError when it cannot be read (any more)."""
        ...

    def close(self) -> None: ...


class Opener(Protocol):
    """Picklable: sent to each worker process, which opens its own reader (file descriptors and
    git processes are never shared between processes)."""

    def open(self) -> Reader: ...


@dataclass(frozen=True)
class InMemory:
    """Blobs whose bytes came with them (standard input)."""

    def open(self) -> Reader:
        return _InMemoryReader()


class _InMemoryReader:
    def read(self, blobs: Sequence[Blob], limit: int) -> Iterator[tuple[Blob, Read]]:
        for blob in blobs:
            data = blob.data or b""
            yield blob, Read("large", size=len(data)) if len(data) > limit else Read("text", data)

    def stream(self, blob: Blob, piece: int) -> Iterator[bytes]:
        data = blob.data or b""
        for start in range(0, len(data), piece):
            yield data[start:start + piece]

    def close(self) -> None:
        pass


# --- the Source seam -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Reading:
    """How the scan loop takes one source's records: what its stats count and which of its
    steps apply."""

    count_files: bool = False  # the stats count paths as files (work tree, staged), not only blobs
    exclude: bool = True  # `exclude` patterns drop paths (not standard input, which has none)
    lfs: bool = True  # an LFS pointer is skipped, not scanned
    named: bool = False  # one file the user named, which cannot be skipped quietly
    progress: bool = False  # show a bar: the records are a list, so their totals are known


@dataclass
class Outcomes:
    """What the loop saw of one source besides content (its warnings and notes come from here)."""

    nested: list[str] = field(default_factory=list)
    linked: dict[str, tuple[str, int]] = field(default_factory=dict)  # a link -> (first path, count)
    missing: set[str] = field(default_factory=set)  # objects git could not read


# The scan loop, for a source's provenance step that must judge more blobs than it yielded (a
# path HEAD holds a blob at, the work-tree version of a staged file): the engine runs only there.
# The blobs are not counted in the scan's stats.
Rescan = Callable[[Iterable[Blob], Opener], "list[Hit]"]


@dataclass(frozen=True)
class Scope:
    """What a scan covers, as the sources see it: the request, the folder or repository, and the
    settings (engine, config, limits) read there."""

    request: "Request"
    root: Path
    repo: "gitcmd.Repo | None"
    settings: "Settings"
    listing: "worktree.Listing | None" = None  # the work tree's files, listed already
    # What several sources of one scan work out alike (a range's revisions and notes commits: git
    # calls on the push hook's path), kept once per scan; never copied by dataclasses.replace.
    memo: dict[str, object] = field(default_factory=dict, init=False, compare=False, repr=False)


class Source(Protocol):
    """One job: yield blob records, and attach the provenance to what the scan loop finds in them.

    A new place to scan is one module with a `sources(scope) -> list[Source]` function, named in
    scanner.sources.REGISTRY with the modes it applies to; scanner.scan never branches on it."""

    @property
    def opener(self) -> Opener:
        """What each worker opens to read the records."""
        ...

    @property
    def reading(self) -> Reading: ...

    def blobs(self) -> Iterable[Blob]:
        """The records to scan: a list when a progress bar needs the totals, else a stream."""
        ...

    def provenance(self, hits: list[Hit], rescan: Rescan) -> list[Finding]:
        """Findings for what the loop found (HITS): commits, authors, dates, in_head, locations."""
        ...

    def notes(self, stats: Stats, outcomes: Outcomes) -> tuple[str, ...]:
        """What the report should say once this source was scanned (warnings go into STATS)."""
        ...

    def then(self) -> Sequence["Source"]:
        """Sources to scan after this one, which depend on what it read (the blobs refs point at
        that no commit holds)."""
        ...

    def settle(self, findings: list[Finding]) -> list[Finding]:
        """The scan's findings once every source is done, as this source wants them (what
        --unreachable finds is reported only where the refs' findings do not hold it already);
        most return FINDINGS as they are."""
        ...


class Leaf:
    """Defaults for a source that leads to no other and takes the scan's findings as they are."""

    def then(self) -> Sequence[Source]:
        return ()

    def settle(self, findings: list[Finding]) -> list[Finding]:
        return findings


class Plain(Leaf):
    """Defaults for a source whose findings are where they are, with no history."""

    reading = Reading()

    def provenance(self, hits: list[Hit], rescan: Rescan) -> list[Finding]:
        return plain_findings(hits)

    def notes(self, stats: Stats, outcomes: Outcomes) -> tuple[str, ...]:
        return ()


def plain_findings(hits: Iterable[Hit], prefix: str = "", in_head: bool | None = None) -> list[Finding]:
    """Findings at the paths the loop found them at (PREFIX before each: a tree's ref name)."""
    return [make_finding(m, prefix + path, in_head=in_head) for hit in hits for path, matches in hit.at for m in matches]
