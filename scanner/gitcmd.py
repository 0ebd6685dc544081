"""Running git safely on repositories we do not trust: no hooks, no fsmonitor, no external diff.

Every git call goes through plain pipes: the hook path must start in milliseconds (GitPython's
import alone takes ~85 ms) and the history path pipelines batches of objects per worker process,
which GitPython's one-object-per-round-trip cat-file cannot do."""
from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from scanner.errors import GitError

# Options that keep git from running anything the scanned repository configures.
SAFE_CONFIG = (
    "-c", "core.fsmonitor=false",
    "-c", "core.hooksPath=/dev/null",
    "-c", "diff.external=",
    "-c", "core.quotePath=false",
    "-c", "log.showSignature=false",
)


def env() -> dict[str, str]:
    return {
        **os.environ,
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_OPTIONAL_LOCKS": "0",  # never write into the scanned repository (index refresh)
        "LC_ALL": "C",
    }


def argv(repo: Path | str, *args: str) -> list[str]:
    return ["git", "-C", str(repo), *SAFE_CONFIG, *args]


def run(repo: Path | str, *args: str, input: bytes | None = None, ok: Sequence[int] = (0,)) -> bytes:
    try:
        proc = subprocess.run(argv(repo, *args), input=input, capture_output=True, env=env())
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH") from None
    if proc.returncode not in ok:
        raise GitError(describe_failure(proc.stderr, args))
    return proc.stdout


def describe_failure(stderr: bytes, args: Sequence[str]) -> str:
    lines = [ln.strip() for ln in stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    # git says what went wrong in its last "fatal:" line; "error:" lines are often symptoms.
    fatal = [ln for ln in lines if ln.startswith("fatal:")] or [ln for ln in lines if ln.startswith("error:")]
    text = (fatal or lines or [f"git {args[0] if args else ''} failed"])[0]
    if "safe.directory" in stderr.decode("utf-8", "replace") or "dubious ownership" in text:
        text += " (git refuses this repository: see 'git config --global --add safe.directory')"
    return "git: " + text.removeprefix("fatal: ").removeprefix("error: ")


@dataclass(frozen=True)
class Repo:
    """Where a repository is: its work tree (None when bare) and its git directory."""

    root: Path  # the work tree, or the git directory of a bare repository
    git_dir: Path
    bare: bool
    prefix: str  # the scanned folder relative to root, "" or ending in "/"


def find(path: Path) -> Repo | None:
    """The repository containing PATH, or None when PATH is not inside one."""
    folder = path if path.is_dir() else path.parent
    # One call answers everything in a work tree (the hook path); only a bare repository or a
    # .git folder, where --show-toplevel fails, needs the second.
    proc = _rev_parse(folder, "--is-bare-repository", "--absolute-git-dir", "--show-prefix", "--show-toplevel")
    if proc.returncode != 0:
        if b"not a git repository" in proc.stderr:
            return None
        proc = _rev_parse(folder, "--is-bare-repository", "--absolute-git-dir")
        if proc.returncode != 0:
            raise GitError(describe_failure(proc.stderr, ["rev-parse"]))
        bare_s, git_dir_s = proc.stdout.decode("utf-8", "surrogateescape").split("\n")[:2]
        git_dir = Path(git_dir_s)
        # Inside the .git folder of a non-bare repository, the work tree is its parent.
        return Repo(git_dir, git_dir, True, "") if bare_s == "true" else Repo(git_dir.parent, git_dir, False, "")
    _, git_dir_s, prefix, top = proc.stdout.decode("utf-8", "surrogateescape").split("\n")[:4]
    return Repo(Path(top), Path(git_dir_s), False, prefix)


def _rev_parse(folder: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(argv(folder, "rev-parse", *args), capture_output=True, env=env())
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH") from None
