"""`keysentry fix`'s report: the changes as unified diffs (coloured on a terminal), what was or would
be untracked and kept, and the steps left for a person. Every secret is redacted unless
--show-secrets, in the diffs too (a removed line holds the key)."""
from __future__ import annotations

import difflib
import io
import re

from scanner.fix.history import HistoryOutcome, HistoryPlan
from scanner.fix.model import Outcome, Plan, Step
from scanner.models import Finding
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
    if plan.secrets and (plan.changes or plan.untrack or any(s.kind in ("by-hand", "move-export")
                                                            for s in plan.steps)):
        say()
        say("Then: rotate every key that was committed (Google AI Studio or the Cloud console, Credentials): "
            "the old value stays valid, and in the git history, until you do; `keysentry fix --history` plans "
            "the history clean-up.", "bold")
    if outcome is not None and (outcome.written or outcome.untracked):
        say("Review the changes, `git add` them and commit.")
    return _paint(out, options)


def _consoles(findings: tuple[Finding, ...]) -> list[tuple[str, str]]:
    """Where the rules of FINDINGS say their secrets are rotated, each console once."""
    from scanner.rules import RULES_BY_ID

    seen: dict[tuple[str, str], None] = {}
    for finding in findings:
        rule = RULES_BY_ID.get(finding.rule_id)
        seen.update(dict.fromkeys(rule.where if rule is not None else ()))
    return list(seen)


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


def render_history(plan: HistoryPlan, outcome: HistoryOutcome | None, options: Options) -> str:
    """The history clean-up plan, or what running it did."""
    from scanner.fix.history import REPLACEMENT, filter_repo_args, replacements

    mask = _Masker(plan.secrets, options.show_secrets)
    out: list[tuple[str, str]] = []

    def say(text: str = "", style: str = "") -> None:
        out.append((text, style))

    if not plan.rotate and not plan.remove_paths:
        say("keysentry fix --history: no secrets in the history")
        return _paint(out, options)
    say(f"keysentry fix --history: {len(plan.rotate)} secret{'s' * (len(plan.rotate) != 1)} in the history"
        + (f", {len(plan.remove_paths)} committed .env file{'s' * (len(plan.remove_paths) != 1)}"
           if plan.remove_paths else ""), "bold")
    say()
    say("1. Rotate first (rewriting the history does not make a leaked key safe: every clone, fork and cache "
        "still has it)" + ("; live keys first:" if plan.verified else ":"), "bold")
    for i, finding in enumerate(plan.rotate, 1):
        status = f" [{finding.verification.status}]" if finding.verification is not None else ""
        where = "still in HEAD" if finding.in_head else f"since {(finding.commit or '')[:12]}"
        say(f"   {i}. {mask(finding.secret)} ({finding.rule_id}{status}) {mask(finding.path)}:{finding.line}, {where}")
    consoles = _consoles(plan.rotate)
    if consoles:
        say("   where: " + ", ".join(f"{label} ({url})" for label, url in consoles))
    if plan.still_in_head:
        say()
        say(f"   {len(plan.still_in_head)} of these are still in HEAD: run `keysentry fix --apply` and commit first, "
            "or the rewrite changes the code that runs.", "yellow")
    say()
    say("2. Rewrite a fresh mirror clone, never your working repository:", "bold")
    listing = "keysentry-replacements.txt"
    say(f"   {listing} (git filter-repo --replace-text; outside any repository, delete it afterwards):")
    for line in replacements(plan, options.show_secrets).splitlines():
        say(f"     {_clean(line)}", "cyan")
    if not options.show_secrets:
        say("     (secrets redacted: `keysentry fix --history --show-secrets` prints the file to use)")
    source = shell_word(str(plan.source))
    say(f"   git clone --mirror {source} repo-clean.git", "cyan")
    say("   cd repo-clean.git", "cyan")
    say("   git filter-repo " + " ".join(shell_word(a) for a in filter_repo_args(plan, f"../{listing}")), "cyan")
    say("   keysentry scan --history .   # proves the secrets are gone (exit 0)", "cyan")
    say("   (or all of this: `keysentry fix --history --apply --mirror DIR`; it never pushes)")
    say()
    say("3. Force-push the rewritten history:", "bold")
    remote = shell_word(plan.remote) if plan.remote else "YOUR-REMOTE-URL"
    say(f"   git push --force --all {remote}", "cyan")
    say(f"   git push --force --tags {remote}", "cyan")
    say()
    say("4. Tell every collaborator: re-clone (or, per branch, `git fetch` and `git reset --hard origin/BRANCH`); "
        "never push or merge a branch made before the rewrite, or the secrets come back. Forks, open pull requests "
        "and the host's caches keep the old commits: ask the host (e.g. GitHub Support) to remove them.", "bold")
    if outcome is not None:
        say()
        if outcome.remaining:
            say(f"Rewrote {mask(str(outcome.mirror))}, but a history scan still finds "
                f"{len(outcome.remaining)} planned secret(s) there: do not push it.", "red")
        else:
            say(f"Rewrote {mask(str(outcome.mirror))} (secrets replaced by {REPLACEMENT}); a history scan of it "
                "finds none of the planned secrets. Nothing was pushed: step 3 is yours.", "green")
    return _paint(out, options)
