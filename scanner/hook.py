"""`keysentry hook pre-push`: work out which commits a push sends, and scan exactly those.

Two callers: git itself (a plain hook passes the remote's name and URL as arguments and one line
per pushed ref on standard input) and the pre-commit framework (which reads standard input itself
and hands the first pushed ref over in PRE_COMMIT_* environment variables).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

from scanner import gitcmd, scan
from scanner.errors import GitError, UsageError
from scanner.models import Finding, Stats

ZERO = "0" * 40


class Update(NamedTuple):
    """One line of git's pre-push input: `<local ref> <local sha> <remote ref> <remote sha>`."""

    local_ref: str
    local_sha: str
    remote_ref: str
    remote_sha: str


def parse_updates(text: str) -> list[Update]:
    updates = []
    for line in text.splitlines():
        if not line.strip():
            continue
        # The local ref is what the user typed (`HEAD`, `main`, `(delete)`); the other three
        # fields never hold spaces, so split from the right.
        parts = line.rsplit(maxsplit=3)
        if len(parts) != 4:
            raise UsageError(f"pre-push: cannot read this line of git's input: {line!r}")
        updates.append(Update(*parts))
    return updates


def updates_from_environment(repo: Path, environ: Mapping[str, str]) -> list[Update]:
    """The pushed ref as the pre-commit framework describes it.

    It sets PRE_COMMIT_FROM_REF/TO_REF for an update, and only the branch names when the remote
    has none of the branch's history (a new branch with its root commit); run by hand
    (`pre-commit run --hook-stage pre-push`) it sets neither, and the current branch is checked.
    """
    to_ref = environ.get("PRE_COMMIT_TO_REF")
    if to_ref:
        from_ref = environ.get("PRE_COMMIT_FROM_REF") or ZERO
        return [Update(environ.get("PRE_COMMIT_LOCAL_BRANCH", to_ref), _resolve(repo, to_ref),
                       environ.get("PRE_COMMIT_REMOTE_BRANCH", ""), _resolve(repo, from_ref, must=False))]
    local = environ.get("PRE_COMMIT_LOCAL_BRANCH") or "HEAD"
    return [Update(local, _resolve(repo, local), environ.get("PRE_COMMIT_REMOTE_BRANCH", ""), ZERO)]


def _resolve(repo: Path, rev: str, must: bool = True) -> str:
    if set(rev) == {"0"}:
        return ZERO
    out = gitcmd.run(repo, "rev-parse", "-q", "--verify", f"{rev}^{{commit}}", ok=(0, 1)).decode().strip()
    if not out and must:
        raise GitError(f"pre-push: {rev!r} is not a commit in this repository")
    return out or ZERO


def revision_range(repo: Path, update: Update, remote: str | None) -> str | None:
    """The commits this update sends, as one `--range` argument; None when it sends none."""
    if update.local_sha == ZERO:
        return None  # a deletion sends nothing
    if update.remote_sha != ZERO and _is_commit(repo, update.remote_sha):
        return f"{update.remote_sha}..{update.local_sha}"
    # A new branch (or a remote tip we have never fetched): the commits no remote-tracking ref has.
    out = gitcmd.run(repo, "rev-list", "--boundary", update.local_sha, "--not", _remotes(repo, remote), "--")
    lines = out.decode().split()
    if not lines:
        return None
    boundary = sorted(line[1:] for line in lines if line.startswith("-"))
    if not boundary:
        return update.local_sha  # the remote has none of it: every commit back to the root
    if len(boundary) == 1:
        return f"{boundary[0]}..{update.local_sha}"
    return " ".join([update.local_sha, *(f"^{sha}" for sha in boundary)])


def _is_commit(repo: Path, sha: str) -> bool:
    return gitcmd.run(repo, "cat-file", "-t", sha, ok=(0, 1, 128)).strip() == b"commit"


def _remotes(repo: Path, remote: str | None) -> str:
    """`--remotes=NAME` for a configured remote, else every remote-tracking ref (a push to a URL)."""
    if remote and not remote.startswith("-") and gitcmd.run(
            repo, "config", "--get", f"remote.{remote}.url", ok=(0, 1)).strip():
        return f"--remotes={remote}"
    return "--remotes"


def pre_push(base: scan.Request, remote: str | None, stdin_text: str | None,
             environ: Mapping[str, str]) -> scan.Result:
    """Scan what the push sends; BASE carries the options, each pushed range fills in the rest.

    STDIN_TEXT is git's input when git runs the hook directly, None under the pre-commit framework.
    """
    found = gitcmd.find(base.path)
    if found is None:
        raise GitError(f"pre-push: not a git repository: {base.path}")
    root = found.root
    if stdin_text is None:
        updates = updates_from_environment(root, environ)
        remote = remote or environ.get("PRE_COMMIT_REMOTE_NAME")
    else:
        updates = parse_updates(stdin_text)
    ranges = [r for r in dict.fromkeys(revision_range(root, u, remote) for u in updates) if r]
    results = [scan.run(dataclasses.replace(base, path=root, mode="range", revision_range=r)) for r in ranges]
    if not results:
        return scan.Result("range", (), Stats(), ("this push sends no commit that a remote does not already have",))
    return merge(results)


def merge(results: Sequence[scan.Result]) -> scan.Result:
    """One result for several ranges: a secret two pushed branches share is reported once."""
    stats = Stats()
    findings: dict[tuple[str, str | None], Finding] = {}
    notes: dict[str, None] = {}
    for result in results:
        stats.add(result.stats)
        stats.baselined += result.stats.baselined
        stats.seconds += result.stats.seconds
        stats.shallow = stats.shallow or result.stats.shallow
        for f in result.findings:
            findings.setdefault((f.fingerprint, f.commit), f)
        notes.update(dict.fromkeys(result.notes))
    ordered = sorted(findings.values(), key=lambda f: (f.date or "", f.path, f.line, f.column, f.rule_id))
    return scan.Result("range", tuple(ordered), stats, tuple(notes))
