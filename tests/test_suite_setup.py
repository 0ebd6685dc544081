"""The suite's own set-up, which every test that starts a process relies on."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import hostile
from tests.conftest import GIT_ENV


def test_a_process_the_suite_starts_can_be_interrupted() -> None:
    # A suite started in the background (`pytest &`, a CI runner) inherits SIGINT ignored, and an
    # ignored signal stays ignored across exec: the tests that press Ctrl-C on keysentry would
    # then see it go on. conftest.py gives SIGINT its default back before any test starts one.
    child = subprocess.run([sys.executable, "-c", "import signal; print(signal.getsignal(signal.SIGINT).__name__)"],
                           capture_output=True, text=True, check=True)
    assert child.stdout.strip() == "default_int_handler"


@pytest.mark.parametrize("forked", [True, False], ids=["forked-run", "console-script"])
def test_a_run_past_its_timeout_is_killed_with_the_processes_it_started(tmp_path: Path, forked: bool) -> None:
    # A hung scan holds git (and pool workers): killing only keysentry would leave them running
    # after the test, holding the 2-core machine's CPU or a repository's files. The stand-in git
    # hangs at keysentry's first call; both ways of running keysentry must take it down too.
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    pid_file = tmp_path / "git.pid"
    git = fake_bin / "git"
    git.write_text(f"#!/bin/sh\necho $$ > {pid_file}\nexec sleep 300\n")
    git.chmod(0o755)
    env = {"PATH": f"{fake_bin}{os.pathsep}{os.environ['PATH']}"}
    if not forked:
        env["PYTHONHASHSEED"] = "7"  # a variable an interpreter reads as it starts: no fork server
    assert hostile._FORKS.serves({**os.environ, **GIT_ENV, **env}, tmp_path) is forked
    with pytest.raises(AssertionError, match="did not finish within"):
        hostile.keysentry("scan", "--history", ".", cwd=tmp_path, env=env, timeout=3)
    git_pid = int(pid_file.read_text())
    assert _ends_within(git_pid, seconds=5), "the hung git outlived the timed-out run"


def _ends_within(pid: int, seconds: float) -> bool:
    """Whether PID is gone (or a zombie waiting for init) before SECONDS pass."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.05)
    return False
