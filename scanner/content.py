"""Turning bytes into text: which encoding, or whether it is binary at all."""
from __future__ import annotations

import codecs

_LFS_POINTER = b"version https://git-lfs.github.com/spec/v1"
_SNIFF = 8192


def is_lfs_pointer(data: bytes) -> bool:
    return len(data) < 1024 and data.startswith(_LFS_POINTER)


def utf16_codec(data: bytes) -> str | None:
    """The UTF-16 codec for text stored as UTF-16 (BOM, or ASCII-range text with NUL high bytes)."""
    if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return "utf-16"
    head = data[: _SNIFF - _SNIFF % 2]
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
    return b"\0" in data[:_SNIFF] and utf16_codec(data) is None


def decode(data: bytes) -> str:
    """Text for a non-binary payload: UTF-16 by sniffing, else UTF-8, else Latin-1 (never fails)."""
    codec = utf16_codec(data) if (b"\0" in data[:_SNIFF] or data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) else None
    if codec:
        return data.decode(codec, "replace")
    try:
        return data.decode("utf-8-sig" if data[:3] == codecs.BOM_UTF8 else "utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")
