"""suppression-change: a gated range that widens its own exemptions is reported for it (what changed,
in which commit, what it would have hidden), in every format; a change landed on the base first is
the policy and is not reported."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from scanner.cli import main
from tests.conftest import git, google_key
from tests.test_format_gitlab import gitlab
from tests.test_policy import commit_file
from tests.test_sarif import sarif


def range_json(capsys: pytest.CaptureFixture[str], repo: Path, base: str, *extra: str) -> tuple[int, dict]:
    code = main(["scan", "--format", "json", "--range", f"{base}..HEAD", *extra, str(repo)])
    return code, json.loads(capsys.readouterr().out)


def changes(data: dict) -> list[dict]:
    return [f for f in data["findings"] if f["rule_id"] == "suppression-change"]


@pytest.mark.parametrize(("name", "text", "said"), [
    (".keysentry.toml", 'exclude = ["src/**"]\n', "`exclude` adds 'src/**'"),
    ("pyproject.toml", '[tool.keysentry]\nallow = ["^AIza"]\n', "`allow` adds '^AIza'"),
    (".keysentry.toml", 'disable = ["google-api-key"]\n', "`disable` adds 'google-api-key'"),
    (".keysentry.toml", 'max-file-size = "2GB"\n', "`max-file-size` raised"),
])
def test_config_loosened_by_the_range_is_reported(repo: Path, capsys: pytest.CaptureFixture[str],
                                                  name: str, text: str, said: str) -> None:
    base = commit_file(repo, "README.md", "hi\n")
    added = commit_file(repo, "src/app.py", f'KEY = "{google_key()}"\n', "a key")
    widened = commit_file(repo, name, text, "quietly")

    code, data = range_json(capsys, repo, base)

    assert code == 1
    assert any(f["rule_id"] == "google-api-key" and f["commit"] == added for f in data["findings"])
    [change] = changes(data)
    assert change["path"] == name and change["commit"] == widened and change["severity"] == "high"
    assert said in change["secret"]
    if "max-file-size" not in said:
        assert "would hide 1 finding of this change: google-api-key at src/app.py:1" in change["secret"]


def test_baseline_entries_the_range_adds_are_reported(repo: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    base = commit_file(repo, "README.md", "hi\n")
    commit_file(repo, "app.py", f'KEY = "{google_key()}"\n')
    subprocess.run([sys.executable, "-m", "scanner", "baseline", str(repo), "--output", str(repo / "bl.json")],
                   check=True, capture_output=True)
    git(repo, "add", "bl.json")
    git(repo, "commit", "-qm", "baseline")

    code, data = range_json(capsys, repo, base, "--baseline", str(repo / "bl.json"))

    assert code == 1
    [change] = changes(data)
    assert change["path"] == "bl.json" and "the baseline adds 1 entry" in change["secret"]
    assert "google-api-key at app.py:1" in change["secret"]


def test_inline_marker_the_range_adds_is_reported(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = commit_file(repo, "README.md", "hi\n")
    commit_file(repo, "t.py", f'FAKE = "{google_key()}"  # keysentry:allow\n')

    code, data = range_json(capsys, repo, base)

    assert code == 1
    [change] = changes(data)
    assert (change["path"], change["line"]) == ("t.py", 1) and "inline allow marker" in change["secret"]


def test_policy_change_landed_on_the_base_first_is_not_a_change(repo: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    base = commit_file(repo, ".keysentry.toml", 'exclude = ["fixtures/**"]\n', "reviewed on its own")
    commit_file(repo, "fixtures/app.py", f'KEY = "{google_key()}"\n')

    code, data = range_json(capsys, repo, base)

    assert code == 0 and data["findings"] == []


def test_tightening_the_config_is_not_reported(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = commit_file(repo, ".keysentry.toml", 'exclude = ["fixtures/**", "docs/**"]\n')
    commit_file(repo, ".keysentry.toml", 'exclude = ["fixtures/**"]\nmax-file-size = "1MB"\n')

    code, data = range_json(capsys, repo, base)

    assert code == 0 and changes(data) == []


def test_suppression_change_in_sarif_and_gitlab_is_schema_valid(repo: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    base = commit_file(repo, "README.md", "hi\n")
    key = google_key()
    commit_file(repo, "src/app.py", f'KEY = "{key}"\n')
    commit_file(repo, ".keysentry.toml", f'allow = ["^{key}$"]\n')  # an allow naming the key itself

    log = sarif(capsys, "--range", f"{base}..HEAD", str(repo))
    report = gitlab(capsys, "--range", f"{base}..HEAD", str(repo))
    main(["scan", "--format", "markdown", "--range", f"{base}..HEAD", str(repo)])
    markdown = capsys.readouterr().out

    rules = {r["ruleId"] for r in log["runs"][0]["results"]}
    assert rules == {"google-api-key", "suppression-change"}
    names = {v["identifiers"][0]["value"] for v in report["vulnerabilities"]}
    assert names == {"google-api-key", "suppression-change"}
    for text in (json.dumps(log), json.dumps(report), markdown):
        assert key not in text  # the allow pattern holds the key: masked in the description too


@pytest.mark.parametrize("fmt", ["text", "json", "markdown", "html", "github"])
def test_suppression_change_shows_in_every_format(fmt: str, repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = commit_file(repo, "README.md", "hi\n")
    commit_file(repo, "src/app.py", f'KEY = "{google_key()}"\n')
    commit_file(repo, ".keysentry.toml", 'exclude = ["src/**"]\n')

    code = main(["scan", "--format", fmt, "--range", f"{base}..HEAD", str(repo)])
    out = " ".join(capsys.readouterr().out.split())

    assert code == 1
    assert "suppression-change" in out and "adds 'src/" in out.replace("&#39;", "'")
