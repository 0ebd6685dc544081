"""The contract's newer finding fields in JSON, and the one summary every report counts from."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from scanner.cli import main
from scanner.models import Finding, Location, Result, Stats, Verification, fingerprint
from scanner.report import Options, present
from scanner.report.summary import summarize
from tests.conftest import google_key


def _finding(rule_id: str, path: str, secret: str, **extra: object) -> Finding:
    return Finding(rule_id=rule_id, path=path, line=1, column=1, secret=secret,
                   fingerprint=fingerprint(rule_id, path, secret), **extra)  # type: ignore[arg-type]


def test_json_findings_carry_severity_context_locations_and_verification(tmp_path: Path,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    key = google_key()
    (tmp_path / "app.py").write_text(f'KEY = "{key}"\n')
    assert main(["scan", str(tmp_path), "--format", "json"]) == 1
    (finding,) = json.loads(capsys.readouterr().out)["findings"]
    assert finding["severity"] in ("critical", "high", "medium", "low")
    assert isinstance(finding["context"], str) and finding["context"]
    assert finding["locations"] == [{"path": "app.py", "line": 1, "column": 8}]
    assert finding["verification"] is None


def test_summary_counts_severities_rules_secrets_and_head() -> None:
    first, second = google_key(), google_key()
    findings = (
        _finding("google-api-key", "a.py", first, in_head=True, severity="critical"),
        _finding("google-api-key", "b.py", first, in_head=False, severity="critical",
                 locations=(Location("b.py", 1, 1), Location("c.py", 4, 2))),
        _finding("google-api-key", "d.py", second, in_head=True, severity="high",
                 verification=Verification("invalid", "API_KEY_INVALID")),
        _finding("dotenv-file", ".env", "x=1", in_head=False, severity="low"),
    )
    summary = summarize(present(Result("history", findings, Stats()), Options()))
    assert (summary.findings, summary.secrets) == (4, 3)
    assert summary.by_severity == (("critical", 2), ("high", 1), ("medium", 0), ("low", 1))
    assert [(r.rule_id, r.findings, r.secrets) for r in summary.by_rule] == [("google-api-key", 3, 2),
                                                                              ("dotenv-file", 1, 1)]
    assert (summary.in_head, summary.history_only) == (2, 2)
    assert summary.by_verification == (("invalid", 1),)
