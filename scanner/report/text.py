"""The human report: grouped by file, readable in a colourless CI log.

Lines are formatted here and joined once; rich only supplies the escape codes of the few styles, on
a terminal. Letting rich lay out every line made 40,000 findings take half a minute (it measured and
wrapped each one); this way the report costs about what the JSON one does.
"""
from __future__ import annotations

import re
import textwrap
from collections import Counter, defaultdict
from collections.abc import Iterable
from functools import lru_cache

from scanner.fix.advice import next_step
from scanner.models import MAX_MATCHES
from scanner.report import (
    CAUSE_NAMES,
    Options,
    Shown,
    View,
    decoded_words,
    display_path,
    exposure_words,
    moved_words,
    printable,
    shell_word,
    suppressed_summary,
)
from scanner.report.summary import summarize
from scanner.rules import FileRule

# How many of the files skipped for their size the summary names (Stats keeps the first few).
_NAMED_SKIPPED = 3
_REPLACE_TEXT = "../keysentry-secrets.txt"
_ESCAPES = re.compile(r"\x1b\[[0-9;]*m")  # the styles' codes, which take no column
# From this many findings on, the report opens with the counts: a 200-finding audit is read from
# the top, and its first screen should say how bad it is.
BIG_REPORT = 10


class _Style:
    """bold, red, … as escape codes from rich, or nothing at all when the report is not coloured."""

    def __init__(self, color: bool) -> None:
        self._codes: dict[str, tuple[str, str]] = {}
        self._color = color

    def __call__(self, text: str, style: str) -> str:
        if not self._color:
            return text
        codes = self._codes.get(style)
        if codes is None:
            from rich.color import ColorSystem
            from rich.style import Style

            before, _, after = Style.parse(style).render("\0", color_system=ColorSystem.STANDARD).partition("\0")
            codes = self._codes[style] = (before, after)
        return f"{codes[0]}{text}{codes[1]}"


def size_text(n: int) -> str:
    """N bytes as the summary (and the progress bar, so the two read alike) show them: 1024-based."""
    size = float(n)
    for unit in ("B", "KB", "MB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


_size = size_text


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' * (n != 1)}"


@lru_cache(maxsize=64)
def _wrapped(text: str, width: int) -> tuple[str, ...]:
    # Wrapped here rather than by a console, which pads every line with trailing spaces; once per
    # rule and width, not once per finding.
    return tuple(textwrap.wrap(text, max(40, width - 9), break_on_hyphens=False))


class _Writer:
    """The report's lines; names (paths, authors), already masked, are escaped on the way in."""

    def __init__(self, options: Options) -> None:
        self.lines: list[str] = []
        self.style = _Style(options.color)
        self.options = options
        self.width = options.width if options.width > 0 else 100  # an unsized pty reports 0 columns
        self.fixes_shown: set[str] = set()  # each fix text is printed once, at its first finding

    def name(self, text: str | None) -> str:
        """A path or an author as it is safe to show: control characters escaped."""
        return printable(display_path(text or ""))

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)

    def para(self, text: str, indent: str = "", more: str | None = None) -> None:
        """TEXT wrapped to the width at spaces only (a path or a command word is never cut, however
        long), its first line after INDENT and the others after MORE (default: INDENT). Widths are
        what shows: a style's escape codes take no column."""
        more = indent if more is None else more
        width = max(40, self.width)
        prefix, used = indent, len(indent)
        words: list[str] = []
        for word in text.split():
            visible = len(_ESCAPES.sub("", word))
            if words and used + 1 + visible > width:
                self.lines.append(prefix + " ".join(words))
                prefix, words, used = more, [], len(more)
            used += visible + (1 if words else 0)
            words.append(word)
        self.lines.append((prefix + " ".join(words)).rstrip())


# How many of a secret's other places the text names; the rest is a count ("and 664 more files").
_NAMED_PLACES = 3


def _elsewhere(out: _Writer, f: Shown) -> None:
    """One line for the other places holding the same secret (a tree's copies), the first few named."""
    if f.commit:
        return  # history: the places in HEAD are said by _in_head
    others = [loc for loc in f.locations if (loc.path, loc.line, loc.column) != (f.path, f.line, f.column)]
    if not others:
        return
    named = ", ".join(f"{out.name(loc.path)}:{loc.line}" for loc in others[:_NAMED_PLACES])
    rest = len({loc.path for loc in others[_NAMED_PLACES:]})
    more = f" and {_count(rest, 'more file')}" if rest else ""
    out.add(f"    also at {named}{more}")


def _in_head(out: _Writer, f: Shown) -> str:
    if not f.in_head:
        return "no longer in HEAD, but still in the history: rotate it"
    moved = [out.name(p) for p in f.head_elsewhere]
    return f"still in HEAD at {', '.join(moved)}" if moved else "still in HEAD"


def _notebook(out: _Writer, f: Shown) -> None:
    # The rule's fix (read the key from the environment) is for code; a key printed by a cell stays
    # in the notebook's JSON until its outputs are cleared.
    if f.path.lower().endswith(".ipynb"):
        out.add(f"    {out.style('notebook:', 'dim')} a key in a cell's output stays in the file until the "
                "outputs are cleared:",
                f"         jupyter nbconvert --clear-output --inplace {printable(f.word)}")


def _autofix(out: _Writer, f: Shown) -> None:
    """`keysentry fix` as the next step, where it fixes this finding."""
    if f.reachable is False:
        return  # no rewrite reaches it: the unreachable section says how to drop it from this copy
    if f.commit is None:
        step = next_step(f.path, f.rule_id, f.context)
        if step:
            out.para(f"{out.style('next:', 'dim')} `keysentry fix` {step}", "    ", "         ")
    elif f.in_head is False:
        out.para(f"{out.style('next:', 'dim')} `keysentry fix --history` plans removing it from the history",
                 "    ", "         ")


def _remedy(f: Shown) -> str:
    # `git rm --cached` fails on a file that HEAD no longer has: what is left to do is rotating.
    if isinstance(f.rule, FileRule) and f.in_head is False and f.rule.gone:
        return f.rule.gone
    return f.rule.remediation


def _findings(out: _Writer, findings: Iterable[Shown]) -> None:
    by_path: dict[str, list[Shown]] = defaultdict(list)
    for f in findings:
        by_path[f.path].append(f)
    style = out.style
    for path, group in by_path.items():
        shown = out.name(path)
        out.add(style(shown, "bold"))
        for f in group:
            # Never broken across lines, so `grep path:line` and editors' jump-to-location work.
            where = f"{shown}:{f.line}:{f.column}" if f.line else f"{shown} (whole file)"
            out.add(f"  {style(f.rule_id, 'red')}  {f.message}",
                    f"    {where}  secret {style(printable(f.secret), 'yellow')}{decoded_words(f)}")
            _elsewhere(out, f)
            if f.verification is not None:  # --verify: what Google said
                status = f.verification.status
                label = style(status, "bold red" if status == "live" else "bold")
                out.para(f"verified: {label} — {printable(f.verification.reason)}", "    ", "              ")
                extra = exposure_words(f.verification)
                if extra:
                    out.para(extra, "    ", "      ")
            if f.commit:
                out.para(f"introduced in {f.commit[:12]} by {out.name(f.author) or '?'} on {f.date}", "    ", "      ")
                if f.moved_to:
                    out.para(f"moved to {moved_words(f.moved_to, out.name)}", "    ", "      ")
                if f.in_head is not None and f.reachable is not False:
                    out.para(_in_head(out, f), "    ", "      ")
            if f.reachable is False:
                out.para(f"{out.style('unreachable:', 'bold')} no ref leads to it (a reflog entry or a dangling object)", "    ", "      ")
            remedy = _remedy(f)
            if remedy not in out.fixes_shown:
                out.fixes_shown.add(remedy)
                fix = _wrapped(remedy, out.width)
                out.add(f"    {style('fix:', 'dim')} {fix[0]}", *(f"         {line}" for line in fix[1:]))
            _notebook(out, f)
            _autofix(out, f)
        out.add("")


def _replace_line(secret: str) -> str:
    """The line of git filter-repo's --replace-text file that removes SECRET, printable: a secret
    holding control characters becomes a `regex:` line that spells them as \\xNN."""
    if printable(secret) == secret and not secret.startswith(("regex:", "glob:", "literal:")):
        return f"{secret}==>REMOVED"
    escaped = "".join(_regex_char(char) for char in secret)
    return f"regex:{escaped}==>REMOVED"


def _regex_char(char: str) -> str:
    if printable(char) != char:  # filter-repo's regexes are bytes: spell each byte
        return "".join(f"\\x{byte:02x}" for byte in char.encode("utf-8"))
    return re.escape(char)


def _purge(out: _Writer, past: list[Shown]) -> None:
    """How to rewrite the whole history (with git filter-repo) for secrets that are only in it:
    whole-file findings by removing their files, the others by replacing their secrets (which the
    view holds in full only under --show-secrets, the one case that prints them)."""
    # A secret inside an archive is compressed in it: only removing the archive takes it out.
    files = sorted({p for f in past for p in f.archives or ((f.path,) if f.rule.whole_file else ())})
    secrets = list({f.secret_id: f.secret for f in past if not f.rule.whole_file and not f.archives}.values())
    out.para("To remove them from history (this rewrites every commit: coordinate with everyone who has a "
             "clone; forks and old pull requests keep the old commits, so rotating comes first):")
    out.para("in a folder outside your work tree (git filter-repo rewrites only a fresh clone):", "  # ")
    out.add("  git clone --bare <url> keysentry-rewrite.git && cd keysentry-rewrite.git")
    command = "  git filter-repo"
    if secrets:
        if out.options.show_secrets:
            out.para(f"put these lines, exactly, in {_REPLACE_TEXT} (beside the clone, not in it):", "  # ")
            out.add(*(_replace_line(s) for s in secrets))
        else:
            out.para(f"{_REPLACE_TEXT} (beside the clone, not in it) takes one line per secret, "
                     "<secret>==>REMOVED; this report redacts them: rerun with --show-secrets to have it "
                     "print those lines", "  # ")
        command += f" --replace-text {_REPLACE_TEXT}"
        if any(f.place != "file" for f in past):  # a commit or tag message holds one
            command += f" --replace-message {_REPLACE_TEXT}"
    if files:
        command += " --invert-paths " + " ".join(f"--path {printable(shell_word(p))}" for p in files)
    out.add(command, "  git push --force --all <url> && git push --force --tags <url>")
    if secrets:
        out.add(f"  rm {_REPLACE_TEXT}")
    out.add("")


def _rewrite_range(out: _Writer, findings: list[Shown]) -> None:
    """A range's commits are not in the target branch yet: rewrite those, not the whole history."""
    commits = list(dict.fromkeys(f.commit[:12] for f in findings if f.commit))
    if not commits:
        return
    marked = ", ".join(commits)
    out.para("These commits are not merged yet: take the keys out of them rather than rewriting the repository:")
    out.para(f"(--root if it is the first commit) mark {marked} as `edit`; at each stop remove the key, "
             "`git add` the file, `git commit --amend --no-edit`, `git rebase --continue`", "  # ")
    out.add(f"  git rebase -i {commits[0]}^")
    out.para("if the branch was already pushed; then rotate each key", "  # ")
    out.add("  git push --force-with-lease", "")


def _by_history(out: _Writer, result: View) -> None:
    in_head = [f for f in result.findings if f.in_head]
    past = [f for f in result.findings if not f.in_head and f.reachable is not False]
    lost = [f for f in result.findings if not f.in_head and f.reachable is False]
    ranged = result.mode == "range"
    bold = out.style
    if in_head:
        then = "amend the commits that added them (below), then rotate each key" if ranged else \
            "remove them from the code, then rotate each key"
        out.para(f"{bold('Still in HEAD', 'bold')} — {then}:")
        out.add("")
        _findings(out, in_head)
    if past:
        if ranged:
            out.para(f"{bold('Only in history', 'bold')} — removed by a later commit of the range but still in the "
                     "commits that added them: rotate each key and rewrite those commits.")
        else:
            out.para(f"{bold('Only in history', 'bold')} — gone from HEAD but readable in every clone: rotate "
                     "each key; if the repository was ever public, also rewrite its history.")
        out.add("")
        _findings(out, past)
        if not ranged:
            _purge(out, past)
    if lost:  # --unreachable
        out.para(f"{bold('Not reachable from any ref', 'bold')} — in commits only a reflog names, or in dangling "
                 "objects: no clone has them, but this copy of the repository does until git gc prunes them. "
                 "Rotate each key, then drop them from this copy (and every copy made of it):")
        out.add("  git reflog expire --expire-unreachable=now --all && git gc --prune=now", "")
        _findings(out, lost)
    if ranged:
        _rewrite_range(out, list(result.findings))


def _skipped(out: _Writer, result: View) -> str:
    stats = result.stats
    large = f"{stats.skipped_large} over the size limit"
    named = [out.name(p) for p in result.skipped_large_paths[:_NAMED_SKIPPED]]
    if named:
        large += f" ({', '.join(named)}{', …' if stats.skipped_large > len(named) else ''})"
    nested = getattr(stats, "nested_repos", 0)
    missing = getattr(stats, "missing_objects", ())
    skipped = [(stats.skipped_large, large), (stats.skipped_lfs, f"{stats.skipped_lfs} Git LFS pointers"),
               (stats.skipped_symlinks, f"{stats.skipped_symlinks} symlinks"),
               (nested, f"{nested} nested {'repository' if nested == 1 else 'repositories'} (not entered)"),
               (stats.unreadable, f"{stats.unreadable} unreadable"),
               (len(missing), f"{len(missing)} git object{'s' * (len(missing) != 1)} missing or corrupt"),
               (stats.excluded, f"{stats.excluded} excluded by config"),
               (stats.crowded, f"{stats.crowded} dump{'s' * (stats.crowded != 1)} of keys cut at {MAX_MATCHES} "
                               "findings each")]
    extra = ", ".join(text for n, text in skipped if n)
    hidden = suppressed_summary(stats)
    return (f"; skipped: {extra}" if extra else "") + (f"; {hidden}" if hidden else "")


def _summary(out: _Writer, result: View) -> str:
    stats = result.stats
    counts = Counter(f.rule_id for f in result.findings)
    what = (_count(stats.files, "file") if result.mode in ("worktree", "stdin")
            else f"{_count(stats.blobs, 'blob')} in {_count(stats.commits, 'commit')}")
    if stats.archives:  # what the files held besides their own bytes
        what += f", and {_count(stats.archive_members, 'member')} of {_count(stats.archives, 'archive')} in them"
    summary = f"Scanned {what} ({_size(stats.bytes)}) in {stats.seconds:.2f}s: "
    if counts:
        summary += out.style(_count(len(result.findings), "finding"), "bold red") + " ("
        summary += ", ".join(f"{rule}: {n}" for rule, n in sorted(counts.items())) + ")"
    elif result.mode == "range" and not stats.commits:
        summary += out.style("the range holds no commits", "yellow")  # not a clean bill for commits never read
    else:
        summary += out.style("no secrets found", "green")
    verified = summarize(result).by_verification  # --verify ran
    if verified:
        summary += "; verified: " + ", ".join(f"{n} {status}" for status, n in verified)
    return summary + _skipped(out, result)


def _overview(out: _Writer, result: View) -> None:
    """The counts a big report opens with, from the summary model the other reports share."""
    summary = summarize(result)
    out.para(f"{out.style('Summary', 'bold')}: {_count(summary.findings, 'finding')}, "
             f"{_count(summary.secrets, 'distinct secret')}")
    out.para("by severity: " + ", ".join(f"{severity} {n}" for severity, n in summary.by_severity if n), "  ", "    ")
    out.para("by rule: " + ", ".join(f"{r.rule_id} {r.findings}" for r in summary.by_rule), "  ", "    ")
    if result.mode in ("history", "range"):
        out.para(f"still in HEAD: {summary.in_head}; only in history: {summary.history_only}", "  ", "    ")
    if summary.by_verification:
        out.para("verified: " + ", ".join(f"{status} {n}" for status, n in summary.by_verification), "  ", "    ")
    out.para("each rule's fix is printed once, at its first finding", "  ", "    ")
    out.add("")


def render(result: View, options: Options) -> str:
    out = _Writer(options)
    if len(result.findings) >= BIG_REPORT:
        _overview(out, result)
    if result.mode in ("history", "range"):
        _by_history(out, result)
    else:
        _findings(out, result.findings)
    if result.suppressed:  # --show-suppressed
        out.para(out.style(f"Suppressed ({len(result.suppressed)}), not reported:", "bold"), "", "  ")
        for f in result.suppressed:
            where = f"{out.name(f.path)}:{f.line}" + (f" (commit {f.commit[:12]})" if f.commit else "")
            out.para(f"{f.rule_id} at {where}: {f.secret} — by {CAUSE_NAMES.get(f.suppressed, f.suppressed)}",
                     "  ", "    ")
    for note in result.notes:
        out.para(f"{out.style('note:', 'yellow')} {printable(note)}", "", "  ")
    out.para(_summary(out, result), "", "  ")
    return "\n".join(out.lines) + "\n"

