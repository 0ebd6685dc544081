"""The engine: keyword prefilter, rule patterns, overlap resolution, line and column.

It sees bytes and a path, never git or a terminal, so it is tested with hand-made inputs.
"""
from __future__ import annotations

import heapq
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

from scanner import content
from scanner.filters import has_allow_pragma
from scanner.models import Match
from scanner.rules import CONTENT_RULES, FILE_RULES, FileRule, Rule
from scanner.rules.dotenv import first_value


class AllowRule(Protocol):
    """An `allow` pattern: a compiled regex, or config's time-bounded wrapper of one."""

    def search(self, text: str, /) -> object: ...


@dataclass(frozen=True)
class Scanned:
    """What one piece of content holds."""

    matches: tuple[Match, ...]
    allowed: int  # matches dropped by an inline pragma or an `allow` regex
    binary: bool


_NOTHING = Scanned((), 0, False)
_NOTHING_BINARY = Scanned((), 0, True)


@dataclass(frozen=True)
class _Candidate:
    priority: int
    start: int
    end: int
    rule_id: str
    secret: str


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


class _Lines:
    """Line, column and line text of increasing offsets, reading the file once however long its lines."""

    def __init__(self, text: str | bytes) -> None:
        self._text = text
        self._newline = "\n" if isinstance(text, str) else b"\n"
        self._offset = 0
        self._line = 1
        self._line_start = 0
        self._line_end: int | None = None

    def locate(self, offset: int) -> tuple[int, int]:
        """(line, column) of `offset`; offsets must not decrease between calls."""
        newlines = self._text.count(self._newline, self._offset, offset)  # type: ignore[arg-type]
        if newlines:
            self._line += newlines
            self._line_start = self._text.rfind(self._newline, self._offset, offset) + 1  # type: ignore[arg-type]
            self._line_end = None
        self._offset = offset
        return self._line, offset - self._line_start + 1

    def line_span(self) -> tuple[int, int]:
        """Start and end of the line the last offset is on."""
        if self._line_end is None:
            end = self._text.find(self._newline, self._offset)  # type: ignore[arg-type]
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

    @classmethod
    def configured(cls, disabled: Iterable[str] = (), allow: Iterable[AllowRule] = ()) -> "Detector":
        off = set(disabled)
        return cls(
            rules=tuple(r for r in CONTENT_RULES if r.id not in off),
            file_rules=tuple(r for r in FILE_RULES if r.id not in off),
            allow=tuple(allow),
        )

    def scan(self, data: bytes, path: str = "") -> Scanned:
        """Every secret in `data`; `path` matters only to whole-file rules such as dotenv-file."""
        scanned = self.scan_content(data)
        whole = self.path_matches(path, data, scanned)
        return Scanned(scanned.matches + whole, scanned.allowed, scanned.binary) if whole else scanned

    def scan_content(self, data: bytes) -> Scanned:
        """Every secret the bytes hold, whatever path they occur at: the same for every copy of a blob."""
        kind = content.sniff(data)
        if kind == content.BINARY:
            return self._scan_binary(data)
        if kind == content.NARROW:
            text: str | None = None  # decoded only if some rule's keyword is in the bytes
            lowered = data.lower()
        else:
            text = content.decode(data, kind)
            lowered = text.lower().encode("utf-8", "replace")
        active = [(i, r) for i, r in enumerate(self.rules) if any(k in lowered for k in r.keywords)]
        if not active:
            return _NOTHING
        if text is None:
            text = content.decode(data, kind)
        candidates: list[_Candidate] = []
        lowered_text: str | None = None
        for priority, rule in active:
            if rule.requires is not None and not rule.requires.search(text):
                continue
            spans = None
            if rule.anchors:
                lowered_text = text.lower() if lowered_text is None else lowered_text
                spans = _windows(rule, text, lowered_text)
            candidates.extend(_text_candidates(priority, rule, text, spans))
        matches, allowed = self._resolve(_keep_disjoint(candidates), text)
        return Scanned(tuple(matches), allowed, False)

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

    def _resolve(self, kept: list[_Candidate], text: str) -> tuple[list[Match], int]:
        """Matches for the kept candidates, minus those an inline pragma or an allow regex silences."""
        matches: list[Match] = []
        allowed = 0
        lines = _Lines(text)
        pragma_lines: dict[int, bool] = {}
        for cand in kept:
            line, column = lines.locate(cand.start)
            if line not in pragma_lines:
                start, end = lines.line_span()
                pragma_lines[line] = has_allow_pragma(text[start:end])
            if pragma_lines[line] or any(a.search(cand.secret) for a in self.allow):
                allowed += 1
                continue
            matches.append(Match(cand.rule_id, cand.secret, line, column, cand.secret))
        return matches, allowed

    def _file_match(self, rule: FileRule, path: str, data: bytes, found: tuple[Match, ...]) -> Match | None:
        if rule.template.search(path):
            # A template documents variables; it is a leak only if it holds a real secret.
            return Match(rule.id, found[0].secret, 0, 0, "") if found else None
        value = first_value(content.decode(data))
        return Match(rule.id, value, 0, 0, "") if value else None

    def _scan_binary(self, data: bytes) -> Scanned:
        """Fixed-format credentials inside compiled files, matched on bytes: nothing is decoded as text,
        except runs of UTF-16 characters, which are text stored two bytes a character."""
        binary_rules = [(i, r) for i, r in enumerate(self.rules) if r.binary_patterns]
        if not binary_rules:
            return _NOTHING_BINARY
        lowered = data.lower()
        candidates: list[_Candidate] = []
        wide: list[tuple[int, Rule]] = []
        for priority, rule in binary_rules:
            if any(k in lowered for k in rule.keywords):
                for pattern in rule.binary_patterns:
                    for m in pattern.finditer(data):
                        secret = m["secret"].decode("ascii")
                        if rule.accept(secret, False):
                            candidates.append(_Candidate(priority, m.start("secret"), m.end("secret"), rule.id, secret))
            if any(b"\0".join(k[i:i + 1] for i in range(len(k))) in lowered for k in rule.keywords):
                wide.append((priority, rule))
        if wide:
            candidates.extend(_utf16_candidates(wide, data))
        matches = []
        allowed = 0
        lines = _Lines(data)
        for cand in _keep_disjoint(candidates):
            if any(a.search(cand.secret) for a in self.allow):
                allowed += 1
                continue
            line, column = lines.locate(cand.start)
            matches.append(Match(cand.rule_id, cand.secret, line, column, cand.secret))
        return Scanned(tuple(matches), allowed, True)


def _windows(rule: Rule, text: str, lowered: str) -> list[tuple[int, int]] | None:
    """The merged stretches of `text` within the rule's reach of an anchor hit; None for all of it."""
    if len(lowered) != len(text):
        return None  # a few characters (İ) lower-case to two: offsets would not line up
    before, after = rule.reach
    hits = sorted(hit.span() for anchor in rule.anchors for hit in anchor.finditer(lowered))
    spans: list[tuple[int, int]] = []
    for hit_start, hit_end in hits:
        start, end = max(0, hit_start - before), min(len(text), hit_end + after)
        if spans and start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans


def _text_candidates(priority: int, rule: Rule, text: str,
                     spans: list[tuple[int, int]] | None = None) -> Iterator[_Candidate]:
    """The rule's accepted matches, in the whole text or only within `spans` (lookbehinds still
    see the text before a span)."""
    for start, end in spans if spans is not None else [(0, len(text))]:
        yield from _span_candidates(priority, rule, text, start, end)


def _span_candidates(priority: int, rule: Rule, text: str, start: int, end: int) -> Iterator[_Candidate]:
    for pattern in rule.patterns:
        has_bare = "bare" in pattern.groupindex
        has_name = "name" in pattern.groupindex and rule.reject_name is not None
        quoted = "q" in pattern.groupindex
        for m in pattern.finditer(text, start, end):
            group = "bare" if has_bare and m["bare"] is not None else "secret"
            if has_name and rule.reject_name(m["name"]):  # type: ignore[misc]
                continue
            secret = m[group]
            if rule.accept(secret, quoted and group == "secret"):
                yield _Candidate(priority, m.start(group), m.end(group), rule.id, secret)


def _utf16_candidates(rules: list[tuple[int, Rule]], data: bytes) -> Iterator[_Candidate]:
    """Text rules over each UTF-16 run, with offsets mapped back to bytes."""
    for codec, shift, runs in _UTF16_RUNS:
        for run in runs.finditer(data):
            text = run.group().decode(codec)
            for priority, rule in rules:
                for cand in _text_candidates(priority, rule, text):
                    start = run.start() + 2 * cand.start + shift
                    yield _Candidate(cand.priority, start, start + 2 * len(cand.secret), cand.rule_id, cand.secret)
