"""The hooks as users get them from the pre-commit framework: `repo:` a clone of this project at a
commit, in throwaway repositories, with real `git commit` and `git push`.

Offline by design: the hook environment installs keysentry's dependencies from wheels rebuilt out
of this virtualenv, and one PRE_COMMIT_HOME is shared by the session so it is built only once.
"""
from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

if sys.version_info >= (3, 11):
    import tomllib
else:  # the tomli dependency, for Python 3.10
    import tomli as tomllib

from scanner.cli import main
from tests.conftest import GIT_ENV, built_once, git, google_key

PROJECT = Path(__file__).resolve().parents[1]
HOOK_IDS = ("keysentry", "keysentry-push", "keysentry-history", "keysentry-fix", "keysentry-baseline",
            "keysentry-baseline-history")


# --- an offline hook environment --------------------------------------------------------------

def _runtime_closure(requirements: list[str]) -> list[metadata.Distribution]:
    """The installed distributions REQUIREMENTS need at run time (extras and other Pythons left out)."""
    seen: dict[str, metadata.Distribution] = {}
    todo = list(requirements)
    while todo:
        req = Requirement(todo.pop())
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        dist = metadata.distribution(req.name)
        key = dist.metadata["Name"].lower()
        if key in seen:
            continue
        seen[key] = dist
        todo.extend(dist.requires or ())
    return list(seen.values())


def _project_requirements() -> list[str]:
    """keysentry's dependencies as the working tree's pyproject.toml declares them (the installed
    metadata of an editable install lags behind a dependency added since)."""
    with open(PROJECT / "pyproject.toml", "rb") as fh:
        return list(tomllib.load(fh)["project"]["dependencies"])


def _rebuild_wheel(dist: metadata.Distribution, out: Path) -> None:
    """A pure-Python wheel made of an installed distribution's files, as its RECORD lists them."""
    info = next(p for p in dist.files or () if p.parts[0].endswith(".dist-info"))
    info_dir = info.parts[0]
    tags = [ln.split(":", 1)[1].strip() for ln in dist.read_text("WHEEL").splitlines() if ln.startswith("Tag:")]
    name = re.sub(r"[-_.]+", "_", dist.metadata["Name"])
    wheel = out / f"{name}-{dist.version}-{tags[0]}.whl"
    record = io.StringIO()
    writer = csv.writer(record, lineterminator="\n")
    # Stored, not deflated: pip unpacks it once, and compressing the compiled dependencies (hyperscan,
    # the grammars) cost 2 CPU-s a run.
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_STORED) as zf:
        for path in dist.files or ():
            text = str(path)
            if text.startswith("..") or "__pycache__" in path.parts or path.name in ("RECORD", "INSTALLER",
                                                                                       "REQUESTED", "direct_url.json"):
                continue
            data = Path(dist.locate_file(path)).read_bytes()
            zf.writestr(text, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            writer.writerow([text, f"sha256={digest}", len(data)])
        writer.writerow([f"{info_dir}/RECORD", "", ""])
        zf.writestr(f"{info_dir}/RECORD", record.getvalue())


@pytest.fixture(scope="session")
def framework_env(request: pytest.FixtureRequest) -> dict[str, str]:
    def build(wheels: Path) -> None:
        for dist in _runtime_closure(_project_requirements()):
            _rebuild_wheel(dist, wheels)

    # Built once for the run and shared by the xdist workers, as PRE_COMMIT_HOME is (the
    # framework locks its own store): each worker would otherwise build the hook environment again.
    wheels = built_once(request, "pre-commit-wheels", build)
    home = built_once(request, "pre-commit-home", lambda home: None)
    # virtualenv ships setuptools wheels: what building keysentry from source needs.
    import virtualenv

    embedded = Path(virtualenv.__file__).parent / "seed" / "wheels" / "embed"
    venv_bin = str(Path(sys.executable).parent)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PRE_COMMIT", "GIT_", "PIP_", "VIRTUALENV_")) and k != "SKIP"}
    env.update(GIT_ENV)
    env.update({
        "PRE_COMMIT_HOME": str(home),
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": f"{wheels} {embedded}",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "VIRTUALENV_NO_PERIODIC_UPDATE": "1",
        "PRE_COMMIT_COLOR": "never",
        # This project's own keysentry must not answer for the one the framework installed.
        "PATH": os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != venv_bin),
    })
    return env


@pytest.fixture(scope="session")
def hook_project(request: pytest.FixtureRequest) -> tuple[Path, str]:
    """This project's working tree (committed or not) as a commit in a clone the framework can use."""
    def build(clone: Path) -> None:
        listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                                cwd=PROJECT, capture_output=True, check=True).stdout
        for rel in sorted(set(os.fsdecode(p) for p in listed.split(b"\0") if p)):
            src = PROJECT / rel
            if src.is_file():
                (clone / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, clone / rel)
        git(clone, "init", "-q", "-b", "main")
        git(clone, "add", "-A")
        git(clone, "commit", "-q", "--no-verify", "-m", "keysentry under test")

    clone = built_once(request, "keysentry-src", build)
    return clone, git(clone, "rev-parse", "HEAD")


@pytest.fixture(scope="session")
def framework_ready(request: pytest.FixtureRequest, framework_env: dict[str, str],
                    hook_project: tuple[Path, str]) -> None:
    """Build the hook environment once (virtualenv + pip install), before any test times a hook."""
    def build(repo: Path) -> None:
        git(repo, "init", "-q")
        _write_config(repo, hook_project)
        proc = _attempt(repo, framework_env, sys.executable, "-m", "pre_commit", "install-hooks")
        assert proc.returncode == 0, proc.stdout + proc.stderr

    built_once(request, "pre-commit-warm-up", build)


def _attempt(repo: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=repo, env=env, capture_output=True, text=True, timeout=600)


def _write_config(repo: Path, project: tuple[Path, str], args: list[str] | None = None) -> None:
    hooks: list[dict[str, object]] = [{"id": hook} for hook in HOOK_IDS]
    if args:
        hooks[0]["args"] = args
    config = {"repos": [{"repo": str(project[0]), "rev": project[1], "hooks": hooks}]}
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))


@pytest.fixture
def fw_repo(tmp_path: Path, framework_env: dict[str, str], hook_project: tuple[Path, str],
            framework_ready: None) -> Iterator[Path]:
    repo = tmp_path / "work"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    _write_config(repo, hook_project)
    proc = _attempt(repo, framework_env, sys.executable, "-m", "pre_commit", "install",
                    "--hook-type", "pre-commit", "--hook-type", "pre-push")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (repo / "README.md").write_text("# demo\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--no-verify", "-m", "start")
    yield repo


def _commit(repo: Path, env: dict[str, str], message: str = "change", *extra: str) -> subprocess.CompletedProcess[str]:
    git(repo, "add", "-A")
    return _attempt(repo, env, "git", "commit", "-m", message, *extra)


def _remote(repo: Path) -> Path:
    bare = repo.parent / "remote.git"
    git(repo.parent, "init", "-q", "--bare", str(bare))
    git(repo, "remote", "add", "origin", str(bare))
    return bare


def _redacted(key: str) -> str:
    return f"{key[:4]}…{key[-2:]}"


# --- commits ----------------------------------------------------------------------------------

def test_commit_adding_a_key_is_blocked_with_the_message(fw_repo: Path, framework_env: dict[str, str]) -> None:
    key = google_key()
    (fw_repo / "app.py").write_text(f'import os\nclient = genai.Client(api_key="{key}")\n')
    proc = _commit(fw_repo, framework_env, "add client")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "commit blocked: 1 secret" in out
    assert "google-api-key" in out and "app.py:2:" in out and _redacted(key) in out
    assert 'os.environ["GEMINI_API_KEY"]' in out
    assert out.count("SKIP=keysentry git commit") == 1 and out.count("git commit --no-verify") == 1
    # The framework put no `keysentry` on the user's PATH: only the framework's own commands.
    assert "pre-commit run --hook-stage manual keysentry-baseline" in " ".join(out.split())
    assert "`keysentry baseline" not in out
    assert key not in out
    assert git(fw_repo, "rev-list", "--count", "HEAD") == "1"


def test_following_the_blocked_messages_baseline_advice_lets_the_commit_through(
        fw_repo: Path, framework_env: dict[str, str], hook_project: tuple[Path, str]) -> None:
    (fw_repo / "fixture.py").write_text(f'API_KEY = "{google_key()}"  # a test key, revoked\n')
    assert _commit(fw_repo, framework_env, "fixture").returncode != 0
    # What the message says: the manual hook, the baseline committed, and the hooks given it.
    proc = _attempt(fw_repo, framework_env, sys.executable, "-m", "pre_commit", "run",
                    "--hook-stage", "manual", "keysentry-baseline")
    assert proc.returncode == 0 and (fw_repo / ".keysentry-baseline.json").is_file(), proc.stdout + proc.stderr
    _write_config(fw_repo, hook_project, args=["--baseline", ".keysentry-baseline.json"])
    proc = _commit(fw_repo, framework_env, "fixture, accepted")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_clean_commit_passes(fw_repo: Path, framework_env: dict[str, str]) -> None:
    (fw_repo / "app.py").write_text('import os\nclient = genai.Client(api_key=os.environ["GEMINI_API_KEY"])\n')
    proc = _commit(fw_repo, framework_env, "add client")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert git(fw_repo, "rev-list", "--count", "HEAD") == "2"


def _old_key(repo: Path, env: dict[str, str], project: tuple[Path, str]) -> None:
    (repo / "app.py").write_text(f'API_KEY = "{google_key()}"\nDEBUG = False\n')
    assert _commit(repo, env, "old key", "--no-verify").returncode == 0
    (repo / "app.py").write_text((repo / "app.py").read_text().replace("False", "True"))


def _allowed_key(repo: Path, env: dict[str, str], project: tuple[Path, str]) -> None:
    (repo / "test_fixture.py").write_text(f'FAKE = "{google_key()}"  # keysentry:allow\n')


def _baselined_key(repo: Path, env: dict[str, str], project: tuple[Path, str]) -> None:
    (repo / "legacy.py").write_text(f'KEY = "{google_key()}"\n')
    assert main(["baseline", str(repo)]) == 0
    _write_config(repo, project, ["--baseline", ".keysentry-baseline.json"])


@pytest.mark.parametrize("prepare", [
    pytest.param(_old_key, id="old key in a touched file"),
    pytest.param(_allowed_key, id="keysentry:allow"),
    pytest.param(_baselined_key, id="baselined"),
])
def test_commit_stays_quiet(prepare, fw_repo: Path, framework_env: dict[str, str],
                            hook_project: tuple[Path, str]) -> None:
    prepare(fw_repo, framework_env, hook_project)
    proc = _commit(fw_repo, framework_env)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# --- pushes -----------------------------------------------------------------------------------

def test_push_of_a_key_committed_with_no_verify_is_blocked(fw_repo: Path, framework_env: dict[str, str]) -> None:
    bare = _remote(fw_repo)
    assert _attempt(fw_repo, framework_env, "git", "push", "-q", "origin", "main").returncode == 0
    pushed = git(bare, "rev-parse", "main")
    key = google_key()
    (fw_repo / "settings.js").write_text(f'export const apiKey = "{key}";\n')
    assert _commit(fw_repo, framework_env, "key", "--no-verify").returncode == 0
    proc = _attempt(fw_repo, framework_env, "git", "push", "origin", "main")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "push blocked: 1 secret" in out and "settings.js:1:" in out and "process.env.GEMINI_API_KEY" in out
    assert "SKIP=keysentry-push git push" in out and key not in out
    assert git(bare, "rev-parse", "main") == pushed


def test_push_of_a_new_branch_holding_a_key_is_blocked(fw_repo: Path, framework_env: dict[str, str]) -> None:
    bare = _remote(fw_repo)
    assert _attempt(fw_repo, framework_env, "git", "push", "-q", "origin", "main").returncode == 0
    git(fw_repo, "checkout", "-q", "-b", "feature")
    (fw_repo / "main.go").write_text(f'package main\n\nconst apiKey = "{google_key()}"\n')
    assert _commit(fw_repo, framework_env, "key", "--no-verify").returncode == 0
    proc = _attempt(fw_repo, framework_env, "git", "push", "origin", "feature")
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert 'os.Getenv("GEMINI_API_KEY")' in proc.stdout + proc.stderr
    assert "feature" not in git(bare, "branch", "--list")


def test_push_of_a_key_added_then_removed_is_blocked(fw_repo: Path, framework_env: dict[str, str]) -> None:
    _remote(fw_repo)
    assert _attempt(fw_repo, framework_env, "git", "push", "-q", "origin", "main").returncode == 0
    (fw_repo / "run.sh").write_text(f"export GEMINI_API_KEY={google_key()}\n")
    assert _commit(fw_repo, framework_env, "key", "--no-verify").returncode == 0
    (fw_repo / "run.sh").unlink()
    assert _commit(fw_repo, framework_env, "oops").returncode == 0
    # The two tips hold the same files, yet the key is in the history being pushed.
    proc = _attempt(fw_repo, framework_env, "git", "push", "origin", "main")
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert "run.sh:1:" in proc.stdout + proc.stderr


def test_push_of_clean_commits_passes(fw_repo: Path, framework_env: dict[str, str]) -> None:
    bare = _remote(fw_repo)
    (fw_repo / "app.py").write_text('key = os.environ["GEMINI_API_KEY"]\n')
    assert _commit(fw_repo, framework_env).returncode == 0
    proc = _attempt(fw_repo, framework_env, "git", "push", "origin", "main")  # a new branch on the remote
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (fw_repo / "app.py").write_text('key = os.environ["GOOGLE_API_KEY"]\n')
    assert _commit(fw_repo, framework_env).returncode == 0
    proc = _attempt(fw_repo, framework_env, "git", "push", "origin", "main")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert git(bare, "rev-parse", "main") == git(fw_repo, "rev-parse", "HEAD")


def test_run_all_files_and_files_check_exactly_the_named_files_contents(fw_repo: Path,
                                                                       framework_env: dict[str, str]) -> None:
    # Nothing is staged under `pre-commit run --all-files` (CI, pre-commit.ci) or `--files X`: the
    # hook checks the contents of the files the framework names, and only those, instead of
    # passing a repository full of committed keys (or scanning the whole tree for `--files X`).
    run = (sys.executable, "-m", "pre_commit", "run")
    clean = _attempt(fw_repo, framework_env, *run, "--all-files")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    key, other = google_key(), google_key()
    (fw_repo / "settings.py").write_text(f'API_KEY = "{key}"\n')
    (fw_repo / "app.py").write_text("print('hello')\n")
    assert _commit(fw_repo, framework_env, "key", "--no-verify").returncode == 0
    (fw_repo / "scratch.py").write_text(f'KEY = "{other}"\n')  # untracked: no file the framework names
    proc = _attempt(fw_repo, framework_env, *run, "--all-files")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "settings.py:1:" in proc.stdout and "google-api-key" in proc.stdout and key not in proc.stdout
    assert "scratch.py" not in proc.stdout
    only_app = _attempt(fw_repo, framework_env, *run, "--files", "app.py", "README.md")
    assert only_app.returncode == 0, only_app.stdout + only_app.stderr
    only_settings = _attempt(fw_repo, framework_env, *run, "--files", "settings.py")
    assert only_settings.returncode == 1 and "settings.py:1:" in only_settings.stdout, only_settings.stdout
    # A commit still checks its staged change: the old key in settings.py is not what it adds.
    (fw_repo / "settings.py").write_text(f'API_KEY = "{key}"\nDEBUG = True\n')
    (fw_repo / "scratch.py").unlink()
    assert _commit(fw_repo, framework_env, "debug").returncode == 0


def test_history_hook_audits_every_commit_on_demand(fw_repo: Path, framework_env: dict[str, str]) -> None:
    (fw_repo / "old.py").write_text(f'API_KEY = "{google_key()}"\n')
    assert _commit(fw_repo, framework_env, "key", "--no-verify").returncode == 0
    (fw_repo / "old.py").unlink()
    assert _commit(fw_repo, framework_env, "removed").returncode == 0
    proc = _attempt(fw_repo, framework_env, sys.executable, "-m", "pre_commit", "run",
                    "--hook-stage", "manual", "keysentry-history")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "old.py" in proc.stdout and "google-api-key" in proc.stdout


def test_fix_hook_repairs_what_blocked_the_commit(fw_repo: Path, framework_env: dict[str, str]) -> None:
    key = google_key()
    (fw_repo / "app.py").write_text(f'from google import genai\nclient = genai.Client(api_key="{key}")\n')
    blocked = _commit(fw_repo, framework_env, "add client")
    assert blocked.returncode != 0 and "keysentry-fix" in blocked.stdout + blocked.stderr
    proc = _attempt(fw_repo, framework_env, sys.executable, "-m", "pre_commit", "run",
                    "--hook-stage", "manual", "keysentry-fix")
    assert proc.returncode == 1, proc.stdout + proc.stderr  # files changed, as every fixing hook says
    assert "client = genai.Client()" in (fw_repo / "app.py").read_text()
    assert f"GEMINI_API_KEY={key}" in (fw_repo / ".env").read_text()
    assert key not in proc.stdout + proc.stderr
    committed = _commit(fw_repo, framework_env, "add client")
    assert committed.returncode == 0, committed.stdout + committed.stderr


# --- the manifest -----------------------------------------------------------------------------

def test_manifest_is_valid_for_pre_commit_with_the_current_stage_names() -> None:
    from pre_commit.clientlib import load_manifest

    hooks = {hook["id"]: hook for hook in load_manifest(str(PROJECT / ".pre-commit-hooks.yaml"))}
    assert tuple(hooks) == HOOK_IDS
    assert {hook_id: hooks[hook_id]["stages"] for hook_id in HOOK_IDS} == {
        "keysentry": ["pre-commit"], "keysentry-push": ["pre-push"], "keysentry-history": ["manual"],
        "keysentry-fix": ["manual"], "keysentry-baseline": ["manual"], "keysentry-baseline-history": ["manual"]}
    assert all(hook["language"] == "python" for hook in hooks.values())
    # The commit hook is given the files to check; the others look at commits or the whole tree.
    assert {hook_id for hook_id, hook in hooks.items() if hook["pass_filenames"]} == {"keysentry"}
    assert hooks["keysentry"]["entry"] == "keysentry hook pre-commit"


def test_every_hook_id_is_documented_on_the_hooks_page() -> None:
    manifest = yaml.safe_load((PROJECT / ".pre-commit-hooks.yaml").read_text())
    readme = (PROJECT / "docs" / "hooks.md").read_text()
    # As a config line (`- id: keysentry`) or in backticks, not merely the word "keysentry".
    missing = [hook["id"] for hook in manifest
               if not re.search(rf"(?:id: |`){re.escape(hook['id'])}(?:`|\s)", readme)]
    assert not missing, f"hook ids not in docs/hooks.md: {missing}"
