"""Standard input (`keysentry scan -`): one blob, read in this process, reported at path `-`."""
from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from scanner.errors import UsageError
from scanner.models import Blob, Stats
from scanner.sources.base import Outcomes, Plain, Read, Reading, Scope, Source

# Standard input has no path to exclude, and an LFS pointer piped in is what the user asked about.
_READING = Reading(count_files=True, exclude=False, lfs=False)


def sources(scope: Scope) -> list[Source]:
    return [Stdin(scope.settings.max_file_size)]


class Stdin(Plain):
    """Read as a file is: whole up to chunked.READ_WHOLE, past it a piece at a time, so `scan - <
    /dev/zero` never fills the memory. Over the limit is an error rather than a skip, since a
    skipped stdin would leave nothing scanned and the report would say "no secrets found"."""

    reading = _READING

    def __init__(self, limit: int) -> None:
        self._limit = limit

    @property
    def opener(self) -> "StdinOpener":
        return StdinOpener()

    def blobs(self) -> list[Blob]:
        return [Blob(("-",))]

    def notes(self, stats: Stats, outcomes: Outcomes) -> tuple[str, ...]:
        if stats.skipped_large:
            raise UsageError(f"standard input is larger than --max-file-size ({self._limit} bytes); "
                             "raise --max-file-size to scan it")
        return ()


@dataclass(frozen=True)
class StdinOpener:
    """Standard input as the one blob of a scan, read in this process (one blob: no workers)."""

    def open(self) -> "_StdinReader":
        return _StdinReader()


class _StdinReader:
    def __init__(self) -> None:
        self._head = b""

    def read(self, blobs: Sequence[Blob], limit: int) -> Iterator[tuple[Blob, Read]]:
        for blob in blobs:
            self._head = sys.stdin.buffer.read(limit + 1)
            yield blob, Read("large", size=len(self._head)) if len(self._head) > limit else Read("text", self._head)

    def stream(self, blob: Blob, piece: int) -> Iterator[bytes]:
        head, self._head = self._head, b""
        yield head
        while True:
            chunk = sys.stdin.buffer.read(piece)
            if not chunk:
                return
            yield chunk

    def close(self) -> None:
        pass
