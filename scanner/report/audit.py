"""The one report of an audit: every repository's View (already redacted where it was scanned),
rendered by the same reporters as `scan --history`, one section (text, Markdown, HTML), entry
(JSON), run (SARIF) or set of annotations (GitHub) or vulnerabilities (GitLab) per repository. Each repository is rendered through its scan format's own reporter and that output
is embedded, so a field added to the scan reports reaches the audit report unchanged."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from scanner.models import CAUSES
from scanner.report import Options, View, printable

if TYPE_CHECKING:
    from scanner.audit import Audit
    from scanner.audit_record import RepoResult

_SUMMED = ("files", "blobs", "commits", "bytes", "skipped_large", "skipped_lfs", "skipped_symlinks",
           "nested_repos", "unreadable", "allowed", "baselined", "excluded")


def render(audit: "Audit", fmt: str, options: Options) -> str:
    """AUDIT in FMT, one of scanner.report.FORMATS (an audit takes every format a scan takes)."""
    renderer = _RENDERERS.get(fmt)
    return renderer(audit) if renderer is not None else _text(audit, options)


def ranked(audit: "Audit") -> list["RepoResult"]:
    """The repositories most urgent first: those with findings by their most severe finding, then
    by how many; then the failed ones; then the clean ones (each group in the order given)."""
    from scanner.report.summary import SEVERITIES

    def rank(repo: "RepoResult") -> tuple[int, int, int]:
        if repo.view is None:
            return (len(SEVERITIES), 0, 0)
        if not repo.view.findings:
            return (len(SEVERITIES) + 1, 0, 0)
        worst = min(SEVERITIES.index(f.severity) if f.severity in SEVERITIES else len(SEVERITIES) - 1
                    for f in repo.view.findings)
        return (worst, -len(repo.view.findings), 0)

    return sorted(audit.repos, key=rank)


def severity_totals(audit: "Audit") -> list[tuple[str, int]]:
    """Findings by severity over every repository, each repository's counted by summary.summarize()."""
    from scanner.report.summary import SEVERITIES, summarize

    counts = dict.fromkeys(SEVERITIES, 0)
    for repo in audit.repos:
        if repo.view is not None:
            for severity, n in summarize(repo.view).by_severity:
                counts[severity] = counts.get(severity, 0) + n
    return list(counts.items())


def _markdown(audit: "Audit") -> str:
    from scanner.report import markdown

    t = totals(audit)
    severities = severity_totals(audit)
    title = (f"{t['findings']} finding{'s' * (t['findings'] != 1)} in {t['with_findings']} of "
             if t["findings"] else "no secrets found in ")
    title += f"{t['repositories']} repositor{'ies' if t['repositories'] != 1 else 'y'}"
    if t["failed"]:
        title += f", {t['failed']} failed"
    lines = [f"# keysentry audit: {title}", "",
             "| Repositories | Failed | With findings | Findings | " + " | ".join(s for s, _ in severities) + " |",
             "| ---: | ---: | ---: | ---: |" + " ---: |" * len(severities),
             f"| {t['repositories']} | {t['failed']} | {t['with_findings']} | {t['findings']} | "
             + " | ".join(str(n) for _, n in severities) + " |"]
    if _hidden(t):
        lines += ["", f"**{_hidden(t)}**"]
    # A job summary is capped at 1 MiB: MAX_ROWS is shared by the whole audit, each repository's
    # section counting as one row besides its findings' rows; the most urgent come first.
    # MAX_BYTES likewise: what the sections so far take is what the next one may not.
    order = ranked(audit)
    used = 0
    room = markdown.MAX_BYTES - sum(len(line.encode("utf-8", "surrogateescape")) + 1 for line in lines) - 200
    for shown, repo in enumerate(order):
        if used >= markdown.MAX_ROWS or room < 2000:
            rest = order[shown:]
            left = sum(len(r.view.findings) for r in rest if r.view)
            lines += ["", f"…and {len(rest)} more repositor{'ies' if len(rest) != 1 else 'y'} "
                      f"({left} finding{'s' * (left != 1)}): see the SARIF or JSON report for all of them."]
            break
        section = ["", f"## {markdown.cell(repo.source)}", ""]
        used += 1
        if repo.view is None:
            section.append(f"**error:** {markdown.cell(repo.error or '')}")
        else:
            budget = markdown.MAX_ROWS - used
            text = markdown.render(repo.view, max_rows=budget, max_bytes=room - 1000)
            section += [_demoted(line) for line in text.rstrip("\n").split("\n")]
            used += min(len(repo.view.findings), budget)
        lines += section
        room -= sum(len(line.encode("utf-8", "surrogateescape")) + 1 for line in section)
    return "\n".join(lines) + "\n"


def _html(audit: "Audit") -> str:
    from scanner.report import html

    # Anchors by position in the order given, so a repository keeps its link however it ranks.
    anchors = {id(repo): f"repo-{i}" for i, repo in enumerate(audit.repos)}
    sections = [html.section(anchors[id(repo)], repo.source, repo.error, repo.view) for repo in ranked(audit)]
    return html.render_audit(sections, totals(audit), severity_totals(audit))


def _demoted(line: str) -> str:
    # Only headings start with `#`: markdown.cell escapes it in every value the report shows.
    return "#" + line if line.startswith("#") else line


def _github(audit: "Audit") -> str:
    from scanner.report import github

    lines = []
    for repo in audit.repos:
        if repo.view is None:
            lines.append("::error title=keysentry audit::"
                         + github.escape_data(printable(f"{repo.source}: {repo.error}")))
        else:
            lines += [github.annotation(f, repo.source) for f in repo.view.findings]
    return "".join(line + "\n" for line in lines)


def _gitlab(audit: "Audit") -> str:
    import uuid

    from scanner.report import gitlab

    # Each location's file is prefixed by a folder per repository (the name its clone and SARIF
    # category have): GitLab tells vulnerabilities apart, and tracks them from one pipeline to the
    # next, by their identifier and location, so `app.py:1` of two repositories holding the same
    # rule's finding would otherwise be merged into one; and the Vulnerability Report shows the file
    # in its list, where a folder says the repository at a glance. The description names the
    # repository's source as given, which the folder's short form may not spell whole.
    vulnerabilities: list[dict[str, Any]] = []
    messages: list[dict[str, str]] = []
    report: dict[str, Any] = {}
    for repo in audit.repos:
        if repo.view is None:
            messages.append({"level": "warn", "value": printable(f"{repo.source}: {repo.error}")})
            continue
        report = json.loads(gitlab.render(repo.view))
        folder = _category(repo)
        messages += [{"level": m["level"], "value": printable(f"{repo.source}: {m['value']}")}
                     for m in report["scan"]["messages"]]
        for v in report["vulnerabilities"]:
            v["id"] = str(uuid.uuid5(uuid.UUID(v["id"]), folder))  # one repository's finding, another's id
            v["location"]["file"] = f"{folder}/{v['location']['file']}"
            v["description"] = printable(f"In {repo.source}: {v['description']}")
            vulnerabilities.append(v)
    if not report:
        report = json.loads(gitlab.render(View("history", (), _no_stats(), (), ())))
    end = datetime.now(timezone.utc)
    report["scan"]["start_time"] = gitlab.timestamp(end - timedelta(seconds=audit.seconds))
    report["scan"]["end_time"] = gitlab.timestamp(end)
    report["scan"]["messages"] = messages
    report["vulnerabilities"] = vulnerabilities
    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"


def totals(audit: "Audit") -> dict[str, Any]:
    """The audit's stats: the repositories' counters added up, and how many failed."""
    data: dict[str, Any] = {"repositories": len(audit.repos),
                            "failed": sum(r.error is not None for r in audit.repos),
                            "with_findings": sum(bool(r.view and r.view.findings) for r in audit.repos),
                            "findings": sum(len(r.view.findings) for r in audit.repos if r.view),
                            "resumed": audit.resumed}
    for name in _SUMMED:
        data[name] = sum(int(getattr(r.view.stats, name)) for r in audit.repos if r.view)
    # What the policy hid, by cause, over every repository (each repository's stats say its own).
    data["suppressed"] = {cause: sum(r.view.stats.suppressed.get(cause, 0) for r in audit.repos if r.view)
                          for cause in CAUSES}
    data["seconds"] = round(audit.seconds, 3)
    return data


def _json(audit: "Audit") -> str:
    from scanner.report import json_report

    repositories = []
    for repo in audit.repos:
        body: dict[str, Any] = json.loads(json_report.render(repo.view)) if repo.view else {}
        repositories.append({"source": repo.source, "head": repo.head, "error": repo.error,
                             "findings": body.get("findings", []), "stats": body.get("stats", {})})
    report = {"version": json_report.VERSION, "mode": "audit", "repositories": repositories,
              "stats": totals(audit)}
    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"


def _sarif(audit: "Audit") -> str:
    from scanner.report import sarif

    runs = []
    empty = View("history", (), _no_stats(), (), ())
    for repo in audit.repos:
        log = json.loads(sarif.render(repo.view or empty))
        run: dict[str, Any] = log["runs"][0]
        # Tells the runs apart: GitHub keys an upload's runs on their category.
        run["automationDetails"] = {"id": f"keysentry-audit/{_category(repo)}/"}
        provenance: dict[str, Any] = {"repositoryUri": repo.source}
        if repo.head:
            provenance["revisionId"] = repo.head
        run["versionControlProvenance"] = [provenance]
        run["invocations"] = [{"executionSuccessful": repo.error is None, "toolExecutionNotifications": [
            {"level": "error", "message": {"text": printable(repo.error)}}] if repo.error else []}]
        runs.append(run)
    head = json.loads(sarif.render(empty))
    head["runs"] = runs
    return json.dumps(head, indent=2, ensure_ascii=False) + "\n"


def _category(repo: "RepoResult") -> str:
    from scanner.audit import key

    return key(repo.source)


def _no_stats() -> Any:
    from scanner.models import Stats

    return Stats()


def _text(audit: "Audit", options: Options) -> str:
    from scanner.report import text

    lines: list[str] = []
    for repo in audit.repos:
        lines.append("=" * min(options.width, 80))
        lines.append(repository_line(repo))
        if repo.view is not None and (repo.view.findings or repo.view.notes):
            lines.append(text.render(repo.view, options).rstrip("\n"))
    lines.append("=" * min(options.width, 80))
    t = totals(audit)
    lines.append(summary(audit) + f" ({_count(t['commits'], 'commit')}, {_count(t['blobs'], 'blob')}, {t['seconds']:.1f}s)")
    hidden = _hidden(t)
    if hidden:
        lines.append(hidden)
    return "\n".join(lines) + "\n"


def _hidden(t: dict[str, Any]) -> str:
    """"suppressed: 3 by the baseline, …" over the whole audit, or ""."""
    from scanner.models import Stats
    from scanner.report import suppressed_summary

    return suppressed_summary(Stats(suppressed=dict(t["suppressed"])))


def summary(audit: "Audit") -> str:
    """The audit in one line: the text report's last, and what stderr says of a report written
    to a file."""
    t = totals(audit)
    said = (f"audited {t['repositories']} repositor{'ies' if t['repositories'] != 1 else 'y'}: "
            f"{t['findings']} finding{'s' * (t['findings'] != 1)} in {t['with_findings']}, "
            f"{t['failed']} failed")
    if audit.resumed:
        said += f", {audit.resumed} unchanged since the stored result"
    return said


def repository_line(repo: "RepoResult") -> str:
    """One line for one repository: what the progress display prints as it finishes, and the
    text report's heading of its section."""
    name = printable(repo.source)
    if repo.error is not None:
        return f"{name}: error: {printable(repo.error)}"
    assert repo.view is not None
    count = len(repo.view.findings)
    head = f" at {repo.head[:12]}" if repo.head else ""
    found = f"{count} finding{'s' * (count != 1)}" if count else "no secrets found"
    return f"{name}{head}: {found} ({_count(repo.view.stats.commits, 'commit')}, {repo.seconds:.1f}s)"


_RENDERERS: dict[str, Callable[["Audit"], str]] = {
    "json": _json, "sarif": _sarif, "markdown": _markdown, "github": _github, "gitlab": _gitlab, "html": _html,
}


def _count(n: int, noun: str) -> str:
    """"1 commit", "2 commits": the audit's lines are read by people."""
    return f"{n} {noun}{'s' * (n != 1)}"
