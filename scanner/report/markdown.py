"""Markdown for pull-request comments and CI job summaries ($GITHUB_STEP_SUMMARY): the counts first,
then a table of findings with their secrets redacted, then each rule's fix once.

Every number comes from summary.summarize(), which the text and HTML reports use too."""
from __future__ import annotations

import html
import re

from scanner.report import (CAUSE_NAMES, Shown, View, decoded_words, display_path, exposure_words, moved_words,
                           printable, suppressed_summary)
from scanner.report.summary import Summary, summarize

# GitHub refuses a job summary over 1 MiB; a 40,000-finding audit would pass that, and so would 500
# rows of long paths (4 MB). The table stops at MAX_ROWS or where the whole page would pass
# MAX_BYTES, whichever comes first; the counts above it stay complete, and it says how many rows
# it left out.
MAX_ROWS = 500
MAX_BYTES = 1_000_000  # under 1 MiB (1,048,576), with room for a line a CI step appends

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
        if view.mode == "range" and not view.stats.commits:
            return "## keysentry: the range holds no commits"
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
    if f.reachable is False:
        where += " (not reachable from any ref)"
    if f.moved_to:  # history: the later paths a rename or copy carried it to
        where += f", moved to {moved_words(f.moved_to, lambda p: printable(display_path(p)))}"
    row = [f.severity, f"`{f.rule_id}`", cell(where), cell(f.secret + decoded_words(f))]
    if history:
        row += [f"`{f.commit[:12]}`" if f.commit else "", "yes" if f.in_head else "no"]
    if verified:  # --verify ran: the status, and what a live key exposes
        v = f.verification
        extra = exposure_words(v) if v is not None else ""
        row.append("" if v is None else cell(f"{v.status}" + (f" ({extra})" if extra else "")))
    return "| " + " | ".join(row) + " |"


def _table(view: View, max_rows: int, max_bytes: int) -> list[str]:
    """The findings' table: at most MAX_ROWS rows, and at most MAX_BYTES bytes of UTF-8 with the
    line saying how many were left out."""
    history = view.mode in ("history", "range")
    verified = any(f.verification is not None for f in view.findings)
    header = ["Severity", "Rule", "Location", "Secret"] + (["Commit", "In HEAD"] if history else []) \
        + (["Verified"] if verified else [])
    lines = ["### Findings", ""]
    head = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    # Room kept for the closing line, whose count has at most as many digits as the findings'.
    used = _size(lines) + _size(head) + len(_left_out(len(view.findings), 0).encode()) + 2
    rows: list[str] = []
    for f in view.findings[:max(max_rows, 0)]:
        row = _row(f, history, verified)
        used += len(row.encode("utf-8", "surrogateescape")) + 1
        if used > max_bytes:
            break
        rows.append(row)
    if rows:
        lines += head + rows
    left = len(view.findings) - len(rows)
    if left > 0:
        lines += ["", _left_out(left, len(view.findings) - left)]
    return lines


def _left_out(left: int, listed: int) -> str:
    return (f"…and {_plural(left, 'more finding')}"
            + (" (the table lists the first " + str(listed) + ")" if listed else "")
            + f": a job summary stays under {MAX_BYTES // 1000:,} kB; see the SARIF or JSON report for all of them.")


def _size(lines: list[str]) -> int:
    return sum(len(line.encode("utf-8", "surrogateescape")) + 1 for line in lines)


def _fixes(summary: Summary) -> list[str]:
    lines = ["### How to fix", ""]
    lines += [f"- **`{r.rule_id}`** ({r.description}): {cell(r.remediation)}" for r in summary.by_rule]
    return lines


def _suppressed(view: View, max_rows: int, max_bytes: int) -> list[str]:
    """--show-suppressed: the suppressed findings' table, within MAX_ROWS rows and MAX_BYTES bytes."""
    if not view.suppressed:
        return []
    lines = ["", "| Suppressed by | Rule | Where | Secret |", "| --- | --- | --- | --- |"]
    used = _size(lines)
    listed = 0
    for f in view.suppressed[:max(max_rows, 0)]:
        row = (f"| {cell(CAUSE_NAMES.get(f.suppressed, f.suppressed))} | `{f.rule_id}` | "
               f"{cell(f.name)}:{f.line} | `{cell(f.secret)}` |")
        used += len(row.encode("utf-8", "surrogateescape")) + 1
        if used > max_bytes:
            break
        lines.append(row)
        listed += 1
    if listed < len(view.suppressed):
        lines += ["", f"…and {_plural(len(view.suppressed) - listed, 'more suppressed finding')}."]
    return lines


def render(view: View, max_rows: int = MAX_ROWS, max_bytes: int = MAX_BYTES) -> str:
    """MAX_ROWS and MAX_BYTES: how many findings the table lists and how large the page may grow
    (an audit shares both among its repositories)."""
    summary = summarize(view)
    top = [_heading(view, summary), "", _scanned(view)]
    tail: list[str] = []
    if summary.findings:
        top += ["", *_counts(view, summary), ""]
        tail += ["", *_fixes(summary)]
    hidden = suppressed_summary(view.stats)
    if hidden:
        tail += ["", f"**{hidden[:1].upper() + hidden[1:]}**"]
    tail += _suppressed(view, max_rows, max_bytes // 4)  # at most a quarter of the page
    if view.notes:
        tail += ["", *(f"> **note:** {cell(note)}" for note in view.notes)]
    table = _table(view, max_rows, max_bytes - _size(top) - _size(tail)) if summary.findings else []
    return "\n".join(top + table + tail).rstrip("\n") + "\n"
