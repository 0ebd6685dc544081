"""`keysentry audit`: many repositories, each cloned (when remote) and its history scanned exactly
as `scan --history` does, one task per repository.

One code path runs the tasks, behind `concurrent.futures.Executor`: here a pool of --jobs, on a
cluster the executor of a Dask `Client` connected to an existing scheduler. Either way each task
is `audit_repo`, which runs the repository in a process apart (scanner/audit_child.py, one per
pool or worker thread, replaced when it fails) so a timeout or a crash ends that repository only,
and results are taken as they complete. With
--workdir each result is written there atomically as it arrives, and a rerun skips a repository
whose every ref still points where its stored result says and whose every input (config
content, keysentry's own rules and code) is the same."""
from __future__ import annotations

import concurrent.futures
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from scanner import __version__, audit_record
from scanner.audit_child import RepoTask
from scanner.audit_record import RepoResult
from scanner.errors import KeysentryError, UsageError

# A scheduler that does not answer within this is reported as unreachable.
CONNECT_TIMEOUT = 10.0
_STORE_FORMAT = 1
_children: set[subprocess.Popen[bytes]] = set()
_children_lock = threading.Lock()

Progress = Callable[[str, str, float, float], None]  # (source, stage, done, total) while cloning, scanning


class ClusterError(KeysentryError):
    """The Dask cluster cannot be used: not installed, or its scheduler does not answer."""


@dataclass(frozen=True)
class AuditRequest:
    sources: tuple[str, ...]
    workdir: Path | None = None
    cluster: str | None = None
    jobs: int = 1
    repo_timeout: float | None = None
    show_secrets: bool = False
    config: Path | None = None
    max_file_size: int | None = None
    baseline: Path | None = None
    verify_timeout: float | None = None  # --verify (on the workers), with its per-request timeout
    verify_max_requests: int | None = None  # per repository
    verify_cache: Path | None = None
    verify_max_age: float | None = None
    verify_owner: bool = False
    unreachable: bool = False  # --unreachable: reflog-only commits and dangling objects too


@dataclass(frozen=True)
class Audit:
    repos: tuple[RepoResult, ...]  # in the order the sources were given
    seconds: float
    resumed: int = 0  # results taken from --workdir, unchanged since


def read_sources(named: Sequence[str], repos_file: Path | None) -> tuple[str, ...]:
    """The sources named and those in REPOS_FILE (one a line, `#` comments), each once, in order."""
    sources = list(named)
    if repos_file is not None:
        from scanner.output import read_regular

        text = read_regular(repos_file, 64 << 20, "--repos").decode("utf-8", "surrogateescape")
        for line in text.splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                sources.append(line)
    if not sources:
        raise UsageError("name at least one repository to audit (a path or a clone URL), or --repos FILE")
    return tuple(dict.fromkeys(sources))


def key(source: str) -> str:
    """A name for SOURCE's clone and stored result: readable, and unique by its hash."""
    from scanner.sources.remote import is_url

    where = source if is_url(source) else os.path.abspath(source)
    # The readable part from the URL as shown: a token in its query must not name a folder.
    tail = _shown(where).split("?", 1)[0].split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    tail = re.sub(r"[^A-Za-z0-9._-]+", "_", tail.removesuffix(".git"))[:40]
    return f"{tail or 'repo'}-{hashlib.sha256(where.encode('utf-8', 'surrogateescape')).hexdigest()[:16]}"


def run(request: AuditRequest, progress: Progress | None = None,
        finished: Callable[[RepoResult, int, int], None] | None = None) -> Audit:
    """Audit every source of REQUEST. PROGRESS hears of clones and scans under way (this machine only);
    FINISHED of each repository as it is done, with how many are done of how many."""
    started = time.monotonic()
    _nothing_to_audit(request)
    fingerprints = _baseline(request.baseline)
    workdir = request.workdir
    if workdir is not None:
        try:
            (workdir / "results").mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"cannot use --workdir {workdir}: {exc.strerror or exc}") from None
    scratch = None if workdir is not None else Path(tempfile.mkdtemp(prefix="keysentry-audit-"))
    try:
        return _audit(request, workdir, scratch, fingerprints, progress, finished, started)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def _nothing_to_audit(request: AuditRequest) -> None:
    """A UsageError when every source is a local path that does not exist: a typo, said in one
    line rather than as a report of nothing but failures. One missing among others is that
    repository's error, and the others go on; on a cluster the paths are the workers' to find."""
    if request.cluster is not None:
        return
    missing = [s for s in request.sources if not _is_url(s) and not os.path.lexists(s)]
    if missing and len(missing) == len(request.sources):
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise UsageError(f"path not found: {missing[0]}{more}")


def _audit(request: AuditRequest, workdir: Path | None, scratch: Path | None, fingerprints: frozenset[str],
           progress: Progress | None, finished: Callable[[RepoResult, int, int], None] | None,
           started: float) -> Audit:
    options = _options(request, fingerprints)
    stored = {source: _load(workdir, source, options) for source in request.sources} if workdir else {}
    on_cluster = request.cluster is not None
    # On a cluster each worker clones into its own scratch folder (chosen there); here, into
    # --workdir, or a temporary folder removed at the end.
    clones = "" if on_cluster else str((workdir or scratch or Path(".")) / "repos")
    inner = 1 if on_cluster else max(1, request.jobs // min(request.jobs, len(request.sources)))
    tasks = {source: RepoTask(
        source=source if _is_url(source) else os.path.abspath(source), key=key(source), clones=clones,
        keep_clone=workdir is not None, known_refs=_refs(stored.get(source)),
        # Absolute: a worker's process may run in another folder (the README: the same path there).
        show_secrets=request.show_secrets, config=str(request.config.absolute()) if request.config else None,
        max_file_size=request.max_file_size, jobs=inner, timeout=request.repo_timeout,
        verify_timeout=request.verify_timeout, verify_max_requests=request.verify_max_requests,
        verify_cache=str(request.verify_cache.absolute()) if request.verify_cache else None,
        verify_max_age=request.verify_max_age, verify_owner=request.verify_owner,
        baselined=tuple(sorted(fingerprints)) if request.verify_timeout is not None else (),
        unreachable=request.unreachable,
    ) for source in request.sources}
    results: dict[str, RepoResult] = {}
    resumed = 0
    with _executor(request, len(tasks)) as executor:
        pending = {}
        # Largest first, so that no big repository starts last and keeps one worker busy while
        # the others idle; remote ones (size unknown until cloned) before all.
        for source, task in sorted(tasks.items(), key=lambda item: -_size_hint(item[1].source)):
            if on_cluster:
                future = executor.submit(audit_repo, task)
            else:
                future = executor.submit(audit_repo, task, _relay(progress, _shown(source)))
            pending[future] = source
        for future in concurrent.futures.as_completed(pending):
            source = pending[future]
            try:
                answer = future.result()
            except Exception as exc:  # a task the cluster gave up on (its workers kept dying)
                answer = {"record": audit_record.encode(RepoResult(source, None, None,
                                                                   f"the task failed: {type(exc).__name__}: {exc}",
                                                                   None))}
            old = stored.get(source)
            fresh = not (answer.get("unchanged") and old is not None)
            if old is not None and not fresh:
                result, resumed = old, resumed + 1
            else:
                result = audit_record.decode(answer["record"])
            # As the user named it (not as resolved), less any token in it, before it is kept
            # anywhere: reports, progress, the stored result.
            result = replace(result, source=_shown(source), error=_unsaid(source, result.error))
            if workdir is not None and result.error is None and fresh:
                _store(workdir, source, options, result)
            results[source] = _without_baselined(result, fingerprints)
            if finished is not None:
                finished(results[source], len(results), len(tasks))
    return Audit(tuple(results[s] for s in request.sources), time.monotonic() - started, resumed)


def _size_hint(source: str) -> float:
    """The bytes of a local repository's object store (a bare one's, or its .git's); infinity
    for a URL."""
    if _is_url(source):
        return float("inf")
    path = Path(source)
    objects = path / ".git" / "objects" if (path / ".git").is_dir() else path / "objects"
    total = 0
    for folder, _, names in os.walk(objects):
        for name in names:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                pass
    return float(total)


def _refs(result: RepoResult | None) -> str | None:
    return result.refs if result is not None else None


def _is_url(source: str) -> bool:
    from scanner.sources.remote import is_url

    return is_url(source)


def _shown(source: str) -> str:
    from scanner.sources.remote import without_password

    return without_password(source)


def _unsaid(source: str, error: str | None) -> str | None:
    """ERROR without SOURCE's token or password, should git, GitPython or Dask have quoted the URL."""
    from scanner.sources.remote import scrub

    return scrub(error, source) if error else error


def _relay(progress: Progress | None, source: str) -> Callable[[str, float, float], None] | None:
    if progress is None:
        return None
    return lambda stage, done, total: progress(source, stage, done, total)


@contextmanager
def _executor(request: AuditRequest, count: int) -> Iterator[concurrent.futures.Executor]:
    if request.cluster is None:
        # Threads suffice: each thread's tasks run in a process of their own (audit_repo), so
        # --jobs processes scan at once, on --jobs CPUs.
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, min(request.jobs, count)))
        try:
            yield pool
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
            _end_children()
            pool.shutdown(wait=True)
        return
    client = connect(request.cluster)
    try:
        executor = client.get_executor(pure=False)
        try:
            yield executor
        finally:
            executor.shutdown(wait=False)
    finally:
        client.close()


def connect(address: str) -> Any:
    """A Dask Client of the scheduler at ADDRESS, or a ClusterError saying why not."""
    try:
        from distributed import Client
    except ImportError:
        raise ClusterError("--cluster needs Dask distributed, which is not installed: "
                           "pip install 'keysentry[cluster]'") from None
    import logging

    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        # Checked before connecting: a Client made with a bad one fails again when collected.
        parse_host_port(parse_address(address)[1])
    except (ValueError, TypeError) as exc:
        raise ClusterError(f"not a scheduler address: {address} ({exc}); e.g. tcp://host:8786") from None
    # A refused connection is retried until the timeout, each try logged: one line says it all.
    logging.getLogger("distributed").setLevel(logging.CRITICAL)
    try:
        return Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: {detail}") from None


# --- one task: what runs on a worker -------------------------------------------------------------

# A task's process audits repositories one after another (a fresh interpreter per repository
# cost more than most repositories' scans); it is replaced after this many, so that whatever one
# scan leaves in its memory cannot add up over thousands.
_REUSE = 100
_local = threading.local()


# The folder this keysentry is imported from (site-packages, or the checkout of an editable install).
_IMPORT_PATH = str(Path(__file__).absolute().parent.parent)
# The child's whole program. An audit is often started inside a checkout, and a Dask worker runs in
# whatever folder it was started in: `python -m` would put that folder first on sys.path, and a
# `scanner/` or `scanner.py` there would answer for keysentry (and report its repository clean).
# So Python starts isolated (-I: no current folder on sys.path, no PYTHON* variables, no user
# site), and imports keysentry from the folder the parent was imported from, first.
_CHILD_PROGRAM = """import sys
sys.path[:] = [p for p in sys.path if p not in ("", ".")]
sys.path.insert(0, sys.argv.pop(1))
from scanner.audit_child import main
raise SystemExit(main())"""


def child_command() -> list[str]:
    """How a repository's process is started, here or on a Dask worker. -I also drops
    PYTHONDONTWRITEBYTECODE, whose choice this process passes on as -B."""
    return [sys.executable, "-I", *(["-B"] if sys.dont_write_bytecode else []), "-c", _CHILD_PROGRAM, _IMPORT_PATH]


class _Runner:
    """The process (scanner/audit_child.py) that audits repositories for one thread of a pool or
    of a Dask worker, and its standard error, whose last line says why it died if it does."""

    def __init__(self) -> None:
        self.errors = tempfile.TemporaryFile()  # noqa: SIM115 - closed with the child
        self.proc = subprocess.Popen(child_command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.errors, start_new_session=True)
        self.used = 0
        with _children_lock:
            _children.add(self.proc)

    def usable(self) -> bool:
        return self.proc.poll() is None and self.used < _REUSE

    def close(self) -> None:
        _end(self.proc)
        self.proc.wait()
        with _children_lock:
            _children.discard(self.proc)
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass
        self.errors.close()

    def last_words(self) -> str:
        self.errors.seek(0)
        said = [ln.strip() for ln in self.errors.read().decode("utf-8", "replace").splitlines() if ln.strip()]
        return said[-1] if said else ""


def audit_repo(task: RepoTask, progress: Callable[[str, float, float], None] | None = None) -> dict[str, Any]:
    """Audit one repository in a process apart from the caller's (a timeout ends that process, git
    included; a crash in it ends only this repository); the answer of scanner/audit_child.py."""
    if not task.clones:
        task = replace(task, clones=str(_worker_scratch()))
    started = time.monotonic()
    runner: _Runner | None = getattr(_local, "runner", None)
    if runner is None or not runner.usable():
        if runner is not None:
            runner.close()
        runner = _local.runner = _Runner()
    proc = runner.proc
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        _end(proc)

    timer = threading.Timer(task.timeout, expire) if task.timeout else None
    answer: dict[str, Any] | None = None
    try:
        if timer is not None:
            timer.start()
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(json.dumps(asdict(task)).encode() + b"\n")
            proc.stdin.flush()
        except BrokenPipeError:
            pass  # it died before taking the task: said below
        for line in proc.stdout:
            message = json.loads(line)
            if "progress" not in message:
                answer = message
                break
            if progress is not None:
                progress(*message["progress"])
    finally:
        if timer is not None:
            timer.cancel()
    runner.used += 1
    if answer is not None and not expired.is_set():
        return answer
    status = proc.wait()
    words = runner.last_words()
    runner.close()
    _local.runner = None
    if expired.is_set():
        message = f"timed out after {task.timeout:g} seconds (--repo-timeout)"
    else:
        message = f"its scan process ended with status {status}" + (f": {words}" if words else "")
    return {"record": audit_record.encode(RepoResult(task.source, None, None, message, None,
                                                     time.monotonic() - started))}


def _worker_scratch() -> Path:
    """Where a cluster worker keeps clones: beside its Dask scratch space, shared by the workers of
    one host and kept between audits (so a rerun fetches), else the system's temporary folder."""
    try:
        from distributed import get_worker

        base = Path(get_worker().local_directory).parent
    except (ImportError, ValueError):
        base = Path(tempfile.gettempdir())
    return base / "keysentry-clones"


def _end(proc: subprocess.Popen[bytes]) -> None:
    """End PROC and whatever it started (git): its whole process group."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _end_children() -> None:
    with _children_lock:
        running = list(_children)
    for proc in running:
        _end(proc)


# --- results kept in --workdir -----------------------------------------------------------------

def _options(request: AuditRequest, fingerprints: frozenset[str]) -> dict[str, Any]:
    """What a stored result depends on besides the refs: another value means scanning again. A
    verified result also depends on the baseline, applied before verifying, on the request cap
    (the keys beyond it are `unknown`) and on --verify-owner (restrictions read or not). Not on
    --verify-cache or its max age: a cached verdict is Google's own answer, as a stored one is."""
    verified = request.verify_timeout is not None
    return {"version": __version__, "show_secrets": request.show_secrets,
            "config": _content_digest(request.config) if request.config else None,
            "max_file_size": request.max_file_size, "verify": verified, "unreachable": request.unreachable,
            "baseline": hashlib.sha256("\n".join(sorted(fingerprints)).encode()).hexdigest() if verified else None,
            **({"verify_max_requests": request.verify_max_requests or _default_max_requests(),
                "verify_owner": request.verify_owner}
               if verified else {})}


def _default_max_requests() -> int:
    from scanner.verify import DEFAULT_MAX_REQUESTS

    return DEFAULT_MAX_REQUESTS


def _content_digest(path: Path) -> str:
    """What a stored result depends on in a --config file: its content, not its name (an edit in
    place keeps the name). The repository's process also digests what it actually read, since on a
    cluster that is the worker's copy of the file."""
    from scanner.config import MAX_BYTES
    from scanner.output import read_regular

    try:
        return hashlib.sha256(read_regular(path, MAX_BYTES, "--config")).hexdigest()
    except KeysentryError as exc:
        return f"unreadable here: {exc}"


def _result_path(workdir: Path, source: str) -> Path:
    return workdir / "results" / f"{key(source)}.json"


def _load(workdir: Path, source: str, options: dict[str, Any]) -> RepoResult | None:
    """SOURCE's stored result, if there is a usable one made with the same OPTIONS."""
    try:
        data = json.loads(_result_path(workdir, source).read_text(encoding="utf-8"))
        if data.get("format") != _STORE_FORMAT or data.get("options") != options:
            return None
        return audit_record.decode(data["record"])
    except (OSError, ValueError, KeyError, TypeError):
        return None  # none yet, or unreadable: scanned again, and written anew


def _store(workdir: Path, source: str, options: dict[str, Any], result: RepoResult) -> None:
    from scanner.output import write_atomic

    data = {"format": _STORE_FORMAT, "options": options, "record": audit_record.encode(result)}
    write_atomic(_result_path(workdir, source), json.dumps(data, ensure_ascii=False))


# --- the baseline, applied here so that workers need not have its file --------------------------

def _baseline(path: Path | None) -> frozenset[str]:
    if path is None:
        return frozenset()
    from scanner import baseline

    return baseline.load(path)


def _without_baselined(result: RepoResult, fingerprints: frozenset[str]) -> RepoResult:
    view = result.view
    if view is None or not fingerprints:
        return result
    kept = tuple(f for f in view.findings if f.fingerprint not in fingerprints)
    if len(kept) == len(view.findings):
        return result
    stats = replace(view.stats)
    stats.baselined += len(view.findings) - len(kept)
    return replace(result, view=replace(view, findings=kept, stats=stats))
