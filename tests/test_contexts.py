"""Detection where real keys live: real files of every kind and encoding, scanned through the CLI."""
from __future__ import annotations

import gzip
import json
import os
import struct
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from scanner.cli import main
from scanner.detect import Detector
from scanner.models import MAX_MATCHES
from tests.conftest import google_key, random_chars
from tests.cost import MB, cpu_cost, grows_linearly

# Every test here runs on each engine: they must find the same secrets.
pytestmark = pytest.mark.usefixtures("engine")


def _scan(folder: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[tuple[str, str, int, int, str]]]:
    code = main(["scan", str(folder), "--format", "json", "--show-secrets", "--jobs", "1"])
    report = json.loads(capsys.readouterr().out)
    return code, [(f["rule_id"], f["path"], f["line"], f["column"], f["secret"]) for f in report["findings"]]


def _notebook(source: list[str]) -> str:
    return json.dumps({
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["# Gemini quickstart\n"]},
            {"cell_type": "code", "execution_count": 1, "metadata": {}, "outputs": [], "source": source},
        ],
        "metadata": {"kernelspec": {"name": "python3"}}, "nbformat": 4, "nbformat_minor": 5,
    }, indent=1)


# Each case: file name, a function from the key to the file's bytes, and the key's (line, column).
Case = tuple[str, Callable[[str], bytes], tuple[int, int]]

CASES = [
    pytest.param("settings.ini", lambda k: f"; Réglages\r\n[maps]\r\nkey={k}\r\n".encode("utf-16"), (3, 5),
                 id="utf-16 with bom"),
    pytest.param("settings.ini", lambda k: f"[maps]\r\nkey={k}\r\n".encode("utf-16-le"), (2, 5),
                 id="utf-16-le without bom"),
    pytest.param("settings.ini", lambda k: f"[maps]\nkey={k}\n".encode("utf-16-be"), (2, 5),
                 id="utf-16-be without bom"),
    pytest.param("settings.ini", lambda k: f"; Réglages\r\n[maps]\r\nkey={k}\r\n".encode("utf-32"), (3, 5),
                 id="utf-32 with bom"),
    pytest.param("settings.ini", lambda k: f"\ufeff[maps]\nkey={k}\n".encode("utf-32-be"), (2, 5),
                 id="utf-32-be with bom"),
    pytest.param("settings.ini", lambda k: f"[maps]\r\nkey={k}\r\n".encode("utf-32-le"), (2, 5),
                 id="utf-32-le without bom"),
    pytest.param("settings.ini", lambda k: f"[maps]\nkey={k}\n".encode("utf-32-be"), (2, 5),
                 id="utf-32-be without bom"),
    # PowerShell's `>>` appends UTF-16 to a file begun in ASCII: the key may sit in either part.
    pytest.param("build.log", lambda k: b"Build started\r\n" + f"Deploying with key={k}\r\n".encode("utf-16-le"),
                 (2, 20), id="utf-16 after an ascii header"),
    pytest.param("build.log", lambda k: b"Build started.\r\n" + f"Deploying with key={k}\r\n".encode("utf-16-le"),
                 (2, 20), id="utf-16 after an odd-length ascii header"),
    pytest.param("build.log", lambda k: b"Build started\r\n" * 2000 + f"Deploying with key={k}\r\n".encode("utf-16"),
                 (2001, 20), id="utf-16 after a long ascii header"),
    pytest.param("build.log", lambda k: f"key={k}\r\n".encode() + "Deploying…\r\n".encode("utf-16-le") * 50,
                 (1, 5), id="key in the ascii header before utf-16"),
    pytest.param("notes.txt", lambda k: b"line one\n\0\nline three\n" + f"maps key: {k}\n".encode(), (4, 11),
                 id="key after a nul byte"),
    pytest.param("Notes.txt", lambda k: f"Clé de l'API: {k}\n".encode("latin-1"), (1, 15), id="latin-1"),
    pytest.param("notes.txt", lambda k: f"\ufeffclé: {k}\n".encode(), (1, 6), id="utf-8 with bom"),
    pytest.param("app.py", lambda k: f'import os\r\n\r\nKEY = "{k}"\r\n'.encode(), (3, 8), id="crlf"),
    pytest.param("quickstart.ipynb",
                 lambda k: _notebook(["from google import genai\n", f'client = genai.Client(api_key="{k}")\n']).encode(),
                 (17, 38), id="jupyter notebook"),
    pytest.param("dist/app.min.js",
                 lambda k: ("!function(){" + "var a=1,b=2;" * 20000 + f'var c={{apiKey:"{k}"}};' + "}();").encode(),
                 (1, 240028), id="minified bundle"),
    pytest.param("dist/app.js.map",
                 lambda k: json.dumps({"version": 3, "sources": ["src/firebase.ts"], "mappings": "AAAA;" * 100,
                                       "sourcesContent": [f'export const config = {{\n  apiKey: "{k}",\n}};\n']}).encode(),
                 (1, 621), id="source map"),
    pytest.param("app/src/main/res/values/strings.xml",
                 lambda k: f'<?xml version="1.0" encoding="utf-8"?>\n<resources>\n    <string name="google_api_key">{k}</string>\n</resources>\n'.encode(),
                 (3, 35), id="android strings.xml"),
    pytest.param("app/src/release/res/values/google_maps_api.xml",
                 lambda k: f'<resources>\n  <string name="google_maps_key" templateMergeStrategy="preserve" translatable="false">{k}</string>\n</resources>\n'.encode(),
                 (2, 88), id="google_maps_api.xml"),
    pytest.param("ios/GoogleService-Info.plist",
                 lambda k: f'<?xml version="1.0"?>\n<plist version="1.0">\n<dict>\n\t<key>API_KEY</key>\n\t<string>{k}</string>\n</dict>\n</plist>\n'.encode(),
                 (5, 10), id="plist"),
    pytest.param("public/index.html",
                 lambda k: f'<html><body>\n<script src="https://maps.googleapis.com/maps/api/js?key={k}&callback=initMap" async></script>\n</body></html>\n'.encode(),
                 (2, 58), id="html maps script"),
    pytest.param("README.md", lambda k: f"# Setup\n\n```bash\nexport GEMINI_API_KEY={k}\n```\n".encode(), (4, 23),
                 id="markdown"),
    pytest.param("keys.csv", lambda k: f"service,key,owner\nmaps,{k},ada\n".encode(), (2, 6), id="csv"),
    pytest.param("config.yaml", lambda k: f"google:\n  api_key: {k}\n".encode(), (2, 12), id="yaml"),
    pytest.param("config.toml", lambda k: f'[google]\napi_key = "{k}"\n'.encode(), (2, 12), id="toml"),
    pytest.param("app.properties", lambda k: f"google.api.key={k}\n".encode(), (1, 16), id="properties"),
    pytest.param("appsettings.json",
                 lambda k: json.dumps({"Settings": json.dumps({"ApiKey": k})}).encode(), (1, 30), id="json in json"),
    pytest.param("Dockerfile", lambda k: f"FROM python:3.12\nENV GOOGLE_API_KEY={k}\n".encode(), (2, 20),
                 id="dockerfile"),
    pytest.param(".bashrc", lambda k: f"alias ll='ls -l'\nexport GEMINI_API_KEY=\"{k}\"\n".encode(), (2, 24),
                 id="shell rc"),
    pytest.param("k8s/deployment.yaml",
                 lambda k: f"env:\n  - name: GOOGLE_API_KEY\n    value: {k}\n".encode(), (3, 12), id="kubernetes"),
    pytest.param("main.go", lambda k: f'package main\n\nconst apiKey = "{k}"\n'.encode(), (3, 17), id="go"),
    pytest.param("Main.kt", lambda k: f'val model = GenerativeModel("gemini", apiKey = "{k}")\n'.encode(), (1, 49),
                 id="kotlin"),
    pytest.param("App.swift", lambda k: f'let apiKey = "{k}"\n'.encode(), (1, 15), id="swift"),
    pytest.param("Program.cs", lambda k: f'var client = new Client(apiKey: "{k}");\n'.encode(), (1, 34), id="csharp"),
    pytest.param("app.rb", lambda k: f'API_KEY = "{k}"\n'.encode(), (1, 12), id="ruby"),
    pytest.param("index.php", lambda k: f"<?php\n$apiKey = '{k}';\n".encode(), (2, 12), id="php"),
    pytest.param("main.rs", lambda k: f'const API_KEY: &str = "{k}";\n'.encode(), (1, 24), id="rust"),
    pytest.param("lib/arm64-v8a/libnative.so",
                 lambda k: b"\x7fELF\x02\x01\x01" + b"\0" * 57 + bytes(range(11, 200)) + b"\0" + k.encode() + b"\0" * 32,
                 (1, 255), id="shared library"),
    pytest.param("assets/config.bin",
                 lambda k: b"\x00\x01\x00\x27" + k.encode() + b"\x00\x0b" + os.urandom(64).replace(b"\n", b" "),
                 (1, 5), id="apk asset with length prefix"),
]


@pytest.mark.parametrize(("name", "make", "where"), CASES)
def test_google_key_found_in_context(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str,
                                     make: Callable[[str], bytes], where: tuple[int, int]) -> None:
    key = google_key()
    target = tmp_path / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(make(key))
    code, findings = _scan(tmp_path, capsys)
    assert code == 1
    assert findings == [("google-api-key", name, *where, key)]


@pytest.mark.parametrize(("name", "data"), [
    pytest.param("blob.bin", b"\0\x01\x02" + f'api_key = "{random_chars(30)}"\n'.encode() + b"\0" * 8, id="binary with text"),
    pytest.param("archive.gz", gzip.compress(b"hello " * 1000), id="gzip"),
    pytest.param("noise.dat", bytes(b % 32 for b in os.urandom(4096) if b % 32 not in (0, 9, 10, 13))
                 + f"api_key={random_chars(20)}".encode(),
                 id="control-byte noise"),
    pytest.param("photo.png", b"\x89PNG\r\n\x1a\n" + os.urandom(512).replace(b"\0", b"\1"), id="png"),
    # Neither is text for all its NUL bytes: not one stray NUL, not UTF-32 (small integers look like it).
    pytest.param("table.bin", struct.pack("<3000I", *range(3000)) + f'api_key = "{random_chars(30)}"\n'.encode(),
                 id="little-endian integers"),
    pytest.param("records.dat", b"rec\0\x01" * 1000 + f'api_key = "{random_chars(30)}"\n'.encode(),
                 id="nul-separated records"),
])
def test_binaries_are_not_decoded_as_text(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, data: bytes) -> None:
    (tmp_path / name).write_bytes(data)
    assert _scan(tmp_path, capsys) == (0, [])


@pytest.mark.parametrize(("name", "make", "where"), [
    pytest.param("App.config", lambda s: f'<add key="ApiKey" value="{s}" />\r\n'.encode("utf-32"), (1, 26), id="utf-32"),
    pytest.param("deploy.log", lambda s: b"deploy\n" + f'api_key = "{s}"\n'.encode("utf-16-le"), (2, 12),
                 id="utf-16 after an ascii header"),
    pytest.param("settings.py", lambda s: f'# settings\n\n\0\nDEBUG = False\napi_key = "{s}"\n'.encode(), (5, 12),
                 id="after a nul byte"),
    pytest.param("settings.py", lambda s: b"# settings\n" + b"x = 1\n" * 2000 + f'\0api_key = "{s}"\0\n'.encode(),
                 (2002, 13), id="nul bytes around it past the sniffed head"),
])
def test_hardcoded_key_found_in_odd_encodings(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str,
                                              make: Callable[[str], bytes], where: tuple[int, int]) -> None:
    secret = random_chars(32)
    (tmp_path / name).write_bytes(make(secret))
    assert _scan(tmp_path, capsys) == (1, [("hardcoded-api-key", name, *where, secret)])


def test_hardcoded_key_found_in_utf16_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    secret = random_chars(32)
    (tmp_path / "App.config").write_bytes(f'<appSettings>\r\n  <add key="ApiKey" value="{secret}" />\r\n'.encode("utf-16"))
    assert _scan(tmp_path, capsys) == (1, [("hardcoded-api-key", "App.config", 2, 28, secret)])


def test_every_format_of_the_family_in_one_tree(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gemini, client_secret, token = "AQ.Ab" + random_chars(48), "GOCSPX-" + random_chars(28), "ya29." + random_chars(120)
    (tmp_path / "client_secret.json").write_text(json.dumps({"web": {"client_secret": client_secret}}))
    (tmp_path / ".env").write_text(f"GEMINI_API_KEY={gemini}\n")
    (tmp_path / "token.txt").write_text(f"Authorization: Bearer {token}\n")
    code, findings = _scan(tmp_path, capsys)
    assert code == 1
    assert findings == [
        ("dotenv-file", ".env", 0, 0, gemini),
        ("google-gemini-key", ".env", 1, 16, gemini),
        ("google-oauth-client-secret", "client_secret.json", 1, 28, client_secret),
        ("google-oauth-token", "token.txt", 1, 23, token),
    ]


def test_canonical_snippets_with_placeholders_are_quiet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "quickstart.md").write_text(
        "```python\nclient = genai.Client(api_key=\"YOUR_API_KEY\")\n```\n"
        "```js\nconst ai = new GoogleGenAI({ apiKey: \"YOUR_API_KEY\" });\n```\n"
        "```go\nclient, err := genai.NewClient(ctx, &genai.ClientConfig{APIKey: \"YOUR_API_KEY\"})\n```\n"
        "```java\nClient client = Client.builder().apiKey(\"YOUR_API_KEY\").build();\n```\n"
        "```bash\nexport GEMINI_API_KEY=<YOUR_API_KEY_HERE>\n"
        "curl \"https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:generateContent?key=$API_KEY\" \\\n"
        "  -H \"x-goog-api-key: ${API_KEY}\" -H 'Content-Type: application/json'\n```\n"
    )
    assert _scan(tmp_path, capsys) == (0, [])


# Speed: the prefilter and the patterns stay linear on the inputs that break naive regexes.
_FIVE_MB = 5 * 1024 * 1024
# A guard against catastrophic backtracking (which takes hours), not a speed target: speed is
# measured by benchmarks/, and this bound must hold on a loaded 2-core CI machine.
_HANG = 60


@pytest.mark.parametrize("make", [
    pytest.param(lambda n: b"var a=1;apiKey:b,c=d;" * (n // 21), id="minified keyword soup"),
    pytest.param(lambda n: b"api_key=" * (n // 8), id="assignment repeated"),
    pytest.param(lambda n: b'api_key="' + b"a" * n, id="unterminated quote"),
    pytest.param(lambda n: b"AIzaSy" + b"A" * n, id="endless key characters"),
    pytest.param(lambda n: b"ya29." + b"a." * (n // 2), id="dotted token"),
    pytest.param(lambda n: b"?key=" + b"&key=" * (n // 5), id="query params"),
    pytest.param(lambda n: b'"private_key": "-----BEGIN PRIVATE KEY-----' + b"A" * n + b' service_account',
                 id="unterminated private key"),
    pytest.param(lambda n: (b"<key>apiKey</key>" + b"\t" * 100) * (n // 117), id="plist soup"),
])
def test_one_long_line_costs_linear_time(make: Callable[[int], bytes]) -> None:
    # One line of 256 KB and of 1 MB, on each engine: four times the line may cost at most
    # tests.cost.RATIO times as much (catastrophic backtracking and quadratic cost show at any
    # size past timer noise), and no scan more than _HANG seconds for 5 MB, in CPU time.
    def cost(size: int) -> float:
        data = make(size)
        return cpu_cost(f"a {size // 1024} KB line", lambda: Detector().scan(data, "dist/bundle.min.js"),
                        _HANG * size / _FIVE_MB)

    grows_linearly("one long line", cost, MB // 4)


def test_key_at_the_end_of_a_five_megabyte_bundle_is_found() -> None:
    key = google_key()
    body = b"function f(a){return a.b+c;}var x={apiKey:e.k};" * (_FIVE_MB // 48)
    data = body + f'firebase.initializeApp({{apiKey:"{key}"}});'.encode()
    started = time.monotonic()
    assert [(m.rule_id, m.line, m.secret) for m in Detector().scan(data, "vendor.min.js").matches] == [
        ("google-api-key", 1, key)]
    assert time.monotonic() - started < _HANG


def test_many_keys_in_one_file_are_all_found_up_to_the_cap() -> None:
    data = "\n".join(f'k{i} = "{google_key()}"' for i in range(MAX_MATCHES)).encode()
    scanned = Detector().scan(data, "keys.py")
    assert len(scanned.matches) == MAX_MATCHES and scanned.crowded_line == 0


def test_a_dump_of_keys_lists_the_first_ones_and_counts_the_lines_left_unread() -> None:
    # Issue 23: one finding costs some hundreds of bytes; 430,000 of them cost gigabytes.
    data = "\n".join(f'k{i} = "{google_key()}"' for i in range(20000)).encode()
    started = time.monotonic()
    scanned = Detector().scan(data, "keys.py")
    assert [m.line for m in scanned.matches] == list(range(1, MAX_MATCHES + 1))
    assert (scanned.crowded_line, scanned.unlisted_lines) == (MAX_MATCHES, 20000 - MAX_MATCHES)
    assert time.monotonic() - started < _HANG
