"""A progress bar on stderr for long history scans; silent when disabled."""
from __future__ import annotations

from typing import Any


class Progress:
    def __init__(self, enabled: bool) -> None:
        self._enabled = enabled
        self._bar: Any = None
        self._task: Any = None

    def start(self, blobs: int, total_bytes: int) -> None:
        if not self._enabled:
            return
        from rich.console import Console
        from rich.progress import (BarColumn, DownloadColumn, Progress as Bar, TextColumn,
                                   TimeRemainingColumn, TransferSpeedColumn)

        self._bar = Bar(
            TextColumn("scanning history"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
            TextColumn("{task.fields[blobs]} / {task.fields[total_blobs]} blobs"), TimeRemainingColumn(),
            console=Console(stderr=True), transient=True,
        )
        self._task = self._bar.add_task("scan", total=total_bytes, blobs=0, total_blobs=blobs)
        self._bar.start()

    def advance(self, blobs: int, size: int) -> None:
        if self._bar is not None:
            done = self._bar.tasks[0].fields["blobs"] + blobs
            self._bar.update(self._task, advance=size, blobs=done)

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
