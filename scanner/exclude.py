"""The config's `exclude` patterns as one matcher whose cost per path does not grow with the number
of patterns.

pathspec's GitIgnoreSpec tries every pattern on every path (100,000 patterns: 24 ms a file), and
its one-matcher backends compile for minutes on that many `**` patterns. Most patterns name a
plain folder or file (`vendor/`, `docs/x.md`) or an extension (`*.min.js`), and such a pattern can
match a path only if one of the path's folders or its name is that word, or ends or starts with
it. So each pattern is filed under such a word, and a path looks up its own folders and names:
only the few patterns filed there are tried, each translated and compiled by pathspec the first
time a path needs it. Which pattern decides is exactly GitIgnoreSpec's rule (the last pattern that
matches the path as a file, else the last that matches a folder on its way), applied to those
candidates, so the answer is pathspec's own. Patterns of other shapes (`*foo*`, `[ab]c`) are tried
on every path, as before."""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from pathspec.patterns.gitignore.spec import _DIR_MARK, GitIgnoreSpecPattern
from pathspec.util import normalize_file

# A pattern made only of such characters needs no validation: pathspec cannot refuse it.
_PLAIN_PATTERN = re.compile(r"!?/?(?:\*\*/)?[A-Za-z0-9._*/-]*[A-Za-z0-9._-][A-Za-z0-9._*/-]*")
_WORD = re.compile(r"[A-Za-z0-9._-]+")
_GLOB_SUFFIX = re.compile(r"\*([A-Za-z0-9._-]+)")  # `*.min.js`: a name that ends so
_GLOB_PREFIX = re.compile(r"([A-Za-z0-9._-]+)\*")  # `build-*`: a name that starts so


class BadPattern(ValueError):
    """A pattern pathspec refuses."""


@dataclass
class _Pattern:
    text: str
    compiled: GitIgnoreSpecPattern | None = None

    def match(self, path: str) -> tuple[bool, int] | None:
        """(include, priority) as GitIgnoreSpec judges it, or None when it does not match PATH."""
        if self.compiled is None:
            self.compiled = GitIgnoreSpecPattern(self.text)
        include = self.compiled.include
        if include is None:
            return None
        found = self.compiled.match_file(path)
        if found is None:
            return None
        return include, 1 if found.match.groupdict().get(_DIR_MARK) else 2


@dataclass
class Matcher:
    """Which paths the patterns exclude (gitignore rules, as pathspec.GitIgnoreSpec says)."""

    patterns: list[_Pattern] = field(default_factory=list)
    names: dict[str, list[int]] = field(default_factory=dict)  # a folder or file name -> patterns
    suffixes: dict[str, list[int]] = field(default_factory=dict)
    prefixes: dict[str, list[int]] = field(default_factory=dict)
    everywhere: list[int] = field(default_factory=list)
    _suffix_lengths: tuple[int, ...] = ()
    _prefix_lengths: tuple[int, ...] = ()

    @classmethod
    def build(cls, patterns: Iterable[str]) -> "Matcher":
        """Raises BadPattern for a pattern pathspec refuses."""
        texts = list(patterns)
        # A word many patterns share (`src`) would file them all together: each pattern goes under
        # its rarest word.
        counts: dict[tuple[str, str], int] = {}
        keys = [_keys(text) for text in texts]
        for found in keys:
            for key in set(found):
                counts[key] = counts.get(key, 0) + 1
        matcher = cls()
        for index, (text, found) in enumerate(zip(texts, keys)):
            pattern = _Pattern(text)
            matcher.patterns.append(pattern)
            if not found:
                try:
                    pattern.compiled = GitIgnoreSpecPattern(text)  # checked now: a bad one is a config error
                except (ValueError, re.error) as exc:
                    raise BadPattern(f"{text!r}: {exc}") from None
                if pattern.compiled.include is not None:
                    matcher.everywhere.append(index)
                continue
            kind, word = min(found, key=lambda k: counts[k])
            table = {"name": matcher.names, "suffix": matcher.suffixes, "prefix": matcher.prefixes}[kind]
            table.setdefault(word, []).append(index)
        matcher._suffix_lengths = tuple(sorted({len(s) for s in matcher.suffixes}))
        matcher._prefix_lengths = tuple(sorted({len(s) for s in matcher.prefixes}))
        return matcher

    def __call__(self, path: str) -> bool:
        path = normalize_file(path)
        candidates = self._candidates(path)
        include: bool | None = None
        priority = 0
        # GitIgnoreSpec's reversed walk: the last pattern that matches as a file decides; until one
        # does, the last that matches a folder on the way.
        for index in sorted(candidates, reverse=True):
            judged = self.patterns[index].match(path)
            if judged is None:
                continue
            if judged[1] > priority:
                include, priority = judged
            if priority == 2:
                break
        return bool(include)

    def _candidates(self, path: str) -> set[int]:
        found = set(self.everywhere)
        for name in path.split("/"):
            found.update(self.names.get(name, ()))
            for n in self._suffix_lengths:
                if n > len(name):
                    break
                found.update(self.suffixes.get(name[-n:], ()))
            for n in self._prefix_lengths:
                if n > len(name):
                    break
                found.update(self.prefixes.get(name[:n], ()))
        return found


def _keys(text: str) -> list[tuple[str, str]]:
    """Every word one of whose kinds a path must hold for TEXT to match it: ("name", w) a folder or
    the file named w, ("suffix", w) a name ending in w after at least one character, ("prefix", w)
    one starting so. Empty: the pattern is not of a shape filed under words."""
    if not _PLAIN_PATTERN.fullmatch(text):
        return []
    keys: list[tuple[str, str]] = []
    parts = text.lstrip("!").split("/")
    if "." in parts or ".." in parts:
        return []  # not a name a path holds: left to pathspec on every path
    for part in parts:
        if _WORD.fullmatch(part):
            keys.append(("name", part))
        elif (m := _GLOB_SUFFIX.fullmatch(part)) is not None:
            keys.append(("suffix", m[1]))
        elif (m := _GLOB_PREFIX.fullmatch(part)) is not None:
            keys.append(("prefix", m[1]))
    return keys
