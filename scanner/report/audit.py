"""The one report of an audit: every repository's View (already redacted where it was scanned),
rendered by the same reporters as `scan --history`, one section (text), entry (JSON) or run (SARIF)
per repository. Each repository is rendered through its scan format's own reporter and that output
is embedded, so a field added to the scan reports reaches the audit report unchanged."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from scanner.report import Options, View, printable

if TYPE_CHECKING:
    from scanner.audit import Audit
    from scanner.audit_record import RepoResult

FORMATS = ("text", "json", "sarif")
_SUMMED = ("files", "blobs", "commits", "bytes", "skipped_large", "skipped_lfs", "skipped_symlinks",
           "nested_repos", "unreadable", "allowed", "baselined", "excluded")


def render(audit: "Audit", fmt: str, options: Options) -> str:
    if fmt == "json":
        return _json(audit)
    if fmt == "sarif":
        return _sarif(audit)
    return _text(audit, options)


def totals(audit: "Audit") -> dict[str, Any]:
    """The audit's stats: the repositories' counters added up, and how many failed."""
    data: dict[str, Any] = {"repositories": len(audit.repos),
                            "failed": sum(r.error is not None for r in audit.repos),
                            "with_findings": sum(bool(r.view and r.view.findings) for r in audit.repos),
                            "findings": sum(len(r.view.findings) for r in audit.repos if r.view),
                            "resumed": audit.resumed}
    for name in _SUMMED:
        data[name] = sum(int(getattr(r.view.stats, name)) for r in audit.repos if r.view)
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
    summary = (f"audited {t['repositories']} repositor{'ies' if t['repositories'] != 1 else 'y'}: "
               f"{t['findings']} finding{'s' * (t['findings'] != 1)} in {t['with_findings']}, "
               f"{t['failed']} failed")
    if audit.resumed:
        summary += f", {audit.resumed} unchanged since the stored result"
    lines.append(summary + f" ({t['commits']} commits, {t['blobs']} blobs, {t['seconds']:.1f}s)")
    return "\n".join(lines) + "\n"


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
    return f"{name}{head}: {found} ({repo.view.stats.commits} commits, {repo.seconds:.1f}s)"
