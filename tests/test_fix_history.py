"""`keysentry fix --history`: the clean-up plan for secrets that are only in the history, and the plan run
end to end in a fresh mirror clone with git-filter-repo; a history scan of the rewritten clone then finds
none of the planned secrets, and the user's own repository is left as it was."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from scanner.cli import main
from tests.conftest import git, google_key, random_chars


def _history(repo: Path) -> tuple[str, str]:
    """A history whose secrets are gone from HEAD: a key in code, then a committed .env, then the fix."""
    key, other = google_key(), google_key()
    (repo / "app.py").write_text(f'api_key = "{key}"\n')
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "first")
    (repo / ".env").write_text(f"GEMINI_API_KEY={other}\nDEBUG=1\n")
    (repo / "src").mkdir()
    (repo / "src" / "client.js").write_text(f'const token_api_key = "{random_chars(8)}{key[4:20]}";\n')
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "second")
    git(repo, "branch", "feature")
    (repo / "app.py").write_text('import os\napi_key = os.environ["API_KEY"]\n')
    (repo / "src" / "client.js").write_text("const token_api_key = process.env.TOKEN_API_KEY;\n")
    (repo / ".gitignore").write_text(".env\n")
    git(repo, "rm", "-q", "--cached", ".env")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "keys out of the code")
    git(repo, "tag", "v1", "HEAD~1")
    return key, other


def _secrets_in_history(repo: Path, capsys: pytest.CaptureFixture[str]) -> set[str]:
    main(["scan", "--history", str(repo), "--format", "json", "--show-secrets", "--jobs", "1"])
    return {f["secret"] for f in json.loads(capsys.readouterr().out)["findings"]}


def test_plan_names_rotation_replacements_env_paths_and_push(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key, other = _history(repo)
    git(repo, "remote", "add", "origin", "https://user:tok3n@git.example/acme/app.git")
    status = main(["fix", "--history", str(repo), "--jobs", "1"])
    out = capsys.readouterr().out
    assert status == 1
    assert "Rotate first" in out and "--invert-paths --path .env" in out
    assert "--replace-text ../keysentry-replacements.txt" in out
    assert key not in out and other not in out, "secrets only with --show-secrets"
    assert "git push --force --all https://git.example/acme/app.git" in out and "tok3n" not in out
    assert "re-clone" in out

    main(["fix", "--history", str(repo), "--jobs", "1", "--show-secrets"])
    shown = capsys.readouterr().out
    assert f"{key}==>***REMOVED-BY-KEYSENTRY***" in shown and f"{other}==>***REMOVED-BY-KEYSENTRY***" in shown


def test_apply_rewrites_a_mirror_clone_and_the_secrets_are_gone(repo: Path, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    key, other = _history(repo)
    before = _secrets_in_history(repo, capsys)
    assert {key, other} <= before
    heads = git(repo, "for-each-ref")
    mirror = tmp_path / "clean.git"

    status = main(["fix", "--history", "--apply", "--mirror", str(mirror), str(repo), "--jobs", "1"])
    out, err = capsys.readouterr()
    assert status == 1, err
    assert "finds none of the planned secrets" in out and "Nothing was pushed" in out
    assert _secrets_in_history(mirror, capsys) == set()
    assert sorted(git(mirror, "log", "--all", "--format=%s").splitlines()) == ["first", "keys out of the code", "second"]
    assert ".env" not in git(mirror, "log", "--all", "--name-only", "--format=").splitlines()
    assert git(mirror, "tag") == "v1" and "feature" in git(mirror, "branch")
    # The user's repository is untouched: same refs, same history.
    assert git(repo, "for-each-ref") == heads
    assert _secrets_in_history(repo, capsys) == before


def test_apply_refuses_while_a_secret_is_still_in_head(repo: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "app.py").write_text(f'api_key = "{google_key()}"\n')
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "first")
    status = main(["fix", "--history", "--apply", "--mirror", str(tmp_path / "m.git"), str(repo), "--jobs", "1"])
    err = capsys.readouterr().err
    assert status == 2 and "still in HEAD" in err and err.count("\n") == 1
    assert not (tmp_path / "m.git").exists()


@pytest.mark.parametrize(("extra", "message"), [
    (["--apply"], "needs --mirror DIR"),
    (["--apply", "--mirror", "EXISTING"], "already exists"),
])
def test_apply_needs_a_new_mirror_folder(extra: list[str], message: str, repo: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    _history(repo)
    existing = tmp_path / "existing"
    existing.mkdir()
    argv = ["fix", "--history", str(repo), "--jobs", "1", *[str(existing) if a == "EXISTING" else a for a in extra]]
    status = main(argv)
    err = capsys.readouterr().err
    assert status == 2 and message in err and "Traceback" not in err
    assert list(existing.iterdir()) == []


def test_clean_history_needs_nothing(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "README.md").write_text("hello\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "first")
    assert main(["fix", "--history", str(repo), "--jobs", "1"]) == 0
    assert "no secrets in the history" in capsys.readouterr().out


def test_with_verify_live_keys_come_first(repo: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    from tests import fake_google as g

    dead, live = google_key(), google_key()
    for name, key in (("old.py", dead), ("new.py", live)):  # the live key is the newer one
        (repo / name).write_text(f'api_key = "{key}"\n')
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", f"add {name}")
    for name in ("old.py", "new.py"):
        (repo / name).unlink()
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "remove both")
    fake = g.FakeGoogle()
    fake.on(g.GEMINI, live, g.models())
    fake.on(g.GEMINI, dead, g.google_error("API_KEY_INVALID"))
    with fake.running():
        monkeypatch.setenv("KEYSENTRY_VERIFY_ENDPOINT", fake.url)
        status = main(["fix", "--history", str(repo), "--jobs", "1", "--verify", "--show-secrets"])
    out = capsys.readouterr().out
    assert status == 1
    assert "live keys first" in out and "[live]" in out and "[invalid]" in out
    assert out.index(live) < out.index(dead)


def test_a_committed_env_moved_elsewhere_leaves_the_history_from_both_paths(repo: Path, tmp_path: Path,
                                                                            capsys: pytest.CaptureFixture[str]) -> None:
    (repo / ".env").write_text(f"GEMINI_API_KEY={google_key()}\nDEBUG=1\nPORT=8080\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "env")
    (repo / "config").mkdir()
    git(repo, "mv", ".env", "config/.env")
    git(repo, "commit", "-q", "-m", "move it")
    git(repo, "rm", "-q", "--cached", "config/.env")
    (repo / ".gitignore").write_text(".env\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "untrack it")
    mirror = tmp_path / "clean.git"
    assert main(["fix", "--history", "--apply", "--mirror", str(mirror), str(repo), "--jobs", "1"]) == 1
    assert "--path config/.env" in capsys.readouterr().out
    paths = set(git(mirror, "log", "--all", "--name-only", "--format=").split())
    assert ".env" not in paths and "config/.env" not in paths and ".gitignore" in paths


def test_git_filter_repo_is_never_imported_from_elsewhere(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """A git_filter_repo.py planted on PYTHONPATH would claim success while rewriting nothing; the
    module runs isolated (-I), so the real one runs and the scan of its result says so."""
    planted = tmp_path / "planted"
    planted.mkdir()
    marker = tmp_path / "ran"
    (planted / "git_filter_repo.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    monkeypatch.setenv("PYTHONPATH", str(planted))
    _history(repo)
    mirror = tmp_path / "clean.git"
    assert main(["fix", "--history", "--apply", "--mirror", str(mirror), str(repo), "--jobs", "1"]) == 1
    capsys.readouterr()
    assert not marker.exists()
    assert _secrets_in_history(mirror, capsys) == set()
