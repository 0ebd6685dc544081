"""`--verify-cache FILE`: the verdicts of earlier `--verify` runs, so that scans and audits that
meet the same keys ask Google once per key per `--verify-max-age` (contract: "Verification").

An entry is keyed by the SHA-256 of the secret (with the public half its check sent, such as a
client secret's client id) and holds the verdict and when it was made; the secret itself is never
written. Only answers are kept: an `unknown` (a timeout, a refusal to send) is asked again next time.

The file is the user's, but it may sit where others can write: it must be a regular file (not a
symbolic link), at most MAX_BYTES, and a keysentry cache; anything else is one line and exit 2,
and the file is left as it is (it may be something else the user named by mistake). Each entry
is checked before use: a status outside the contract, an age in the future, a reason that is not a
short string, and the entry is dropped. Written atomically (a temporary file renamed over it),
readable by its owner only, merged with what another run wrote meanwhile (newest verdict wins).
"""
from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from scanner.domain import STATUSES, Status
from scanner.errors import ConfigError
from scanner.models import Verification
from scanner.output import read_regular

VERSION = 1
MAX_BYTES = 32 << 20  # ~100,000 verdicts; a file much larger is not one we wrote
DEFAULT_MAX_AGE = 24 * 3600.0
KEEP = 30 * 86400.0  # verdicts older than this are dropped when the file is written
# What a stored answer may say (never "unknown": that is asked again), each word typed as the contract's.
_STATUSES: dict[str, Status] = {s: s for s in STATUSES if s != "unknown"}
_EXPOSES = frozenset({"files", "cached-contents", "tuned-models"})
_SURFACES = frozenset({"generative-language", "vertex-ai"})
_MAX_REASON = 4000
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_age(text: str) -> float:
    """`24h`, `90m`, `2d`, `3600s` or a number of seconds; 0 means never reuse a verdict."""
    unit = _UNITS.get(text[-1:].lower()) if text else None
    number = text[:-1] if unit is not None else text
    try:
        value = float(number) * (unit or 1)
    except ValueError:
        raise ValueError(f"--verify-max-age takes a duration such as 24h, 90m or 2d, not {text!r}") from None
    if not 0 <= value <= 366 * 86400 or value != value:
        raise ValueError("--verify-max-age must be between 0 and 366 days")
    return value


def cache_key(secret: str, companion: str = "") -> str:
    return hashlib.sha256(f"{secret}\0{companion}".encode("utf-8", "surrogateescape")).hexdigest()


@dataclass(frozen=True)
class _Entry:
    verification: Verification
    at: float  # when Google gave it, seconds since the epoch


class Cache:
    """The verdicts in FILE (loaded now, checked), to look up and add to, then `save()`d."""

    def __init__(self, path: Path, max_age: float = DEFAULT_MAX_AGE, now: float | None = None) -> None:
        self.path = path
        self.max_age = max_age
        self.now = time.time() if now is None else now
        self._entries = self._load()
        self._fresh: dict[str, _Entry] = {}
        self.hits = 0

    def _load(self) -> dict[str, _Entry]:
        try:
            info = os.lstat(self.path)
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise ConfigError(f"cannot read --verify-cache {self.path}: {exc.strerror or exc}") from None
        if stat.S_ISLNK(info.st_mode):
            raise ConfigError(f"--verify-cache {self.path} is a symbolic link; name the file itself")
        raw = read_regular(self.path, MAX_BYTES, "--verify-cache")
        try:
            data = json.loads(raw.decode("utf-8")) if raw.strip() else {"version": VERSION, "entries": {}}
        except (ValueError, RecursionError):
            data = None
        if not isinstance(data, dict) or data.get("version") != VERSION or not isinstance(data.get("entries"), dict):
            raise ConfigError(f"--verify-cache {self.path} is not a keysentry verification cache (left as it is; "
                              "remove it or name another file)")
        return {key: entry for key, value in data["entries"].items()
                if (entry := _entry(key, value, self.now)) is not None}

    def get(self, key: str) -> Verification | None:
        """The verdict for KEY if one younger than max-age is known, its reason saying how old."""
        entry = self._fresh.get(key) or self._entries.get(key)
        if entry is None or self.now - entry.at > self.max_age:
            return None
        self.hits += 1
        age = self.now - entry.at
        said = f"{age / 3600:.0f} h" if age >= 3600 else f"{age / 60:.0f} min" if age >= 60 else f"{age:.0f} s"
        v = entry.verification
        return Verification(v.status, f"{v.reason} (from --verify-cache: Google's answer {said} ago)", v.exposes,
                            v.surface)

    def put(self, key: str, verification: Verification) -> None:
        if verification.status in _STATUSES:
            self._fresh[key] = _Entry(verification, self.now)

    def save(self) -> None:
        """Write what is known, merged with the file as it is now (another run may have added to it)."""
        if not self._fresh:
            return
        try:
            merged = {**self._load(), **self._entries}
        except ConfigError:
            merged = dict(self._entries)  # replaced meanwhile by something else: ours is the cache
        for key, entry in self._fresh.items():
            if key not in merged or merged[key].at <= entry.at:
                merged[key] = entry
        body = {"version": VERSION, "entries": {key: _as_json(e) for key, e in sorted(merged.items())
                                                if self.now - e.at <= KEEP}}
        folder = self.path.parent
        fd, temporary = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=folder)  # mode 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(body, out, indent=1, sort_keys=True)
                out.write("\n")
            os.replace(temporary, self.path)
        except BaseException:
            os.unlink(temporary)
            raise


def _as_json(entry: _Entry) -> dict[str, object]:
    v = entry.verification
    data: dict[str, object] = {"status": v.status, "reason": v.reason, "at": round(entry.at, 3)}
    if v.exposes:
        data["exposes"] = list(v.exposes)
    if v.surface:
        data["surface"] = v.surface
    return data


def _entry(key: object, value: object, now: float) -> _Entry | None:
    """VALUE as an entry, or None when any part of it is not what keysentry writes."""
    if not isinstance(key, str) or len(key) != 64 or not isinstance(value, Mapping):
        return None
    status, reason, at = value.get("status"), value.get("reason"), value.get("at")
    exposes, surface = value.get("exposes", []), value.get("surface")
    status = _STATUSES.get(status) if isinstance(status, str) else None
    if status is None or not isinstance(reason, str) or len(reason) > _MAX_REASON:
        return None
    if not isinstance(at, (int, float)) or isinstance(at, bool) or not 0 < at <= now + 60:
        return None
    if not isinstance(exposes, list) or not all(e in _EXPOSES for e in exposes):
        return None
    if surface is not None and surface not in _SURFACES:
        return None
    return _Entry(Verification(status, reason, tuple(exposes), surface), float(at))
