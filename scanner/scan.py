"""One scan from request to result: load config, pick the source, run the engine, apply filters."""
from __future__ import annotations

import itertools
import os
import stat
import sys
import time
from datetime import datetime
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from scanner import baseline as baseline_file
from scanner import config as config_file
from scanner import content, parallel
from scanner.detect import Detector
from scanner.errors import UsageError
from scanner.models import Finding, Match, Stats, make_finding

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
    if request.mode == "stdin":
        root = Path.cwd()
    else:
        if not request.path.exists():
            raise UsageError(f"path not found: {request.path}")
        root = request.path
    # The sources decide where the repository root is; config is read from there.
    if request.mode == "worktree":
        from scanner.sources import worktree

        listing = worktree.list_files(request.path)
        settings = _settings(request, listing.root)
        findings, stats = _scan_worktree(listing.root, listing.paths, settings)
        stats.unreadable += len(listing.warnings)
        stats.warnings.extend(listing.warnings)
        notes: tuple[str, ...] = ()
    elif request.mode == "stdin":
        settings = _settings(request, root)
        findings, stats = _scan_stdin(settings)
        notes = ()
    else:
        from scanner.sources import git_modes

        findings, stats, notes = git_modes.scan(request, lambda top: _settings(request, top))
    fingerprints = baseline_file.load(request.baseline) if request.baseline else frozenset()
    kept = []
    for finding in findings:
        if finding.fingerprint in fingerprints:
            stats.baselined += 1
        else:
            kept.append(finding)
    stats.seconds = time.monotonic() - started
    key = _history_order if request.mode in ("history", "range") else _tree_order
    return Result(request.mode, tuple(sorted(kept, key=key)), stats, notes)


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
    data = sys.stdin.buffer.read()
    stats = Stats(files=1, bytes=len(data))
    scanned = settings.detector.scan(data, "-")
    stats.allowed += scanned.allowed
    return [make_finding(m, "-") for m in scanned.matches], stats


# --- the working tree, in parallel -----------------------------------------------------------

_worker: dict[str, object] = {}
# Below this many files, starting worker processes costs more than it saves (pre-commit hooks).
_PARALLEL_FROM = 64


def _init_file_worker(root: str, detector: Detector, max_size: int) -> None:
    _worker.update(root=root, detector=detector, max_size=max_size)


def _scan_one(rel: str) -> tuple[str, str, int, tuple[Match, ...], int]:
    """(path, outcome, bytes, matches, allowed); outcome names what happened to the file."""
    full = os.path.join(str(_worker["root"]), rel)
    try:
        st = os.lstat(full)
        if stat.S_ISLNK(st.st_mode):
            return rel, "symlink", 0, (), 0  # never follow a link, in or out of the tree
        if not stat.S_ISREG(st.st_mode):
            return rel, "other", 0, (), 0  # submodule folders, sockets, fifos
        if st.st_size > int(_worker["max_size"]):  # type: ignore[call-overload]
            return rel, "large", st.st_size, (), 0
        with open(full, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        return rel, "other", 0, (), 0  # tracked but deleted in the work tree
    except OSError as exc:
        return rel, f"unreadable:{exc.strerror or exc}", 0, (), 0
    if content.is_lfs_pointer(data):
        return rel, "lfs", len(data), (), 0
    scanned = _worker["detector"].scan(data, rel)  # type: ignore[attr-defined]
    return rel, "binary" if scanned.binary else "text", len(data), scanned.matches, scanned.allowed


def _scan_worktree(root: Path, paths: Iterable[str], settings: Settings) -> tuple[list[Finding], Stats]:
    stats = Stats()

    def wanted() -> Iterator[str]:
        for rel in paths:
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
    results = parallel.imap(_scan_one, itertools.chain(head, stream), jobs, initializer=_init_file_worker,
                            initargs=(str(root), settings.detector, settings.max_file_size), chunksize=8)
    for rel, outcome, size, matches, allowed in results:
        if outcome in ("text", "binary"):
            stats.files += 1
            stats.bytes += size
            stats.allowed += allowed
            findings.extend(make_finding(m, rel) for m in matches)
        elif outcome == "large":
            stats.skipped_large += 1
        elif outcome == "lfs":
            stats.skipped_lfs += 1
        elif outcome == "symlink":
            stats.skipped_symlinks += 1
        elif outcome.startswith("unreadable:"):
            stats.unreadable += 1
            stats.warnings.append(f"cannot read {rel}: {outcome.split(':', 1)[1]}")
    return findings, stats

