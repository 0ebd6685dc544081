"""What a source hands the scan loop: blob records (scanner.models.Blob) and an opener, a small
picklable value that makes, in each worker process, the reader that turns records into bytes."""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from scanner.models import Blob


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
