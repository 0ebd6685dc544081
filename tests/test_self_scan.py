"""keysentry's own repository must stay clean: tests build their keys at run time, never commit one."""
from __future__ import annotations

from pathlib import Path

import pytest

from scanner.cli import main

PROJECT = Path(__file__).resolve().parents[1]


def test_own_working_tree_is_clean(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", str(PROJECT), "--format", "json"]) == 0, capsys.readouterr().out


@pytest.mark.skipif(not (PROJECT / ".git").exists(), reason="not a git checkout")
def test_own_history_is_clean(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", "--history", str(PROJECT), "--format", "json"]) == 0, capsys.readouterr().out
