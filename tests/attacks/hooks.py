"""Attack rows for the hostile suites (see tests/hostile.py): hooks.

Every row drives the real hook the way git does: `keysentry install-hooks`, then a real `git commit`
or `git push` (or the installed hook script run with git's own arguments and standard input).
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.conftest import google_key
from tests.hostile import KEYSENTRY, Attack, expect_error, git_run, keysentry, no_traceback, path_without

# keysentry is not on PATH: the hook must find the keysentry that installed it by itself.
_NO_KEYSENTRY = {"PATH": path_without("keysentry")}


def _git(repo: Path, *args: str) -> str:
    proc = git_run(repo, *args, env=_NO_KEYSENTRY)
    assert proc.returncode == 0, (args, proc.stderr.decode("utf-8", "replace"))
    return proc.stdout.decode().strip()


def _hooked(tmp_path: Path, *init: str) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main", *init)
    (repo / "README.md").write_text("# demo\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "--no-verify", "-m", "start")
    proc = keysentry("install-hooks", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    return repo


def _remote(repo: Path, *init: str) -> Path:
    bare = repo.parent / "remote.git"
    _git(repo.parent, "init", "-q", "--bare", *init, str(bare))
    _git(repo, "remote", "add", "origin", str(bare))
    return bare


def _out(proc: subprocess.CompletedProcess[bytes]) -> str:
    return (proc.stdout + proc.stderr).decode("utf-8", "replace")


def _commit_key(repo: Path, name: str = "app.py") -> subprocess.CompletedProcess[bytes]:
    (repo / name).write_text(f'API_KEY = "{google_key()}"\n')
    _git(repo, "add", name)
    return git_run(repo, "commit", "-m", "key", env=_NO_KEYSENTRY)


# --- 1: the plain hooks must never run the repository's own code ---------------------------------

def _plant_scanner(repo: Path, marker: Path, layout: str) -> None:
    """A `scanner` of the repository's own that records it ran and lets everything through."""
    code = f"import pathlib, sys\npathlib.Path({str(marker)!r}).write_text('ran')\nsys.exit(0)\n"
    if layout in ("package", "both"):
        (repo / "scanner").mkdir()
        for module in ("__init__", "__main__", "cli", "hook"):
            (repo / "scanner" / f"{module}.py").write_text(code)
    if layout in ("module", "both"):
        (repo / "scanner.py").write_text(code)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "--no-verify", "-m", "a scanner of our own")


def _repository_scanner_commit(layout: str):
    def run(tmp_path: Path) -> None:
        repo = _hooked(tmp_path)
        marker = tmp_path / "repository-code-ran"
        _plant_scanner(repo, marker, layout)
        proc = _commit_key(repo)
        assert proc.returncode != 0 and "commit blocked: 1 secret" in _out(proc), _out(proc)
        assert not marker.exists(), "the hook imported the repository's scanner"
    return run


def _repository_scanner_push(tmp_path: Path) -> None:
    repo = _hooked(tmp_path)
    _remote(repo)
    marker = tmp_path / "repository-code-ran"
    _plant_scanner(repo, marker, "both")
    (repo / "deploy.sh").write_text(f"export GEMINI_API_KEY={google_key()}\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "--no-verify", "-m", "key")
    proc = git_run(repo, "push", "origin", "main", env=_NO_KEYSENTRY)
    assert proc.returncode != 0 and "push blocked: 1 secret" in _out(proc), _out(proc)
    assert not marker.exists(), "the hook imported the repository's scanner"


def _repository_python_on_path(tmp_path: Path) -> None:
    # A hand-copied hook (nothing recorded) with `.` on PATH: a `keysentry` or `python3` in the
    # repository's top folder must not be what runs.
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    marker = tmp_path / "repository-code-ran"
    for name in ("keysentry", "python3", "python"):
        (repo / name).write_text(f"#!/bin/sh\ntouch {marker}\nexit 0\n")
        (repo / name).chmod(0o755)
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text((Path(__file__).resolve().parents[2] / "hooks" / "pre-commit").read_text())
    hook.chmod(0o755)
    (repo / "app.py").write_text(f'API_KEY = "{google_key()}"\n')
    _git(repo, "add", "app.py")
    env = {"PATH": os.pathsep.join([".", str(Path(KEYSENTRY).parent), path_without("keysentry")])}
    proc = git_run(repo, "commit", "-m", "key", env=env)
    assert proc.returncode != 0 and "commit blocked: 1 secret" in _out(proc), _out(proc)
    assert not marker.exists(), "the hook ran a program from the repository's folder"


# --- 13: SHA-256 repositories --------------------------------------------------------------------

def _sha256_commit(tmp_path: Path) -> None:
    repo = _hooked(tmp_path, "--object-format=sha256")
    proc = _commit_key(repo)
    assert proc.returncode != 0 and "commit blocked: 1 secret" in _out(proc), _out(proc)
    assert "missing or corrupt" not in _out(proc)


def _sha256_first_commit(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main", "--object-format=sha256")
    assert keysentry("install-hooks", cwd=repo).returncode == 0
    (repo / "notes.txt").write_text("todo\n")
    _git(repo, "add", "-N", "notes.txt")  # intent to add: the null id in the index
    proc = _commit_key(repo)
    assert proc.returncode != 0 and "commit blocked: 1 secret" in _out(proc), _out(proc)


def _sha256_push(tmp_path: Path) -> None:
    repo = _hooked(tmp_path, "--object-format=sha256")
    _remote(repo, "--object-format=sha256")
    assert git_run(repo, "push", "-q", "origin", "main", env=_NO_KEYSENTRY).returncode == 0
    _git(repo, "checkout", "-q", "-b", "feature")
    assert _commit_key(repo).returncode != 0
    _git(repo, "commit", "-q", "--no-verify", "-m", "key")
    proc = git_run(repo, "push", "origin", "main", "feature", env=_NO_KEYSENTRY)
    assert proc.returncode != 0 and "push blocked: 1 secret" in _out(proc), _out(proc)
    proc = git_run(repo, "push", "origin", ":main", env=_NO_KEYSENTRY)  # a deletion: 64 zeros
    assert proc.returncode == 0, _out(proc)


# --- 14: one scan for all the refs of one push -----------------------------------------------------

def _many_tags_one_scan(tmp_path: Path) -> None:
    repo = _hooked(tmp_path)
    _remote(repo)
    assert git_run(repo, "push", "-q", "origin", "main", env=_NO_KEYSENTRY).returncode == 0

    def tagged_commits(count: int) -> None:
        for n in range(count):
            (repo / "n.txt").write_text(f"{n}\n")
            _git(repo, "add", "-A")
            _git(repo, "commit", "-q", "--no-verify", "-m", f"c{n}")
            _git(repo, "tag", "-a", "-m", "release", f"v{n}")
            _git(repo, "branch", "-f", f"b{n}")

    every_ref = ("refs/heads/*:refs/heads/*", "refs/tags/*:refs/tags/*")
    tagged_commits(30)
    # 60 new refs over 30 new commits: each commit is scanned once, not once per ref reaching it.
    proc = git_run(repo, "push", "origin", *every_ref, env=_NO_KEYSENTRY)
    assert proc.returncode == 0 and "in 30 commits" in _out(proc), _out(proc)
    (repo / "k.py").write_text(f'KEY = "{google_key()}"\n')
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "--no-verify", "-m", "key")
    _git(repo, "tag", "-d", *[f"v{n}" for n in range(30)])
    tagged_commits(30)
    proc = git_run(repo, "push", "--force", "origin", *every_ref, env=_NO_KEYSENTRY)
    out = _out(proc)
    assert proc.returncode != 0 and "push blocked: 1 secret" in out and out.count("k.py:1:") == 1, out


# --- 21: option injection into git ---------------------------------------------------------------

def _pre_push_stdin_injection(tmp_path: Path) -> None:
    repo = _hooked(tmp_path)
    bare = _remote(repo)
    (repo / "k.py").write_text(f'KEY = "{google_key()}"\n')
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "--no-verify", "-m", "key")
    zero = "0" * 40
    hook = repo / ".git" / "hooks" / "pre-push"
    for sha in ("--max-count=0", "--all", "-n0", "HEAD", "ab" * 19):
        stdin = f"refs/heads/main {sha} refs/heads/main {zero}\n".encode()
        proc = subprocess.run([str(hook), "origin", str(bare)], cwd=repo, input=stdin, capture_output=True,
                              env={**os.environ, **_NO_KEYSENTRY}, timeout=60)
        expect_error(proc, "not an object id")
    stdin = f"refs/heads/main {_git(repo, 'rev-parse', 'HEAD')} refs/heads/main --all\n".encode()
    proc = subprocess.run([str(hook), "origin", str(bare)], cwd=repo, input=stdin, capture_output=True,
                          env={**os.environ, **_NO_KEYSENTRY}, timeout=60)
    expect_error(proc, "not an object id")


def _merge_head_injection(tmp_path: Path) -> None:
    repo = _hooked(tmp_path)
    outside = tmp_path / "written-by-git"
    for text in (f"--output={outside}\n", "--full-tree\n", f"{'0' * 40}\n--all\n"):
        (repo / ".git" / "MERGE_HEAD").write_text(text)
        (repo / "k.py").write_text(f'KEY = "{google_key()}"\n')
        _git(repo, "add", "-A")
        expect_error(keysentry("scan", "--staged", ".", cwd=repo), "MERGE_HEAD")
        assert not outside.exists()


# --- 22: install-hooks writes only inside the repository -----------------------------------------

def _hooks_path_outside(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    outside = tmp_path / "elsewhere"
    _git(repo, "config", "core.hooksPath", str(outside))
    expect_error(keysentry("install-hooks", cwd=repo), "core.hooksPath", "--force")
    assert not outside.exists()
    # A relative core.hooksPath that climbs out, or a hooks folder that is a symlink out, alike.
    _git(repo, "config", "core.hooksPath", "../elsewhere")
    expect_error(keysentry("install-hooks", cwd=repo), "outside the repository")
    _git(repo, "config", "--unset", "core.hooksPath")
    hooks = repo / ".git" / "hooks"
    for child in hooks.iterdir():
        child.unlink()
    hooks.rmdir()
    outside.mkdir()
    hooks.symlink_to(outside)
    expect_error(keysentry("install-hooks", cwd=repo), "outside the repository")
    assert list(outside.iterdir()) == []
    proc = keysentry("install-hooks", "--force", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    assert (outside / "pre-commit").is_file()


def _symlinked_hook_file(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    victim = tmp_path / "bashrc"
    # It even carries keysentry's marker, so it passes for a hook keysentry wrote.
    victim.write_text("# keysentry-hook: pre-commit\nalias ll='ls -l'\n")
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.symlink_to(victim)
    expect_error(keysentry("install-hooks", cwd=repo), "symlink", "--force")
    assert victim.read_text() == "# keysentry-hook: pre-commit\nalias ll='ls -l'\n"
    assert not (repo / ".git" / "hooks" / "pre-push").exists()
    proc = keysentry("install-hooks", "--force", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    no_traceback(proc)
    assert victim.read_text() == "# keysentry-hook: pre-commit\nalias ll='ls -l'\n"
    assert not hook.is_symlink() and "keysentry" in hook.read_text()
    assert (hook.parent / "pre-commit.keysentry-backup").is_symlink()


REPOS: list[Attack] = [
    Attack("repository-scanner-package-commit", "1", _repository_scanner_commit("package")),
    Attack("repository-scanner-module-commit", "1", _repository_scanner_commit("module")),
    Attack("repository-scanner-push", "1", _repository_scanner_push),
    Attack("repository-programs-on-dot-path", "1", _repository_python_on_path),
    Attack("sha256-commit-blocked", "13", _sha256_commit),
    Attack("sha256-first-commit-intent-to-add", "13", _sha256_first_commit),
    Attack("sha256-push-blocked", "13", _sha256_push),
    Attack("many-tags-and-branches-one-push", "14", _many_tags_one_scan),
    Attack("pre-push-stdin-option-injection", "21", _pre_push_stdin_injection),
    Attack("merge-head-option-injection", "21", _merge_head_injection),
    Attack("core-hooks-path-outside", "22", _hooks_path_outside),
    Attack("symlinked-hook-file", "22", _symlinked_hook_file),
]


# --- inputs: what a hostile file name or a careless fix does to the blocked message ---------------

def _repo_with_key_in(tmp_path: Path, name: str, text: str) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    (repo / name).write_text(text)
    _git(repo, "add", "-A")
    return repo


def _control_characters_in_file_name(tmp_path: Path) -> None:
    name = "a\x1b[2J\x07\rkeysentry: no secrets\n.py"
    repo = _repo_with_key_in(tmp_path, name, f'API_KEY = "{google_key()}"\n')
    proc = keysentry("scan", "--staged", ".", cwd=repo)
    out = proc.stdout.decode()
    assert proc.returncode == 1 and "\x1b" not in out and "\x07" not in out and "\r" not in out, out
    assert "a\\x1b[2J\\x07\\rkeysentry: no secrets\\n.py:1:" in out
    assert not any(line.startswith("keysentry: no secrets") for line in out.splitlines())


def _key_in_file_name(tmp_path: Path) -> None:
    key = google_key()
    repo = _repo_with_key_in(tmp_path, f"{key}.py", f'API_KEY = "{key}"\n')
    proc = keysentry("scan", "--staged", ".", cwd=repo)
    out = proc.stdout.decode()
    assert proc.returncode == 1 and key not in out, out
    assert f"{key[:4]}…{key[-2:]}.py:1:" in out
    assert key in keysentry("scan", "--staged", ".", "--show-secrets", cwd=repo).stdout.decode()


def _unstaged_fix(tmp_path: Path) -> None:
    repo = _repo_with_key_in(tmp_path, "app.py", f'API_KEY = "{google_key()}"\n')
    (repo / "app.py").write_text('API_KEY = os.environ["GEMINI_API_KEY"]\n')  # fixed, not staged
    out = keysentry("scan", "--staged", ".", cwd=repo).stdout.decode()
    assert "the staged version still holds it: `git add` your fix" in " ".join(out.split()), out


def _one_key_in_three_places(tmp_path: Path) -> None:
    key = google_key()
    repo = _repo_with_key_in(tmp_path, "a.py", f'K = "{key}"\n')
    (repo / "b.py").write_text(f'K = "{key}"\n')
    (repo / ".env").write_text(f"GEMINI_API_KEY={key}\n")
    _git(repo, "add", "-A")
    out = keysentry("scan", "--staged", ".", cwd=repo).stdout.decode()
    assert out.startswith("keysentry: commit blocked: 1 secret in the staged changes (found in 3 places)"), out


INPUTS: list[Attack] = [
    Attack("control-characters-in-file-name", "16", _control_characters_in_file_name),
    Attack("key-in-file-name", "27", _key_in_file_name),
    Attack("fix-made-but-not-staged", "also: advice", _unstaged_fix),
    Attack("one-key-in-two-files-and-its-env", "also: advice", _one_key_in_three_places),
]
