"""dotenv-file: a committed .env file, judged by its path and whether it holds any value."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from scanner import lazyre
from scanner.domain import Severity
from scanner.filters import is_placeholder, is_template, plausible_literal
from scanner.rules.base import AI_STUDIO, CREDENTIALS


@dataclass(frozen=True)
class FileRule:
    """A rule about a whole file, decided by its path and content rather than by one match."""

    id: str
    description: str
    level: str  # SARIF level
    remediation: str
    path: re.Pattern[str]
    # Files that document the variables rather than set them; flagged only when they hold a real
    # secret that another rule found.
    template: re.Pattern[str]
    # The contract's `severity` (see Rule.severity).
    severity: Severity = "high"
    precision: str = "high"  # see Rule.precision
    # What to rotate, as the blocked-commit message says it after "it is leaked: ".
    rotate: str = ""
    where: tuple[tuple[str, str], ...] = ()  # see Rule.where
    restrict: str = ""
    # How to take the file out of git; {path} is its name as shown, {word} as a shell word.
    fix: str = ""
    # The remediation once HEAD no longer has the file (`git rm --cached` would fail).
    gone: str = ""
    # What the file is called in advice: "a .env file".
    kind: str = "the file"
    # What a finding says instead of `description` when the file holds no secret, only plain settings
    # and stand-ins (its severity is then `low`, see scanner.context.dotenv_severity); "": the same.
    no_secret: str = ""
    # The finding's "secret" says what it is about (scanner.suppression: what a change widened), no
    # secret: reports show it, with any key inside masked, rather than redact it.
    plain: bool = False
    # A finding of this rule is the whole file, at no line: no inline comment can silence it.
    whole_file: ClassVar[bool] = True

    def holds(self, path: str) -> bool:
        """PATH is a file this rule judges as a whole (a template's secrets are code-like)."""
        return bool(self.path.search(path)) and not self.template.search(path)


DOTENV_FILE = FileRule(
    id="dotenv-file",
    severity="medium",
    description="Committed .env file with values",
    level="error",
    remediation=(
        "Remove the file from the repository (git rm --cached), add .env* to .gitignore and commit a "
        ".env.example with empty values instead; rotate every secret the file held. A file meant to be "
        "committed (settings, no secrets): add its path to `exclude` in the config, or accept it with "
        "`keysentry baseline`; an inline keysentry:allow silences one line's secret, never the file."
    ),
    path=lazyre.compile(r"(?:^|/)\.env(?:\.[^/]+)?$"),
    # `.env.example`, `.env.local.example`, `.env.example.local`; `.env.vault` is dotenv-vault's
    # encrypted file, made to be committed.
    template=lazyre.compile(
        r"(?:^|/)\.env(?:\.[^/]+)*\.(?:example|sample|template|tmpl|tpl|dist|defaults?|schema|vault)(?:\.[^/]+)?$",
        re.IGNORECASE,
    ),
    where=(AI_STUDIO, CREDENTIALS),
    rotate="rotate every secret the file holds",
    fix=("keep {path} out of git: `git rm --cached {word}`, add it to .gitignore and commit a template with "
         "empty values (e.g. .env.example) instead"),
    gone=("The file is gone from HEAD, but every clone still has it: rotate every secret it held, and keep .env* "
          "in .gitignore so that it is not committed again."),
    kind="a .env file",
    no_secret="Committed .env file with plain settings and placeholders only: it holds no secret",
)

# The value is everything after the operator, stripped in Python: a lazy value followed by `\s*$`
# retries the trailing test at every character, quadratic on a value holding a long run of spaces.
_ASSIGNMENT = lazyre.compile(r"\s*(?:export\s+)?(?P<name>[A-Za-z_][\w.-]*)\s*[=:](?P<value>.*)")
# Longer values are values: no stand-in is this long, and the filters then never see more.
_LONGEST_STAND_IN = 1000
# Values that say "nothing here"; true/false and numbers are values (the contract: any non-empty one).
_EMPTY = lazyre.compile(r"^(?:none|null|nil|undefined|empty|not[_-]?set)$", re.IGNORECASE)


def _value(raw: str) -> str:
    """The value a dotenv line assigns: inside its quotes, or up to an inline comment (` # …`)."""
    value = raw.strip()
    quote = value[:1] if value[:1] in ("'", '"', "`") else ""
    if quote and len(value) >= 2 and value.endswith(quote):
        return value[1:-1]
    if quote:
        # A quoted value with a trailing comment, or the first line of a multi-line value.
        return value[1:].split(quote, 1)[0]
    return re.split(r"(?:^|\s)#", value, maxsplit=1)[0].strip()


def first_value(text: str) -> str | None:
    """The first non-empty, non-placeholder value a dotenv text assigns, or None."""
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        match = _ASSIGNMENT.match(line)
        if not match:
            continue
        value = _value(match["value"])
        if value and not _EMPTY.match(value) and (len(value) > _LONGEST_STAND_IN or not _is_stand_in(value)):
            return value
    return None


# Names that hold secrets, unlike APP_ENV, DEBUG or PORT.
_SECRET_NAME = lazyre.compile(r"key|secret|token|passw(?:or)?d|pwd|credential|private|auth", re.IGNORECASE)


def holds_secret_value(text: str) -> bool:
    """Does a dotenv text give a secret-named variable a value that looks like one (not a setting)?"""
    for line in text.splitlines():
        match = _ASSIGNMENT.match(line)
        if match and not line.lstrip().startswith("#") and _SECRET_NAME.search(match["name"]):
            value = _value(match["value"])
            if value and plausible_literal(value, True):
                return True
    return False


def _is_stand_in(value: str) -> bool:
    # true/false are settings, not stand-ins, though the placeholder filter rejects them as keys.
    return value.lower() not in ("true", "false") and (is_placeholder(value) or is_template(value))
