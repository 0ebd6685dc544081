"""Baselines: the fingerprints of accepted findings, sorted, with no lines, times or secrets."""
from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from scanner.errors import ConfigError
from scanner.locations import place_fingerprints
from scanner.models import Finding
from scanner.output import read_regular, write_atomic
from scanner.report import display_path

VERSION = 1
# A baseline of half a million findings is some 60 MB; past this it is not one we wrote.
MAX_BYTES = 64 * 1024 * 1024


def render(findings: Iterable[Finding]) -> str:
    """Stable text: the same findings give the same bytes, so two branches rarely conflict on it."""
    entries = sorted(set(place_fingerprints(findings)))
    body = {
        "version": VERSION,
        "tool": "keysentry",
        # The path is for people reading the file; a path that is not UTF-8 is shown with \x escapes.
        "findings": [{"fingerprint": fp, "path": display_path(path), "rule_id": rule} for path, rule, fp in entries],
    }
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"


def write(path: Path, findings: Iterable[Finding], tree: Path | None = None) -> int:
    """Write the baseline to PATH; TREE is the scanned tree, inside which no symlink is followed."""
    text = render(findings)
    write_atomic(path, text, tree=tree)
    return text.count('"fingerprint"')


def load(path: Path) -> frozenset[str]:
    return parse(read_regular(path, MAX_BYTES, "baseline"), str(path))


def parse(raw: bytes, path: str) -> frozenset[str]:
    """The fingerprints a baseline's bytes RAW hold; PATH names it in messages (a file, or a git
    object such as `REV:.keysentry-baseline.json`)."""
    if len(raw) > MAX_BYTES:
        raise ConfigError(f"baseline {path} is larger than {MAX_BYTES} bytes")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(f"baseline {path} is not valid JSON: {exc}") from None
    except RecursionError:
        raise ConfigError(f"baseline {path} is nested too deeply to be a keysentry baseline") from None
    if not isinstance(data, dict) or data.get("version") != VERSION or not isinstance(data.get("findings"), list):
        raise ConfigError(f"baseline {path} is not a keysentry baseline (expected version {VERSION} with 'findings')")
    fingerprints = set()
    for entry in data["findings"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("fingerprint"), str):
            raise ConfigError(f"baseline {path}: every entry needs a 'fingerprint' string")
        fingerprints.add(entry["fingerprint"])
    return frozenset(fingerprints)
