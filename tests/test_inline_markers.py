"""Inline allow markers: honoured on the developer's machine inside a comment on the secret's line,
never by a change checked by a gate (unless the base's config allows it as a notice), and never at
all with --no-inline-allow or `inline-allow = false`."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from scanner.cli import main
from tests.conftest import git, google_key
from tests.test_policy import commit_file


def scan(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:
    code = main(["scan", "--format", "json", *argv])
    return code, json.loads(capsys.readouterr().out)


def test_marker_in_a_comment_silences_a_worktree_finding(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "fixture.py").write_text(f'FAKE = "{google_key()}"  # keysentry:allow\n')

    code, data = scan(capsys, str(tmp_path))

    assert code == 0 and data["findings"] == []
    assert data["stats"]["suppressed"] == {"baseline": 0, "config": 0, "inline": 1}


def test_marker_words_inside_a_string_do_not(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "app.py").write_text(f'KEY = "{google_key()}"; NOTE = "pragma: allowlist secret"\n')

    code, data = scan(capsys, str(tmp_path))

    assert code == 1 and data["stats"]["suppressed"]["inline"] == 0


def test_no_inline_allow_ignores_every_marker(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "fixture.py").write_text(f'FAKE = "{google_key()}"  # keysentry:allow\n')

    code, data = scan(capsys, "--no-inline-allow", str(tmp_path))

    assert code == 1 and len(data["findings"]) == 1


def test_config_can_forbid_markers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "fixture.py").write_text(f'FAKE = "{google_key()}"  # keysentry:allow\n')
    (tmp_path / ".keysentry.toml").write_text("inline-allow = false\n")

    code, data = scan(capsys, str(tmp_path))

    assert code == 1 and len(data["findings"]) == 1


def test_bad_inline_settings_are_config_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / ".keysentry.toml").write_text('inline-allow-in-changes = "always"\n')

    assert main(["scan", str(tmp_path)]) == 2
    assert "'inline-allow-in-changes' must be" in capsys.readouterr().err


def test_marker_the_range_adds_does_not_silence(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = commit_file(repo, "README.md", "hi\n")
    commit_file(repo, "app.py", f'KEY = "{google_key()}"  # keysentry:allow\n')

    code, data = scan(capsys, "--range", f"{base}..HEAD", str(repo))

    assert code == 1 and [f["path"] for f in data["findings"] if f["rule_id"] == "google-api-key"] == ["app.py"]


def test_marker_added_in_a_later_commit_of_the_range_does_not_silence(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = commit_file(repo, "README.md", "hi\n")
    key = google_key()
    commit_file(repo, "app.py", f'KEY = "{key}"\n')
    commit_file(repo, "app.py", f'KEY = "{key}"  # keysentry:allow\n')

    code, data = scan(capsys, "--range", f"{base}..HEAD", str(repo))

    assert code == 1 and any(f["path"] == "app.py" for f in data["findings"])


def test_marker_the_base_holds_still_counts(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    commit_file(repo, "fixture.py", f'FAKE = "{google_key()}"  # keysentry:allow\n')
    base = git(repo, "rev-parse", "HEAD")
    commit_file(repo, "fixture.py", (repo / "fixture.py").read_text() + "MORE = 1\n")

    code, data = scan(capsys, "--range", f"{base}..HEAD", str(repo))

    assert code == 0 and data["findings"] == []


def test_base_config_may_let_markers_in_changes_through_as_notices(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = commit_file(repo, ".keysentry.toml", 'inline-allow-in-changes = "notice"\n')
    commit_file(repo, "fixture.py", f'FAKE = "{google_key()}"  # keysentry:allow\n')

    code = main(["scan", "--format", "markdown", "--range", f"{base}..HEAD", str(repo)])
    out = capsys.readouterr().out
    annotations_code = main(["scan", "--format", "github", "--range", f"{base}..HEAD", str(repo)])
    annotations = capsys.readouterr().out.splitlines()

    assert code == 0 and annotations_code == 0
    assert "inline allow marker this change adds" in out and "fixture.py:1" in out
    assert any(line.startswith("::notice ") and "inline allow marker this change adds" in line for line in annotations)


def test_the_change_cannot_grant_itself_notice_mode(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = commit_file(repo, "README.md", "hi\n")
    commit_file(repo, ".keysentry.toml", 'inline-allow-in-changes = "notice"\n')
    commit_file(repo, "fixture.py", f'FAKE = "{google_key()}"  # keysentry:allow\n')

    code, _ = scan(capsys, "--range", f"{base}..HEAD", str(repo))

    assert code == 1


def test_history_reports_a_key_whose_marker_was_taken_off(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = google_key()
    commit_file(repo, "app.py", f'KEY = "{key}"  # keysentry:allow\n')
    unmarked = commit_file(repo, "app.py", f'KEY = "{key}"\n')

    code, data = scan(capsys, "--history", str(repo))

    assert code == 1 and [f["commit"] for f in data["findings"]] == [unmarked]
    assert data["stats"]["suppressed"]["inline"] == 1


def test_pre_push_range_is_the_developers_own(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The pre-push hook checks the developer's own push: markers count, as in the work tree."""
    from scanner import scan as scanning

    base = commit_file(repo, "README.md", "hi\n")
    commit_file(repo, "fixture.py", f'FAKE = "{google_key()}"  # keysentry:allow\n')

    result = scanning.run(scanning.Request("range", repo, revision_range=f"{base}..HEAD", jobs=1))

    assert result.findings == () and [f.suppressed for f in result.suppressed] == ["inline"]
