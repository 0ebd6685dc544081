"""One finding per secret with every place it lives (contract: `locations`).

A tree folds a secret's copies into one finding; history keeps one finding per secret and path
(each has its own introducing commit) and lists where it is in HEAD; the baseline still accepts
places one by one."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scanner.cli import main
from tests.conftest import git, google_key
from tests.test_history import commit, write


def scan(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["scan", *args])
    return code, capsys.readouterr().out


def scan_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    _, out = scan(capsys, *args, "--format", "json")
    data: dict[str, Any] = json.loads(out)
    return data


def places(finding: dict[str, Any]) -> list[tuple[str, int, int]]:
    return [(p["path"], p["line"], p["column"]) for p in finding["locations"]]


def copies(repo: Path, key: str, count: int) -> list[str]:
    paths = [f"samples/s{i:03d}/index.html" for i in range(count)]
    for rel in paths:
        write(repo, rel, f'<script src="https://maps.googleapis.com/maps/api/js?key={key}"></script>\n')
    return sorted(paths)


def test_a_key_copied_into_many_files_is_one_finding_with_every_place(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = google_key()
    paths = copies(repo, key, 40)
    write(repo, "other.py", f'KEY = "{google_key()}"\n')

    data = scan_json(capsys, str(repo))

    shared = [f for f in data["findings"] if f["path"] in paths]
    assert len(shared) == 1
    assert shared[0]["path"] == paths[0]
    assert places(shared[0]) == [(p, 1, 58) for p in paths]
    other = [f for f in data["findings"] if f["path"] == "other.py"]
    assert [places(f) for f in other] == [[("other.py", 1, 8)]]


def test_the_report_stays_linear_in_the_places(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # 300 copies: 300 places in all, never 300 findings of 300 places each.
    copies(repo, google_key(), 300)

    data = scan_json(capsys, str(repo))

    assert len(data["findings"]) == 1
    assert sum(len(f["locations"]) for f in data["findings"]) == 300


def test_a_key_twice_in_one_file_is_one_finding_with_two_places(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = google_key()
    write(repo, "app.py", f'A = "{key}"\nB = "{key}"\n')

    data = scan_json(capsys, str(repo))

    assert [(f["path"], f["line"], places(f)) for f in data["findings"]] == [
        ("app.py", 1, [("app.py", 1, 6), ("app.py", 2, 6)])]


def test_standard_input_folds_repeats_too(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import sys

    key = google_key()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(f'a = "{key}"\nb = "{key}"\n'.encode())))
    data = scan_json(capsys, "-")

    assert [places(f) for f in data["findings"]] == [[("-", 1, 6), ("-", 2, 6)]]


def test_every_copy_of_a_baselined_key_stays_quiet_and_a_new_copy_is_reported(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = google_key()
    copies(repo, key, 5)
    assert main(["baseline", str(repo)]) == 0
    capsys.readouterr()
    baseline = json.loads((repo / ".keysentry-baseline.json").read_text())
    assert len(baseline["findings"]) == 5  # each place's own fingerprint
    (repo / ".keysentry-baseline.json").rename(repo.parent / "baseline.json")

    assert scan_json(capsys, str(repo), "--baseline", str(repo.parent / "baseline.json"))["findings"] == []

    write(repo, "late/copy.py", f'KEY = "{key}"\n')
    data = scan_json(capsys, str(repo), "--baseline", str(repo.parent / "baseline.json"))
    assert [(f["path"], places(f)) for f in data["findings"]] == [("late/copy.py", [("late/copy.py", 1, 8)])]


def test_whole_file_findings_stay_one_per_file(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    body = "DEBUG=1\nPORT=8080\n"
    write(repo, "web/.env", body)
    write(repo, "api/.env", body)

    data = scan_json(capsys, str(repo))

    assert [(f["rule_id"], f["path"], places(f)) for f in data["findings"]] == [
        ("dotenv-file", "api/.env", [("api/.env", 0, 0)]),
        ("dotenv-file", "web/.env", [("web/.env", 0, 0)]),
    ]


def test_text_names_a_few_places_and_counts_the_rest(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = copies(repo, google_key(), 30)

    code, out = scan(capsys, str(repo))

    assert code == 1
    assert f"also at {paths[1]}:1, {paths[2]}:1, {paths[3]}:1 and 26 more files" in out
    assert paths[10] not in out  # folded away: the report stays short


def test_sarif_lists_the_other_places_as_related_locations(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = copies(repo, google_key(), 12)

    _, out = scan(capsys, str(repo), "--format", "sarif")

    results = json.loads(out)["runs"][0]["results"]
    assert len(results) == 1
    related = results[0]["relatedLocations"]
    assert [r["physicalLocation"]["artifactLocation"]["uri"] for r in related] == paths[1:]
    assert {r["physicalLocation"]["region"]["startLine"] for r in related} == {1}
    assert len({r["id"] for r in related}) == len(related)


# --- history -----------------------------------------------------------------------------------------

def test_history_keeps_one_finding_per_path_each_listing_its_place_in_head(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = google_key()
    write(repo, "a.py", f'K = "{key}"\n')
    first = commit(repo, 1)
    write(repo, "b.py", f'\n\nK = "{key}"\n')
    second = commit(repo, 2)
    (repo / "a.py").unlink()
    commit(repo, 3)

    data = scan_json(capsys, "--history", str(repo))

    assert [(f["path"], f["commit"], f["in_head"], places(f)) for f in data["findings"]] == [
        ("a.py", first, False, [("a.py", 1, 6)]),  # gone from HEAD: only the place it was at
        ("b.py", second, True, [("b.py", 3, 6)]),
    ]


def test_history_lists_where_a_moved_key_lives_in_head(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = google_key()
    write(repo, "old/config.py", f'K = "{key}"\n')
    added = commit(repo, 1)
    git(repo, "mv", "old", "new")
    commit(repo, 2)

    data = scan_json(capsys, "--history", str(repo))

    assert [(f["path"], f["commit"], places(f)) for f in data["findings"]] == [
        ("old/config.py", added, [("new/config.py", 1, 6)])]


def test_a_committed_env_still_in_head_reports_the_value_in_head(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old, new = google_key(), google_key()
    write(repo, ".env", f"DATABASE_PASSWORD=first-{old[-12:]}\n")
    added = commit(repo, 1)
    write(repo, ".env", f"DATABASE_PASSWORD=rotated-{new[-12:]}\n")
    commit(repo, 2)

    data = scan_json(capsys, "--history", str(repo), "--show-secrets")

    dotenv = [f for f in data["findings"] if f["rule_id"] == "dotenv-file"]
    assert [(f["path"], f["commit"], f["secret"], f["in_head"], places(f)) for f in dotenv] == [
        (".env", added, f"rotated-{new[-12:]}", True, [(".env", 0, 0)])]
