"""Every mode judges the same files the same way: the files committed in one commit give the same
(rule id, path, line) findings from `scan` (the work tree), `scan --staged` (before the commit),
`scan --range ROOT^!` and `scan --history`.

Each case is a set of files (keys made at test time) and the findings it must give. The modes used
to drift apart: history judged a blob once, under the first path git named it by, so a `web/.env`
equal to an `api/settings.env` lost its dotenv-file finding and a `.env.example` equal to a `.env`
gained one; history read excluded blobs without counting them; staged scanned LFS pointers.
"""
from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from scanner.models import SKIP_REASONS
from tests.archive_kinds import KINDS, OFFICE, STREAMS, archive_of, tar_of, zip_of
from tests.conftest import git, google_key, hex_secret
from tests.test_history import run_scan, sha

Row = tuple[str, str, int]
MODES = ("worktree", "staged", "range", "history")
_LFS_OID = "4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393"


@dataclass(frozen=True)
class Case:
    id: str
    # (files: path -> bytes, the findings every mode must give); built at test time for fresh keys
    build: Callable[[], tuple[dict[str, bytes], set[Row]]]
    stats: dict[str, dict[str, object]] | None = None  # mode -> stats fields it must report


def _env_copies() -> tuple[dict[str, bytes], set[Row]]:
    # git names the blob first by api/settings.env (trees are sorted): its dotenv-file finding at
    # web/.env depends on that path alone.
    body = f"GEMINI_API_KEY={google_key()}\n".encode()
    return ({"api/settings.env": body, "web/.env": body},
            {("google-api-key", "api/settings.env", 1), ("google-api-key", "web/.env", 1), ("dotenv-file", "web/.env", 0)})


def _env_copies_plain() -> tuple[dict[str, bytes], set[Row]]:
    body = b"DEBUG=1\nPORT=8080\n"
    return {"api/settings.env": body, "web/.env": body}, {("dotenv-file", "web/.env", 0)}


def _template_equal_to_env() -> tuple[dict[str, bytes], set[Row]]:
    # The contract: a template is not flagged unless it holds a real secret.
    body = b"DEBUG=1\nDATABASE_HOST=db.internal\n"
    return {".env": body, ".env.example": body}, {("dotenv-file", ".env", 0)}


def _template_with_a_secret() -> tuple[dict[str, bytes], set[Row]]:
    body = f"GOOGLE_API_KEY={google_key()}\n".encode()
    return ({".env": body, ".env.example": body},
            {("google-api-key", ".env", 1), ("dotenv-file", ".env", 0),
             ("google-api-key", ".env.example", 1), ("dotenv-file", ".env.example", 0)})


def _excluded() -> tuple[dict[str, bytes], set[Row]]:
    shared = f'KEY = "{google_key()}"\n'.encode()
    return ({".keysentry.toml": b'exclude = ["vendor/"]\n',
             "vendor/lib.js": f'const k = "{google_key()}";\n'.encode(),
             # the same blob at an excluded and a scanned path: found at the scanned one only
             "vendor/copy.py": shared, "src/same.py": shared,
             "src/app.py": f'\n\nclient = Client(key="{google_key()}")\n'.encode()},
            {("google-api-key", "src/same.py", 1), ("google-api-key", "src/app.py", 3)})


def _lfs_pointer() -> tuple[dict[str, bytes], set[Row]]:
    pointer = f"version https://git-lfs.github.com/spec/v1\noid sha256:{_LFS_OID}\nsize 12345\n".encode()
    return ({"models/weights.bin": pointer, "app.py": f'API_KEY = "{hex_secret()}"\n'.encode()},
            {("hardcoded-api-key", "app.py", 1)})


def _binary() -> tuple[dict[str, bytes], set[Row]]:
    key = google_key().encode()
    blob = bytes(range(256)) * 4 + b"\0\0" + key + b"\0" + bytes(range(256))
    line = blob[:blob.index(key)].count(b"\n") + 1  # a binary's lines are its newline bytes
    return {"lib/native.so": blob}, {("google-api-key", "lib/native.so", line)}


def _utf16() -> tuple[dict[str, bytes], set[Row]]:
    text = f'# settings\r\napi_key = "{hex_secret()}"\r\nmaps = "{google_key()}"\r\n'
    return ({"win/settings.ini": text.encode("utf-16")},
            {("hardcoded-api-key", "win/settings.ini", 2), ("google-api-key", "win/settings.ini", 3)})


def _utf16_windows_files() -> tuple[dict[str, bytes], set[Row]]:
    # What Windows writes as UTF-16: a .reg export (LE with a BOM), a script saved by Windows
    # PowerShell holding a base64 value (decoded too), a BOM-less big-endian .json.
    import base64
    import codecs

    reg = f'Windows Registry Editor Version 5.00\r\n\r\n[HKEY_CURRENT_USER\\Software\\App]\r\n"ApiKey"="{google_key()}"\r\n'
    encoded = base64.b64encode(f"GOOGLE_API_KEY={google_key()}".encode()).decode()
    ps1 = f'# deploy\r\n$env:APP_CONFIG = "{encoded}"\r\n'
    json_text = f'{{\n  "maps": {{"apiKey": "{google_key()}"}}\n}}\n'
    return ({"win/app.reg": reg.encode("utf-16"), "win/deploy.ps1": codecs.BOM_UTF16_LE + ps1.encode("utf-16-le"),
             "win/config.json": json_text.encode("utf-16-be")},
            {("google-api-key", "win/app.reg", 4), ("google-api-key", "win/deploy.ps1", 2),
             ("google-api-key", "win/config.json", 2)})


def _notebook() -> tuple[dict[str, bytes], set[Row]]:
    cells = {"cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                        "source": ["import google.generativeai as genai\n",
                                   f'genai.configure(api_key="{google_key()}")\n']}],
             "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    text = json.dumps(cells, indent=1) + "\n"
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if "genai.configure" in ln)
    return {"notebooks/quickstart.ipynb": text.encode()}, {("google-api-key", "notebooks/quickstart.ipynb", line)}


def _archives() -> tuple[dict[str, bytes], set[Row]]:
    # Members are read in every mode, each at its ARCHIVE!MEMBER path (a .env inside one too), and
    # every kind of archive the scanner reads is here once.
    strings = f'<resources>\n<string name="google_api_key">{google_key()}</string>\n</resources>\n'
    files = {"dist/app.apk": zip_of({"res/values/strings.xml": strings.encode()}),
             "dist/site.tgz": tar_of({"deploy/.env": f"MAPS_KEY={google_key()}\n".encode()}, "w:gz")}
    rows = {("google-api-key", "dist/app.apk!res/values/strings.xml", 2),
            ("google-api-key", "dist/site.tgz!deploy/.env", 1), ("dotenv-file", "dist/site.tgz!deploy/.env", 0)}
    for kind in KINDS:
        text = f'KEY = "{google_key()}"\n'
        if kind in STREAMS:
            name, member = f"kinds/app.py.{kind}", "app.py"
        else:
            name, member = f"kinds/app.{kind}", OFFICE.get(kind, "src/app.py")
        files[name] = archive_of(kind, {"src/app.py": text.encode()})
        rows.add(("google-api-key", f"{name}!{member}", 2 if kind == "xlsx" else 1))  # a sheet's 2nd string
    return files, rows


def _edited(value: str, places: int) -> str:
    """VALUE with PLACES of its characters (never the first) changed, as a person edits a test key."""
    out = list(value)
    for i in random.sample(range(1, len(value)), places):
        out[i] = random.choice([c for c in "0123456789abcdef" if c != out[i]])
    return "".join(out)


def _near_copies() -> tuple[dict[str, bytes], set[Row]]:
    # A test suite's key and its hand-edited copies (a few places changed each) are a family of stand-ins
    # in every mode; a random key beside them, and the same near-copies outside tests, are keys.
    base, other, shown = hex_secret(), hex_secret(), hex_secret()
    files = {
        "spec/configuration_spec.rb": f"config.api_key = '{base}'\n".encode(),
        "spec/fixtures/app/initializer.rb": f"config.api_key = '{_edited(base, 7)}'\n".encode(),
        "features/api_key.feature": f'When I navigate to "/changing?api_key={_edited(base, 8)}"\n'.encode(),
        "spec/report_spec.rb": f'report.api_key = "{other}"\n'.encode(),
        "lib/geo/first.rb": f"# Geo.new(api_key: '{shown}')\n".encode(),
        "lib/geo/second.rb": f"# Geo.new(api_key: '{_edited(shown, 1)}')\n".encode(),
    }
    return files, {("hardcoded-api-key", "spec/report_spec.rb", 1), ("hardcoded-api-key", "lib/geo/first.rb", 1),
                   ("hardcoded-api-key", "lib/geo/second.rb", 1)}


CASES = [
    Case("env-equal-to-settings-env", _env_copies),
    Case("env-equal-to-settings-env-plain", _env_copies_plain),
    Case("template-equal-to-env", _template_equal_to_env),
    Case("template-with-a-secret", _template_with_a_secret),
    Case("excluded-path", _excluded, {"worktree": {"excluded": 2}, "staged": {"excluded": 2},
                                      "range": {"excluded": 1}, "history": {"excluded": 1}}),
    Case("lfs-pointer", _lfs_pointer, {mode: {"skipped_lfs": 1} for mode in MODES}),
    Case("binary-with-a-key", _binary),
    Case("utf-16-file", _utf16),
    Case("utf-16-windows-files", _utf16_windows_files),
    Case("notebook", _notebook),
    Case("archives", _archives, {mode: {"archives": {"read": 2 + len(KINDS), "members": 2 + len(KINDS) + len(OFFICE),
                                                     "unsafe_names": 0, "skipped": {r: 0 for r in SKIP_REASONS}}}
                                 for mode in MODES}),
    Case("near-copies-of-a-test-key", _near_copies, {mode: {"allowed": 3} for mode in MODES}),
]


def _found(data: dict[str, Any]) -> set[Row]:
    # Every place reported: a work tree folds a secret's copies into one finding with `locations`.
    return {(f["rule_id"], place["path"], place["line"]) for f in data["findings"]
            for place in [f, *f["locations"]]}


def _scan_every_mode(repo: Path, files: dict[str, bytes],
                     capsys: pytest.CaptureFixture[str]) -> dict[str, dict[str, Any]]:
    for rel, body in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_bytes(body)
    git(repo, "add", "-A")
    reports = {}
    _, reports["staged"] = run_scan(capsys, "--staged", str(repo))
    git(repo, "commit", "-q", "-m", "the files")
    _, reports["worktree"] = run_scan(capsys, str(repo))
    # A range takes its policy from its base, which a root commit lacks: name the commit's own, so
    # that the same config applies in every mode.
    _, reports["range"] = run_scan(capsys, "--range", f"{sha(repo)}^!", "--policy-from", sha(repo), str(repo))
    _, reports["history"] = run_scan(capsys, "--history", str(repo))
    return reports


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_every_mode_gives_the_same_findings(case: Case, repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files, expected = case.build()
    reports = _scan_every_mode(repo, files, capsys)
    found = {mode: _found(reports[mode]) for mode in MODES}
    assert found == {mode: expected for mode in MODES}
    for mode, fields in (case.stats or {}).items():
        stats = reports[mode]["stats"]
        assert {k: stats[k] for k in fields} == fields, mode
