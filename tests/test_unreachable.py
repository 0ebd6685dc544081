"""`scan --history --unreachable` (and `audit --unreachable`): what no ref leads to is scanned too,
reflog-only commits and dangling objects, each finding marked `"reachable": false`.

One repository, built once, holds every kind; the tests only read it.
"""
from __future__ import annotations

import contextlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from scanner.cli import main
from tests.conftest import git, google_key
from tests.test_history import commit, write
from tests.test_sarif import SCHEMA as SARIF_SCHEMA


def key_line(key: str) -> str:
    return f'client = genai.Client(api_key="{key}")\n'


@dataclass(frozen=True)
class Copy:
    repo: Path
    keys: dict[str, str]
    ids: dict[str, str]  # what each story left behind: a commit, a blob, a tree


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Copy:
    repo = tmp_path_factory.mktemp("unreachable") / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "gc.auto", "0")  # nothing pruned behind the tests' back
    names = ("amended", "kept", "both", "blob", "tree", "stash", "tag", "msg", "msgkept", "tagmsg", "note")
    keys = {name: google_key() for name in names}
    ids: dict[str, str] = {}
    write(repo, "README", "x\n")
    commit(repo, 1)
    # amended: a commit that added a key, amended away; only the reflog names it.
    write(repo, "amended.py", key_line(keys["amended"]))
    ids["amended"] = commit(repo, 2, "with a key")
    (repo / "amended.py").unlink()
    write(repo, "amended.py", "import os\n")
    git(repo, "commit", "-q", "--amend", "-a", "-m", "without")
    # both: the key is in the amended-away commit and in the one that replaced it, at one path:
    # reachable, so reported once, as reachable.
    write(repo, "both.py", key_line(keys["both"]))
    commit(repo, 3, "both")
    git(repo, "commit", "-q", "--amend", "-m", "both, reworded")
    # blob: `git add`ed, then unstaged: a dangling blob with no path.
    write(repo, "staged.py", key_line(keys["blob"]))
    git(repo, "add", "staged.py")
    ids["blob"] = git(repo, "rev-parse", ":staged.py")
    git(repo, "rm", "-q", "--cached", "staged.py")
    (repo / "staged.py").unlink()
    # tree: a tree written from the index and never committed.
    write(repo, "tools/deploy.py", key_line(keys["tree"]))
    git(repo, "add", "tools/deploy.py")
    ids["tree"] = git(repo, "write-tree")
    git(repo, "rm", "-q", "--cached", "tools/deploy.py")
    (repo / "tools/deploy.py").unlink()
    # stash: stashed, then dropped.
    write(repo, "README", "x\n" + key_line(keys["stash"]))
    git(repo, "stash", "-q")
    git(repo, "stash", "drop", "-q")
    # tag: an annotated tag of a commit, the tag's ref deleted.
    git(repo, "checkout", "-q", "-b", "gone")
    write(repo, "tagged.py", key_line(keys["tag"]))
    ids["tag"] = commit(repo, 4, "tagged")
    git(repo, "tag", "-a", "-m", "t", "t1")
    git(repo, "checkout", "-q", "main")
    git(repo, "branch", "-q", "-D", "gone")
    git(repo, "tag", "-d", "t1")
    # msg: a key pasted into a commit message, the message amended away.
    write(repo, "msg.txt", "1\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", f"rotate key {keys['msg']}")
    ids["msg"] = git(repo, "rev-parse", "HEAD")
    git(repo, "commit", "-q", "--amend", "-m", "rotate the key")
    # msgkept: the amend keeps the message: the reachable commit says it, reported once as reachable.
    write(repo, "msg.txt", "2\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", f"use {keys['msgkept']}")
    write(repo, "msg.txt", "3\n")
    git(repo, "commit", "-q", "-a", "--amend", "--no-edit")
    ids["msgkept"] = git(repo, "rev-parse", "HEAD")
    # tagmsg: an annotated tag whose message holds a key, deleted.
    git(repo, "tag", "-a", "-m", f"release with {keys['tagmsg']}", "t2")
    ids["tagmsg"] = git(repo, "rev-parse", "t2")
    git(repo, "tag", "-d", "t2")
    # note: a git note on a reachable commit (its ref is reflogged like a branch): reachable.
    git(repo, "notes", "add", "-m", f"deploy with {keys['note']}", "HEAD")
    ids["note"] = git(repo, "rev-parse", "HEAD")
    # kept: reachable all along.
    write(repo, "kept.py", key_line(keys["kept"]))
    ids["kept"] = commit(repo, 5, "kept")
    return Copy(repo, keys, ids)


def _run(*args: str) -> tuple[int, str]:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = main([*args, "--jobs", "1"])
    return code, buffer.getvalue()


@pytest.fixture(scope="module")
def report(copy: Copy) -> dict[str, Any]:
    code, out = _run("scan", "--history", "--unreachable", str(copy.repo), "--format", "json", "--show-secrets")
    assert code == 1
    return json.loads(out)  # type: ignore[no-any-return]


def _of(report: dict[str, Any], copy: Copy, name: str) -> list[dict[str, Any]]:
    return [f for f in report["findings"] if f["secret"] == copy.keys[name]]


# story -> (path, commit: an id of the story or None, reachable) of its one finding
CASES: dict[str, tuple[str, str | None, bool]] = {
    "amended": ("amended.py", "amended", False),
    "both": ("both.py", None, True),
    "blob": ("{blob}", None, False),
    "tree": ("{tree}:tools/deploy.py", None, False),
    "tag": ("tagged.py", "tag", False),
    "kept": ("kept.py", "kept", True),
    "msg": ("commit-message:{msg}", "msg", False),
    "msgkept": ("commit-message:{msgkept}", "msgkept", True),
    "tagmsg": ("tag-message:{tagmsg}", None, False),
    "note": ("note:{note}", None, True),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_secret_is_found_once_and_marked_whether_a_ref_leads_to_it(name: str, copy: Copy,
                                                                     report: dict[str, Any]) -> None:
    path, commit_of, reachable = CASES[name]
    [finding] = _of(report, copy, name)
    assert finding["path"] == path.format(**copy.ids)
    assert finding["reachable"] is reachable
    if commit_of is not None:
        assert finding["commit"] == copy.ids[commit_of]
    if not reachable:
        assert finding["in_head"] is not True


def test_a_dropped_stash_is_found_in_its_commit(copy: Copy, report: dict[str, Any]) -> None:
    [finding] = _of(report, copy, "stash")
    assert finding["path"] == "README" and finding["reachable"] is False and finding["commit"]


def test_the_stats_count_what_no_ref_leads_to(report: dict[str, Any]) -> None:
    counted = report["stats"]["unreachable"]
    assert counted["trees"] == 1 and counted["blobs"] == 1 and counted["commits"] >= 3


def test_without_the_flag_only_what_refs_lead_to_is_scanned_and_nothing_is_marked(copy: Copy) -> None:
    code, out = _run("scan", "--history", str(copy.repo), "--format", "json", "--show-secrets")
    assert code == 1
    data = json.loads(out)
    assert sorted(f["secret"] for f in data["findings"]) == sorted(copy.keys[name]
                                                                   for name in ("both", "kept", "msgkept", "note"))
    assert all("reachable" not in f for f in data["findings"]) and "unreachable" not in data["stats"]


@pytest.mark.parametrize("args", [["scan", "--unreachable"], ["scan", "--unreachable", "--range", "HEAD~1..HEAD"],
                                  ["scan", "--unreachable", "--staged"]])
def test_unreachable_without_history_is_one_line_and_exit_2(args: list[str], copy: Copy,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = _run(*args, str(copy.repo))
    err = capsys.readouterr().err
    assert code == 2 and "--unreachable adds to --history" in err and "Traceback" not in err


def test_text_puts_them_in_a_section_of_their_own_with_how_to_drop_them(copy: Copy) -> None:
    _code, out = _run("scan", "--history", "--unreachable", str(copy.repo))
    text = " ".join(out.split())
    head, _, lost = text.partition("Not reachable from any ref")
    assert lost and "git reflog expire --expire-unreachable=now --all && git gc --prune=now" in lost
    assert "amended.py" in lost and "kept.py" not in lost and "amended.py" not in head


def test_sarif_marks_them_in_the_properties_and_stays_valid(copy: Copy) -> None:
    _code, out = _run("scan", "--history", "--unreachable", str(copy.repo), "--format", "sarif")
    log = json.loads(out)
    assert not list(jsonschema.Draft4Validator(SARIF_SCHEMA).iter_errors(log))
    marks = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: r["properties"]["reachable"]
             for r in log["runs"][0]["results"]}
    assert marks["amended.py"] is False and marks["kept.py"] is True


def test_html_says_so_in_the_row_and_its_details(copy: Copy, tmp_path: Path) -> None:
    page = tmp_path / "r.html"
    _run("scan", "--history", "--unreachable", str(copy.repo), "--format", "html", "--output", str(page))
    html = page.read_text()
    assert html.count('data-reachable="no"') == 7
    assert html.count("<td>no (unreachable)</td>") == 7
    assert '<p class="unreachable"><strong>Unreachable:</strong> not reachable from any ref' in html


def test_an_audit_of_a_copied_repository_marks_them_too(copy: Copy, tmp_path: Path) -> None:
    code, out = _run("audit", str(copy.repo), "--unreachable", "--format", "json", "--workdir", str(tmp_path / "w"))
    assert code == 1
    [repository] = json.loads(out)["repositories"]
    marked = {f["path"]: f["reachable"] for f in repository["findings"]}
    assert marked["amended.py"] is False and marked["kept.py"] is True
    # The flag is part of what a stored result stands for: without it, the audit scans again.
    code, out = _run("audit", str(copy.repo), "--format", "json", "--workdir", str(tmp_path / "w"))
    assert all("reachable" not in f for f in json.loads(out)["repositories"][0]["findings"])


@pytest.mark.parametrize("fmt", ["github", "gitlab", "markdown"])
def test_the_other_formats_say_it_of_the_unreachable_finding_only(fmt: str, copy: Copy) -> None:
    _code, out = _run("scan", "--history", "--unreachable", str(copy.repo), "--format", fmt)
    lines = out.splitlines() if fmt != "gitlab" else [  # one vulnerability's file and description
        f"{v['location']['file']} {v['description']}" for v in json.loads(out)["vulnerabilities"]]
    marked = [line for line in lines if "not reachable from any ref" in line]
    assert any("amended.py" in line for line in marked)
    assert not any("kept.py" in line for line in marked)


def test_a_baseline_of_the_unreachable_silences_them_in_the_next_scan(copy: Copy, tmp_path: Path) -> None:
    recorded = tmp_path / "baseline.json"
    code, _ = _run("baseline", "--history", "--unreachable", str(copy.repo), "--output", str(recorded))
    assert code == 0
    code, out = _run("scan", "--history", "--unreachable", str(copy.repo), "--baseline", str(recorded),
                     "--format", "json")
    assert code == 0 and json.loads(out)["findings"] == []
    code, _ = _run("baseline", "--unreachable", str(copy.repo), "--output", str(recorded))
    assert code == 2
