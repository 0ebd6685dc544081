"""Attack rows for the hostile suites (see tests/hostile.py): the judgements issue 9 added to detection
(context clues, CSV rows, `?key=` URLs), each read from the text around a match and so a way to make
every match cost a read of the whole file."""
from __future__ import annotations

import json
from pathlib import Path

from scanner.models import MAX_MATCHES
from tests.attacks.detection import QUICK
from tests.conftest import google_key, random_chars
from tests.hostile import Attack, keysentry, no_traceback


def _scan(tmp_path: Path, name: str, data: bytes) -> list[dict[str, object]]:
    folder = tmp_path / "scan"
    folder.mkdir()
    (folder / name).write_bytes(data)
    proc = keysentry("scan", ".", "--format", "json", "--show-secrets", cwd=folder, timeout=QUICK)
    no_traceback(proc)
    return list(json.loads(proc.stdout)["findings"])


def many_unquoted_keys_on_one_line(tmp_path: Path) -> None:
    # 20,000 candidates on one 1 MB line: the CSV-row test must not read the line again for each.
    # Quoted: in JavaScript an unquoted value is an identifier, not a literal (scanner.syntax).
    keys = ["k" + random_chars(31) for _ in range(20000)]  # `apiKey:-…` would be a YAML list item
    line = ",".join(f'apiKey:"{k}"' for k in keys)
    found = _scan(tmp_path, "bundle.min.js", line.encode())
    # Issue 23: a file of this many keys is a dump, listed to its first MAX_MATCHES.
    assert len(found) == MAX_MATCHES and [f["secret"] for f in found] == keys[:MAX_MATCHES]


def notebook_with_thousands_of_output_keys(tmp_path: Path) -> None:
    cells = [{"cell_type": "code", "source": ["print(k)"], "outputs": [{"text": [google_key()]}]} for _ in range(5000)]
    found = _scan(tmp_path, "demo.ipynb", json.dumps({"cells": cells, "nbformat": 4}).encode())
    assert len(found) == MAX_MATCHES and {f["context"] for f in found} == {"notebook-output"}


def query_keys_after_long_urls(tmp_path: Path) -> None:
    # Each `?key=` is judged by the URL before it: a long one must be read once, within bounds.
    path = "/".join(["seg"] * 700)
    text = "\n".join(f"https://example.com/{path}?key={random_chars(32)}" for _ in range(300))
    assert len(_scan(tmp_path, "urls.txt", text.encode())) == 300


def csv_rows_under_a_huge_first_line(tmp_path: Path) -> None:
    header = ",".join(["col"] * 300000) + "("
    rows = "\n".join(f"api_key,{random_chars(32)}" for _ in range(5000))
    _scan(tmp_path, "data.csv", f"{header}\n{rows}\n".encode())


# Inputs built to attack us: files, streams, configs, terminals (tests/test_hostile_inputs.py).
INPUTS: list[Attack] = [
    Attack("many-unquoted-keys-on-one-line", "5", many_unquoted_keys_on_one_line),
    Attack("notebook-with-thousands-of-output-keys", "5", notebook_with_thousands_of_output_keys),
    Attack("query-keys-after-long-urls", "5", query_keys_after_long_urls),
    Attack("csv-rows-under-a-huge-first-line", "5", csv_rows_under_a_huge_first_line),
]
