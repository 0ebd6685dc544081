"""Attack rows for the hostile suites (see tests/hostile.py): issue 23, scale and odd input (a
repository's own config of 100,000 patterns, FIFOs inside .git, invisible characters in names,
signals during a report's write, empty ranges, amended commits)."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from tests.attacks.config_io import signal_scan_with_workers
from tests.conftest import git, google_key
from tests.hostile import KEYSENTRY, Attack, expect_error, git_run, keysentry, new_repo, no_traceback, path_without

ITEM = "i23"


def _json(proc: subprocess.CompletedProcess[bytes]) -> dict:  # type: ignore[type-arg]
    no_traceback(proc)
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


# --- 100,000 exclude patterns in the repository's own config ---------------------------------------

def exclude_100000_patterns(tmp_path: Path) -> None:
    repo = new_repo(tmp_path)
    patterns = [f"vendor/lib{i}/**/*.min.js" for i in range(50_000)] + [f"gen{i}/" for i in range(50_000)]
    (repo / ".keysentry.toml").write_text("exclude = [\n" + "".join(f'  "{p}",\n' for p in patterns) + "]\n")
    for i in range(2000):
        folder = repo / "src" / f"pkg{i % 40}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"mod{i}.py").write_text(f"VALUE = {i}\n")
    (repo / "gen77").mkdir()
    (repo / "gen77" / "fixture.py").write_text(f'KEY = "{google_key()}"\n')
    (repo / "src" / "app.py").write_text(f'KEY = "{google_key()}"\n')
    started = time.monotonic()
    proc = keysentry("scan", ".", "--format", "json", "--jobs", "1", cwd=repo, timeout=120)
    took = time.monotonic() - started
    data = _json(proc)
    assert [f["path"] for f in data["findings"]] == ["src/app.py"]
    assert data["stats"]["excluded"] == 1
    # 24 ms a file before: 48 s for these 2,000 files. One matcher: a few seconds, mostly reading the config.
    assert took < 30, took


# --- a FIFO inside .git -------------------------------------------------------------------------

# A hang is the failure: git opens these with a blocking open(), and nobody writes to the FIFO.
QUICK = 30
_GIT_FILES = ("packed-refs", "objects/info/alternates", "objects/info/commit-graph", "shallow", "index", "HEAD",
              "commondir", "refs/heads/main", "config")


def _fifo_in_git_dir(name: str) -> Attack:
    def attack(tmp_path: Path) -> None:
        repo = new_repo(tmp_path)
        (repo / "app.py").write_text(f'KEY = "{google_key()}"\n')
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "add")
        target = repo / ".git" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.unlink(missing_ok=True)
        os.mkfifo(target)
        for args in (["scan", "."], ["scan", "--staged", "."], ["scan", "--history", "."],
                     ["scan", "--range", "HEAD~1..HEAD", "."]):
            expect_error(keysentry(*args, cwd=repo, timeout=QUICK), name, "FIFO")

    return Attack(f"fifo-as-git-{name.replace('/', '-')}", ITEM, attack)


def dot_git_is_a_fifo(tmp_path: Path) -> None:
    folder = tmp_path / "tree"
    folder.mkdir()
    (folder / "app.py").write_text(f'KEY = "{google_key()}"\n')
    os.mkfifo(folder / ".git")
    expect_error(keysentry("scan", "--history", ".", cwd=folder, timeout=QUICK), ".git", "FIFO")


# --- terminating signals other than SIGTERM -------------------------------------------------------

def _signal_mid_scan(signum: signal.Signals) -> Attack:
    """SIGHUP (the terminal went away) or SIGUSR1 during a scan with workers: Python's default
    dies on the spot, leaving the workers running and a report's temporary file behind."""
    def attack(tmp_path: Path) -> None:
        signal_scan_with_workers(tmp_path, signum)

    return Attack(f"{signum.name.lower()}-mid-scan", ITEM, attack)


def _signal_mid_write(signum: signal.Signals) -> Attack:
    """The signal comes while --output's temporary file is being written (a report of 5,000
    findings, written as it is made): the old report stays, and no .tmp is left (113 MB before).
    The write may still reach its rename first; then the new report is whole. The process is
    stopped (SIGSTOP) once the temporary file is there, so that the signal is pending when it goes
    on: one attempt in three must catch it mid-write."""
    def attempt(tmp_path: Path, tree: Path) -> bool:
        out = tmp_path / "out"
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir()
        (out / "report.json").write_text("previous\n")
        proc = subprocess.Popen([KEYSENTRY, "scan", str(tree), "--format", "json", "--output",
                                 str(out / "report.json")], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                cwd=tmp_path, start_new_session=True)
        deadline = time.monotonic() + 120
        while not [p for p in out.iterdir() if p.name.endswith(".tmp")] and proc.poll() is None:
            assert time.monotonic() < deadline, "no temporary file appeared"
            time.sleep(0.001)
        proc.send_signal(signal.SIGSTOP)
        proc.send_signal(signum)
        proc.send_signal(signal.SIGCONT)
        stdout, stderr = proc.communicate(timeout=30)
        assert [p.name for p in out.iterdir()] == ["report.json"]  # never a temporary left behind
        report = (out / "report.json").read_text()
        if report == "previous\n":  # interrupted mid-write: quietly, with the signal's status
            assert (proc.returncode, stdout, stderr) == (128 + signum, b"", b"")
            return True
        # The write had reached its rename: the new report is whole.
        assert len(json.loads(report)["findings"]) == 5000
        return False

    def attack(tmp_path: Path) -> None:
        tree = tmp_path / "tree"
        tree.mkdir()
        for f in range(20):
            (tree / f"k{f}.txt").write_text("".join(google_key() + "\n" for _ in range(250)))
        assert any(attempt(tmp_path, tree) for _ in range(3)), "the write always finished before the signal"

    return Attack(f"{signum.name.lower()}-mid-write", ITEM, attack)


# --- invisible characters in names --------------------------------------------------------------

# Each draws nothing, so `app<X>.py` looks like `app.py`: zero-width space, left-to-right and
# right-to-left marks, the Arabic letter mark, byte-order mark, soft hyphen, word joiner, Hangul
# fillers.
_INVISIBLE = "\u200b\u200e\u200f\u061c\ufeff\u00ad\u2060\u115f\u3164"


def invisible_characters_in_names(tmp_path: Path) -> None:
    repo = new_repo(tmp_path)
    (repo / "app.py").write_text(f'KEY = "{google_key()}"\n')
    for char in _INVISIBLE:
        (repo / f"app{char}.py").write_text(f'KEY = "{google_key()}"\n')
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "add", env={"GIT_AUTHOR_NAME": "Ada\u200bLovelace"})
    for args in (["scan", "."], ["scan", "--history", "."], ["scan", ".", "--format", "github"],
                 ["scan", ".", "--format", "markdown"]):
        proc = keysentry(*args, cwd=repo, env={"NO_COLOR": "1"})
        no_traceback(proc)
        assert proc.returncode == 1, proc.stderr
        out = proc.stdout.decode("utf-8")
        for char in _INVISIBLE:
            assert char not in out, (args, hex(ord(char)))
            escaped = char.encode("unicode_escape").decode("ascii")
            assert f"app{escaped}.py".replace("\\", "\\\\" if "markdown" in args else "\\") in out, (args, escaped)
    history = keysentry("scan", "--history", ".", cwd=repo, env={"NO_COLOR": "1"}).stdout.decode("utf-8")
    assert "Ada\\u200bLovelace" in history


# --- ranges that hold no commits, a staged change that is all excluded ----------------------------

def _two_commits(tmp_path: Path) -> Path:
    repo = new_repo(tmp_path)
    for i in range(2):
        (repo / f"f{i}.py").write_text(f'KEY = "{google_key()}"\n')
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", f"c{i}")
    return repo


def reversed_range(tmp_path: Path) -> None:
    # HEAD..HEAD~1 holds nothing: "no secrets found" and exit 0 would pass a gate written backwards.
    repo = _two_commits(tmp_path)
    for revisions, meant in (("HEAD..HEAD~1", "HEAD~1..HEAD"), ("..HEAD~1", "HEAD~1..HEAD")):
        expect_error(keysentry("scan", "--range", revisions, ".", cwd=repo), "holds no commits", f"did you mean {meant}")


def empty_range_is_said_as_such(tmp_path: Path) -> None:
    # What was asked (a branch with nothing new): exit 0, but never "no secrets found".
    repo = _two_commits(tmp_path)
    proc = keysentry("scan", "--range", "HEAD..HEAD", ".", cwd=repo, env={"NO_COLOR": "1"})
    no_traceback(proc)
    assert proc.returncode == 0 and b"no secrets found" not in proc.stdout
    assert b"the range holds no commits" in proc.stdout
    data = _json(keysentry("scan", "--range", "HEAD..HEAD", ".", "--format", "json", cwd=repo))
    assert data["stats"]["commits"] == 0
    markdown = keysentry("scan", "--range", "HEAD..HEAD", ".", "--format", "markdown", cwd=repo).stdout
    assert markdown.startswith(b"## keysentry: the range holds no commits")


def staged_all_excluded(tmp_path: Path) -> None:
    repo = new_repo(tmp_path)
    (repo / ".keysentry.toml").write_text('exclude = ["fixtures/"]\n')
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "config")
    (repo / "fixtures").mkdir()
    (repo / "fixtures" / "keys.py").write_text(f'KEY = "{google_key()}"\n')
    git(repo, "add", "-A")
    proc = keysentry("scan", "--staged", ".", cwd=repo)
    no_traceback(proc)
    assert proc.returncode == 0 and b"nothing staged" not in proc.stdout, proc.stdout
    assert b"every staged file is excluded by config (1 file)" in proc.stdout


# --- an amended commit, a cherry-pick and a merge: which hook sees them --------------------------

_NO_KEYSENTRY = {"PATH": path_without("keysentry")}  # the hooks find the keysentry that installed them


def _hooked(tmp_path: Path) -> Path:
    repo = new_repo(tmp_path)
    (repo / "README.md").write_text("# demo\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--no-verify", "-m", "start")
    assert keysentry("install-hooks", cwd=repo).returncode == 0
    bare = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    git(repo, "remote", "add", "origin", str(bare))
    assert git_run(repo, "push", "-q", "origin", "main", env=_NO_KEYSENTRY).returncode == 0
    return repo


def _key_committed_unchecked(repo: Path, name: str = "app.py") -> None:
    (repo / name).write_text(f'API_KEY = "{google_key()}"\n')
    git(repo, "add", name)
    git(repo, "commit", "-q", "--no-verify", "-m", "key, unchecked")


def amend_of_an_unchecked_commit(tmp_path: Path) -> None:
    # The staged scan compared with HEAD, which already held the key: `--amend` passed it on.
    repo = _hooked(tmp_path)
    _key_committed_unchecked(repo)
    for args in (["commit", "--amend", "--no-edit"], ["commit", "--amen", "-m", "reworded"]):
        proc = git_run(repo, *args, env=_NO_KEYSENTRY)
        out = (proc.stdout + proc.stderr).decode("utf-8", "replace")
        assert proc.returncode != 0 and "commit blocked: 1 secret" in out and "app.py:1" in out, out
    # What the parent already held is not the amended commit's doing.
    git(repo, "commit", "-q", "--no-verify", "-m", "more", "--allow-empty")
    (repo / "README.md").write_text("# demo, amended\n")
    git(repo, "add", "README.md")
    proc = git_run(repo, "commit", "--amend", "--no-edit", env=_NO_KEYSENTRY)
    assert proc.returncode == 0, (proc.stdout + proc.stderr).decode("utf-8", "replace")


def _push_blocked(repo: Path) -> None:
    proc = git_run(repo, "push", "origin", "main", env=_NO_KEYSENTRY)
    out = (proc.stdout + proc.stderr).decode("utf-8", "replace")
    assert proc.returncode != 0 and "push blocked: 1 secret" in out, out


def cherry_pick_runs_no_commit_hook(tmp_path: Path) -> None:
    # git runs no pre-commit hook for a cherry-pick: pre-push is what blocks it.
    repo = _hooked(tmp_path)
    git(repo, "switch", "-q", "-c", "side")
    _key_committed_unchecked(repo)
    picked = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "switch", "-q", "main")
    assert git_run(repo, "cherry-pick", picked, env=_NO_KEYSENTRY).returncode == 0
    _push_blocked(repo)


def merge_runs_no_commit_hook(tmp_path: Path) -> None:
    # A merge that needs no resolution runs pre-merge-commit, not pre-commit: pre-push blocks it.
    repo = _hooked(tmp_path)
    git(repo, "switch", "-q", "-c", "side")
    _key_committed_unchecked(repo)
    git(repo, "switch", "-q", "main")
    (repo / "other.md").write_text("other\n")
    git(repo, "add", "other.md")
    git(repo, "commit", "-q", "--no-verify", "-m", "other")
    assert git_run(repo, "merge", "--no-edit", "side", env=_NO_KEYSENTRY).returncode == 0
    _push_blocked(repo)


# Repositories built to attack us (tests/test_hostile_repos.py).
REPOS: list[Attack] = [
    Attack("exclude-100000-patterns", ITEM, exclude_100000_patterns),
    Attack("invisible-characters-in-names", ITEM, invisible_characters_in_names),
    *(_fifo_in_git_dir(name) for name in _GIT_FILES),
    Attack("dot-git-is-a-fifo", ITEM, dot_git_is_a_fifo),
    Attack("reversed-range", ITEM, reversed_range),
    Attack("empty-range-is-said-as-such", ITEM, empty_range_is_said_as_such),
    Attack("staged-all-excluded", ITEM, staged_all_excluded),
    Attack("amend-of-an-unchecked-commit", ITEM, amend_of_an_unchecked_commit),
    Attack("cherry-pick-runs-no-commit-hook", ITEM, cherry_pick_runs_no_commit_hook),
    Attack("merge-runs-no-commit-hook", ITEM, merge_runs_no_commit_hook),
]
# Inputs built to attack us (tests/test_hostile_inputs.py).
INPUTS: list[Attack] = [
    _signal_mid_scan(signal.SIGHUP),
    _signal_mid_scan(signal.SIGUSR1),
    _signal_mid_write(signal.SIGHUP),
    _signal_mid_write(signal.SIGUSR1),
]
