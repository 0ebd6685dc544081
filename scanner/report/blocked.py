"""The message a blocked commit or push prints: what was found, and what to do about each finding.

Plain text with optional ANSI bold/colour, so it reads the same in a terminal, a GUI git client's
log window and a CI log; secrets are redacted unless the user asked for them.
"""
from __future__ import annotations

import os
import posixpath
import shutil
import sys
import textwrap
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Literal

from scanner import context
from scanner.report import Options, Shown, View, moved_words, present, printable
from scanner.rules import FILE_RULES, FileRule

if TYPE_CHECKING:
    from scanner.models import Result

# How each severity is painted: the most urgent in red.
_SEVERITY_COLOUR = {"critical": "1;31", "high": "31", "medium": "33", "low": "2"}
# (language, how code in it reads an environment variable); "{var}" is the variable's name.
_LANGUAGES: tuple[tuple[tuple[str, ...], str, str], ...] = (
    ((".py", ".pyw", ".pyi", ".ipynb"), "Python", 'os.environ["{var}"]'),
    ((".js", ".mjs", ".cjs", ".jsx", ".ts", ".tsx", ".mts", ".cts"), "JavaScript/TypeScript", "process.env.{var}"),
    ((".go",), "Go", 'os.Getenv("{var}")'),
    ((".java", ".kt", ".kts", ".scala", ".groovy", ".gradle"), "Java/Kotlin", 'System.getenv("{var}")'),
    ((".sh", ".bash", ".zsh", ".ksh"), "shell", '"${var}"'),
    ((".rb",), "Ruby", 'ENV.fetch("{var}")'),
    ((".rs",), "Rust", 'std::env::var("{var}")'),
    ((".cs",), "C#", 'Environment.GetEnvironmentVariable("{var}")'),
    ((".php",), "PHP", "getenv('{var}')"),
    ((".swift",), "Swift", 'ProcessInfo.processInfo.environment["{var}"]'),
    ((".dart",), "Dart", "Platform.environment['{var}']"),
    ((".c", ".cc", ".cpp", ".cxx", ".h", ".hpp"), "C/C++", 'getenv("{var}")'),
    ((".r",), "R", 'Sys.getenv("{var}")'),
    ((".ps1", ".psm1"), "PowerShell", "$env:{var}"),
)
BASELINE = ".keysentry-baseline.json"  # where `keysentry baseline` writes and the plain hooks look

# How the blocking hook was installed, which decides the commands the message can offer: the
# pre-commit framework puts no `keysentry` on the user's PATH, and SKIP= means nothing to a plain hook.
Via = Literal["framework", "hook", "cli"]


def installed_as(environ: Mapping[str, str]) -> Via:
    """The pre-commit framework sets PRE_COMMIT=1 for its hooks; keysentry's own hook scripts set
    KEYSENTRY_HOOK; anything else is a person (or a script) running keysentry."""
    if environ.get("PRE_COMMIT") == "1":
        return "framework"
    return "hook" if environ.get("KEYSENTRY_HOOK") else "cli"


def _keysentry_command() -> str:
    """How to run keysentry from where a plain hook ran it: by name when it is on PATH, else through
    the Python that runs this (a hook installed from a virtualenv that is not activated)."""
    return "keysentry" if shutil.which("keysentry") else f"{sys.executable} -I -m scanner"


def _autofix(via: Via) -> str:
    """The one way of running `keysentry fix --apply` that works where the hook runs."""
    if via == "framework":
        return "`pre-commit run --hook-stage manual keysentry-fix`"
    return f"`{_keysentry_command() if via == 'hook' else 'keysentry'} fix --apply`"


def _accept(via: Via, action: str) -> str:
    """The one way of writing a baseline that works where the hook runs, and how it is then read."""
    history = action == "push"
    if via == "framework":
        hook_id = "keysentry-baseline-history" if history else "keysentry-baseline"
        return (f"accept it with `pre-commit run --hook-stage manual {hook_id}` and commit {BASELINE}, with "
                f"`args: [--baseline, {BASELINE}]` on the keysentry hooks")
    command = f"{_keysentry_command() if via == 'hook' else 'keysentry'} baseline{' --history' if history else ''}"
    then = "(the hooks read it)" if via == "hook" else f"(scans read it with `--baseline {BASELINE}`)"
    return f"accept it with `{command}` and commit {BASELINE} {then}"


_SHELL_RC = (".bashrc", ".bash_profile", ".profile", ".zshrc", ".zprofile", ".zshenv", ".kshrc")

def env_lookup(path: str, var: str) -> tuple[str, str] | None:
    """(language, expression) that reads VAR in the language of PATH, when the language is obvious."""
    name = posixpath.basename(path)
    if path.startswith(".github/workflows/") and name.endswith((".yml", ".yaml")):
        return "GitHub Actions", "${{ secrets.%s }}" % var
    if name in _SHELL_RC:
        return "shell", f'"${var}"'
    suffix = posixpath.splitext(name)[1].lower()
    for suffixes, language, template in _LANGUAGES:
        if suffix in suffixes:
            return language, template.replace("{var}", var)
    return None


def _fix(f: Shown) -> tuple[str, str | None]:
    """How to get the secret out of the file: a sentence, and the line of code to use, if obvious."""
    rule = f.rule
    whole = rule if isinstance(rule, FileRule) else _holding_file(f.path)
    if whole is not None:
        return whole.fix.format(path=f.name, word=f.word), None
    if isinstance(rule, FileRule) or rule.fix:
        return rule.fix, None
    # A key meant to ship with a page or an app (a Firebase config, a Maps loader): restricting it
    # is the fix, not an environment variable the browser cannot read.
    shipped = context.remediation(f.context)
    if shipped:
        return shipped, None
    var, *others = rule.env_vars
    also = f" (or {' / '.join(others)})" if others else ""
    # A notebook's key is often in a cell's output (printed by the code), where no code change helps.
    notebook = (f"if it is in a cell's output, clear the outputs (`jupyter nbconvert --clear-output --inplace "
                f"{f.word}`, or Edit > Clear Outputs of All Cells) and rotate the key; if it is in a cell's code, "
                if f.path.lower().endswith(".ipynb") else "")
    lookup = env_lookup(f.path, var)
    if lookup is None:
        return f"{notebook}remove the literal and read the key from the environment variable {var}{also}, set " \
               f"outside the repository", None
    language, expression = lookup
    return f"{notebook}replace the literal with this ({language}) and set {var}{also} outside the repository:", \
        expression


def _metadata_fix(f: Shown) -> str:
    """How to take a key out of git's metadata (scanner.sources.messages, scanner.sources.notes)."""
    short = (f.commit or "")[:12]
    if f.place == "commit-message":
        return (f"the key is in the message of commit {short}, not in a file: reword that message, with "
                f"`git commit --amend` if it is the last commit, else `git rebase -i {short}^` (mark it `reword`)")
    if f.place == "tag-message":
        tag = f.name.split(":", 1)[1][:12]
        return (f"the key is in the message of an annotated tag (object {tag}; `git cat-file tag {tag}` shows it): "
                "delete that tag (`git tag -d NAME`) and tag again with a message without the key")
    return (f"the key is in a git note on {short}: `git notes edit {short}` (or `git notes remove {short}`); "
            "the notes ref's history keeps the old note until it is rewritten")


def _file_rule(f: Shown) -> FileRule | None:
    """The whole-file rule whose advice the finding gets: its own, or that of the file holding the
    secret (a key in a committed .env file is fixed by untracking the file)."""
    return f.rule if isinstance(f.rule, FileRule) else _holding_file(f.path)


def _holding_file(path: str) -> FileRule | None:
    return next((rule for rule in FILE_RULES if rule.holds(path)), None)


def _rotate(f: Shown) -> str:
    if not f.rule.rotate:
        return f"if it was ever pushed or shared, treat it as leaked: {f.rule.remediation}"
    return f"if it was ever pushed or shared, it is leaked: {f.rule.rotate}"


def _paint(text: str, code: str, on: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if on else text


def render_clean(result: View) -> str:
    """What a passing hook prints: one line, plain text (the hook path never loads rich)."""
    if not result.stats.files and not result.stats.blobs:
        excluded = result.stats.excluded
        if excluded:
            return (f"keysentry: every staged file is excluded by config ({excluded} file{'s' * (excluded != 1)}): "
                    "nothing scanned\n")
        return "keysentry: nothing staged: no changes to scan\n"
    files = result.stats.files
    return (f"keysentry: no secrets in {files} staged file{'s' * (files != 1)} "
            f"({result.stats.bytes} bytes, {result.stats.seconds:.2f}s)\n")


def _tally(findings: Sequence[Shown]) -> tuple[int, int]:
    """(distinct secrets, places holding them): one key in two files and in its .env is one secret
    in three places, not four; a .env file's own finding counts only when nothing else is in it."""
    in_lines = [f for f in findings if not f.rule.whole_file]
    paths = {f.path for f in in_lines}
    files = {f.path for f in findings if f.rule.whole_file and f.path not in paths}
    return len({f.secret_id for f in in_lines}) + len(files), len(in_lines) + len(files)


def render(result: Result, options: Options, *, action: str = "commit", bypass: bool = False,
           via: Via | None = None) -> str:
    """The message for RESULT; ACTION is "commit" (the staged changes), "push" (the commits being
    pushed, checked on the pusher's machine) or "receive" (the same, rejected by the server's
    pre-receive hook; BYPASS: the server lets a pusher bypass it with a reason)."""
    return message(present(result, options), options, action=action, bypass=bypass, via=via)


def message(view: View, options: Options, *, action: str = "commit", bypass: bool = False,
            via: Via | None = None) -> str:
    """VIA: how the hook was installed (default: told by the environment), for the commands offered."""
    if via is None:
        via = installed_as(os.environ)
    def style(text: str, code: str) -> str:
        return _paint(text, code, options.color)

    width = max(60, options.width)
    findings = view.findings
    count, places = _tally(findings)
    what = "the staged changes" if action == "commit" else "the commits being pushed"
    where_else = f" (found in {places} places)" if places != count else ""
    verdict = "push rejected by the server" if action == "receive" else f"{action} blocked"
    # Headings wrap between words (a terminal would break them mid-word at its edge).
    title = f"keysentry: {verdict}: {count} secret{'s' * (count != 1)} in {what}{where_else}"
    out = [style(line, "1;31") for line in textwrap.wrap(title, width, subsequent_indent="   ",
                                                        break_on_hyphens=False, break_long_words=False)]
    out.append("")

    def para(label: str, text: str) -> None:
        lead = f"   {label:<10}"
        out.extend(textwrap.wrap(text, width, initial_indent=lead, subsequent_indent=" " * len(lead),
                                 break_on_hyphens=False, break_long_words=False) or [lead.rstrip()])

    accept = _accept(via, action)
    for n, f in enumerate(findings, 1):
        # Most urgent first in the reader's eye: the severity, then where the secret sits.
        where_kind = "" if f.context == "generic" else f", {f.context.replace('-', ' ')}"
        # Wrapped as plain words (the tag kept whole: a no-break space), then painted.
        tag = f"[{f.severity}{where_kind}]".replace(" ", "\xa0")
        heading = textwrap.wrap(f"{n}. {f.rule_id}  {f.message}  {tag}", width, subsequent_indent="   ",
                                break_on_hyphens=False, break_long_words=False)
        heading = [line.replace("\xa0", " ") for line in heading]
        heading[0] = heading[0].replace(f.rule_id, style(f.rule_id, "1"), 1)
        heading[-1] = heading[-1].replace(f"[{f.severity}", f"[{style(f.severity, _SEVERITY_COLOUR.get(f.severity, '1'))}", 1)
        out.extend(heading)
        # File names are anybody's: no terminal sequences, no forged lines, no key in full.
        where = f.name + (f":{f.line}:{f.column}" if f.line else " (whole file)")
        para("where", where + (f" in commit {f.commit[:12]}" if f.commit else ""))
        if f.moved_to:  # a rename or copy among the pushed commits: the path the file has now
            para("moved", f"also carried to {moved_words(f.moved_to, printable)} by a rename or copy: after the "
                          "fix, make sure no commit being pushed holds it at that path either")
        if not f.rule.whole_file:
            para("secret", style(printable(f.secret), "33"))
        if f.verification is not None:  # --verify: only when a pre-commit config adds it
            para("verified", f"{f.verification.status} — {printable(f.verification.reason)}")
        if f.unstaged_fix:
            para("staged", "fixed in the work tree only, and a commit records the staged version: "
                           "the staged version still holds it: `git add` your fix")
        if f.place != "file":  # a commit or tag message or a note: no file, no line of code to change
            para("fix", _metadata_fix(f))
            para("rotate", _rotate(f))
            para("allow", f"not a real secret? {accept}" if action != "receive" else
                 f"not a real secret? ask the server's administrators to add its fingerprint {f.fingerprint} "
                 "to the server's baseline")
            out.append("")
            continue
        advice, code = _fix(f)
        para("fix", advice)
        if code:
            out.append(" " * 17 + style(code, "1"))
        if action == "commit":
            from scanner.fix.advice import next_step  # here: a clean commit's hook never loads the fixers' tables

            autofix = next_step(f.path, f.rule_id, f.context)
            if autofix:
                para("autofix", f"`keysentry fix` {autofix}; {_autofix(via)} makes the change")
        if action != "commit" and f.commit:
            short = f.commit[:12]
            state = "not pushed yet" if action == "push" else "refused by the server"
            # A file taken out of git but kept on disk (a .env) stops the rebase, which would check the
            # old commit's copy out over it; the commit that took it out then has nothing left to do.
            aside = ""
            if _file_rule(f) is not None:
                aside = (f"if {f.name} is no longer committed but still on disk, first move it aside "
                         f"(`mv {f.word} {f.word}.aside`; the rebase would check the old one out over it), and "
                         f"back after; ")
            para("history", f"the key is in commit {short}, which is {state}, so changing the file is "
                            f"not enough: fix that commit itself, with `git commit --amend` if it is the last one, "
                            f"else {aside}`git rebase -i --empty=drop {short}^` (mark it `edit`, fix, "
                            f"`git commit --amend`, `git rebase --continue`; a later commit that only took the key "
                            f"out is then empty and dropped), so that none of the commits being pushed holds it")
        if f.commit is None and f.path.startswith("refs/"):
            ref = f.name.split(":", 1)[0]
            para("tag", f"{ref} points at this content directly, with no commit: changing a file is not "
                        f"enough; delete that ref here (`git tag -d {ref.removeprefix('refs/tags/')}` for a tag, "
                        f"`git update-ref -d {ref}` otherwise) and point it at content without the key")
        para("rotate", _rotate(f))
        whole = _file_rule(f)
        if action == "receive":
            # The server's policy is its administrators': nothing in a push can change it.
            para("allow", f"not a real secret? ask the server's administrators to add its fingerprint "
                          f"{f.fingerprint} to the server's baseline; nothing in a push (a config, a baseline, "
                          f"a comment) changes the server's policy")
        elif whole is None:
            para("allow", f"not a real secret? put a `keysentry:allow` comment on line {f.line}, or {accept}")
        else:
            # The file's own finding stays whatever its lines say: only its path can be let through.
            para("allow", f"not a real secret? a comment cannot let {whole.kind} through: list it under "
                          f"`exclude` in the config ([tool.keysentry] in pyproject.toml, or .keysentry.toml), or "
                          f"{accept}")
        out.append("")

    if action == "receive":
        out.append("Fix the commits as above, then push again.")
        if bypass:
            out += ["To push anyway, in an emergency only (a pushed key stays leaked), give a reason; the server",
                    "records it with your name and these findings in its audit log:",
                    '    git push -o keysentry.bypass="why this cannot wait" ...']
        else:
            out.append("This server allows no bypass: remove the key from the commits being pushed, as above.")
        return "\n".join(out) + "\n"
    hook = "keysentry" if action == "commit" else "keysentry-push"
    verb = "git commit" if action == "commit" else "git push"
    skip, no_verify = f"SKIP={hook} {verb} ...", f"{verb} --no-verify ..."
    pad = max(len(skip), len(no_verify)) + 3
    out.append(f"To {action} anyway, in an emergency only (a pushed key stays leaked):")
    if via == "framework":  # SKIP= is the framework's; a plain hook never reads it
        out.append(f"    {skip:<{pad}}(skips only keysentry)")
    out.append(f"    {no_verify:<{pad}}(skips every hook)")
    return "\n".join(out) + "\n"
