"""`keysentry fix --history`: the clean-up plan for secrets in the history — which keys to rotate first,
the `git filter-repo --replace-text` file and the `--invert-paths` of committed .env files, run in a fresh
mirror clone and never in the user's own repository, then the force-push and what collaborators do.

With --apply (and --mirror DIR) the plan is run: a mirror clone into DIR, git-filter-repo (the PyPI
package, the `history` extra) over it, and a history scan of the result that proves the secrets gone.
Nothing is ever pushed."""
from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from scanner import gitcmd
from scanner.errors import UsageError
from scanner.models import Finding, Result
from scanner.rules.dotenv import DOTENV_FILE

REPLACEMENT = "***REMOVED-BY-KEYSENTRY***"
_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")


@dataclass(frozen=True)
class HistoryPlan:
    source: Path  # the repository the mirror is cloned from
    rotate: tuple[Finding, ...]  # one finding per secret, in the order to rotate them
    remove_paths: tuple[str, ...]  # committed .env files: removed from every commit
    still_in_head: tuple[Finding, ...]  # fix these in the working tree (and commit) first
    remote: str  # where the rewritten history would be pushed ("" when there is no origin)
    findings: int
    verified: bool  # --verify ran, so "live" is known

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(f.secret for f in self.rotate)


@dataclass(frozen=True)
class HistoryOutcome:
    mirror: Path
    remaining: tuple[Finding, ...]  # planned secrets a history scan of the rewritten clone still finds


def plan(result: Result, source: Path, *, verified: bool) -> HistoryPlan:
    """The clean-up of RESULT, a history scan of SOURCE."""
    by_secret: dict[str, Finding] = {}
    for finding in result.findings:
        if finding.rule_id == DOTENV_FILE.id or not finding.secret:
            continue
        by_secret.setdefault(finding.secret, finding)
        if finding.in_head:
            by_secret[finding.secret] = finding  # the one still in HEAD is the one to name

    def urgency(f: Finding) -> tuple[int, int, str]:
        live = f.verification is not None and f.verification.status == "live"
        return (0 if live else 1, 0 if f.in_head else 1, f.date or "")

    rotate = tuple(sorted(by_secret.values(), key=urgency))
    # A secret inside an archive is compressed in it: the archive leaves the history whole.
    remove = _with_renames(source, list(dict.fromkeys(
        p for f in result.findings if f.rule_id == DOTENV_FILE.id or f.archive
        for p in (f.archives() or (f.path, *f.head_paths)))))
    in_head = tuple(f for f in result.findings if f.in_head)
    return HistoryPlan(source, rotate, remove, in_head, _remote(source), len(result.findings), verified)


def _with_renames(source: Path, paths: list[str]) -> tuple[str, ...]:
    """PATHS and every path a commit renamed one of them to (a committed .env moved to config/.env is
    one finding, but both paths must leave the history)."""
    if not paths:
        return ()
    try:
        out = gitcmd.run(source, "log", "--all", "-M", "--name-status", "-z", "--format=", "--diff-filter=RC")
    except Exception:
        return tuple(paths)
    fields = out.decode("utf-8", "surrogateescape").split("\0")
    moves: list[tuple[str, str]] = []
    i = 0
    while i + 2 < len(fields):
        if fields[i][:1] in ("R", "C"):
            moves.append((fields[i + 1], fields[i + 2]))
            i += 3
        else:
            i += 1
    found = dict.fromkeys(paths)
    grew = True
    while grew:
        grew = False
        for old, new in moves:
            if old in found and new not in found:
                found[new] = None
                grew = True
    return tuple(found)


def _remote(source: Path) -> str:
    try:
        url = gitcmd.run(source, "remote", "get-url", "origin").decode("utf-8", "replace").strip()
    except Exception:
        return ""
    return _USERINFO.sub("", url)  # a token in the URL is never printed


def replacements(plan: HistoryPlan, show_secrets: bool) -> str:
    """git filter-repo's --replace-text file: one `SECRET==>REPLACEMENT` a line (literal matches)."""
    from scanner.report import redact

    # `literal:` so that a secret that happens to start with `regex:` or `glob:` is still taken as it is.
    return "".join(f"literal:{f.secret if show_secrets else redact(f.secret)}==>{REPLACEMENT}\n" for f in plan.rotate)


def filter_repo_command(*args: str) -> list[str]:
    """git-filter-repo as a module of this Python, isolated (-I): it runs inside the mirror clone, and
    nothing there may be imported in its place."""
    return [sys.executable, "-I", "-m", "git_filter_repo", *args]


def filter_repo_args(plan: HistoryPlan, replacements_file: str) -> list[str]:
    args = ["--replace-text", replacements_file, "--replace-message", replacements_file]
    if plan.remove_paths:
        args.append("--invert-paths")
        for path in plan.remove_paths:
            args += ["--path", path]
    return args


def run(plan: HistoryPlan, mirror: Path, *, config: Path | None = None, jobs: int = 1) -> HistoryOutcome:
    """Run PLAN in a new mirror clone at MIRROR, then scan the clone's history. Never pushes."""
    if plan.still_in_head:
        raise UsageError(f"{len(plan.still_in_head)} secret(s) are still in HEAD: fix the working tree first "
                         "(`keysentry fix --apply`, then commit), so that rewriting the history does not change "
                         "the code that runs")
    if os.path.lexists(mirror):
        raise UsageError(f"{mirror} already exists: name a new folder for the rewritten mirror clone")
    if not mirror.parent.is_dir():
        raise UsageError(f"cannot create {mirror}: folder {mirror.parent} does not exist")
    if importlib.util.find_spec("git_filter_repo") is None:
        raise UsageError("rewriting the history needs git-filter-repo: pip install 'keysentry[history]'")
    # The user's own repository, cloned by path: the file transport is the one the clone needs.
    clone = subprocess.run(gitcmd.argv(mirror.parent, "clone", "--quiet", "--mirror", "--", str(plan.source),
                                       str(mirror)),
                           capture_output=True, env={**gitcmd.env(), "GIT_ALLOW_PROTOCOL": "file"}, check=False)
    if clone.returncode != 0:
        raise UsageError(gitcmd.describe_failure(clone.stderr, ["clone"]))
    # The replacement file holds the secrets: private, outside both repositories, gone afterwards.
    fd, listing = tempfile.mkstemp(prefix="keysentry-replacements-", suffix=".txt")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(replacements(plan, show_secrets=True))
        proc = subprocess.run(filter_repo_command("--quiet", *filter_repo_args(plan, listing)), cwd=mirror, capture_output=True, env={**gitcmd.env(), "LC_ALL": "C"}, check=False)
    finally:
        os.unlink(listing)
    if proc.returncode != 0:
        lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise UsageError(f"git filter-repo failed in {mirror}: {lines[-1] if lines else proc.returncode}")
    from scanner import scan

    after = scan.run(scan.Request(mode="history", path=mirror, config=config, jobs=jobs))
    planned = set(plan.secrets) | set(plan.remove_paths)
    remaining = tuple(f for f in after.findings if f.secret in planned or f.path in planned)
    return HistoryOutcome(mirror, remaining)
