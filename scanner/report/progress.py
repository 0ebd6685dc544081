"""A progress bar on stderr for long history scans; silent when disabled.

Showing the bar hides the terminal's cursor, so every way out must show it again: stop() is
idempotent and also runs when the bar is used as a context manager, at interpreter exit (a Ctrl-C
whose KeyboardInterrupt unwinds past a caller without try/finally) and from SIGINT/SIGTERM, where
the cursor is given back first with a lock-free write before the previous handler runs (it may end
the process without unwinding, as SIGTERM's default does).
"""
from __future__ import annotations

import atexit
import os
import signal
from types import FrameType, TracebackType
from typing import Any

_SHOW_CURSOR = b"\x1b[?25h"
_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Progress:
    def __init__(self, enabled: bool) -> None:
        self._enabled = enabled
        self._bar: Any = None
        self._task: Any = None
        self._owner = 0  # the pid that showed the bar; forked workers inherit the handlers
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()

    def start(self, blobs: int, total_bytes: int) -> None:
        if not self._enabled or self._bar is not None:
            return
        from rich.console import Console
        from rich.progress import BarColumn, Progress as Bar, ProgressColumn, Task, TextColumn, TimeRemainingColumn
        from rich.table import Column
        from rich.text import Text

        from scanner.report.text import size_text

        class Sizes(ProgressColumn):
            """The summary's units (blobs, and bytes in 1024-based KB/MB), not rich's 1000-based
            kB, so the bar's figures and the "Scanned N blobs in M commits (X MB)" line read alike."""

            def render(self, task: Task) -> Text:
                speed = f" {size_text(int(task.speed))}/s" if task.speed else ""
                return Text(f"{size_text(int(task.completed))} / {size_text(int(task.total or 0))}{speed}")

        # Short enough to fit 80 columns with room for the bar, which takes what is left.
        self._bar = Bar(
            TextColumn("scanning"), BarColumn(bar_width=None), Sizes(table_column=Column(no_wrap=True)),
            TextColumn("{task.fields[blobs]} / {task.fields[total_blobs]} blobs", table_column=Column(no_wrap=True)),
            TimeRemainingColumn(),
            console=Console(stderr=True), transient=True,
        )
        self._task = self._bar.add_task("scan", total=total_bytes, blobs=0, total_blobs=blobs)
        self._owner = os.getpid()
        atexit.register(self.stop)
        self._catch_signals()
        # A Ctrl-C inside rich's start() would leave it half started (and its stop() failing); held
        # back until start() returns, the signal then arrives at a point stop() can undo. The
        # refresh thread started meanwhile keeps them blocked, so they always reach this thread.
        held = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
        try:
            self._bar.start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)

    def advance(self, blobs: int, size: int) -> None:
        if self._bar is not None:
            done = self._bar.tasks[0].fields["blobs"] + blobs
            self._bar.update(self._task, advance=size, blobs=done)

    def stop(self) -> None:
        bar, self._bar = self._bar, None
        if bar is None or os.getpid() != self._owner:
            return
        atexit.unregister(self.stop)
        self._release_signals()
        try:
            bar.stop()
        except Exception:  # stderr gone, or rich interrupted half-way: still give the cursor back
            _show_cursor()

    def _catch_signals(self) -> None:
        for signum in _SIGNALS:
            try:
                self._previous[signum] = signal.signal(signum, self._on_signal)
            except ValueError:  # not the main thread: the with block and atexit still apply
                return

    def _release_signals(self) -> None:
        for signum, previous in self._previous.items():
            if signal.getsignal(signum) == self._on_signal:  # unless someone installed theirs since
                signal.signal(signum, previous)
        self._previous.clear()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        previous = self._previous.get(signum, signal.SIG_DFL)
        if os.getpid() == self._owner:
            _show_cursor()
        if callable(previous):
            previous(signum, frame)  # SIGINT's default raises KeyboardInterrupt: stop() runs later
        elif previous != signal.SIG_IGN:  # SIG_DFL, or a handler not set from Python
            self.stop()
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)


def _show_cursor() -> None:
    try:
        os.write(2, _SHOW_CURSOR)
    except OSError:
        pass
