"""A CI checkout is shallow by default: `--range` or `--history` there must say what to do, in one
line (fetch-depth: 0, git fetch --unshallow), not only git's `bad revision`."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import GIT_ENV, git
from tests.hostile import expect_error, keysentry


@pytest.fixture
def shallow(tmp_path: Path) -> tuple[Path, list[str]]:
    origin = tmp_path / "origin"
    origin.mkdir()
    git(origin, "init", "-q", "-b", "main")
    shas = []
    for n in range(3):
        (origin / f"f{n}.txt").write_text(f"{n}\n")
        git(origin, "add", "-A")
        git(origin, "commit", "-qm", f"commit {n}")
        shas.append(git(origin, "rev-parse", "HEAD"))
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{origin}", str(clone)], check=True,
                   env={**os.environ, **GIT_ENV})
    return clone, shas


RANGES = {
    "a sha the clone never fetched": lambda shas: f"{shas[0]}..HEAD",
    "a relative revision past the cut": lambda shas: "HEAD~1..HEAD",
    "a branch the clone lacks": lambda shas: "origin/feature..HEAD",
}


@pytest.mark.parametrize("make", RANGES.values(), ids=RANGES.keys())
def test_range_in_a_shallow_clone_says_fetch_depth_0(shallow: tuple[Path, list[str]], make) -> None:  # type: ignore[no-untyped-def]
    clone, shas = shallow
    line = expect_error(keysentry("scan", "--range", make(shas), ".", cwd=clone), "shallow clone")
    assert "fetch-depth: 0" in line and "git fetch --unshallow" in line


def test_missing_revision_in_a_full_clone_gets_no_shallow_advice(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "commit", "-q", "--allow-empty", "-m", "one")
    for revision_range in ("HEAD~5..HEAD", f"{'1' * 40}..HEAD"):
        line = expect_error(keysentry("scan", "--range", revision_range, ".", cwd=repo), "bad revision")
        assert "shallow" not in line


def test_range_within_a_shallow_clone_still_scans(shallow: tuple[Path, list[str]]) -> None:
    clone, shas = shallow
    proc = keysentry("scan", "--range", f"{shas[2]}^!", ".", cwd=clone)
    assert proc.returncode == 0, proc.stderr
