"""Attack rows for the hostile suites (see tests/hostile.py): config, baseline, output files and the process (signals, pipes, encodings)."""
from __future__ import annotations

from tests.hostile import Attack

# Repositories built to attack us (tests/test_hostile_repos.py).
REPOS: list[Attack] = []
# Inputs built to attack us: files, streams, configs, terminals (tests/test_hostile_inputs.py).
INPUTS: list[Attack] = []
