"""GitHub Actions workflow commands: one `::error file=…,line=…::…` annotation per finding.

GitHub reads a line of the log as a command when it starts with `::`; the text after the second
`::` is the message and `key=value` pairs before it are properties. A value holding a newline would
end the command and start a line of its own choosing (a file named `x\n::add-mask::…`), so values
are escaped as GitHub's toolkit does (actions/toolkit `command.ts`): `%`, CR and LF everywhere, and
in properties also `:` and `,`, which would otherwise end the property."""
from __future__ import annotations

from collections.abc import Iterator

from scanner.report import (CAUSE_NAMES, UNREACHABLE, Shown, View, decoded_words, display_path, exposure_words,
                           moved_words, printable, suppressed_summary)


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _where(f: Shown) -> str:
    if f.reachable is False and not f.commit:
        return ""  # a dangling tree or blob: no commit added it (the message says what it is)
    if f.place != "file":
        return f"in the {f.place.replace('-', ' ')} of {f.commit[:12] if f.commit else '?'}; it stays in the history"
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
    # A commit or tag message is no file of the checkout: its annotation is bound to none, and
    # names the message (and so the commit) in its text.
    properties = [f"file={escape_property(f.name)}"] if f.place == "file" else []
    if f.in_head is not False and f.place == "file":
        properties.append(f"line={max(f.line, 1)}")
        if f.column > 0:
            properties += [f"col={f.column}", f"endColumn={f.column + f.secret_length}"]
    properties.append(f"title={escape_property(f'{prefix}keysentry {f.rule_id} ({f.severity})')}")
    where = _where(f)
    if f.moved_to:
        where += f"{'; ' if where else ''}moved to {moved_words(f.moved_to, lambda p: printable(display_path(p)))}"
    if f.reachable is False:
        where += f"{'; ' if where else ''}{UNREACHABLE}"
    if f.verification is not None:  # --verify
        where += f"{'; ' if where else ''}verified {f.verification.status}: {f.verification.reason}"
        extra = exposure_words(f.verification)
        where += f" ({extra})" if extra else ""
    named = f"{f.name}:{f.line}: " if f.place != "file" else ""
    message = prefix + named + f"{f.message}: {f.secret}{decoded_words(f)}" + (f" — {where}" if where else "") \
        + f". Fix: {f.rule.remediation}"
    return f"::error {','.join(properties)}::{escape_data(printable(message))}"


def notice(f: Shown) -> str:
    """A suppressed finding (--show-suppressed) as a notice on its line, saying what silenced it."""
    properties = [f"file={escape_property(f.name)}", f"line={max(f.line, 1)}",
                  f"title={escape_property(f'keysentry {f.rule_id} suppressed')}"]
    message = f"{f.message}: {f.secret}, suppressed by {CAUSE_NAMES.get(f.suppressed, f.suppressed)}"
    return f"::notice {','.join(properties)}::{escape_data(printable(message))}"


def render(view: View) -> str:
    return "".join(stream(view))


def stream(view: View) -> Iterator[str]:
    """The annotations a few hundred at a time, each made when it is written (not one 28 MB string
    for 50,000 findings), then the notices."""
    lines: list[str] = []
    for f in view.findings:
        lines.append(annotation(f) + "\n")
        if len(lines) >= 256:
            yield "".join(lines)
            lines = []
    tail = [notice(f) for f in view.suppressed]
    # The notes (a marker a change adds that the base's config lets through) and what the policy
    # hid: a reviewer sees them in the checks, not only in the log.
    tail += [f"::notice title=keysentry::{escape_data(printable(note))}" for note in view.notes]
    hidden = suppressed_summary(view.stats)
    if hidden:
        tail.append(f"::notice title=keysentry::{escape_data(hidden)}")
    yield "".join(lines) + "".join(line + "\n" for line in tail)
