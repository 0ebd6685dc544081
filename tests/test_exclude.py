"""The `exclude` matcher: git's answers (`git check-ignore`), at a cost per path that does not grow
with the number of patterns (issue 23: 100,000 patterns took 24 ms a file)."""
from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

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


def _refused(patterns: list[str]) -> bool:
    try:
        pathspec.GitIgnoreSpec.from_lines(patterns)
    except Exception:  # a pattern pathspec refuses: the matcher must refuse it too
        return True
    return False


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One repository for the module's many check-ignore questions: `git init` is most of one's cost."""
    top = tmp_path_factory.mktemp("check-ignore")
    subprocess.run(["git", "init", "-q", str(top)], check=True)
    return top


def _git_ignores(patterns: list[str], paths: list[str], top: Path) -> set[str]:
    """What `git check-ignore` says of PATHS (created as files) under a .gitignore of PATTERNS, in
    the repository TOP (emptied first)."""
    for entry in top.iterdir():
        if entry.name != ".git":
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    (top / ".gitignore").write_text("".join(p + "\n" for p in patterns))
    for path in paths:
        (top / path).parent.mkdir(parents=True, exist_ok=True)
        (top / path).write_text("x\n")
    proc = subprocess.run(["git", "-c", "core.excludesFile=/dev/null", "check-ignore", "--no-index", "--stdin"],
                          cwd=top, input="".join(p + "\n" for p in paths), capture_output=True, text=True)
    assert proc.returncode in (0, 1), proc.stderr
    return set(proc.stdout.splitlines())


def _as_files(paths: list[str]) -> bool:
    """No path is a folder on the way to another (a path is a file here)."""
    return not any(other.startswith(path + "/") for path in paths for other in paths) and ".gitignore" not in paths


@settings(max_examples=300, deadline=None, derandomize=True)  # the same examples in every run: CI never meets a new one
@given(patterns=st.lists(_PATTERN, max_size=10), paths=st.lists(_PATH, min_size=1, max_size=6, unique=True))
def test_the_matcher_answers_as_git_check_ignore_does(checkout: Path, patterns: list[str], paths: list[str]) -> None:
    if _refused(patterns):
        with pytest.raises(BadPattern):  # refused up front, never halfway through a scan
            Matcher.build(patterns)
        return
    if not _as_files(paths):
        return
    matcher = Matcher.build(patterns)
    ignored = _git_ignores(patterns, paths, checkout)
    for path in paths:
        assert matcher(path) == (path in ignored), (patterns, path)


@pytest.mark.parametrize(("patterns", "path", "excluded"), [
    (["gen/", "!gen/keep.py"], "gen/keep.py", True),  # no file comes back from an excluded folder
    (["gen/*", "!gen/keep.py"], "gen/keep.py", False),  # ...but it does when only the files were
    (["src", "!*", "src"], "src/vendor", True),
    (["src", "!src", "src/"], "src/src", True),
    (["*.snap", "!deep/keep.snap"], "deep/keep.snap", False),
    (["**/fixtures/"], "t/fixtures/k.py", True),
    (["**/fixtures/"], "fixtures", False),  # a file named like the folder pattern
    (["a/**", "!a/keep"], "a/keep", False),
    (["src", "!/", "src/src", "!src/src"], "src/src", True),  # `!/` names nothing to git
])
def test_negations_after_folder_patterns_decide_as_git(patterns: list[str], path: str, excluded: bool,
                                                      tmp_path: Path) -> None:
    assert Matcher.build(patterns)(path) is excluded
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    assert (path in _git_ignores(patterns, [path], tmp_path)) is excluded


def _matcher(count: int) -> Matcher:
    return Matcher.build([f"vendor/lib{i}/**/*.min.js" for i in range(count)] + [f"gen{i}/" for i in range(count)]
                         + [f"*.ext{i}" for i in range(count)])


def _per_path(matcher: Matcher, paths: list[str]) -> float:
    started = time.perf_counter()
    for path in paths:
        matcher(path)
    return time.perf_counter() - started


def test_matching_costs_the_same_with_100_or_100000_patterns() -> None:
    # Two times measured in this run, in turn, the best of five each: a loaded machine (the suite's
    # other workers) slows both alike, and a pause hits one round, not the best one. Trying every
    # pattern on every path, as before, makes the ratio about 1,000.
    paths = [f"src/pkg{i % 50}/deep/er/mod{i}.py" for i in range(2000)] + ["gen7/x.py", "a/b.ext9"]
    matchers = _matcher(100), _matcher(100_000)
    rounds = [[_per_path(m, paths) for m in matchers] for _ in range(5)]
    small, large = (min(times) for times in zip(*rounds, strict=True))
    assert large < 4 * small + 0.01, (small, large)
