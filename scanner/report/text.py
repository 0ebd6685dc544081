"""The human report, made with rich: grouped by file, readable in a colourless CI log."""
from __future__ import annotations

import io
import shlex
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


def _print_findings(console: Console, findings: list[Finding], options: Options, width: int) -> None:
    by_path: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        by_path[f.path].append(f)
    for path, group in by_path.items():
        console.print(f"[bold]{escape(display_path(path))}[/bold]", soft_wrap=True)
        for f in group:
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


def _print_purge(console: Console, past: list[Finding]) -> None:
    """The history rewrite for secrets that are only in history (needs git-filter-repo)."""
    files = sorted({display_path(f.path) for f in past if f.rule_id == "dotenv-file"})
    console.print("To remove them from history (rewrites every commit: coordinate with everyone who has a clone,", soft_wrap=True)
    console.print("then force-push all branches and tags):", soft_wrap=True)
    if any(f.rule_id != "dotenv-file" for f in past):
        console.print("  # one line per secret, as  <secret>==>REMOVED  (rerun with --show-secrets to list them);", soft_wrap=True)
        console.print("  # keep this file outside the repository", soft_wrap=True)
        console.print("  git filter-repo --replace-text ../keysentry-secrets.txt", soft_wrap=True)
    if files:
        paths = " ".join(f"--path {shlex.quote(p)}" for p in files)
        console.print(f"  git filter-repo --invert-paths {escape(paths)}", soft_wrap=True)
    console.print()


def render(result: Result, options: Options) -> str:
    buffer = io.StringIO()
    # A pseudo-terminal that was never sized (`docker run -t`, some CI runners) reports 0 columns.
    width = options.width if options.width > 0 else 100
    console = Console(file=buffer, force_terminal=options.color, no_color=not options.color,
                      width=width, highlight=False, soft_wrap=False, emoji=False)
    if result.mode in ("history", "range"):
        in_head = [f for f in result.findings if f.in_head]
        past = [f for f in result.findings if not f.in_head]
        if in_head:
            console.print("[bold]Still in HEAD[/bold] — remove them from the code, then rotate each key:", soft_wrap=True)
            console.print()
            _print_findings(console, in_head, options, width)
        if past:
            console.print("[bold]Only in history[/bold] — gone from HEAD but readable in every clone: rotate "
                          "each key; if the repository was ever public, also rewrite its history.", soft_wrap=True)
            console.print()
            _print_findings(console, past, options, width)
            _print_purge(console, past)
    else:
        _print_findings(console, result.findings, options, width)
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
