"""The human report, made with rich: grouped by file, readable in a colourless CI log."""
from __future__ import annotations

import io
from collections import Counter, defaultdict

from rich.console import Console
from rich.padding import Padding
from rich.markup import escape

from scanner.report import Options, display_path, redact
from scanner.rules import RULES_BY_ID
from scanner.scan import Result


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} B"  # pragma: no cover


def render(result: Result, options: Options) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=options.color, no_color=not options.color,
                      width=options.width, highlight=False, soft_wrap=False, emoji=False)
    by_path: dict[str, list] = defaultdict(list)
    for f in result.findings:
        by_path[f.path].append(f)
    for path, findings in by_path.items():
        console.print(f"[bold]{escape(display_path(path))}[/bold]")
        for f in findings:
            rule = RULES_BY_ID[f.rule_id]
            secret = f.secret if options.show_secrets else redact(f.secret)
            where = f"{display_path(f.path)}:{f.line}:{f.column}" if f.line else f"{display_path(f.path)} (whole file)"
            console.print(f"  [red]{f.rule_id}[/red]  {escape(rule.description)}")
            console.print(f"    {escape(where)}  secret [yellow]{escape(secret)}[/yellow]")
            if f.commit:
                console.print(f"    introduced in {f.commit[:12]} by {escape(f.author or '?')} on {f.date}")
            console.print(Padding(f"[dim]fix:[/dim] {escape(rule.remediation)}", (0, 0, 0, 4)))
        console.print()
    for note in result.notes:
        console.print(f"[yellow]note:[/yellow] {escape(note)}")
    stats = result.stats
    counts = Counter(f.rule_id for f in result.findings)
    what = f"{stats.files} files" if result.mode in ("worktree", "stdin") else f"{stats.blobs} blobs in {stats.commits} commits"
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
    console.print(summary + (f"; skipped: {extra}" if extra else ""))
    return buffer.getvalue()
