"""Reporters turn a scan result into text; redaction happens here and nowhere else."""
from __future__ import annotations

import re
from dataclasses import dataclass

FORMATS = ("text", "json", "sarif")


def redact(secret: str) -> str:
    """At most the first 4 and the last 2 characters; less of a short secret."""
    if len(secret) >= 12:
        return f"{secret[:4]}…{secret[-2:]}"
    if len(secret) >= 6:
        return f"{secret[:2]}…"
    return "…"


def display_path(path: str) -> str:
    """A path as git stores it: bytes that are not UTF-8 are shown as \\x escapes, not dropped."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


# C0 controls (ESC, BEL, CR, LF…), DEL, C1 controls, Unicode line/paragraph separators and the
# bidirectional overrides that make text display in another order than it reads.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """TEXT as it is safe to show a person: a control character becomes a visible escape (\\x1b,
    \\n), so a file or author name can neither drive the terminal nor forge a report line."""
    return _UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


@dataclass(frozen=True)
class Options:
    show_secrets: bool = False
    color: bool = False
    width: int = 100


def render(result: object, fmt: str, options: Options) -> str:
    if fmt == "json":
        from scanner.report.json_report import render as render_json

        return render_json(result, options)  # type: ignore[arg-type]
    if fmt == "sarif":
        from scanner.report.sarif import render as render_sarif

        return render_sarif(result, options)  # type: ignore[arg-type]
    if result.mode == "staged":  # type: ignore[attr-defined]
        # The pre-commit hook's output: per finding what to do, then once how to bypass.
        from scanner.report import blocked

        if result.findings:  # type: ignore[attr-defined]
            return blocked.render(result, options, action="commit")  # type: ignore[arg-type]
        return blocked.render_clean(result)  # type: ignore[arg-type]
    from scanner.report.text import render as render_text

    return render_text(result, options)  # type: ignore[arg-type]
