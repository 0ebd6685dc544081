"""Exit statuses: 1 means findings and nothing else; a failure nobody foresaw is 2 with one line."""
from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

from scanner import __version__
from scanner.exitcodes import Exit, found
from tests.conftest import git

KEYSENTRY = str(Path(sys.executable).with_name("keysentry"))


def test_the_statuses_are_the_contracts() -> None:
    assert (Exit.CLEAN, Exit.FINDINGS, Exit.ERROR) == (0, 1, 2)
    assert (found(False), found(True)) == (Exit.CLEAN, Exit.FINDINGS)


def _starved_of_file_descriptors(repo: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A real scan under a limit of 8 open files: the first pipe to git fails (EMFILE) where
    nothing expects it, as on a machine whose limits someone else set."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (8, 8))

    return subprocess.run([KEYSENTRY, "scan", "--history", "--jobs", "1", str(repo)], capture_output=True,
                          text=True, env={**os.environ, **env}, preexec_fn=limit, timeout=60)


def test_an_unexpected_failure_is_one_line_and_exit_2(repo: Path) -> None:
    (repo / "app.py").write_text("x = 1\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "start")
    env = {k: v for k, v in os.environ.items() if k != "KEYSENTRY_DEBUG"}
    proc = subprocess.run([KEYSENTRY, "scan", "--history", "--jobs", "1", str(repo)], capture_output=True,
                          text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr  # the same scan, unstarved, is clean

    proc = _starved_of_file_descriptors(repo, {"KEYSENTRY_DEBUG": ""})
    assert proc.returncode == Exit.ERROR, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("keysentry: internal error: OSError: [Errno 24]"), lines
    assert f"keysentry {__version__}" in lines[0] and "KEYSENTRY_DEBUG=1" in lines[0] and "/issues" in lines[0]


def test_keysentry_debug_shows_the_traceback_and_still_exits_2(repo: Path) -> None:
    proc = _starved_of_file_descriptors(repo, {"KEYSENTRY_DEBUG": "1"})
    assert proc.returncode == Exit.ERROR, proc.stderr
    assert proc.stderr.startswith("Traceback (most recent call last):"), proc.stderr
    assert proc.stderr.splitlines()[-1].startswith("keysentry: internal error: OSError")
