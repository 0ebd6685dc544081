"""GitHub Actions workflow commands: one `::error file=…,line=…::…` annotation per finding.

GitHub reads a line of the log as a command when it starts with `::`; the text after the second
`::` is the message and `key=value` pairs before it are properties. A value holding a newline would
end the command and start a line of its own choosing (a file named `x\n::add-mask::…`), so values
are escaped as GitHub's toolkit does (actions/toolkit `command.ts`): `%`, CR and LF everywhere, and
in properties also `:` and `,`, which would otherwise end the property."""
from __future__ import annotations

from scanner.report import Shown, View, exposure_words, printable


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _where(f: Shown) -> str:
    if f.in_head is False:
        # The secret was removed again (in HEAD, or later in the range): its line now holds other
        # text, often the fix, so the annotation names the file and the commit, not a line.
        return f"commit {f.commit[:12] if f.commit else '?'} added it; it is no longer in HEAD but stays in the history"
    if f.commit:
        return f"added in commit {f.commit[:12]}; still in HEAD"
    return ""


def annotation(f: Shown, repository: str = "") -> str:
    """REPOSITORY (an audit's source) prefixes the title and the message; file= stays the path
    inside that repository."""
    prefix = f"{printable(repository)}: " if repository else ""
    properties = [f"file={escape_property(f.name)}"]
    if f.in_head is not False:
        properties.append(f"line={max(f.line, 1)}")
        if f.column > 0:
            properties += [f"col={f.column}", f"endColumn={f.column + f.secret_length}"]
    properties.append(f"title={escape_property(f'{prefix}keysentry {f.rule_id} ({f.severity})')}")
    where = _where(f)
    if f.verification is not None:  # --verify
        where += f"{'; ' if where else ''}verified {f.verification.status}: {f.verification.reason}"
        extra = exposure_words(f.verification)
        where += f" ({extra})" if extra else ""
    message = prefix + f"{f.rule.description}: {f.secret}" + (f" — {where}" if where else "") + f". Fix: {f.rule.remediation}"
    return f"::error {','.join(properties)}::{escape_data(printable(message))}"


def render(view: View) -> str:
    return "".join(annotation(f) + "\n" for f in view.findings)
