"""Markdown for pull-request comments and CI job summaries ($GITHUB_STEP_SUMMARY): the counts first,
then a table of findings with their secrets redacted, then each rule's fix once.

Every number comes from summary.summarize(), which the text and HTML reports use too."""
from __future__ import annotations

import html
import re

from scanner.report import CAUSE_NAMES, Shown, View, exposure_words, printable, suppressed_summary
from scanner.report.summary import Summary, summarize

# GitHub refuses a job summary over 1 MiB; a 40,000-finding audit would pass that. The counts above
# the table stay complete, and the table says how many rows it left out.
MAX_ROWS = 500

_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+!|~>-])")


def cell(text: str) -> str:
    """TEXT as plain text inside a table cell: no markup, no HTML, no line break, no `|` that would
    open another column (a file can be named `a|b` or `<img src=x>`)."""
    escaped = html.escape(printable(text), quote=False)
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", escaped)


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' * (n != 1)}"


def _heading(view: View, summary: Summary) -> str:
    if not summary.findings:
        return "## keysentry: no secrets found"
    return (f"## keysentry: {_plural(summary.findings, 'finding')} "
            f"({_plural(summary.secrets, 'distinct secret')})")


def _scanned(view: View) -> str:
    stats = view.stats
    if view.mode in ("history", "range"):
        what = f"{_plural(stats.blobs, 'blob')} in {_plural(stats.commits, 'commit')}"
    else:
        what = _plural(stats.files, "file")
    return f"Mode `{view.mode}`: scanned {what} in {stats.seconds:.1f}s."


def _counts(view: View, summary: Summary) -> list[str]:
    lines = ["| Severity | Findings |", "| --- | ---: |"]
    lines += [f"| {severity} | {n} |" for severity, n in summary.by_severity if n]
    lines += ["", "| Rule | Findings | Distinct secrets |", "| --- | ---: | ---: |"]
    lines += [f"| `{r.rule_id}` | {r.findings} | {r.secrets} |" for r in summary.by_rule]
    if view.mode in ("history", "range"):
        lines += ["", f"**Still in HEAD:** {summary.in_head} · **history only:** {summary.history_only} "
                  "(removed from the files, but readable in every clone: rotate those keys too)"]
    if summary.by_verification:
        lines += ["", "**Verified:** " + ", ".join(f"{status} {n}" for status, n in summary.by_verification)]
    return lines


def _row(f: Shown, history: bool, verified: bool) -> str:
    where = f"{f.name}:{f.line}" if f.line else f"{f.name} (whole file)"
    row = [f.severity, f"`{f.rule_id}`", cell(where), cell(f.secret)]
    if history:
        row += [f"`{f.commit[:12]}`" if f.commit else "", "yes" if f.in_head else "no"]
    if verified:  # --verify ran: the status, and what a live key exposes
        v = f.verification
        extra = exposure_words(v) if v is not None else ""
        row.append("" if v is None else cell(f"{v.status}" + (f" ({extra})" if extra else "")))
    return "| " + " | ".join(row) + " |"


def _table(view: View, max_rows: int) -> list[str]:
    history = view.mode in ("history", "range")
    verified = any(f.verification is not None for f in view.findings)
    header = ["Severity", "Rule", "Location", "Secret"] + (["Commit", "In HEAD"] if history else []) \
        + (["Verified"] if verified else [])
    lines = ["### Findings", ""]
    if max_rows > 0:
        lines += ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
        lines += [_row(f, history, verified) for f in view.findings[:max_rows]]
    left = len(view.findings) - max(max_rows, 0)
    if left > 0:
        lines += ["", f"…and {_plural(left, 'more finding')}: see the SARIF or JSON report for all of them."]
    return lines


def _fixes(summary: Summary) -> list[str]:
    lines = ["### How to fix", ""]
    lines += [f"- **`{r.rule_id}`** ({r.description}): {cell(r.remediation)}" for r in summary.by_rule]
    return lines


def render(view: View, max_rows: int = MAX_ROWS) -> str:
    """MAX_ROWS: how many findings the table lists (an audit shares MAX_ROWS among its repositories)."""
    summary = summarize(view)
    lines = [_heading(view, summary), "", _scanned(view)]
    if summary.findings:
        lines += ["", *_counts(view, summary), "", *_table(view, max_rows), "", *_fixes(summary)]
    hidden = suppressed_summary(view.stats)
    if hidden:
        lines += ["", f"**{hidden[:1].upper() + hidden[1:]}**"]
    if view.suppressed:  # --show-suppressed
        lines += ["", "| Suppressed by | Rule | Where | Secret |", "| --- | --- | --- | --- |"]
        lines += [f"| {cell(CAUSE_NAMES.get(f.suppressed, f.suppressed))} | `{f.rule_id}` | "
                  f"{cell(f.name)}:{f.line} | `{cell(f.secret)}` |" for f in view.suppressed[:max_rows]]
    if view.notes:
        lines += ["", *(f"> **note:** {cell(note)}" for note in view.notes)]
    return "\n".join(lines).rstrip("\n") + "\n"
