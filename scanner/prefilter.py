"""Which rules a piece of content may match, and where: the one pass over every byte.

The rules' keywords (and the anchors of rules that have them) are looked for in a single pass,
compiled once from the rule registry; the detector then runs a rule's regexes only on content
where its keywords occur, and only around them. Two engines give the same answers:

- Hyperscan, one multi-pattern database scanned at gigabytes a second, case-insensitive without a
  lower-cased copy; it also says where each keyword and anchor is.
- Plain Python, `in` tests on a lower-cased copy, for platforms without a Hyperscan wheel. It says
  only which rules' keywords occur; the detector then searches those rules' whole text.

Hyperscan is used when it can be imported. KEYSENTRY_ENGINE=python or =hyperscan forces one.
"""
from __future__ import annotations

import os
import re
import weakref
from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

from scanner import content, decode
from scanner.errors import UsageError
from scanner.rules import Rule

ENGINE_VARIABLE = "KEYSENTRY_ENGINE"
PYTHON = "python"
HYPERSCAN = "hyperscan"
ENGINES = (HYPERSCAN, PYTHON)


class Hits(NamedTuple):
    """What the pass found in one piece of content (a NamedTuple: a dataclass here cost a
    millisecond of a commit hook's start)."""

    active: tuple[int, ...]  # indexes (into the rules) of the rules whose keywords occur, ascending
    # When the engine locates them (None otherwise), in byte offsets of the content scanned, ascending:
    # where each active rule's keywords start, and the spans of its anchors, as `finditer` on the
    # lower-cased content would give them.
    starts: dict[int, list[int]] | None = None
    anchors: dict[int, list[tuple[int, int]]] | None = None
    # Indexes (into scanner.decode.needles of the rules) of the decoding gate's needles that occur,
    # ascending: the same in both engines. Narrow text only (`text`, `plain_text`).
    encoded: tuple[int, ...] = ()
    # Where the gate's markers occur as they are, in any case (scanner.decode.MarkerPlaces), when
    # the engine located them (Hyperscan): the gate then need not lower-case and search the content.
    markers: decode.MarkerPlaces | None = None
    # Whether the content holds a Kelvin sign (the one surprise of _LOWER_CASE_SURPRISES long enough
    # to be in Hyperscan's pass, which reports it): None when the engine did not look. The detector
    # would otherwise look for it in the decoded text, which costs a pass over every file of
    # non-Latin text with a hit (its low byte is `*`, which such a search stops at throughout rst).
    kelvin: bool | None = None


class Prefilter(Protocol):
    @property
    def name(self) -> str:
        """The engine's name: "hyperscan" or "python"."""

    def text(self, data: bytes) -> Hits | None:
        """Hits in narrow text (ASCII-compatible bytes, as stored); None when no rule can match."""

    def plain_text(self, data: bytes) -> tuple[bool, Hits | None]:
        """(True, `text(DATA)`) when this pass alone proves DATA narrow text (content.opens_plain,
        no NUL byte, no control byte in its first content.SNIFF_BYTES); else (False, None), and
        the caller sniffs the content."""

    def lowered(self, lowered: bytes) -> Hits | None:
        """The active rules of text already lower-cased and encoded as UTF-8; never located."""

    def binary(self, data: bytes) -> tuple[frozenset[int], frozenset[int]]:
        """The rules whose keywords occur in DATA as bytes, and as UTF-16 (a NUL after or before
        each character)."""

    def warm(self) -> None:
        """Compile what a scan of many files will use, now rather than on the way."""


def wide(keyword: bytes) -> bytes:
    """KEYWORD as UTF-16 stores it, minus the NUL that comes first (big-endian) or last (little)."""
    return b"\0".join(keyword[i:i + 1] for i in range(len(keyword)))


class PythonPrefilter:
    name = PYTHON

    def __init__(self, rules: tuple[Rule, ...]) -> None:
        self._rules = rules
        self._keywords = [(i, rule.keywords) for i, rule in enumerate(rules)]
        # The decoding gate's needles: base64 and hex ones looked for in the runs that could hold
        # them (scanner.decode.long_runs: the decoder skips a needle outside one, whichever engine
        # found it); escapes by the byte they open with, one regex each, which tells where one may
        # start (a test per needle cost 20 ms a MB of source code, where `\\x` and `%` abound).
        needles = decode.needles(rules)
        self._in_runs = [(i, n.text if not n.caseless else n.text.lower(), n.caseless) for i, n in enumerate(needles)
                         if n.kind in ("base64", "base64url", "hex") and not n.wrapped]
        # Wrapped needles: in the joints of runs that end their line (decode.joints), each split form.
        self._wrapped = [(i, [a + b"\n" + b for a, b in decode.splits(n.text)]) for i, n in enumerate(needles)
                         if n.wrapped]
        by_head: dict[bytes, list[tuple[int, bytes]]] = {}
        for i, n in enumerate(needles):
            if n.kind not in ("base64", "base64url", "hex"):
                by_head.setdefault(n.text[:1].lower(), []).append((i, n.text.lower()))
        self._escapes = [(re.compile(re.escape(head) + b"(?=" + b"|".join(re.escape(t[1:]) for _, t in group) + b")"),
                          group) for head, group in by_head.items()]

    def __reduce__(self) -> tuple[Callable[..., Prefilter], tuple[Any, ...]]:
        return build, (self._rules, self.name)

    def text(self, data: bytes) -> Hits | None:
        lowered = data.lower()
        hits = self.lowered(lowered)
        encoded = self.encoded(data, lowered)
        if not encoded:
            return hits
        return Hits(hits.active if hits else (), encoded=encoded)

    def encoded(self, data: bytes, lowered: bytes) -> tuple[int, ...]:
        """The decoding gate's needles in DATA (LOWERED: in lower case)."""
        found: set[int] = set()
        spans = decode.long_run_spans(data)
        runs = b"\n".join(data[start:end] for start, end in spans)
        if runs:
            folded = runs.lower()
            found.update(i for i, text, caseless in self._in_runs if text in (folded if caseless else runs))
            joints = decode.joints(data, spans)
            if joints:
                found.update(i for i, forms in self._wrapped if any(form in joints for form in forms))
        for opening, group in self._escapes:
            for m in opening.finditer(lowered):
                found.update(i for i, text in group if lowered.startswith(text, m.start()))
        return tuple(sorted(found))

    def plain_text(self, data: bytes) -> tuple[bool, Hits | None]:
        return False, None  # sniffing costs less than anything this engine could do instead

    def warm(self) -> None:
        pass

    def lowered(self, lowered: bytes) -> Hits | None:
        active = tuple(i for i, keywords in self._keywords if any(k in lowered for k in keywords))
        return Hits(active) if active else None

    def binary(self, data: bytes) -> tuple[frozenset[int], frozenset[int]]:
        lowered = data.lower()
        narrow, utf16 = set(), set()
        for i, rule in enumerate(self._rules):
            if rule.binary_patterns:
                if any(k in lowered for k in rule.keywords):
                    narrow.add(i)
                if any(wide(k) in lowered for k in rule.keywords):
                    utf16.add(i)
        return frozenset(narrow), frozenset(utf16)


# What a Hyperscan pattern id stands for: (rule index, kind, length of a literal). _NUL and
# _CONTROL (a control byte within content.SNIFF_BYTES) belong to no rule: they tell plain text.
_KEYWORD, _ANCHOR, _WIDE, _NUL, _CONTROL, _ENCODED = 0, 1, 2, 3, 4, 5
# A literal of a wrapped needle (scanner.decode.wrapped_literals): a hit of its needle once confirmed.
_WRAPPED = 7
# One of the gate's markers as it is, in any case (scanner.decode.gate): every place it starts, for
# the escaped quotes' gate and the runs around them. Looking for them after the pass lower-cased
# and searched the whole content of every file holding an escaped quote (HTML's, a URL's): a fifth
# of the content step on pytest's history, whose changelogs hold both.
_MARKER = 8
# A character whose lower case is ASCII or two characters (_LOWER_CASE_SURPRISES) anywhere in the
# content: reported by the pass itself. Looking for them after it (`in`, twice) read every file
# that names a keyword without its anchor twice more: a third of the content step's time on the
# 2,800 files of pytest's history that hold a keyword at all.
_SURPRISE = 6


def _literal(data: bytes) -> bytes:
    """DATA as a Hyperscan regex that matches exactly it: every byte escaped, none special."""
    return b"".join(b"\\x%02x" % byte for byte in data)


# Past this many hits a byte (plus a few), locating every keyword costs more than the Python
# engine's search of the whole text (a 4 MB run of `AIza` is a million hits): the pass stops and
# the content is handed to the Python engine, which finds the same secrets.
_BYTES_PER_HIT = 1024
_FEW_HITS = 256


# UTF-8 of the characters whose lower case is ASCII or two characters (scanner.detect's
# _LOWER_CASE_SURPRISES): the Kelvin sign and the dotted capital I.
_LOWER_CASE_SURPRISES = ("\u212a".encode(), "\u0130".encode())
# A literal shorter than this slows Hyperscan's literal matcher down for the whole database: with
# reCAPTCHA's keyword `6l` and the dotted capital I (two bytes each) in it, a sample of pytest's
# history scanned at 2.2 GB/s, without them at 3.2 GB/s, with the keyword given as below at 2.9.
# So a short keyword (that reports every place) is given as each byte before it and it: the same
# places, but the very start, which _scan looks at itself. A short surprise is not in the database:
# _located looks for it in the content, in the rare case it matters.
_SHORT = 3
_SHORT_SURPRISES = tuple(s for s in _LOWER_CASE_SURPRISES if len(s) < _SHORT)


def short_surprises(data: bytes) -> int:
    """How many of the short surprises DATA holds. Each is looked for only where its first byte
    (a UTF-8 lead byte, rare in source) is there at all: `in` finds one byte with memchr, but a
    two-byte needle a byte at a time, ten times slower: on pytest's history this one question
    took a twentieth of the whole scan's CPU time when asked so."""
    return sum(1 for s in _SHORT_SURPRISES if s[:1] in data and s in data)


class _TooManyHits(Exception):
    pass


def _limited(found: list[tuple[int, int, int]], limit: int) -> Callable[[int, int, int, int, object], bool]:
    def collect(pattern: int, start: int, end: int, flags: int, context: object) -> bool:
        found.append((pattern, start, end))
        return len(found) > limit  # True ends the scan

    return collect


class HyperscanPrefilter:
    name = HYPERSCAN

    def __init__(self, rules: tuple[Rule, ...]) -> None:
        import hyperscan

        self._rules = rules
        self._meaning: list[tuple[int, int, int]] = []
        # The short keywords given as their places after a byte (see _SHORT), lower case, each with
        # the id of one of those patterns: a hit at the very start is reported as that one's.
        self._heads: list[tuple[bytes, int]] = []
        # The literals of the gate's wrapped needles: (needle index, its text, split, literal).
        self._wrapped: list[tuple[int, bytes, int, bytes]] = []
        expressions: list[bytes] = []
        flags: list[int] = []
        extended: list[Any] = []
        # The stubs hyperscan ships leave ExpressionExt (its per-pattern options) out.
        extension = hyperscan.ExpressionExt  # type: ignore[attr-defined]
        everywhere = extension(0, 0, 0, 0, 0, 0)

        def add(expression: bytes, flag: int, meaning: tuple[int, int, int], ext: Any = everywhere) -> None:
            expressions.append(expression)
            flags.append(flag)
            extended.append(ext)
            self._meaning.append(meaning)

        # Reported once at most each: whether the content holds a NUL, and a control byte where
        # sniff() counts them: matching them in this pass costs a third of what sniffing plain text did.
        add(b"\\x00", hyperscan.HS_FLAG_SINGLEMATCH, (-1, _NUL, 0))
        add(b"[" + _literal(content.CONTROL_BYTES.replace(b"\0", b"")) + b"]", hyperscan.HS_FLAG_SINGLEMATCH,
            (-1, _CONTROL, 0), extension(hyperscan.HS_EXT_FLAG_MAX_OFFSET, 0, content.SNIFF_BYTES, 0, 0, 0))

        for i, rule in enumerate(rules):
            # Where a keyword starts matters only to a rule whose patterns open with one; for the
            # others it only says the rule may match: one report is enough ("goog" in every file
            # that imports a Google library would otherwise be a hit each time).
            once = 0 if rule.opens_with_keyword else hyperscan.HS_FLAG_SINGLEMATCH
            for keyword in rule.keywords:
                if len(keyword) < _SHORT and not once:
                    self._heads.append((keyword.lower(), len(expressions)))
                    for byte in range(256):
                        if not 0x41 <= byte <= 0x5a:  # caseless: a-z stand for A-Z
                            add(_literal(bytes([byte]) + keyword), hyperscan.HS_FLAG_CASELESS,
                                (i, _KEYWORD, len(keyword)))
                    continue
                add(_literal(keyword), hyperscan.HS_FLAG_CASELESS | once, (i, _KEYWORD, len(keyword)))
            for anchor in rule.anchors:
                # Run on the lower-cased text by the Python engine: ASCII patterns, so caseless
                # here is the same; SOM_LEFTMOST gives the start a window opens from.
                add(anchor.pattern.encode("ascii"), hyperscan.HS_FLAG_CASELESS | hyperscan.HS_FLAG_SOM_LEFTMOST,
                    (i, _ANCHOR, 0))
            if rule.binary_patterns:
                for keyword in rule.keywords:
                    add(_literal(wide(keyword)), hyperscan.HS_FLAG_CASELESS, (i, _WIDE, 0))
        # The decoding gate (scanner.decode): reported once each, like the Python engine's `in`.
        for n, needle in enumerate(decode.needles(rules)):
            if needle.wrapped:  # each literal may be there without the rest: every hit is confirmed
                for literal, split in decode.wrapped_literals(needle.text):
                    add(_literal(literal), 0, (-1, _WRAPPED, len(self._wrapped)))
                    self._wrapped.append((n, needle.text, split, literal))
                continue
            add(_literal(needle.text), hyperscan.HS_FLAG_SINGLEMATCH | (hyperscan.HS_FLAG_CASELESS if needle.caseless else 0),
                (-1, _ENCODED, n))
        self._markers = decode.lower_markers(decode.markers(rules))
        for m, marker in enumerate(self._markers):
            add(_literal(marker), hyperscan.HS_FLAG_CASELESS, (-1, _MARKER, m))
        for surprise in _LOWER_CASE_SURPRISES:
            if surprise not in _SHORT_SURPRISES:
                add(_literal(surprise), hyperscan.HS_FLAG_SINGLEMATCH, (-1, _SURPRISE, 0))
        self._database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        self._database.compile(expressions=expressions, ids=list(range(len(expressions))), flags=flags,
                               ext=extended)
        self._scratch = hyperscan.Scratch(self._database)
        self._terminated = hyperscan.ScanTerminated  # looked up once: _scan runs once per blob
        self._python = PythonPrefilter(rules)  # for content with too many hits to locate
        _LIVE.add(self)

    def __reduce__(self) -> tuple[Callable[..., Prefilter], tuple[Any, ...]]:
        return build, (self._rules, self.name)

    def warm(self) -> None:
        pass  # compiled already

    def renew_scratch(self) -> None:
        """A scratch of this process's own: a forked child's copy may have been in use at the fork."""
        import hyperscan

        self._scratch = hyperscan.Scratch(self._database)

    def _scan(self, data: bytes) -> list[tuple[int, int, int]]:
        """Every hit in DATA as (pattern, start, end); _TooManyHits past the limit."""
        found: list[tuple[int, int, int]] = []
        limit = _FEW_HITS + len(data) // _BYTES_PER_HIT
        try:
            self._database.scan(data, match_event_handler=_limited(found, limit), scratch=self._scratch)
        except self._terminated:
            raise _TooManyHits from None
        for keyword, pattern in self._heads:  # a short keyword at the very start: no byte before it
            if data[:len(keyword)].lower() == keyword:
                found.insert(0, (pattern, 0, len(keyword)))
        # The limit counts what a database holding every pattern would report: a short surprise once.
        if len(found) > limit or (len(found) + len(_SHORT_SURPRISES) > limit
                                  and len(found) + short_surprises(data) > limit):
            raise _TooManyHits
        return found

    def text(self, data: bytes) -> Hits | None:
        try:
            found = self._scan(data)
        except _TooManyHits:
            return self._python.text(data)
        return self._located(found, data)

    def plain_text(self, data: bytes) -> tuple[bool, Hits | None]:
        if not content.opens_plain(data):
            return False, None
        try:
            found = self._scan(data)
        except _TooManyHits:
            return False, None
        if any(self._meaning[pattern][1] in (_NUL, _CONTROL) for pattern, _, _ in found):
            return False, None
        return True, self._located(found, data)

    def _located(self, found: list[tuple[int, int, int]], data: bytes) -> Hits | None:
        if not found:
            return None
        starts: dict[int, list[int]] = {}
        spans: dict[int, dict[int, list[tuple[int, int]]]] = {}
        encoded: list[int] = []
        marked: decode.MarkerPlaces = {}
        kelvin = False
        for pattern, start, end in found:
            rule, kind, length = self._meaning[pattern]
            if kind == _ENCODED:
                encoded.append(length)
            elif kind == _MARKER:
                marker = self._markers[length]
                marked.setdefault(marker, []).append(end - len(marker))
            elif kind == _WRAPPED:
                n, text, split, literal = self._wrapped[length]
                if n not in encoded and decode.wrapped_start(data, text, split, literal, end) >= 0:
                    encoded.append(n)
            elif kind == _KEYWORD:
                starts.setdefault(rule, []).append(end - length)
            elif kind == _ANCHOR:
                spans.setdefault(rule, {}).setdefault(pattern, []).append((start, end))
            elif kind == _SURPRISE:
                kelvin = True
        # A rule with anchors runs only around them: without an anchor it has nothing to look at
        # (`goog` is in every file that imports a Google library; an HMAC access id is in few).
        # Unless the text holds a character whose lower case is ASCII (the Kelvin sign): then the
        # detector looks for anchors in the lower-cased text itself, as the Python engine does.
        active = tuple(sorted(rule for rule in starts if rule in spans or not self._rules[rule].anchors))
        if len(active) < len(starts) and (kelvin or short_surprises(data)):
            active = tuple(sorted(starts))
        if not active and not encoded:
            return None
        anchors = {rule: sorted(span for each in by_anchor.values() for span in _disjoint(each))
                   for rule, by_anchor in spans.items()}
        return Hits(active, {rule: sorted(set(at)) for rule, at in starts.items()}, anchors, tuple(sorted(encoded)),
                    {marker: sorted(at) for marker, at in marked.items()}, kelvin)

    def lowered(self, lowered: bytes) -> Hits | None:
        try:
            found = self._scan(lowered)
        except _TooManyHits:
            return self._python.lowered(lowered)
        active = {self._meaning[pattern][0] for pattern, _, _ in found if self._meaning[pattern][1] == _KEYWORD}
        return Hits(tuple(sorted(active))) if active else None

    def binary(self, data: bytes) -> tuple[frozenset[int], frozenset[int]]:
        try:
            found = self._scan(data)
        except _TooManyHits:
            return self._python.binary(data)
        narrow, utf16 = set(), set()
        for pattern, _, _ in found:
            rule, kind, _ = self._meaning[pattern]
            if kind == _KEYWORD and self._rules[rule].binary_patterns:
                narrow.add(rule)
            elif kind == _WIDE:
                utf16.add(rule)
        return frozenset(narrow), frozenset(utf16)


def _disjoint(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """One anchor's matches as `finditer` gives them: each search resumes where the last match ended.

    Hyperscan reports every match, overlapping ones too; the anchors are literals and alternatives
    of them, whose matches start at most once at each offset."""
    kept: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if not kept or start >= kept[-1][1]:
            kept.append((start, end))
    return kept


# Hyperscan prefilters alive in this process: a forked worker gives each a scratch of its own.
_LIVE: weakref.WeakSet[HyperscanPrefilter] = weakref.WeakSet()


def _after_fork() -> None:
    for prefilter in list(_LIVE):
        prefilter.renew_scratch()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


# A process's first bytes go through the Python engine: a commit hook's few staged files are
# scanned before Hyperscan's import and compile (about 8 ms) would have paid off.
STARTUP_BYTES = 1 << 20


class AutoPrefilter:
    """The Python engine for the first STARTUP_BYTES a process scans, then Hyperscan if it loads.

    The engines find the same secrets, so which one saw which file never shows in the results."""

    def __init__(self, rules: tuple[Rule, ...]) -> None:
        self._rules = rules
        self._python = PythonPrefilter(rules)
        self._engine: Prefilter | None = None
        self._budget = STARTUP_BYTES

    def __reduce__(self) -> tuple[Callable[..., Prefilter], tuple[Any, ...]]:
        return build, (self._rules, None)

    @property
    def name(self) -> str:
        """The engine that scans all but a process's first bytes."""
        return self._loaded().name

    def _loaded(self) -> Prefilter:
        if self._engine is None:
            self._engine = _compile(self._rules, None)
        return self._engine

    def warm(self) -> None:
        self._loaded()

    def _for(self, size: int) -> Prefilter:
        if self._engine is not None:
            return self._engine
        self._budget -= size
        return self._python if self._budget >= 0 else self._loaded()

    def text(self, data: bytes) -> Hits | None:
        return self._for(len(data)).text(data)

    def plain_text(self, data: bytes) -> tuple[bool, Hits | None]:
        return self._for(len(data)).plain_text(data)

    def lowered(self, lowered: bytes) -> Hits | None:
        return self._for(len(lowered)).lowered(lowered)

    def binary(self, data: bytes) -> tuple[frozenset[int], frozenset[int]]:
        return self._for(len(data)).binary(data)


_BUILT: dict[tuple[str, tuple[Rule, ...]], Prefilter] = {}


def requested() -> str | None:
    """The engine KEYSENTRY_ENGINE asks for, or None to choose automatically."""
    value = os.environ.get(ENGINE_VARIABLE, "").strip().lower()
    if not value:
        return None
    if value not in ENGINES:
        raise UsageError(f"{ENGINE_VARIABLE}={value!r}: expected {' or '.join(ENGINES)}")
    return value


def build(rules: tuple[Rule, ...], name: str | None = None) -> Prefilter:
    """The prefilter of RULES on engine NAME (default: as KEYSENTRY_ENGINE asks, else AutoPrefilter),
    compiled once per process and rule set."""
    name = name or requested()
    key = (name or "", rules)
    if key not in _BUILT:
        _BUILT[key] = _compile(rules, name) if name else AutoPrefilter(rules)
    return _BUILT[key]


def describe(rules: tuple[Rule, ...]) -> str:
    """Which engine scans, for `keysentry rules`."""
    prefilter = build(rules)
    if prefilter.name == HYPERSCAN:
        import hyperscan

        engine = f"hyperscan {getattr(hyperscan, '__version__', '')}".rstrip()
    else:
        engine = "python (hyperscan is not installed or cannot run here)" if requested() is None else PYTHON
    if isinstance(prefilter, AutoPrefilter) and prefilter.name == HYPERSCAN:
        engine += f"; python for a scan's first {STARTUP_BYTES >> 20} MB"
    return engine
def _compile(rules: tuple[Rule, ...], name: str | None) -> Prefilter:
    if name == PYTHON:
        return PythonPrefilter(rules)
    try:
        import hyperscan
    except ImportError as exc:
        if name == HYPERSCAN:
            raise UsageError(f"{ENGINE_VARIABLE}=hyperscan, but hyperscan cannot be loaded: {exc}") from None
        return PythonPrefilter(rules)
    try:
        return HyperscanPrefilter(rules)
    except hyperscan.error:
        if name == HYPERSCAN:
            raise
        return PythonPrefilter(rules)  # a CPU Hyperscan does not support (it needs SSSE3)
