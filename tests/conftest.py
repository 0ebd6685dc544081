from __future__ import annotations

import os
import secrets
import signal
import string
import subprocess
from pathlib import Path

import pytest

from scanner.detect import Detector

def pytest_configure(config: pytest.Config) -> None:
    """A suite started with SIGINT ignored (a background job, some CI runners) would pass that on
    to every process a test starts, and the tests that interrupt keysentry with Ctrl-C would wait
    for an exit that never comes: give SIGINT its default back (each xdist worker does this too)."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


KEY_ALPHABET = string.ascii_letters + string.digits + "-_"


def random_chars(n: int, alphabet: str = KEY_ALPHABET) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


def google_key() -> str:
    """A Google-API-key-shaped value made at test time; never a literal in the repository."""
    return "AIza" + "Sy" + random_chars(33)


def hex_secret(n: int = 32) -> str:
    return random_chars(n, "0123456789abcdef")


def located(text: str, secret: str) -> tuple[int, int]:
    """The 1-based line and column of the first occurrence of SECRET in TEXT."""
    index = text.index(secret)
    return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1


# Every engine the rule tests run on; a module opts in with `pytestmark = pytest.mark.usefixtures("engine")`.
ENGINES = ("hyperscan", "python")


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The engine every Detector built in the test uses (KEYSENTRY_ENGINE), in turn each of them."""
    monkeypatch.setenv("KEYSENTRY_ENGINE", request.param)
    return str(request.param)


def detector_matches(data: str | bytes, path: str = "snippet") -> list[tuple[str, int, int, str]]:
    """(rule id, line, column, secret) of every match the engine in use (see `engine`) finds."""
    raw = data.encode() if isinstance(data, str) else data
    return [(m.rule_id, m.line, m.column, m.secret) for m in Detector().scan(raw, path).matches]


GIT_ENV = {
    "GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "ada@example.com",
    "GIT_COMMITTER_NAME": "Ada", "GIT_COMMITTER_EMAIL": "ada@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(repo: Path, *args: str, **kwargs: object) -> str:
    env = {**os.environ, **GIT_ENV, **kwargs.pop("env", {})}  # type: ignore[arg-type]
    proc = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]
    if proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
    return proc.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    return path
