"""[tool.keysentry] / .keysentry.toml -> a validated, frozen Config. A typo is an error, never ignored."""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from scanner import archives as archives_module
from scanner.errors import ConfigError
from scanner.output import read_regular
from scanner.rules import RULES_BY_ID

# Large: a file over the limit is a hole in the scan, so the limit is a cost choice (a file past
# scanner.chunked.READ_WHOLE is read a piece at a time, never whole), not a blind spot.
DEFAULT_MAX_FILE_SIZE = 1024 * 1024 * 1024
MAX_BYTES = 4 * 1024 * 1024  # a pyproject.toml is a few KB; past this it is not a config
# How long one `allow` regex may take on one secret: a secret is at most a few hundred characters,
# on which a sane pattern takes microseconds.
ALLOW_TIMEOUT = 1.0
_KEYS = {"exclude", "allow", "disable", "max-file-size", "inline-allow", "inline-allow-in-changes", "archives",
         "archive-depth", "archive-max-bytes", "archive-max-members", "archive-max-ratio", "decode-depth"}
# What one archive may unpack to in all, by default: this many times the file size limit.
ARCHIVE_BYTES_FACTOR = 10
# How deep `decode-depth` may go: each level is a scan of what the one above decoded.
MAX_DECODE_DEPTH = 4
# What an inline marker that a gated change adds does: "block" (it suppresses nothing, and the
# change is reported) or "notice" (it suppresses, and is listed as a notice). Only a base's config
# decides; a change's own config never does.
InChanges = Literal["block", "notice"]
_IN_CHANGES: tuple[InChanges, ...] = ("block", "notice")
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]?i?b?)\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "kib": 1024, "m": 1000**2, "mb": 1000**2, "mib": 1024**2,
          "g": 1000**3, "gb": 1000**3, "gib": 1024**3}


@dataclass(frozen=True)
class AllowPattern:
    """An `allow` regex whose search is bounded in time. The pattern may come from the scanned
    repository's own config, and under `re` `^(\\w+)+!$` runs for minutes on one 39-character key;
    the `regex` engine's timeout stops it. `.search` is all the engine calls."""

    pattern: str
    where: str
    compiled: Any = field(compare=False, repr=False)

    @classmethod
    def compile(cls, pattern: str, where: str) -> "AllowPattern":
        import regex  # type: ignore[import-untyped]  # only configs with an allow list pay for it

        try:
            return cls(pattern, where, regex.compile(pattern))
        except (regex.error, re.error, ValueError, OverflowError, RecursionError) as exc:
            raise ConfigError(f"{where}: bad 'allow' regex {pattern!r}: {exc}") from None

    def search(self, text: str) -> Any:
        try:
            return self.compiled.search(text, timeout=ALLOW_TIMEOUT)
        except TimeoutError:
            raise ConfigError(f"{self.where}: 'allow' regex {self.pattern!r} took too long (over {ALLOW_TIMEOUT:g} s "
                              "on one secret): it backtracks without end; simplify it") from None


@dataclass(frozen=True)
class Config:
    exclude: tuple[str, ...] = ()
    allow: tuple[AllowPattern, ...] = ()
    disable: tuple[str, ...] = ()
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    inline_allow: bool = True  # do inline markers (keysentry:allow, …) suppress at all?
    inline_allow_in_changes: InChanges = "block"
    # Whether max-file-size was set by the config (a limit its owner chose) rather than defaulted.
    size_set: bool = False
    source: str | None = None  # the file it came from, for messages
    _spec: Any = field(default=None, compare=False, repr=False)
    # Archives (scanner.archives): read their members at all, and the limits of one archive's
    # reading. archive-max-bytes None: ARCHIVE_BYTES_FACTOR times the file size limit in force.
    archives: bool = True
    archive_depth: int = archives_module.DEFAULT_DEPTH
    archive_max_bytes: int | None = None
    archive_max_members: int = archives_module.DEFAULT_MEMBERS
    archive_max_ratio: int = archives_module.DEFAULT_RATIO
    # How many encodings deep values are decoded and scanned (scanner.decode); 0: never.
    decode_depth: int = 2

    def archive_limits(self, max_file_size: int) -> archives_module.Limits | None:
        """The limits archives are read within when files may be MAX_FILE_SIZE; None: not opened."""
        if not self.archives:
            return None
        return archives_module.Limits(self.archive_depth, self.archive_bytes(max_file_size), self.archive_max_members,
                                      self.archive_max_ratio, max_file_size)

    def archive_bytes(self, max_file_size: int) -> int:
        """What one archive may unpack to in all when files may be MAX_FILE_SIZE."""
        return self.archive_max_bytes or ARCHIVE_BYTES_FACTOR * max_file_size

    def is_excluded(self, path: str) -> bool:
        if not self.exclude:
            return False
        if self._spec is None:  # a Config built by hand rather than by from_table
            object.__setattr__(self, "_spec", _exclude_spec(self.exclude, self.source or "config"))
        return bool(self._spec(path))


def parse_size(value: object, where: str, key: str = "max-file-size") -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, str):
        m = _SIZE.match(value)
        if m and m[2].lower() in _UNITS:
            size = int(float(m[1]) * _UNITS[m[2].lower()])
            if size > 0:
                return size
    raise ConfigError(f"{where}: {key} must be a positive number of bytes or a size like '25MB', not {value!r}")


def _strings(table: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: '{key}' must be a list of strings")
    return tuple(value)


def from_table(table: dict[str, Any], where: str) -> Config:
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(_KEYS))})")
    allow = [AllowPattern.compile(pattern, where) for pattern in _strings(table, "allow", where)]
    disable = _strings(table, "disable", where)
    for rule_id in disable:
        if rule_id not in RULES_BY_ID:
            raise ConfigError(f"{where}: 'disable' names unknown rule {rule_id!r}")
    size = parse_size(table["max-file-size"], where) if "max-file-size" in table else DEFAULT_MAX_FILE_SIZE
    exclude = _strings(table, "exclude", where)
    inline = table.get("inline-allow", True)
    if not isinstance(inline, bool):
        raise ConfigError(f"{where}: 'inline-allow' must be true or false, not {inline!r}")
    in_changes = table.get("inline-allow-in-changes", "block")
    if in_changes not in _IN_CHANGES:
        raise ConfigError(f"{where}: 'inline-allow-in-changes' must be \"block\" or \"notice\", not {in_changes!r}")
    opened = table.get("archives", True)
    if not isinstance(opened, bool):
        raise ConfigError(f"{where}: 'archives' must be true or false, not {opened!r}")
    archive_bytes = parse_size(table["archive-max-bytes"], where, "archive-max-bytes") \
        if "archive-max-bytes" in table else None
    depth = table.get("decode-depth", 2)
    if not isinstance(depth, int) or isinstance(depth, bool) or not 0 <= depth <= MAX_DECODE_DEPTH:
        raise ConfigError(f"{where}: 'decode-depth' must be a whole number from 0 to {MAX_DECODE_DEPTH}, not {depth!r}")
    return Config(exclude, tuple(allow), disable, size, inline, in_changes, "max-file-size" in table, where,
                  _exclude_spec(exclude, where), opened,
                  _count(table, "archive-depth", archives_module.DEFAULT_DEPTH, where), archive_bytes,
                  _count(table, "archive-max-members", archives_module.DEFAULT_MEMBERS, where),
                  _count(table, "archive-max-ratio", archives_module.DEFAULT_RATIO, where), depth)


def _count(table: dict[str, Any], key: str, default: int, where: str) -> int:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{where}: {key!r} must be a positive whole number, not {value!r}")
    return value


def _exclude_spec(patterns: tuple[str, ...], where: str) -> Any:
    if not patterns:
        return None
    from scanner.exclude import BadPattern, Matcher  # only configs that exclude something pay for it

    try:
        return Matcher.build(patterns)
    except BadPattern as exc:  # a malformed pattern, or a bad [range] in one
        raise ConfigError(f"{where}: bad 'exclude' pattern {exc}") from None


def read_toml(path: Path) -> dict[str, Any]:
    """PATH's TOML document (at most MAX_BYTES, UTF-8), or one clear ConfigError."""
    return _read_toml(path)


def _read_toml(path: Path) -> dict[str, Any]:
    return _parse_toml(read_regular(path, MAX_BYTES, "config"), str(path))


def _parse_toml(raw: bytes, path: str) -> dict[str, Any]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: not UTF-8 (byte {exc.start + 1})") from None
    # Imported here: a scan without a config file (a commit hook's usual case) never needs it.
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid TOML: nested too deeply") from None


def _tool_table(data: dict[str, Any], where: str) -> object:
    """data["tool"]["keysentry"], or None; `tool = 5` is a mistake, not a missing table."""
    tool = data.get("tool")
    if tool is None:
        return None
    if not isinstance(tool, dict):
        raise ConfigError(f"{where}: 'tool' must be a table (as in [tool.keysentry])")
    return tool.get("keysentry")


def _table(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: [tool.keysentry] must be a table")
    return value


def _dotfile(path: Path) -> Config:
    """A .keysentry.toml (or --config FILE): bare keys, or the README's [tool.keysentry] pasted in."""
    return _dotfile_data(_read_toml(path), str(path))


def _dotfile_data(data: dict[str, Any], path: str) -> Config:
    table = _tool_table(data, str(path))
    if table is None:
        return from_table(data, str(path))
    others = sorted(set(data) - {"tool"}) + [f"tool.{k}" for k in sorted(set(data["tool"]) - {"keysentry"})]
    if others:
        raise ConfigError(f"{path}: use either bare keys or a [tool.keysentry] table, not both "
                          f"(found {others[0]!r} beside [tool.keysentry])")
    return from_table(_table(table, str(path)), f"{path} [tool.keysentry]")


def _present(path: Path) -> bool:
    # A dangling link or a folder by that name is no config; a FIFO or device is refused when read.
    return path.exists() and not path.is_dir()


def from_bytes(raw: bytes, name: str, where: str, *, explicit: bool = False) -> Config:
    """The config a file named NAME (its base name) holding RAW gives; WHERE names it in messages
    (a git object: `REV:pyproject.toml`). A pyproject.toml without [tool.keysentry] is the
    default config, unless it was named explicitly. None of this touches the file system."""
    if len(raw) > MAX_BYTES:
        raise ConfigError(f"config {where} is larger than {MAX_BYTES} bytes")
    data = _parse_toml(raw, where)
    if name != "pyproject.toml":
        return _dotfile_data(data, where)
    table = _tool_table(data, where)
    if table is None:
        if explicit:
            raise ConfigError(f"{where}: no [tool.keysentry] table")
        return Config()
    return from_table(_table(table, where), f"{where} [tool.keysentry]")


def load(root: Path, explicit: Path | None = None) -> Config:
    """--config FILE, else [tool.keysentry] in ROOT/pyproject.toml, else ROOT/.keysentry.toml."""
    if explicit is not None:
        if explicit.name != "pyproject.toml":
            return _dotfile(explicit)
        table = _tool_table(_read_toml(explicit), str(explicit))
        if table is None:
            raise ConfigError(f"{explicit}: no [tool.keysentry] table")
        return from_table(_table(table, str(explicit)), str(explicit))
    pyproject = root / "pyproject.toml"
    if _present(pyproject):
        table = _tool_table(_read_toml(pyproject), str(pyproject))
        if table is not None:
            return from_table(_table(table, str(pyproject)), f"{pyproject} [tool.keysentry]")
    dotfile = root / ".keysentry.toml"
    if _present(dotfile):
        return _dotfile(dotfile)
    return Config()
