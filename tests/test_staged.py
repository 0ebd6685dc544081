"""--staged: what `git commit` would record, read from the index; only secrets the commit adds."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from scanner.cli import main
from tests.conftest import git, google_key, run_cli


def staged(repo: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, list[dict]]:
    code = main(["scan", "--staged", str(repo), "--format", "json", *extra])
    out = capsys.readouterr().out
    return code, json.loads(out)["findings"]


def commit_all(repo: Path, message: str = "commit") -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--no-verify", "-m", message)


def test_first_commit_without_head_is_scanned(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "app.py").write_text(f'KEY = "{google_key()}"\n')
    git(repo, "add", "app.py")
    code, findings = staged(repo, capsys)
    assert code == 1
    assert [(f["rule_id"], f["path"], f["line"]) for f in findings] == [("google-api-key", "app.py", 1)]


def test_index_is_scanned_not_the_work_tree(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "config.js").write_text(f'const ai = new GoogleGenAI({{ apiKey: "{google_key()}" }});\n')
    git(repo, "add", "config.js")
    (repo / "config.js").write_text("const ai = new GoogleGenAI({ apiKey: process.env.GEMINI_API_KEY });\n")
    code, findings = staged(repo, capsys)
    assert code == 1 and [f["path"] for f in findings] == ["config.js"]


def test_unstaged_key_in_work_tree_is_not_reported(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "a.py").write_text("x = 1\n")
    commit_all(repo)
    (repo / "a.py").write_text("x = 2\n")
    git(repo, "add", "a.py")
    (repo / "a.py").write_text(f'x = "{google_key()}"\n')
    assert staged(repo, capsys) == (0, [])


def test_nothing_staged_says_so_and_exits_0(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "a.py").write_text("x = 1\n")
    commit_all(repo)
    assert main(["scan", "--staged", str(repo)]) == 0
    assert "nothing staged" in capsys.readouterr().out


def test_touching_a_file_with_an_old_key_adds_nothing(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = google_key()
    (repo / "app.py").write_text(f'KEY = "{key}"\nx = 1\n')
    commit_all(repo)
    (repo / "app.py").write_text(f'import os\nKEY = "{key}"\nx = 2\n')
    git(repo, "add", "app.py")
    assert staged(repo, capsys) == (0, [])


def test_a_new_key_next_to_an_old_one_is_reported(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old, new = google_key(), google_key()
    (repo / "app.py").write_text(f'A = "{old}"\n')
    commit_all(repo)
    (repo / "app.py").write_text(f'A = "{old}"\nB = "{new}"\n')
    git(repo, "add", "app.py")
    code, findings = staged(repo, capsys, "--show-secrets")
    assert code == 1 and [(f["line"], f["secret"]) for f in findings] == [(2, new)]


def test_rename_of_a_file_with_an_old_key_adds_nothing(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "old.py").write_text(f'KEY = "{google_key()}"\n' + "".join(f"line{i} = {i}\n" for i in range(20)))
    commit_all(repo)
    git(repo, "mv", "old.py", "new.py")
    assert staged(repo, capsys) == (0, [])


def test_deletion_adds_nothing(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "app.py").write_text(f'KEY = "{google_key()}"\n')
    commit_all(repo)
    git(repo, "rm", "-q", "app.py")
    assert staged(repo, capsys) == (0, [])


def test_key_in_a_staged_binary_file_is_found(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "libkeys.so").write_bytes(b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 64 + google_key().encode() + b"\x00\x01\x02")
    git(repo, "add", "libkeys.so")
    code, findings = staged(repo, capsys)
    assert code == 1 and [(f["rule_id"], f["path"]) for f in findings] == [("google-api-key", "libkeys.so")]


def test_intent_to_add_entry_is_not_read_from_the_work_tree(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "a.py").write_text("x = 1\n")
    commit_all(repo)
    (repo / "later.py").write_text(f'KEY = "{google_key()}"\n')
    git(repo, "add", "-N", "later.py")
    assert staged(repo, capsys) == (0, [])


def test_merge_reports_only_what_no_parent_had(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "base.txt").write_text("base\n")
    commit_all(repo, "base")
    git(repo, "checkout", "-q", "-b", "side")
    (repo / "side.py").write_text(f'KEY = "{google_key()}"\n')
    commit_all(repo, "side adds a key (already committed there)")
    git(repo, "checkout", "-q", "main")
    (repo / "main.txt").write_text("main\n")
    commit_all(repo, "main moves on")
    git(repo, "merge", "-q", "--no-commit", "--no-ff", "side")
    assert staged(repo, capsys) == (0, [])
    (repo / "resolution.py").write_text(f'KEY = "{google_key()}"\n')
    git(repo, "add", "resolution.py")
    code, findings = staged(repo, capsys)
    assert code == 1 and [f["path"] for f in findings] == ["resolution.py"]


def test_linked_worktree_scans_its_own_index(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "a.py").write_text("x = 1\n")
    commit_all(repo)
    linked = tmp_path / "linked"
    git(repo, "worktree", "add", "-q", "-b", "wt", str(linked))
    (linked / "k.py").write_text(f'KEY = "{google_key()}"\n')
    git(linked, "add", "k.py")
    code, findings = staged(linked, capsys)
    assert code == 1 and [f["path"] for f in findings] == ["k.py"]
    assert staged(repo, capsys) == (0, [])


def test_core_hooks_path_does_not_matter(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    marker = tmp_path / "hook-ran"
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    for name in ("pre-commit", "post-checkout", "reference-transaction"):
        script = hooks / name
        script.write_text(f"#!/bin/sh\ntouch {marker}\n")
        script.chmod(0o755)
    git(repo, "config", "core.hooksPath", str(hooks))
    (repo / "k.py").write_text(f'KEY = "{google_key()}"\n')
    git(repo, "add", "k.py")
    code, findings = staged(repo, capsys)
    assert code == 1 and [f["path"] for f in findings] == ["k.py"]
    assert not marker.exists()


def test_dotenv_added_to_the_index_is_reported(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / ".env").write_text("DATABASE_URL=postgres://u:p@db/app\n")
    git(repo, "add", ".env")
    code, findings = staged(repo, capsys)
    assert code == 1 and [(f["rule_id"], f["line"]) for f in findings] == [("dotenv-file", 0)]


def test_staged_outside_a_repository_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", "--staged", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "not a git repository" in err and "Traceback" not in err


@pytest.mark.parametrize("first", [pytest.param(True, id="first commit"), pytest.param(False, id="after HEAD")])
def test_sha256_repository(tmp_path: Path, capsys: pytest.CaptureFixture[str], first: bool) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "--object-format=sha256")
    if not first:
        (repo / "a.py").write_text("x = 1\n")
        commit_all(repo)
    (repo / "todo.txt").write_text("later\n")
    git(repo, "add", "-N", "todo.txt")  # intent to add: 64 zeros in the index
    (repo / "k.py").write_text(f'KEY = "{google_key()}"\n')
    git(repo, "add", "k.py")
    code, findings = staged(repo, capsys)
    assert code == 1 and [f["path"] for f in findings] == ["k.py"]


@pytest.mark.parametrize("text", ["--output=/tmp/x\n", "HEAD\n", "ab" * 20 + "\n-n1\n", "abc\n"])
def test_merge_head_must_hold_object_ids(repo: Path, capsys: pytest.CaptureFixture[str], text: str) -> None:
    (repo / "a.py").write_text("x = 1\n")
    commit_all(repo)
    (repo / ".git" / "MERGE_HEAD").write_text(text)
    (repo / "k.py").write_text(f'KEY = "{google_key()}"\n')
    git(repo, "add", "k.py")
    assert main(["scan", "--staged", str(repo)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "MERGE_HEAD" in err and "not an object id" in err


# --- `keysentry hook pre-commit FILE…`: the pre-commit framework's hook (pass_filenames) ----------

def test_the_framework_hook_checks_exactly_the_files_it_is_given(repo: Path) -> None:
    old, new, elsewhere = google_key(), google_key(), google_key()
    (repo / "src").mkdir()
    (repo / "src" / "old.py").write_text(f'KEY = "{old}"\n')
    (repo / "clean.py").write_text("x = 1\n")
    commit_all(repo)
    (repo / "src" / "old.py").write_text(f'KEY = "{old}"\nDEBUG = True\n')
    git(repo, "add", "src/old.py")
    (repo / "untracked.py").write_text(f'KEY = "{elsewhere}"\n')

    def hook(*files: str, cwd: Path = repo) -> tuple[int, str]:
        proc = run_cli("hook", "pre-commit", *files, cwd=cwd)
        return proc.returncode, proc.stdout.decode() + proc.stderr.decode()

    # A commit names its staged files: their staged change, in which the old key is not new.
    code, out = hook("src/old.py")
    assert code == 0 and "1 staged file" in out, out
    # Named files that are not all staged (`--files`, `--all-files`): exactly their contents.
    code, out = hook("src/old.py", "clean.py")
    assert code == 1 and "src/old.py:1:" in out and "untracked.py" not in out
    assert hook("clean.py")[0] == 0  # the keys in other files are not its business
    assert hook("untracked.py")[0] == 1
    # Names relative to a subfolder, and names that lead out of the tree, which name nothing in it.
    assert hook("old.py", cwd=repo / "src")[0] == 0
    assert hook("../clean.py", "old.py", cwd=repo / "src")[0] == 1
    outside = repo.parent / "outside.py"
    outside.write_text(f'KEY = "{google_key()}"\n')
    assert hook(str(outside), "clean.py")[0] == 0
    # A new key staged in a named file blocks the commit.
    (repo / "clean.py").write_text(f'KEY = "{new}"\n')
    git(repo, "add", "clean.py")
    code, out = hook("clean.py", "src/old.py")
    assert code == 1 and "clean.py:1:" in out and "src/old.py" not in out
