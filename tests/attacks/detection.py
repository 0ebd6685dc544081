"""Attack rows for the hostile suites (see tests/hostile.py): detection (the engine, the rules and
the encodings it reads)."""
from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path

from tests.conftest import git, google_key, random_chars
from tests.hostile import new_repo, Attack, keysentry, no_traceback

# These inputs took 20 s to minutes while a rule was quadratic; linear, each scans in well under a
# second. The bound leaves room for a loaded CI machine and fails the row instead of waiting.
QUICK = 20


def _findings(proc: subprocess.CompletedProcess[bytes]) -> list[tuple[str, str]]:
    no_traceback(proc)
    return [(f["rule_id"], f["secret"]) for f in json.loads(proc.stdout)["findings"]]


def _scan_file(tmp_path: Path, name: str, data: bytes) -> list[tuple[str, str]]:
    """The (rule, secret) findings of a folder holding only NAME."""
    folder = tmp_path / f"scan-{name}"
    folder.mkdir()
    (folder / name).write_bytes(data)
    return _findings(keysentry("scan", ".", "--format", "json", "--show-secrets", cwd=folder, timeout=QUICK))


# --- item 5: quadratic regex in gcp-service-account-key ------------------------------------------

def yaml_private_key_blocks(tmp_path: Path) -> None:
    body = base64.b64encode(os.urandom(48)).decode()
    block = f"private_key: |\n  -----BEGIN PRIVATE KEY-----\n  {body}\n"
    text = "type: service_account\n" + block * (1024 * 1024 // len(block))
    assert _scan_file(tmp_path, "sa.yaml", text.encode()) == []


# --- item 6: quadratic regexes in the .env reader, on the pre-commit path -------------------------

def _staged_env(tmp_path: Path, text: str) -> subprocess.CompletedProcess[bytes]:
    repo = new_repo(tmp_path)
    (repo / ".env").write_text(text)
    git(repo, "add", ".env")
    return keysentry("scan", "--staged", "--format", "json", cwd=repo, timeout=QUICK)


def env_value_of_spaces(tmp_path: Path) -> None:
    proc = _staged_env(tmp_path, "PORT=80" + " " * 80_000 + "80\n")
    assert proc.returncode == 1 and [rule for rule, _ in _findings(proc)] == ["dotenv-file"]


def env_value_of_angle_brackets(tmp_path: Path) -> None:
    proc = _staged_env(tmp_path, "TOKEN=" + "<" * 256 * 1024 + "\n")
    assert proc.returncode == 1 and [rule for rule, _ in _findings(proc)] == ["dotenv-file"]


# --- item 27: detection gaps in encodings ---------------------------------------------------------

def utf32_file(tmp_path: Path) -> None:
    key, secret = google_key(), random_chars(32)
    text = f'[maps]\r\nkey={key}\r\napi_key = "{secret}"\r\n'
    assert _scan_file(tmp_path, "with-bom.ini", text.encode("utf-32")) == [
        ("google-api-key", key), ("hardcoded-api-key", secret)]
    assert _scan_file(tmp_path, "no-bom.ini", text.encode("utf-32-le")) == [
        ("google-api-key", key), ("hardcoded-api-key", secret)]


def utf16_after_ascii_header(tmp_path: Path) -> None:
    # A PowerShell transcript begun in ASCII, with UTF-16 appended by `>>`.
    secret = random_chars(32)
    header = "".join(f"Transcript line {i}: started by ada on host build-01\r\n" for i in range(20)).encode()
    data = header + f'$env:API_KEY = "{secret}"\r\n'.encode("utf-16")
    assert _scan_file(tmp_path, "session.log", data) == [("hardcoded-api-key", secret)]


def literal_after_nul_byte(tmp_path: Path) -> None:
    secret = random_chars(32)
    data = b"# settings\n\0\n" + f'DEBUG = False\napi_key = "{secret}"\n'.encode()
    assert _scan_file(tmp_path, "settings.py", data) == [("hardcoded-api-key", secret)]


# --- also seen: advice that does not work ---------------------------------------------------------

def dotenv_advice_that_works(tmp_path: Path) -> None:
    # `keysentry:allow` on the file never silences a .env finding: the report must say what does.
    (tmp_path / ".env").write_text("PORT=8000  # keysentry:allow\n")
    proc = keysentry("scan", ".", cwd=tmp_path, env={"COLUMNS": "200"})
    no_traceback(proc)
    report = " ".join(proc.stdout.decode().split())
    assert proc.returncode == 1 and "`exclude`" in report and "keysentry baseline" in report
    (tmp_path / ".keysentry.toml").write_text('exclude = [".env"]\n')
    assert keysentry("scan", ".", cwd=tmp_path).returncode == 0


# Repositories built to attack us (tests/test_hostile_repos.py).
REPOS: list[Attack] = []
# Inputs built to attack us: files, streams, configs, terminals (tests/test_hostile_inputs.py).
INPUTS: list[Attack] = [
    Attack("gcp-yaml-private-key-blocks", "5", yaml_private_key_blocks),
    Attack("env-value-of-spaces-staged", "6", env_value_of_spaces),
    Attack("env-value-of-angle-brackets", "6", env_value_of_angle_brackets),
    Attack("utf32-file", "27", utf32_file),
    Attack("utf16-after-ascii-header", "27", utf16_after_ascii_header),
    Attack("literal-after-nul-byte", "27", literal_after_nul_byte),
    Attack("dotenv-allow-advice", "also: advice", dotenv_advice_that_works),
]
