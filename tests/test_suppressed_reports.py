"""Suppression you can see: every format counts the findings the policy silenced by cause (baseline,
config, inline marker), and --show-suppressed lists each one with its cause; SARIF and GitLab stay
valid against their schemas."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from scanner.cli import main
from tests.conftest import google_key
from tests.test_format_gitlab import gitlab
from tests.test_sarif import sarif


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    """One key of each kind: reported, baselined, allowed by config, silenced by an inline marker."""
    keys = {name: google_key() for name in ("reported", "baselined", "config", "inline")}
    root = tmp_path / "tree"
    root.mkdir()
    (root / "accepted.py").write_text(f'KEY = "{keys["baselined"]}"\n')
    baseline = tmp_path / "baseline.json"
    subprocess.run([sys.executable, "-m", "scanner", "baseline", str(root), "--output", str(baseline)],
                   check=True, capture_output=True)
    (root / "app.py").write_text(f'KEY = "{keys["reported"]}"\n')
    (root / "allowed.py").write_text(f'KEY = "{keys["config"]}"\n')
    (root / "fixture.py").write_text(f'FAKE = "{keys["inline"]}"  # keysentry:allow\n')
    (root / ".keysentry.toml").write_text(f'allow = ["^{keys["config"][:20]}"]\n')
    return root, baseline, keys


def run(capsys: pytest.CaptureFixture[str], fmt: str, root: Path, baseline: Path, *extra: str) -> str:
    code = main(["scan", "--format", fmt, "--baseline", str(baseline), *extra, str(root)])
    assert code == 1
    return capsys.readouterr().out


def test_json_counts_and_lists_by_cause(tree: tuple[Path, Path, dict[str, str]],
                                        capsys: pytest.CaptureFixture[str]) -> None:
    root, baseline, keys = tree
    plain = json.loads(run(capsys, "json", root, baseline))
    listed = json.loads(run(capsys, "json", root, baseline, "--show-suppressed"))

    assert plain["stats"]["suppressed"] == {"baseline": 1, "config": 1, "inline": 1}
    assert "suppressed" not in plain and [f["path"] for f in plain["findings"]] == ["app.py"]
    assert {(f["path"], f["suppressed"]) for f in listed["suppressed"]} == {
        ("accepted.py", "baseline"), ("allowed.py", "config"), ("fixture.py", "inline")}
    assert not any(key in json.dumps(listed) for key in keys.values())  # redacted there too


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
def test_human_formats_say_what_is_suppressed(fmt: str, tree: tuple[Path, Path, dict[str, str]],
                                              capsys: pytest.CaptureFixture[str]) -> None:
    root, baseline, keys = tree
    plain = " ".join(run(capsys, fmt, root, baseline).split())  # the text report wraps its lines
    listed = " ".join(run(capsys, fmt, root, baseline, "--show-suppressed").split())

    for out in (plain, listed):
        assert "1 by the baseline" in out and "1 by config (allow)" in out and "1 by inline markers" in out
    assert "fixture.py" not in plain and "fixture.py" in listed and "allowed.py" in listed
    assert not any(key in listed for key in keys.values())


def test_github_annotations_add_notices(tree: tuple[Path, Path, dict[str, str]],
                                        capsys: pytest.CaptureFixture[str]) -> None:
    root, baseline, _ = tree
    out = run(capsys, "github", root, baseline, "--show-suppressed")
    lines = out.splitlines()

    assert [line.split(",")[0] for line in lines if line.startswith("::error")] == ["::error file=app.py"]
    assert any(line.startswith("::notice file=fixture.py,") and "inline markers" in line for line in lines)
    assert any(line.startswith("::notice title=keysentry::suppressed: ") for line in lines)


def test_sarif_marks_suppressed_results(tree: tuple[Path, Path, dict[str, str]],
                                        capsys: pytest.CaptureFixture[str]) -> None:
    root, baseline, _ = tree
    log = sarif(capsys, "--baseline", str(baseline), "--show-suppressed", str(root))
    results = log["runs"][0]["results"]

    kinds = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: r.get("suppressions") for r in results}
    assert kinds["app.py"] is None
    assert kinds["fixture.py"][0]["kind"] == "inSource" and kinds["accepted.py"][0]["kind"] == "external"
    assert log["runs"][0]["properties"]["stats"]["suppressed"] == {"baseline": 1, "config": 1, "inline": 1}


def test_gitlab_report_lists_them_as_messages(tree: tuple[Path, Path, dict[str, str]],
                                              capsys: pytest.CaptureFixture[str]) -> None:
    root, baseline, _ = tree
    report = gitlab(capsys, "--baseline", str(baseline), "--show-suppressed", str(root))
    messages = [m["value"] for m in report["scan"]["messages"]]

    assert [v["location"]["file"] for v in report["vulnerabilities"]] == ["app.py"]
    assert any(m.startswith("suppressed: 1 by the baseline") for m in messages)
    assert any("suppressed by inline markers: google-api-key at fixture.py:1" in m for m in messages)


def test_audit_counts_what_each_repository_hides(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.test_policy import commit_file

    commit_file(repo, "fixture.py", f'FAKE = "{google_key()}"  # keysentry:allow\n')

    assert main(["audit", "--format", "json", "--quiet", "--jobs", "1", str(repo)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert main(["audit", "--quiet", "--jobs", "1", str(repo)]) == 0
    text = capsys.readouterr().out

    assert data["stats"]["suppressed"] == {"baseline": 0, "config": 0, "inline": 1}
    assert data["repositories"][0]["stats"]["suppressed"]["inline"] == 1
    assert "suppressed: 1 by inline markers" in text
