"""Turning bytes into text: which encoding, or whether it is binary at all."""
from __future__ import annotations

import codecs
import re

# Exactly what git-lfs writes for a file it stores (https://github.com/git-lfs/git-lfs/blob/main/docs/spec.md):
# every byte is accounted for, so nothing else (a key) can hide in a file taken for a pointer.
_LFS_POINTER = re.compile(rb"version https://git-lfs\.github\.com/spec/v1\r?\n"
                          rb"oid sha256:[0-9a-f]{64}\r?\n"
                          rb"size [0-9]{1,20}(?:\r?\n)?")
SNIFF_BYTES = 8192  # how far into a file sniff() looks for NUL and control bytes
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_UTF32_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)  # tested first: UTF-32-LE's opens like UTF-16-LE's
# Formats that are binary even when their first 8 KB hold no NUL byte (compressed payloads).
_MAGIC = (
    b"\x7fELF", b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"\xfe\xed\xfa", b"dex\n",
    b"PK\x03\x04", b"\x1f\x8b", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"7z\xbc\xaf", b"\xfd7zXZ", b"BZh",
    b"\x00asm", b"bplist", b"SQLite format 3", b"\x28\xb5\x2f\xfd", b"Rar!",
)
# C0 control bytes that text never holds (tab, newlines, form feed, escape and ^Z are left out).
CONTROL_BYTES = bytes([*range(0, 9), 11, *range(14, 26), *range(28, 32), 127])
# A stretch of UTF-16-LE text in a file that is not UTF-16 throughout (PowerShell's `>>` appends
# UTF-16 to a file begun in ASCII): Latin-1 characters, each followed by a NUL byte. Big-endian
# stretches match too, one byte further on.
_UTF16_STRETCH = re.compile(rb"(?:[\t\n\r\x20-\x7e\xa0-\xff]\x00){8,}")

# What sniff() says, besides a wide codec's name.
BINARY = "binary"
NARROW = "narrow"  # one byte a character for ASCII (UTF-8, Latin-1): rule keywords match the raw bytes
MIXED = "mixed"  # narrow text holding NUL bytes or stretches of UTF-16


def is_lfs_pointer(data: bytes) -> bool:
    # A checkout with autocrlf may hold the pointer with CRLF line ends; that adds no room for text.
    return len(data) < 1024 and _LFS_POINTER.fullmatch(data) is not None


def opens_plain(data: bytes) -> bool:
    """No byte-order mark and no binary format's magic at the start. Content that also holds no NUL
    byte, and no control byte in its first SNIFF_BYTES, is NARROW: a prefilter that finds those
    bytes in its own pass over the content proves so without sniff() reading it again."""
    return data[:2] not in _UTF16_BOMS and data[:4] not in _UTF32_BOMS and not data.startswith(_MAGIC)


def wide_codec(data: bytes) -> str | None:
    """The codec of text stored as UTF-32 or UTF-16 throughout (a BOM, or ASCII-range text whose
    high bytes are NUL), or None."""
    if data[:4] in _UTF32_BOMS:
        return "utf-32"
    if data[:2] in _UTF16_BOMS:
        return "utf-16"
    head = data[:SNIFF_BYTES]
    if b"\0" not in head:
        return None
    return _utf32_by_sniffing(head) or _utf16_by_sniffing(head)


def _utf32_by_sniffing(head: bytes) -> str | None:
    quads = len(head) // 4
    if quads < 2:
        return None
    nuls = [head[i::4].count(0) for i in range(4)]
    # The two top bytes of a BMP character are NUL; the lowest never is. An array of small
    # integers has the same shape, so the lowest bytes must also read as text.
    for codec, low, top in (("utf-32-le", 0, (2, 3)), ("utf-32-be", 3, (0, 1))):
        if nuls[low] == 0 and min(nuls[t] for t in top) > 0.9 * quads and _controls(head[low::4]) <= 0.01 * quads:
            return codec
    return None


def _utf16_by_sniffing(head: bytes) -> str | None:
    if head.find(b"\0") > 2:
        return None  # it opens in narrow text: UTF-16 after a header (MIXED), not throughout
    head = head[: len(head) - len(head) % 2]
    pairs = len(head) // 2
    if pairs < 2:
        return None
    even_nuls, odd_nuls = head[0::2].count(0), head[1::2].count(0)
    if odd_nuls > 0.6 * pairs and even_nuls < 0.02 * pairs:
        return "utf-16-le"
    if even_nuls > 0.6 * pairs and odd_nuls < 0.02 * pairs:
        return "utf-16-be"
    return None


def _controls(data: bytes) -> int:
    return len(data) - len(data.translate(None, CONTROL_BYTES))


def sniff(data: bytes) -> str:
    """BINARY, NARROW, MIXED, or the codec of text stored two or four bytes a character.

    Git's test (a NUL byte early on) plus known binary formats and control-byte noise, so that
    compressed or encrypted payloads are never decoded into garbage text; but a NUL byte in a
    file that is otherwise text (a stray one, or UTF-16 after an ASCII header) leaves it text.
    """
    codec = wide_codec(data)
    if codec:
        return codec
    head = data[:SNIFF_BYTES]
    if head.startswith(_MAGIC):
        return BINARY
    if b"\0" in head:
        # At most one control byte per hundred outside the UTF-16 stretches (and one more).
        narrow = _UTF16_STRETCH.sub(b"", head)
        return MIXED if _controls(narrow) <= len(narrow) // 100 + 1 else BINARY
    if _controls(head) > 0.05 * len(head):
        return BINARY
    return MIXED if data.find(b"\0", SNIFF_BYTES) >= 0 else NARROW


def decode(data: bytes, kind: str | None = None) -> str:
    """Text for a non-binary payload of the KIND sniff() gives; never fails."""
    kind = kind or sniff(data)
    if kind == MIXED:
        return _decode_mixed(data)
    if kind not in (NARROW, BINARY):
        return data.decode(kind, "replace")
    return _decode_narrow(data)


def _decode_narrow(data: bytes) -> str:
    """UTF-8, else Latin-1 (which never fails)."""
    try:
        return data.decode("utf-8-sig" if data[:3] == codecs.BOM_UTF8 else "utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _decode_mixed(data: bytes) -> str:
    """Each UTF-16 stretch as UTF-16, the rest as narrow text; a NUL becomes a space, which ends a
    token as it ends a C string, and keeps every other character's line and column."""
    parts: list[str] = []
    done = 0
    for stretch in _UTF16_STRETCH.finditer(data):
        before = data[done:stretch.start()]
        # A BOM opening the UTF-16 part is not text.
        parts.append(_decode_narrow(before[:-2] if before.endswith(codecs.BOM_UTF16_LE) else before))
        parts.append(stretch.group().decode("utf-16-le"))
        done = stretch.end()
    parts.append(_decode_narrow(data[done:]))
    return "".join(parts).replace("\0", " ")
