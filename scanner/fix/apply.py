"""Carry out a plan: .gitignore first, then untrack committed .env files, then (only once git is seen to
ignore it) the local .env with the values, then the code. Each file is replaced atomically and only
while it still holds what the plan was made from; one that changed is skipped and named."""
from __future__ import annotations

from scanner import gitcmd
from scanner.errors import KeysentryError
from scanner.fix import files
from scanner.fix.code import Refused
from scanner.fix.model import FileChange, Outcome, Plan
from scanner.fix.plan import ENV_FILE, _ignored, _tracked


def apply(plan: Plan) -> Outcome:
    written: list[str] = []
    skipped: list[tuple[str, str]] = []
    untracked: list[str] = []

    def write(change: FileChange) -> bool:
        try:
            files.replace(plan.root, change.path, change.before, change.after, private=change.private)
        except Refused as exc:
            skipped.append((change.path, str(exc)))
            return False
        written.append(change.path)
        return True

    by_path = {c.path: c for c in plan.changes}
    ignore = by_path.pop(".gitignore", None)
    if ignore is not None and not write(ignore):
        # Without the ignore rules, a .env written or untracked now would be committed again by the
        # next `git add -A`: nothing else is done.
        skipped += [(path, ".gitignore could not be written first") for path in (*plan.untrack, *by_path)]
        return Outcome(tuple(written), (), tuple(skipped))
    for path in plan.untrack:
        try:
            gitcmd.run(plan.root, "rm", "--cached", "--quiet", "--", f":(literal){path}")
        except KeysentryError as exc:
            skipped.append((path, str(exc)))
            continue
        untracked.append(path)
    env = by_path.pop(ENV_FILE, None)
    if env is not None:
        if _tracked(plan.root, ENV_FILE) or not _ignored(plan.root, ENV_FILE):
            skipped.append((ENV_FILE, "git would not ignore it, so the keys were not written there"))
            env = None
        elif not write(env):
            env = None
    if env is None and plan.variables:
        # The values had nowhere safe to go: nothing that would need them there is changed.
        skipped += [(path, f"the keys it held could not be kept in {ENV_FILE}") for path in by_path]
        by_path = {}
    for change in by_path.values():
        write(change)
    return Outcome(tuple(written), tuple(untracked), tuple(skipped))
