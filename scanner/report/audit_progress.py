"""An audit's progress on stderr (a terminal only): one overall bar, repositories done of all and
bytes scanned, a transient line per clone under way (fed by GitPython's RemoteProgress in the
task's process), and a printed line per repository as it finishes."""
from __future__ import annotations

import threading
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scanner.audit_record import RepoResult


class AuditProgress:
    def __init__(self, enabled: bool, total: int) -> None:
        self._enabled = enabled
        self._total = total
        self._bar: Any = None
        self._overall: Any = None
        self._clones: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._bytes = 0

    def __enter__(self) -> "AuditProgress":
        if not self._enabled:
            return self
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                             TextColumn("{task.fields[note]}"), TimeElapsedColumn(),
                             console=Console(stderr=True), transient=True)
        self._overall = self._bar.add_task("repositories", total=self._total, note="")
        self._bar.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        bar, self._bar = self._bar, None
        if bar is not None:
            bar.stop()

    def cloning(self, source: str, stage: str, done: float, total: float) -> None:
        """A clone under way reported progress (called from the task's thread)."""
        from scanner.report import printable

        with self._lock:
            if self._bar is None:
                return
            task = self._clones.get(source)
            if task is None:
                task = self._clones[source] = self._bar.add_task(f"  {printable(source)[-50:]}", total=None,
                                                                  note="")
            self._bar.update(task, completed=done, total=total or None, note=stage)

    def finished(self, repo: "RepoResult", done: int, total: int) -> None:
        from scanner.report.audit import repository_line

        with self._lock:
            if self._bar is None:
                return
            clone = self._clones.pop(repo.source, None)
            if clone is not None:
                self._bar.remove_task(clone)
            self._bytes += repo.view.stats.bytes if repo.view else 0
            self._bar.console.print(repository_line(repo), markup=False, highlight=False)
            self._bar.update(self._overall, completed=done, note=f"{self._bytes / 1e6:,.1f} MB scanned")
