"""A tag (lightweight or annotated, or a tag of a tag) that points at a blob or a tree, with no commit:
`--history` reads what it holds, and the pre-push hook blocks a push of it (issue 17, 5)."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from scanner.cli import main
from tests.conftest import git, google_key
from tests.test_install_hooks import _attempt


def _blob(repo: Path, text: str) -> str:
    return subprocess.run(["git", "hash-object", "-w", "--stdin"], cwd=repo, input=text, capture_output=True,
                          text=True, check=True).stdout.strip()


def _tree(repo: Path, files: dict[str, str]) -> str:
    """A tree holding FILES (one folder deep at most), written without touching the index or a commit."""
    entries: dict[str, list[str]] = {}
    for path, text in files.items():
        folder, _, name = path.rpartition("/")
        entries.setdefault(folder, []).append(f"100644 blob {_blob(repo, text)}\t{name}")
    top = entries.pop("", [])
    for folder, lines in entries.items():
        sub = subprocess.run(["git", "mktree"], cwd=repo, input="\n".join(lines) + "\n", capture_output=True,
                             text=True, check=True).stdout.strip()
        top.append(f"040000 tree {sub}\t{folder}")
    return subprocess.run(["git", "mktree"], cwd=repo, input="\n".join(top) + "\n", capture_output=True,
                          text=True, check=True).stdout.strip()


def _tag(repo: Path, how: str, name: str, target: str) -> None:
    if how == "lightweight":
        git(repo, "tag", name, target)
    elif how == "annotated":
        git(repo, "tag", "-a", "-m", "release", name, target)
    else:  # a tag of an annotated tag of the object
        git(repo, "tag", "-a", "-m", "inner", f"{name}-inner", target)
        git(repo, "-c", "advice.nestedTag=false", "tag", "-a", "-m", "outer", name, f"{name}-inner")


def _history(repo: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[dict[str, object]]]:
    code = main(["scan", "--history", str(repo), "--format", "json", "--jobs", "1"])
    return code, json.loads(capsys.readouterr().out)["findings"]


@pytest.fixture
def started(repo: Path) -> Path:
    (repo / "README.md").write_text("# demo\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "start")
    return repo


@pytest.mark.parametrize("how", ["lightweight", "annotated", "nested"])
def test_history_reads_a_blob_a_tag_points_at(started: Path, how: str, capsys: pytest.CaptureFixture[str]) -> None:
    _tag(started, how, "keys", _blob(started, f'GEMINI_API_KEY = "{google_key()}"\n'))
    code, findings = _history(started, capsys)
    assert code == 1
    assert [(f["rule_id"], f["path"], f["line"], f["commit"]) for f in findings] == [
        ("google-api-key", "refs/tags/keys", 1, None)]


@pytest.mark.parametrize("how", ["lightweight", "annotated"])
def test_history_reads_every_file_of_a_tree_a_tag_points_at(started: Path, how: str,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    _tag(started, how, "snapshot", _tree(started, {"README.md": "# demo\n", "src/app.py": f'KEY = "{google_key()}"\n',
                                                    "deploy/.env": "DB_PASSWORD=hunter2hunter2\n"}))
    code, findings = _history(started, capsys)
    assert code == 1
    assert sorted((f["rule_id"], f["path"]) for f in findings) == [
        ("dotenv-file", "refs/tags/snapshot:deploy/.env"), ("google-api-key", "refs/tags/snapshot:src/app.py")]


def test_a_tree_of_a_commit_is_not_reported_twice(started: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (started / "app.py").write_text(f'KEY = "{google_key()}"\n')
    git(started, "add", "-A")
    git(started, "commit", "-q", "-m", "key")
    git(started, "tag", "tree-of-head", "HEAD^{tree}")
    code, findings = _history(started, capsys)
    assert code == 1 and [(f["path"], bool(f["commit"])) for f in findings] == [("app.py", True)]


def test_the_config_excludes_a_tagged_trees_files_by_their_path(started: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    (started / ".keysentry.toml").write_text('exclude = ["vendor/**"]\n')
    _tag(started, "lightweight", "snap", _tree(started, {"vendor/lib.py": f'KEY = "{google_key()}"\n'}))
    assert _history(started, capsys) == (0, [])


@pytest.fixture
def hooked_remote(started: Path) -> tuple[Path, Path]:
    assert main(["install-hooks", str(started)]) == 0
    bare = started.parent / "remote.git"
    git(started.parent, "init", "-q", "--bare", str(bare))
    git(started, "remote", "add", "origin", str(bare))
    assert _attempt(started, "push", "-q", "origin", "main").returncode == 0
    return started, bare


@pytest.mark.parametrize("kind", ["blob", "tree"])
def test_pre_push_blocks_a_tag_of_a_blob_or_tree_holding_a_key(hooked_remote: tuple[Path, Path], kind: str) -> None:
    repo, bare = hooked_remote
    text = f'KEY = "{google_key()}"\n'
    target = _blob(repo, text) if kind == "blob" else _tree(repo, {"conf/app.py": text})
    _tag(repo, "annotated", "leak", target)
    proc = _attempt(repo, "push", "origin", "leak")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    where = "refs/tags/leak" if kind == "blob" else "refs/tags/leak:conf/app.py"
    assert "push blocked: 1 secret" in out and where in out and "git tag -d leak" in out, out
    assert git(bare, "tag", "--list") == ""


def test_pre_push_passes_a_clean_tagged_tree_and_ignores_what_the_remote_has(hooked_remote: tuple[Path, Path]) -> None:
    repo, bare = hooked_remote
    (repo / "old.py").write_text(f'OLD = "{google_key()}"\n')  # published already, with --no-verify
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--no-verify", "-m", "old")
    assert _attempt(repo, "push", "-q", "--no-verify", "origin", "main").returncode == 0
    git(repo, "tag", "snap", "HEAD^{tree}")  # every blob of it is on the remote already
    _tag(repo, "lightweight", "notes", _blob(repo, "release notes\n"))
    proc = _attempt(repo, "push", "origin", "snap", "notes")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert git(bare, "tag", "--list") == "notes\nsnap"


def test_many_tags_of_blobs_are_read_in_one_go_and_each_blob_once(started: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    key = _blob(started, f'KEY = "{google_key()}"\n')
    for n in range(150):
        git(started, "tag", f"note-{n:03}", _blob(started, f"note {n}\n"))
    git(started, "tag", "b-copy", key)
    git(started, "tag", "a-keys", key)  # the same blob under two names: one finding, at the first
    code, findings = _history(started, capsys)
    assert code == 1 and [f["path"] for f in findings] == ["refs/tags/a-keys"]


def test_pre_commit_frameworks_push_of_a_tag_of_a_blob_is_scanned(hooked_remote: tuple[Path, Path]) -> None:
    from scanner import hook
    from scanner.scan import Request

    repo, _ = hooked_remote
    _tag(repo, "annotated", "leak", _blob(repo, f'KEY = "{google_key()}"\n'))
    tag = git(repo, "rev-parse", "leak")
    env = {"PRE_COMMIT_FROM_REF": "0" * 40, "PRE_COMMIT_TO_REF": tag, "PRE_COMMIT_LOCAL_BRANCH": "refs/tags/leak",
           "PRE_COMMIT_REMOTE_BRANCH": "refs/tags/leak", "PRE_COMMIT_REMOTE_NAME": "origin"}
    result = hook.pre_push(Request("range", repo, jobs=1), None, None, env)
    assert [f.path for f in result.findings] == ["refs/tags/leak"]
