"""An audit's progress on stderr (a terminal only): one overall bar, repositories done of all and
bytes scanned, a transient line per repository under way (its clone's progress, fed by
GitPython's RemoteProgress in the task's process, then the bytes its scan has read, local
repositories included), and a printed line per repository as it finishes."""
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
        self._clones: dict[str, Any] = {}  # a transient line per repository under way
        self._running: dict[str, int] = {}  # bytes scanned so far of each repository under way
        self._lock = threading.Lock()
        self._bytes = 0

    def __enter__(self) -> "AuditProgress":
        if not self._enabled:
            return self
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        # Repository names and URLs are anybody's: shown as text, never read as rich markup (a
        # `[link=…]` would write a hyperlink escape, a stray `[/x]` end the audit).
        self._bar = Progress(TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(),
                             TextColumn("{task.fields[note]}", markup=False), TimeElapsedColumn(),
                             console=Console(stderr=True), transient=True)
        self._overall = self._bar.add_task("repositories", total=self._total, note="")
        self._bar.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        bar, self._bar = self._bar, None
        if bar is not None:
            bar.stop()

    def working(self, source: str, stage: str, done: float, total: float) -> None:
        """A repository under way reported progress (called from the task's thread): a clone's
        stage and objects, or "scanning" and the bytes scanned so far (local repositories too)."""
        from scanner.report import printable

        with self._lock:
            if self._bar is None:
                return
            task = self._clones.get(source)
            if task is None:
                task = self._clones[source] = self._bar.add_task(f"  {printable(source)[-50:]}", total=None,
                                                                  note="")
            if stage == "scanning":
                self._running[source] = int(done)
                self._bar.update(task, completed=0, total=None, note=f"scanning: {done / 1e6:,.1f} MB")
                self._bar.update(self._overall, note=self._scanned())
            else:
                self._bar.update(task, completed=done, total=total or None, note=stage)

    def _scanned(self) -> str:
        return f"{(self._bytes + sum(self._running.values())) / 1e6:,.1f} MB scanned"

    def finished(self, repo: "RepoResult", done: int, total: int) -> None:
        from scanner.report.audit import repository_line

        with self._lock:
            if self._bar is None:
                return
            clone = self._clones.pop(repo.source, None)
            if clone is not None:
                self._bar.remove_task(clone)
            self._running.pop(repo.source, None)
            self._bytes += repo.view.stats.bytes if repo.view else 0
            self._bar.console.print(repository_line(repo), markup=False, highlight=False)
            self._bar.update(self._overall, completed=done, note=self._scanned())
