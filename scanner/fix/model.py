"""What `keysentry fix` plans and does, as frozen records between the planner, the writer and the report."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

StepKind = Literal["by-hand", "restrict", "move-export", "rotate", "skipped"]


@dataclass(frozen=True)
class FileChange:
    """One file's new content. BEFORE is what the plan was made from (None: the file is new); the
    writer replaces the file only while it still holds exactly that."""

    path: str  # relative to the repository root, "/"-separated
    before: bytes | None
    after: bytes
    why: tuple[str, ...]  # one line per fix made in it, for the report
    private: bool = False  # created readable by its owner only (.env holds secrets)


@dataclass(frozen=True)
class Step:
    """Something the user does: a fix keysentry cannot make safely (and why), or commands to run."""

    kind: StepKind
    path: str
    line: int
    rule_id: str
    text: str
    commands: tuple[str, ...] = ()


@dataclass(frozen=True)
class Plan:
    root: Path
    changes: tuple[FileChange, ...]
    untrack: tuple[str, ...]  # paths to `git rm --cached` (the file stays on disk)
    variables: tuple[str, ...]  # the names whose values go into .env
    steps: tuple[Step, ...]
    secrets: tuple[str, ...]  # every secret the plan touches, so that the report can redact them
    findings: int  # how many findings the scan reported
    warnings: tuple[str, ...] = ()  # what the scan could not read (said on standard error)

    @property
    def empty(self) -> bool:
        return not (self.changes or self.untrack or self.steps)


@dataclass(frozen=True)
class Outcome:
    """What --apply did: files written, files untracked, files skipped because they changed (and why)."""

    written: tuple[str, ...]
    untracked: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]
