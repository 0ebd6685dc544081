"""Repositories of an audit, one after another, in a process apart from the pool or Dask worker
that asked (`python -m scanner.audit_child`): clone or fetch each, then scan its history exactly
as `scan --history` does, and print the result.

A process apart is what lets --repo-timeout end a stuck clone or scan (its whole process group, git
included; the next repository gets a new process) and keeps a crash in one repository from taking
a pool or a Dask worker down with it. It reads tasks as JSON lines on standard input and writes
JSON lines on standard output: `{"progress": [stage, done, total]}` while cloning and scanning
(stage "scanning": the bytes so far), then one `{"record": …}` (audit_record) or
`{"unchanged": true}` when every ref and input is as the stored result says, per task.
It ends when its standard input does."""
from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import io
import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from scanner import audit_record, gitcmd
from scanner.errors import GitError, KeysentryError


@dataclass(frozen=True, repr=False)
class RepoTask:
    """What a worker needs to audit one repository; plain values, so it pickles for Dask."""

    source: str  # a clone URL, or a local repository's absolute path
    key: str  # names its clone and its stored result
    clones: str  # the folder its clone goes into (unused for a local repository)
    keep_clone: bool  # else the clone is removed once scanned
    known_refs: str | None  # the stored result's state digest (refs and inputs): equal means nothing to scan
    show_secrets: bool
    config: str | None
    max_file_size: int | None
    jobs: int
    timeout: float | None
    # --verify: each reported secret asked of Google here, on the worker, so that the full secret
    # never has to travel; the baseline's fingerprints come along, since a finding the user
    # accepted is never sent anywhere (scanner/verify.py).
    verify_timeout: float | None = None
    baselined: tuple[str, ...] = ()
    # --verify-max-requests (per repository), --verify-cache (a path this worker can reach: it
    # opens, reads and merges into the file itself, so the secret never leaves the worker),
    # --verify-max-age, --verify-owner (the worker's Application Default Credentials).
    verify_max_requests: int | None = None
    verify_cache: str | None = None
    verify_max_age: float | None = None
    verify_owner: bool = False
    unreachable: bool = False  # --unreachable: what no ref leads to as well

    def __repr__(self) -> str:
        # What Dask writes to a worker's log when a task fails: never the token in a clone URL.
        from scanner.sources.remote import without_password

        return f"RepoTask(source={without_password(self.source)!r}, key={self.key!r})"


def work(task: RepoTask, out: Any) -> dict[str, Any]:
    """The record (or unchanged marker) for TASK; progress lines go to OUT as they come."""
    from scanner.sources import remote

    started = time.monotonic()

    def failed(message: str, head: str | None = None) -> dict[str, Any]:
        return {"record": audit_record.encode(audit_record.RepoResult(
            task.source, head, None, message, None, time.monotonic() - started))}

    def report(stage: str, done: float, total: float) -> None:
        out.write(json.dumps({"progress": [stage, done, total]}) + "\n")
        out.flush()

    clone = Path(task.clones) / f"{task.key}.git"
    cloned = remote.is_url(task.source)
    try:
        with _clone_lock(clone, report) if cloned else contextlib.nullcontext():
            try:
                if cloned:
                    where = remote.fetch_or_clone(task.source, clone, report)
                else:
                    where = Path(task.source)
                    if not where.exists():
                        return failed(f"path not found: {task.source}")
                repo = gitcmd.find(where)
                if repo is None:
                    raise GitError(f"not a git repository: {task.source}")
                head, refs = remote.ref_state(repo)
                state = _state(refs, task, repo)
                if state == task.known_refs:
                    return {"unchanged": True}
                result = _scan(task, where, head, state, started, report)
                if cloned and remote.ref_state(repo)[1] != refs:
                    # The lock keeps keysentry's own runs apart; anything else that touched the
                    # clone meanwhile makes the scan's answer unknowable, never "clean".
                    return failed("its clone changed while it was scanned (another program fetched into it or "
                                  "removed it); audit it again", head)
                return {"record": audit_record.encode(result)}
            finally:
                if cloned and not task.keep_clone:
                    shutil.rmtree(clone, ignore_errors=True)
    except KeysentryError as exc:
        return failed(str(exc))
    except OSError as exc:  # a full disk, a folder we may not write
        return failed(f"{exc.strerror or exc}: {exc.filename or task.source}")


@contextlib.contextmanager
def _clone_lock(clone: Path, report: Callable[[str, float, float], None]) -> Iterator[None]:
    """CLONE held for this process alone while it is fetched, scanned and (unless kept) removed.

    Two audits sharing one --workdir, or two Dask workers of one host sharing their clone folder,
    would otherwise replace or remove a clone while the other scans it, and a repository holding a
    key would be reported clean. The lock is the kernel's (flock on a file beside the clone), let go
    when the process ends however it ends, a --repo-timeout included. Its file is removed while
    held; a process that was waiting on the removed file finds it gone and locks a new one."""
    clone.parent.mkdir(parents=True, exist_ok=True)
    path = clone.with_name(clone.name + ".lock")
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            report("waiting for another audit of it", 0, 0)
            fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            if os.stat(path).st_ino == os.fstat(fd).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(fd)  # removed by the holder we waited for: lock the one there now
    try:
        # A clone cut short (a process killed by --repo-timeout) leaves its partial folder behind;
        # whoever holds the lock may clear it.
        for partial in clone.parent.glob(f".{clone.name}.*.partial"):
            shutil.rmtree(partial, ignore_errors=True)
        yield
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass
        os.close(fd)


def _state(refs: str, task: RepoTask, repo: gitcmd.Repo) -> str:
    """One digest of everything a stored result stands for: where every ref points, the content of
    each config file the scan reads (--config, and the work tree's pyproject.toml and
    .keysentry.toml, which can change without a commit), and keysentry's own code and data (its
    rules). Names and dates are not enough: a config edited in place keeps both."""
    from scanner.config import MAX_BYTES
    from scanner.output import read_regular

    digest = hashlib.sha256(f"{refs}\0{_code_digest()}\0".encode())
    if task.unreachable:  # what no ref leads to changes without any ref moving (a reset, a gc)
        from scanner.sources import unreachable

        digest.update(f"unreachable\0{unreachable.dangling(repo).digest()}\0{unreachable.reflogs(repo)}\0".encode())
    configs = [Path(task.config)] if task.config else []
    for path in (*configs, repo.root / "pyproject.toml", repo.root / ".keysentry.toml"):
        try:
            content = hashlib.sha256(read_regular(path, MAX_BYTES, "config")).hexdigest()
        except KeysentryError as exc:  # none, or unreadable: the scan says which, if it matters
            content = f"none: {exc}"
        digest.update(f"{path}\0{content}\0".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


@functools.cache
def _code_digest() -> str:
    """A digest of every file of the keysentry package this process runs (code, rules, data): a
    result stored by another build of it, on this machine or a Dask worker, is not reused."""
    package = Path(__file__).parent
    digest = hashlib.sha256()
    for path in sorted(p for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(f"{path.relative_to(package).as_posix()}\0".encode("utf-8", "surrogateescape"))
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


# How often the bytes scanned so far are told to the audit's display: often enough to move, not so
# often that a repository of many small blobs floods the pipe.
_TELL_EVERY = 0.2


def _scan(task: RepoTask, where: Path, head: str | None, refs: str, started: float,
          report: Callable[[str, float, float], None]) -> audit_record.RepoResult:
    from scanner import scan
    from scanner.report import Options, present

    scanned = 0
    told = time.monotonic()

    def on_scanned(size: int) -> None:
        nonlocal scanned, told
        scanned += size
        if time.monotonic() - told >= _TELL_EVERY:
            told = time.monotonic()
            report("scanning", scanned, 0)

    report("scanning", 0, 0)
    result = scan.run(scan.Request(mode="history", path=where, config=Path(task.config) if task.config else None,
                                   jobs=task.jobs, max_file_size=task.max_file_size, on_scanned=on_scanned,
                                   unreachable=task.unreachable))
    if task.verify_timeout is not None:
        from scanner import verify

        accepted = frozenset(task.baselined)
        kept = tuple(f for f in result.findings if f.fingerprint not in accepted)
        result.stats.baselined += len(result.findings) - len(kept)
        client = verify.Client(task.verify_timeout, verify.endpoint_override(os.environ),
                               max_requests=task.verify_max_requests or verify.DEFAULT_MAX_REQUESTS)
        owner = None
        if task.verify_owner:
            from scanner import verify_owner

            owner = verify_owner.credentials(client)
        # Opened now, after the scan, so that it holds what the other repositories' workers have
        # saved meanwhile; saved at once for the same reason.
        cache = None
        if task.verify_cache is not None:
            from scanner.verify_cache import DEFAULT_MAX_AGE, Cache

            cache = Cache(Path(task.verify_cache),
                          DEFAULT_MAX_AGE if task.verify_max_age is None else task.verify_max_age)
        result = verify.verify_result(replace(result, findings=kept), client, cache, owner)
        if cache is not None:
            try:
                cache.save()
            except OSError as exc:  # the verdicts stand; only the next run will ask again
                result.stats.warnings.append(f"cannot write --verify-cache {task.verify_cache}: {exc.strerror or exc}")
    # Redacted here, on the worker: the full secret never leaves it unless the user asked.
    view = present(result, Options(show_secrets=task.show_secrets))
    return audit_record.RepoResult(task.source, head, refs, None, view, time.monotonic() - started)


def main() -> int:
    """Audit each task read, one JSON line each, until standard input ends (the caller went away)."""
    # What crosses the pipes is JSON in ASCII (\u escapes, lone surrogates of a non-UTF-8 path
    # included), read and written as UTF-8 whatever the locale or PYTHONIOENCODING says: a path the
    # locale cannot encode (LANG=C, latin-1) must not end the process.
    for stream in (sys.stdin, sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(encoding="utf-8", errors="backslashreplace" if stream is sys.stderr else "strict")
    for line in sys.stdin:
        task = RepoTask(**json.loads(line))
        try:
            answer = work(task, sys.stdout)
        except Exception as exc:  # a bug must still come back as this repository's error, not a lost task
            answer = {"record": audit_record.encode(audit_record.RepoResult(
                task.source, None, None, f"internal error: {type(exc).__name__}: {exc}", None))}
        try:
            sys.stdout.write(json.dumps(answer) + "\n")
            sys.stdout.flush()
        except BrokenPipeError:
            return 0  # the caller is gone (a killed worker): nobody to answer
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
