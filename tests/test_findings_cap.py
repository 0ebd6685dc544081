"""A file holding an absurd number of secrets (issue 23: a .env of 430,000 keys took 58 s and 2.7 GB):
its first MAX_MATCHES are findings and the rest is said as a count, and reading it stops soon after.

A large text is read a line-aligned region at a time so that it can stop early; what the regions
find together must be what one read of the whole text finds, secrets across a region's end too."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from scanner import detect
from scanner.cli import main
from scanner.detect import Detector
from scanner.models import MAX_MATCHES
from tests.conftest import google_key, random_chars
from tests.test_rules_google import pem_private_key, service_account_json


def _big_text() -> bytes:
    """Some 700 KB: filler code, keys in several syntaxes, and multi-line credentials placed
    across the first region ends (64 KB, then 64 + 128 KB, …)."""
    parts: list[str] = []
    size = 0
    marks = [detect._REGION, 3 * detect._REGION, 7 * detect._REGION]
    i = 0
    while size < 700_000:
        if marks and size > marks[0] - 900:
            chunk = service_account_json() + "\n" if len(marks) != 2 else f'PEM = """{pem_private_key()}"""\n'
            marks.pop(0)
        elif i % 97 == 0:
            chunk = f'client = genai.Client(api_key="{google_key()}")\n'
        elif i % 89 == 0:
            chunk = f'export GEMINI_API_KEY={random_chars(32)}\n'
        else:
            chunk = f"def f{i}(a, b):\n    return a.key + b.apiKey  # {random_chars(20)}\n"
        parts.append(chunk)
        size += len(chunk)
        i += 1
    return "".join(parts).encode()


def _found(data: bytes, path: str) -> list[tuple[str, int, int, str]]:
    return [(m.rule_id, m.line, m.column, m.secret) for m in Detector().scan(data, path).matches]


def test_regions_find_what_one_read_of_the_whole_text_finds(engine: str, monkeypatch: pytest.MonkeyPatch) -> None:
    data = _big_text()
    by_regions = _found(data, "app.py")
    monkeypatch.setattr(detect, "_REGION", 1 << 40)  # one region: the whole text
    whole = _found(data, "app.py")
    assert by_regions == whole
    assert {rule for rule, *_ in whole} >= {"google-api-key", "gcp-service-account-key", "hardcoded-api-key"}


def test_a_dump_of_keys_stops_after_the_cap(engine: str) -> None:
    lines = [f"API_KEY_{i}={'AIza' + random_chars(35)}" for i in range(30_000)]
    scanned = Detector().scan(("\n".join(lines) + "\n").encode(), ".env")
    assert len([m for m in scanned.matches if m.line]) == MAX_MATCHES
    assert scanned.crowded_line == MAX_MATCHES and scanned.unlisted_lines == 30_000 - MAX_MATCHES


def test_the_report_says_how_much_of_a_dump_was_left_unread(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / ".env").write_text("".join(f"API_KEY_{i}={'AIza' + random_chars(35)}\n" for i in range(5000)))
    assert main(["scan", str(tmp_path), "--format", "json", "--quiet"]) == 1
    out, err = capsys.readouterr()
    data = json.loads(out)
    assert data["stats"]["crowded"] == 1
    assert len([f for f in data["findings"] if f["rule_id"] == "google-api-key"]) == MAX_MATCHES
    assert [f["rule_id"] for f in data["findings"]].count("dotenv-file") == 1
    assert f".env holds more than {MAX_MATCHES} secrets" in err and f"its {5000 - MAX_MATCHES} lines after" in err
