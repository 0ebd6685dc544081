"""The .env side of a fix: where values go (a local, git-ignored .env), what a committed .env leaves
behind (a .env.example of its names), and the .gitignore lines that keep both out of git."""
from __future__ import annotations

import re

from scanner.fix.code import Refused

# NAME=value, `export NAME=value`, with the value as written (quotes and all).
ASSIGNMENT = re.compile(r"^(?P<lead>[ \t]*(?:export[ \t]+)?)(?P<name>[A-Za-z_][A-Za-z0-9_.-]*)(?P<op>[ \t]*=[ \t]*)"
                        r"(?P<value>.*?)(?P<cr>\r?)$")
_SAFE_VALUE = re.compile(r"[A-Za-z0-9_./+:@%,=~-]*")
HEADER = "# Local secrets, written by `keysentry fix`: git-ignored, never commit this file.\n"


def unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    if " #" in value:
        value = value.split(" #", 1)[0].rstrip()
    return value


def values(text: str) -> dict[str, str]:
    """The names a .env sets and their values (the last assignment wins, as dotenv loaders do)."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        match = ASSIGNMENT.match(line)
        if match and not line.lstrip().startswith("#"):
            found[match["name"]] = unquote(match["value"])
    return found


def line_for(name: str, value: str) -> str:
    """NAME=value as a .env line every dotenv loader reads back as VALUE (quoted when it needs to be)."""
    if _SAFE_VALUE.fullmatch(value):
        return f"{name}={value}\n"
    if "'" not in value and "\n" not in value and "\r" not in value:
        return f"{name}='{value}'\n"
    raise Refused(f"the value for {name} holds quotes or line breaks that a .env cannot keep safely: move it by hand")


def with_values(existing: str | None, new: dict[str, str]) -> str:
    """EXISTING (.env text, or None for a new file) with the NEW names added at its end."""
    text = existing if existing is not None else HEADER
    if text and not text.endswith("\n"):
        text += "\n"
    return text + "".join(line_for(name, value) for name, value in new.items())


def template(text: str, existing: str | None) -> str | None:
    """A .env.example: every name TEXT sets, with an empty value; EXISTING: the template already there,
    to which only the missing names are added. None: nothing to add. Comments are not copied (an old
    key in a comment would be committed again)."""
    known = set(values(existing)) if existing is not None else set()
    lines = []
    for line in text.splitlines():
        match = ASSIGNMENT.match(line)
        if match and not line.lstrip().startswith("#") and match["name"] not in known:
            known.add(match["name"])
            lines.append(f"{match['lead']}{match['name']}=\n")
    if not lines:
        return None
    if existing is None:
        return "# The names the program reads; put real values in .env (git-ignored), never here.\n" + "".join(lines)
    return existing + ("" if existing.endswith("\n") or not existing else "\n") + "".join(lines)


def blank_value(text: str, line: int) -> tuple[str, str, str]:
    """TEXT with the value on LINE (1-based) removed: (new text, the name, the old value)."""
    lines = text.splitlines(keepends=True)
    if not 0 < line <= len(lines):
        raise Refused("the file changed since the scan")
    body = lines[line - 1].rstrip("\n")
    match = ASSIGNMENT.match(body)
    if match is None:
        raise Refused("the secret is not on a NAME=value line: blank it by hand")
    ending = "\n" if lines[line - 1].endswith("\n") else ""
    lines[line - 1] = f"{match['lead']}{match['name']}{match['op']}{match['cr']}{ending}"
    return "".join(lines), match["name"], unquote(match["value"])


def ignore_lines(existing: str | None, patterns: list[str]) -> str:
    """.gitignore text with PATTERNS appended (EXISTING: its current text, or None when there is none)."""
    text = existing or ""
    if text and not text.endswith("\n"):
        text += "\n"
    return text + "# Local secrets (keysentry fix)\n" + "".join(f"{p}\n" for p in patterns)
