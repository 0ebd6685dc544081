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


# --- no dead ends on the command line (issue 24) -----------------------------------------------------

@pytest.mark.parametrize("spelt", ["SARIF", "Sarif", "sarif"])
def test_format_is_accepted_in_any_case(repo: Path, capsys: pytest.CaptureFixture[str], spelt: str) -> None:
    (repo / "app.py").write_text(f'KEY = "{google_key()}"\n')
    assert main(["scan", str(repo), "--format", spelt]) == 1
    assert json.loads(capsys.readouterr().out)["version"] == "2.1.0"


@pytest.mark.parametrize(("args", "option"), [(["--max-file-size", "10XB"], "--max-file-size"),
                                             (["--jobs", "0"], "--jobs"), (["--jobs", "x"], "--jobs")])
def test_a_bad_option_value_names_the_option_once(repo: Path, capsys: pytest.CaptureFixture[str],
                                                  args: list[str], option: str) -> None:
    assert main(["scan", str(repo), *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"keysentry: error: {option} ") and err.count(option) == 1, err


def test_a_bad_size_says_what_a_size_looks_like(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", str(repo), "--max-file-size", "10XB"]) == 2
    assert "25MB" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["scan", "baseline", "audit", "rules", "install-hooks", "hook"])
def test_every_command_describes_itself_and_each_of_its_arguments(
        command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    _, _, rest = out.partition("\n\n")  # after the usage
    assert not rest.startswith(("options:", "positional arguments:")), f"{command} --help has no description"
    if "positional arguments:" in out:
        listed = out.split("positional arguments:")[1].split("\n\n")[0].splitlines()[1:]
        # "  NAME   what it is", or "  NAME" with what it is on the next, deeper-indented line
        for i, line in enumerate(listed):
            if line.startswith("  ") and not line.startswith("   "):
                described = len(line.split()) > 1 or (i + 1 < len(listed) and listed[i + 1].startswith("    "))
                assert described, f"{command} --help does not say what {line.strip()} is"
