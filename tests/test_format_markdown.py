"""--format markdown: the job summary. Every number from summarize(), so it cannot disagree with
the text and HTML reports; secrets redacted; each rule's fix once."""
from __future__ import annotations

from pathlib import Path

import pytest

from scanner.cli import main
from scanner.report import Options, View, present
from scanner.report.markdown import MAX_BYTES, MAX_ROWS, cell, render
from scanner.models import Finding, Result, Stats
from scanner.report.summary import summarize
from scanner.rules import RULES_BY_ID
from tests.conftest import git, google_key, random_chars

CELLS = {
    "pipe opens no column": ("a|b", r"a\|b"),
    "html is text": ("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert\\(1\\)&gt;"),
    "no emphasis": ("*bold* _it_", r"\*bold\* \_it\_"),
    "no code span": ("`x`", r"\`x\`"),
    "no link": ("[a](http://x)", r"\[a\]\(http://x\)"),
    "newline escaped": ("a\nb", r"a\\nb"),
}


@pytest.mark.parametrize(("raw", "shown"), CELLS.values(), ids=CELLS.keys())
def test_cells_show_names_as_plain_text(raw: str, shown: str) -> None:
    assert cell(raw) == shown


def markdown(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code = main(["scan", *args, "--format", "markdown"])
    assert code in (0, 1)
    return capsys.readouterr().out


def test_summary_counts_table_and_fix_once(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    keys = [google_key() for _ in range(4)]
    (repo / "a.py").write_text("".join(f'K{i} = "{k}"\n' for i, k in enumerate(keys[:3])))
    (repo / "b.py").write_text(f'K = "{keys[3]}"\n')
    out = markdown(capsys, str(repo))
    assert out.startswith("## keysentry: 4 findings (4 distinct secrets)\n")
    assert "| `google-api-key` | 4 | 4 |" in out
    rows = [line for line in out.splitlines() if line.startswith("| ") and "`google-api-key` |" in line
            and ".py:" in line]
    assert len(rows) == 4 and all("AIza…" in row for row in rows)
    for key in keys:
        assert key not in out
    assert out.count(cell(RULES_BY_ID["google-api-key"].remediation)) == 1


def test_history_summary_splits_in_head_from_history_only(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "kept.py").write_text(f'K = "{google_key()}"\n')
    (repo / "gone.py").write_text(f'K = "{google_key()}"\n')
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "two keys")
    git(repo, "rm", "-q", "gone.py")
    git(repo, "commit", "-qm", "one removed")
    out = markdown(capsys, "--history", str(repo))
    assert "**Still in HEAD:** 1 · **history only:** 1" in out
    assert "| Commit | In HEAD |" in out


def test_clean_scan_says_so(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "a.py").write_text("print('hi')\n")
    out = markdown(capsys, str(repo))
    assert out.startswith("## keysentry: no secrets found\n") and "|" not in out


def test_every_number_is_the_summary_models(repo: Path) -> None:
    findings = tuple(Finding("google-api-key" if i % 3 else "dotenv-file", f"f{i}.py", 1 if i % 3 else 0, 1,
                             random_chars(39), f"{i:040x}", severity=("critical", "low", "medium")[i % 3])
                     for i in range(12))
    view: View = present(Result("worktree", findings, Stats(files=12)), Options())
    summary = summarize(view)
    out = render(view)
    for severity, n in summary.by_severity:
        assert (f"| {severity} | {n} |" in out) == bool(n)
    for rule in summary.by_rule:
        assert f"| `{rule.rule_id}` | {rule.findings} | {rule.secrets} |" in out


def test_a_huge_audit_keeps_the_summary_under_githubs_limit() -> None:
    findings = tuple(Finding("google-api-key", f"src/file{i}.py", 1, 1, random_chars(39), f"{i:040x}")
                     for i in range(MAX_ROWS + 250))
    out = render(present(Result("worktree", findings, Stats(files=len(findings))), Options()))
    assert f"## keysentry: {MAX_ROWS + 250} findings" in out
    assert "…and 250 more findings" in out
    assert len(out.encode()) < 1024 * 1024


def _long_path_findings(count: int, tag: str = "") -> tuple[Finding, ...]:
    folder = "/".join(["d" * 250] * 16)  # 4,000 characters: the rows of 500 such make 4 MB
    return tuple(Finding("google-api-key", f"{folder}/{tag}file{i}.py", 1, 1, random_chars(39), f"{i:040x}")
                 for i in range(count))


def test_a_summary_of_long_paths_is_capped_in_bytes_and_says_how_many_it_left_out() -> None:
    findings = _long_path_findings(MAX_ROWS)
    out = render(present(Result("worktree", findings, Stats(files=len(findings))), Options()))
    assert len(out.encode()) <= MAX_BYTES < 1024 * 1024
    listed = sum(1 for line in out.splitlines() if line.startswith("| ") and ".py:1 |" in line)
    assert 100 < listed < MAX_ROWS
    assert f"…and {MAX_ROWS - listed} more findings (the table lists the first {listed})" in out
    assert "### How to fix" in out  # the fixes after the table are kept


def test_an_audit_summary_of_long_paths_stays_under_the_limit_too() -> None:
    from scanner.audit import Audit
    from scanner.audit_record import RepoResult
    from scanner.report import audit

    repos = tuple(RepoResult(f"repo{n}", None, None, None,
                             present(Result("history", _long_path_findings(200, f"r{n}"), Stats()), Options()))
                  for n in range(3))
    out = audit.render(Audit(repos, 1.0), "markdown", Options())
    assert len(out.encode()) <= MAX_BYTES
    assert "more finding" in out or "more repositor" in out
