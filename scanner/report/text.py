"""The human report, made with rich: grouped by file, readable in a colourless CI log."""
from __future__ import annotations

import io
import textwrap
from collections import Counter, defaultdict

from rich.console import Console
from rich.markup import escape

from scanner.report import Options, display_path, redact
from scanner.rules import RULES_BY_ID
from scanner.models import Finding
from scanner.scan import Result


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} B"  # pragma: no cover


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' * (n != 1)}"


def _in_head(f: Finding) -> str:
    if not f.in_head:
        return "no longer in HEAD, but still in the history: rotate it"
    moved = [display_path(p) for p in f.head_paths if p != f.path]
    return f"still in HEAD at {', '.join(moved)}" if moved else "still in HEAD"


def render(result: Result, options: Options) -> str:
    if result.mode == "staged" and result.findings:
        # What a pre-commit hook prints: per finding, what to do; then, once, how to bypass.
        from scanner.report.blocked import render as render_blocked

        return render_blocked(result, options, action="commit")
    buffer = io.StringIO()
    # A pseudo-terminal that was never sized (`docker run -t`, some CI runners) reports 0 columns.
    width = options.width if options.width > 0 else 100
    console = Console(file=buffer, force_terminal=options.color, no_color=not options.color,
                      width=width, highlight=False, soft_wrap=False, emoji=False)
    by_path: dict[str, list] = defaultdict(list)
    for f in result.findings:
        by_path[f.path].append(f)
    for path, findings in by_path.items():
        console.print(f"[bold]{escape(display_path(path))}[/bold]", soft_wrap=True)
        for f in findings:
            rule = RULES_BY_ID[f.rule_id]
            secret = f.secret if options.show_secrets else redact(f.secret)
            where = f"{display_path(f.path)}:{f.line}:{f.column}" if f.line else f"{display_path(f.path)} (whole file)"
            console.print(f"  [red]{f.rule_id}[/red]  {escape(rule.description)}", soft_wrap=True)
            # Never broken across lines, so `grep path:line` and editors' jump-to-location work.
            console.print(f"    {escape(where)}  secret [yellow]{escape(secret)}[/yellow]", soft_wrap=True)
            if f.commit:
                console.print(f"    introduced in {f.commit[:12]} by {escape(f.author or '?')} on {f.date}",
                              soft_wrap=True)
                if f.in_head is not None:
                    console.print(f"    {escape(_in_head(f))}", soft_wrap=True)
            # Wrapped here rather than by rich, which pads every line with trailing spaces.
            fix = textwrap.wrap(rule.remediation, max(40, width - 9))
            console.print(f"    [dim]fix:[/dim] {escape(fix[0])}", soft_wrap=True)
            for line in fix[1:]:
                console.print(f"         {escape(line)}", soft_wrap=True)
        console.print()
    for note in result.notes:
        console.print(f"[yellow]note:[/yellow] {escape(note)}", soft_wrap=True)
    stats = result.stats
    counts = Counter(f.rule_id for f in result.findings)
    what = (_count(stats.files, "file") if result.mode in ("worktree", "stdin")
            else f"{_count(stats.blobs, 'blob')} in {_count(stats.commits, 'commit')}")
    summary = f"Scanned {what} ({_size(stats.bytes)}) in {stats.seconds:.2f}s: "
    if counts:
        summary += f"[bold red]{len(result.findings)} finding{'s' * (len(result.findings) != 1)}[/bold red] ("
        summary += ", ".join(f"{rule}: {n}" for rule, n in sorted(counts.items())) + ")"
    else:
        summary += "[green]no secrets found[/green]"
    skipped = [(stats.skipped_large, "over the size limit"), (stats.skipped_lfs, "Git LFS pointers"),
               (stats.skipped_symlinks, "symlinks"), (stats.unreadable, "unreadable"),
               (stats.allowed, "allowed inline or by config"), (stats.baselined, "in the baseline"),
               (stats.excluded, "excluded by config")]
    extra = ", ".join(f"{n} {label}" for n, label in skipped if n)
    console.print(summary + (f"; skipped: {extra}" if extra else ""), soft_wrap=True)
    return buffer.getvalue()
