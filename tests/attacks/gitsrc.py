"""Attack rows for the hostile suites (see tests/hostile.py): gitsrc.

Repositories whose history, config or object format is built to make `--history`, `--range` and
the pre-push hook miss a key, read someone else's repository, or crash.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from tests.conftest import google_key
from tests.hostile import Attack, expect_error, git_run, keysentry, no_traceback, path_without


def _git(repo: Path, *args: str, env: dict[str, str] | None = None, stdin: bytes | None = None) -> str:
    proc = git_run(repo, *args, env=env, stdin=stdin)
    assert proc.returncode == 0, (args, proc.stderr.decode("utf-8", "replace"))
    return proc.stdout.decode("utf-8", "surrogateescape").strip()


def _repo(tmp_path: Path, name: str = "repo", *init: str) -> Path:
    repo = tmp_path / name
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main", *init)
    return repo


def _commit(repo: Path, files: dict[bytes, str], author: str = "Ada") -> str:
    for rel, text in files.items():
        path = os.path.join(os.fsencode(repo), rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "--no-verify", "--allow-empty", "-m", "change", env={"GIT_AUTHOR_NAME": author})
    return _git(repo, "rev-parse", "HEAD")


def _key_line(key: str) -> str:
    return f'client = genai.Client(api_key="{key}")\n'


def _scan(repo: Path, *args: str, cwd: Path | None = None) -> tuple[int, dict[str, Any]]:
    proc = keysentry("scan", *args, str(repo), "--format", "json", "--jobs", "2", cwd=cwd or repo)
    no_traceback(proc)
    assert proc.returncode in (0, 1), proc.stderr.decode("utf-8", "replace")
    return proc.returncode, json.loads(proc.stdout)


def _paths(data: dict[str, Any]) -> list[str]:
    return sorted(f["path"] for f in data["findings"])


# --- 3: byte 0x01 in a path or an author name -----------------------------------------------------

def _decoy_path(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    base = _commit(repo, {b"README.md": "hi\n"})
    _commit(repo, {b"secret.p\x01y": "pass\n", b"secret.py": _key_line(google_key())})
    for args in (["--range", f"{base}..HEAD"], ["--history"]):
        code, data = _scan(repo, *args)
        assert code == 1 and _paths(data) == ["secret.py"], args


def _odd_author(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    base = _commit(repo, {b"README.md": "hi\n"}, author="Ada\x01:100644 100644")
    _commit(repo, {b"app.py": _key_line(google_key())}, author="Ada\x01\x01Lovelace")
    for args in (["--range", f"{base}..HEAD"], ["--history"]):
        code, data = _scan(repo, *args)
        assert code == 1 and _paths(data) == ["app.py"], args
        assert data["findings"][0]["author"] == "Ada\x01\x01Lovelace"


def _decoy_path_push(tmp_path: Path) -> None:
    repo, remote, no_keysentry = _hooked_with_remote(tmp_path)
    pushed = _commit(repo, {b"secret.p\x01y": "pass\n", b"secret.py": _key_line(google_key())})

    proc = git_run(repo, "push", "-q", "origin", "main", env=no_keysentry)

    no_traceback(proc)
    assert proc.returncode != 0, proc.stderr.decode("utf-8", "replace")
    assert _git(remote, "rev-parse", "main") != pushed


# --- replace refs and grafts: what a push publishes is the real objects --------------------------

def _hooked_with_remote(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    repo = _repo(tmp_path)
    no_keysentry = {"PATH": path_without("keysentry")}
    _commit(repo, {b"README.md": "hi\n"})
    remote = tmp_path / "remote.git"
    _git(tmp_path, "init", "-q", "--bare", str(remote))
    _git(repo, "remote", "add", "origin", str(remote))
    _git(repo, "push", "-q", "origin", "main", env=no_keysentry)
    proc = keysentry("install-hooks", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    return repo, remote, no_keysentry


def _replaced_blob(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    base = _commit(repo, {b"README.md": "hi\n"})
    _commit(repo, {b"app.py": _key_line(google_key())})
    clean = _git(repo, "hash-object", "-w", "--stdin", stdin=b"pass\n")
    _git(repo, "replace", _git(repo, "rev-parse", "HEAD:app.py"), clean)
    for args in (["--range", f"{base}..HEAD"], ["--history"]):
        code, data = _scan(repo, *args)
        assert code == 1 and _paths(data) == ["app.py"], args


def _replaced_blob_push(tmp_path: Path) -> None:
    repo, remote, env = _hooked_with_remote(tmp_path)
    pushed = _commit(repo, {b"app.py": _key_line(google_key())})
    clean = _git(repo, "hash-object", "-w", "--stdin", stdin=b"pass\n")
    _git(repo, "replace", _git(repo, "rev-parse", "HEAD:app.py"), clean)

    proc = git_run(repo, "push", "-q", "origin", "main", env=env)

    no_traceback(proc)
    assert proc.returncode != 0, proc.stderr.decode("utf-8", "replace")
    assert _git(remote, "rev-parse", "main") != pushed


def _grafted_history(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    _commit(repo, {b"app.py": _key_line(google_key())})
    _commit(repo, {b"app.py": "pass\n"})
    (repo / ".git" / "info" / "grafts").write_text(_git(repo, "rev-parse", "HEAD") + "\n")
    code, data = _scan(repo, "--history")
    assert code == 1 and _paths(data) == ["app.py"]


def _partial_clone_fetch(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    _commit(repo, {b"app.py": _key_line(google_key())})
    blob = _git(repo, "rev-parse", "HEAD:app.py")
    (repo / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    marker = tmp_path / "ran"
    for name, value in {"core.repositoryformatversion": "1", "extensions.partialClone": "origin",
                        "remote.origin.promisor": "true", "protocol.ext.allow": "always",
                        "remote.origin.url": f"ext::sh -c touch% {marker}"}.items():
        _git(repo, "config", name, value)
    for mode in ("--history", "--range=HEAD", "--staged"):
        proc = keysentry("scan", mode, ".", cwd=repo)
        no_traceback(proc)
        assert not marker.exists(), mode
    # Incomplete, and said so: exit 2 (nothing found in what could be read), the object named.
    proc = keysentry("scan", "--history", ".", "--format", "json", cwd=repo)
    assert proc.returncode == 2 and json.loads(proc.stdout)["stats"]["missing_objects"] == [blob], proc.stderr
    assert b"partial clone" in proc.stderr and proc.stderr.count(b"\n") == 1


# --- 7: core.worktree chooses neither the tree nor the history ------------------------------------

def _worktree_elsewhere(tmp_path: Path) -> None:
    victim = _repo(tmp_path, "victim")
    _commit(victim, {b"secret.py": _key_line(google_key())})
    scanned = _repo(tmp_path, "scanned")
    _commit(scanned, {b"app.py": "pass\n"})
    _git(scanned, "config", "core.worktree", str(victim))
    for args in (["--history"], ["--range", "HEAD"], []):
        code, data = _scan(scanned, *args)
        assert code == 0 and data["findings"] == [], args


def _dotfiles(tmp_path: Path) -> None:
    home, dotfiles = tmp_path / "home", tmp_path / "dotfiles"
    home.mkdir()
    _git(tmp_path, "init", "-q", "--bare", str(dotfiles))
    (home / ".bashrc").write_text(f"export GEMINI_API_KEY={google_key()}\n")
    tree = ["--git-dir", str(dotfiles), "--work-tree", str(home)]
    _git(tmp_path, *tree, "add", ".bashrc")
    _git(tmp_path, *tree, "commit", "-q", "-m", "dotfiles")
    _git(tmp_path, "--git-dir", str(dotfiles), "config", "core.bare", "false")
    _git(tmp_path, "--git-dir", str(dotfiles), "config", "core.worktree", str(home))
    code, data = _scan(dotfiles, "--history", cwd=tmp_path)
    assert code == 1 and ".bashrc" in _paths(data)


def _utf16_log(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    _commit(repo, {b"app.py": _key_line(google_key())})
    _git(repo, "config", "i18n.logOutputEncoding", "UTF-16")
    for args in (["--range", "HEAD"], ["--history"]):
        code, data = _scan(repo, *args)
        assert code == 1 and _paths(data) == ["app.py"], args


# --- 10: a date git accepts and datetime cannot hold ----------------------------------------------

def _year_10000(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    (repo / "app.py").write_text(_key_line(google_key()))
    _git(repo, "add", "-A")
    ident = "Ada <ada@example.com> 253402300800 +0000"
    text = f"tree {_git(repo, 'write-tree')}\nauthor {ident}\ncommitter {ident}\n\nfrom the future\n"
    made = _git(repo, "hash-object", "-t", "commit", "-w", "--stdin", stdin=text.encode())
    _git(repo, "update-ref", "refs/heads/main", made)
    _git(repo, "fsck", "--strict")
    for args in (["--history"], ["--range", "HEAD"]):
        code, data = _scan(repo, *args)
        assert code == 1 and data["findings"][0]["date"] == "9999-12-31T23:59:59+00:00", args
    proc = keysentry("scan", "--history", ".", cwd=repo)
    no_traceback(proc)
    assert proc.returncode == 1


# --- 13: SHA-256 repositories ---------------------------------------------------------------------

def _sha256(tmp_path: Path) -> None:
    repo = _repo(tmp_path, "repo", "--object-format=sha256")
    base = _commit(repo, {b"README.md": "hi\n"})
    _commit(repo, {b"app.py": _key_line(google_key())})
    for args in (["--range", f"{base}..HEAD"], ["--range", "HEAD"], ["--history"]):
        code, data = _scan(repo, *args)
        assert code == 1 and _paths(data) == ["app.py"], args


# --- 21: revisions are never options --------------------------------------------------------------

def _option_named_branch(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    base = _commit(repo, {b"README.md": "hi\n"})
    added = _commit(repo, {b"app.py": _key_line(google_key())})
    (repo / ".git" / "refs" / "heads" / "--output=stolen").write_text(added + "\n")
    _git(repo, "reset", "-q", "--hard", base)
    code, data = _scan(repo, "--range", "main..--output=stolen")
    assert code == 1 and _paths(data) == ["app.py"]
    assert not (repo / "stolen").exists()
    expect_error(keysentry("scan", "--range=--output=stolen", ".", cwd=repo), "not a revision range")


# --- 23: a range that names no commits ------------------------------------------------------------

def _not_a_commit_range(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    _commit(repo, {b"app.py": _key_line(google_key())})
    for revisions in ("HEAD:app.py", "HEAD^{tree}"):
        expect_error(keysentry("scan", "--range", revisions, ".", cwd=repo), "not a commit range", revisions)


# --- also seen: a subfolder PATH, and in_head after a rename outside the range --------------------

def _subfolder(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    _commit(repo, {b"services/api/app.py": _key_line(google_key()), b"web/config.py": _key_line(google_key())})
    for mode in ("--history", "--range=HEAD"):
        proc = keysentry("scan", mode, "services/api", cwd=repo)
        no_traceback(proc)
        out = proc.stdout.decode("utf-8", "replace")
        assert proc.returncode == 1 and "whole repository" in out and "services/api/" in out, out


def _renamed_after_range(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    base = _commit(repo, {b"README.md": "hi\n"})
    key = google_key()
    pushed = _commit(repo, {b"app.py": _key_line(key)})
    (repo / "lib").mkdir()
    _git(repo, "mv", "app.py", "lib/app.py")
    _commit(repo, {b"lib/app.py": "import genai\n" + _key_line(key)})
    code, data = _scan(repo, "--range", f"{base}..{pushed}")
    assert code == 1 and [(f["path"], f["in_head"]) for f in data["findings"]] == [("app.py", True)]


# Repositories built to attack us (tests/test_hostile_repos.py).
REPOS: list[Attack] = [
    Attack("0x01-decoy-path-beside-key", "3", _decoy_path),
    Attack("0x01-in-author-names", "3", _odd_author),
    Attack("0x01-decoy-path-pre-push", "3", _decoy_path_push),
    Attack("utf16-log-output-encoding", "found: log encoding", _utf16_log),
    Attack("replace-ref-hides-a-blob", "found: replace refs", _replaced_blob),
    Attack("replace-ref-hides-a-blob-pre-push", "found: replace refs", _replaced_blob_push),
    Attack("info-grafts-hide-history", "found: replace refs", _grafted_history),
    Attack("partial-clone-lazy-fetch-runs-ext-command", "found: lazy fetch", _partial_clone_fetch),
    Attack("core-worktree-other-repository", "7", _worktree_elsewhere),
    Attack("dotfiles-plain-folder-worktree", "7", _dotfiles),
    Attack("author-date-year-10000", "10", _year_10000),
    Attack("sha256-history-and-range", "13", _sha256),
    Attack("branch-named-like-an-option", "21", _option_named_branch),
    Attack("range-naming-a-blob-or-tree", "23", _not_a_commit_range),
    Attack("subfolder-path-history", "also: subfolder", _subfolder),
    Attack("rename-after-the-range-in-head", "also: in_head", _renamed_after_range),
]
# Inputs built to attack us: files, streams, configs, terminals (tests/test_hostile_inputs.py).
INPUTS: list[Attack] = []
