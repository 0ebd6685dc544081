"""The members of archives and compressed files, read in memory with the standard library's readers.

An archive is recognised by its magic bytes, never by its name (a `.apk` renamed `.bin` is still a
zip): zip (and everything built on it: .jar, .war, .aar, .apk, .aab, .ipa, .whl, .nupkg, .docx,
.xlsx, .pptx), tar, gzip, bzip2 and xz; a compressed tar is read as one archive (`a.tar.gz!f`).
Nothing is ever written to disk, so a member named `../../etc/passwd` or `/etc/passwd` only needs
naming safely (`safe_name`).

Every read is bounded (Limits), and each bound that stops a read is counted and named (Tally),
never raised: a 42.zip-style nested bomb stops at the nesting depth, a member whose size is out of
all proportion to its compressed bytes (a zip bomb, gigabytes of zeros in a gzip) at the ratio,
the sum of what one archive unpacks to at the total. The content step (scanner.detect) scans each
member as it scans a file, at the member's own path.
"""
from __future__ import annotations

import functools
import io
import zlib
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Literal, NamedTuple

from scanner import lazyre

if TYPE_CHECKING:
    import bz2
    import lzma
    import re

# The readers (zipfile, tarfile, bz2, lzma) are imported when an archive is met: a commit hook
# that meets none never pays for them.

Kind = Literal["zip", "tar", "gzip", "bzip2", "xz"]
# Why a member (or the rest of an archive) was not read, as stats.archives.skipped counts it.
# "oversized": an archive past what is read whole (the blob: scanner.chunked.READ_WHOLE; a member:
# WHOLE), which opening it needs: it is scanned as the binary it is.
Reason = Literal["depth", "bytes", "members", "ratio", "encrypted", "unsafe-name", "corrupt", "large", "oversized"]
REASONS: tuple[Reason, ...] = ("depth", "bytes", "members", "ratio", "encrypted", "unsafe-name", "corrupt", "large",
                               "oversized")

DEFAULT_DEPTH = 3
DEFAULT_MEMBERS = 10_000
DEFAULT_RATIO = 100
# Members that unpack to less than this are never judged by their ratio: a small file of repeated
# lines compresses a hundredfold and is no bomb.
RATIO_GRACE = 1 << 20
# A member up to this size is read whole; a larger one (up to the file size limit) a piece at a
# time, as a large file is (scanner.chunked). A nested archive must be whole to be opened.
WHOLE = 16 << 20
PIECE = 1 << 20
# Compressed input is fed this much at a time, so a stream's ratio is judged on what it has
# actually consumed (64 KB of deflated zeros stops at 6.4 MB out, not after a gigabyte).
_INPUT = 64 << 10
# How many members a Tally names per reason (its counts say how many in all).
NAMED = 3

_DIGITS = b"123456789"
_HEAD = 265  # what kind() needs to tell an archive: a tar's magic ends at byte 265
_TAR_MAGIC = (b"ustar\x0000", b"ustar  \x00")


class Limits(NamedTuple):
    """How far archives are read: each bound is configurable (scanner.config). (NamedTuples here,
    not dataclasses: this module is imported by every scan, commit hooks too, and a dataclass
    costs half a millisecond to define.)"""

    depth: int = DEFAULT_DEPTH  # archives inside archives: a.zip!b.jar!c.zip is depth 3
    max_bytes: int = 10 << 30  # what one archive (with all it nests) may unpack to in all
    max_members: int = DEFAULT_MEMBERS  # members of one archive, nested ones included
    max_ratio: int = DEFAULT_RATIO  # unpacked bytes per compressed byte of one member
    max_member: int = 1 << 30  # a member past this (the file size limit) is skipped, as a file is


DEFAULT_LIMITS = Limits()


class Tally(NamedTuple):
    """What reading the archives of one blob met: counts, and the first members each bound stopped."""

    archives: int = 0
    members: int = 0
    skipped: tuple[tuple[Reason, int], ...] = ()
    named: tuple[tuple[Reason, str], ...] = ()  # (reason, member path below the blob, "!"-joined)


class Member(NamedTuple):
    """One member to scan: its path (segments, outermost first) and its bytes, whole or in pieces
    (PIECES, past WHOLE: to be read through once, before the next member is asked for)."""

    path: tuple[str, ...]
    data: bytes | None
    pieces: Iterator[bytes] | None = None


class _Stop(Exception):
    """A bound stopped the read of a stream."""

    def __init__(self, reason: Reason) -> None:
        super().__init__(reason)
        self.reason = reason


@functools.cache
def _broken() -> tuple[type[BaseException], ...]:
    """What a broken or hostile archive may raise from the standard library's readers: each ends
    the read of that archive (or member), counted as "corrupt", and the scan goes on."""
    import lzma
    import struct
    import tarfile
    import zipfile

    return (zipfile.BadZipFile, zipfile.LargeZipFile, tarfile.TarError, zlib.error, lzma.LZMAError, EOFError, OSError,
            ValueError, NotImplementedError, RuntimeError, struct.error, IndexError, KeyError, OverflowError,
            UnicodeError)


def kind(data: bytes) -> Kind | None:
    """The archive or compression format DATA is in, by its magic bytes; None for anything else."""
    head = data[:6]
    if head[:4] == b"PK\x03\x04":
        return "zip"
    if head[:2] == b"\x1f\x8b":
        return "gzip"
    if head == b"\xfd7zXZ\x00":
        return "xz"
    if head[:3] == b"BZh" and head[3:4] in _DIGITS and data[4:10] in (b"1AY&SY", b"\x17rE8P\x90"):
        return "bzip2"
    if data[257:265] in _TAR_MAGIC:
        return "tar"
    return None


def zip_entries(data: bytes) -> int | None:
    """How many entries a zip's central directory says it holds (its end record's count, the
    ZIP64 one's when that says so), or None when the end record is not found."""
    import struct

    end = data.rfind(b"PK\x05\x06", max(0, len(data) - (1 << 16) - 22))
    if end < 0 or len(data) < end + 22:
        return None
    (count,) = struct.unpack_from("<H", data, end + 10)
    if count != 0xFFFF:
        return int(count)
    locator = end - 20
    if locator < 0 or data[locator:locator + 4] != b"PK\x06\x07":
        return None
    (record,) = struct.unpack_from("<Q", data, locator + 8)
    if record + 40 > len(data) or data[record:record + 4] != b"PK\x06\x06":
        return None
    (count64,) = struct.unpack_from("<Q", data, record + 32)
    return int(count64)


def safe_name(name: str) -> tuple[str, bool]:
    """A member's name as a path segment that is only ever a name: "/"-separated, no leading "/"
    or drive, no "." or ".." step, no "!" (the nesting separator). And whether it had to change
    for any of those reasons but the separator (an absolute name, or one climbing out with "..")."""
    raw = name.replace("\\", "/")
    parts = raw.split("/")
    drive = len(parts[0]) == 2 and parts[0][1] == ":" and parts[0][0].isascii() and parts[0][0].isalpha()
    unsafe = raw.startswith("/") or drive or ".." in parts
    if drive:
        parts = parts[1:]
    kept = ["%2E%2E" if p == ".." else p.replace("!", "%21") for p in parts if p not in ("", ".")]
    return "/".join(kept) or "%2E", unsafe


class Expansion:
    """The members of one blob's archive, nested ones opened up to the depth, within the limits."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._archives = 0
        self._members = 0
        self._bytes = 0
        self._skipped: dict[Reason, int] = {}
        self._named: list[tuple[Reason, str]] = []

    def tally(self) -> Tally:
        return Tally(self._archives, self._members, tuple(self._skipped.items()), tuple(self._named))

    def skip(self, reason: Reason, path: tuple[str, ...], count: int = 1) -> None:
        self._skipped[reason] = self._skipped.get(reason, 0) + count
        if sum(1 for r, _ in self._named if r == reason) < NAMED:
            self._named.append((reason, "!".join(path)))

    def members(self, data: bytes, what: Kind, path: tuple[str, ...] = (), depth: int = 1) -> Iterator[Member]:
        """The members of DATA (an archive of kind WHAT at PATH), nested archives opened. An archive
        that holds itself (a zip quine) unfolds to the depth and no further."""
        self._archives += 1
        try:
            if what == "zip":
                yield from self._nest(self._zip(data, path, depth), depth)
            elif what == "tar":
                yield from self._nest(self._tar(io.BytesIO(data), path, depth), depth)
            else:
                yield from self._nest(self._stream(data, what, path, depth), depth)
        except _Stop as stop:
            self.skip(stop.reason, path)
        except _broken():
            self.skip("corrupt", path)

    def _nest(self, found: Iterator[Member], depth: int) -> Iterator[Member]:
        for member in found:
            inner = kind(member.data) if member.data is not None else None
            if inner is None:
                yield member
            elif depth >= self.limits.depth:
                self.skip("depth", member.path)  # not read on (a 42.zip's thousands of leaves)
            else:
                yield from self.members(member.data or b"", inner, member.path, depth + 1)

    def _guarded(self, pieces: Iterator[bytes], path: tuple[str, ...]) -> Iterator[bytes]:
        """PIECES of a large member, read by the scan of it (outside `members`): a limit or a broken
        stream met on the way ends the member there, counted, never the scan."""
        try:
            yield from pieces
        except _Stop as stop:
            self.skip(stop.reason, path)
        except _broken():
            self.skip("corrupt", path)

    def _admit(self, path: tuple[str, ...], size: int | None) -> bool:
        """Whether one more member, of SIZE bytes unpacked when known, is within the limits."""
        if self._members >= self.limits.max_members:
            self.skip("members", path)
            return False
        if size is not None and size > self.limits.max_member:
            self.skip("large", path)
            return False
        if size is not None and self._bytes + size > self.limits.max_bytes:
            self.skip("bytes", path)
            return False
        self._members += 1
        return True

    def _too_deep(self, head: bytes, path: tuple[str, ...], depth: int) -> bool:
        """Whether the member opening with HEAD is an archive nested past the depth: counted, and
        not read on (a 42.zip's thousands of leaves cost nothing)."""
        if depth >= self.limits.depth and kind(head) is not None:
            self.skip("depth", path)
            self._members -= 1  # admitted, but not read after all
            return True
        return False

    def _name(self, path: tuple[str, ...], name: str) -> tuple[str, ...]:
        safe, unsafe = safe_name(name)
        if unsafe:
            self.skip("unsafe-name", (*path, safe))  # named, and read all the same: nothing is written
        return (*path, safe)

    def _zip(self, data: bytes, path: tuple[str, ...], depth: int) -> Iterator[Member]:
        import zipfile

        entries = zip_entries(data)
        if entries is not None and entries > self.limits.max_members - self._members:
            # zipfile reads the whole central directory up front (half a kilobyte and 30 µs an
            # entry): a 64 MB zip of 800,000 empty entries would cost 400 MB before the first is read.
            self.skip("members", path, entries)
            return
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            office = any(i.filename == "[Content_Types].xml" for i in infos)
            for info in infos:
                if info.is_dir():
                    continue
                at = self._name(path, info.filename)
                if info.flag_bits & 0x1:
                    self.skip("encrypted", at)
                    continue
                if (info.file_size > RATIO_GRACE
                        and info.file_size > self.limits.max_ratio * max(info.compress_size, 1)):
                    self.skip("ratio", at)
                    continue
                if not self._admit(at, info.file_size):
                    if self._members >= self.limits.max_members:
                        self.skip("members", at, len(infos) - infos.index(info) - 1)
                        return
                    continue
                try:
                    handle = archive.open(info)
                    head = handle.read(_HEAD)
                    if self._too_deep(head, at, depth):
                        handle.close()
                        continue
                    if info.file_size > WHOLE:
                        if kind(head) is not None:
                            self.skip("oversized", at)  # an archive is opened only when held whole
                        yield Member(at, None, self._guarded(_chain(head, self._pieces(handle, info.file_size),
                                                                    info.file_size), at))
                        continue
                    with handle:
                        body = head + handle.read(info.file_size + 1 - len(head))
                except _broken():
                    self.skip("corrupt", at)
                    continue
                self._bytes += len(body)
                if office and _OFFICE_TEXT.match(at[-1]):
                    body = office_text(body)
                yield Member(at, body)

    def _pieces(self, handle: IO[bytes], size: int) -> Iterator[bytes]:
        with handle:
            read = 0
            while read <= size:
                piece = handle.read(PIECE)
                if not piece:
                    return
                read += len(piece)
                self._bytes += len(piece)
                yield piece

    def _tar(self, stream: io.IOBase, path: tuple[str, ...], depth: int) -> Iterator[Member]:
        import tarfile

        # Streaming mode ("r|"): one pass, members in order, no seeking back (a compressed tar is
        # read as it is decompressed, never whole).
        others = 0  # folders, links and devices: no content, but tarfile keeps every header it read
        with tarfile.open(fileobj=_Ending(stream), mode="r|") as archive:
            for info in archive:
                if not info.isfile():
                    others += 1
                    if others + self._members > self.limits.max_members:
                        self.skip("members", path)
                        return
                    continue
                at = self._name(path, info.name)
                if not self._admit(at, info.size):
                    if self._members >= self.limits.max_members:
                        return
                    continue
                handle = archive.extractfile(info)
                if handle is None:
                    continue
                head = handle.read(_HEAD)
                if self._too_deep(head, at, depth):
                    continue
                if info.size > WHOLE:
                    if kind(head) is not None:
                        self.skip("oversized", at)  # an archive is opened only when held whole
                    yield Member(at, None, self._guarded(_chain(head, self._pieces(handle, info.size), info.size), at))
                    continue
                body = head + handle.read(info.size - len(head))
                self._bytes += len(body)
                yield Member(at, body)

    def _stream(self, data: bytes, what: Kind, path: tuple[str, ...], depth: int) -> Iterator[Member]:
        """A compressed stream: a tar inside is read as the archive itself (`a.tar.gz!member`);
        anything else is one member, named as the gzip header names it, else "" (the file's own
        name minus its suffix, which only the path step knows: models.member_path)."""
        source = _Inflating(data, what, self)
        head = source.peek(512)
        if kind(head) == "tar":
            yield from self._tar(source, path, depth)
            return
        at = (*path, _gzip_name(data) if what == "gzip" else "")
        if not self._admit(at, None):
            return
        pieces = source.pieces()
        first = b""
        try:
            for piece in pieces:
                first += piece
                if len(first) > self.limits.max_member:
                    self.skip("large", at)  # known only once unpacked that far: skipped as a large file is
                    return
                if len(first) > WHOLE:
                    yield Member(at, None, self._guarded(self._capped(first, pieces, at), at))
                    return
        except _Stop as stop:
            self.skip(stop.reason, at)
        except _broken():
            self.skip("corrupt", at)  # truncated: what it held up to there is scanned all the same
        yield Member(at, first)


    def _capped(self, first: bytes, rest: Iterator[bytes], path: tuple[str, ...]) -> Iterator[bytes]:
        """A stream's pieces up to the member size limit; past it the rest is left, counted."""
        yield first
        read = len(first)
        for piece in rest:
            read += len(piece)
            if read > self.limits.max_member:
                self.skip("large", path)
                return
            yield piece


def _chain(first: bytes, rest: Iterator[bytes], limit: int) -> Iterator[bytes]:
    yield first
    read = len(first)
    for piece in rest:
        read += len(piece)
        if read > limit:
            return
        yield piece


class _Ending(io.RawIOBase):
    """A tar's stream that ends: tarfile moves past a member by reading as many blocks as its
    header claims, and goes on reading where there is nothing left, so a 1 KB tar whose member
    says 1 PB would cost a read per block of the petabyte. Past the end, a few more reads (what a
    tar without its end blocks takes) answer empty; the next one raises (counted as corrupt)."""

    _EMPTY_READS = 8

    def __init__(self, stream: io.IOBase) -> None:
        super().__init__()
        self._stream = stream
        self._empty = 0

    def readable(self) -> bool:
        return True

    def readinto(self, target: "bytearray | memoryview") -> int:  # type: ignore[override]
        data: bytes = self._stream.read(len(target))
        if not data and len(target):
            self._empty += 1
            if self._empty > self._EMPTY_READS:
                raise EOFError("the tar ends inside a member its header says is larger")
        target[:len(data)] = data
        return len(data)


class _Inflating(io.RawIOBase):
    """A compressed stream, decompressed as it is read, within the expansion's limits: the total
    bytes and the ratio of what comes out to what went in (a gzip of 10 GB of zeros stops at the
    ratio after its first megabytes). Concatenated streams (gzip members) are read one after another."""

    def __init__(self, data: bytes, what: Kind, expansion: Expansion) -> None:
        super().__init__()
        self._data = data
        self._what = what
        self._expansion = expansion
        self._in = 0  # compressed bytes consumed
        self._out = 0
        self._buffer = b""
        self._decompressor = self._new()

    def _new(self) -> "zlib._Decompress | bz2.BZ2Decompressor | lzma.LZMADecompressor":
        if self._what == "gzip":
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        if self._what == "bzip2":
            import bz2

            return bz2.BZ2Decompressor()
        import lzma

        return lzma.LZMADecompressor(lzma.FORMAT_XZ)

    def readable(self) -> bool:
        return True

    def _more(self) -> bytes:
        """The next piece of output, b"" at the end."""
        limits = self._expansion.limits
        while True:
            d = self._decompressor
            if d.eof:
                rest = d.unused_data + self._data[self._in:]
                if not rest.strip(b"\0"):
                    return b""  # the end, or tar-style zero padding after it
                self._data, self._in = rest, 0
                self._decompressor = self._new()  # another gzip member (or bzip2/xz stream) follows
                continue
            tail = getattr(d, "unconsumed_tail", b"")
            if tail:
                chunk = tail  # zlib hands back what it has not read yet; the others keep it
            elif getattr(d, "needs_input", True):
                chunk = self._data[self._in:self._in + _INPUT]
                self._in += len(chunk)
            else:
                chunk = b""
            out = d.decompress(chunk, PIECE)
            if not out:
                if not chunk and not tail and getattr(d, "needs_input", True) and not d.eof:
                    raise EOFError("the compressed stream ends before its end")  # what came out is scanned
                continue
            self._out += len(out)
            self._expansion._bytes += len(out)
            if self._expansion._bytes > limits.max_bytes:
                raise _Stop("bytes")
            if self._out > RATIO_GRACE and self._out > limits.max_ratio * max(self._in, 1):
                raise _Stop("ratio")
            return out

    def peek(self, size: int) -> bytes:
        while len(self._buffer) < size:
            more = self._more()
            if not more:
                break
            self._buffer += more
        return self._buffer[:size]

    def readinto(self, target: "bytearray | memoryview") -> int:  # type: ignore[override]
        if not self._buffer:
            self._buffer = self._more()
        size = min(len(target), len(self._buffer))
        target[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return size

    def pieces(self) -> Iterator[bytes]:
        if self._buffer:
            head, self._buffer = self._buffer, b""
            yield head
        while piece := self._more():
            yield piece


def _gzip_name(data: bytes) -> str:
    """The original file name a gzip header holds (FNAME, as `gzip file` writes it), or ""."""
    if len(data) < 10 or not data[3] & 0x08:
        return ""
    at = 10
    if data[3] & 0x04:  # FEXTRA comes first
        if len(data) < 12:
            return ""
        at = 12 + int.from_bytes(data[10:12], "little")
    end = data.find(b"\0", at, at + 1024)
    if end < 0:
        return ""
    name = data[at:end].decode("latin-1").replace("\\", "/").rsplit("/", 1)[-1]
    return safe_name(name)[0] if name else ""


# The parts of an Office file that hold its text: Word's document, headers, footers, comments and
# notes, Excel's shared strings and sheets, PowerPoint's slides and notes.
_OFFICE_TEXT = lazyre.compile(r"(?:word|xl|ppt)/(?!.*\.rels$).*\.xml$")
# Where a paragraph, cell or line ends: a line break in the text, so a line holds what a reader sees.
_OFFICE_BREAK = lazyre.compile(rb"</(?:w:p|a:p|si|c|row)>|<(?:w:br|w:cr|a:br)\b[^>]*>")
_OFFICE_TAG = lazyre.compile(rb"<[^>]*>")
# Runs of text in one paragraph are one word split by the editor (spell checking, an edit in the
# middle): joined, `AIza` in one run and the rest in the next is one key again.
_ENTITY = lazyre.compile(rb"&(?:#(\d+)|#x([0-9A-Fa-f]+)|(amp|lt|gt|quot|apos));")
_NAMED_ENTITIES = {b"amp": b"&", b"lt": b"<", b"gt": b">", b"quot": b'"', b"apos": b"'"}


def office_text(xml: bytes) -> bytes:
    """The text of an Office XML part (a document, a sheet's strings, a slide): paragraphs and cells
    a line each, tags dropped, entities resolved. What a key typed into the document looks like."""
    text = _OFFICE_TAG.sub(b"", _OFFICE_BREAK.sub(b"\n", xml))
    return _ENTITY.sub(_entity, text)


def _entity(m: re.Match[bytes]) -> bytes:
    if m[3]:
        return _NAMED_ENTITIES[m[3]]
    code = int(m[1]) if m[1] else int(m[2], 16)
    try:
        return chr(code).encode("utf-8")
    except (ValueError, OverflowError):
        return b""
