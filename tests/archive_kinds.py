"""Archives built at test time, one builder per kind the scanner reads (scanner.archives), and the
hostile ones: a 42.zip-like nested bomb, a self-nesting archive, gigabytes of zeros in a gzip."""
from __future__ import annotations

import bz2
import gzip
import io
import lzma
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator

Members = dict[str, bytes]
_MB = 1 << 20

ZIP_LIKE = ("zip", "jar", "war", "aar", "apk", "aab", "ipa", "whl", "nupkg")
TARS = {"tar": "w", "tar.gz": "w:gz", "tgz": "w:gz", "tar.bz2": "w:bz2", "tar.xz": "w:xz"}
STREAMS: dict[str, Callable[[bytes], bytes]] = {"gz": gzip.compress, "bz2": bz2.compress, "xz": lzma.compress}
OFFICE = {"docx": "word/document.xml", "xlsx": "xl/sharedStrings.xml", "pptx": "ppt/slides/slide1.xml"}
KINDS = (*ZIP_LIKE, *TARS, *STREAMS, *OFFICE)


def zip_of(members: Members, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, body in members.items():
            archive.writestr(name, body)
    return out.getvalue()


def tar_of(members: Members, mode: str = "w") -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode=mode) as archive:  # type: ignore[call-overload]
        for name, body in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(body)
            archive.addfile(info, io.BytesIO(body))
    return out.getvalue()


def office_of(kind: str, text: str) -> bytes:
    """A minimal Office file of KIND whose one text part holds TEXT, split over two runs of a
    paragraph the way an editor splits what was typed in two goes."""
    half = len(text) // 2
    first, second = text[:half], text[half:]
    part = {
        "docx": f'<w:document xmlns:w="x"><w:body><w:p><w:r><w:t>{first}</w:t></w:r><w:r><w:t>{second}</w:t>'
                "</w:r></w:p></w:body></w:document>",
        "xlsx": f'<sst xmlns="x"><si><t>Title</t></si><si><r><t>{first}</t></r><r><t>{second}</t></r></si></sst>',
        "pptx": f'<p:sld xmlns:p="x" xmlns:a="y"><a:p><a:r><a:t>{first}</a:t></a:r><a:r><a:t>{second}</a:t></a:r>'
                "</a:p></p:sld>",
    }[kind]
    return zip_of({"[Content_Types].xml": b"<Types/>", OFFICE[kind]: part.encode()})


def archive_of(kind: str, members: Members) -> bytes:
    """An archive of KIND (a file suffix) holding MEMBERS; a compressed stream holds the one member,
    an Office file the text of its one member."""
    if kind in ZIP_LIKE:
        return zip_of(members)
    if kind in TARS:
        return tar_of(members, TARS[kind])
    (body,) = members.values()
    if kind in STREAMS:
        return STREAMS[kind](body)
    return office_of(kind, body.decode())


# --- hostile ---------------------------------------------------------------------------------------

def nested_bomb(levels: int = 4, fan: int = 16, leaf: int = 1 << 30) -> bytes:
    """42.zip's shape: FAN zips in each of LEVELS levels, deflated at every level, each leaf a zip
    of LEAF zero bytes (1 GB: 16**4 of them unpack to 64 TB)."""
    body = _zip_of_zeros(leaf)
    for _ in range(levels):
        body = zip_of({f"{i}.zip": body for i in range(fan)})
    return body


def _zip_of_zeros(size: int) -> bytes:
    """A zip holding one file of SIZE zero bytes (a multiple of a megabyte, under 4 GB), written
    byte by byte from the repeated deflate blocks: never SIZE bytes in memory, nor the time to
    deflate them."""
    data = b"".join(_deflated_zeros(size // _MB))
    name = b"zeros.bin"
    crc, date = _crc32_of_zeros(size // _MB), 0x21  # 1980-01-01
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, date, crc, len(data), size, len(name), 0) + name
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, date, crc, len(data), size, len(name),
                          0, 0, 0, 0, 0, 0) + name
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), len(local) + len(data), 0)
    return local + data + central + end


def _deflated_zeros(megabytes: int) -> Iterator[bytes]:
    """Raw deflate of MEGABYTES megabytes of zeros: after a full flush each megabyte deflates to
    the same bytes, so they are made once and repeated."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    zeros = bytes(_MB)
    yield deflate.compress(zeros) + deflate.flush(zlib.Z_FULL_FLUSH)
    repeated = deflate.compress(zeros) + deflate.flush(zlib.Z_FULL_FLUSH)
    for _ in range(megabytes - 1):
        yield repeated
    yield deflate.flush(zlib.Z_FINISH)


def self_nesting(depth: int, core: bytes) -> bytes:
    """An archive holding an archive holding … DEPTH times, CORE at the bottom: what a zip quine
    unfolds into when it is read as if each level were new."""
    body = core
    for _ in range(depth):
        body = zip_of({"r.zip": body, "readme.txt": b"this archive holds itself\n"})
    return body



def gzip_of_zeros(size: int = 10 << 30) -> Iterator[bytes]:
    """A valid gzip of SIZE zero bytes (a multiple of a megabyte), in pieces: 10 GB take a fraction
    of a second to build and ~10 MB to hold."""
    yield b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"  # gzip header: deflate, no name, no time
    yield from _deflated_zeros(size // _MB)
    yield struct.pack("<II", _crc32_of_zeros(size // _MB), size & 0xFFFFFFFF)


def _crc32_of_zeros(megabytes: int) -> int:
    """zlib.crc32 of MEGABYTES megabytes of zeros without reading them: one megabyte's CRC update is
    an affine map of the 32-bit register, raised to the power by squaring (zlib's crc32_combine)."""
    zeros = bytes(_MB)
    offset = zlib.crc32(zeros, 0)
    columns = [zlib.crc32(zeros, 1 << i) ^ offset for i in range(32)]

    def apply(matrix: list[int], vector: int) -> int:
        out, i = 0, 0
        while vector:
            if vector & 1:
                out ^= matrix[i]
            vector >>= 1
            i += 1
        return out

    power, shift = [1 << i for i in range(32)], 0  # the identity
    matrix, constant = columns, offset
    n = megabytes
    while n:
        if n & 1:
            power, shift = [apply(matrix, c) for c in power], apply(matrix, shift) ^ constant
        matrix, constant = [apply(matrix, c) for c in matrix], apply(matrix, constant) ^ constant
        n >>= 1
    return shift
