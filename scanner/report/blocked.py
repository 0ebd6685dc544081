"""The message a blocked commit or push prints: what was found, and what to do about each finding.

Plain text with optional ANSI bold/colour, so it reads the same in a terminal, a GUI git client's
log window and a CI log; secrets are redacted unless the user asked for them.
"""
from __future__ import annotations

import posixpath
import textwrap
from collections.abc import Sequence

from scanner.models import Finding
from scanner.report import NameMasker, Options, display_path, printable, redact, shell_word
from scanner.rules import RULES_BY_ID
from scanner.rules.dotenv import DOTENV_FILE
from scanner.scan import Result

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
_SHELL_RC = (".bashrc", ".bash_profile", ".profile", ".zshrc", ".zprofile", ".zshenv", ".kshrc")

# The variable to read a secret from instead of the literal, by rule id (default GEMINI_API_KEY).
_VARIABLE = {"google-oauth-client-secret": "GOOGLE_CLIENT_SECRET"}
# What to rotate and where, by rule id; other rules fall back on their own remediation text.
_ROTATE = {
    "google-api-key": "delete it in Google AI Studio (API keys) or the Cloud console (APIs & Services > "
                      "Credentials) and create a new, restricted key",
    "google-gemini-key": "delete it in Google AI Studio and create a new one",
    "hardcoded-api-key": "rotate it with its provider (a Google key: Google AI Studio or the Cloud console "
                         "Credentials page)",
    "google-oauth-client-secret": "reset the client secret in the Cloud console (APIs & Services > Credentials)",
    "google-oauth-token": "revoke it (https://myaccount.google.com/permissions or the OAuth revoke endpoint)",
    "gcp-service-account-key": "delete the key in the Cloud console (IAM > Service accounts > Keys), or revoke "
                               "the user's refresh token",
    "dotenv-file": "rotate every secret the file holds",
}


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


def _fix(f: Finding, path: str, word: str) -> tuple[str, str | None]:
    """How to get the secret out of the file: a sentence, and the line of code to use, if obvious.
    PATH is the file's name as it may be shown (escaped, keys in it redacted), WORD as a shell word."""
    if _in_dotenv(f):
        return (f"keep {path} out of git: `git rm --cached {word}`, add it to .gitignore and commit a "
                f"template with empty values (e.g. .env.example) instead"), None
    if f.rule_id == "gcp-service-account-key":
        return ("remove the key file from the commit; point GOOGLE_APPLICATION_CREDENTIALS at a file outside "
                "the repository, or better, use an attached service account or Workload Identity Federation"), None
    if f.rule_id == "google-oauth-token":
        return "do not store tokens: obtain them at run time through a Google auth library", None
    var = _VARIABLE.get(f.rule_id, "GEMINI_API_KEY")
    also = " (or GOOGLE_API_KEY)" if var == "GEMINI_API_KEY" else ""
    # A notebook's key is often in a cell's output (printed by the code), where no code change helps.
    notebook = (f"if it is in a cell's output, clear the outputs (`jupyter nbconvert --clear-output --inplace "
                f"{word}`, or Edit > Clear Outputs of All Cells) and rotate the key; if it is in a cell's code, "
                if f.path.lower().endswith(".ipynb") else "")
    lookup = env_lookup(f.path, var)
    if lookup is None:
        return f"{notebook}remove the literal and read the key from the environment variable {var}{also}, set " \
               f"outside the repository", None
    language, expression = lookup
    return f"{notebook}replace the literal with this ({language}) and set {var}{also} outside the repository:", \
        expression


def _in_dotenv(f: Finding) -> bool:
    """The finding is a committed .env file, or a secret in one (a template's secret is code-like)."""
    if f.rule_id == DOTENV_FILE.id:
        return True
    return bool(DOTENV_FILE.path.search(f.path)) and not DOTENV_FILE.template.search(f.path)


def _rotate(f: Finding) -> str:
    how = _ROTATE.get(f.rule_id)
    if how is None:
        rule = RULES_BY_ID.get(f.rule_id)
        return f"if it was ever pushed or shared, treat it as leaked: {rule.remediation if rule else 'rotate it'}"
    return f"if it was ever pushed or shared, it is leaked: {how}"


def _paint(text: str, code: str, on: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if on else text


def render_clean(result: Result) -> str:
    """What a passing hook prints: one line, plain text (the hook path never loads rich)."""
    if not result.stats.files and not result.stats.blobs:
        return "keysentry: nothing staged: no changes to scan\n"
    files = result.stats.files
    return (f"keysentry: no secrets in {files} staged file{'s' * (files != 1)} "
            f"({result.stats.bytes} bytes, {result.stats.seconds:.2f}s)\n")


def _tally(findings: Sequence[Finding]) -> tuple[int, int]:
    """(distinct secrets, places holding them): one key in two files and in its .env is one secret
    in three places, not four; a .env file's own finding counts only when nothing else is in it."""
    in_lines = [f for f in findings if f.line]
    paths = {f.path for f in in_lines}
    files = {f.path for f in findings if not f.line and f.path not in paths}
    return len({f.secret for f in in_lines}) + len(files), len(in_lines) + len(files)


def render(result: Result, options: Options, *, action: str = "commit") -> str:
    """ACTION is "commit" (the staged changes) or "push" (the commits being pushed)."""
    def style(text: str, code: str) -> str:
        return _paint(text, code, options.color)

    mask = NameMasker(result.findings, options.show_secrets)

    def name(path: str) -> str:
        # File names are anybody's: no terminal sequences, no forged lines, no key in full.
        return printable(mask(display_path(path)))

    width = max(60, options.width)
    findings: Sequence[Finding] = result.findings
    count, places = _tally(findings)
    what = "the staged changes" if action == "commit" else "the commits being pushed"
    where_else = f" (found in {places} places)" if places != count else ""
    out = [style(f"keysentry: {action} blocked: {count} secret{'s' * (count != 1)} in {what}{where_else}", "1;31"),
           ""]

    def para(label: str, text: str) -> None:
        lead = f"   {label:<10}"
        out.extend(textwrap.wrap(text, width, initial_indent=lead, subsequent_indent=" " * len(lead),
                                 break_on_hyphens=False, break_long_words=False) or [lead.rstrip()])

    baseline = "keysentry baseline" if action == "commit" else "keysentry baseline --history"
    for n, f in enumerate(findings, 1):
        rule = RULES_BY_ID.get(f.rule_id)
        description = f"  {rule.description}" if rule else ""
        out.append(f"{n}. {style(f.rule_id, '1')}{description}")
        shown = name(f.path)
        where = shown + (f":{f.line}:{f.column}" if f.line else " (whole file)")
        para("where", where + (f" in commit {f.commit[:12]}" if f.commit else ""))
        if f.line:
            para("secret", style(printable(f.secret if options.show_secrets else redact(f.secret)), "33"))
        if f.unstaged_fix:
            para("staged", "fixed in the work tree only, and a commit records the staged version: "
                           "the staged version still holds it: `git add` your fix")
        advice, code = _fix(f, shown, shell_word(mask(f.path)))
        para("fix", advice)
        if code:
            out.append(" " * 17 + style(code, "1"))
        if action == "push" and f.commit:
            short = f.commit[:12]
            para("history", f"the key is in commit {short}, which is not pushed yet, so changing the file is "
                            f"not enough: fix that commit itself, with `git commit --amend` if it is the last one, "
                            f"else `git rebase -i {short}^` (mark it `edit`, fix, `git commit --amend`, "
                            f"`git rebase --continue`), so that none of the commits being pushed holds it")
        para("rotate", _rotate(f))
        if f.line and not _in_dotenv(f):
            para("allow", f"not a real secret? put a `keysentry:allow` comment on line {f.line}, or accept it "
                          f"with `{baseline}` and commit {BASELINE} (pre-commit framework: also add "
                          f"`args: [--baseline, {BASELINE}]` to the hook)")
        else:
            # The file's own finding stays whatever its lines say: only its path can be let through.
            para("allow", f"not a real secret? a comment cannot let a .env file through: list it under "
                          f"`exclude` in the config ([tool.keysentry] in pyproject.toml, or .keysentry.toml), or "
                          f"accept it with `{baseline}` and commit {BASELINE} (pre-commit framework: also add "
                          f"`args: [--baseline, {BASELINE}]` to the hook)")
        out.append("")

    hook = "keysentry" if action == "commit" else "keysentry-push"
    verb = "git commit" if action == "commit" else "git push"
    skip, no_verify = f"SKIP={hook} {verb} ...", f"{verb} --no-verify ..."
    pad = max(len(skip), len(no_verify)) + 3
    out += [
        f"To {action} anyway, in an emergency only (a pushed key stays leaked):",
        f"    {skip:<{pad}}(hooks run by the pre-commit framework)",
        f"    {no_verify:<{pad}}(skips every hook)",
    ]
    return "\n".join(out) + "\n"
