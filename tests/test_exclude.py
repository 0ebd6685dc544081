"""The `exclude` matcher: pathspec's GitIgnoreSpec answers, at a cost per path that does not grow
with the number of patterns (issue 23: 100,000 patterns took 24 ms a file)."""
from __future__ import annotations

import time

import pathspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.exclude import BadPattern, Matcher

_WORDS = st.sampled_from(["src", "vendor", "a", "b.py", "x.min.js", "keep", "gen", ".env", "build-1"])
_PART = st.one_of(_WORDS, st.sampled_from(["*", "**", "*.py", "*.min.js", "build-*", "b*", "*.env", "[ab]",
                                           "?", "*en*", "!", "#c", "."]))
_PATTERN = st.builds(lambda neg, lead, parts, slash: ("!" if neg else "") + ("/" if lead else "")
                     + "/".join(parts) + ("/" if slash else ""),
                     st.booleans(), st.booleans(), st.lists(_PART, min_size=1, max_size=4), st.booleans())
_PATH = st.lists(_WORDS, min_size=1, max_size=5).map("/".join)


def _spec(patterns: list[str]) -> pathspec.GitIgnoreSpec | None:
    try:
        return pathspec.GitIgnoreSpec.from_lines(patterns)
    except (ValueError, Exception):  # noqa: BLE001 - a pattern pathspec refuses: both must refuse it
        return None


@settings(max_examples=400, deadline=None)
@given(st.lists(_PATTERN, max_size=12), st.lists(_PATH, min_size=1, max_size=8))
def test_the_matcher_answers_as_gitignore_spec_does(patterns: list[str], paths: list[str]) -> None:
    spec = _spec(patterns)
    if spec is None:
        with pytest.raises(BadPattern):  # refused up front, never halfway through a scan
            Matcher.build(patterns)
        return
    matcher = Matcher.build(patterns)
    for path in paths:
        assert matcher(path) == spec.match_file(path), (patterns, path)


def test_a_negation_after_a_folder_pattern_decides_as_gitignore_spec() -> None:
    patterns = ["gen/", "!gen/keep.py", "*.snap", "!deep/keep.snap", "**/fixtures/"]
    spec = pathspec.GitIgnoreSpec.from_lines(patterns)
    matcher = Matcher.build(patterns)
    for path in ("gen/a.py", "gen/keep.py", "x/a.snap", "deep/keep.snap", "t/fixtures/k.py", "fixtures", "src/a.py"):
        assert matcher(path) == spec.match_file(path), path


def _per_path(count: int, paths: list[str]) -> float:
    patterns = [f"vendor/lib{i}/**/*.min.js" for i in range(count)] + [f"gen{i}/" for i in range(count)] \
        + [f"*.ext{i}" for i in range(count)]
    matcher = Matcher.build(patterns)
    started = time.perf_counter()
    for _ in range(5):
        for path in paths:
            matcher(path)
    return time.perf_counter() - started


def test_matching_costs_the_same_with_100_or_100000_patterns() -> None:
    # The ratio of two times measured in this run: a loaded machine slows both alike. Trying every
    # pattern on every path, as before, makes it about 1,000.
    paths = [f"src/pkg{i % 50}/deep/er/mod{i}.py" for i in range(2000)] + ["gen7/x.py", "a/b.ext9"]
    small = _per_path(100, paths)
    large = _per_path(100_000, paths)
    assert large < 4 * small + 0.05, (small, large)
