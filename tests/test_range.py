"""`keysentry scan --range`: only what the commits in a revision range introduce, with the same
attribution as --history (what CI runs on a pull request and the pre-push hook on the push)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scanner.cli import main
from tests.conftest import git, google_key
from tests.test_history import commit, key_line, row, rows, scan_both, write


def scan_range(capsys: pytest.CaptureFixture[str], repo: Path, revisions: str, *secrets: str) -> tuple[int, dict[str, Any]]:
    return scan_both(capsys, "--range", revisions, str(repo), secrets=secrets)


def test_range_excludes_a_key_older_than_the_range(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old_key, new_key = google_key(), google_key()
    write(repo, "config.py", "TIMEOUT = 1\n" + key_line(old_key))
    commit(repo, 1, "first")
    git(repo, "tag", "first")
    # A commit in the range touches the file that still holds the older key: that is not new.
    write(repo, "config.py", "TIMEOUT = 2\n" + key_line(old_key) + "RETRIES = 3\n")
    commit(repo, 2, "tune")
    write(repo, "client.py", key_line(new_key))
    added = commit(repo, 3, "client", author="Grace")

    code, data = scan_range(capsys, repo, "first..HEAD", old_key, new_key)

    assert code == 1
    assert data["mode"] == "range"
    assert rows(data) == [row("google-api-key", "client.py", 1, added, 3, True, author="Grace")]
    assert data["stats"]["commits"] == 2


def test_range_touching_only_an_older_key_is_clean(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old_key = google_key()
    write(repo, "config.py", key_line(old_key))
    first = commit(repo, 1)
    write(repo, "config.py", "import os\n" + key_line(old_key))
    commit(repo, 2)
    (repo / "settings").mkdir()
    git(repo, "mv", "config.py", "settings/config.py")  # a rename inside the range moves it, adds nothing
    commit(repo, 3)

    code, data = scan_range(capsys, repo, f"{first}..HEAD", old_key)

    assert code == 0
    assert data["findings"] == []
    assert data["stats"]["commits"] == 2


def test_key_added_and_removed_inside_the_range_is_not_in_head(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = google_key()
    write(repo, "app.py", "pass\n")
    base = commit(repo, 1)
    write(repo, "app.py", "pass\n" + key_line(key))
    added = commit(repo, 2)
    write(repo, "app.py", "pass\n")
    commit(repo, 3, "remove the key again")

    code, data = scan_range(capsys, repo, f"{base}..HEAD", key)

    # The key is still in a commit being pushed: removing it later does not unpublish it.
    assert code == 1
    assert rows(data) == [row("google-api-key", "app.py", 2, added, 2, False)]


def test_key_removed_before_the_range_and_readded_inside_it(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = google_key()
    write(repo, "app.py", key_line(key))
    commit(repo, 1)
    write(repo, "app.py", "pass\n")
    base = commit(repo, 2, "remove")
    write(repo, "app.py", "import genai\n" + key_line(key))
    readded = commit(repo, 3, "revert the removal")

    _code, data = scan_range(capsys, repo, f"{base}..HEAD", key)

    assert rows(data) == [row("google-api-key", "app.py", 2, readded, 3, True)]


def test_single_commit_range(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    k1, k2, k3 = google_key(), google_key(), google_key()
    write(repo, "one.py", key_line(k1))
    commit(repo, 1)
    write(repo, "two.py", key_line(k2))
    middle = commit(repo, 2)
    write(repo, "three.py", key_line(k3))
    commit(repo, 3)

    _code, data = scan_range(capsys, repo, f"{middle}^!", k1, k2, k3)

    assert rows(data) == [row("google-api-key", "two.py", 1, middle, 2, True)]
    assert data["stats"]["commits"] == 1


def test_single_commit_range_of_the_root_commit(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = google_key()
    write(repo, "one.py", key_line(key))
    root = commit(repo, 1)
    write(repo, "two.py", "pass\n")
    commit(repo, 2)

    _code, data = scan_range(capsys, repo, f"{root}^!", key)

    assert rows(data) == [row("google-api-key", "one.py", 1, root, 1, True)]


def test_single_commit_range_of_a_merge_reports_only_its_resolution(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    branch_key, merge_key = google_key(), google_key()
    write(repo, "config.py", "TIMEOUT = 1\n")
    commit(repo, 1)
    git(repo, "checkout", "-q", "-b", "feature")
    write(repo, "feature.py", key_line(branch_key))
    commit(repo, 2)
    git(repo, "checkout", "-q", "main")
    write(repo, "main.py", "x = 1\n")
    commit(repo, 3)
    git(repo, "merge", "-q", "--no-commit", "--no-ff", "feature")
    write(repo, "config.py", "TIMEOUT = 4\n" + key_line(merge_key))
    merge = commit(repo, 4, "merge feature")

    _code, data = scan_range(capsys, repo, f"{merge}^!", branch_key, merge_key)

    assert rows(data) == [row("google-api-key", "config.py", 2, merge, 4, True)]


def test_pull_request_range_reports_the_branch_commits(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main_key, branch_key = google_key(), google_key()
    write(repo, "app.py", "pass\n")
    commit(repo, 1)
    git(repo, "checkout", "-q", "-b", "feature")
    write(repo, "feature.py", key_line(branch_key))
    added = commit(repo, 2, author="Grace")
    git(repo, "checkout", "-q", "main")
    write(repo, "main.py", key_line(main_key))
    commit(repo, 3)

    _code, data = scan_range(capsys, repo, "main..feature", main_key, branch_key)

    # in_head is about HEAD (main, checked out), where the branch's key is not.
    assert rows(data) == [row("google-api-key", "feature.py", 1, added, 2, False, author="Grace")]


def test_symmetric_difference_range(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base_key, main_key, branch_key = google_key(), google_key(), google_key()
    write(repo, "base.py", key_line(base_key))
    commit(repo, 1)
    git(repo, "checkout", "-q", "-b", "feature")
    write(repo, "feature.py", key_line(branch_key))
    on_branch = commit(repo, 2)
    git(repo, "checkout", "-q", "main")
    write(repo, "main.py", key_line(main_key))
    on_main = commit(repo, 3)

    _code, data = scan_range(capsys, repo, "main...feature", base_key, main_key, branch_key)

    assert rows(data) == [
        row("google-api-key", "feature.py", 1, on_branch, 2, False),
        row("google-api-key", "main.py", 1, on_main, 3, True),
    ]
    assert data["stats"]["commits"] == 2


def test_empty_range_is_clean(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, "app.py", key_line(google_key()))
    commit(repo, 1)

    code, data = scan_range(capsys, repo, "HEAD..HEAD")

    assert code == 0
    assert data["findings"] == [] and data["stats"]["commits"] == 0


def test_range_matches_history_for_the_whole_branch(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    k1, k2 = google_key(), google_key()
    write(repo, "a.py", key_line(k1))
    commit(repo, 1)
    write(repo, "a.py", "pass\n")
    write(repo, "b.py", key_line(k2))
    commit(repo, 2)
    (repo / "lib").mkdir()
    git(repo, "mv", "b.py", "lib/b.py")
    commit(repo, 3)

    _, whole = scan_range(capsys, repo, "HEAD", k1, k2)
    _, hist = scan_both(capsys, "--history", str(repo), secrets=(k1, k2))

    assert rows(whole) == rows(hist)
    assert len(rows(whole)) == 2


@pytest.mark.parametrize("revisions", [
    "nosuchbranch..HEAD",
    "HEAD..nosuchbranch",
    "HEAD~5..HEAD",
    "-x",
    "--output=/dev/null",
    "--all",
    "",
    "main..HEAD..main",
], ids=["unknown start", "unknown end", "beyond the root", "option", "option with value", "all refs", "empty", "garbled"])
def test_bad_range_is_one_line_and_exit_2(repo: Path, capsys: pytest.CaptureFixture[str], revisions: str) -> None:
    write(repo, "app.py", "pass\n")
    commit(repo, 1)
    capsys.readouterr()

    assert main(["scan", f"--range={revisions}", str(repo), "--format", "json"]) == 2

    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and captured.err.startswith("keysentry: error:")
    assert "Traceback" not in captured.err


def test_range_outside_a_repository_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()

    assert main(["scan", "--range", "HEAD~1..HEAD", str(folder)]) == 2

    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a git repository" in err


def test_range_in_a_repository_without_commits_is_exit_2(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", "--range", "HEAD~1..HEAD", str(repo)]) == 2

    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err


# --- what a range must name, and what it reports from a subfolder -----------------------------------


@pytest.mark.parametrize("revisions", ["HEAD:app.py", "HEAD^{tree}", "HEAD~1..HEAD:app.py", "HEAD:", "HEAD^{tree} ^HEAD~1"],
                         ids=["blob", "tree", "range to a blob", "root tree", "tree and a commit"])
def test_range_naming_no_commits_is_exit_2(repo: Path, capsys: pytest.CaptureFixture[str], revisions: str) -> None:
    write(repo, "app.py", key_line(google_key()))
    commit(repo, 1)
    write(repo, "app.py", "pass\n")
    commit(repo, 2)
    capsys.readouterr()

    # Not "no secrets found": there are no commits in it to look at.
    assert main(["scan", f"--range={revisions}", str(repo), "--format", "json"]) == 2

    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "not a commit range" in captured.err, captured.err


def test_annotated_tags_are_commit_ranges(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = google_key()
    write(repo, "app.py", "pass\n")
    commit(repo, 1)
    git(repo, "tag", "-a", "-m", "release", "v1")
    write(repo, "app.py", key_line(key))
    added = commit(repo, 2)
    git(repo, "tag", "-a", "-m", "release", "v2")

    for revisions in ("v1..v2", "v2 ^v1", "v2"):
        _code, data = scan_range(capsys, repo, revisions, key)
        assert rows(data) == [row("google-api-key", "app.py", 1, added, 2, True)], revisions


def test_branch_named_like_an_option_is_only_a_revision(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = google_key()
    write(repo, "app.py", "pass\n")
    base = commit(repo, 1)
    write(repo, "app.py", key_line(key))
    added = commit(repo, 2)
    # git refuses such a name; a repository from a stranger can have it all the same.
    (repo / ".git" / "refs" / "heads" / "--output=stolen").write_text(added + "\n")
    git(repo, "reset", "-q", "--hard", base)

    _code, data = scan_range(capsys, repo, "main..--output=stolen", key)

    assert rows(data) == [row("google-api-key", "app.py", 1, added, 2, False)]
    assert not (repo / "stolen").exists() and not Path("stolen").exists()


def test_key_renamed_after_the_range_is_still_in_head(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    moved, edited = google_key(), google_key()
    write(repo, "README.md", "hi\n")
    base = commit(repo, 1)
    write(repo, "app.py", key_line(moved))
    write(repo, "client.py", key_line(edited))
    added = commit(repo, 2)
    git(repo, "tag", "pushed")
    (repo / "lib").mkdir()
    git(repo, "mv", "app.py", "lib/app.py")  # renamed after the range: the same blob
    git(repo, "mv", "client.py", "lib/client.py")
    write(repo, "lib/client.py", "import genai\n" + key_line(edited))  # renamed and edited: a new blob
    commit(repo, 3)

    _code, data = scan_range(capsys, repo, f"{base}..pushed", moved, edited)

    assert rows(data) == [row("google-api-key", "app.py", 1, added, 2, True),
                          row("google-api-key", "client.py", 1, added, 2, True)]
    capsys.readouterr()
    assert main(["scan", "--range", f"{base}..pushed", str(repo), "--format", "sarif"]) == 1
    results = json.loads(capsys.readouterr().out)["runs"][0]["results"]
    assert sorted(r["properties"]["head_paths"] for r in results) == [["lib/app.py"], ["lib/client.py"]]


@pytest.mark.parametrize("mode", ["--history", "--range=HEAD"])
def test_subfolder_path_scans_the_whole_repository_and_says_so(
        repo: Path, capsys: pytest.CaptureFixture[str], mode: str) -> None:
    inside, outside = google_key(), google_key()
    write(repo, "services/api/app.py", key_line(inside))
    write(repo, "web/config.py", key_line(outside))
    commit(repo, 1)

    code, data = scan_both(capsys, mode, str(repo / "services" / "api"), secrets=(inside, outside))

    assert code == 1
    assert [f["path"] for f in data["findings"]] == ["services/api/app.py", "web/config.py"]
    capsys.readouterr()
    assert main(["scan", mode, str(repo / "services" / "api")]) == 1
    out = capsys.readouterr().out
    assert "whole repository" in out and "services/api/" in out
