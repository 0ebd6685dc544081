from __future__ import annotations

import json
from pathlib import Path

import pytest

from scanner.cli import main
from tests.conftest import git, google_key


def test_worktree_scan_reports_key_and_exits_1(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = google_key()
    (repo / "app.py").write_text(f'from google import genai\nclient = genai.Client(api_key="{key}")\n')
    git(repo, "add", "-A")
    assert main(["scan", str(repo), "--format", "json"]) == 1
    out = capsys.readouterr().out
    data = json.loads(out)
    assert [(f["rule_id"], f["path"], f["line"], f["column"]) for f in data["findings"]] == [("google-api-key", "app.py", 2, 32)]
    assert key not in out


def test_clean_tree_exits_0(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "app.py").write_text('client = genai.Client(api_key=os.environ["GEMINI_API_KEY"])\n')
    assert main(["scan", str(repo)]) == 0


def test_missing_path_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "path not found" in err
