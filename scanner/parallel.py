"""Fan work out to worker processes, streaming results back as they finish."""
from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _init_worker(initializer: Callable[..., None] | None, initargs: tuple[Any, ...]) -> None:
    # Ctrl-C reaches the whole process group; only the parent decides what to do about it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if initializer is not None:
        initializer(*initargs)


def imap(func: Callable[[T], R], items: Iterable[T], jobs: int, *, initializer: Callable[..., None] | None = None,
         initargs: tuple[Any, ...] = (), chunksize: int = 1, finalizer: Callable[[], None] | None = None) -> Iterator[R]:
    """func over items, in jobs processes (or inline for one job); results in completion order."""
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
    pool = ctx.Pool(jobs, initializer=_init_worker, initargs=(initializer, initargs))
    try:
        yield from pool.imap_unordered(func, items, chunksize=chunksize)
        pool.close()
    finally:
        pool.terminate()
        pool.join()
