"""Large files scanned in bounded memory: a file past READ_WHOLE bytes is read a piece at a time
and scanned in overlapping windows, so the size limit is a cost choice (default 1 GB), never a
blind spot, and memory stays at about two windows whatever the file's size.

Each window is PIECE bytes plus OVERLAP bytes of the next piece. A match is kept from the window in
which it lies at least MARGIN bytes from either edge (a secret, with the text around it that the
rules look at, is far shorter than OVERLAP - 2 * MARGIN, so every secret lies so in some window),
and a match two windows both keep is one: they are told apart by their place in the whole file.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace

from scanner import archives
from scanner.detect import Detector, Scanned
from scanner.models import Match

# Files up to this size are read whole, as before; past it, a piece at a time.
READ_WHOLE = 64 * 1024 * 1024
PIECE = 16 * 1024 * 1024
OVERLAP = 256 * 1024
MARGIN = 64 * 1024
# How much of a large file's start whole-file rules (dotenv-file) judge it by.
FIRST = 1024 * 1024


def windows(pieces: Iterable[bytes], piece: int = PIECE, overlap: int = OVERLAP) -> Iterator[tuple[int, bytes, bool]]:
    """(offset, bytes, last) of each window over the stream of PIECES, whatever their sizes."""
    buffer = bytearray()
    offset = 0
    for chunk in pieces:
        buffer += chunk
        while len(buffer) >= piece + overlap:
            window = bytes(buffer[:piece + overlap])
            del buffer[:piece]  # before the window is scanned: the two are not held whole at once
            yield offset, window, False
            del window
            offset += piece
    yield offset, bytes(buffer), True


def scan_pieces(detector: Detector, pieces: Iterable[bytes], *, piece: int = PIECE, overlap: int = OVERLAP,
                margin: int = MARGIN) -> tuple[Scanned, bytes]:
    """What the content of a large file holds, read from PIECES: the Scanned of the whole, and its
    first FIRST bytes (whole-file rules judge a file by its start)."""
    assert overlap > 2 * margin
    kept: dict[tuple[object, ...], Match] = {}
    allowed = 0
    binary = False
    first = b""
    opened: archives.Tally | None = None
    lines_before = 0  # newlines before the window's start
    column_before = 0  # bytes between the last of them and the window's start
    for offset, data, last in windows(pieces, piece, overlap):
        if offset == 0:
            first = data[:FIRST]
            if detector.archive_limits is not None and archives.kind(data) is not None:
                # Too large to hold whole, which reading its members needs: counted and named.
                opened = archives.Tally(skipped=(("oversized", 1),))
        # A window is no archive of its own: an archive this large is scanned as the binary it is.
        scanned = detector.scan_content(data, expand=False)
        binary = binary or (offset == 0 and scanned.binary)
        allowed += scanned.allowed
        edges = _Edges(data, margin, first=offset == 0, last=last)
        for m in scanned.everything:
            if m.line == 0 or not edges.inside(m):
                continue
            placed = replace(m, line=lines_before + m.line,
                             column=m.column + column_before if m.line == 1 else m.column)
            kept.setdefault((placed.rule_id, placed.secret, placed.line, placed.column, placed.suppressed), placed)
        # The next window starts PIECE bytes on: the line count moves on by what lies between.
        newlines = data.count(b"\n", 0, piece)
        lines_before += newlines
        column_before = piece - data.rfind(b"\n", 0, piece) - 1 if newlines else column_before + piece
        del data, scanned
    ordered = sorted(kept.values(), key=lambda m: (m.line, m.column))
    return (Scanned(tuple(m for m in ordered if not m.suppressed), allowed, binary,
                    tuple(m for m in ordered if m.suppressed), archive=opened), first)


class _Edges:
    """Tells whether a match of one window lies at least MARGIN bytes from the window's edges (the
    first window has no start edge, the last no end edge). A match's byte offset is found from its
    line and column, read only near the edges: columns count characters, which for text that is
    not ASCII puts the offset a little early, well inside the margin's slack."""

    def __init__(self, data: bytes, margin: int, *, first: bool, last: bool) -> None:
        self._data = data
        self._margin = margin
        self._size = len(data)
        # Lines starting before the margin at the start, and from the margin at the end.
        self._head_lines = 0 if first else data.count(b"\n", 0, margin) + 1
        if last or self._size <= margin:
            self._tail_line = None
        else:
            tail_from = self._size - margin
            self._tail_line = data.count(b"\n", 0, tail_from) + 1
            self._tail_start = data.rfind(b"\n", 0, tail_from) + 1

    def inside(self, m: Match) -> bool:
        if m.line <= self._head_lines:
            start = self._line_start(m.line, 0, 1) + m.column - 1
            if start < self._margin:
                return False
        if self._tail_line is not None and m.line >= self._tail_line:
            start = self._line_start(m.line, self._tail_start, self._tail_line) + m.column - 1
            if start + len(m.secret.encode("utf-8", "surrogateescape")) > self._size - self._margin:
                return False
        return True

    def _line_start(self, line: int, at: int, at_line: int) -> int:
        """The offset where LINE starts, counting on from offset AT, where line AT_LINE starts."""
        while at_line < line:
            at = self._data.index(b"\n", at) + 1
            at_line += 1
        return at
