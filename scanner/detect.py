"""The engine: keyword prefilter (scanner.prefilter), rule patterns, overlap resolution, line and column.

It sees bytes and a path, never git or a terminal, so it is tested with hand-made inputs.
"""
from __future__ import annotations

import bisect
import codecs
import dataclasses
import functools
import gc
import heapq
import importlib
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, AnyStr, Generic, Literal, NamedTuple, Protocol, TypeVar

from scanner import archives, compiled, content, context, decode, prefilter, syntax
from scanner import public_halves
from scanner.companion import Companions
from scanner.domain import Severity
from scanner.filters import comment_spans, is_known_public, known_public, marker_allows, marker_spans
from scanner.models import MAX_MATCHES, Match
from scanner.rules import CONTENT_RULES, FILE_RULES, FileRule, Rule
from scanner.rules.base import Companion
from scanner.rules.dotenv import first_value, holds_secret_value


_T = TypeVar("_T")


class AllowRule(Protocol):
    """An `allow` pattern: a compiled regex, or config's time-bounded wrapper of one."""

    def search(self, text: str, /) -> object: ...


# Text longer than this is read a region at a time (line-aligned, doubling up to _REGION_MAX), so
# that reading stops soon after MAX_MATCHES: the first region of such a dump holds them all.
_REGION = 64 << 10
_REGION_MAX = 4 << 20
# How far past its region a candidate that starts in it may reach (a private key is some 3 KB).
_REGION_MARGIN = 16 << 10


@dataclass(frozen=True)
class Scanned:
    """What one piece of content holds."""

    matches: tuple[Match, ...]
    allowed: int  # matches dropped by an inline pragma, an `allow` regex or the known public values
    binary: bool
    # The matches an inline marker or an `allow` regex silences, each with its cause (Match.suppressed).
    suppressed: tuple[Match, ...] = ()
    # 0: every match is listed. Else the content holds more than MAX_MATCHES: the listing stopped
    # at this line, and `unlisted_lines` lines after it were not read for more.
    crowded_line: int = 0
    unlisted_lines: int = 0
    # An archive's: what reading its members met (how many, and what the limits left unread).
    archive: archives.Tally | None = None

    @property
    def everything(self) -> tuple[Match, ...]:
        """What the scan loop carries on: the reported matches and the silenced ones, marked."""
        return self.matches + self.suppressed if self.suppressed else self.matches


# Do inline markers silence anything? "honour" (in a comment on the secret's line, near it) or
# "ignore" (--no-inline-allow, `inline-allow = false`).
InlineMarkers = Literal["honour", "ignore"]

_NOTHING = Scanned((), 0, False)
_NOTHING_BINARY = Scanned((), 0, True)


@dataclass(frozen=True)
class _Candidate:
    priority: int
    start: int
    end: int
    rule_id: str
    secret: str
    # An unquoted value (a pattern's `bare` group): a literal in configuration, an expression in code.
    bare: bool = False


def _keep_disjoint(candidates: list[_Candidate]) -> list[_Candidate]:
    """One candidate per span: specific rules first (lower priority), then earlier in the file.

    A rule's candidates, in file order, are swept against the spans kept so far (disjoint, so in
    file order their ends rise too), then merged in: a pass per rule. Inserting each candidate into
    a sorted list instead moved the list's tail every time, quadratic in a file of many keys.
    """
    kept: list[_Candidate] = []
    by_priority: dict[int, list[_Candidate]] = {}
    for cand in candidates:
        by_priority.setdefault(cand.priority, []).append(cand)
    for priority in sorted(by_priority):
        fresh: list[_Candidate] = []
        i = 0
        for cand in sorted(by_priority[priority], key=lambda c: c.start):
            if fresh and fresh[-1].end > cand.start:
                continue  # an earlier candidate of the same rule reaches into it
            while i < len(kept) and kept[i].end <= cand.start:
                i += 1
            if i < len(kept) and kept[i].start < cand.end:
                continue  # it overlaps a span a more specific rule kept
            fresh.append(cand)
        kept = list(heapq.merge(kept, fresh, key=lambda c: c.start))
    return kept


class _Lines(Generic[AnyStr]):
    """Line, column and line text of increasing offsets, reading the file once however long its lines."""

    def __init__(self, text: AnyStr, newline: AnyStr) -> None:
        self._text: AnyStr = text
        self._newline: AnyStr = newline
        self._offset = 0
        self._line = 1
        self._line_start = 0
        self._line_end: int | None = None

    def locate(self, offset: int) -> tuple[int, int]:
        """(line, column) of `offset`; offsets must not decrease between calls."""
        newlines = self._text.count(self._newline, self._offset, offset)
        if newlines:
            self._line += newlines
            self._line_start = self._text.rfind(self._newline, self._offset, offset) + 1
            self._line_end = None
        self._offset = offset
        return self._line, offset - self._line_start + 1

    def line_span(self) -> tuple[int, int]:
        """Start and end of the line the last offset is on."""
        if self._line_end is None:
            end = self._text.find(self._newline, self._offset)
            self._line_end = end if end >= 0 else len(self._text)
        return self._line_start, self._line_end


# UTF-16 strings inside a binary (.NET assemblies, Windows resources): printable ASCII characters
# each followed (little-endian) or preceded (big-endian) by a NUL byte.
_UTF16_RUNS = (
    ("utf-16-le", 0, re.compile(rb"(?:[\t\n\r\x20-\x7e]\x00){16,}")),
    ("utf-16-be", 1, re.compile(rb"(?:\x00[\t\n\r\x20-\x7e]){16,}")),
)


@dataclass(frozen=True)
class Detector:
    rules: tuple[Rule, ...] = CONTENT_RULES
    file_rules: tuple[FileRule, ...] = FILE_RULES
    allow: tuple[AllowRule, ...] = ()
    # "hyperscan" or "python"; None: as KEYSENTRY_ENGINE asks, else Hyperscan if it loads. Both
    # find the same secrets.
    engine_name: str | None = None
    # SHA-256 digests of public values never reported (counted as allowed); default: the shipped list.
    known_public: frozenset[str] = field(default_factory=known_public)
    inline: InlineMarkers = "honour"
    # How far the members of archives are read (scanner.archives); None: archives are scanned as
    # the binary files they are, never opened.
    archive_limits: archives.Limits | None = field(default_factory=archives.Limits)
    # How many encodings deep a value is decoded and scanned (scanner.decode); 0: never.
    decode_depth: int = decode.DEPTH

    @classmethod
    def configured(cls, disabled: Iterable[str] = (), allow: Iterable[AllowRule] = (),
                   inline: InlineMarkers = "honour",
                   archive_limits: archives.Limits | None = archives.DEFAULT_LIMITS,
                   decode_depth: int = decode.DEPTH) -> "Detector":
        off = set(disabled)
        prefilter.requested()  # a bad KEYSENTRY_ENGINE is an error before any file is read
        return cls(
            rules=tuple(r for r in CONTENT_RULES if r.id not in off),
            file_rules=tuple(r for r in FILE_RULES if r.id not in off),
            allow=tuple(allow),
            inline=inline,
            archive_limits=archive_limits,
            decode_depth=decode_depth,
        )

    def scan(self, data: bytes, path: str = "") -> Scanned:
        """Every secret in `data` at `path` (its language, and whole-file rules such as dotenv-file)."""
        scanned = self.scan_content(data, (path,) if path else ())
        whole = self.path_matches(path, data, scanned)
        return dataclasses.replace(scanned, matches=scanned.matches + whole) if whole else scanned

    @functools.cached_property
    def _prefilter(self) -> prefilter.Prefilter:
        return prefilter.build(self.rules, self.engine_name)

    def warm(self) -> None:
        """Make the engine ready for a scan of many files: what a process forked after this call
        scans goes straight to Hyperscan, compiled once here, instead of each worker starting in
        Python and compiling its own (scanner.prefilter.AutoPrefilter)."""
        self._prefilter.warm()

    @property
    def engine(self) -> str:
        """The engine that finds where the rules may match: "hyperscan" or "python"."""
        return self._prefilter.name

    def scan_content(self, data: bytes, paths: Sequence[str] = (), expand: bool = True) -> Scanned:
        """Every secret the bytes hold: the same for every copy of a blob. PATHS: where it occurs, which
        tell its language (scanner.syntax: is an unquoted value there a literal or an expression?);
        none, or paths that disagree: a literal. An archive's members are read too (EXPAND, and the
        detector reads archives)."""
        return self._content(data, self.decode_depth, None, expand, paths)

    def _content(self, data: bytes, depth: int, budget: decode.Budget | None, expand: bool = False,
                 paths: Sequence[str] = ()) -> Scanned:
        """What scan_content says, decoding encoded runs DEPTH encodings deep, within BUDGET (None:
        the budget of content scanned for itself); an archive is opened only when EXPAND (never
        one a decoding or a compiled file's strings make). Decoded text has no language of its own."""
        # Most content is plain text, which the prefilter's pass tells without sniffing it.
        plain, hits = self._prefilter.plain_text(data)
        if not plain and expand and self.archive_limits is not None:
            opened = self._scan_archive(data)
            if opened is not None:
                return opened
        kind = content.NARROW if plain else content.sniff(data)
        if kind == content.BINARY:
            return self._scan_binary(data)
        if kind == content.NARROW:
            if not plain:
                hits = self._prefilter.text(data)  # the bytes as stored: no decoding for content without hits
            if hits is None:
                return _NOTHING
            text = content.decode(data, kind)
            if hits.encoded and depth > 0:
                return self._with_decoded(self._text(data, text, hits, _in_text(hits, data, text), None, paths),
                                          data, text, hits, depth, budget or decode.Budget(len(data)))
            located = _in_text(hits, data, text)
        else:
            # UTF-16 or UTF-32 throughout (a BOM, or NULs every other byte: a .reg export, a script
            # saved by Windows PowerShell), or narrow text with NULs or UTF-16 stretches (a build
            # log): its text, as UTF-8, takes the one pass narrow text takes, decoding gate
            # included; lines and columns are the text's either way (characters).
            text = content.decode(data, kind)
            narrow = text.encode("utf-8", "surrogatepass")
            hits = self._prefilter.text(narrow)
            if hits is None:
                return _NOTHING
            found = self._text(narrow, text, hits, _in_text(hits, narrow, text), None, paths)
            if not hits.encoded or depth <= 0:
                return found
            return self._with_decoded(found, narrow, text, hits, depth, budget or decode.Budget(len(narrow)))
        return self._text(data, text, hits, located, None, paths)

    def _text(self, data: bytes, text: str, hits: prefilter.Hits, located: prefilter.Hits | None,
              lowered: str | None, paths: Sequence[str] = ()) -> Scanned:
        """The rules' matches in TEXT (DATA decoded), where the prefilter's HITS say they may be."""
        if not hits.active:
            return _NOTHING
        plan: list[_Plan] = []
        for index in hits.active:
            rule = self.rules[index]
            if rule.requires is not None and not rule.requires.search(text):
                continue
            if located is not None:
                assert located.starts is not None and located.anchors is not None
                if rule.anchors:
                    anchor_hits = located.anchors.get(index, [])
                    plan.append(_Plan(rule, _merge_windows(anchor_hits, rule.reach, len(text)),
                                      names=_name_starts(rule, text, anchor_hits)))
                elif rule.opens_with_keyword:
                    plan.append(_Plan(rule, None, located.starts.get(index, [])))
                else:
                    plan.append(_Plan(rule, None))
                continue
            spans = None
            names = None
            if rule.anchors:
                lowered = text.lower() if lowered is None else lowered
                found = _anchor_hits(rule, text, lowered)
                if found is not None:
                    spans = _merge_windows(found, rule.reach, len(text))
                    names = _name_starts(rule, text, found)
            plan.append(_Plan(rule, spans, names=names))
        language = syntax.language_of(paths, text) if paths else None
        code = syntax.Code(text, language) if language is not None else None
        if len(text) <= _REGION:
            candidates = [c for step in plan for c in step.candidates(text, 0, len(text))]
            matches, allowed, suppressed = self._resolve(_keep_disjoint(candidates), text, code=code)
            return _listed(matches, allowed, suppressed, text)
        return self._scan_regions(plan, text, code)

    def _scan_archive(self, data: bytes) -> Scanned | None:
        """What an archive's members hold, each at its own path (Match.member), scanned as files
        are (whole-file rules too: a `.env` in a zip is a committed .env), plus what its bytes hold
        as a binary file outside any member (a zip's comment); None if DATA is no archive."""
        what = archives.kind(data)
        if what is None or self.archive_limits is None:
            return None
        raw = self.scan_content(data, expand=False)
        expansion = archives.Expansion(self.archive_limits)
        found: list[Match] = []
        silenced: list[Match] = []
        allowed = raw.allowed
        for member in expansion.members(data, what):
            scanned, first = self._scan_member(member)
            whole = self.path_matches(member.path[-1], first, scanned) if member.path[-1] else ()
            allowed += scanned.allowed
            found.extend(dataclasses.replace(m, member=member.path) for m in scanned.matches + whole)
            silenced.extend(dataclasses.replace(m, member=member.path) for m in scanned.suppressed)
        inside = {(m.rule_id, m.secret) for m in found + silenced}
        outside = tuple(m for m in raw.matches if (m.rule_id, m.secret) not in inside)
        return Scanned(outside + tuple(found[:MAX_MATCHES]), allowed, True,
                       raw.suppressed + tuple(silenced[:MAX_MATCHES]), archive=expansion.tally())

    def _scan_member(self, member: archives.Member) -> tuple[Scanned, bytes]:
        """A member's secrets and the bytes whole-file rules judge it by: read whole, or in pieces."""
        if member.data is not None:
            return self.scan_content(member.data, member.path[-1:], expand=False), member.data
        assert member.pieces is not None
        from scanner import chunked  # imports this module: only members past archives.WHOLE need it

        return chunked.scan_pieces(self, member.pieces)

    def _scan_regions(self, plan: list["_Plan"], text: str, code: syntax.Code | None) -> Scanned:
        """The plan's matches, a line-aligned region at a time, until MAX_MATCHES are found. A
        candidate belongs to the region it starts in and may reach _REGION_MARGIN past it; one that
        starts inside the last region's last kept candidate is that candidate's tail. Silenced
        matches never stop the reading (a dump of allowed values must not hide a key after it);
        only the first MAX_MATCHES of them are kept."""
        matches: list[Match] = []
        suppressed: list[Match] = []
        allowed = 0
        lines = _Lines(text, "\n")
        shared = _Shared()
        start, size, floor = 0, _REGION, 0
        while start < len(text) and len(matches) <= MAX_MATCHES:
            cut = text.find("\n", min(len(text), start + size))
            end = len(text) if cut < 0 else cut + 1
            with _collector_paused():
                raws = [raw for step in plan for raw in step.matches(text, start, end) if raw.start >= floor]
            reached = floor
            for batch in _batches(raws):
                with _collector_paused():
                    candidates = [c for c in map(_judged, batch) if c is not None]
                kept = _keep_disjoint(candidates)
                found, dropped, silenced = self._resolve(kept, text, lines, code, shared)
                matches += found
                allowed += dropped
                suppressed += silenced[:max(0, MAX_MATCHES + 1 - len(suppressed))]
                reached = max([reached, *(c.end for c in kept)])
                if len(matches) > MAX_MATCHES:
                    break
            floor = reached
            start, size = end, min(2 * size, _REGION_MAX)
        return _listed(matches, allowed, suppressed, text)

    @functools.cached_property
    def _decoding(self) -> tuple[tuple[decode.Needle, ...], tuple[bytes, ...]]:
        return decode.needles(self.rules), decode.markers(self.rules)

    def _with_decoded(self, scanned: Scanned, data: bytes, text: str, hits: prefilter.Hits,
                      depth: int, budget: decode.Budget) -> Scanned:
        """SCANNED plus what the encoded runs the gate let through hold (scanner.decode): each
        match at the place its encoded form starts, with the chain of decodings; a secret found as
        it is already is not found again in a decoding."""
        table, markers = self._decoding
        hit = [table[i] for i in hits.encoded]
        kinds = decode.gate(hit, data, markers, hits.markers)
        seen = {(m.rule_id, m.secret) for m in scanned.everything}
        found: list[Match] = []
        silenced: list[Match] = []
        allowed = scanned.allowed
        for run in decode.runs(data, kinds, hit, markers, budget, hits.markers):
            inner = self._content(run.data, depth - 1, budget)
            if not inner.everything:
                allowed += inner.allowed
                continue
            offsets = decode.Offsets(run.data, inner.binary)
            for m in inner.everything:
                if (m.rule_id, m.secret) in seen:
                    continue
                seen.add((m.rule_id, m.secret))
                at = run.source(offsets.offset(m.line, m.column))
                line, column, char = decode.position(data, text, at)
                cause = m.suppressed
                if not cause and self.inline == "honour":
                    start = text.rfind("\n", 0, char) + 1
                    end = text.find("\n", char)
                    if _LineMarkers(text, start, len(text) if end < 0 else end).allow(char, char + 1):
                        cause = "inline"
                placed = dataclasses.replace(m, line=line, column=column, decoded=(run.kind, *m.decoded),
                                             suppressed=cause)
                if cause:
                    allowed += 1
                    silenced.append(placed)
                else:
                    found.append(placed)
        if not found and not silenced:
            return dataclasses.replace(scanned, allowed=allowed) if allowed != scanned.allowed else scanned
        room = max(0, MAX_MATCHES - len(scanned.matches))
        return dataclasses.replace(
            scanned, allowed=allowed,
            matches=tuple(sorted((*scanned.matches, *found[:room]), key=lambda m: (m.line, m.column))),
            suppressed=tuple(sorted((*scanned.suppressed, *silenced), key=lambda m: (m.line, m.column))[:MAX_MATCHES]))

    def judges_whole_file(self, path: str) -> bool:
        """Whether a whole-file rule applies at PATH: what a blob holds there is more than what its
        content step found."""
        return any(rule.path.search(path) for rule in self.file_rules)

    def path_matches(self, path: str, data: bytes, scanned: Scanned) -> tuple[Match, ...]:
        """What the whole-file rules add for one path the content `scanned` occurs at."""
        if scanned.binary:
            return ()
        found: list[Match] = []
        for rule in self.file_rules:
            if rule.path.search(path):
                whole = self._file_match(rule, path, data, scanned.matches)
                if whole is not None:
                    found.append(whole)
        return tuple(found)

    @functools.cached_property
    def _in_context(self) -> dict[str, Callable[[str, int, int], bool]]:
        return {rule.id: rule.in_context for rule in self.rules if rule.in_context is not None}

    @functools.cached_property
    def _companions(self) -> dict[str, Companion]:
        return {rule.id: rule.companion for rule in self.rules if rule.companion is not None}

    def _resolve(self, kept: list[_Candidate], text: str, lines: "_Lines[str] | None" = None,
                 code: syntax.Code | None = None, shared: "_Shared | None" = None) -> tuple[list[Match], int, list[Match]]:
        """Matches for the kept candidates that their text around confirms, minus those the list of
        known public values drops; each with the clues to its context and its public half. Those an
        inline marker or an allow regex silences come apart, marked with the cause. LINES: the
        text's line counter when the candidates come a region at a time (offsets ascending). CODE:
        the text's syntax, when it is a programming language's, where an unquoted value is code.
        SHARED: what is found once per text, kept across the batches and regions of one text."""
        shared = _Shared() if shared is None else shared
        matches: list[Match] = []
        suppressed: list[Match] = []
        allowed = 0
        lines = _Lines(text, "\n") if lines is None else lines
        markers: dict[int, _LineMarkers] = {}
        found = context.Clues(text, [(c.start, c.end) for c in kept])
        companions = shared.companions  # found on first need, once per text and kind
        # --verify's other public halves (a refresh token's client id, a key file's account, an app id).
        if shared.halves is None and any(c.rule_id in public_halves.RULES for c in kept):
            shared.halves = public_halves.PublicHalves(text)
        halves = shared.halves
        for cand in kept:
            judge = self._in_context.get(cand.rule_id)
            if judge is not None and not judge(text, cand.start, cand.end):
                continue
            if cand.bare and code is not None and code.is_expression(cand.start):
                continue
            kind = self._companions.get(cand.rule_id)
            companion = ""
            if kind is not None:
                if cand.rule_id not in companions:
                    companions[cand.rule_id] = Companions(text, kind)
                companion = companions[cand.rule_id].nearest(cand.start, cand.end)
                if not companion and kind.required is not None and kind.required(text, cand.start, cand.end):
                    continue  # a secret only beside its public half, and it has none
            if is_known_public(cand.secret, self.known_public):
                allowed += 1
                continue
            line, column = lines.locate(cand.start)
            cause: Literal["", "inline", "config"] = ""
            if self.inline == "honour":
                if line not in markers:
                    start, end = lines.line_span()
                    markers[line] = _LineMarkers(text, start, end)
                if markers[line].allow(cand.start, cand.end):
                    cause = "inline"
            if not cause and any(a.search(cand.secret) for a in self.allow):
                cause = "config"
            if not companion and halves is not None:
                companion = halves.of(cand.rule_id, cand.secret, cand.start, cand.end)
            clues = found.at(cand.start, cand.end)
            if code is not None and code.in_documentation(cand.start):
                clues += ("docs",)  # a usage example in a docstring or doc comment (after the text's own clues)
            match = Match(cand.rule_id, cand.secret, line, column, cand.secret,
                          clues=clues, companion=companion, suppressed=cause)
            if cause:
                allowed += 1
                suppressed.append(match)
            else:
                matches.append(match)
        return matches, allowed, suppressed

    def _file_match(self, rule: FileRule, path: str, data: bytes, found: tuple[Match, ...]) -> Match | None:
        if rule.template.search(path):
            # A template documents variables; it is a leak only if it holds a real secret.
            return Match(rule.id, found[0].secret, 0, 0, "", severity=_holding(found)) if found else None
        text = content.decode(data)
        value = first_value(text)
        if not value:
            return None
        # Whether a secret-named value is there matters only when nothing else was found (and reading
        # every line of a dump of keys for it would cost seconds).
        return Match(rule.id, value, 0, 0, "", severity=_holding(found, not found and holds_secret_value(text)))

    def _scan_binary(self, data: bytes) -> Scanned:
        """Fixed-format credentials inside compiled files, matched on bytes: nothing is decoded as text,
        except runs of UTF-16 characters, which are text stored two bytes a character."""
        if not any(r.binary_patterns for r in self.rules):
            return _NOTHING_BINARY
        narrow, utf16 = self._prefilter.binary(data)
        candidates: list[_Candidate] = []
        wide: list[Rule] = []
        for index, rule in enumerate(self.rules):
            if index in narrow:
                for pattern in rule.binary_patterns:
                    for m in pattern.finditer(data):
                        secret = m["secret"].decode("ascii")
                        if rule.accept(secret, False):
                            candidates.append(_Candidate(rule.priority, m.start("secret"), m.end("secret"), rule.id,
                                                         secret))
            if index in utf16:
                wide.append(rule)
        if wide:
            candidates.extend(_utf16_candidates(wide, data))
        matches = []
        suppressed = []
        allowed = 0
        lines = _Lines(data, b"\n")
        view: str | None = None  # the bytes a character each, offsets kept, for the rules' judges
        for cand in _keep_disjoint(candidates):
            judge = self._in_context.get(cand.rule_id)
            # Judged where its bytes are its text (not a UTF-16 run): a Chat webhook's key in a binary too.
            if judge is not None and cand.end - cand.start == len(cand.secret):
                view = data.decode("latin-1") if view is None else view
                if not judge(view, cand.start, cand.end):
                    continue
            if is_known_public(cand.secret, self.known_public):
                allowed += 1
                continue
            line, column = lines.locate(cand.start)
            if any(a.search(cand.secret) for a in self.allow):
                allowed += 1
                suppressed.append(Match(cand.rule_id, cand.secret, line, column, cand.secret, suppressed="config"))
                continue
            matches.append(Match(cand.rule_id, cand.secret, line, column, cand.secret))
        return self._with_strings(data, Scanned(tuple(matches), allowed, True, tuple(suppressed)))

    def _with_strings(self, data: bytes, scanned: Scanned) -> Scanned:
        """SCANNED plus what the strings a compiled file's format delimits hold (scanner.compiled:
        a .pyc's constants, an SQLite database's text cells), each read as text of its own: there a
        key is not run into the next object's type byte or the next column's text."""
        found = compiled.strings(data)
        if not found:
            return scanned
        starts: list[int] = []
        size = 0
        for _offset, value in found:
            starts.append(size)
            size += len(value) + 1
        joined = b"\n".join(value for _offset, value in found)
        inner = self._content(joined, self.decode_depth, None)
        seen = {(m.rule_id, m.secret) for m in scanned.everything}
        offsets = decode.Offsets(joined, inner.binary)
        added: list[Match] = []
        for m in inner.everything:
            if (m.rule_id, m.secret) in seen:
                continue
            seen.add((m.rule_id, m.secret))
            at = offsets.offset(m.line, m.column)
            i = max(0, bisect.bisect_right(starts, at) - 1)
            where = found[i][0] + at - starts[i]
            line = data.count(b"\n", 0, where) + 1
            added.append(dataclasses.replace(m, line=line, column=where - data.rfind(b"\n", 0, where)))
        if not added:
            return scanned
        ordered = sorted((*scanned.everything, *added), key=lambda m: (m.line, m.column))
        return dataclasses.replace(
            scanned, allowed=scanned.allowed + sum(1 for m in added if m.suppressed),
            matches=tuple(m for m in ordered if not m.suppressed)[:MAX_MATCHES],
            suppressed=tuple(m for m in ordered if m.suppressed)[:MAX_MATCHES])


@dataclass
class _Shared:
    """What _resolve finds in a whole text when first needed (each is the text's alone, whatever
    the candidates asking): found once for all the batches and regions of a long text, not once each."""

    companions: dict[str, Companions] = field(default_factory=dict)
    halves: public_halves.PublicHalves | None = None


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a region's raw matches are made and judged. They live
    together until judged (an object and a regex match each: 200,000 on a 4 MB minified line of
    mentions), none of them in a cycle, and the collector's passes over them made the cost grow
    faster than the text (0.55 s per MB at 4 MB against 0.29 s with the passes held back, and a
    four-times-longer line up to 7.5 times the time). Reference counting still frees what each
    judgement drops; what is left is collected once the region is done."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


# How many matches a region's first batch holds (past it, each batch doubles): only they are judged
# before the region's listing is known to have passed MAX_MATCHES.
_BATCH = 512


def _batches(raws: list[_Raw]) -> list[list[_Raw]]:
    """RAWS (one region's matches, in the order their candidates are made) cut where no candidate
    of one batch could reach into the next's: each batch's candidates kept apart from the others
    are those kept among all of them, and its judges read what they would have read then. So a
    minified line of 20,000 keys is judged a batch at a time, and only until MAX_MATCHES are found,
    not all before the first is listed. Each batch keeps RAWS' order."""
    if len(raws) <= _BATCH:
        return [raws]
    cuts: list[int] = []
    reach = -1
    count = 0
    size = _BATCH
    for raw in sorted(raws, key=lambda r: r.start):
        if count >= size and raw.start >= reach:
            cuts.append(raw.start)
            count = 0
            size *= 2
        count += 1
        reach = max(reach, raw.end)
    if not cuts:
        return [raws]
    batches: list[list[_Raw]] = [[] for _ in range(len(cuts) + 1)]
    for raw in raws:
        batches[bisect.bisect_right(cuts, raw.start)].append(raw)
    return batches


class _LineMarkers:
    """The allow markers of one line, and its comments, read once however many secrets it holds
    (and only when it names a marker at all)."""

    def __init__(self, text: str, start: int, end: int) -> None:
        self._start = start
        self._line = text[start:end]
        self._markers = marker_spans(self._line)
        self._comments: list[tuple[int, int]] | None = None

    def allow(self, start: int, end: int) -> bool:
        if not self._markers:
            return False
        if self._comments is None:
            self._comments = comment_spans(self._line)
        return marker_allows(self._line, start - self._start, end - self._start, self._markers, self._comments)


def _listed(matches: list[Match], allowed: int, suppressed: list[Match], text: str) -> Scanned:
    """MATCHES, at most MAX_MATCHES of them; past that, where the listing stopped and how many lines
    it left unread. At most MAX_MATCHES silenced ones are kept too (the count says how many)."""
    kept = tuple(suppressed[:MAX_MATCHES])
    if len(matches) <= MAX_MATCHES:
        return Scanned(tuple(matches), allowed, False, kept)
    last = matches[MAX_MATCHES - 1].line
    lines = text.count("\n") + (not text.endswith("\n"))
    return Scanned(tuple(matches[:MAX_MATCHES]), allowed, False, kept, last, max(0, lines - last))


@dataclass(frozen=True)
class _Plan:
    """Where one rule's patterns are tried: SPANS (None: everywhere), or only at STARTS (the rule's
    patterns open with its keyword, located by the prefilter); within SPANS, the patterns that open
    with the rule's name only at NAMES (see Rule.name_run)."""

    rule: Rule
    spans: list[tuple[int, int]] | None
    starts: list[int] | None = None
    names: list[int] | None = None

    def candidates(self, text: str, start: int, end: int) -> Iterator[_Candidate]:
        """The rule's candidates that start in text[start:end]."""
        for raw in self.matches(text, start, end):
            cand = _judged(raw)
            if cand is not None:
                yield cand

    def matches(self, text: str, start: int, end: int) -> Iterator["_Raw"]:
        """The matches of the rule's patterns whose candidate would start in text[start:end], not
        yet judged (Rule.accept, Rule.reject_name), in the order their candidates are made."""
        rule = self.rule
        if self.starts is not None:
            at = self.starts[bisect.bisect_left(self.starts, start):bisect.bisect_left(self.starts, end)]
            for pattern in rule.patterns:
                yield from _found(rule, pattern, _matches_at(pattern, text, at))
            return
        whole = start == 0 and end == len(text)
        if whole:
            yield from _text_matches(rule, text, self.spans, self.names)
            return
        reach = min(len(text), end + _REGION_MARGIN)
        if self.spans is None:
            spans = [(start, reach)]
        else:
            spans = []
            for i in range(max(0, bisect.bisect_right(self.spans, (start, len(text) + 1)) - 1), len(self.spans)):
                s, e = self.spans[i]
                if s >= end:
                    break
                if e > start and max(s, start) < min(e, reach):
                    spans.append((max(s, start), min(e, reach)))
        for raw in _text_matches(rule, text, spans, self.names):
            if raw.start < end:
                yield raw


def _holding(found: tuple[Match, ...], secret_value: bool = False) -> Severity:
    """A whole file's severity by what it holds: the secrets found in it, or a secret-named value."""
    holds = tuple(m.rule_id for m in found) or (("hardcoded-api-key",) if secret_value else ())
    return context.dotenv_severity(holds, frozenset(r.id for r in CONTENT_RULES if r.severity == "critical"))


# Characters whose lower case is ASCII (the Kelvin sign) or two characters (dotted capital I): the
# Python engine's anchors, searched in the lower-cased text, may see them as part of an anchor.
_LOWER_CASE_SURPRISES = ("\u212a", "\u0130")


def _in_text(hits: prefilter.Hits, data: bytes, text: str) -> prefilter.Hits | None:
    """HITS with byte offsets of DATA turned into character offsets of TEXT (its decoding), or None
    when they are not located or could differ from what the Python engine's search would find."""
    if hits.starts is None or hits.anchors is None:
        return None
    if len(text) == len(data):
        return hits  # ASCII, or Latin-1: a byte a character
    if hits.kelvin is None:
        if any(c in text for c in _LOWER_CASE_SURPRISES):
            return None
    elif hits.kelvin or prefilter.short_surprises(data):  # TEXT is DATA decoded (UTF-8): the same characters
        return None
    # UTF-8 (Latin-1 keeps the length): every offset is that of an ASCII character or just after
    # one, so each slice between two of them decodes on its own.
    offsets = sorted({*(at for each in hits.starts.values() for at in each),
                      *(at for each in hits.anchors.values() for span in each for at in span)})
    chars: dict[int, int] = {}
    done = 3 if data[:3] == codecs.BOM_UTF8 else 0  # decoded as utf-8-sig: the BOM is no character
    count = 0
    for offset in offsets:
        count += len(data[done:offset].decode("utf-8"))
        chars[offset] = count
        done = offset
    return prefilter.Hits(
        hits.active,
        {rule: [chars[at] for at in each] for rule, each in hits.starts.items()},
        {rule: [(chars[s], chars[e]) for s, e in each] for rule, each in hits.anchors.items()},
    )


def _matches_at(pattern: re.Pattern[str], text: str, starts: list[int],
                end: int | None = None) -> Iterator[re.Match[str]]:
    """What `pattern.finditer(text, 0, END)` yields, for a pattern whose matches begin only at STARTS
    (ascending): each search resumes where the last match ended."""
    resume = 0
    endpos = len(text) if end is None else end
    for start in starts:
        if start >= resume:
            m = pattern.match(text, start, endpos)
            if m is not None:
                resume = m.end()
                yield m


def _anchor_hits(rule: Rule, text: str, lowered: str) -> list[tuple[int, int]] | None:
    """The rule's anchor hits in `text` (ascending); None when they cannot be located."""
    if len(lowered) != len(text):
        return None  # a few characters (İ) lower-case to two: offsets would not line up
    return sorted(hit.span() for anchor in rule.anchors for hit in anchor.finditer(lowered))


@functools.cache
def _name_chars(name_run: str) -> frozenset[str]:
    """The ASCII characters of the character class NAME_RUN."""
    run = re.compile(name_run)
    return frozenset(c for c in map(chr, range(128)) if run.fullmatch(c))


# Characters that under IGNORECASE match a letter of `api…key` but no ASCII anchor finds: where one
# is, a name may hold an api-key no anchor located.
_NAME_SURPRISES = ("\u0130", "\u0131", "\u212a")


def _name_starts(rule: Rule, text: str, hits: list[tuple[int, int]]) -> list[int] | None:
    """Where the run of the rule's name characters holding each of the (ascending) anchor HITS
    starts, ascending: the only places a pattern opening with the name can match. None when the
    rule has no name, or TEXT holds a character that under IGNORECASE matches a letter of an
    api-key the anchors miss (a dotless ı, a dotted İ, the Kelvin sign). A Unicode letter is a word
    character too: the run takes it in."""
    if not rule.name_run:
        return None
    ascii_text = text.isascii()
    if not ascii_text and any(c in text for c in _NAME_SURPRISES):
        return None
    chars = _name_chars(rule.name_run)
    run = _name_run(rule.name_run)
    starts: list[int] = []
    previous = -1
    for hit_start, _ in sorted(hits):
        at = hit_start
        # Walk back no further than the previous hit: reaching it, the run is the one already seen.
        while at > previous and at > 0 and (text[at - 1] in chars or (
                not ascii_text and text[at - 1] >= "\x80" and run.fullmatch(text, at - 1, at) is not None)):
            at -= 1
        if at != previous:
            starts.append(at)
        previous = hit_start
    return starts


def _merge_windows(hits: list[tuple[int, int]], reach: tuple[int, int], size: int) -> list[tuple[int, int]]:
    """The stretches within REACH of the (ascending) anchor HITS, overlapping ones merged."""
    before, after = reach
    spans: list[tuple[int, int]] = []
    for hit_start, hit_end in hits:
        start, end = max(0, hit_start - before), min(size, hit_end + after)
        if spans and start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans


def _by_rule(work: Callable[[Rule], _T]) -> Callable[[Rule], _T]:
    """WORK(rule) computed once per rule, looked up by the rule's identity: a frozen dataclass
    hashes every field (its patterns among them) at each call of a functools.cache, and these are
    asked for once per window."""
    done: dict[int, tuple[Rule, _T]] = {}

    @functools.wraps(work)
    def cached(rule: Rule) -> _T:
        hit = done.get(id(rule))
        if hit is None or hit[0] is not rule:
            hit = done[id(rule)] = (rule, work(rule))
        return hit[1]
    return cached


def _text_candidates(rule: Rule, text: str, spans: list[tuple[int, int]] | None = None,
                     names: list[int] | None = None) -> Iterator[_Candidate]:
    """The rule's accepted matches, in the whole text or only within `spans` (lookbehinds still
    see the text before a span); a pattern that opens with the rule's name is tried only at NAMES."""
    for raw in _text_matches(rule, text, spans, names):
        cand = _judged(raw)
        if cand is not None:
            yield cand


def _text_matches(rule: Rule, text: str, spans: list[tuple[int, int]] | None = None,
                  names: list[int] | None = None) -> Iterator["_Raw"]:
    """What _text_candidates judges: the rule's matches, in the order their candidates are made."""
    opening = _opening_with_name(rule) if names is not None and spans is not None else frozenset()
    prefixes = _prefixes(rule) if names is not None else {}
    for start, end in spans if spans is not None else [(0, len(text))]:
        at: list[int] = []
        if opening:
            assert names is not None
            at = names[bisect.bisect_left(names, start):bisect.bisect_left(names, end)]
        tried = _tried_at(rule, text, at) if at else {}
        for index, pattern in enumerate(rule.patterns):
            if index in opening:
                yield from _found(rule, pattern, _matches_at(pattern, text, tried.get(index, at), end))
            elif (prefix := prefixes.get(index)) is not None:
                starts = _before(prefix, text, tried.get(index, at), start)
                yield from _found(rule, pattern, _matches_at(pattern, text, starts, end))
            else:
                yield from _found(rule, pattern, pattern.finditer(text, start, end))


def _followed_by(rule: Rule, text: str, name: int) -> str:
    """The characters a name starting at NAME (the start of a run of the rule's name characters)
    can be followed by. A name is the run's head: it ends where the run does, or before one of the
    run's characters that are no word character or `-` (its `(?![\\w-])`): a `.` or a `$` inside it."""
    found = _name_run(rule.name_run).match(text, name)  # a run of none or more: always found
    run = found.group() if found is not None else ""
    after = text[name + len(run):name + len(run) + 1]
    return ((after if after < "\x80" else _NOT_ASCII) + ("." if "." in run else "")
            + ("$" if "$" in run else ""))


def _tried_at(rule: Rule, text: str, names: list[int]) -> dict[int, list[int]]:
    """For each of the rule's patterns whose rest past the name opens with known characters
    (_after_name): the NAMES (ascending) whose name can be followed by one of them, the only ones
    at which it can match with its name there. The other patterns are tried at every name."""
    gated = _after_name(rule)
    if not gated:
        return {}
    passing = _passing(rule)
    tried: dict[int, list[int]] = {index: [] for index in gated}
    for name in names:
        follow = _followed_by(rule, text, name)
        indexes = passing.get(follow)
        if indexes is None:
            indexes = passing[follow] = tuple(i for i, first in gated.items() if not first.isdisjoint(follow))
        for index in indexes:
            tried[index].append(name)
    return tried


@_by_rule
def _passing(rule: Rule) -> dict[str, tuple[int, ...]]:
    """What _tried_at has worked out: for what a name is followed by, the gated patterns it lets through."""
    return {}


# What _followed_by says of a character past ASCII, and every pattern's first characters hold: the
# ASCII sets of _first_chars say nothing of it (`\\s` matches a no-break space).
_NOT_ASCII = "\x80"


@functools.cache
def _name_run(name_run: str) -> re.Pattern[str]:
    return re.compile(f"{name_run}*")


@_by_rule
def _after_name(rule: Rule) -> dict[int, frozenset[str]]:
    """For each of the rule's patterns whose name group is followed (at the top level, past its
    `(?![\\w-])`) by a part that cannot match the empty string: the ASCII characters that part
    can open with. Only ever more than the truth, so a name followed by none of them is one at
    which the pattern cannot match (the text is ASCII wherever names are located)."""
    found: dict[int, frozenset[str]] = {}
    for index, pattern in enumerate(rule.patterns):
        group = pattern.groupindex.get("name")
        if group is None or not rule.name_run:
            continue
        try:
            items = list(_sre_parse.parse(pattern.pattern, pattern.flags))
        except re.error:
            continue
        at = next((i for i, (op, av) in enumerate(items) if str(op) == "SUBPATTERN" and av[0] == group), None)
        if at is None:
            continue
        first, empty = _first_chars(items[at + 1:], pattern.flags)
        if first is not None and not empty:
            found[index] = first | {_NOT_ASCII}
    return found


def _first_chars(items: list[tuple[Any, Any]], flags: int) -> tuple[frozenset[str] | None, bool]:
    """The ASCII characters a match of the parsed sequence ITEMS can open with (None: any, or not
    known here), and whether it can match the empty string. Only ever more than the truth."""
    return _edge_chars(items, flags, from_end=False)


def _before(prefix: "_Prefix", text: str, names: list[int], start: int) -> list[int]:
    """Where a pattern whose PREFIX (the text before its name, at most so wide) ends at one of NAMES
    may start, from START on, ascending."""
    ending, widest, last = prefix
    starts: set[int] = set()
    for name in names:
        # A prefix that cannot be empty ends with a character it can end with: a name after any
        # other has none (no search of the width before it, which a text of names made costly).
        if last is not None and (name == 0 or (text[name - 1] < "\x80" and text[name - 1] not in last)):
            continue
        at = max(start, name - widest)
        # The prefix ends at the name: one character is left past it, so an assertion there sees it.
        while (m := ending.search(text, at, name + 1)) is not None:
            starts.add(m.start())
            at = m.start() + 1
    return sorted(starts)


# A prefix made to end where a name starts, its greatest width, and the ASCII characters its last
# one can be (None: any, or it can be empty).
_Prefix = tuple[re.Pattern[str], int, "frozenset[str] | None"]


@_by_rule
def _prefixes(rule: Rule) -> dict[int, _Prefix]:
    """The rule's patterns that hold its name after a prefix of bounded width: for each, the prefix
    made to end one character before the end, and its width. Only a prefix that is a whole part of
    the pattern (no `|` outside its groups) and has no lookahead or end anchor: one that looked past
    the name could succeed in the pattern and fail here."""
    opener = f"(?<!{rule.name_run})"
    found: dict[int, _Prefix] = {}
    for index, pattern in enumerate(rule.patterns):
        cut = pattern.pattern.find(opener) if rule.name_run else -1
        if cut <= 0:
            continue
        prefix = pattern.pattern[:cut]
        if any(token in prefix for token in ("(?=", "(?!", "\\Z", "\\A", "\\z")) or not _top_level(prefix):
            continue
        try:
            parsed = _sre_parse.parse(prefix, pattern.flags)
            width = parsed.getwidth()[1]
            ending = re.compile(f"(?:{prefix})(?=[\\s\\S]\\Z)", pattern.flags)
        except re.error:
            continue
        if width < _sre.MAXREPEAT:
            last, empty = _last_chars(list(parsed), pattern.flags)
            found[index] = (ending, width, None if empty else last)
    return found


_ASCII = [chr(c) for c in range(128)]
_CATEGORIES = {"CATEGORY_SPACE": r"\s", "CATEGORY_NOT_SPACE": r"\S", "CATEGORY_DIGIT": r"\d",
               "CATEGORY_NOT_DIGIT": r"\D", "CATEGORY_WORD": r"\w", "CATEGORY_NOT_WORD": r"\W"}


def _last_chars(items: list[tuple[Any, Any]], flags: int) -> tuple[frozenset[str] | None, bool]:
    """The ASCII characters a match of the parsed sequence ITEMS can end with (None: any, or not
    known here), and whether it can match the empty string. Only ever more than the truth: a
    character outside the set means no match ends there."""
    return _edge_chars(items, flags, from_end=True)


def _edge_chars(items: list[tuple[Any, Any]], flags: int, from_end: bool) -> tuple[frozenset[str] | None, bool]:
    """The ASCII characters at one edge of a match of the parsed sequence ITEMS (its last with
    FROM_END, else its first), read from that edge, and whether it can match the empty string."""
    chars: set[str] = set()
    for op, av in (reversed(items) if from_end else items):
        name = str(op)
        if name == "LITERAL":
            got: frozenset[str] | None = _cased(chr(av), flags)
            empty = False
        elif name == "IN":
            got, empty = _in_class(av, flags), False
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            got, empty = _edge_chars(list(av[2]), flags, from_end)
            empty = empty or av[0] == 0
        elif name == "SUBPATTERN":
            _, add, remove, sub = av
            got, empty = _edge_chars(list(sub), (flags | add) & ~remove, from_end)
        elif name == "BRANCH":
            got, empty = frozenset(), False
            for branch in av[1]:
                one, none = _edge_chars(list(branch), flags, from_end)
                got = None if got is None or one is None else got | one
                empty = empty or none
        elif name in ("AT", "ASSERT", "ASSERT_NOT"):  # zero width: the character beyond decides
            got, empty = frozenset(), True
        else:
            return None, False
        if got is None:
            return None, False
        chars |= got
        if not empty:
            return frozenset(chars), False
    return frozenset(chars), True


def _cased(char: str, flags: int) -> frozenset[str]:
    return frozenset({char, char.lower(), char.upper()} if flags & re.IGNORECASE else {char}) & frozenset(_ASCII)


def _in_class(items: list[tuple[Any, Any]], flags: int) -> frozenset[str] | None:
    """The ASCII characters the parsed character class ITEMS matches (None: not known here)."""
    def member(c: str) -> bool | None:
        for op, av in items:
            name = str(op)
            if name == "LITERAL":
                hit = c == chr(av)
            elif name == "RANGE":
                hit = av[0] <= ord(c) <= av[1]
            elif name == "CATEGORY" and str(av) in _CATEGORIES:
                hit = re.fullmatch(_CATEGORIES[str(av)], c, flags & re.ASCII) is not None
            elif name == "NEGATE":
                continue
            else:
                return None
            if hit:
                return True
        return False

    negated = any(str(op) == "NEGATE" for op, _ in items)
    found: set[str] = set()
    for c in _ASCII:
        hits = [member(x) for x in ({c, c.lower(), c.upper()} if flags & re.IGNORECASE else {c})]
        if None in hits:
            return None
        if any(hits) != negated:
            found.add(c)
    return frozenset(found)


def _top_level(prefix: str) -> bool:
    """PREFIX closes every group it opens and has no `|` outside them."""
    depth, i, in_class = 0, 0, False
    while i < len(prefix):
        c = prefix[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            if prefix[i + 1:i + 2] == "^":
                i += 1
            if prefix[i + 1:i + 2] == "]":
                i += 1
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth < 0:
                return False
        elif c == "|" and depth == 0:
            return False
        i += 1
    return depth == 0 and not in_class


@_by_rule
def _opening_with_name(rule: Rule) -> frozenset[int]:
    """The indexes of the rule's patterns that open with `(?<!name_run)` (see Rule.name_run)."""
    opener = f"(?<!{rule.name_run})"
    return frozenset(i for i, pattern in enumerate(rule.patterns) if rule.name_run and pattern.pattern.startswith(opener))


class _Raw(NamedTuple):
    """A pattern's match, not yet judged: where its candidate would be (the `bare` group when it
    took part, else `secret`)."""

    start: int
    end: int
    rule: Rule
    pattern: re.Pattern[str]
    match: re.Match[str]


def _found(rule: Rule, pattern: re.Pattern[str], matches: Iterable[re.Match[str]]) -> Iterator[_Raw]:
    has_bare = "bare" in pattern.groupindex
    for m in matches:
        group = "bare" if has_bare and m["bare"] is not None else "secret"
        yield _Raw(m.start(group), m.end(group), rule, pattern, m)


def _judged(raw: _Raw) -> _Candidate | None:
    """RAW's candidate, if its rule accepts its name and value."""
    rule, groups, m = raw.rule, raw.pattern.groupindex, raw.match
    if rule.reject_name is not None and "name" in groups and rule.reject_name(m["name"]):
        return None
    bare = "bare" in groups and m["bare"] is not None
    secret = m["bare" if bare else "secret"]
    if rule.accept(secret, "q" in groups and not bare):
        return _Candidate(rule.priority, raw.start, raw.end, rule.id, secret, bare)
    return None


def _utf16_candidates(rules: list[Rule], data: bytes) -> Iterator[_Candidate]:
    """Text rules over each UTF-16 run, with offsets mapped back to bytes."""
    for codec, shift, runs in _UTF16_RUNS:
        for run in runs.finditer(data):
            text = run.group().decode(codec)
            for rule in rules:
                for cand in _text_candidates(rule, text):
                    start = run.start() + 2 * cand.start + shift
                    yield _Candidate(cand.priority, start, start + 2 * len(cand.secret), cand.rule_id, cand.secret)


_sre_parse: Any = getattr(re, "_parser", None) or importlib.import_module("sre_parse")  # re._parser from 3.11
_sre: Any = getattr(re, "_constants", None) or importlib.import_module("sre_constants")
