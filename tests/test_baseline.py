"""Baselines: accepted findings by fingerprint, stable bytes, and suppression on later scans."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from scanner.cli import main
from tests.conftest import git, google_key, random_chars


def leaks(repo: Path) -> list[str]:
    keys = [google_key(), google_key()]
    (repo / "b.py").write_text(f'KEY = "{keys[0]}"\n')
    (repo / "a").mkdir()
    (repo / "a" / "c.py").write_text(f'OTHER = "{keys[1]}"\n')
    (repo / ".env").write_text(f"TOKEN={random_chars(30)}\n")
    git(repo, "add", "-A")
    return keys


def scan_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    code = main(["scan", *args, "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def test_baseline_command_writes_sorted_fingerprints_only(repo: Path, capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    keys = leaks(repo)
    monkeypatch.chdir(repo)
    assert main(["baseline"]) == 0
    assert capsys.readouterr().err == "keysentry: wrote 3 fingerprints to .keysentry-baseline.json\n"
    text = (repo / ".keysentry-baseline.json").read_text()
    data = json.loads(text)
    assert data["version"] == 1
    entries = data["findings"]
    assert [(e["path"], e["rule_id"]) for e in entries] == [
        (".env", "dotenv-file"), ("a/c.py", "google-api-key"), ("b.py", "google-api-key"),
    ]
    assert all(set(e) == {"fingerprint", "path", "rule_id"} for e in entries)
    # No line numbers, no dates or times, no secrets, not even a piece of one.
    assert '"line"' not in text and '"column"' not in text
    assert not re.search(r"\d{4}-\d\d-\d\d|\d\d:\d\d", text)
    assert all(key[:8] not in text and key[-8:] not in text for key in keys)


def test_baseline_output_option_and_stable_bytes(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    leaks(repo)
    first, second = tmp_path / "one.json", tmp_path / "two.json"
    assert main(["baseline", str(repo), "--output", str(first)]) == 0
    for path in (repo / "b.py", repo / "a" / "c.py", repo / ".env"):
        path.write_text("# moved down\n\n" + path.read_text() + "# more\n")
    assert main(["baseline", str(repo), "--output", str(second), "--jobs", "2"]) == 0
    assert first.read_bytes() == second.read_bytes()
    assert not (repo / ".keysentry-baseline.json").exists()


def test_baseline_suppresses_recorded_findings_and_counts_them(repo: Path, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    leaks(repo)
    baseline = tmp_path / "baseline.json"
    assert main(["baseline", str(repo), "--output", str(baseline)]) == 0
    capsys.readouterr()
    code, data = scan_json(capsys, str(repo), "--baseline", str(baseline))
    assert (code, data["findings"], data["stats"]["baselined"]) == (0, [], 3)
    # Edits around the accepted secrets keep them accepted; a new secret is still reported.
    (repo / "b.py").write_text("import os\n\n" + (repo / "b.py").read_text())
    new_key = google_key()
    (repo / "new.py").write_text(f'KEY = "{new_key}"\n')
    code, data = scan_json(capsys, str(repo), "--baseline", str(baseline))
    assert code == 1 and [f["path"] for f in data["findings"]] == ["new.py"]
    assert data["stats"]["baselined"] == 3
    # The text summary says how many the baseline hid.
    main(["scan", str(repo), "--baseline", str(baseline)])
    assert "suppressed: 3 by the baseline" in " ".join(capsys.readouterr().out.split())


def test_same_secret_moved_to_another_file_is_new(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    keys = leaks(repo)
    baseline = tmp_path / "baseline.json"
    main(["baseline", str(repo), "--output", str(baseline)])
    (repo / "moved.py").write_text(f'KEY = "{keys[0]}"\n')
    code, data = scan_json(capsys, str(repo), "--baseline", str(baseline))
    assert code == 1 and [f["path"] for f in data["findings"]] == ["moved.py"]


BAD_BASELINES = {
    "missing": (None, "baseline file not found"),
    "not json": ("{nope", "is not valid JSON"),
    "wrong shape": ('["abc"]', "is not a keysentry baseline"),
    "wrong version": ('{"version": 2, "findings": []}', "is not a keysentry baseline"),
    "entry without fingerprint": ('{"version": 1, "findings": [{"path": "a"}]}', "needs a 'fingerprint' string"),
    "not utf-8": (b"\xff\xfe\x00", "is not valid JSON"),
    "nested too deeply": ("[" * 100_000, "nested too deeply"),
    "a folder": ("folder", "not a regular file"),
}


@pytest.mark.parametrize(("content", "message"), BAD_BASELINES.values(), ids=BAD_BASELINES.keys())
def test_bad_baseline_is_one_line_and_exit_2(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             content: str | bytes | None, message: str) -> None:
    leaks(repo)
    baseline = tmp_path / "baseline.json"
    if content == "folder":
        baseline.mkdir()
    elif isinstance(content, bytes):
        baseline.write_bytes(content)
    elif content is not None:
        baseline.write_text(content)
    assert main(["scan", str(repo), "--baseline", str(baseline)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and message in captured.err and "Traceback" not in captured.err


def test_failed_baseline_run_keeps_the_old_baseline(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    leaks(repo)
    assert main(["baseline", str(repo)]) == 0
    target = repo / ".keysentry-baseline.json"
    before = target.read_bytes()
    (repo / ".keysentry.toml").write_text('allow = ["("]\n')
    assert main(["baseline", str(repo)]) == 2
    assert target.read_bytes() == before
    assert sorted(p.name for p in repo.iterdir() if p.name.startswith(".keysentry")) == [
        ".keysentry-baseline.json", ".keysentry.toml"]


def test_baseline_of_a_single_file_goes_next_to_it(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    leaks(repo)
    assert main(["baseline", str(repo / "a" / "c.py")]) == 0
    data = json.loads((repo / "a" / ".keysentry-baseline.json").read_text())
    assert [e["path"] for e in data["findings"]] == ["a/c.py"]


def test_baseline_default_path_is_never_followed_out_of_the_repository(repo: Path, tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    leaks(repo)
    victim = tmp_path / "bashrc"
    victim.write_text("mine\n")
    (repo / ".keysentry-baseline.json").symlink_to(victim)
    assert main(["baseline", str(repo)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "symbolic link" in err
    assert victim.read_text() == "mine\n"
    # A baseline written elsewhere, by the user's own choice, still follows a link there.
    elsewhere = tmp_path / "link.json"
    elsewhere.symlink_to(victim)
    assert main(["baseline", str(repo), "--output", str(elsewhere)]) == 0
    assert elsewhere.is_symlink() and '"fingerprint"' in victim.read_text()
