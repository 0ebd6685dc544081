"""One scan from request to result: load config, pick the source, run the one scan loop over the
blobs it yields, make findings, apply the baseline.

Every mode goes through `scan_blobs`: it owns the size limit, LFS pointers, exclusion, the stats,
the worker processes and the progress bar. The content step runs once per blob, the path step
(whole-file rules such as dotenv-file) once for every path the blob occurs at. A history without a
progress bar is streamed: the workers read and scan blobs while git's log is still walking, and a
blob that turns up again at another path is judged there from what its first reading held."""
from __future__ import annotations

import itertools
import os
import time
from datetime import datetime
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from scanner import config as config_file
from scanner import archives, chunked, content, families, locations, parallel
from scanner import policy as policies
from scanner.detect import Detector, InlineMarkers, Scanned
from scanner.domain import Mode
from scanner.errors import GitError, UsageError
from scanner.models import MAX_MATCHES, Blob, Finding, Hit, Match, Result, Stats, member_path
from scanner.report import printable
from scanner.rules.policy import SUPPRESSION_CHANGE
from scanner.sources.base import Opener, Outcomes, Read, Reader, Reading, Scope

if TYPE_CHECKING:
    from scanner import gitcmd
    from scanner.sources import tagged

__all__ = ["Hit", "Request", "Result", "Settings", "run", "scan_blobs"]

RULE = SUPPRESSION_CHANGE.id  # what a gated range reports for widening its own policy


@dataclass(frozen=True)
class Request:
    mode: Mode
    path: Path
    revision_range: str | None = None
    config: Path | None = None
    baseline: Path | None = None
    jobs: int = field(default_factory=parallel.default_jobs)
    max_file_size: int | None = None
    progress: bool = False
    # Range mode for a push: the blobs and trees its refs point at directly (scanner.sources.tagged),
    # and what the receiving side has already (rev-list arguments such as `--all`), whose objects
    # are not scanned again. A push of such tags alone has no revision_range.
    pointed: tuple[tagged.Pointed, ...] = ()
    published: tuple[str, ...] = ()
    # The annotated tag objects a push sends, whose messages are scanned; None (a range given on the
    # command line): the annotated tags of the range's commits.
    tags: tuple[str, ...] | None = None
    # The commits a push sends to refs/notes/* (scanner.sources.notes): the receiving side has no
    # notes ref to them yet. A range's notes commits are read as notes, never as files.
    notes: tuple[str, ...] = ()
    # Where the policy comes from (scanner.policy). Default: the working tree's files. POLICY_FROM:
    # that revision's. POLICY_BASE (a range in a gate): the range's base. POLICY: given whole (the
    # pre-receive hook's, from the server's own config).
    policy_from: str | None = None
    policy_base: bool = False
    policy: policies.Policy | None = None
    no_inline_allow: bool = False  # --no-inline-allow: no marker silences anything
    # Work tree and staged modes: only these paths, relative to the repository's top folder (the
    # files the pre-commit framework names); None: every file.
    files: tuple[str, ...] | None = None
    # Told the bytes of each batch of blobs as it is scanned (an audit's progress display, which
    # runs in another process than the scan): history and range scans.
    on_scanned: Callable[[int], None] | None = None
    # --unreachable (history): also what no ref leads to, reflog-only commits and dangling objects
    # (scanner.sources.unreachable), each finding marked `reachable`.
    unreachable: bool = False


@dataclass(frozen=True)
class Settings:
    """What every source needs: the configured engine and limits."""

    detector: Detector
    config: config_file.Config
    max_file_size: int
    jobs: int
    progress: bool
    policy: policies.Policy


def run(request: Request) -> Result:
    started = time.monotonic()
    # Read first: a missing or broken baseline must not cost the user a whole scan to find out.
    # (A gate's is read at its trusted revision, once the repository is found.)
    from_tree = request.policy is None and request.policy_from is None \
        and not (request.policy_base and request.mode == "range")
    fingerprints = _baseline(request) if from_tree else frozenset()
    scope = _scope(request, fingerprints)
    settings = scope.settings
    stats = Stats()
    findings, notes = _scan(scope, stats, request.on_scanned)
    # Across the whole scan, once its findings carry their context: a test key's hand-edited copies.
    findings, copies = families.without_near_copies(findings)
    stats.allowed += copies
    if scope.repo is not None:
        _warn_missing(scope.repo, stats)
    notes = (*settings.policy.notes, *notes)
    findings, suppressed, notices = _apply_policy(findings, settings.policy, request.mode == "range", stats)
    notes = (*notes, *notices)
    if request.mode == "range" and settings.policy.revision is not None and RULE not in settings.policy.config.disable:
        widened, more = _suppression_changes(request, settings.policy, findings)
        findings = [*findings, *widened]
        notes = (*notes, *more)
    kept = findings
    if request.mode in ("worktree", "stdin"):
        kept = locations.fold(kept)  # after the baseline: only the places still reported are folded
        suppressed = locations.fold(suppressed)
    stats.seconds = time.monotonic() - started
    key = _history_order if request.mode in ("history", "range") else _tree_order
    revisions = {"history": "all refs (branches, tags, stash)", "range": request.revision_range or ""}
    return Result(request.mode, tuple(sorted(kept, key=key)), stats, notes,
                  target="-" if request.mode == "stdin" else str(request.path),
                  revisions=revisions.get(request.mode, ""), suppressed=tuple(sorted(suppressed, key=key)), unscanned=_unscanned(request, settings, stats))


def _unscanned(request: Request, settings: Settings, stats: Stats) -> tuple[str, ...]:
    """A gate's blind spots: the files it skipped for their size. A gate (a range, the staged
    change, a push) that passes a file unread would let a key through by padding, so its status
    says so, unless the trusted base's own config chose that limit."""
    if request.mode not in ("range", "staged") or not stats.skipped_large:
        return ()
    policy = settings.policy
    if request.policy is not None or (request.max_file_size is None and policy.gated and policy.config.size_set):
        return ()  # a policy given whole (the server's, for pre-receive) sets its limit with it
    return tuple(stats.skipped_large_paths)


def _suppression_changes(request: Request, policy: policies.Policy,
                         reported: Sequence[Finding]) -> tuple[list[Finding], list[str]]:
    """What a gated range widens in its own policy (scanner.suppression), against the base's."""
    from scanner import gitcmd, suppression
    from scanner.sources import history

    repo = gitcmd.find(request.path)
    assert repo is not None and request.revision_range is not None
    tip = suppression.tip_of(request.revision_range, history.range_revisions(repo, request.revision_range))
    if tip is None:
        return [], []
    return suppression.findings(repo, policy, tip, request.config, request.baseline, reported)


def _apply_policy(findings: Iterable[Finding], policy: policies.Policy, changes: bool,
                  stats: Stats) -> tuple[list[Finding], list[Finding], list[str]]:
    """FINDINGS split into those reported and those the policy silences (each with its cause),
    and the notices to show. CHANGES: a range checked by a gate, where every finding is new in the
    range, so an inline marker on it was added by the range too: it silences nothing, unless the
    base's config says inline-allow-in-changes = "notice"."""
    import dataclasses

    reported: list[Finding] = []
    silenced: list[Finding] = []
    notices: list[str] = []
    for finding in findings:
        if finding.suppressed == "inline" and changes and policy.gated:
            where = f"{printable(finding.path)}:{finding.line}"
            if policy.config.inline_allow_in_changes == "block":
                finding = dataclasses.replace(finding, suppressed="")
                if RULE not in policy.config.disable:
                    from scanner.suppression import marker as suppression_marker  # only a gate that meets one

                    reported.append(suppression_marker(finding))
            else:
                notices.append(f"an inline allow marker this change adds silences {finding.rule_id} at {where} "
                               f"(allowed by the base's inline-allow-in-changes = \"notice\")")
        if not finding.suppressed and finding.fingerprint in policy.baseline:
            finding = dataclasses.replace(finding, suppressed="baseline")
        if finding.suppressed:
            silenced.append(finding)
            stats.suppressed[finding.suppressed] = stats.suppressed.get(finding.suppressed, 0) + 1
        else:
            reported.append(finding)
    stats.baselined = stats.suppressed.get("baseline", 0)
    return reported, silenced, notices


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


def _baseline(request: Request) -> frozenset[str]:
    # Imported here: baseline imports the reporters' helpers, which must not need this module.
    from scanner import baseline as baseline_file

    return baseline_file.load(request.baseline) if request.baseline else frozenset()


def _worktree_policy(request: Request, root: Path, fingerprints: frozenset[str]) -> policies.Policy:
    """The developer's own policy: the config in ROOT (or --config), the baseline as given."""
    return policies.Policy(config_file.load(root, request.config), fingerprints, "the working tree")


def _git_policy(request: Request, repo: "gitcmd.Repo", fingerprints: frozenset[str]) -> policies.Policy:
    """The policy of a scan of git objects: given, read at a revision, or the working tree's."""
    if request.policy is not None:
        return request.policy
    if request.policy_from is not None:
        return policies.at_revision(repo, request.policy_from, request.config, request.baseline)
    if request.policy_base and request.mode == "range":
        from scanner.sources import history

        assert request.revision_range is not None
        base = policies.base_of(history.range_revisions(repo, request.revision_range))
        if base is None:
            return policies.defaults(f"the range {request.revision_range} has no single base revision to take the "
                                     "policy from: no config or baseline applies (name one with --policy-from REV)")
        return policies.at_revision(repo, base, request.config, request.baseline)
    return _worktree_policy(request, repo.root, fingerprints)


def _settings(request: Request, root: Path, policy: policies.Policy) -> Settings:
    cfg = policy.config
    inline: InlineMarkers = "ignore" if request.no_inline_allow or not cfg.inline_allow else "honour"
    size = request.max_file_size or cfg.max_file_size
    detector = Detector.configured(cfg.disable, cfg.allow, inline, cfg.archive_limits(size), cfg.decode_depth)
    return Settings(detector, cfg, size, max(1, request.jobs), request.progress, policy)


# --- the one scan loop -----------------------------------------------------------------------

@dataclass(frozen=True)
class _Event:
    """A blob that was not scanned as content, for the stats and warnings."""

    blob: Blob
    outcome: str  # lfs, archive, or a non-text outcome of sources.base.Read
    size: int
    detail: str
    archive: archives.Tally | None = None  # an archive's: what reading its members met


@dataclass(frozen=True)
class _Done:
    """What a worker hands back for one batch: counts, and only the blobs that need more work."""

    blobs: int
    files: int
    bytes: int
    allowed: int
    hits: tuple[Hit, ...]
    events: tuple[_Event, ...]
    read: int  # records read (counted or not), for the progress bar


@dataclass(frozen=True)
class _Worker:
    """What each worker process holds for the batches it is given."""

    reader: Reader
    detector: Detector
    limit: int  # --max-file-size: past it, a blob is skipped
    lfs: bool

    @property
    def whole(self) -> int:
        """Past this size a blob is read a piece at a time (scanner.chunked), never whole."""
        return min(self.limit, chunked.READ_WHOLE)


_worker: _Worker | None = None
# Below this many blobs, starting worker processes costs more than it saves (pre-commit hooks).
_PARALLEL_FROM = 64
# A batch is what one worker takes at a time: small for files read by path (a tree's sizes are
# unknown up front), larger for git objects, whose cat-file round trip is paid once per batch, and
# for blobs whose bytes come with them (commit messages: 8 a batch made pytest's 18,000 messages
# 2,300 round trips to the workers, 256 make 72), up to _BATCH_BYTES.
_BATCH_FILES = 8
_BATCH_BLOBS = 256
_BATCH_BYTES = 8 << 20
# How many git objects are sorted by path before they are cut into batches (see _by_path).
_WINDOW = 2048
# How many files holding more than MAX_MATCHES secrets a warning names; stats.crowded counts all.
_CROWDED_NAMED = 5


def _init_worker(opener: Opener, detector: Detector, limit: int, lfs: bool) -> None:
    global _worker
    _worker = _Worker(opener.open(), detector, limit, lfs)


def _close_worker() -> None:
    global _worker
    if _worker is not None:
        _worker.reader.close()
        _worker = None


# A Blob's fields as a plain tuple: what a batch is sent to a worker as. Pickling a dataclass
# costs eight times as much as its tuple, paid for every blob of a history, twice.
_Record = tuple[tuple[str, ...], "str | None", "int | None", "bytes | None", bool]


def _record(blob: Blob) -> _Record:
    return blob.paths, blob.oid, blob.size, blob.data, blob.counted


def _scan_batch(records: Sequence[_Record]) -> _Done:
    assert _worker is not None, "a batch is scanned only in a process _init_worker set up"
    batch = [Blob(*record) for record in records]
    reader, detector, lfs, limit = _worker.reader, _worker.detector, _worker.lfs, _worker.limit
    # Bound once: this loop runs once per blob of a history (pytest's: 60,000 with the messages).
    scan_content, path_matches, is_lfs_pointer = detector.scan_content, detector.path_matches, content.is_lfs_pointer
    blobs = files = size = allowed = read = 0
    hits: list[Hit] = []
    events: list[_Event] = []
    for blob, got in reader.read(batch, _worker.whole):
        read += 1
        outcome = got.outcome
        if outcome == "text":
            data = got.data
            length = len(data)
            if lfs and is_lfs_pointer(data):
                events.append(_Event(blob, "lfs", length, ""))
                continue
            paths = blob.paths
            scanned = scan_content(data, paths)
        elif outcome == "large" and got.size <= limit:
            got, scanned, length = _scan_large(reader, blob, detector, limit)
            if got.outcome != "text":
                events.append(_Event(blob, got.outcome, got.size, got.detail))
                continue
            data, paths = got.data, blob.paths
        else:
            events.append(_Event(blob, outcome, got.size, got.detail))
            continue
        if scanned.crowded_line:
            events.append(_Event(blob, "crowded", scanned.unlisted_lines, str(scanned.crowded_line)))
        if scanned.archive is not None:
            events.append(_Event(blob, "archive", 0, "", scanned.archive))
        everything = scanned.everything
        if blob.counted:
            blobs += blob.oid is not None
            files += len(paths)
            size += length
            allowed += scanned.allowed
        at = []
        for path in paths:
            found = path_matches(path, data, scanned)
            if everything:
                found = everything + found
            if found:
                at.append((path, found))
        if at:
            hits.append(Hit(Blob(paths, blob.oid, blob.size, None, blob.counted), everything, tuple(at)))
    return _Done(blobs, files, size, allowed, tuple(hits), tuple(events), read)


class _TooLarge(Exception):
    """A file that grew past the limit while it was read a piece at a time."""


def _scan_large(reader: Reader, blob: Blob, detector: Detector, limit: int) -> tuple[Read, Scanned, int]:
    """A blob past chunked.READ_WHOLE scanned a piece at a time. The Read holds only its first
    window (what whole-file rules look at); "large" or "unreadable" when it cannot be read so."""
    read = 0

    def pieces() -> Iterator[bytes]:
        nonlocal read
        for piece in reader.stream(blob, chunked.PIECE):
            read += len(piece)
            if read > limit:
                raise _TooLarge
            yield piece

    try:
        scanned, first = chunked.scan_pieces(detector, pieces())
    except _TooLarge:
        return Read("large", size=read), Scanned((), 0, False), 0
    except (OSError, GitError) as exc:
        return Read("unreadable", detail=getattr(exc, "strerror", None) or str(exc)), Scanned((), 0, False), 0
    return Read("text", first), scanned, read


@dataclass
class _Repeats:
    """Blobs a stream of records names more than once (a streamed history: a record each time the
    blob turns up at another path). The first record at a path not excluded is read; the paths
    that come after it are judged at the end, from what it held."""

    sent: set[str] = field(default_factory=set)  # read already (or being read)
    held: set[str] = field(default_factory=set)  # seen at excluded paths only, so far
    late: dict[str, list[str]] = field(default_factory=dict)  # paths after the read, not excluded


def scan_blobs(records: Iterable[Blob], opener: Opener, settings: Settings, stats: Stats, reading: Reading, *,
               outcomes: Outcomes | None = None, on_scanned: Callable[[int], None] | None = None) -> list[Hit]:
    """Scan every record once (the content step) and judge it at each of its paths (the path step),
    as READING says (scanner.sources.base.Reading). Returns the blobs that hold something."""
    count_files, named, lfs = reading.count_files, reading.named, reading.lfs
    progress = reading.progress
    seen = outcomes or Outcomes()
    repeats = _Repeats()
    wanted = _wanted(records, settings, stats, count_files, reading.exclude, repeats)
    sized = isinstance(records, Sequence)
    # A list of records (git's) is filtered whole, so the bar's totals are what will be read; a
    # stream (a work tree) is looked into only far enough to tell whether workers are worth it.
    head = list(wanted) if sized else list(itertools.islice(wanted, _PARALLEL_FROM))
    jobs = settings.jobs if len(head) >= _PARALLEL_FROM else 1
    if jobs > 1:
        settings.detector.warm()  # compiled once here, the workers fork with it
    stream = itertools.chain(head, wanted)
    from scanner.report.progress import Progress

    hits: list[Hit] = []
    with Progress(enabled=progress and sized) as bar:
        if progress and sized:
            bar.start(len(head), sum(b.size or 0 for b in head))
        # Listed when sized: imap then starts no more workers than there are batches.
        batches: Iterable[list[_Record]] = list(_batches(stream)) if sized else _batches(stream)
        results = parallel.imap(_scan_batch, batches, jobs, initializer=_init_worker,
                                initargs=(opener, settings.detector, settings.max_file_size, lfs),
                                finalizer=_close_worker)
        for done in results:
            stats.blobs += done.blobs
            stats.files += done.files if count_files else 0
            stats.bytes += done.bytes
            stats.allowed += done.allowed
            hits.extend(done.hits)
            for event in done.events:
                _count(event, stats, seen, settings.max_file_size, named)
            bar.advance(done.read, done.bytes)
            if on_scanned is not None:
                on_scanned(done.bytes)
    if not count_files:
        stats.excluded += len(repeats.held)  # blobs seen at excluded paths only
    if repeats.late:
        hits = _judge_late(hits, repeats.late, opener, settings, lfs)
    return hits


def _judge_late(hits: list[Hit], late: dict[str, list[str]], opener: Opener, settings: Settings,
                lfs: bool) -> list[Hit]:
    """HITS with the paths each blob turned up at after it was read. The content's matches hold
    at each; a path where a whole-file rule applies is judged on the content, read once more."""
    by_oid = {hit.blob.oid: hit for hit in hits}
    again: list[Blob] = []
    extra: dict[str | None, list[tuple[str, tuple[Match, ...]]]] = {}
    for oid, paths in late.items():
        whole = tuple(p for p in paths if settings.detector.judges_whole_file(p))
        if whole:
            again.append(Blob(whole, oid, counted=False))
        hit = by_oid.get(oid)
        if hit is not None and hit.content:
            extra.setdefault(oid, []).extend((p, hit.content) for p in paths if p not in whole)
    if again:
        for hit in scan_blobs(again, opener, settings, Stats(), Reading(exclude=False, lfs=lfs)):
            extra.setdefault(hit.blob.oid, []).extend(hit.at)
            by_oid.setdefault(hit.blob.oid, Hit(hit.blob, hit.content, ()))
    return [Hit(hit.blob, hit.content, hit.at + tuple(extra.pop(oid, ()))) for oid, hit in by_oid.items()]


def _wanted(records: Iterable[Blob], settings: Settings, stats: Stats, count_files: bool,
            exclude: bool, repeats: _Repeats) -> Iterator[Blob]:
    """The records worth reading: excluded paths dropped (and counted), blobs git says are over the
    size limit skipped unread, a blob read already only noted at its new paths (REPEATS)."""
    is_excluded = settings.config.is_excluded
    exclude = exclude and bool(settings.config.exclude)
    for blob in records:
        paths = tuple(p for p in blob.paths if not is_excluded(p)) if exclude else blob.paths
        oid = blob.oid
        if oid is not None and oid in repeats.sent:
            if paths:
                repeats.late.setdefault(oid, []).extend(paths)
            continue
        if len(paths) < len(blob.paths):
            if not paths:
                if blob.counted:
                    if count_files:
                        stats.excluded += len(blob.paths)
                    elif oid is not None:
                        repeats.held.add(oid)  # counted at the end, unless a later path is not excluded
                    else:
                        stats.excluded += 1
                continue
            if blob.counted and count_files:
                stats.excluded += len(blob.paths) - len(paths)
            blob = Blob(paths, blob.oid, blob.size, blob.data, blob.counted)
        if oid is not None:
            repeats.sent.add(oid)
            repeats.held.discard(oid)
        if blob.size is not None and blob.size > settings.max_file_size:
            if blob.counted:
                stats.skipped_large += 1
                stats.note_large(paths[0])
            continue
        yield blob


def _batches(records: Iterator[Blob]) -> Iterator[list[_Record]]:
    batch: list[_Record] = []
    size = 0
    for blob in _by_path(records):
        batch.append(_record(blob))
        size += blob.size or 0
        by_path = blob.oid is None and blob.data is None
        if len(batch) >= (_BATCH_FILES if by_path else _BATCH_BLOBS) or size >= _BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _by_path(records: Iterator[Blob]) -> Iterator[Blob]:
    """RECORDS, git objects among them sorted by path a window at a time: the versions of one file,
    which git stores as deltas of each other, then go to the same worker, whose cat-file keeps the
    bases it inflated for the next one (a quarter less of git's work on pytest's history)."""
    window: list[Blob] = []
    size = _BATCH_BLOBS  # the first windows are smaller: the workers start while git walks on
    for blob in records:
        if blob.oid is None:  # a file to read from disk: no git object store to be kind to
            yield from window
            window = []
            yield blob
            continue
        window.append(blob)
        if len(window) >= size:
            window.sort(key=_first_path)
            yield from window
            window = []
            size = min(2 * size, _WINDOW)
    window.sort(key=_first_path)
    yield from window


def _first_path(blob: Blob) -> str:
    return blob.paths[0]


def _count(event: _Event, stats: Stats, seen: Outcomes, limit: int, named: bool) -> None:
    rel = event.blob.paths[0]
    if named:
        _refuse_named(rel, event.outcome, event.size, event.detail, limit)
    if event.outcome == "missing":
        if event.detail not in seen.missing:  # one blob at many paths is one object
            seen.missing.add(event.detail)
            stats.missing_objects.append(event.detail)
        return
    if not event.blob.counted:
        return
    if event.outcome == "large":
        stats.skipped_large += 1
        stats.note_large(rel)
    elif event.outcome == "lfs":
        stats.skipped_lfs += 1
    elif event.outcome == "symlink":
        stats.skipped_symlinks += 1
    elif event.outcome == "linked-folder":
        stats.skipped_symlinks += 1
        first, count = seen.linked.get(event.detail, (rel, 0))
        seen.linked[event.detail] = (first, count + 1)
    elif event.outcome == "nested-repo":
        stats.nested_repos += 1
        seen.nested.append(rel)
    elif event.outcome == "crowded":
        stats.crowded += 1
        if stats.crowded <= _CROWDED_NAMED:
            stats.warnings.append(
                f"{printable(rel)} holds more than {MAX_MATCHES} secrets: the first {MAX_MATCHES} (to line "
                f"{event.detail}) are reported, and its {event.size} lines after that were not read for more; "
                "a file like this is a dump of keys: treat every key in it as leaked")
        elif stats.crowded == _CROWDED_NAMED + 1:
            stats.warnings.append(f"more files hold more than {MAX_MATCHES} secrets each: see stats.crowded")
    elif event.outcome == "unreadable":
        stats.unreadable += 1
        stats.warnings.append(f"cannot read {printable(rel)}: {event.detail}")
    elif event.outcome == "archive" and event.archive is not None:
        _count_archive(event.archive, rel, stats)


# How many archives whose members the limits left unread a warning names; stats.archives counts all.
_ARCHIVES_NAMED = 5
_WHY = {"depth": "nested deeper than archive-depth (not opened)",
        "bytes": "left unread past archive-max-bytes unpacked", "members": "left unread past archive-max-members",
        "ratio": "left unread: compressed past archive-max-ratio (a bomb?)", "encrypted": "encrypted (not read)",
        "corrupt": "unreadable (corrupt or truncated)", "large": "larger than max-file-size (not read)",
        "oversized": "too large to open as an archive (past 16 MB inside one; scanned as binary)",
        "unsafe-name": "named outside the archive with .. or an absolute path (read, never written)"}


def _count_archive(tally: archives.Tally, rel: str, stats: Stats) -> None:
    """Count what one archive's reading met, and name the archive when a limit left members unread."""
    stats.note_archive(tally)
    if not tally.skipped:
        return
    stats.archives_named += 1
    if stats.archives_named > _ARCHIVES_NAMED:
        if stats.archives_named == _ARCHIVES_NAMED + 1:
            stats.warnings.append("more archives had members left unread or oddly named: see stats.archives")
        return
    parts = []
    for reason, count in tally.skipped:
        named = [member for why, member in tally.named if why == reason]
        shown = ", ".join(printable(member_path(rel, tuple(m.split("!")))) for m in named[:2])
        if reason == "oversized" and not named:  # the blob itself, not a member
            parts.append(f"larger than {chunked.READ_WHOLE >> 20} MB, which an archive must be read whole to be "
                         "opened: scanned as a binary file, its members not read")
            continue
        parts.append(f"{count} member{'s' * (count != 1)} {_WHY[reason]}"
                     + (f": {shown}{', …' if count > 2 else ''}" if shown else ""))
    stats.warnings.append(f"archive {printable(rel)}: {'; '.join(parts)}")


# --- the sources: one loop over every source of the request ------------------------------------------

def _scope(request: Request, fingerprints: frozenset[str]) -> Scope:
    """Where the scan reads (the folder, or the repository) and the settings read there: the
    sources decide where the root is, and config is read from it."""
    if request.mode == "stdin":
        root = Path.cwd()
        if request.policy_from is not None:
            raise UsageError("--policy-from needs a git repository; standard input has none")
        return Scope(request, root, None, _settings(request, root, _worktree_policy(request, root, fingerprints)))
    _check_exists(request.path)
    if request.mode == "worktree" and request.policy_from is None and request.policy is None:
        from scanner.sources import worktree

        listing = worktree.list_files(request.path, request.files)
        policy = _worktree_policy(request, listing.root, fingerprints)
        return Scope(request, listing.root, None, _settings(request, listing.root, policy), listing)
    from scanner import gitcmd

    repo = gitcmd.find(request.path)
    if repo is None:
        what = "--policy-from" if request.mode == "worktree" else f"--{request.mode}"
        raise GitError(f"not a git repository: {request.path} ({what} needs one)")
    return Scope(request, repo.root, repo, _settings(request, repo.root, _git_policy(request, repo, fingerprints)))


def _scan(scope: Scope, stats: Stats,
          on_scanned: Callable[[int], None] | None) -> tuple[list[Finding], tuple[str, ...]]:
    """Every source of the scope through the one loop, then its provenance step: the findings,
    and what the report should say."""
    from scanner import sources

    settings = scope.settings

    def rescan(records: Iterable[Blob], opener: Opener) -> list[Hit]:
        return scan_blobs(records, opener, settings, Stats(), Reading(exclude=False))

    findings: list[Finding] = []
    notes: list[str] = []
    pending = sources.for_scope(scope)
    done = []
    while pending:
        source = pending.pop(0)
        seen = Outcomes()
        hits = scan_blobs(source.blobs(), source.opener, settings, stats, source.reading, outcomes=seen,
                          on_scanned=on_scanned)
        findings.extend(source.provenance(hits, rescan))
        notes.extend(source.notes(stats, seen))
        pending[:0] = source.then()
        done.append(source)
    for source in done:
        findings = source.settle(findings)
    return findings, tuple(notes)


def _refuse_named(rel: str, outcome: str, size: int, detail: str, limit: int) -> None:
    """A single file the user named that cannot be scanned is an error, not a clean result."""
    if outcome == "large":
        raise UsageError(f"{printable(rel)} is larger than --max-file-size ({size} > {limit} bytes); "
                         "raise --max-file-size to scan it")
    if outcome == "unreadable":
        raise UsageError(f"cannot read {printable(rel)}: {detail}")
    if outcome in ("other", "nested-repo"):
        raise UsageError(f"not a regular file: {printable(rel)}")


_MISSING_NAMED = 5


def _warn_missing(repo: "gitcmd.Repo", stats: Stats) -> None:
    """One warning for every object git could not read; the report's stats list them all."""
    from scanner import gitcmd

    missing = sorted(stats.missing_objects)
    if not missing:
        return
    named = ", ".join(missing[:_MISSING_NAMED])
    if len(missing) > _MISSING_NAMED:
        named += f", … (--format json lists all {len(missing)} in stats.missing_objects)"
    stats.warnings.append(f"incomplete scan: git could not read {len(missing)} "
                          f"object{'s' * (len(missing) != 1)}, missing or corrupt ({named}): "
                          f"{gitcmd.missing_hint(repo)}; the scan went on without them")
