"""`keysentry fix`'s report: the changes as unified diffs (coloured on a terminal), what was or would
be untracked and kept, and the steps left for a person. Every secret is redacted unless
--show-secrets, in the diffs too (a removed line holds the key)."""
from __future__ import annotations

import difflib
import io
import re

from scanner.fix.model import Outcome, Plan, Step
from scanner.report import Options, redact, shell_word

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_TITLES = {
    "by-hand": "By hand (keysentry will not guess):",
    "move-export": "Moved out of a committed shell start-up file:",
    "restrict": "Restrict (the key ships with the app by design):",
    "skipped": "Skipped:",
    "rotate": "Rotate:",
}


def _clean(text: str) -> str:
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


class _Masker:
    def __init__(self, secrets: tuple[str, ...], show: bool) -> None:
        self._secrets = sorted((s for s in secrets if s), key=len, reverse=True) if not show else []

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, redact(secret))
        return _clean(text)


def diff(plan: Plan, show_secrets: bool) -> list[str]:
    """The plan's changes as unified diff lines (secrets redacted unless SHOW_SECRETS)."""
    mask = _Masker(plan.secrets, show_secrets)
    lines: list[str] = []
    for change in plan.changes:
        before = change.before.decode("utf-8", "replace").splitlines(keepends=True) if change.before is not None else []
        after = change.after.decode("utf-8", "replace").splitlines(keepends=True)
        source = f"a/{change.path}" if change.before is not None else "/dev/null"
        for line in difflib.unified_diff(before, after, source, f"b/{change.path}"):
            text = line.rstrip("\r\n")
            lines.append(mask(text))
            if not line.endswith("\n"):
                lines.append("\\ No newline at end of file")
    return lines


def render(plan: Plan, outcome: Outcome | None, options: Options) -> str:
    mask = _Masker(plan.secrets, options.show_secrets)
    out: list[tuple[str, str]] = []  # (text, style)

    def say(text: str = "", style: str = "") -> None:
        out.append((text, style))

    if plan.findings == 0:
        say("keysentry fix: nothing to fix (the scan found no secrets)")
        return _paint(out, options)
    count = f"{plan.findings} finding{'s' * (plan.findings != 1)}"
    if outcome is None:
        say(f"keysentry fix: {count}; dry run, nothing written (run with --apply to make these changes)", "bold")
        for line in diff(plan, options.show_secrets):
            style = ("cyan" if line.startswith("@@") else "bold" if line.startswith(("---", "+++"))
                     else "green" if line.startswith("+") else "red" if line.startswith("-") else "")
            say(line, style)
        for path in plan.untrack:
            say(f"untrack (the file stays on disk): git rm --cached -- {shell_word(path)}", "yellow")
    else:
        say(f"keysentry fix: {count}", "bold")
        changes = {c.path: c for c in plan.changes}
        for path in outcome.written:
            verb = "wrote" if changes[path].before is None else "fixed"
            say(f"{verb} {mask(path)}: " + mask("; ".join(changes[path].why)), "green")
        for path in outcome.untracked:
            say(f"untracked {mask(path)} (git rm --cached: the file stays on disk; commit the removal)", "green")
        for path, why in outcome.skipped:
            say(f"skipped {mask(path)}: {mask(why)}", "red")
    if plan.variables:
        verb = "kept" if outcome is not None else "would be kept"
        say(f"values {verb} in .env (git-ignored; load it into the environment, e.g. `set -a; . ./.env; set +a`, "
            f"python-dotenv or your platform's secret settings): {', '.join(plan.variables)}")
    for kind in ("move-export", "restrict", "by-hand", "skipped"):
        steps = [s for s in plan.steps if s.kind == kind]
        if steps:
            say()
            say(_TITLES[kind], "bold")
            for step in steps:
                _step(say, step, mask)
    if plan.changes or plan.untrack or any(s.kind in ("by-hand", "move-export") for s in plan.steps):
        say()
        say("Then: rotate every key that was committed (Google AI Studio or the Cloud console, Credentials): "
            "the old value stays valid, and in the git history, until you do; `keysentry fix --history` plans "
            "the history clean-up.", "bold")
        if outcome is not None:
            say("Review the changes, `git add` them and commit.")
    return _paint(out, options)


def _step(say: object, step: Step, mask: _Masker) -> None:
    assert callable(say)
    where = f"{step.path}:{step.line}" if step.line else step.path
    say(f"  {mask(where)} [{step.rule_id}] {mask(step.text)}")
    for command in step.commands:
        for line in command.splitlines():
            say(f"    {mask(line)}", "cyan")


def _paint(lines: list[tuple[str, str]], options: Options) -> str:
    if not options.color:
        return "".join(text + "\n" for text, _ in lines)
    from rich.console import Console
    from rich.text import Text

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=options.width, highlight=False, soft_wrap=True)
    for text, style in lines:
        console.print(Text(text, style=style))
    return buffer.getvalue()
