"""A scan's cost measured as the tests that guard against superlinear cost measure it: in the CPU
time of the thread that scans (`time.thread_time`), two sizes in the same run, their ratio against
a bound. Other processes taking the CPU slow neither size, so a ratio needs no quiet machine, and
an absolute time would measure the machine instead (a wall-clock bound fails on a loaded one)."""
from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

import pytest

MB = 1 << 20
# Four times the input may cost at most this many times as much: linear is 4, quadratic 16.
RATIO = 6.0
# Below this a time is timer noise, not cost: a ratio of two such times means nothing.
FLOOR = 0.05


class TooSlow(Exception):
    pass


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Interrupt a scan after SECONDS of this process's CPU time (the regex engine checks for
    signals while it runs): on a busy machine wall time would fail a linear scan."""
    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise TooSlow

    previous = signal.signal(signal.SIGPROF, interrupt)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


def cpu_cost(what: str, work: Callable[[], object], limit: float) -> float:
    """The CPU seconds WORK takes; over LIMIT seconds it fails the test (as WHAT) instead of hanging."""
    started = time.thread_time()
    try:
        with deadline(limit):
            work()
    except TooSlow:
        pytest.fail(f"{what} took over {limit:.0f} s")
    return time.thread_time() - started


def ratio(one: float, four: float) -> float:
    return max(four, FLOOR) / max(one, FLOOR)


def grows_linearly(what: str, cost: Callable[[int], float], small: int) -> None:
    """COST(size) at SMALL and four times SMALL grow by less than RATIO. A ratio over the bound gets
    two more looks at both sizes (caches and frequency scaling still move CPU time a little) before
    it counts: a quadratic cost stays at 16x however often it is measured; noise does not."""
    one, four = cost(small), cost(4 * small)
    for _ in range(2):
        if ratio(one, four) < RATIO:
            break
        one, four = min(one, cost(small)), min(four, cost(4 * small))
    grows = ratio(one, four)
    sizes = f"{small // 1024} KB {one:.3f} s, {4 * small // 1024} KB {four:.3f} s"
    print(f"{what}: {sizes}, ratio {grows:.2f}")
    assert grows < RATIO, f"{what}: {sizes}: {grows:.1f}x for 4x the input"
