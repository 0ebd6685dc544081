"""As a user would: a small Gemini project in Python, JavaScript and shell with a .env about to be
committed; the pre-commit hook blocks the commit; `keysentry fix --apply`; the commit goes through; and
the programs still find their key in their environment once .env is loaded (a test double of the
google-genai SDK reads GEMINI_API_KEY as the real one does)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from scanner.cli import main
from tests.conftest import GIT_ENV, git, google_key

VENV_BIN = str(Path(sys.executable).parent)

# The SDK's documented behaviour: with no api_key, the client reads GOOGLE_API_KEY, else GEMINI_API_KEY.
SDK_DOUBLE = '''import os


class Client:
    def __init__(self, api_key=None, **options):
        self.api_key = api_key or os.environ.get("GOOGLE_API_KEY") or os.environ.get("GEMINI_API_KEY")
        if not self.api_key:
            raise ValueError("Missing key inputs argument!")
'''


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GIT_", "PRE_COMMIT")) and k not in ("GEMINI_API_KEY", "GOOGLE_API_KEY")}
    env["PATH"] = os.pathsep.join([VENV_BIN, env.get("PATH", "")])
    return {**env, **GIT_ENV, **(extra or {})}


def _run(repo: Path, *argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), cwd=repo, env=env or _env(), capture_output=True, text=True, timeout=120)


def test_blocked_commit_fix_apply_commit_goes_through_and_programs_still_run(tmp_path: Path) -> None:
    repo = tmp_path / "gemini-demo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "README.md").write_text("# demo\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "start")
    assert main(["install-hooks", str(repo)]) == 0

    key = google_key()
    (repo / "app.py").write_text(
        "from google import genai\n\n"
        f'client = genai.Client(api_key="{key}")\n'
        "print(client.api_key)\n")
    (repo / "app.js").write_text(f'const apiKey = "{key}";\nconsole.log(apiKey);\n')
    (repo / "call.sh").write_text(
        f'printf "%s\\n" "https://generativelanguage.googleapis.com/v1beta/models?key={key}"\n')
    (repo / ".env").write_text(f"GEMINI_API_KEY={key}\n")
    sdk = tmp_path / "sdk-double" / "google" / "genai"
    sdk.mkdir(parents=True)
    (sdk.parent / "__init__.py").write_text("")
    (sdk / "__init__.py").write_text(SDK_DOUBLE)

    git(repo, "add", "-A")
    blocked = _run(repo, "git", "commit", "-m", "add the demo")
    assert blocked.returncode != 0, blocked.stdout + blocked.stderr
    assert "autofix" in blocked.stdout + blocked.stderr and "keysentry fix --apply" in blocked.stdout + blocked.stderr
    assert git(repo, "rev-list", "--count", "HEAD") == "1"

    fixed = _run(repo, sys.executable, "-m", "scanner", "fix", "--apply")
    assert fixed.returncode == 1, fixed.stderr
    assert key not in fixed.stdout + fixed.stderr

    git(repo, "add", "-A")
    committed = _run(repo, "git", "commit", "-m", "add the demo, keys in the environment")
    assert committed.returncode == 0, committed.stdout + committed.stderr
    assert git(repo, "rev-list", "--count", "HEAD") == "2"
    tracked = git(repo, "ls-files").splitlines()
    assert ".env" not in tracked and ".env.example" in tracked and ".gitignore" in tracked
    assert key not in git(repo, "show", "HEAD")
    assert (repo / ".env").exists(), "the key was kept, in a file git ignores"

    # The programs, with the environment loaded from .env the usual way.
    loaded = "set -a; . ./.env; set +a; "
    env = _env({"PYTHONPATH": str(sdk.parent.parent)})
    python = _run(repo, "bash", "-c", loaded + f"{sys.executable} app.py", env=env)
    assert python.stdout.strip() == key, python.stderr
    node = shutil.which("node")
    assert node is not None
    javascript = _run(repo, "bash", "-c", loaded + f"{node} app.js")
    assert javascript.stdout.strip() == key, javascript.stderr
    shell = _run(repo, "bash", "-c", loaded + "sh call.sh")
    assert shell.stdout.strip().endswith(f"?key={key}"), shell.stderr
    # And without it, the Python program fails loudly rather than running without a key.
    assert _run(repo, sys.executable, "app.py", env=env).returncode != 0
