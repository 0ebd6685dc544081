"""--format html: one self-contained page for an audit, made with Jinja2 (autoescaping on).

One row per secret (a history's per-path findings of one secret are grouped here), its places and
commits folded away, the fix beside it; the numbers come from scanner.report.summary, as every
report's do. The page loads nothing: its CSS and JS are inline and allowed by hash in a Content
Security Policy that forbids every fetch, so even a value that escaped escaping could neither run
nor call out. It reads without JS (the rows expand with <details>); JS only sorts and filters."""
from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from scanner.fix.advice import next_step
from scanner.report import (
    CAUSE_NAMES,
    UNREACHABLE,
    Shown,
    View,
    display_path,
    exposure_words,
    printable,
    shell_word,
    suppressed_summary,
)
from scanner.report.summary import SEVERITIES, summarize

_TEMPLATES = Path(__file__).with_name("templates")
_RANK = {s: i for i, s in enumerate(SEVERITIES)}
# How many places a row lists before the rest is folded into "and N more files".
_PLACES_SHOWN = 10
_REPLACE_TEXT = "../keysentry-secrets.txt"

@dataclass(frozen=True)
class Place:
    name: str  # printable
    line: int
    column: int


@dataclass(frozen=True)
class Introduced:
    commit: str
    author: str
    date: str
    name: str  # the path the commit added it at, printable
    line: int
    in_head: bool


@dataclass(frozen=True)
class Carried:
    """A later path a rename or copy carried the secret to (the finding's `moved_to`)."""

    commit: str
    origin: str  # the path it was introduced at, printable
    name: str  # where it went, printable


@dataclass(frozen=True)
class Fix:
    rotate: str
    where: tuple[tuple[str, str], ...]  # (label, address) — links, never fetched
    restrict: str
    remove: str
    commands: tuple[str, ...]  # history-only: how to take it out of every commit
    autofix: str = ""  # what `keysentry fix` does with it ("" where it leaves it to a person)


@dataclass(frozen=True)
class Row:
    id: str
    rule_id: str
    description: str
    severity: str
    rank: int
    context: str
    status: str  # verification status, "" when not verified
    reason: str
    exposes: tuple[str, ...]  # what a live key can list (files, cached-contents, tuned-models)
    verified_more: str  # exposes / surface in words, "" when neither is known
    secret: str  # redacted unless --show-secrets
    commit: str
    author: str
    date: str  # YYYY-MM-DD of the first introduction
    instant: float  # for sorting
    in_head: bool | None
    places: tuple[Place, ...]
    introduced: tuple[Introduced, ...]
    fix: Fix
    moved: tuple[Carried, ...] = ()
    unreachable: bool = False  # --unreachable: no ref leads to any of its places
    decoded: str = ""  # found in decoded text: the decodings, outermost first ("base64 > hex")

    @property
    def count(self) -> int:
        """Places it is at now (tree or HEAD); a history-only secret: the paths it was added at."""
        return len(self.places) if self.places else len({i.name for i in self.introduced})

    @property
    def first_places(self) -> tuple[Place, ...]:
        return self.places[:_PLACES_SHOWN]

    @property
    def more_places(self) -> tuple[Place, ...]:
        return self.places[_PLACES_SHOWN:]

    @property
    def first_introduced(self) -> tuple[Introduced, ...]:
        return self.introduced[:_PLACES_SHOWN]

    @property
    def more_introduced(self) -> tuple[Introduced, ...]:
        return self.introduced[_PLACES_SHOWN:]

    @property
    def first_moved(self) -> tuple[Carried, ...]:
        return self.moved[:_PLACES_SHOWN]

    @property
    def more_moved(self) -> tuple[Carried, ...]:
        return self.moved[_PLACES_SHOWN:]

    @property
    def more_files(self) -> int:
        shown = {p.name for p in self.first_places}
        return len({p.name for p in self.more_places} - shown) or len(self.more_places)


def _name(text: str | None) -> str:
    return printable(display_path(text or ""))


def _instant(date: str | None) -> float:
    try:
        return datetime.fromisoformat(date).timestamp() if date else 0.0
    except ValueError:
        return 0.0


def _shows_secret(f: Shown) -> bool:
    """The view holds the secret in full (--show-secrets): then the page can spell the replace line."""
    return len(f.secret) == f.secret_length and f.secret_length > 1


def _replace_line(f: Shown) -> str:
    from scanner.report.text import _replace_line as line  # the one spelling of filter-repo's line

    return line(f.secret)


def _purge_commands(group: Sequence[Shown]) -> tuple[str, ...]:
    """The exact git filter-repo commands that take a history-only secret out of every commit."""
    first = group[0]
    lines = ["git clone --bare <url> keysentry-rewrite.git && cd keysentry-rewrite.git"]
    if first.rule.whole_file or first.archives:
        # A secret inside an archive is compressed in it: only removing the archive takes it out.
        paths = " ".join(f"--path {printable(shell_word(p))}"
                         for p in dict.fromkeys(p for f in group for p in f.archives or (f.path,)))
        lines.append(f"git filter-repo --invert-paths {paths}")
    else:
        if _shows_secret(first):
            lines.append(f"printf '%s\\n' {printable(shell_word(_replace_line(first)))} > {_REPLACE_TEXT}")
        else:
            lines.append(f"# {_REPLACE_TEXT}: one line <secret>==>REMOVED (this report redacts the secret; "
                         "rerun with --show-secrets to have it written here)")
        messages = any(f.place != "file" for f in group)  # a commit or tag message holds it
        lines.append(f"git filter-repo --replace-text {_REPLACE_TEXT}"
                     + (f" --replace-message {_REPLACE_TEXT}" if messages else ""))
    lines.append("git push --force --all <url> && git push --force --tags <url>")
    return tuple(lines)


def _fix(group: Sequence[Shown], in_head: bool | None, mode: str) -> Fix:
    first = group[0]
    rule = first.rule
    remove = rule.remediation
    gone = getattr(rule, "gone", "")
    if in_head is False and gone:
        remove = gone
    return Fix(
        rotate=rule.rotate or rule.remediation,
        where=rule.where,
        restrict=rule.restrict,
        remove=remove,
        # A range's commits are not merged yet: amending them (the text report says how) is the fix.
        commands=_purge_commands(group) if in_head is False and mode == "history" else (),
        autofix=(next_step(first.path, first.rule_id, first.context) if first.commit is None
                 else "--history plans removing it from the history" if in_head is False else ""),
    )


def _row(index: int, group: Sequence[Shown], mode: str) -> Row:
    lead = min(group, key=lambda f: _RANK.get(f.severity, len(SEVERITIES)))
    oldest = min(group, key=lambda f: _instant(f.date))
    heads = [f.in_head for f in group if f.in_head is not None]
    in_head = any(heads) if heads else None
    places = tuple(dict.fromkeys(Place(_name(loc.path), loc.line, loc.column)
                                 for f in group for loc in f.locations if f.commit is None or f.in_head))
    introduced = tuple(Introduced(f.commit, _name(f.author), (f.date or "")[:10], _name(f.path), f.line, bool(f.in_head))
                       for f in sorted(group, key=lambda f: (_instant(f.date), f.path)) if f.commit)
    moved = tuple(dict.fromkeys(Carried(m.commit, _name(f.path), _name(m.path))
                                for f in sorted(group, key=lambda f: (_instant(f.date), f.path)) for m in f.moved_to))
    verified = next((f.verification for f in group if f.verification is not None), None)
    return Row(
        id=f"s{index}", rule_id=group[0].rule_id, description=lead.message,
        severity=lead.severity, rank=_RANK.get(lead.severity, len(SEVERITIES)), context=lead.context,
        status=verified.status if verified else "", reason=printable(verified.reason) if verified else "",
        exposes=verified.exposes if verified else (), verified_more=exposure_words(verified) if verified else "",
        secret=printable(group[0].secret), commit=oldest.commit or "", author=_name(oldest.author),
        date=(oldest.date or "")[:10], instant=_instant(oldest.date), in_head=in_head,
        places=places, introduced=introduced, fix=_fix(group, in_head, mode), moved=moved,
        unreachable=all(f.reachable is False for f in group),
        decoded=" > ".join(group[0].decoded),
    )


def rows(view: View) -> list[Row]:
    """One row per secret: a rule's findings of one value, or one whole-file finding's file."""
    groups: dict[tuple[str, object], list[Shown]] = {}
    for f in view.findings:
        key: object = ("file", f.path) if f.rule.whole_file else f.secret_id
        groups.setdefault((f.rule_id, key), []).append(f)
    made = [_row(i, group, view.mode) for i, group in enumerate(groups.values())]
    return sorted(made, key=lambda r: (r.rank, -r.instant, r.rule_id, r.places[0].name if r.places else ""))


def timeline(found: Sequence[Row], width: int = 960, height: int = 180) -> Markup:
    """Secrets introduced per month as an inline SVG bar chart, drawn here: the page loads no library."""
    months: dict[tuple[int, int], int] = {}
    for r in found:
        if r.date:
            key = (int(r.date[:4]), int(r.date[5:7]))
            months[key] = months.get(key, 0) + 1
    if not months:
        return Markup("")
    first, last = min(months), max(months)
    # Every month between the first and the last, empty ones too: the gaps are part of the story.
    span = [(y, m) for y in range(first[0], last[0] + 1) for m in range(1, 13) if first <= (y, m) <= last]
    top = max(months.values())
    left, bottom, pad = 36, 28, 8
    plot_w, plot_h = width - left - pad, height - bottom - pad
    step = plot_w / len(span)
    bar = max(1.0, step * 0.8)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" viewBox="0 0 {width} {height}" '
             f'role="img" aria-label="secrets introduced per month">',
             f'<line x1="{left}" y1="{pad + plot_h}" x2="{width - pad}" y2="{pad + plot_h}" stroke="#888"/>',
             f'<text x="{left - 6}" y="{pad + 10}" text-anchor="end" font-size="11">{top}</text>',
             f'<text x="{left - 6}" y="{pad + plot_h}" text-anchor="end" font-size="11">0</text>']
    for i, (y, m) in enumerate(span):
        n = months.get((y, m), 0)
        x = left + i * step + (step - bar) / 2
        if n:
            h = max(1.0, plot_h * n / top)
            label = escape(f"{y}-{m:02d}: {n} secret{'s' * (n != 1)} introduced")
            parts.append(f'<rect class="bar" x="{x:.1f}" y="{pad + plot_h - h:.1f}" width="{bar:.1f}" '
                         f'height="{h:.1f}" fill="#c0392b" data-month="{y}-{m:02d}" data-count="{n}">'
                         f'<title>{label}</title></rect>')
        if m == 1 or i == 0:
            parts.append(f'<text x="{left + i * step:.1f}" y="{height - 8}" font-size="11">{y}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def purge_all(view: View) -> tuple[str, ...]:
    """One rewrite for every history-only secret of the report: their files removed (whole-file
    findings), their values replaced (the others), as the text report says it."""
    past = [f for f in view.findings if f.in_head is False]
    if not past or view.mode != "history":
        return ()
    files = list(dict.fromkeys(p for f in past for p in f.archives or ((f.path,) if f.rule.whole_file else ())))
    values = list({f.secret_id: f for f in past if not f.rule.whole_file and not f.archives}.values())
    lines = ["git clone --bare <url> keysentry-rewrite.git && cd keysentry-rewrite.git"]
    command = "git filter-repo"
    if values:
        if all(_shows_secret(f) for f in values):
            lines.append(f"printf '%s\\n' {' '.join(printable(shell_word(_replace_line(f))) for f in values)} "
                         f"> {_REPLACE_TEXT}")
        else:
            lines.append(f"# {_REPLACE_TEXT}: one line per secret, <secret>==>REMOVED (this report redacts them; "
                         "rerun with --show-secrets to have them written here)")
        command += f" --replace-text {_REPLACE_TEXT}"
        if any(f.place != "file" for f in values):  # a commit or tag message holds one
            command += f" --replace-message {_REPLACE_TEXT}"
    if files:
        command += " --invert-paths " + " ".join(f"--path {printable(shell_word(p))}" for p in files)
    lines += [command, "git push --force --all <url> && git push --force --tags <url>"]
    if values:
        lines.append(f"rm {_REPLACE_TEXT}")
    return tuple(lines)


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


@lru_cache(maxsize=1)
def _environment() -> tuple[Environment, str, str]:
    env = Environment(loader=FileSystemLoader(_TEMPLATES), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    css = (_TEMPLATES / "report.css").read_text(encoding="utf-8")
    js = (_TEMPLATES / "report.js").read_text(encoding="utf-8")
    return env, css, js


# Rows the page holds as HTML. A report of 50,000 secrets written out as rows made a page of 114 MB
# that Chromium took three minutes to show; past this many, the rest travels as one compact JSON
# data block that the page's script turns into rows a page at a time (the first rows, the counts
# and the fixes read without any script).
PAGE = 500


def _data_block(found: Sequence[Row], history: bool, verified: bool) -> Markup:
    """The rows after the first PAGE as JSON inside <script type="application/json">: never run,
    so the page's Content Security Policy needs no hash for it; `<` is escaped as \u003c, so no
    value can close the element."""
    fixes: dict[tuple[str, str, tuple[tuple[str, str], ...], str, str, str], int] = {}
    packed = []
    for r in found:
        key = (r.description, r.fix.rotate, r.fix.where, r.fix.restrict, r.fix.remove, r.fix.autofix)
        fix = fixes.setdefault(key, len(fixes))
        head = "yes" if r.in_head else ("no" if r.in_head is False else "")
        path = r.places[0].name if r.places else (r.introduced[0].name if r.introduced else "")
        packed.append([
            r.id, r.rank, r.severity, r.rule_id, r.context, r.status, r.reason, r.secret, r.commit, r.author,
            r.date, r.instant, head, path, r.count,
            [[p.name, p.line, p.column] for p in r.first_places], r.more_files if r.more_places else 0,
            [[c.commit, c.author, c.date, c.name, c.line, c.in_head] for c in r.first_introduced],
            len(r.more_introduced), fix, list(r.fix.commands), list(r.exposes), r.verified_more,
            [[c.commit, c.origin, c.name] for c in r.first_moved], len(r.more_moved), r.unreachable, r.decoded,
        ])
    data = {"history": history, "verified": verified, "unreachable": UNREACHABLE,
            "fixes": [[d, rotate, [list(w) for w in where], restrict, remove, autofix]
                      for d, rotate, where, restrict, remove, autofix in fixes],
            "rows": packed}
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
    return Markup(text)


def _context(view: View) -> dict[str, object]:
    """What report_body.html.j2 shows of VIEW: the same for a scan's page and an audit's section."""
    found = rows(view)
    history = view.mode in ("history", "range")
    verified = any(r.status for r in found)
    return dict(
        view=view, stats=view.stats, summary=summarize(view), rows=found[:PAGE], all_rows=len(found),
        more_rows=_data_block(found[PAGE:], history, verified) if len(found) > PAGE else Markup(""),
        timeline=timeline(found),
        verified=verified, history=history,
        past=[r for r in found if r.in_head is False], purge=purge_all(view), places_shown=_PLACES_SHOWN,
        target=_name(view.target), revisions=printable(view.revisions),
        notes=[printable(n) for n in [*view.notes, *filter(None, [suppressed_summary(view.stats)])]],
        warnings=[printable(w) for w in view.stats.warnings],
        suppressed=[(CAUSE_NAMES.get(f.suppressed, f.suppressed), f) for f in view.suppressed],
        size=_size(view.stats.bytes), replace_text=_REPLACE_TEXT, unreachable_text=UNREACHABLE,
    )


def render(view: View) -> str:
    env, css, js = _environment()
    policy = (f"default-src 'none'; style-src {_csp_hash(css)}; script-src {_csp_hash(js)}; img-src data:; "
              "form-action 'none'; base-uri 'none'")
    return env.get_template("report.html.j2").render(
        **_context(view), css=Markup(css), js=Markup(js), policy=policy, ids="",
        heading="keysentry: secrets report", main_tag="main", interactive=True,
    )


@dataclass(frozen=True)
class Section:
    """One repository of an audit's page: its line in the index, and its report or its error."""

    anchor: str  # the section's id, which the index links to
    name: str  # printable
    error: str  # printable; "" when it was scanned
    findings: int
    secrets: int
    worst: str  # the most severe finding's severity; "" when none
    body: Markup  # its report (report_body.html.j2), empty when it failed


def section(anchor: str, name: str, error: str | None, view: View | None) -> Section:
    """The section of an audit's page for one repository. Its report has no filter controls: the
    page runs no script (its tables still open row by row, without it)."""
    if view is None:
        return Section(anchor, printable(name), printable(error or ""), 0, 0, "", Markup(""))
    env, _, _ = _environment()
    # An audited view names no target (its clone may be a temporary folder): the source does.
    context = {**_context(view), "target": printable(name)}
    body = env.get_template("report_body.html.j2").render(
        **context, ids=f"{anchor}-", heading=printable(name), main_tag="div", interactive=False)
    summary = summarize(view)
    worst = next((severity for severity, n in summary.by_severity if n), "")
    return Section(anchor, printable(name), "", summary.findings, summary.secrets, worst, Markup(body))


def render_audit(sections: Sequence[Section], totals: Mapping[str, object],
                 by_severity: Sequence[tuple[str, int]]) -> str:
    """An audit's page: the index of SECTIONS (in the order given: most urgent first), then each."""
    env, css, _ = _environment()
    policy = (f"default-src 'none'; style-src {_csp_hash(css)}; script-src 'none'; img-src data:; "
              "form-action 'none'; base-uri 'none'")
    return env.get_template("audit.html.j2").render(
        sections=sections, totals=totals, by_severity=by_severity, css=Markup(css), policy=policy)


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"
