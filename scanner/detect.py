"""The engine: keyword prefilter, rule patterns, overlap resolution, line and column.

It sees bytes and a path, never git or a terminal, so it is tested with hand-made inputs.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from scanner import content
from scanner.filters import has_allow_pragma
from scanner.models import Match
from scanner.rules import CONTENT_RULES, FILE_RULES, FileRule, Rule
from scanner.rules.dotenv import first_value


@dataclass(frozen=True)
class Scanned:
    """What one piece of content holds."""

    matches: tuple[Match, ...]
    allowed: int  # matches dropped by an inline pragma or an `allow` regex
    binary: bool


_NOTHING = Scanned((), 0, False)


@dataclass(frozen=True)
class _Candidate:
    priority: int
    start: int
    end: int
    rule_id: str
    secret: str


def _overlaps(a: _Candidate, b: _Candidate) -> bool:
    return a.start < b.end and b.start < a.end


@dataclass(frozen=True)
class Detector:
    rules: tuple[Rule, ...] = CONTENT_RULES
    file_rules: tuple[FileRule, ...] = FILE_RULES
    allow: tuple[re.Pattern[str], ...] = ()

    @classmethod
    def configured(cls, disabled: Iterable[str] = (), allow: Iterable[re.Pattern[str]] = ()) -> "Detector":
        off = set(disabled)
        return cls(
            rules=tuple(r for r in CONTENT_RULES if r.id not in off),
            file_rules=tuple(r for r in FILE_RULES if r.id not in off),
            allow=tuple(allow),
        )

    def scan(self, data: bytes, path: str = "") -> Scanned:
        """Every secret in `data`; `path` matters only to whole-file rules such as dotenv-file."""
        if content.is_binary(data):
            return self._scan_binary(data)
        utf16 = b"\0" in data[:8192] or data[:2] in (b"\xff\xfe", b"\xfe\xff")
        file_rules = [r for r in self.file_rules if r.path.search(path)]
        if utf16:
            text = content.decode(data)
            lowered = text.lower().encode("utf-8", "replace")
        else:
            text = None
            lowered = data.lower()
        active = [(i, r) for i, r in enumerate(self.rules) if any(k in lowered for k in r.keywords)]
        if not active and not file_rules:
            return _NOTHING
        if text is None:
            text = content.decode(data)
        candidates: list[_Candidate] = []
        for priority, rule in active:
            if rule.requires is not None and not rule.requires.search(text):
                continue
            for pattern in rule.patterns:
                has_bare = "bare" in pattern.groupindex
                for m in pattern.finditer(text):
                    group = "bare" if has_bare and m["bare"] is not None else "secret"
                    secret = m[group]
                    if rule.accept(secret, group == "secret" and "q" in pattern.groupindex):
                        candidates.append(_Candidate(priority, m.start(group), m.end(group), rule.id, secret))
        matches, allowed = self._resolve(candidates, text)
        for rule in file_rules:
            whole = self._file_match(rule, path, text, matches)
            if whole is not None:
                matches.append(whole)
        return Scanned(tuple(matches), allowed, False)

    def _resolve(self, candidates: list[_Candidate], text: str) -> tuple[list[Match], int]:
        """Keep one match per secret span: specific rules first, then earlier in the file."""
        kept: list[_Candidate] = []
        for cand in sorted(candidates, key=lambda c: (c.priority, c.start)):
            if not any(_overlaps(cand, k) for k in kept):
                kept.append(cand)
        matches: list[Match] = []
        allowed = 0
        for cand in sorted(kept, key=lambda c: c.start):
            line_start = text.rfind("\n", 0, cand.start) + 1
            line_end = text.find("\n", cand.start)
            line_text = text[line_start: line_end if line_end >= 0 else len(text)]
            if has_allow_pragma(line_text) or any(a.search(cand.secret) for a in self.allow):
                allowed += 1
                continue
            line = text.count("\n", 0, cand.start) + 1
            matches.append(Match(cand.rule_id, cand.secret, line, cand.start - line_start + 1, cand.secret))
        return matches, allowed

    def _file_match(self, rule: FileRule, path: str, text: str, found: list[Match]) -> Match | None:
        if rule.template.search(path):
            # A template documents variables; it is a leak only if it holds a real secret.
            return Match(rule.id, found[0].secret, 0, 0, "") if found else None
        value = first_value(text)
        return Match(rule.id, value, 0, 0, "") if value else None

    def _scan_binary(self, data: bytes) -> Scanned:
        """Fixed-format credentials inside compiled files, matched on bytes: nothing is decoded as text."""
        lowered = data.lower()
        candidates: list[_Candidate] = []
        for priority, rule in enumerate(self.rules):
            if not rule.binary_patterns or not any(k in lowered for k in rule.keywords):
                continue
            for pattern in rule.binary_patterns:
                for m in pattern.finditer(data):
                    secret = m["secret"].decode("ascii")
                    if rule.accept(secret, False):
                        candidates.append(_Candidate(priority, m.start("secret"), m.end("secret"), rule.id, secret))
        kept: list[_Candidate] = []
        for cand in sorted(candidates, key=lambda c: (c.priority, c.start)):
            if not any(_overlaps(cand, k) for k in kept):
                kept.append(cand)
        matches = []
        allowed = 0
        for cand in sorted(kept, key=lambda c: c.start):
            if any(a.search(cand.secret) for a in self.allow):
                allowed += 1
                continue
            line_start = data.rfind(b"\n", 0, cand.start) + 1
            matches.append(Match(cand.rule_id, cand.secret, data.count(b"\n", 0, cand.start) + 1,
                                 cand.start - line_start + 1, cand.secret))
        return Scanned(tuple(matches), allowed, True)
