"""Keys in git's metadata: commit messages, annotated tag messages and git notes, in --history,
--range, pre-push and pre-receive (issue 18, 4). One repository, built once, that every scan only reads;
each row of the tables is one place in one mode, a true or a false positive."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from scanner import hook, receive
from scanner.cli import main
from scanner.scan import Request
from tests.conftest import git, google_key
from tests.test_format_gitlab import SCHEMA as GITLAB_SCHEMA
from tests.test_sarif import SCHEMA as SARIF_SCHEMA


@dataclass(frozen=True)
class Story:
    """The shared repository: which commit or tag carries which key in its message."""

    repo: Path
    commit_key: str  # in the message of `first` and, cherry-picked, of `copy`
    tag_key: str  # in the message of the annotated tag `v1`
    note_key: str  # in a note on `base`, since overwritten: only the notes ref's history holds it
    base: str  # the first commit (clean)
    first: str  # "fix: rotate key …": a key in the subject
    placeholder: str  # a message with a placeholder and an environment lookup: no finding
    copy: str  # a cherry-pick of `first` on a branch: the same message text, later
    tag: str  # v1's tag object id (it tags `placeholder`)
    clean_tag: str  # v0's tag object id: a placeholder in its message


def _commit(repo: Path, message: str, day: int, name: str = "a.txt") -> str:
    (repo / name).write_text(f"day {day}\n")
    git(repo, "add", "-A")
    date = f"2024-01-{day:02d}T12:00:00+00:00"
    git(repo, "commit", "-q", "--no-verify", "-m", message, env={"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date})
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture(scope="session")
def story(tmp_path_factory: pytest.TempPathFactory) -> Story:
    repo = tmp_path_factory.mktemp("metadata") / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    commit_key, tag_key, note_key = google_key(), google_key(), google_key()
    base = _commit(repo, "start", 1)
    first = _commit(repo, f"fix: rotate key {commit_key}\n\nthe old one leaked", 2)
    placeholder = _commit(repo, 'docs: set GOOGLE_API_KEY=AIzaXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX\n\n'
                                'api_key = os.environ["GOOGLE_API_KEY"]', 3)
    date = {"GIT_COMMITTER_DATE": "2024-01-04T12:00:00+00:00"}
    git(repo, "tag", "-a", "v1", "-m", f"release 1\n\nsmoke test key: {tag_key}", env=date)
    git(repo, "tag", "-a", "v0", base, "-m", "first\n\nkey = YOUR_API_KEY_HERE", env=date)
    noted = {**date, "GIT_AUTHOR_DATE": date["GIT_COMMITTER_DATE"]}
    git(repo, "notes", "add", "-m", f"deployed with {note_key}", base, env=noted)
    git(repo, "notes", "add", "-f", "-m", "deployed (key rotated)", base, env=noted)
    git(repo, "notes", "add", "-m", "api_key = os.environ['GOOGLE_API_KEY']", first, env=noted)
    git(repo, "checkout", "-q", "-b", "side", base)
    (repo / "b.txt").write_text("side\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "side work", env={"GIT_AUTHOR_DATE": "2024-01-05T12:00:00+00:00",
                                                        "GIT_COMMITTER_DATE": "2024-01-05T12:00:00+00:00"})
    late = {"GIT_AUTHOR_DATE": "2024-01-06T12:00:00+00:00", "GIT_COMMITTER_DATE": "2024-01-06T12:00:00+00:00"}
    git(repo, "cherry-pick", "--allow-empty", "--keep-redundant-commits", first, env=late)
    git(repo, "commit", "-q", "--amend", "--no-edit", "--date", late["GIT_AUTHOR_DATE"], env=late)
    copy = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "main")
    return Story(repo, commit_key, tag_key, note_key, base, first, placeholder, copy,
                 git(repo, "rev-parse", "v1"), git(repo, "rev-parse", "v0"))


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code = main(["scan", *args, "--format", "json"])
    out = capsys.readouterr()
    assert code in (0, 1), out.err
    return code, json.loads(out.out)


def _places(data: dict[str, Any]) -> set[tuple[str, str, int, int, str]]:
    return {(f["place"], f["path"], f["line"], f["column"], f["commit"])
            for f in data["findings"] if f.get("place")}


# (id, revisions for --range or None for --history, what is found: (place, object, line, column, commit))
# Objects and commits are Story's attribute names.
MODES = [
    ("history", None, {("commit-message", "first", 1, 17, "first"), ("tag-message", "tag", 3, 17, "placeholder"),
                       ("note", "base", 1, 15, "base")}),
    ("range-all", "{base}..main", {("commit-message", "first", 1, 17, "first"),
                                 ("tag-message", "tag", 3, 17, "placeholder")}),
    # The cherry-pick alone: its copy of the message is new to the range, the tag is not.
    ("range-copy", "main..side", {("commit-message", "copy", 1, 17, "copy")}),
    ("range-clean", "{first}..main", {("tag-message", "tag", 3, 17, "placeholder")}),
    ("range-none", "main~1..main~1", set()),
    # A range over the notes ref (what a push of refs/notes/commits sends): its notes, as in --history.
    ("range-notes", "refs/notes/commits", {("note", "base", 1, 15, "base")}),
    ("range-notes-clean", "refs/notes/commits~1..refs/notes/commits", set()),
    ("range-code-and-notes", "main refs/notes/commits ^{base}", {("commit-message", "first", 1, 17, "first"),
                                                               ("tag-message", "tag", 3, 17, "placeholder"),
                                                               ("note", "base", 1, 15, "base")}),
]


@pytest.mark.parametrize(("revisions", "expected"), [m[1:] for m in MODES], ids=[m[0] for m in MODES])
def test_keys_in_messages_are_found_once_at_the_oldest_object(
        story: Story, capsys: pytest.CaptureFixture[str], revisions: str | None,
        expected: set[tuple[str, str, int, int, str]]) -> None:
    args = ["--history", str(story.repo)] if revisions is None else \
        ["--range", revisions.format(**vars(story)), str(story.repo)]
    code, data = _json(capsys, *args)
    prefix = {"commit-message": "commit-message:", "tag-message": "tag-message:", "note": "note:"}
    want = {(place, prefix[place] + getattr(story, obj), line, column, getattr(story, commit))
            for place, obj, line, column, commit in expected}
    assert _places(data) == want
    assert code == (1 if want else 0)
    # No file finding anywhere: the files are clean; and the report never holds the keys.
    assert all(f.get("place") for f in data["findings"])
    assert not {story.commit_key, story.tag_key, story.note_key} & set(json.dumps(data).split('"'))


def test_a_message_finding_names_its_author_date_and_is_no_file(story: Story,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    _, data = _json(capsys, "--history", str(story.repo))
    by_place = {f["place"]: f for f in data["findings"]}
    message = by_place["commit-message"]
    assert (message["author"], message["date"][:10], message["in_head"]) == ("Ada", "2024-01-02", False)
    assert message["secret"].startswith("AIza") and "…" in message["secret"]
    tag = by_place["tag-message"]
    assert (tag["author"], tag["date"][:10]) == ("Ada", "2024-01-04")
    # The fingerprint is keyed on the message's path: baselining it silences exactly that finding.
    baseline = story.repo.parent / "baseline.json"
    assert main(["baseline", str(story.repo), "--history", "--output", str(baseline)]) in (0, 1)
    capsys.readouterr()
    code, again = _json(capsys, "--history", str(story.repo), "--baseline", str(baseline))
    assert code == 0 and again["findings"] == [] and again["stats"]["baselined"] == 3
    note = by_place["note"]
    assert (note["commit"], note["date"][:10]) == (story.base, "2024-01-04")


def test_every_report_format_takes_a_message_finding(story: Story, capsys: pytest.CaptureFixture[str]) -> None:
    repo = str(story.repo)
    assert main(["scan", "--history", repo, "--format", "sarif"]) == 1
    log = json.loads(capsys.readouterr().out)
    errors = list(jsonschema.Draft4Validator(SARIF_SCHEMA).iter_errors(log))
    assert not errors, errors[:3]
    results = log["runs"][0]["results"]
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}
    # A relative reference with no scheme: the ':' of the prefix is percent-encoded.
    assert uris == {f"commit-message%3A{story.first}", f"tag-message%3A{story.tag}", f"note%3A{story.base}"}
    assert all(r["locations"][0]["physicalLocation"]["region"]["startLine"] in (1, 3) for r in results)
    assert {r["properties"]["place"] for r in results} == {"commit-message", "tag-message", "note"}

    assert main(["scan", "--history", repo, "--format", "gitlab"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert not list(jsonschema.Draft7Validator(GITLAB_SCHEMA).iter_errors(report))

    assert main(["scan", "--history", repo, "--format", "github"]) == 1
    annotations = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("::error")]
    # Bound to no file (a message is none); the text names the message and the commit.
    assert len(annotations) == 3 and not any("file=" in a for a in annotations)
    assert any(f"commit-message:{story.first}:1" in a for a in annotations)

    assert main(["scan", "--history", repo, "--format", "markdown"]) == 1
    assert f"commit\\-message:{story.first}:1" in capsys.readouterr().out
    for fmt in ("text", "html"):
        assert main(["scan", "--history", repo, "--format", fmt, "--show-secrets"]) == 1
        out = capsys.readouterr().out
        assert f"commit-message:{story.first}" in out
        assert "--replace-message" in out  # the purge advice rewrites messages, not only files


def test_pre_push_scans_the_messages_and_tags_it_sends(story: Story) -> None:
    # The remote has `base` only: pushing main sends `first` (a key in its message) and the tags.
    zero = "0" * 40
    lines = (f"refs/heads/main {git(story.repo, 'rev-parse', 'main')} refs/heads/main {story.base}\n"
             f"refs/tags/v0 {story.clean_tag} refs/tags/v0 {zero}\n")
    result = hook.pre_push(Request("range", story.repo), None, lines, {})
    # v1 tags a pushed commit but is not pushed itself: its message stays here.
    assert [(f.place, f.commit) for f in result.findings] == [("commit-message", story.first)]
    # The blocked message says to reword the message; no comment can go on a message's line.
    from scanner.report import Options, blocked

    said = blocked.render(result, Options(), action="push", via="hook")
    assert f"git rebase -i {story.first[:12]}^" in said and "`reword`" in said and "keysentry:allow" not in said
    # A push of the tag alone, to a remote that has its commit: the tag's message is what it sends.
    only_tag = f"refs/tags/v1 {story.tag} refs/tags/v1 {zero}\n"
    git(story.repo, "update-ref", "refs/remotes/origin/main", "main")
    try:
        result = hook.pre_push(Request("range", story.repo), "origin", only_tag, {})
    finally:
        git(story.repo, "update-ref", "-d", "refs/remotes/origin/main")
    assert [(f.place, f.path) for f in result.findings] == [("tag-message", f"tag-message:{story.tag}")]
    clean = f"refs/tags/v0 {story.clean_tag} refs/tags/v0 {zero}\n"
    assert hook.pre_push(Request("range", story.repo), None, clean, {}).findings == ()


def test_pre_push_of_the_notes_ref_reports_a_note_as_a_note(story: Story) -> None:
    zero = "0" * 40
    tip = git(story.repo, "rev-parse", "refs/notes/commits")
    result = hook.pre_push(Request("range", story.repo), None, f"refs/notes/commits {tip} refs/notes/commits {zero}\n", {})
    assert [(f.place, f.path, f.commit) for f in result.findings] == [("note", f"note:{story.base}", story.base)]
    # Only the last notes commit, which adds a clean note: nothing, and no file at a hex path.
    parent = git(story.repo, "rev-parse", "refs/notes/commits~1")
    assert hook.pre_push(Request("range", story.repo), None,
                         f"refs/notes/commits {tip} refs/notes/commits {parent}\n", {}).findings == ()


def test_pre_receive_rejects_a_push_whose_commit_message_holds_a_key(tmp_path: Path) -> None:
    from tests.test_pre_receive import _clone, _commit, _push, _rejected, _serve

    server = _serve(tmp_path)
    clone = _clone(server)
    _commit(clone, {"README.md": "# demo\n"}, "start")
    assert _push(clone, "-q", "origin", "main").returncode == 0
    _commit(clone, {"README.md": "# demo\nmore\n"}, f"oops: key {google_key()}")
    out = _rejected(_push(clone, "origin", "main"))
    assert "commit-message:" in out
    # In process, as the hook runs it: an annotated tag pushed alone is judged on its message.
    repo = receive.gitcmd.find(clone)
    assert repo is not None
    git(clone, "reset", "-q", "--hard", "HEAD~1")
    git(clone, "tag", "-a", "v9", "-m", f"key {google_key()}")
    update = receive.Update("0" * 40, git(clone, "rev-parse", "v9"), "refs/tags/v9")
    found = receive.scan_push(Request("range", clone), repo, [update], receive.ServerPolicy()).findings
    assert [f.place for f in found] == ["tag-message"]

    # A note pushed to a server that has no notes ref yet: named as a note, not at a hex path.
    git(clone, "notes", "add", "-m", f"deployed with {google_key()}", "HEAD")
    out = _rejected(_push(clone, "origin", "refs/notes/commits"))
    assert f"note:{git(clone, 'rev-parse', 'HEAD')}" in out


def test_a_key_after_a_nul_in_a_commit_message_is_found(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # `git log` prints a message only up to a NUL byte: the key after it is published unseen there.
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    tree = git(repo, "hash-object", "-t", "tree", "-w", "--stdin", input="")
    key = google_key()
    body = (f"tree {tree}\nauthor Eve <e@x> 1700000000 +0000\ncommitter Eve <e@x> 1700000000 +0000\n\n"
            f"harmless subject\0\nkey {key}\n")
    (tmp_path / "commit").write_bytes(body.encode())
    sha = git(repo, "hash-object", "-t", "commit", "-w", "--literally", str(tmp_path / "commit"))
    git(repo, "update-ref", "refs/heads/main", sha)
    code, data = _json(capsys, "--history", str(repo))
    assert code == 1
    assert _places(data) == {("commit-message", f"commit-message:{sha}", 2, 5, sha)}
    assert data["findings"][0]["author"] == "Eve"


@pytest.mark.parametrize("notes", [False, True], ids=["commits-listed-by-the-walk", "with-a-notes-ref"])
def test_one_key_in_messages_of_one_instant_is_found_at_the_commit_git_lists_last(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], notes: bool) -> None:
    # Three messages carry the key, each authored at the same instant: the tie goes to the commit
    # git's order (newest committed first) lists last. Without a notes ref the history's walk lists
    # the commits for the messages; with one, the messages list their own (the walk leaves notes out).
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    key = google_key()
    base = _commit(repo, "start", 1)
    authored = {"GIT_AUTHOR_DATE": "2024-01-02T12:00:00+00:00"}

    def commit(message: str, day: int) -> str:
        (repo / "a.txt").write_text(f"day {day}\n")
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "--no-verify", "-m", message,
            env={**authored, "GIT_COMMITTER_DATE": f"2024-01-{day:02d}T12:00:00+00:00"})
        return git(repo, "rev-parse", "HEAD")

    oldest = commit(f"fix: rotate key {key}", 2)
    commit(f"again: rotate key {key}", 3)
    git(repo, "checkout", "-q", "-b", "side", base)
    commit(f"side: rotate key {key}", 4)
    git(repo, "checkout", "-q", "main")
    if notes:
        git(repo, "notes", "add", "-m", "deployed", base)
    code, data = _json(capsys, "--history", str(repo))
    assert code == 1
    assert [(f["place"], f["commit"]) for f in data["findings"]] == [("commit-message", oldest)]
