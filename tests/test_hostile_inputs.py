"""Hostile inputs: every attack of the security review is one row, gathered from tests/attacks/."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.attacks import archives, ci, config_io, detection, gitsrc, hooks, odd, realcode, reports, tree, verify
from tests.hostile import Attack, ids

ATTACKS: list[Attack] = [*hooks.INPUTS, *gitsrc.INPUTS, *tree.INPUTS, *config_io.INPUTS, *detection.INPUTS, *reports.INPUTS, *ci.INPUTS,
                         *verify.INPUTS, *realcode.INPUTS, *odd.INPUTS, *archives.INPUTS]


def test_every_attack_has_a_unique_id() -> None:
    assert len(set(ids(ATTACKS))) == len(ATTACKS)


@pytest.mark.parametrize("attack", ATTACKS, ids=ids(ATTACKS))
def test_hostile_input_is_refused_or_scanned_safely(attack: Attack, tmp_path: Path) -> None:
    attack.run(tmp_path)
