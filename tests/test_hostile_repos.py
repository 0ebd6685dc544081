"""Hostile repos: every attack of the security review is one row, gathered from tests/attacks/."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.attacks import audit, ci, config_io, detection, gitsrc, hooks, html, odd, reports, tree
from tests.hostile import Attack, ids

ATTACKS: list[Attack] = [*hooks.REPOS, *gitsrc.REPOS, *tree.REPOS, *config_io.REPOS, *detection.REPOS, *reports.REPOS, *ci.REPOS,
                        *html.REPOS, *audit.REPOS, *odd.REPOS]


def test_every_attack_has_a_unique_id() -> None:
    assert len(set(ids(ATTACKS))) == len(ATTACKS)


@pytest.mark.parametrize("attack", ATTACKS, ids=ids(ATTACKS))
def test_hostile_repository_is_refused_or_scanned_safely(attack: Attack, tmp_path: Path) -> None:
    attack.run(tmp_path)
