"""Dispatch for the modes that need git: history, range and staged."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from scanner import gitcmd
from scanner.errors import GitError
from scanner.models import Finding, Stats

if TYPE_CHECKING:
    from scanner.scan import Request, Settings


def scan(request: Request, settings_for: Callable[[Path], Settings]) -> tuple[list[Finding], Stats, tuple[str, ...]]:
    repo = gitcmd.find(request.path)
    if repo is None:
        raise GitError(f"not a git repository: {request.path} (--{request.mode} needs one)")
    settings = settings_for(repo.root)
    stats = Stats()
    notes: list[str] = []
    if request.mode == "staged":
        from scanner.sources.staged import scan_staged

        findings = scan_staged(repo, settings.detector, settings.config.is_excluded, settings.max_file_size, stats)
        if stats.files == 0 and not findings:
            notes.append("nothing staged: no changes to scan")
        return findings, stats, tuple(notes)

    from scanner.report.progress import Progress
    from scanner.sources import history

    plan = history.Plan(repo, settings.detector, settings.config.is_excluded, settings.max_file_size,
                        settings.jobs, Progress(enabled=settings.progress))
    if gitcmd.run(repo, "rev-parse", "--is-shallow-repository").strip() == b"true":
        stats.shallow = True
        notes.append("this is a shallow clone: history before its oldest commit was not scanned "
                     "(run `git fetch --unshallow` for a complete audit)")
    if repo.prefix:
        from scanner.report import printable

        # As gitleaks does: history has no folders, and a key committed anywhere is published.
        notes.append(f"--{request.mode} scans the whole repository, not only {printable(repo.prefix)}: "
                     "paths are relative to its top folder")
    if request.mode == "history":
        findings = history.scan_history(plan, stats)
    else:
        assert request.revision_range is not None  # the CLI gives range mode its range
        findings = history.scan_range(plan, request.revision_range, stats)
    return findings, stats, tuple(notes)
