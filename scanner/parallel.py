"""Fan work out to worker processes, streaming results back as they finish."""
from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterable, Iterator, Sized
from typing import Any, TypeVar

from scanner.errors import ResourceError

T = TypeVar("T")
R = TypeVar("R")

# The work is CPU-bound: more workers than this per CPU only cost memory and start-up.
_PER_CPU = 2

# Every signal whose default ends the process, but SIGINT (KeyboardInterrupt) and SIGQUIT (a person
# asking for a core dump): the CLI turns each into an exception, so that a half-written report's
# temporary file is removed and the workers ended; SIGPIPE Python ignores itself.
TERMINATING: frozenset[int] = frozenset(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP", "SIGUSR1", "SIGUSR2", "SIGALRM", "SIGVTALRM",
                                       "SIGPROF", "SIGXCPU") if hasattr(signal, name))


def cpu_count() -> int:
    """The CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def default_jobs() -> int:
    return cpu_count()


def worker_count(jobs: int, work: int | None = None, chunksize: int = 1) -> int:
    """How many processes JOBS asks for, at most what the CPUs and WORK items (if known) can use."""
    count = min(jobs, _PER_CPU * cpu_count())
    if work is not None:
        count = min(count, -(-work // max(1, chunksize)))
    return max(1, count)


def _init_worker(initializer: Callable[..., None] | None, initargs: tuple[Any, ...],
                 finalizer: Callable[[], None] | None = None) -> None:
    # Ctrl-C reaches the whole process group; only the parent decides what to do about it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A fork inherits the parent's SIGTERM handler, which raises; the parent ends the pool with
    # SIGTERM, and a worker must then just die, without a traceback. SIGTERM is blocked until the
    # default is in place (see imap): one caught by the inherited handler just before would be lost
    # and leave the parent waiting for a worker that never ends.
    # The same for every terminating signal the CLI catches (a SIGHUP reaches the whole group).
    for signum in TERMINATING:
        signal.signal(signum, signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, TERMINATING)
    if initializer is not None:
        initializer(*initargs)
    if finalizer is not None:
        # Run when the worker leaves its loop at the pool's close (multiprocessing's own exit
        # step): what the initializer started (a cat-file) ends and is reaped before the worker
        # does, instead of being left to finish on its own after keysentry has exited.
        from multiprocessing import util

        util.Finalize(None, finalizer, exitpriority=10)


def imap(func: Callable[[T], R], items: Iterable[T], jobs: int, *, initializer: Callable[..., None] | None = None,
         initargs: tuple[Any, ...] = (), chunksize: int = 1, finalizer: Callable[[], None] | None = None,
         work: int | None = None) -> Iterator[R]:
    """func over items, in up to jobs processes (or inline for one); results in completion order.

    WORK is how many items there are, when the caller knows (a list's length is used anyway):
    no more processes are started than there are chunks of work.
    """
    if work is None and isinstance(items, Sized):
        work = len(items)
    jobs = worker_count(jobs, work, chunksize)
    if jobs <= 1:
        if initializer is not None:
            initializer(*initargs)
        try:
            yield from map(func, items)
        finally:
            if finalizer is not None:
                finalizer()
        return
    import multiprocessing  # a pre-commit run on a few files never needs it

    ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    # Workers, and the pool's threads that may fork more of them later, start with SIGTERM blocked.
    blocked = _block_sigterm()
    try:
        pool = _pool_class()(jobs, initializer=_init_worker, initargs=(initializer, initargs, finalizer), context=ctx)
    except OSError as exc:  # fork refused: the process limit (EAGAIN) or memory; Pool reaped the rest
        _restore(blocked)
        raise ResourceError(f"cannot start {jobs} worker processes: {exc.strerror or exc} "
                            "(try a smaller --jobs, or --jobs 1)") from None
    finished = False
    try:
        _restore(blocked)  # a SIGTERM that came meanwhile is raised here, where the pool is ended
        yield from pool.imap_unordered(func, items, chunksize=chunksize)
        # All done: the workers leave their loop, run the finalizer and exit, and are reaped.
        # (terminate() would kill them at once, and the git processes they started would outlive
        # the scan.)
        pool.close()
        pool.join()
        finished = True
    finally:
        if not finished:  # an error, an interrupt, a consumer that stopped early: end them now
            pool.terminate()
            pool.join()


def _pool_class() -> type[Any]:
    """multiprocessing's Pool, minus a busy loop: its thread that keeps the workers alive also wakes
    on every result waiting in the result pipe, and spins until the result thread (which needs the
    GIL it holds) has read it. On pytest's history that thread took 0.4 s of CPU, a tenth of the
    whole scan's, doing nothing. Waking on a worker's exit and on the pool's own notices (close,
    terminate, all work done) is all it needs: workers never retire here (no maxtasksperchild)."""
    from multiprocessing import pool

    class Pool(pool.Pool):
        def _get_sentinels(self) -> list[Any]:
            return [self._change_notifier._reader]  # type: ignore[attr-defined]

    return Pool


def _block_sigterm() -> set[int | signal.Signals] | None:
    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - not POSIX
        return None
    return signal.pthread_sigmask(signal.SIG_BLOCK, TERMINATING)


def _restore(mask: set[int | signal.Signals] | None) -> None:
    if mask is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
