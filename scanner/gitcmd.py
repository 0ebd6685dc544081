"""Running git safely on repositories we do not trust: no hooks, no fsmonitor, no external diff.

Every git call goes through plain pipes: the hook path must start in milliseconds (GitPython's
import alone takes ~85 ms) and the history path pipelines batches of objects per worker process,
which GitPython's one-object-per-round-trip cat-file cannot do."""
from __future__ import annotations

import functools
import os
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from scanner.errors import GitError

# Options that keep git from running anything the scanned repository configures.
SAFE_CONFIG = (
    "-c", "core.fsmonitor=false",
    "-c", "core.hooksPath=/dev/null",
    "-c", "diff.external=",
    "-c", "core.quotePath=false",
    "-c", "log.showSignature=false",
    "-c", "i18n.logOutputEncoding=UTF-8",  # UTF-16 output would put NULs into -z fields
)


@dataclass(frozen=True)
class Repo:
    """Where a repository is: its work tree (None when bare) and its git directory."""

    root: Path  # the work tree, or the git directory of a bare repository
    git_dir: Path
    bare: bool  # no work tree to scan (a bare repository, or one whose work tree we do not trust)
    prefix: str  # the scanned folder relative to root, "" or ending in "/"
    hash_len: int = 40  # hex digits of an object id: 64 in a SHA-256 repository


def is_null_oid(oid: str) -> bool:
    """git's "no object" (a deleted path, a ref the remote lacks): 40 zeros, or 64 in SHA-256."""
    return bool(oid) and oid.strip("0") == ""


def env() -> dict[str, str]:
    return {
        **os.environ,
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_OPTIONAL_LOCKS": "0",  # never write into the scanned repository (index refresh)
        # The objects a push publishes, not the repository's local view of them: a replace ref
        # (refs/replace/) or an info/grafts line would show a clean blob or history in their place.
        "GIT_NO_REPLACE_OBJECTS": "1",
        "GIT_GRAFT_FILE": os.devnull,
        # No transport at all, whatever the repository's config allows: in a partial clone, reading
        # a missing object makes git fetch it from the promisor remote, and the repository chooses
        # how (ext::sh -c ..., core.sshCommand, remote.*.uploadpack): a program of its own.
        "GIT_ALLOW_PROTOCOL": "none",
        "GIT_PROTOCOL_FROM_USER": "0",
        # Output through stdio's buffer, not flushed after every commit: into a pipe, log and
        # rev-list otherwise write each record with a syscall of its own and wake us for it (pytest's
        # history: 17,000 reads of the walk's 6.5 MB, 0.3 s of our CPU and 0.15 s of git's, against
        # 1,400 reads and 0.04 s). Nothing here talks to log or rev-list a record at a time; cat-file,
        # which we do talk to so, writes as it did (unbuffered, or flushed when told).
        "GIT_FLUSH": "0",
        "LC_ALL": "C",
    }


@functools.cache
def version() -> tuple[int, ...]:
    """The installed git's version, (2, 39, 5); () when it does not say one we can read."""
    try:
        out = subprocess.run(["git", "--version"], capture_output=True, env=env(), check=False).stdout
    except OSError:
        return ()
    match = re.search(rb"(\d+)\.(\d+)(?:\.(\d+))?", out)
    return tuple(int(part) for part in match.groups() if part is not None) if match else ()


def argv(repo: Repo | Path | str, *args: str) -> list[str]:
    """git's command line. Given a Repo, its git directory and work tree are named explicitly, so
    nothing in the scanned repository's config (core.worktree) can point git at another tree."""
    if not isinstance(repo, Repo):
        return ["git", "-C", str(repo), *SAFE_CONFIG, *args]
    where = [f"--git-dir={repo.git_dir}"] if repo.bare else [f"--git-dir={repo.git_dir}", f"--work-tree={repo.root}"]
    return ["git", "-C", str(repo.root), *where, *SAFE_CONFIG, *args]


def run(repo: Repo | Path | str, *args: str, input: bytes | None = None, ok: Sequence[int] = (0,)) -> bytes:
    try:
        proc = subprocess.run(argv(repo, *args), input=input, capture_output=True, env=env())
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH") from None
    if proc.returncode not in ok:
        message = describe_failure(proc.stderr, args)
        if message.startswith(_REVISION_ERRORS):
            message += shallow_hint(repo)
        raise GitError(message)
    return proc.stdout


# How git says it does not have a revision: in a shallow clone, most likely one it never fetched.
_REVISION_ERRORS = ("git: bad revision", "git: ambiguous argument", "git: bad object", "git: unknown revision")


def is_ancestor(repo: Repo | Path | str, older: str, newer: str) -> bool:
    """Whether commit OLDER is NEWER or one of its ancestors."""
    try:
        run(repo, "merge-base", "--is-ancestor", "--end-of-options", older, newer)
    except GitError:  # status 1: not an ancestor
        return False
    return True


def shallow_hint(repo: Repo | Path | str) -> str:
    """What to do when a shallow clone lacks a revision (CI checkouts are shallow by default), or ""
    when the repository is complete and the revision simply does not exist."""
    try:
        shallow = run(repo, "rev-parse", "--is-shallow-repository").strip() == b"true"
    except GitError:
        return ""
    if not shallow:
        return ""
    return ("; this is a shallow clone, which lacks the commits the range needs: in GitHub Actions give "
            "actions/checkout `fetch-depth: 0`, elsewhere run `git fetch --unshallow`")


def missing_object(repo: Repo | Path | str, oid: str) -> GitError:
    """The error for an object git cannot read: a corrupt repository, or a partial clone that
    never fetched it (we never fetch: see env())."""
    return GitError(f"git: object {oid} is missing or corrupt ({missing_hint(repo)})")


def missing_hint(repo: Repo | Path | str) -> str:
    """What to do about objects git cannot read in REPO."""
    partial = run(repo, "config", "--get", "extensions.partialClone", ok=(0, 1)).strip()
    return "a partial clone: keysentry never fetches missing objects; scan a full clone" if partial else "run 'git fsck'"


def describe_failure(stderr: bytes, args: Sequence[str]) -> str:
    lines = [ln.strip() for ln in stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    # git says what went wrong in its last "fatal:" line; "error:" lines are often symptoms.
    fatal = [ln for ln in lines if ln.startswith("fatal:")] or [ln for ln in lines if ln.startswith("error:")]
    text = (fatal or lines or [f"git {args[0] if args else ''} failed"])[0]
    if "safe.directory" in stderr.decode("utf-8", "replace") or "dubious ownership" in text:
        text += " (git refuses this repository: see 'git config --global --add safe.directory')"
    elif text.startswith("fatal: transport '") and text.endswith("not allowed"):
        text += " (objects missing from a partial clone: keysentry never fetches them; scan a full clone)"
    return "git: " + text.removeprefix("fatal: ").removeprefix("error: ")


def find(path: Path) -> Repo | None:
    """The repository containing PATH, or None when PATH is not inside one."""
    folder = path if path.is_dir() else path.parent
    # Before git runs at all: a FIFO where git opens HEAD or packed-refs would hang it for ever.
    from scanner import gitdir

    gitdir.check(folder)
    # One call answers everything in a work tree (the hook path); only a bare repository or a
    # .git folder, where --show-toplevel fails, needs the second.
    proc = _rev_parse(folder, "--show-object-format", "--is-bare-repository", "--absolute-git-dir",
                      "--show-prefix", "--show-toplevel")
    if proc.returncode != 0:
        if b"not a git repository" in proc.stderr:
            return None
        proc = _rev_parse(folder, "--show-object-format", "--is-bare-repository", "--absolute-git-dir")
        if proc.returncode != 0:
            raise GitError(describe_failure(proc.stderr, ["rev-parse"]))
        fmt, bare_s, git_dir_s = proc.stdout.decode("utf-8", "surrogateescape").split("\n")[:3]
        git_dir = Path(git_dir_s)
        # Inside the .git folder of a non-bare repository, the work tree is its parent.
        if bare_s == "true":
            return Repo(git_dir, git_dir, True, "", _hash_len(fmt))
        return _own_tree(folder, git_dir, _hash_len(fmt))
    fmt, _, git_dir_s, prefix, top = proc.stdout.decode("utf-8", "surrogateescape").split("\n")[:5]
    git_dir = Path(git_dir_s)
    if "GIT_WORK_TREE" in os.environ or _is_work_tree_of(Path(top), git_dir):
        return Repo(Path(top), git_dir, False, prefix, _hash_len(fmt))
    return _own_tree(folder, git_dir, _hash_len(fmt))


def _own_tree(folder: Path, git_dir: Path, hash_len: int) -> Repo:
    """The repository when git names no work tree we trust: core.worktree in its config may point
    anywhere (another repository, the user's home). The folder holding `.git` is its tree; a git
    directory with another name (`git init --bare ~/.dotfiles`) has none we scan, only history."""
    if git_dir.name != ".git":
        return Repo(git_dir, git_dir, True, "", hash_len)
    root = git_dir.parent
    try:
        inside = folder.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        inside = "."
    prefix = "" if inside == "." or inside == ".git" or inside.startswith(".git/") else inside + "/"
    return Repo(root, git_dir, False, prefix, hash_len)


def _is_work_tree_of(top: Path, git_dir: Path) -> bool:
    """Does TOP's own `.git` (a folder, or a `gitdir:` file as in submodules and linked worktrees)
    lead to GIT_DIR? A core.worktree set by the repository to someone else's tree fails this."""
    dot_git = top / ".git"
    try:
        if dot_git.is_file():
            line = dot_git.read_bytes()[:4096].decode("utf-8", "surrogateescape").splitlines()[0]
            if not line.startswith("gitdir: "):
                return False
            dot_git = top / line.removeprefix("gitdir: ").strip()
        return dot_git.exists() and os.path.samefile(dot_git, git_dir)
    except (OSError, IndexError):
        return False


def _hash_len(object_format: str) -> int:
    return 64 if object_format.strip() == "sha256" else 40


def _rev_parse(folder: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(argv(folder, "rev-parse", *args), capture_output=True, env=env())
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH") from None
