"""--format gitlab: GitLab's Secret Detection report, valid against the official schema of the
version it declares (tests/data/secret-detection-report-format.json; see tests/data/README.md)."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from scanner.cli import main
from scanner.report.gitlab import SCHEMA_VERSION
from tests.conftest import git, google_key, random_chars

SCHEMA = json.loads((Path(__file__).parent / "data" / "secret-detection-report-format.json").read_text())


def gitlab(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    code = main(["scan", *args, "--format", "gitlab"])
    assert code in (0, 1)
    report = json.loads(capsys.readouterr().out)
    errors = list(jsonschema.Draft7Validator(SCHEMA).iter_errors(report))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])
    return report


def test_the_vendored_schema_is_gitlabs_and_declares_our_version() -> None:
    assert SCHEMA["title"] == "Report format for GitLab Secret Detection"
    assert SCHEMA["self"]["version"] == SCHEMA_VERSION
    jsonschema.Draft7Validator.check_schema(SCHEMA)


def test_schema_rejects_a_vulnerability_without_a_commit() -> None:
    broken = {"version": SCHEMA_VERSION, "scan": {}, "vulnerabilities": [{"id": "x", "identifiers": [], "location": {}}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SCHEMA, cls=jsonschema.Draft7Validator)


def test_worktree_report_is_valid_with_one_vulnerability_per_finding(repo: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    key = google_key()
    (repo / "app.py").write_text(f'\nclient = genai.Client(api_key="{key}")\n')
    (repo / ".env").write_text(f"SECRET={random_chars(24)}\n")
    report = gitlab(capsys, str(repo))
    assert report["version"] == SCHEMA_VERSION and report["scan"]["type"] == "secret_detection"
    by_file = {v["location"]["file"]: v for v in report["vulnerabilities"]}
    assert set(by_file) == {"app.py", ".env"}
    app = by_file["app.py"]
    assert app["identifiers"][0]["value"] == "google-api-key"
    assert app["location"]["start_line"] == 2 and app["location"]["commit"]["sha"] == "0000000"
    assert app["severity"] in ("Critical", "High") and app["solution"]
    assert key not in json.dumps(report)


def test_history_report_names_the_introducing_commit(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "app.py").write_text(f'KEY = "{google_key()}"\n')
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "a key")
    sha = git(repo, "rev-parse", "HEAD")
    (vulnerability,) = gitlab(capsys, "--history", str(repo))["vulnerabilities"]
    assert vulnerability["location"]["commit"]["sha"] == sha
    assert vulnerability["location"]["commit"]["author"] == "Ada"


def test_ids_are_stable_across_runs(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "app.py").write_text(f'KEY = "{google_key()}"\n')
    first = gitlab(capsys, str(repo))["vulnerabilities"][0]["id"]
    (repo / "app.py").write_text(f'\n\nKEY = "{(repo / "app.py").read_text().split(chr(34))[1]}"\n')
    assert gitlab(capsys, str(repo))["vulnerabilities"][0]["id"] == first


def test_clean_scan_is_a_valid_empty_report(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "a.py").write_text("print('hi')\n")
    assert gitlab(capsys, str(repo))["vulnerabilities"] == []
