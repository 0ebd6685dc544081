"""[tool.keysentry] / .keysentry.toml -> a validated, frozen Config. A typo is an error, never ignored."""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scanner.errors import ConfigError
from scanner.rules import RULES_BY_ID

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DEFAULT_MAX_FILE_SIZE = 25 * 1024 * 1024
_KEYS = {"exclude", "allow", "disable", "max-file-size"}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]?i?b?)\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "kib": 1024, "m": 1000**2, "mb": 1000**2, "mib": 1024**2,
          "g": 1000**3, "gb": 1000**3, "gib": 1024**3}


@dataclass(frozen=True)
class Config:
    exclude: tuple[str, ...] = ()
    allow: tuple[re.Pattern[str], ...] = ()
    disable: tuple[str, ...] = ()
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    source: str | None = None  # the file it came from, for messages
    _spec: Any = field(default=None, compare=False, repr=False)

    def is_excluded(self, path: str) -> bool:
        if not self.exclude:
            return False
        if self._spec is None:  # a Config built by hand rather than by from_table
            object.__setattr__(self, "_spec", _exclude_spec(self.exclude, self.source or "config"))
        return bool(self._spec.match_file(path))


def parse_size(value: object, where: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, str):
        m = _SIZE.match(value)
        if m and m[2].lower() in _UNITS:
            size = int(float(m[1]) * _UNITS[m[2].lower()])
            if size > 0:
                return size
    raise ConfigError(f"{where}: max-file-size must be a positive number of bytes or a size like '25MB', not {value!r}")


def _strings(table: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: '{key}' must be a list of strings")
    return tuple(value)


def from_table(table: dict[str, Any], where: str) -> Config:
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(_KEYS))})")
    allow = []
    for pattern in _strings(table, "allow", where):
        try:
            allow.append(re.compile(pattern))
        except re.error as exc:
            raise ConfigError(f"{where}: bad 'allow' regex {pattern!r}: {exc}") from None
    disable = _strings(table, "disable", where)
    for rule_id in disable:
        if rule_id not in RULES_BY_ID:
            raise ConfigError(f"{where}: 'disable' names unknown rule {rule_id!r}")
    size = parse_size(table["max-file-size"], where) if "max-file-size" in table else DEFAULT_MAX_FILE_SIZE
    exclude = _strings(table, "exclude", where)
    return Config(exclude, tuple(allow), disable, size, where, _exclude_spec(exclude, where))


def _exclude_spec(patterns: tuple[str, ...], where: str) -> Any:
    if not patterns:
        return None
    import pathspec  # only configs that exclude something pay for it

    for pattern in patterns:
        try:
            pathspec.GitIgnoreSpec.from_lines([pattern])
        except (ValueError, re.error) as exc:  # a malformed pattern, or a bad [range] in one
            raise ConfigError(f"{where}: bad 'exclude' pattern {pattern!r}: {exc}") from None
    return pathspec.GitIgnoreSpec.from_lines(patterns)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def load(root: Path, explicit: Path | None = None) -> Config:
    """--config FILE, else [tool.keysentry] in ROOT/pyproject.toml, else ROOT/.keysentry.toml."""
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"config file not found: {explicit}")
        data = _read_toml(explicit)
        table = data.get("tool", {}).get("keysentry") if explicit.name == "pyproject.toml" else data
        if not isinstance(table, dict):
            raise ConfigError(f"{explicit}: no [tool.keysentry] table")
        return from_table(table, str(explicit))
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        table = _read_toml(pyproject).get("tool", {}).get("keysentry")
        if table is not None:
            if not isinstance(table, dict):
                raise ConfigError(f"{pyproject}: [tool.keysentry] must be a table")
            return from_table(table, f"{pyproject} [tool.keysentry]")
    dotfile = root / ".keysentry.toml"
    if dotfile.is_file():
        return from_table(_read_toml(dotfile), str(dotfile))
    return Config()
