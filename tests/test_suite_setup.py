"""The suite's own set-up, which every test that starts a process relies on."""
from __future__ import annotations

import subprocess
import sys


def test_a_process_the_suite_starts_can_be_interrupted() -> None:
    # A suite started in the background (`pytest &`, a CI runner) inherits SIGINT ignored, and an
    # ignored signal stays ignored across exec: the tests that press Ctrl-C on keysentry would
    # then see it go on. conftest.py gives SIGINT its default back before any test starts one.
    child = subprocess.run([sys.executable, "-c", "import signal; print(signal.getsignal(signal.SIGINT).__name__)"],
                           capture_output=True, text=True, check=True)
    assert child.stdout.strip() == "default_int_handler"
