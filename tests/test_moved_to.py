"""`moved_to`: every later path a history or range finding's secret was carried to by a rename or a
copy, with the commit that carried it (scanner.attribution says what counts as carried).

One repository, built once, tells every story with a secret of its own; the tests only read it.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from scanner.cli import main
from scanner.models import fingerprint
from tests.conftest import git, google_key
from tests.test_format_gitlab import gitlab
from tests.test_history import commit, write
from tests.test_sarif import sarif


def key_line(key: str) -> str:
    return f'client = genai.Client(api_key="{key}")\n'


@dataclass(frozen=True)
class Story:
    repo: Path
    keys: dict[str, str]  # story -> its secret
    commits: dict[str, str]  # label -> sha


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Story:
    repo = tmp_path_factory.mktemp("moved") / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    names = ("chain", "copy", "readded", "cut", "side", "back", "merged", "blob", "dotenv", "recopy", "renamed")
    keys = {name: google_key() for name in names}
    c: dict[str, str] = {}
    hour = iter(range(100))

    def stamp() -> dict[str, str]:
        # Pinned dates an hour apart: attribution and the order of moved_to never hang on the clock.
        when = f"2024-03-{1 + (n := next(hour)) // 24:02d}T{n % 24:02d}:00:00+00:00"
        return {"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}

    def step(label: str) -> None:
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", label, env=stamp())
        c[label] = git(repo, "rev-parse", "HEAD")

    write(repo, "README", "stories\n")
    step("root")
    # chain: a rename a -> b -> c, each in its own commit (git mv: the blob is unchanged).
    write(repo, "chain/a.py", key_line(keys["chain"]))
    step("chain-add")
    git(repo, "mv", "chain/a.py", "chain/b.py")
    step("chain-1")
    git(repo, "mv", "chain/b.py", "chain/c.py")
    step("chain-2")
    # copy: a stays, b is added holding the same secret (its own finding, and a place a's went).
    write(repo, "copy/a.py", key_line(keys["copy"]))
    step("copy-add")
    write(repo, "copy/b.py", "import genai\n\n" + key_line(keys["copy"]))
    step("copy-1")
    # readded: deleted, then added again at another path: nothing held it there, so not carried.
    write(repo, "readded/a.py", key_line(keys["readded"]))
    step("readded-add")
    (repo / "readded/a.py").unlink()
    step("readded-gone")
    write(repo, "readded/b.py", key_line(keys["readded"]))
    step("readded-again")
    # cut: the secret's line cut from one file and pasted into a quite different one.
    write(repo, "cut/app.py", "import genai\n" + key_line(keys["cut"]) + "main()\n")
    step("cut-add")
    write(repo, "cut/app.py", "import genai\nfrom settings import client\nmain()\n")
    write(repo, "cut/settings.py", "# settings\nTIMEOUT = 3\nRETRIES = 5\n\n" + key_line(keys["cut"]))
    step("cut-1")
    # back: a -> b -> a again; b is where it went, a is its own path.
    write(repo, "back/a.py", key_line(keys["back"]))
    step("back-add")
    git(repo, "mv", "back/a.py", "back/b.py")
    step("back-1")
    git(repo, "mv", "back/b.py", "back/a.py")
    step("back-2")
    # blob: the same blob at a second path while the first keeps it (a copied file, byte for byte).
    write(repo, "blob/a.env.py", key_line(keys["blob"]))
    step("blob-add")
    write(repo, "blob/b.env.py", key_line(keys["blob"]))
    step("blob-1")
    # dotenv: a second .env beside the first is not a copy of it (a whole-file finding is its file).
    write(repo, "svc/a/.env", "TOKEN=" + keys["dotenv"] + "\n")
    step("dotenv-add")
    write(repo, "svc/b/.env", "OTHER=" + google_key() + "\n")
    step("dotenv-1")
    # side: an unrelated branch adds the same secret at another path: not carried from main's.
    write(repo, "side/main.py", key_line(keys["side"]))
    step("side-add")
    git(repo, "checkout", "-q", "-b", "side", c["root"])
    write(repo, "side/other.py", key_line(keys["side"]))
    step("side-other")
    git(repo, "checkout", "-q", "main")
    # merged: renamed on a feature branch, merged into main: the rename's commit carried it.
    write(repo, "merged/m.py", key_line(keys["merged"]))
    step("merged-add")
    git(repo, "checkout", "-q", "-b", "feature")
    git(repo, "mv", "merged/m.py", "merged/n.py")
    step("merged-1")
    git(repo, "checkout", "-q", "main")
    write(repo, "README", "stories, more\n")
    step("main-more")
    git(repo, "merge", "-q", "--no-ff", "-m", "merge", "feature", env=stamp())
    # recopy: b copied from a, then c from b: each copy's own travels are on its own finding.
    write(repo, "recopy/a.py", key_line(keys["recopy"]))
    step("recopy-add")
    write(repo, "recopy/b.py", key_line(keys["recopy"]))
    step("recopy-1")
    write(repo, "recopy/c.py", key_line(keys["recopy"]))
    step("recopy-2")
    # renamed: a renamed to b, then b copied to c: both are places a's secret went.
    write(repo, "renamed/a.py", key_line(keys["renamed"]))
    step("renamed-add")
    git(repo, "mv", "renamed/a.py", "renamed/b.py")
    step("renamed-1")
    write(repo, "renamed/c.py", "import genai\n" + key_line(keys["renamed"]))
    step("renamed-2")
    return Story(repo, keys, c)


@pytest.fixture(scope="module")
def report(story: Story) -> dict[str, Any]:
    return _json("--history", str(story.repo), "--show-secrets")


def _json(*args: str) -> dict[str, Any]:
    out = _out(*args, "--format", "json")
    return json.loads(out)  # type: ignore[no-any-return]


def _out(*args: str) -> str:
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = main(["scan", *args, "--jobs", "1"])
    assert code == 1
    return buffer.getvalue()


def _by_path(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["path"]: f for f in data["findings"]}


# story -> {finding's path: [(moved-to path, commit label), ...]}: every finding of that secret.
CASES: dict[str, dict[str, list[tuple[str, str]]]] = {
    "chain": {"chain/a.py": [("chain/b.py", "chain-1"), ("chain/c.py", "chain-2")]},
    "copy": {"copy/a.py": [("copy/b.py", "copy-1")], "copy/b.py": []},
    "readded": {"readded/a.py": [], "readded/b.py": []},
    "cut": {"cut/app.py": [("cut/settings.py", "cut-1")]},
    "back": {"back/a.py": [("back/b.py", "back-1")]},
    "blob": {"blob/a.env.py": [("blob/b.env.py", "blob-1")], "blob/b.env.py": []},
    "side": {"side/main.py": [], "side/other.py": []},
    "merged": {"merged/m.py": [("merged/n.py", "merged-1")]},
    "recopy": {"recopy/a.py": [("recopy/b.py", "recopy-1")], "recopy/b.py": [("recopy/c.py", "recopy-2")],
               "recopy/c.py": []},
    "renamed": {"renamed/a.py": [("renamed/b.py", "renamed-1"), ("renamed/c.py", "renamed-2")], "renamed/c.py": []},
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_finding_lists_the_later_paths_its_secret_was_carried_to(name: str, story: Story,
                                                                     report: dict[str, Any]) -> None:
    findings = [f for f in report["findings"] if f["secret"] == story.keys[name]]
    got = {f["path"]: f["moved_to"] for f in findings}
    want = {path: [{"path": to, "commit": story.commits[label]} for to, label in moves]
            for path, moves in CASES[name].items()}
    assert got == want


def test_a_second_env_file_is_not_a_copy_of_the_first(report: dict[str, Any]) -> None:
    env = [f for f in report["findings"] if f["rule_id"] == "dotenv-file" and f["path"].startswith("svc/")]
    assert sorted((f["path"], f["moved_to"]) for f in env) == [("svc/a/.env", []), ("svc/b/.env", [])]


def test_a_rename_stays_one_finding_at_the_path_it_was_introduced_at(story: Story, report: dict[str, Any]) -> None:
    chain = _by_path(report)["chain/a.py"]
    assert chain["commit"] == story.commits["chain-add"]
    assert chain["in_head"] is True and [loc["path"] for loc in chain["locations"]] == ["chain/c.py"]


def test_the_fingerprint_is_the_one_of_the_path_it_was_introduced_at(story: Story, report: dict[str, Any]) -> None:
    # A baseline written before the renames still matches: moved_to never enters the fingerprint.
    chain = _by_path(report)["chain/a.py"]
    assert chain["fingerprint"] == fingerprint("google-api-key", "chain/a.py", story.keys["chain"])


def test_a_range_finding_lists_the_renames_inside_the_range(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    write(repo, "README", "x\n")
    base = commit(repo, 1)
    key = google_key()
    write(repo, "a.py", key_line(key))
    commit(repo, 2)
    git(repo, "mv", "a.py", "b.py")
    moved = commit(repo, 3)

    data = _json("--range", f"{base}..HEAD", str(repo))

    assert [(f["path"], f["moved_to"]) for f in data["findings"]] == [("a.py", [{"path": "b.py", "commit": moved}])]


def test_a_finding_no_rename_or_copy_reached_has_an_empty_moved_to_and_a_tree_scan_none(story: Story) -> None:
    tree = _json(str(story.repo))
    assert all("moved_to" not in f for f in tree["findings"])


def _moved_line(story: Story) -> Iterator[str]:
    yield f"chain/b.py ({story.commits['chain-1'][:12]})"
    yield f"chain/c.py ({story.commits['chain-2'][:12]})"


def test_text_says_where_it_was_moved(story: Story) -> None:
    text = " ".join(_out("--history", str(story.repo)).split())  # wrapped at 100 columns
    assert f"moved to {', '.join(_moved_line(story))}" in text


def test_markdown_names_the_later_paths_beside_the_location(story: Story) -> None:
    text = _out("--history", str(story.repo), "--format", "markdown")
    row = next(line for line in text.splitlines() if "chain/a.py" in line)
    moved = ", ".join(_moved_line(story)).replace("(", "\\(").replace(")", "\\)")  # markdown's escapes
    assert f"moved to {moved}" in row


def test_sarif_carries_moved_to_in_the_result_properties(story: Story, capsys: pytest.CaptureFixture[str]) -> None:
    log = sarif(capsys, "--history", str(story.repo), "--jobs", "1")
    result = next(r for r in log["runs"][0]["results"]
                  if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "chain/a.py")
    assert result["properties"]["moved_to"] == [{"path": "chain/b.py", "commit": story.commits["chain-1"]},
                                                {"path": "chain/c.py", "commit": story.commits["chain-2"]}]
    assert "moved to chain/b.py" in result["message"]["text"]


def test_gitlab_says_the_later_paths_in_the_description(story: Story, capsys: pytest.CaptureFixture[str]) -> None:
    report = gitlab(capsys, "--history", str(story.repo), "--jobs", "1")
    vulnerability = next(v for v in report["vulnerabilities"] if v["location"]["file"] == "chain/a.py")
    assert f"Later moved to {', '.join(_moved_line(story))}." in vulnerability["description"]


def test_html_shows_a_moved_to_table_for_the_secret(story: Story, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    _out("--history", str(story.repo), "--format", "html", "--output", str(page))
    html = page.read_text()
    assert "<h3>Moved to</h3>" in html
    assert (f"<tr><td><code>{story.commits['chain-2'][:12]}</code></td><td><code>chain/a.py</code></td>"
            "<td><code>chain/c.py</code></td></tr>") in html


def test_github_annotations_say_where_it_was_moved(story: Story) -> None:
    text = _out("--history", str(story.repo), "--format", "github")
    line = next(line for line in text.splitlines() if "file=chain/a.py" in line)
    assert f"moved to {', '.join(_moved_line(story))}" in line


@pytest.mark.parametrize("name", ["x\ny.py", "-rf.py", "a:b.py", "sp ace.py"])
def test_a_copy_from_a_path_with_an_awkward_name_is_traced_or_left_out_never_an_error(name: str,
                                                                                   tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    key = google_key()
    write(repo, name, key_line(key))
    commit(repo, 1)
    write(repo, "z.py", key_line(key))
    copied = commit(repo, 2)

    found = {f["path"]: f["moved_to"] for f in _json("--history", str(repo))["findings"]}

    assert set(found) == {name, "z.py"} and found["z.py"] == []
    # A newline cannot be asked of git's batch line: that copy is not traced; every other name is.
    assert found[name] == ([] if "\n" in name else [{"path": "z.py", "commit": copied}])
