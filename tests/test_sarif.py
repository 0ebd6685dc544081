"""SARIF 2.1.0: valid against the official OASIS schema, and shaped as GitHub code scanning wants."""
from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import unquote

import jsonschema
import pytest

from scanner.cli import main
from scanner.rules import ALL_RULES
from tests.conftest import git, google_key, random_chars

# The official schema, checked in unchanged (see tests/data/README.md for where it comes from).
SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))


def sarif(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    code = main(["scan", *args, "--format", "sarif"])
    assert code in (0, 1)
    log = json.loads(capsys.readouterr().out)
    validator = jsonschema.Draft4Validator(SCHEMA, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])
    return log


def test_the_checked_in_schema_is_the_official_one() -> None:
    assert SCHEMA["id"] == "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
    assert SCHEMA["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    jsonschema.Draft4Validator.check_schema(SCHEMA)


def test_schema_rejects_a_broken_log() -> None:
    # Guard against a validator that accepts anything: a result without a message is invalid.
    broken = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"ruleId": "r"}]}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SCHEMA, cls=jsonschema.Draft4Validator)


def tree_with_every_kind_of_finding(repo: Path) -> None:
    (repo / "src").mkdir()
    (repo / "src" / "app.py").write_text(f'client = genai.Client(api_key="{google_key()}")\n')
    (repo / "my docs").mkdir()
    (repo / "my docs" / "notes #1 ü.md").write_text(f"key: {google_key()}\n")
    (repo / ".env").write_text(f"SECRET={random_chars(24)}\n")  # a whole-file finding: line 0
    git(repo, "add", "-A")


def test_sarif_is_valid_and_github_ready(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tree_with_every_kind_of_finding(repo)
    log = sarif(capsys, str(repo))
    assert log["version"] == "2.1.0"
    assert len(log["runs"]) == 1
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    ids = [rule["id"] for rule in rules]
    assert ids == [rule.id for rule in ALL_RULES] and len(set(ids)) == len(ids)
    results = run["results"]
    assert len(results) == 3
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["message"]["text"]
        (location,) = result["locations"]
        physical = location["physicalLocation"]
        assert physical["region"]["startLine"] >= 1
        uri = physical["artifactLocation"]["uri"]
        # A relative URI reference (RFC 3986): the schema says so, though jsonschema checks the
        # "uri-reference" format only when an optional package is installed.
        assert not uri.startswith("/") and re.fullmatch(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-F]{2})+", uri)
        assert result["partialFingerprints"]
    uris = sorted(unquote(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]) for r in results)
    assert uris == [".env", "my docs/notes #1 ü.md", "src/app.py"]
    by_uri = {unquote(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]): r for r in results}
    assert by_uri[".env"]["locations"][0]["physicalLocation"]["region"] == {"startLine": 1}
    region = by_uri["src/app.py"]["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 1, "startColumn": 32, "endLine": 1, "endColumn": 32 + 39}
    for rule in rules:
        assert rule["shortDescription"]["text"] and rule["help"]["text"]
        assert float(rule["properties"]["security-severity"]) >= 0


def test_sarif_for_a_clean_tree_has_one_run_and_no_results(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "app.py").write_text("print('hi')\n")
    log = sarif(capsys, str(repo))
    assert len(log["runs"]) == 1 and log["runs"][0]["results"] == []


def test_sarif_from_stdin_is_valid(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                                   tmp_path: Path) -> None:
    import io
    import sys

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(f'k = "{google_key()}"\n'.encode())))
    log = sarif(capsys, "-")
    (result,) = log["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "-"


def test_sarif_with_hostile_names_and_secrets_stays_valid_and_printable(repo: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 7, items 16 and 27: a key in a file name is redacted in the URI too, and a secret holding
    escape sequences is escaped in the message people read; the log still validates."""
    key = google_key()
    (repo / f"config-{key}.json").write_text(f'{{"key": "{key}"}}\n')
    (repo / "app.py").write_text('api_key = "\x1b]0;pwn\x07Qw7rT9z\x1b[2JLp2XvB8nM"\n')
    for extra in ([], ["--show-secrets"]):
        log = sarif(capsys, str(repo), *extra)
        results = log["runs"][0]["results"]
        assert len(results) == 2
        for result in results:
            assert not re.search("[\x00-\x1f\x7f-\x9f]", result["message"]["text"])
        uris = sorted(unquote(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]) for r in results)
        assert uris == (["app.py", f"config-{key}.json"] if extra else ["app.py", f"config-{key[:4]}…{key[-2:]}.json"])


# --- what GitHub code scanning reads --------------------------------------------------------------

def results_by_uri(log: dict) -> dict[str, dict]:
    return {unquote(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]): r
            for r in log["runs"][0]["results"]}


def test_alert_keeps_its_fingerprint_when_lines_move(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = google_key()
    (repo / "app.py").write_text(f'KEY = "{key}"\n')
    before = results_by_uri(sarif(capsys, str(repo)))["app.py"]
    (repo / "app.py").write_text(f'import os\n\n\n# the key\nKEY = "{key}"\n')
    after = results_by_uri(sarif(capsys, str(repo)))["app.py"]
    assert after["locations"][0]["physicalLocation"]["region"]["startLine"] == 5
    assert after["partialFingerprints"]["primaryLocationLineHash"] == before["partialFingerprints"]["primaryLocationLineHash"]


def test_rules_carry_severity_precision_tags_and_help(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules = {rule["id"]: rule for rule in sarif(capsys, str(repo))["runs"][0]["tool"]["driver"]["rules"]}
    for rule in ALL_RULES:
        shown = rules[rule.id]
        properties = shown["properties"]
        assert properties["tags"] == ["security", "secret"]
        assert properties["precision"] == rule.precision
        score = float(properties["security-severity"])
        assert {"critical": score >= 9.0, "high": 7.0 <= score < 9.0, "medium": 4.0 <= score < 7.0,
                "low": score < 4.0}[rule.severity]
        assert shown["helpUri"] == f"https://github.com/keysentry/keysentry/blob/main/docs/rules.md#{rule.id}"
        assert rule.remediation in shown["help"]["markdown"]
    assert rules["google-api-key"]["properties"]["precision"] == "very-high"
    assert rules["hardcoded-api-key"]["properties"]["precision"] not in ("very-high", "high")


def test_history_result_says_commit_and_in_head_in_its_message(repo: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "app.py").write_text(f'KEY = "{google_key()}"\n')
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "a key")
    sha = git(repo, "rev-parse", "HEAD")
    (result,) = sarif(capsys, "--history", str(repo))["runs"][0]["results"]
    assert f"introduced in commit {sha[:12]}; still in HEAD" in result["message"]["text"]
    assert result["properties"]["commit"] == sha and result["properties"]["in_head"] is True


def test_range_secret_added_and_removed_points_at_its_file_not_at_the_fix(repo: Path,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "app.py").write_text("import os\n\n\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "start")
    base = git(repo, "rev-parse", "HEAD")
    (repo / "app.py").write_text(f'import os\n\n\nKEY = "{google_key()}"\n')
    git(repo, "commit", "-qam", "a key")
    added = git(repo, "rev-parse", "HEAD")
    (repo / "app.py").write_text('import os\n\n\nKEY = os.environ["GEMINI_API_KEY"]\n')
    git(repo, "commit", "-qam", "the fix, on the line the key was on")
    (result,) = sarif(capsys, "--range", f"{base}..HEAD", str(repo))["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["region"] == {"startLine": 1}  # not line 4, the fix
    assert f"introduced in commit {added[:12]}" in result["message"]["text"]
    assert "removed again" in result["message"]["text"]
