"""`keysentry fix`: repair what a working-tree scan found (scanner.fix.plan decides, scanner.fix.apply
writes), and plan the history clean-up (scanner.fix.history)."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from scanner.errors import UsageError

if TYPE_CHECKING:
    from scanner.fix.history import HistoryPlan
    from scanner.fix.model import Plan


def plan_worktree(path: Path, *, config: Path | None = None, baseline: Path | None = None, jobs: int | None = None,
                  max_file_size: int | None = None, keep_values: bool = True, show_secrets: bool = False) -> Plan:
    """Scan the working tree at PATH as `keysentry scan` would, and plan the fixes of what it found."""
    from scanner import gitcmd, parallel, scan
    from scanner.fix import plan

    if not path.exists():
        raise UsageError(f"no such folder: {path}")
    if not path.is_dir():
        raise UsageError(f"keysentry fix takes a folder (the repository or a folder in it), not a file: {path}")
    repo = gitcmd.find(path)
    if repo is None:
        raise UsageError(f"keysentry fix needs a git repository (it keeps keys in a git-ignored .env): {path} is "
                         "not inside one")
    if repo.bare:
        raise UsageError(f"{path} is a bare repository: there is no working tree to fix (see --history)")
    result = scan.run(scan.Request(mode="worktree", path=path, config=config, baseline=baseline,
                                   jobs=jobs or parallel.default_jobs(), max_file_size=max_file_size))
    import dataclasses

    built = plan.build(repo.root, result.findings, keep_values=keep_values, show_secrets=show_secrets)
    return dataclasses.replace(built, warnings=tuple(result.stats.warnings))


def plan_history(path: Path, *, config: Path | None = None, baseline: Path | None = None, jobs: int | None = None,
                 max_file_size: int | None = None, verifier: object | None = None) -> HistoryPlan:
    """Scan every commit reachable from any ref of the repository at PATH and plan the clean-up."""
    from scanner import gitcmd, parallel, scan
    from scanner.fix import history

    if not path.is_dir():
        raise UsageError(f"no such folder: {path}")
    repo = gitcmd.find(path)
    if repo is None:
        raise UsageError(f"keysentry fix --history needs a git repository: {path} is not inside one")
    result = scan.run(scan.Request(mode="history", path=path, config=config, baseline=baseline,
                                   jobs=jobs or parallel.default_jobs(), max_file_size=max_file_size))
    if verifier is not None:
        from scanner import verify

        assert isinstance(verifier, verify.Client)
        result = verify.verify_result(result, verifier)
    return history.plan(result, repo.root, verified=verifier is not None)
