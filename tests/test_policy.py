"""Who decides the policy: in a gate (`--range`, `--policy-from`) the trusted base revision's config
and baseline, read from git objects, never the working tree's or the checked change's; on the
developer's machine (work tree, `--staged`) the working tree's, as before."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from scanner import policy
from scanner.cli import main
from scanner.errors import ConfigError
from scanner.gitcmd import find
from tests.conftest import git, google_key


def commit_file(repo: Path, name: str, text: str, message: str = "change") -> str:
    path = repo / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    git(repo, "add", name)
    git(repo, "commit", "-qm", message)
    return git(repo, "rev-parse", "HEAD")


def scan_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:
    code = main(["scan", "--format", "json", *argv])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip().startswith("{") else {}


@pytest.fixture
def based(repo: Path) -> tuple[Path, str]:
    """A repository whose main branch (the base) holds one file; the change goes on top."""
    base = commit_file(repo, "README.md", "hello\n", "start")
    return repo, base


def test_range_ignores_a_config_the_range_adds(based: tuple[Path, str], capsys: pytest.CaptureFixture[str]) -> None:
    repo, base = based
    commit_file(repo, "src/app.py", f'KEY = "{google_key()}"\n')
    commit_file(repo, ".keysentry.toml", 'exclude = ["**"]\n')

    code, data = scan_json(capsys, "--range", f"{base}..HEAD", str(repo))

    assert code == 1
    assert [f["path"] for f in data["findings"] if f["rule_id"] == "google-api-key"] == ["src/app.py"]


def test_range_applies_the_bases_config(based: tuple[Path, str], capsys: pytest.CaptureFixture[str]) -> None:
    repo, _ = based
    base = commit_file(repo, "pyproject.toml", '[tool.keysentry]\nexclude = ["fixtures/**"]\n', "reviewed")
    commit_file(repo, "fixtures/app.py", f'KEY = "{google_key()}"\n')

    code, data = scan_json(capsys, "--range", f"{base}..HEAD", str(repo))

    assert code == 0, data
    assert data["findings"] == []


def test_range_with_three_dots_takes_the_merge_bases_policy(based: tuple[Path, str],
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    repo, _base = based
    git(repo, "checkout", "-qb", "feature")
    commit_file(repo, "app.py", f'KEY = "{google_key()}"\n')
    git(repo, "checkout", "-q", "main")
    # main moves on and excludes everything after the branch point: not the merge base's policy.
    commit_file(repo, ".keysentry.toml", 'exclude = ["**"]\n')

    code, data = scan_json(capsys, "--range", "main...feature", str(repo))

    assert code == 1 and data["findings"][0]["path"] == "app.py"


def test_working_tree_config_does_not_reach_a_range(based: tuple[Path, str],
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    repo, base = based
    commit_file(repo, "app.py", f'KEY = "{google_key()}"\n')
    (repo / ".keysentry.toml").write_text('exclude = ["**"]\n')  # never committed

    code, _ = scan_json(capsys, "--range", f"{base}..HEAD", str(repo))

    assert code == 1


def test_worktree_scan_keeps_the_working_trees_config(based: tuple[Path, str],
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    repo, _ = based
    commit_file(repo, "app.py", f'KEY = "{google_key()}"\n')
    (repo / ".keysentry.toml").write_text('exclude = ["app.py"]\n')

    code, data = scan_json(capsys, str(repo))

    assert code == 0 and data["findings"] == []


def test_policy_from_reads_the_named_revisions_config(based: tuple[Path, str],
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    repo, _base = based
    trusted = commit_file(repo, ".keysentry.toml", 'exclude = ["docs/**"]\n', "reviewed")
    commit_file(repo, ".keysentry.toml", 'exclude = ["**"]\n', "widen")
    commit_file(repo, "docs/a.md", f'key: {google_key()}\n')
    commit_file(repo, "src/b.py", f'KEY = "{google_key()}"\n')

    code, data = scan_json(capsys, "--history", "--policy-from", trusted, str(repo))
    worktree_code, worktree = scan_json(capsys, "--policy-from", trusted, str(repo))

    assert code == 1 and [f["path"] for f in data["findings"]] == ["src/b.py"]
    assert worktree_code == 1 and [f["path"] for f in worktree["findings"]] == ["src/b.py"]


def test_policy_from_an_unknown_revision_is_one_clear_error(based: tuple[Path, str],
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    repo, _ = based

    code = main(["scan", "--history", "--policy-from", "no-such-branch", str(repo)])

    assert code == 2
    assert "no such commit" in capsys.readouterr().err


def test_config_file_outside_the_repository_is_trusted_as_given(based: tuple[Path, str], tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    repo, base = based
    commit_file(repo, "vendor/app.py", f'KEY = "{google_key()}"\n')
    outside = tmp_path / "ci-keysentry.toml"
    outside.write_text('exclude = ["vendor/**"]\n')

    code, data = scan_json(capsys, "--range", f"{base}..HEAD", "--config", str(outside), str(repo))

    assert code == 0 and data["findings"] == []


def test_config_file_inside_the_repository_is_read_at_the_base(based: tuple[Path, str],
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    repo, _ = based
    base = commit_file(repo, "ci/keysentry.toml", 'exclude = ["vendor/**"]\n', "reviewed")
    commit_file(repo, "ci/keysentry.toml", 'exclude = ["**"]\n', "widen")
    commit_file(repo, "vendor/a.py", f'KEY = "{google_key()}"\n')
    commit_file(repo, "src/b.py", f'KEY = "{google_key()}"\n')

    code, data = scan_json(capsys, "--range", f"{base}..HEAD", "--config", str(repo / "ci/keysentry.toml"), str(repo))

    assert code == 1 and [f["path"] for f in data["findings"] if f["rule_id"] == "google-api-key"] == ["src/b.py"]
    assert [f["path"] for f in data["findings"] if f["rule_id"] == "suppression-change"] == ["ci/keysentry.toml"]


def test_baseline_the_range_commits_does_not_apply(based: tuple[Path, str],
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    repo, base = based
    commit_file(repo, "app.py", f'KEY = "{google_key()}"\n')
    subprocess.run([sys.executable, "-m", "scanner", "baseline", str(repo), "--output", str(repo / "bl.json")],
                   check=True, capture_output=True)
    git(repo, "add", "bl.json")
    git(repo, "commit", "-qm", "baseline my own key")

    code, data = scan_json(capsys, "--range", f"{base}..HEAD", "--baseline", str(repo / "bl.json"), str(repo))

    assert code == 1 and data["findings"][0]["path"] == "app.py"


def test_range_without_a_single_base_suppresses_nothing(based: tuple[Path, str],
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    repo, _ = based
    commit_file(repo, ".keysentry.toml", 'exclude = ["**"]\n')
    commit_file(repo, "app.py", f'KEY = "{google_key()}"\n')

    code, data = scan_json(capsys, "--range", "HEAD", str(repo))

    assert code == 1 and data["findings"][0]["path"] == "app.py"


def test_at_revision_in_a_bare_repository_with_a_servers_config(based: tuple[Path, str], tmp_path: Path) -> None:
    """What the pre-receive hook calls: the server's config file (outside), a pushed ref's old tip."""
    repo, base = based
    commit_file(repo, ".keysentry.toml", 'exclude = ["**"]\n')
    bare = tmp_path / "server.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(bare)], check=True)
    server_config = tmp_path / "keysentry-server.toml"
    server_config.write_text('disable = ["dotenv-file"]\n')
    found = find(bare)
    assert found is not None

    from_server = policy.at_revision(found, "HEAD", config=server_config)
    from_head = policy.at_revision(found, "HEAD")
    from_base = policy.at_revision(found, base)

    assert from_server.config.disable == ("dotenv-file",) and from_server.config.exclude == ()
    assert from_head.config.exclude == ("**",) and from_head.gated
    assert from_base.config.exclude == () and from_base.revision == base


def test_a_broken_config_at_the_base_is_an_error(based: tuple[Path, str]) -> None:
    repo, _ = based
    commit_file(repo, ".keysentry.toml", 'exclude = "oops"\n')
    found = find(repo)
    assert found is not None

    with pytest.raises(ConfigError, match="must be a list"):
        policy.at_revision(found, "HEAD")
