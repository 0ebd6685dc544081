"""`keysentry hook pre-push`: work out which commits a push sends, and scan exactly those, once.
`keysentry hook pre-commit`: the pre-commit framework's commit hook, on the files it names.

Two callers: git itself (a plain hook passes the remote's name and URL as arguments and one line
per pushed ref on standard input) and the pre-commit framework (which reads standard input itself
and hands the first pushed ref over in PRE_COMMIT_* environment variables).
"""
from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from scanner import gitcmd, scan
from scanner.errors import GitError, UsageError
from scanner.models import Result, Stats
from scanner.sources import tagged

ZERO = "0" * 40
_HEX = re.compile(r"[0-9a-fA-F]+")
NOTHING_SENT = "this push sends no commit that a remote does not already have"


class Update(NamedTuple):
    """One line of git's pre-push input: `<local ref> <local sha> <remote ref> <remote sha>`."""

    local_ref: str
    local_sha: str
    remote_ref: str
    remote_sha: str


def object_id(text: str, length: int | None, what: str) -> str:
    """TEXT when it is an object id (hex, LENGTH digits: 40 or 64 when unknown), else an error: an id
    is the only thing that may reach git's command line or input from outside (never `--all`).
    WHAT names it in the error ("pre-push: local object")."""
    lengths = (length,) if length else (40, 64)
    if len(text) not in lengths or not _HEX.fullmatch(text):
        raise UsageError(f"{what} {text!r} is not an object id")
    return text


def parse_updates(text: str, length: int | None = None) -> list[Update]:
    updates = []
    for line in text.splitlines():
        if not line.strip():
            continue
        # The local ref is what the user typed (`HEAD`, `main`, `(delete)`); the other three
        # fields never hold spaces, so split from the right.
        parts = line.rsplit(maxsplit=3)
        if len(parts) != 4:
            raise UsageError(f"pre-push: cannot read this line of git's input: {line!r}")
        local_ref, local_sha, remote_ref, remote_sha = parts
        updates.append(Update(local_ref, object_id(local_sha, length, "pre-push: local object"), remote_ref,
                              object_id(remote_sha, length, "pre-push: remote object")))
    return updates


def updates_from_environment(repo: gitcmd.Repo | str, environ: Mapping[str, str]) -> list[Update]:
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


def _resolve(repo: gitcmd.Repo | str, rev: str, must: bool = True) -> str:
    if gitcmd.is_null_oid(rev):
        return ZERO
    # A name from the environment, never an option, whatever it starts with. What is pushed may be
    # a tag of a blob or a tree (peeled, it is scanned as such); the remote's side must be a commit.
    peel = "^{}" if must else "^{commit}"
    out = gitcmd.run(repo, "rev-parse", "-q", "--verify", "--end-of-options", f"{rev}{peel}",
                     ok=(0, 1)).decode().strip()
    if not out and must:
        raise GitError(f"pre-push: {rev!r} is not a commit (or a tag) in this repository")
    return out or ZERO


def push_range(repo: gitcmd.Repo | str, updates: Sequence[Update], remote: str | None) -> str | None:
    """Every commit the push sends that the remote lacks, for all its refs at once, as one `--range`
    argument ("TIP... ^BOUNDARY..."); None when it sends none.

    One rev-list for the whole push: a push of 5,000 tags is one walk and one scan, not one per ref.
    """
    tips = [u.local_sha for u in updates if not gitcmd.is_null_oid(u.local_sha)]  # deletions send nothing
    # The remote's old tips we have (an update), and every remote-tracking ref (a new branch).
    known = _present(repo, [u.remote_sha for u in updates if not gitcmd.is_null_oid(u.remote_sha)])
    return new_commits(repo, tips, known, _remotes(repo, remote))


def new_commits(repo: gitcmd.Repo | str, tips: Sequence[str], known: Sequence[str], published: str) -> str | None:
    """The commits TIPS reach that neither KNOWN (commit ids) nor PUBLISHED (`--remotes=origin`,
    `--all`) do, as one `--range` argument ("TIP... ^BOUNDARY..."); None when there are none."""
    tips = list(dict.fromkeys(tips))
    if not tips:
        return None
    revisions = "".join(f"{t}\n" for t in tips) + "".join(f"^{k}\n" for k in known)
    out = gitcmd.run(repo, "rev-list", "--boundary", "--parents", "--stdin", "--not", published,
                     "--end-of-options", input=revisions.encode()).decode()
    sent: list[str] = []
    parents: set[str] = set()
    boundary: set[str] = set()
    for line in out.splitlines():
        commit, *its_parents = line.split()
        if commit.startswith("-"):
            boundary.add(commit[1:])
        else:
            sent.append(commit)
            parents.update(its_parents)
    if not sent:
        return None
    # The commits no other sent commit descends from reach all the others.
    heads = [c for c in sent if c not in parents]
    return " ".join([*heads, *(f"^{b}" for b in sorted(boundary))])


def _present(repo: gitcmd.Repo | str, oids: Sequence[str]) -> list[str]:
    """Those of OIDS this repository has as commits or tags (a remote tip we never fetched is not)."""
    if not oids:
        return []
    out = gitcmd.run(repo, "cat-file", "--batch-check=%(objectname) %(objecttype)",
                     input="".join(f"{o}\n" for o in dict.fromkeys(oids)).encode())
    return [parts[0] for parts in (line.split() for line in out.decode().splitlines())
            if len(parts) == 2 and parts[1] in ("commit", "tag")]


def _remotes(repo: gitcmd.Repo | str, remote: str | None) -> str:
    """`--remotes=NAME` for a configured remote, else every remote-tracking ref (a push to a URL)."""
    if remote and not remote.startswith("-") and gitcmd.run(
            repo, "config", "--get", f"remote.{remote}.url", ok=(0, 1)).strip():
        return f"--remotes={remote}"
    return "--remotes"


def pre_push(base: scan.Request, remote: str | None, stdin_text: str | None,
             environ: Mapping[str, str]) -> Result:
    """Scan what the push sends; BASE carries the options, the pushed commits fill in the rest.

    STDIN_TEXT is git's input when git runs the hook directly, None under the pre-commit framework.
    """
    found = gitcmd.find(base.path)
    if found is None:
        raise GitError(f"pre-push: not a git repository: {base.path}")
    if stdin_text is None:
        updates = updates_from_environment(found, environ)
        remote = remote or environ.get("PRE_COMMIT_REMOTE_NAME")
    else:
        updates = parse_updates(stdin_text, found.hash_len)
    revisions = push_range(found, updates, remote)
    # A tag of a blob or a tree sends content no commit holds.
    pointed = tagged.peel(found, [(u.remote_ref, u.local_sha) for u in updates if not gitcmd.is_null_oid(u.local_sha)])
    # An annotated tag sends its message, whatever it tags.
    from scanner.sources.messages import pushed_tags

    tags = pushed_tags(found, [u.local_sha for u in updates if not gitcmd.is_null_oid(u.local_sha)])
    if revisions is None and not pointed and not tags:
        return Result("range", (), Stats(), (NOTHING_SENT,))
    published = (_remotes(found, remote), *_present(found, [u.remote_sha for u in updates if not gitcmd.is_null_oid(u.remote_sha)]))
    notes = tuple(u.local_sha for u in updates if u.remote_ref.startswith("refs/notes/")
                  and not gitcmd.is_null_oid(u.local_sha))
    return scan.run(dataclasses.replace(base, path=found.root, mode="range", revision_range=revisions,
                                        pointed=tuple(pointed), published=published, tags=tags, notes=notes))


def pre_commit(request: scan.Request, files: Sequence[str]) -> Result:
    """The pre-commit framework's hook (pass_filenames): check exactly FILES (paths relative to the
    current folder, the repository's top folder when the framework runs it).

    A commit (and a plain `pre-commit run`) names the staged files, and the framework has set the
    unstaged changes aside: the staged change of those files is checked, reporting what the commit
    adds, as `scan --staged` does. `pre-commit run --all-files` or `--files X` may name files that
    are not staged (CI stages nothing): then the files' contents are checked, every secret they
    hold. With no FILES, the whole staged change."""
    from scanner.sources import staged

    if not files:
        return scan.run(request)
    repo = gitcmd.find(request.path)
    if repo is None or repo.bare:
        raise GitError("pre-commit: not a git work tree (the framework runs its hooks in one)")
    root = os.path.realpath(repo.root)
    named = tuple(_from_top(f, root) for f in files)
    in_change = {change.path for change in staged.staged_changes(repo)}
    # A submodule's folder is not a file either way: only files decide which question this is.
    files_named = [n for n in named if not os.path.isdir(os.path.join(root, n))]
    if all(n in in_change for n in files_named):
        return scan.run(dataclasses.replace(request, mode="staged", files=named))
    return scan.run(dataclasses.replace(request, mode="worktree", files=named))


def _from_top(path: str, root: str) -> str:
    """PATH relative to ROOT, "/"-separated: its folder resolved, its name kept (a link stays a link,
    and is skipped unread as in any scan of the tree)."""
    folder = os.path.realpath(os.path.dirname(os.path.abspath(path)))
    return os.path.relpath(os.path.join(folder, os.path.basename(path)), root).replace(os.sep, "/")
