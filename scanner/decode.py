"""Encoded values: a key base64-, hex-, percent- or escape-encoded, scanned as what it decodes to.

Decoding everything that could be base64 would cost every file of a repository's test cassettes,
so decoding is gated in the prefilter's single pass (scanner.prefilter): a run is decoded only
where it holds the encoding of a *marker*, a literal that a secret of a fixed-format rule (or a
service-account key file) must contain once decoded. The markers come from the rule registry
(`markers`), their encodings are computed (`needles`):

- base64 and base64url: a marker of n bytes at each of the three byte alignments of a 3-byte
  group encodes to a fixed run of characters, those whose 6 bits all come from the marker
  (`AIza` -> `QUl6Y`, `FJem`, `BSXph`); a long marker gives two such needles (head and tail).
  Each needle also has a *wrapped* form: its characters with one line break (and the next
  line's indentation) between two of them, as PEM, `base64` output, a YAML block scalar or a
  MIME body wraps a run, so that the break of a wrapped block cannot hide a marker;
- hex: the marker's hex digits (either case);
- percent, `\\u`/`\\x` escapes, HTML character references: the marker's first characters escaped
  (`%41%49%7a`), or an escaped quote (`&quot;`, `%22`, `\\u0022`) in content that holds a marker
  as it is (a service-account JSON escaped into HTML or a URL).

What a gated run decodes to is scanned by the same detector, with the same rules and filters,
recursively to a bounded depth; a match found there carries the chain of decodings (outermost
first) and the line and column where its encoded form starts in the file.
"""
from __future__ import annotations

import base64
import binascii
import bisect
import dataclasses
import functools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from scanner import lazyre  # compiled at first use: most scans never meet a file that needs them

if TYPE_CHECKING:
    from scanner.rules.base import Rule

Encoding = Literal["base64", "base64url", "hex", "percent", "escape", "html"]
ENCODINGS: tuple[Encoding, ...] = ("base64", "base64url", "hex", "percent", "escape", "html")

# How deep encodings are followed by default (a base64 key file in a Kubernetes Secret's base64 is two).
DEPTH = 2
# Around a gate hit, how much of a run is decoded (encoded characters before and after it): a
# service-account JSON is some 2.4 KB, 3.2 KB in base64, its `private_key` marker near the start.
_BEFORE = 8 << 10
_AFTER = 16 << 10
# A needle is at most this many characters: the longer it is, the likelier a line break of a
# wrapped block falls inside it.
_NEEDLE_MAX = 8
# A line of a wrapped block (PEM, `base64` output, a YAML block scalar) is at least this long.
_WRAP_MIN = 16
# A decoded run shorter than this holds no secret: the shortest fixed format (`ya29.` + 20) is 25.
_SHORTEST = 20
# Escapes of these characters are what "escaped text" looks like in content that holds a marker as
# it is: the quotes of an escaped JSON document.
_QUOTE = ord('"')


@dataclass(frozen=True)
class Needle:
    """A literal the prefilter looks for: its presence gates decoding of KIND."""

    text: bytes
    kind: Encoding
    caseless: bool
    # base64 / hex: the needle's offset, in encoded characters, from where the marker's encoding
    # starts a group (so a hit at p puts a group boundary at p - offset). Escapes: 0.
    offset: int = 0
    # An escaped quote: it gates only content that also holds a marker as it is.
    partial: bool = False
    # base64: TEXT split in two by one line break and the next line's indentation, anywhere
    # between two of its characters; never TEXT on one line (the plain needle is that).
    wrapped: bool = False


# What separates two lines of a wrapped base64 block: a line break (CRLF too) and the next line's
# indentation, at most _INDENT_MAX spaces or tabs (a YAML block scalar, a Kubernetes Secret's
# `data: |`, an indented PEM).
_INDENT = b" \t"
_INDENT_MAX = 64


def splits(text: bytes) -> list[tuple[bytes, bytes]]:
    """Every way one line break can split TEXT: (the characters before it, those after)."""
    return [(text[:i], text[i:]) for i in range(1, len(text))]


def wrapped_literals(text: bytes) -> list[tuple[bytes, int]]:
    """What the gate looks for to find TEXT split by a line break: for each split (after I
    characters), the longer of its two parts as a plain literal (the part before with the line
    break, LF or CRLF; or the part after), with I. A literal is cheap where a regex of the break
    and indentation between the parts cost Hyperscan's compile 80 ms; wrapped_start confirms the
    rest."""
    found: list[tuple[bytes, int]] = []
    for i, (before, after) in enumerate(splits(text), 1):
        if len(before) >= len(after):
            found += [(before + b"\n", i), (before + b"\r\n", i)]
        else:
            found.append((after, i))
    return found


def _content_start(data: bytes, at: int) -> int:
    """Where the line starting at AT has its content, past its indentation; -1 past _INDENT_MAX."""
    window = data[at:at + _INDENT_MAX + 1]
    indent = len(window) - len(window.lstrip(_INDENT))
    return at + indent if indent <= _INDENT_MAX else -1


def wrapped_start(data: bytes, text: bytes, i: int, literal: bytes, end: int) -> int:
    """Where TEXT starts in DATA, split after its I-th character by a line break and the next
    line's indentation, given LITERAL (of wrapped_literals(TEXT)) found ending at END; -1 if TEXT is
    not there so split."""
    before, after = text[:i], text[i:]
    if literal.endswith(b"\n"):
        content = _content_start(data, end)
        return end - len(literal) if content >= 0 and data.startswith(after, content) else -1
    start = end - len(after)
    line = data.rfind(b"\n", max(0, start - _INDENT_MAX - 1), start) + 1
    if line == 0 or _content_start(data, line) != start:
        return -1
    broken = line - (2 if data.startswith(b"\r\n", line - 2) else 1)
    return broken - len(before) if data.startswith(before, broken - len(before)) and broken >= len(before) else -1


def wrapped_places(data: bytes, text: bytes, limit: int) -> list[int]:
    """Where TEXT starts in DATA split by a line break and indentation, the first LIMIT places."""
    found: set[int] = set()
    for literal, i in wrapped_literals(text):
        at = data.find(literal)
        while at >= 0 and len(found) < limit:
            start = wrapped_start(data, text, i, literal, at + len(literal))
            if start >= 0:
                found.add(start)
            at = data.find(literal, at + 1)
    return sorted(found)[:limit]


# --- what the gate looks for ---------------------------------------------------------------------


def _literal_runs(pattern: str, flags: int) -> list[tuple[str, bool]]:
    """The runs of literal characters of a regex (in order), each with whether it is caseless."""
    import re._parser as parser  # type: ignore[import-not-found]
    from re._constants import BRANCH, IN, LITERAL, SUBPATTERN  # type: ignore[import-not-found]

    runs: list[tuple[str, bool]] = []

    def walk(items: Any, caseless: bool) -> None:
        current: list[str] = []

        def close() -> None:
            if current:
                runs.append(("".join(current), caseless))
                current.clear()

        for op, arg in items:
            if op is LITERAL:
                current.append(chr(arg))
                continue
            if op is IN and isinstance(arg, list) and len(arg) == 1 and arg[0][0] is LITERAL:
                current.append(chr(arg[0][1]))  # an escaped character: [.]
                continue
            close()
            if op is SUBPATTERN:
                _group, add, _remove, sub = arg
                walk(sub, caseless or bool(add & re.IGNORECASE))
            elif op is BRANCH:
                for branch in arg[1]:
                    walk(branch, caseless)
        close()

    walk(parser.parse(pattern, flags), bool(flags & re.IGNORECASE))
    return runs


def _cased(keyword: bytes, patterns: Iterable[re.Pattern[str]]) -> list[bytes]:
    """KEYWORD (lower case, as the prefilter holds it) as the patterns write it: `AIza`; both
    cases when a pattern takes it in any case; nothing when no pattern holds it as a literal."""
    word = keyword.decode("ascii")
    for pattern in patterns:
        for run, caseless in _literal_runs(pattern.pattern, pattern.flags):
            at = run.lower().find(word)
            if at >= 0:
                if caseless:
                    return [word.encode(), word.upper().encode()]
                return [run[at:at + len(word)].encode()]
    return []


def markers(rules: Iterable["Rule"]) -> tuple[bytes, ...]:
    """The literals a decoded secret of RULES must hold: each fixed format's keywords as its binary
    patterns write them (`AIza`, `GOCSPX-`, `:APA91b`), and the keywords of a rule that needs a
    whole document (a service-account JSON's `private_key`); none contains another."""
    found: list[bytes] = []
    for rule in rules:
        if rule.binary_patterns:
            text = tuple(re.compile(p.pattern.decode("ascii"), p.flags & ~re.UNICODE & ~re.ASCII)
                         for p in rule.binary_patterns)
            for keyword in rule.keywords:
                found += _cased(keyword, text)
        elif rule.requires is not None:
            for keyword in rule.keywords:
                found += _cased(keyword, rule.patterns)
    unique = sorted(set(found), key=lambda m: (len(m), m))
    return tuple(m for i, m in enumerate(unique) if not any(shorter in m for shorter in unique[:i]))


def _base64_needles(marker: bytes) -> Iterator[Needle]:
    for kind, encode in (("base64", base64.b64encode), ("base64url", base64.urlsafe_b64encode)):
        for align in range(3):
            encoded = encode(b"\0" * align + marker)
            first = -(-8 * align // 6)  # the first character all of whose bits are the marker's
            last = 8 * (align + len(marker)) // 6  # one past the last
            spans = [(first, min(last, first + _NEEDLE_MAX))]
            if last - first >= 2 * _NEEDLE_MAX:  # a long marker: its tail too, clear of the head
                spans.append((last - _NEEDLE_MAX, last))
            for start, end in spans:
                if kind == "base64url" and b"+" not in encoded[start:end] and b"/" not in encoded[start:end]:
                    continue  # the same characters in both alphabets: the base64 needle gates both
                yield Needle(encoded[start:end], kind, False, start)  # type: ignore[arg-type]


# How each escaping writes one character (lower case: the needles are caseless).
_ESCAPE_FORMS: tuple[tuple[Encoding, bytes], ...] = (
    ("percent", b"%%%02x"), ("escape", b"\\x%02x"), ("escape", b"\\u%04x"), ("html", b"&#%d;"), ("html", b"&#x%x;"),
)


@functools.lru_cache(maxsize=16)
def needles(rules: tuple["Rule", ...]) -> tuple[Needle, ...]:
    """Every literal the prefilter looks for to gate decoding for RULES: the encodings of each
    marker, and, for a value encoded twice (a base64 key file in a Kubernetes Secret's base64
    `data:`), the base64 encodings of its base64 needles."""
    found: dict[tuple[bytes, Encoding, bool], Needle] = {}
    for marker in markers(rules):
        for needle in _base64_needles(marker):
            found.setdefault((needle.text, needle.kind, False), needle)
        digits = marker[:_NEEDLE_MAX // 2].hex().encode()
        found.setdefault((digits, "hex", False), Needle(digits, "hex", True))
        for kind, form in _ESCAPE_FORMS:  # its first three characters escaped
            text = b"".join(form % c for c in marker[:3])
            found.setdefault((text, kind, False), Needle(text, kind, True))
    first_order = [n for n in found.values() if n.kind in ("base64", "base64url")]
    # Twice encoded: base64 of base64 only (each other pair would add as many needles, and the
    # prefilter's compile time grows with them, for encodings nobody stacks).
    for first in first_order:
        for needle in _base64_needles(first.text):
            found.setdefault((needle.text, needle.kind, False), needle)
    # A marker's base64 wrapped over two lines (a key's value in a YAML block scalar, a key file
    # in PEM-like lines). Not for base64 of base64: its inner run is one line as a rule.
    for needle in first_order:
        found.setdefault((needle.text, needle.kind, True), dataclasses.replace(needle, wrapped=True))
    # Base64 of UTF-16LE text, on one line: PowerShell's `-EncodedCommand` (wrapped forms would
    # double the pass's compile time for a rare shape).
    for marker in markers(rules):
        for needle in _base64_needles(marker.decode("ascii").encode("utf-16-le")):
            found.setdefault((needle.text, needle.kind, False), needle)
    for kind, text in (*((kind, form % _QUOTE) for kind, form in _ESCAPE_FORMS), ("html", b"&quot;")):
        found.setdefault((text, kind, False), Needle(text, kind, True, partial=True))
    return tuple(found.values())


# The characters of a base64, base64url or hex run, and how long a run (on one line) must be for a
# needle in it to count: 24 characters decode to 18 bytes, less than any secret's encoding; past
# 64 KB on one line it is an image, a font or an archive inlined as a data URL (a notebook's plot
# outputs), not a value someone wrote. The Python engine looks for needles only inside such runs
# (one pass instead of a test per needle over all of the content).
RUN_CHARS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-"
RUN_MIN = 24
RUN_MAX = 64 << 10
# Every byte as "a" (a run character) or " " (any other): a run of RUN_MIN is then one fast `find`.
_RUN_TABLE = bytes(97 if c in RUN_CHARS else 32 for c in range(256))
_RUN_FOUND = b"a" * RUN_MIN


def long_runs(data: bytes) -> list[bytes]:
    """The runs of RUN_CHARS from RUN_MIN to RUN_MAX long, as `re.findall(b"[A-Za-z0-9+/_-]{24,}")`
    filtered by length gives them, at a tenth of its cost (a regex tries every identifier of source
    code at each of its characters)."""
    return [data[start:end] for start, end in long_run_spans(data)]


def long_run_spans(data: bytes) -> list[tuple[int, int]]:
    """Where long_runs' runs are: (start, end) offsets."""
    marked = data.translate(_RUN_TABLE)
    found: list[tuple[int, int]] = []
    at = marked.find(_RUN_FOUND)
    while at >= 0:
        end = marked.find(b" ", at + RUN_MIN)
        end = len(data) if end < 0 else end
        if end - at <= RUN_MAX:
            found.append((at, end))
        at = marked.find(_RUN_FOUND, end)
    return found


def joints(data: bytes, spans: Iterable[tuple[int, int]]) -> bytes:
    """Where a long run (SPANS, from long_run_spans) ends its line: the run's last characters,
    `\\n`, and the next line's first characters after its indentation, for each such run (joined by
    NULs). A wrapped needle found in them is one in DATA, split where the decoder reads it (its
    first part in a long run), so the Python engine finds every wrapped needle the decoder keeps."""
    found: list[bytes] = []
    for start, end in spans:
        after = end + 1 if data.startswith(b"\n", end) else end + 2 if data.startswith(b"\r\n", end) else -1
        if after < 0:
            continue
        content = _content_start(data, after)
        head = data[content:content + _NEEDLE_MAX - 1] if content >= 0 else b""
        if head:
            found.append(data[max(start, end - _NEEDLE_MAX + 1):end] + b"\n" + head)
    return b"\0".join(found)


class _Runs:
    """Which run of RUN_CHARS an offset is in, for offsets that do not decrease: each run's bounds
    are found once, however many needles it holds."""

    def __init__(self, data: bytes) -> None:
        self._marked = data.translate(_RUN_TABLE)
        self._start = self._end = -1

    def counts(self, at: int) -> bool:
        """Is AT inside a run long_runs gives (from RUN_MIN to RUN_MAX long)?"""
        if not self._start <= at < self._end:
            self._start = self._marked.rfind(b" ", 0, at) + 1
            end = self._marked.find(b" ", at)
            self._end = len(self._marked) if end < 0 else end
        return RUN_MIN <= self._end - self._start <= RUN_MAX


# Where each marker occurs as it is, in any case: {marker in lower case: its start offsets,
# ascending}, every marker of the rules a key. The Hyperscan prefilter reports them in its one pass
# (scanner.prefilter.Hits.markers); without it the gate looks for them in the lower-cased content.
MarkerPlaces = dict[bytes, list[int]]


def lower_markers(rule_markers: Iterable[bytes]) -> tuple[bytes, ...]:
    """RULE_MARKERS in lower case, each once, in their order: what the gate looks for as it is."""
    return tuple(dict.fromkeys(m.lower() for m in rule_markers))


def gate(hit: Iterable[Needle], data: bytes, rule_markers: tuple[bytes, ...],
         places: MarkerPlaces | None = None) -> tuple[Encoding, ...]:
    """The encodings the needles HIT in DATA gate: a partial needle (an escaped quote) only in
    content that also holds one of RULE_MARKERS as it is (PLACES: where they are, when known)."""
    kinds: set[Encoding] = set()
    partial: set[Encoding] = set()
    for needle in hit:
        (partial if needle.partial else kinds).add(needle.kind)
    if partial - kinds:
        if places is not None:
            marked = any(places.values())
        else:
            lowered = data.lower()
            marked = any(m.lower() in lowered for m in rule_markers)
        if marked:
            kinds |= partial
    return tuple(k for k in ENCODINGS if k in kinds)


# --- where the gated runs are, and what they decode to -------------------------------------------


@dataclass(frozen=True)
class Decoded:
    """What one encoded run decodes to, and where each of its bytes came from."""

    kind: Encoding
    data: bytes
    # Ascending decoded offsets, each starting a stretch that maps to the content from SOURCE on:
    # decoded byte d of a stretch is at source + (d - start) // per * chars; per 0: all at source
    # (the bytes one escape stands for).
    starts: tuple[int, ...]
    sources: tuple[int, ...]
    steps: tuple[tuple[int, int], ...]  # (chars, per)
    end: int  # where the encoded run ends in the content

    def source(self, offset: int) -> int:
        """The offset in the content where the encoded form of decoded byte OFFSET starts."""
        i = max(0, bisect.bisect_right(self.starts, offset) - 1)
        chars, per = self.steps[i]
        return self.sources[i] + ((offset - self.starts[i]) // per * chars if per else 0)


_HEX_DIGITS = b"0123456789abcdefABCDEF"
_RUN_KINDS: tuple[Encoding, ...] = ("base64", "base64url", "hex")


def _line_bounds(data: bytes, at: int) -> tuple[int, int, int]:
    """(start, start of its content after any indentation, end before any \\r) of the line AT is on."""
    start = data.rfind(b"\n", 0, at) + 1
    end = data.find(b"\n", at)
    end = len(data) if end < 0 else end
    if end > start and data[end - 1] == 13:
        end -= 1
    indented = len(data) - len(data[start:end].lstrip(_INDENT)) - (len(data) - end)
    return start, indented, end


def _whole_line(data: bytes, start: int, end: int, alphabet: bytes) -> bool:
    return end > start and not data[start:end].rstrip(b"=").translate(None, alphabet)


def _base64_segments(data: bytes, at: int, alphabet: bytes) -> list[tuple[int, int]]:
    """The stretches of the base64 run holding offset AT, in order: its line's run, and the lines
    of a wrapped block around it (all of one width, a multiple of 4, but the last, which may be
    shorter), at most _BEFORE characters before AT and _AFTER after it."""
    back = data[max(0, at - _BEFORE):at]
    start = at - (len(back) - len(back.rstrip(alphabet)))
    ahead = data[at:at + _AFTER]
    end = at + len(ahead) - len(ahead.lstrip(alphabet))
    while end < len(data) and data[end] == 61 and end - at < _AFTER:  # '=' padding
        end += 1
    segments = [(start, end)]
    _line_start, content, line_end = _line_bounds(data, at)
    width = None  # the width of the block's full lines, once one is seen
    own = end - start
    # Earlier lines: only when this run fills its line from the indentation.
    if start == content and data[start:end].find(b"=") < 0:
        before, cursor = at - start, _line_start
        while cursor > 0 and before < _BEFORE:
            _s, prev_content, prev_end = _line_bounds(data, cursor - 1)
            size = prev_end - prev_content
            if size < _WRAP_MIN or size % 4 or not _whole_line(data, prev_content, prev_end, alphabet) \
                    or b"=" in data[prev_content:prev_end]:
                break
            if width is None:
                if size < own:
                    break
                width = size
            elif size != width:
                break
            segments.insert(0, (prev_content, prev_end))
            before += size
            cursor = _s
    # Later lines: only when this run fills its line to the end, a full line of the block.
    if end == line_end and own >= _WRAP_MIN and own % 4 == 0 and (width is None or own == width) \
            and data[start:end].find(b"=") < 0:
        width, after, cursor = own, end - at, line_end
        while after < _AFTER:
            nl = data.find(b"\n", cursor)
            if nl < 0:
                break
            _s, next_content, next_end = _line_bounds(data, nl + 1)
            size = next_end - next_content
            if size == 0 or size > width or not _whole_line(data, next_content, next_end, alphabet):
                break
            segments.append((next_content, next_end))
            after += size
            if size != width or data[next_end - 1] == 61:
                break  # the block's last line
            cursor = next_end
    return segments


def _decode_base64(data: bytes, at: int, offset: int) -> Decoded | None:
    """The run around a needle found at AT (OFFSET characters past a group boundary), decoded from
    the group boundaries the needle puts it at: base64url when the run holds `-` or `_`."""
    segments = _base64_segments(data, at, RUN_CHARS)
    starts: list[int] = []
    stripped = bytearray()
    for s, e in segments:
        starts.append(len(stripped))
        stripped += data[s:e]
    here = next(starts[i] + at - s for i, (s, e) in enumerate(segments) if s <= at <= e)
    first = (here - offset) % 4
    body = bytes(stripped[first:]).rstrip(b"=")
    body = body[:len(body) - (1 if len(body) % 4 == 1 else 0)]
    kind: Encoding = "base64url" if b"-" in body or b"_" in body else "base64"
    if kind == "base64url":
        body = body.translate(bytes.maketrans(b"-_", b"+/"))
    try:
        decoded = binascii.a2b_base64(body + b"=" * (-len(body) % 4))
    except binascii.Error:
        return None
    if len(decoded) < _SHORTEST:
        return None
    # A decoded byte d starts in the encoded group at character first + 4 * (d // 3); groups are
    # mapped a line at a time.
    dec: list[int] = []
    src: list[int] = []
    for i, (s, e) in enumerate(segments):
        group = first + -(-(max(starts[i], first) - first) // 4) * 4  # the line's first group boundary
        if group < starts[i] + e - s:
            dec.append((group - first) // 4 * 3)
            src.append(s + group - starts[i])
    return Decoded(kind, decoded, tuple(dec), tuple(src), ((4, 3),) * len(dec), segments[-1][1])


def _decode_hex(data: bytes, at: int) -> Decoded | None:
    back = data[max(0, at - _BEFORE):at]
    start = at - (len(back) - len(back.rstrip(_HEX_DIGITS)))
    ahead = data[at:at + _AFTER]
    end = at + len(ahead) - len(ahead.lstrip(_HEX_DIGITS))
    start += (at - start) % 2
    end -= (end - start) % 2
    decoded = bytes.fromhex(data[start:end].decode("ascii"))
    if len(decoded) < _SHORTEST:
        return None
    return Decoded("hex", decoded, (0,), (start,), ((2, 1),), end)


_PERCENT = lazyre.compile(rb"%([0-9A-Fa-f]{2})")
_BACKSLASH = lazyre.compile(rb"\\u([0-9A-Fa-f]{4})|\\x([0-9A-Fa-f]{2})")
_ENTITY = lazyre.compile(rb"&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


def _percent(m: re.Match[bytes]) -> bytes:
    return bytes([int(m[1], 16)])


def _backslash(m: re.Match[bytes]) -> bytes:
    return chr(int(m[1] or m[2], 16)).encode("utf-8", "surrogatepass")


def _entity(m: re.Match[bytes]) -> bytes:
    import html  # its entity table costs a commit hook 2 ms at start; few files hold an entity

    return html.unescape(m[0].decode("ascii")).encode("utf-8", "surrogatepass")


_ESCAPES: dict[Encoding, tuple[re.Pattern[bytes], Callable[[re.Match[bytes]], bytes]]] = {
    "percent": (_PERCENT, _percent),
    "escape": (_BACKSLASH, _backslash),
    "html": (_ENTITY, _entity),
}


def _window(data: bytes, at: int) -> tuple[int, int]:
    """Whole lines around AT, some _BEFORE bytes before it and _AFTER after."""
    start = data.rfind(b"\n", 0, max(0, at - _BEFORE)) + 1 if at > _BEFORE else 0
    end = data.find(b"\n", min(len(data), at + _AFTER))
    return start, len(data) if end < 0 else end


def _decode_escapes(data: bytes, start: int, end: int, kind: Encoding) -> Decoded | None:
    """DATA[START:END] with every escape of KIND replaced by what it stands for; None when none
    changes anything or too little is left to hold a secret."""
    pattern, replace = _ESCAPES[kind]
    window = data[start:end]
    plus = kind == "percent" and b"%20" not in window  # form encoding: a space is `+`
    out = bytearray()
    starts: list[int] = []
    sources: list[int] = []
    steps: list[tuple[int, int]] = []
    done = 0
    changed = False

    def literal(upto: int) -> None:
        nonlocal out
        if upto > done:
            part = window[done:upto]
            starts.append(len(out))
            sources.append(start + done)
            steps.append((1, 1))
            out += part.replace(b"+", b" ") if plus else part

    for m in pattern.finditer(window):
        literal(m.start())
        value = replace(m)
        changed = changed or value != m[0]
        starts.append(len(out))
        sources.append(start + m.start())
        steps.append((0, 0))
        out += value
        done = m.end()
    literal(len(window))
    if not changed or len(out) < _SHORTEST:
        return None
    return Decoded(kind, bytes(out), tuple(starts), tuple(sources), tuple(steps), end)


# Bounds on what one piece of content costs, whatever it holds: the needle hits looked at, and the
# runs decoded, per encoding (a run of a million needles is one hostile file, not a million runs).
_HITS_MAX = 1 << 16
_RUNS_MAX = 256


def _find_all(haystack: bytes, needle: bytes, limit: int) -> list[int]:
    """Where NEEDLE occurs, the first LIMIT places (the hits of one piece of content are bounded
    together: past _HITS_MAX it is a hostile file, whose first stretch is decoded)."""
    found: list[int] = []
    at = haystack.find(needle)
    while at >= 0 and len(found) < limit:
        found.append(at)
        at = haystack.find(needle, at + 1)
    return found


class Budget:
    """How many more bytes the decodings of one piece of content may produce, at every depth
    together: twice the content and a little, so that nested encodings cost at most a few scans of
    the content however they are built."""

    def __init__(self, size: int) -> None:
        self.left = 2 * size + (64 << 10)


def runs(data: bytes, kinds: Iterable[Encoding], hit: Iterable[Needle],
         rule_markers: tuple[bytes, ...], budget: Budget, places: MarkerPlaces | None = None) -> Iterator[Decoded]:
    """What the gated runs of DATA decode to, for each of KINDS the gate let through, around the
    needles the prefilter found (HIT): each stretch of content decoded once per group phase (a
    needle inside a stretch already decoded so adds nothing), so the work is linear in the content
    however many needles it holds."""
    table = tuple(hit)
    lowered: bytes | None = None
    for kind in kinds:
        hits: list[tuple[int, int]] = []
        for needle in table:
            if needle.kind != kind or needle.partial:
                continue
            if needle.wrapped:  # where its first part starts: the group boundary as unwrapped
                hits += ((at, needle.offset) for at in wrapped_places(data, needle.text, _HITS_MAX - len(hits)))
            elif needle.caseless:
                lowered = data.lower() if lowered is None else lowered
                hits += ((at, needle.offset) for at in _find_all(lowered, needle.text.lower(), _HITS_MAX - len(hits)))
            else:
                hits += ((at, needle.offset) for at in _find_all(data, needle.text, _HITS_MAX - len(hits)))
        if kind in _ESCAPES:  # an escaped quote with a marker as it is: around each marker
            for marker in lower_markers(rule_markers):
                if places is not None:
                    hits += ((at, 0) for at in places.get(marker, [])[:max(0, _HITS_MAX - len(hits))])
                    continue
                lowered = data.lower() if lowered is None else lowered
                hits += ((at, 0) for at in _find_all(lowered, marker, _HITS_MAX - len(hits)))
        covered: dict[int, int] = {}  # phase -> where the last run decoded at that phase ends
        decoded_runs = 0
        bounds = _Runs(data) if kind in _RUN_KINDS else None
        for at, offset in sorted(hits)[:_HITS_MAX]:
            if budget.left <= 0:
                return
            if bounds is not None and not bounds.counts(at):
                continue
            phase = 0 if kind in _ESCAPES else (at - offset) % 4 if kind != "hex" else at % 2
            if at < covered.get(phase, -1):
                continue
            if kind in _ESCAPES:
                decoded = _decode_escapes(data, *_window(data, at), kind)
            elif kind == "hex":
                decoded = _decode_hex(data, at)
            else:
                decoded = _decode_base64(data, at, offset)
            if decoded is None:
                continue
            covered[phase] = decoded.end
            budget.left -= len(decoded.data)
            yield decoded
            decoded_runs += 1
            if decoded_runs >= _RUNS_MAX:
                break


class Offsets:
    """Byte offsets of the (line, column) places the detector reports in DATA: columns count bytes
    in binary content and in text read as Latin-1, characters in UTF-8, UTF-16 and UTF-32 text."""

    def __init__(self, data: bytes, binary: bool) -> None:
        from scanner import content

        self._data = data
        # Text stored two or four bytes a character (base64 of UTF-16LE: PowerShell's -EncodedCommand).
        self._wide = None if binary else content.wide_codec(data)
        if self._wide is not None:
            self._text = content.decode(data, self._wide)
            self._lines = [0] + [i + 1 for i, c in enumerate(self._text) if c == "\n"]
            return
        self._starts = [0]
        at = data.find(b"\n")
        while at >= 0:
            self._starts.append(at + 1)
            at = data.find(b"\n", at + 1)
        self._utf8 = False
        if not binary:
            try:
                data.decode("utf-8")
                self._utf8 = True
            except UnicodeDecodeError:
                pass

    def offset(self, line: int, column: int) -> int:
        if self._wide is not None:
            return self._wide_offset(line, column)
        start = self._starts[min(max(line, 1), len(self._starts)) - 1]
        if not self._utf8:
            return start + column - 1
        if start == 0 and self._data.startswith(b"\xef\xbb\xbf"):
            start = 3  # decoded as utf-8-sig: the BOM is no character
        end = self._starts[line] if line < len(self._starts) else len(self._data)
        chars = self._data[start:end].decode("utf-8")[:column - 1]
        return start + len(chars.encode("utf-8"))


    def _wide_offset(self, line: int, column: int) -> int:
        assert self._wide is not None
        char = self._lines[min(max(line, 1), len(self._lines)) - 1] + column - 1
        unit = self._wide
        bom = 0
        if unit in ("utf-16", "utf-32"):  # a BOM says which byte order
            bom = 2 if unit == "utf-16" else 4
            little = self._data[:2] == b"\xff\xfe"
            unit = f"{unit}-{'le' if little else 'be'}"
        return bom + len(self._text[:char].encode(unit, "surrogatepass"))


def position(data: bytes, text: str, at: int) -> tuple[int, int, int]:
    """(line, column, offset in TEXT) of byte offset AT of DATA, which TEXT is decoded from."""
    line = data.count(b"\n", 0, at) + 1
    if len(text) == len(data):
        char = at
    else:
        char = len(data[:at].decode("utf-8", "replace")) - (1 if data.startswith(b"\xef\xbb\xbf") else 0)
    return line, char - (text.rfind("\n", 0, char) + 1) + 1, char
