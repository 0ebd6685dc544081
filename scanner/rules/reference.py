"""The rules page of the documentation (docs/rules.md), made from the rule registry itself: each
rule's id, what it finds, its severity in each context and its advice. `python -m
scanner.rules.reference docs/rules.md` writes it; a test fails when the page and the registry
differ, so the page cannot drift from what the scanner does."""
from __future__ import annotations

import sys
from pathlib import Path

from scanner.context import CONTEXTS, severity
from scanner.rules import ALL_RULES, FileRule, Rule

_INTRO = """\
# Rules

<!-- Generated from the rule registry by `python -m scanner.rules.reference docs/rules.md`;
tests/test_docs.py fails when this page and the registry differ. Edit the rules, not this page. -->

Every finding names one of these rule ids; reports, baselines and the config's `disable` list
use them. A secret a specific rule recognises is reported once, under that rule, even where it is
also assigned to an api-key-like name; a key inside a committed `.env` file is reported under its
own rule as well as the file's `dotenv-file` finding. `keysentry rules` lists them, with the
matching engine in use.

Each finding also carries a **context** (where the secret sits, judged offline from the file and
its surroundings) and a **severity** (how urgent the fix is). A rule has a default severity; a
context may raise or lower it, as the table of each rule says.
"""


def _severity_by_context(rule: Rule | FileRule) -> list[tuple[str, str]]:
    """(context, the severity a finding of RULE has there): as scanner.context.severity decides."""
    return [(name, severity(rule.id, rule.severity, name)) for name in CONTEXTS]


def _one_line(text: str) -> str:
    return " ".join(text.split())


def markdown() -> str:
    out = [_INTRO]
    out.append("| rule id | finds | default severity |\n| --- | --- | --- |")
    out += [f"| [`{r.id}`](#{r.id}) | {_one_line(r.description)} | {r.severity} |" for r in ALL_RULES]
    for rule in ALL_RULES:
        out.append(f"\n## {rule.id}\n")
        out.append(f"{_one_line(rule.description)}.\n")
        kind = "a whole file" if isinstance(rule, FileRule) else "a secret in the text"
        out.append(f"- Finds: {kind}; SARIF level `{rule.level}`, precision `{rule.precision}`.")
        out.append(f"- Default severity: `{rule.severity}`.")
        if isinstance(rule, Rule) and rule.env_vars and not rule.fix:  # the advice moves it there
            out.append(f"- Read the key from: {', '.join(f'`{v}`' for v in rule.env_vars)}.")
        out.append(f"- Remediation: {_one_line(rule.remediation)}")
        if rule.rotate:
            out.append(f"- Rotate: {_one_line(rule.rotate)}")
        if rule.fix:
            out.append(f"- Fix: {_one_line(rule.fix.replace('{path}', 'FILE').replace('{word}', 'FILE'))}")
        out.append("\n| context | severity here |\n| --- | --- |")
        out += [f"| `{name}` | {severity} |" for name, severity in _severity_by_context(rule)]
    out.append("\n## Contexts\n")
    out.append("Where a secret sits changes what fixes it: a key that ships with a web page or an app by "
               "design is restricted, not moved to an environment variable.\n")
    out.append("| context | advice of its own |\n| --- | --- |")
    out += [f"| `{name}` | {_one_line(ctx.fix) or 'the rule advice'} |" for name, ctx in CONTEXTS.items()]
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m scanner.rules.reference docs/rules.md", file=sys.stderr)
        return 2
    Path(argv[0]).write_text(markdown(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
