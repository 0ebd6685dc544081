"""The strings of compiled files whose format delimits them: a `.pyc`'s constants, an SQLite
database's text cells.

In a binary a key is matched on bytes, and a token must end where a non-key byte follows it; but
in a `.pyc` the next marshal object's type byte is a letter (`N` for None), and in an SQLite row the
next column's text follows the key at once. Read as the format lays them out, each string is text
of its own, scanned by every text rule (a service-account JSON held in a cell too).

Nothing here runs or unmarshals anything: the bytes are read where the format says a string is,
bounds-checked, and a hostile file costs at most a pass over its bytes and as many bytes of strings
as it holds (STRINGS_BUDGET).
"""
from __future__ import annotations

import bisect
import re
import struct

from scanner import lazyre  # compiled at first use: most scans never meet a file that needs them

# Strings shorter than this hold no secret worth a text scan (the shortest fixed format is 25).
_SHORTEST = 16
# What one file's strings may add up to, as a multiple of its size: cells an SQLite page points
# at more than once are read once each time, so a hostile page could make one cell a thousand.
STRINGS_BUDGET = 2

_PRINTABLE = lazyre.compile(rb"[\t\n\r\x20-\x7e]*")

# marshal's string objects (Python/marshal.c), with FLAG_REF (0x80) or without: short ASCII
# (`z`, `Z`: a length byte), ASCII (`a`, `A`), UTF-8 (`u`, `t` interned) and bytes (`s`): four bytes
# of length, little-endian.
_SHORT = lazyre.compile(rb"(?=[zZ\xfa\xda](.))", re.DOTALL)
_LONG = lazyre.compile(rb"(?=([aAutsAUTS\xe1\xc1\xf5\xf4\xf3])(....))", re.DOTALL)
_UTF8_TYPES = frozenset(b"ut\xf5\xf4")


def is_pyc(data: bytes) -> bool:
    """A compiled Python module (3.7 on): a magic number ending in \\r\\n, 12 bytes of flags and
    source stamp, then marshal's code object (`c`, with or without FLAG_REF)."""
    return len(data) > 16 and data[2:4] == b"\r\n" and data[16] in (0x63, 0xE3)


def is_sqlite(data: bytes) -> bool:
    return data.startswith(b"SQLite format 3\0") and len(data) >= 512


def strings(data: bytes) -> list[tuple[int, bytes]]:
    """(offset, bytes) of each string the format of DATA delimits; [] for other content."""
    if is_pyc(data):
        return _pyc_strings(data)
    if is_sqlite(data):
        return _sqlite_strings(data)
    return []


def _pyc_strings(data: bytes) -> list[tuple[int, bytes]]:
    """Every place a string object could start, read as one: the marshal stream is not walked (a
    code object's layout differs between Python versions), so a byte that merely looks like a type
    byte gives a little junk text too, which no rule matches."""
    found: list[tuple[int, bytes]] = []
    budget = STRINGS_BUDGET * len(data)  # bytes read as candidates: a length byte can claim the rest
    for m in _SHORT.finditer(data, 16):
        size, start = m[1][0], m.start() + 2
        value = data[start:start + size]
        if size >= _SHORTEST and len(value) == size and _PRINTABLE.fullmatch(value):
            found.append((start, value))
    for m in _LONG.finditer(data, 16):
        (size,) = struct.unpack("<I", m[2])
        start = m.start() + 5
        if not _SHORTEST <= size <= len(data) - start:
            continue
        budget -= size
        if budget < 0:
            break
        value = data[start:start + size]
        if m[1][0] in _UTF8_TYPES:
            try:
                value.decode("utf-8")
            except UnicodeDecodeError:
                continue
        elif not _PRINTABLE.fullmatch(value):
            continue
        found.append((start, value))
    return found


def _varint(data: bytes, at: int, end: int) -> tuple[int, int]:
    """SQLite's variable-length integer at AT: (value, offset after it); (-1, end) past END."""
    value = 0
    for i in range(9):
        if at + i >= end:
            return -1, end
        byte = data[at + i]
        if i == 8:
            return (value << 8) | byte, at + 9
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, at + i + 1
    return -1, end  # not reached


def _sqlite_strings(data: bytes) -> list[tuple[int, bytes]]:
    """The text cells (and blobs that read as text) of every b-tree page's records, a record that
    spills onto overflow pages followed along its chain."""
    size = int.from_bytes(data[16:18], "big")
    size = 65536 if size == 1 else size
    if size < 512 or size & (size - 1):
        return []
    usable = size - data[20]
    if usable < 480:
        return []
    found: list[tuple[int, bytes]] = []
    budget = STRINGS_BUDGET * len(data)  # payload bytes assembled: pages may point at one cell a thousand times
    for page in range(0, len(data) - size + 1, size):
        head = page + (100 if page == 0 else 0)
        kind = data[head]
        if kind not in (0x0D, 0x0A, 0x02):  # leaf table, leaf index, interior index: cells with payloads
            continue
        cells = int.from_bytes(data[head + 3:head + 5], "big")
        pointers = head + (12 if kind == 0x02 else 8)
        end = page + usable
        for i in range(min(cells, (end - pointers) // 2)):
            cell = page + int.from_bytes(data[pointers + 2 * i:pointers + 2 * i + 2], "big")
            if not page <= cell < end:
                continue
            at = cell + (4 if kind == 0x02 else 0)
            payload, at = _varint(data, at, end)
            if kind == 0x0D:
                _rowid, at = _varint(data, at, end)
            if payload <= 0:
                continue
            body, parts = _payload(data, at, min(payload, budget), kind == 0x0D, usable, size)
            budget -= len(body)
            for offset, value in _record(body):
                i = bisect.bisect_right([p for p, _ in parts], offset) - 1
                found.append((parts[i][1] + offset - parts[i][0], value))
            if budget <= 0:
                return found
    return found


def _payload(data: bytes, at: int, size: int, table: bool, usable: int, page_size: int
             ) -> tuple[bytes, list[tuple[int, int]]]:
    """A cell's payload of SIZE bytes starting at AT: the part on its page and, past what a page
    holds (SQLite's file format, "Cell Payload Overflow Pages"), the chain of overflow pages; with
    (payload offset, file offset) of each part. A chain that loops or leaves the file ends it."""
    most = usable - 35 if table else (usable - 12) * 64 // 255 - 23
    local = size
    if size > most:
        least = (usable - 12) * 32 // 255 - 23
        local = least + (size - least) % (usable - 4)
        local = local if local <= most else least
    chunks = [data[at:at + local]]
    parts = [(0, at)]
    got = local
    following = int.from_bytes(data[at + local:at + local + 4], "big") if size > local else 0
    seen: set[int] = set()
    while following and got < size and following not in seen and following * page_size <= len(data):
        seen.add(following)
        start = (following - 1) * page_size
        take = min(usable - 4, size - got)
        parts.append((got, start + 4))
        chunks.append(data[start + 4:start + 4 + take])
        got += take
        following = int.from_bytes(data[start:start + 4], "big")
    return b"".join(chunks), parts


def _record(body: bytes) -> list[tuple[int, bytes]]:
    """The text values (and blobs that read as text) of the record BODY, at their offsets in it."""
    end = len(body)
    header_size, cursor = _varint(body, 0, end)
    if header_size <= 0:
        return []
    header_end = header_size
    at = header_end
    found: list[tuple[int, bytes]] = []
    while cursor < min(header_end, end) and at < end:
        serial, cursor = _varint(body, cursor, header_end)
        if serial < 0:
            break
        if serial >= 12:
            length = (serial - 12) // 2
            value = body[at:at + length]
            if len(value) >= _SHORTEST and (serial % 2 or _PRINTABLE.fullmatch(value)):
                found.append((at, value))
            at += length
        else:
            at += (0, 1, 2, 3, 4, 6, 8, 8, 0, 0, 0, 0)[serial]
    return found
