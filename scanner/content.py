"""Turning bytes into text: which encoding, or whether it is binary at all."""
from __future__ import annotations

import codecs
import re

# Exactly what git-lfs writes for a file it stores (https://github.com/git-lfs/git-lfs/blob/main/docs/spec.md):
# every byte is accounted for, so nothing else (a key) can hide in a file taken for a pointer.
_LFS_POINTER = re.compile(rb"version https://git-lfs\.github\.com/spec/v1\r?\n"
                          rb"oid sha256:[0-9a-f]{64}\r?\n"
                          rb"size [0-9]{1,20}(?:\r?\n)?")
_SNIFF = 8192
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
# Formats that are binary even when their first 8 KB hold no NUL byte (compressed payloads).
_MAGIC = (
    b"\x7fELF", b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"\xfe\xed\xfa", b"dex\n",
    b"PK\x03\x04", b"\x1f\x8b", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"7z\xbc\xaf", b"\xfd7zXZ", b"BZh",
    b"\x00asm", b"bplist", b"SQLite format 3", b"\x28\xb5\x2f\xfd", b"Rar!",
)
# C0 control bytes that text never holds (tab, newlines, form feed, escape and ^Z are left out).
_CONTROL = bytes([*range(0, 9), 11, *range(14, 26), *range(28, 32), 127])


def is_lfs_pointer(data: bytes) -> bool:
    # A checkout with autocrlf may hold the pointer with CRLF line ends; that adds no room for text.
    return len(data) < 1024 and _LFS_POINTER.fullmatch(data) is not None


def utf16_codec(data: bytes) -> str | None:
    """The UTF-16 codec for text stored as UTF-16 (BOM, or ASCII-range text with NUL high bytes)."""
    if data[:2] in _UTF16_BOMS:
        return "utf-16"
    head = data[: _SNIFF - _SNIFF % 2]
    if b"\0" not in head:
        return None
    pairs = len(head) // 2
    if pairs < 2:
        return None
    even_nuls, odd_nuls = head[0::2].count(0), head[1::2].count(0)
    if odd_nuls > 0.6 * pairs and even_nuls < 0.02 * pairs:
        return "utf-16-le"
    if even_nuls > 0.6 * pairs and odd_nuls < 0.02 * pairs:
        return "utf-16-be"
    return None


def is_binary(data: bytes) -> bool:
    """Git's test (a NUL byte early on) plus known binary formats and control-byte noise, so that
    compressed or encrypted payloads are never decoded into garbage text."""
    head = data[:_SNIFF]
    if b"\0" in head:
        return utf16_codec(data) is None
    if head.startswith(_MAGIC):
        return True
    controls = len(head) - len(head.translate(None, _CONTROL))
    return controls > 0.05 * len(head)


def decode(data: bytes) -> str:
    """Text for a non-binary payload: UTF-16 by sniffing, else UTF-8, else Latin-1 (never fails)."""
    codec = utf16_codec(data)
    if codec:
        return data.decode(codec, "replace")
    try:
        return data.decode("utf-8-sig" if data[:3] == codecs.BOM_UTF8 else "utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")
