"""One scan from request to result: load config, pick the source, run the engine, apply filters."""
from __future__ import annotations

import itertools
import os
import sys
import time
from datetime import datetime
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from scanner import baseline as baseline_file
from scanner import config as config_file
from scanner import content, parallel
from scanner.detect import Detector
from scanner.errors import UsageError
from scanner.models import Finding, Match, Stats, make_finding
from scanner.report import printable

if TYPE_CHECKING:
    from scanner.sources import worktree


@dataclass(frozen=True)
class Request:
    mode: str
    path: Path
    revision_range: str | None = None
    config: Path | None = None
    baseline: Path | None = None
    jobs: int = field(default_factory=parallel.default_jobs)
    max_file_size: int | None = None
    progress: bool = False


@dataclass(frozen=True)
class Result:
    mode: str
    findings: tuple[Finding, ...]
    stats: Stats
    notes: tuple[str, ...] = ()  # things the report should say (e.g. shallow history)


@dataclass(frozen=True)
class Settings:
    """What every source needs: the configured engine and limits."""

    detector: Detector
    config: config_file.Config
    max_file_size: int
    jobs: int
    progress: bool


def run(request: Request) -> Result:
    started = time.monotonic()
    # Read first: a missing or broken baseline must not cost the user a whole scan to find out.
    fingerprints = baseline_file.load(request.baseline) if request.baseline else frozenset()
    if request.mode == "stdin":
        root = Path.cwd()
    else:
        _check_exists(request.path)
        root = request.path
    # The sources decide where the repository root is; config is read from there.
    if request.mode == "worktree":
        from scanner.sources import worktree

        listing = worktree.list_files(request.path)
        settings = _settings(request, listing.root)
        findings, stats, notes = _scan_worktree(listing, settings)
        stats.unreadable += len(listing.warnings)
        stats.warnings.extend(listing.warnings)
    elif request.mode == "stdin":
        settings = _settings(request, root)
        findings, stats = _scan_stdin(settings)
        notes = ()
    else:
        from scanner.sources import git_modes

        findings, stats, notes = git_modes.scan(request, lambda top: _settings(request, top))
    kept = []
    for finding in findings:
        if finding.fingerprint in fingerprints:
            stats.baselined += 1
        else:
            kept.append(finding)
    stats.seconds = time.monotonic() - started
    key = _history_order if request.mode in ("history", "range") else _tree_order
    return Result(request.mode, tuple(sorted(kept, key=key)), stats, notes)


def _check_exists(path: Path) -> None:
    try:
        os.stat(path)
    except FileNotFoundError:
        raise UsageError(f"path not found: {path}") from None
    except OSError as exc:  # a folder on the way that we may not enter, a link loop
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None


def _tree_order(f: Finding) -> tuple[object, ...]:
    return (f.path, f.line, f.column, f.rule_id)


def _history_order(f: Finding) -> tuple[object, ...]:
    # Dates carry the author's offset; order by the instant, not by the text.
    instant = datetime.fromisoformat(f.date).timestamp() if f.date else 0.0
    return (instant, f.path, f.line, f.column, f.rule_id)


def _settings(request: Request, root: Path) -> Settings:
    cfg = config_file.load(root, request.config)
    detector = Detector.configured(cfg.disable, cfg.allow)
    size = request.max_file_size or cfg.max_file_size
    return Settings(detector, cfg, size, max(1, request.jobs), request.progress)


def _scan_stdin(settings: Settings) -> tuple[list[Finding], Stats]:
    # Never more than the limit and one byte: `scan - < /dev/zero` must not fill the memory. Over
    # the limit is an error rather than a skip, since a skipped stdin would leave nothing scanned
    # and the report would say "no secrets found".
    data = sys.stdin.buffer.read(settings.max_file_size + 1)
    if len(data) > settings.max_file_size:
        raise UsageError(f"standard input is larger than --max-file-size ({settings.max_file_size} bytes); "
                         "raise --max-file-size to scan it")
    stats = Stats(files=1, bytes=len(data))
    scanned = settings.detector.scan(data, "-")
    stats.allowed += scanned.allowed
    return [make_finding(m, "-") for m in scanned.matches], stats


# --- the working tree, in parallel -----------------------------------------------------------

_worker: dict[str, object] = {}
# Below this many files, starting worker processes costs more than it saves (pre-commit hooks).
_PARALLEL_FROM = 64
# How many nested repositories the report names; the count in the stats says how many in all.
_NESTED_NAMED = 5


def _init_file_worker(root: str, detector: Detector, max_size: int) -> None:
    from scanner.sources.worktree import TreeReader

    _worker.update(reader=TreeReader(Path(root)), detector=detector, max_size=max_size)


def _close_file_worker() -> None:
    reader = _worker.pop("reader", None)
    if reader is not None:
        reader.close()  # type: ignore[attr-defined]


def _scan_one(rel: str) -> tuple[str, str, int, tuple[Match, ...], int, str]:
    """(path, outcome, bytes, matches, allowed, detail); outcome names what happened to the file."""
    read = _worker["reader"].read(rel, int(_worker["max_size"]))  # type: ignore[attr-defined, call-overload]
    if read.outcome != "text":
        return rel, read.outcome, read.size, (), 0, read.detail
    data = read.data
    if content.is_lfs_pointer(data):
        return rel, "lfs", len(data), (), 0, ""
    scanned = _worker["detector"].scan(data, rel)  # type: ignore[attr-defined]
    return rel, "binary" if scanned.binary else "text", len(data), scanned.matches, scanned.allowed, ""


def _scan_worktree(listing: "worktree.Listing", settings: Settings) -> tuple[list[Finding], Stats, tuple[str, ...]]:
    stats = Stats()

    def wanted() -> Iterator[str]:
        for rel in listing.paths:
            if settings.config.is_excluded(rel):
                stats.excluded += 1
            else:
                yield rel

    # Stream the listing into the workers (memory stays flat on a huge tree); look ahead only far
    # enough to tell whether worker processes are worth starting.
    stream = wanted()
    head = list(itertools.islice(stream, _PARALLEL_FROM))
    jobs = settings.jobs if len(head) >= _PARALLEL_FROM else 1
    findings: list[Finding] = []
    nested: list[str] = []
    linked: dict[str, tuple[str, int]] = {}  # a linked folder -> (the first path below it, how many)
    results = parallel.imap(_scan_one, itertools.chain(head, stream), jobs, initializer=_init_file_worker,
                            initargs=(str(listing.root), settings.detector, settings.max_file_size), chunksize=8,
                            finalizer=_close_file_worker)
    for rel, outcome, size, matches, allowed, detail in results:
        if listing.named:
            _refuse_named(rel, outcome, size, detail, settings.max_file_size)
        if outcome in ("text", "binary"):
            stats.files += 1
            stats.bytes += size
            stats.allowed += allowed
            findings.extend(make_finding(m, rel) for m in matches)
        elif outcome == "large":
            stats.skipped_large += 1
            stats.note_large(rel)
        elif outcome == "lfs":
            stats.skipped_lfs += 1
        elif outcome == "symlink":
            stats.skipped_symlinks += 1
        elif outcome == "linked-folder":
            stats.skipped_symlinks += 1
            first, count = linked.get(detail, (rel, 0))
            linked[detail] = (first, count + 1)
        elif outcome == "nested-repo":
            stats.nested_repos += 1
            nested.append(rel)
        elif outcome == "unreadable":
            stats.unreadable += 1
            stats.warnings.append(f"cannot read {printable(rel)}: {detail}")
    stats.warnings.extend(_linked_warning(link, *seen) for link, seen in sorted(linked.items()))
    return findings, stats, _nested_note(stats.nested_repos, nested)


def _linked_warning(link: str, first: str, count: int) -> str:
    # One line per link, however many tracked files lie below it.
    what = printable(first) if count == 1 else f"{count} files below {printable(link)}"
    return f"skipped {what}: the folder {printable(link)} on its way is a symbolic link, which a scan never follows"


def _refuse_named(rel: str, outcome: str, size: int, detail: str, limit: int) -> None:
    """A single file the user named that cannot be scanned is an error, not a clean result."""
    if outcome == "large":
        raise UsageError(f"{printable(rel)} is larger than --max-file-size ({size} > {limit} bytes); "
                         "raise --max-file-size to scan it")
    if outcome == "unreadable":
        raise UsageError(f"cannot read {printable(rel)}: {detail}")
    if outcome in ("other", "nested-repo"):
        raise UsageError(f"not a regular file: {printable(rel)}")


def _nested_note(count: int, paths: list[str]) -> tuple[str, ...]:
    if not count:
        return ()
    shown = ", ".join(printable(p) for p in sorted(paths)[:_NESTED_NAMED]) + (", …" if count > _NESTED_NAMED else "")
    if count == 1:
        return (f"a nested repository (a folder with its own .git) was not scanned: {shown} (scan it on its own)",)
    return (f"{count} nested repositories (folders with their own .git) were not scanned: {shown} "
            "(scan each on its own)",)
