"""The config's `exclude` patterns as one matcher whose cost per path does not grow with the number
of patterns.

pathspec's GitIgnoreSpec tries every pattern on every path (100,000 patterns: 24 ms a file), and
its one-matcher backends compile for minutes on that many `**` patterns. Most patterns name a
plain folder or file (`vendor/`, `docs/x.md`) or an extension (`*.min.js`), and such a pattern can
match a path only if one of the path's folders or its name is that word, or ends or starts with
it. So each pattern is filed under such a word, and a path looks up its own folders and names:
only the few patterns filed there are tried, each translated and compiled by pathspec the first
time a path needs it. Which pattern decides is git's rule (`git check-ignore`, which the tests ask):
a folder on the way that the last pattern matching it excludes excludes everything below it, for
good; else the last pattern that matches the file decides. (pathspec's own backends disagree with
each other, and with git, on some negations after folder patterns.) Patterns of other shapes (`*foo*`, `[ab]c`) are tried
on every path, as before."""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from pathspec.patterns.gitignore.spec import _DIR_MARK_CG, _DIR_MARK_OPT, GitIgnoreSpecPattern
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
    _exact: re.Pattern[str] | None = None  # matches a path that the pattern names itself
    _folders_only: bool = False  # `build/`: names folders, never a file

    def _ready(self) -> re.Pattern[str] | None:
        if self.compiled is None:
            self.compiled = GitIgnoreSpecPattern(self.text)
        if self._exact is None and self.compiled.include is not None and self.compiled.regex is not None:
            regex = str(self.compiled.regex.pattern)
            if self.text.endswith("/**/") and len(self.text.lstrip("!/")) > 4:
                # pathspec reads `a/**/` as `a/`; to git it is every folder below a, not a itself.
                regex = str(GitIgnoreSpecPattern(self.text + "*/").regex.pattern)  # type: ignore[union-attr]
            if regex.endswith(_DIR_MARK_OPT):
                regex = regex[:-len(_DIR_MARK_OPT)] + "$"
            elif _DIR_MARK_CG in regex:
                regex = regex.replace(_DIR_MARK_CG, "$")
                self._folders_only = True
            self._exact = re.compile(regex)
        return self._exact

    @property
    def include(self) -> bool:
        """True: the pattern excludes what it names (pathspec's "include" in its spec); False: `!`."""
        self._ready()
        assert self.compiled is not None
        return bool(self.compiled.include)

    def names(self, path: str, folder: bool) -> bool:
        """Does the pattern name PATH, a folder (FOLDER) or a file?"""
        exact = self._ready()
        if exact is None or (self._folders_only and not folder):
            return False
        return exact.search(path) is not None  # as pathspec: its regexes anchor themselves


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
        for index, (text, found) in enumerate(zip(texts, keys, strict=True)):
            pattern = _Pattern(text)
            matcher.patterns.append(pattern)
            if not found:
                try:
                    pattern.compiled = GitIgnoreSpecPattern(text)  # checked now: a bad one is a config error
                except (ValueError, re.error) as exc:
                    raise BadPattern(f"{text!r}: {exc}") from None
                # `!/`, `//`: git matches nothing with them (pathspec reads `!/` as every folder).
                if pattern.compiled.include is not None and pattern.compiled.regex is not None \
                        and text.lstrip("!").strip("/"):
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
        candidates = sorted(self._candidates(path), reverse=True)  # the last pattern first
        parts = path.split("/")
        for depth in range(1, len(parts)):
            # git never looks below a folder it excludes: no later `!` brings its files back.
            folder = "/".join(parts[:depth])
            last = next((self.patterns[i] for i in candidates if self.patterns[i].names(folder, True)), None)
            if last is not None and last.include:
                return True
        last = next((self.patterns[i] for i in candidates if self.patterns[i].names(path, False)), None)
        return last is not None and last.include

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
