"""What the two hostile suites share: an attack is one row (an id, the review item it answers and a
function that builds the attack in tmp_path, runs keysentry or git against it and asserts).

keysentry runs here as a subprocess through its installed console script, never `python -m` from
the attacked folder: a hang, a traceback, a signal or a stray write must show as the user sees it.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import GIT_ENV, git

# The console script next to the interpreter running the tests (the project's virtualenv).
KEYSENTRY = str(Path(sys.executable).with_name("keysentry"))


@dataclass(frozen=True)
class Attack:
    id: str
    item: str  # the hostile-input review's item number ("3", "also: advice"), for the test id
    run: Callable[[Path], None]

    def __str__(self) -> str:
        return f"{self.item}-{self.id}"


def keysentry(*args: str | os.PathLike[str], cwd: Path, env: Mapping[str, str] | None = None,
              stdin: bytes | None = b"", timeout: float = 60) -> subprocess.CompletedProcess[bytes]:
    """Run the installed keysentry; a hang past TIMEOUT fails the test instead of blocking it."""
    full_env = {**os.environ, **GIT_ENV, **(env or {})}
    try:
        return subprocess.run([KEYSENTRY, *map(os.fspath, args)], cwd=cwd, env=full_env, input=stdin,
                              capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"keysentry {' '.join(map(str, args))} did not finish within {timeout} s") from None


def new_repo(tmp_path: Path, name: str = "repo") -> Path:
    """An empty repository (branch main) at TMP_PATH/NAME, for an attack to fill."""
    repo = tmp_path / name
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    return repo


def git_run(repo: Path, *args: str, env: Mapping[str, str] | None = None, stdin: bytes | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
    """A git command whose failure is the point (a blocked commit or push): never raises on status."""
    full_env = {**os.environ, **GIT_ENV, **(env or {})}
    return subprocess.run(["git", *args], cwd=repo, env=full_env, input=stdin, capture_output=True,
                          timeout=timeout)


def no_traceback(proc: subprocess.CompletedProcess[bytes]) -> None:
    for stream in (proc.stdout, proc.stderr):
        assert b"Traceback (most recent call last)" not in stream, stream.decode("utf-8", "replace")


def expect_error(proc: subprocess.CompletedProcess[bytes], *words: str) -> str:
    """Exit 2 with one clear line on stderr (and the WORDS in it); returns that line."""
    no_traceback(proc)
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 2, (proc.returncode, err, proc.stdout.decode("utf-8", "replace"))
    lines = [ln for ln in err.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("keysentry: error:")]
    assert len(errors) == 1, err
    for word in words:
        assert word in errors[0], (word, errors[0])
    return errors[0]


def path_without(*names: str) -> str:
    """PATH with every folder that holds one of NAMES (say `keysentry`) left out."""
    keep = [d for d in os.environ.get("PATH", "").split(os.pathsep)
            if d and not any(os.path.exists(os.path.join(d, n)) for n in names)]
    for tool in ("git", "sh"):
        assert shutil.which(tool, path=os.pathsep.join(keep)), f"{tool} must stay reachable"
    return os.pathsep.join(keep)


def ids(rows: Sequence[Attack]) -> list[str]:
    return [str(a) for a in rows]
