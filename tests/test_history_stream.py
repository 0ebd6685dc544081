"""`scan --history` streams git's walk into the scan: a blob is read the first time it turns up,
and every later path it turns up at is judged from what it held. These stories put one blob at
several paths, in one commit and across commits (git walks newest first), with `exclude` and a
whole-file rule in play; the streamed scan must report what the listed walk (the one a progress
bar needs) reports, with the same stats, and what the story expects."""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from scanner import scan
from tests.conftest import git, google_key, random_chars
from tests.test_history import commit, write

Build = Callable[[Path], set[tuple[str, str]]]  # writes the commits; returns the (rule_id, path) expected


def _key_copied_later(repo: Path) -> set[tuple[str, str]]:
    text = f'KEY = "{google_key()}"\n'
    write(repo, "a.py", text)
    commit(repo, 1)
    write(repo, "b.py", text)
    commit(repo, 2)
    return {("google-api-key", "a.py"), ("google-api-key", "b.py")}


def _same_commit(repo: Path) -> set[tuple[str, str]]:
    text = f'KEY = "{google_key()}"\n'
    for rel in ("x/one.py", "y/two.py", "z/three.py"):
        write(repo, rel, text)
    commit(repo, 1)
    return {("google-api-key", rel) for rel in ("x/one.py", "y/two.py", "z/three.py")}


def _text_later_at_env(repo: Path) -> set[tuple[str, str]]:
    # Read first at notes.txt (nothing there), then seen at .env, where the whole file is a finding.
    text = f"SERVICE_TOKEN={random_chars(24)}\n"
    write(repo, "notes.txt", text)
    commit(repo, 1)
    write(repo, "deploy/.env", text)
    commit(repo, 2)
    git(repo, "rm", "-q", "notes.txt")
    commit(repo, 3)
    return {("dotenv-file", "deploy/.env")}


def _env_then_text(repo: Path) -> set[tuple[str, str]]:
    text = f"SERVICE_TOKEN={random_chars(24)}\n"
    write(repo, ".env", text)
    commit(repo, 1)
    write(repo, "copy.txt", text)
    commit(repo, 2)
    return {("dotenv-file", ".env")}


def _excluded_first(repo: Path) -> set[tuple[str, str]]:
    # The newest commit (walked first) has the blob only at an excluded path.
    write(repo, ".keysentry.toml", 'exclude = ["vendor/"]\n')
    text = f'KEY = "{google_key()}"\n'
    write(repo, "src/k.py", text)
    commit(repo, 1)
    write(repo, "vendor/k.py", text)
    commit(repo, 2)
    return {("google-api-key", "src/k.py")}


def _excluded_only(repo: Path) -> set[tuple[str, str]]:
    write(repo, ".keysentry.toml", 'exclude = ["vendor/"]\n')
    write(repo, "vendor/k.py", f'KEY = "{google_key()}"\n')
    write(repo, "vendor/copy/k.py", f'KEY = "{google_key()}"\n')
    commit(repo, 1)
    return set()


@dataclass(frozen=True)
class Story:
    id: str
    build: Build
    excluded: int  # blobs seen at excluded paths only


STORIES = [
    Story("key-copied-in-a-later-commit", _key_copied_later, 0),
    Story("one-blob-at-three-paths-of-one-commit", _same_commit, 0),
    Story("text-file-later-committed-as-env", _text_later_at_env, 0),
    Story("env-later-copied-to-a-text-file", _env_then_text, 0),
    Story("newest-commit-has-it-only-at-an-excluded-path", _excluded_first, 0),
    Story("only-at-excluded-paths", _excluded_only, 2),
]


def _scan(repo: Path, listed: bool, jobs: int) -> tuple[list[tuple[str, str, int, str | None]], dict[str, object]]:
    # progress=True takes the listed walk (a bar needs its totals); stderr is no terminal here.
    result = scan.run(scan.Request("history", repo, jobs=jobs, progress=listed))
    stats = result.stats.as_dict()
    stats.pop("seconds")
    return sorted((f.rule_id, f.path, f.line, f.commit) for f in result.findings), stats


@pytest.mark.parametrize("story", STORIES, ids=[s.id for s in STORIES])
@pytest.mark.parametrize("jobs", [1, 2], ids=["jobs1", "jobs2"])
def test_streamed_history_reports_every_path_a_blob_turns_up_at(story: Story, jobs: int, repo: Path) -> None:
    expected = story.build(repo)
    streamed, stats = _scan(repo, listed=False, jobs=jobs)
    assert {(rule, path) for rule, path, _, _ in streamed} == expected
    assert stats["excluded"] == story.excluded
    assert (streamed, stats) == _scan(repo, listed=True, jobs=jobs)


@pytest.mark.parametrize("jobs", [1, 2], ids=["jobs1", "jobs2"])
def test_streamed_history_skips_a_blob_over_the_size_limit_and_reads_the_ones_after_it(jobs: int, repo: Path) -> None:
    # Git says each size before the content: the big blob is never read, and cat-file starts
    # again for the blobs the same batch asked for after it.
    write(repo, "big.py", f'KEY = "{google_key()}"\n' + "# padding\n" * 300)
    for n in range(5):
        write(repo, f"small{n}.py", f'KEY = "{google_key()}"\n')
    commit(repo, 1)

    def scanned(listed: bool) -> tuple[set[str], dict[str, object]]:
        result = scan.run(scan.Request("history", repo, jobs=jobs, max_file_size=1000, progress=listed))
        stats = result.stats.as_dict()
        stats.pop("seconds")
        return {f.path for f in result.findings}, stats

    paths, stats = scanned(listed=False)
    assert paths == {f"small{n}.py" for n in range(5)}
    assert (stats["skipped_large"], stats["skipped_large_paths"], stats["blobs"]) == (1, ["big.py"], 5)
    assert (paths, stats) == scanned(listed=True)


@pytest.mark.parametrize("jobs", [1, 2], ids=["jobs1", "jobs2"])
def test_a_log_longer_than_one_read_of_gits_output_loses_no_path_and_no_commit(jobs: int, repo: Path) -> None:
    # git's log comes in reads of 64 KiB; with 900 long paths the raw lines and paths of three
    # commits fall across several of them, at whatever byte a read happens to end.
    expected = set()
    for day in range(1, 4):
        for n in range(300):
            rel = f"deep/{'nested-folder-' * 8}{day}/file-{n:03d}-{'x' * (n % 40)}.py"
            write(repo, rel, f'KEY = "{google_key()}"\n')
            expected.add(("google-api-key", rel))
        commit(repo, day)
    found, stats = _scan(repo, listed=False, jobs=jobs)
    assert {(rule, path) for rule, path, _, _ in found} == expected
    assert stats["commits"] == 3 and stats["blobs"] == 900
    assert (found, stats) == _scan(repo, listed=True, jobs=jobs)


def test_the_workers_read_with_batch_commands_and_git_is_asked_its_version_once(
        repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Each worker's cat-file speaks --batch-command when git has it (2.36): the walk asks git's
    # version once, before the workers fork, instead of a `git --version` in each worker of each
    # phase. Every git the scan starts goes through a logging wrapper around the real one. (The
    # one commit's message is read in the scan's own process, with --batch: a handful of objects.)
    import shutil
    import stat

    from scanner import gitcmd

    real = shutil.which("git")
    assert real is not None
    folder = tmp_path / "bin"
    folder.mkdir()
    log = tmp_path / "git.log"
    wrapper = folder / "git"
    wrapper.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{log}"\nexec "{real}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    for n in range(600):  # batches for both workers
        write(repo, f"f{n:03d}.py", f"value = {n}\n" if n != 70 else f'KEY = "{google_key()}"\n')
    commit(repo, 1)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    gitcmd.version.cache_clear()
    try:
        found, _ = _scan(repo, listed=False, jobs=2)
    finally:
        gitcmd.version.cache_clear()  # the wrapper's folder goes with tmp_path
    assert [(rule, path) for rule, path, _, _ in found] == [("google-api-key", "f070.py")]
    calls = log.read_text().splitlines()
    assert sum(1 for c in calls if c == "--version") == 1
    readers = [c for c in calls if c.endswith(" cat-file --batch-command --buffer")]
    assert len(readers) == (2 if gitcmd.version() >= (2, 36) else 0)
