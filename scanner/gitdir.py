"""The files git opens inside a git directory, checked before git runs there.

git opens its own files with a plain blocking open(): a FIFO where it expects `HEAD`, `packed-refs`
or `objects/info/alternates` makes it (and so keysentry, and the commit hook) wait for ever, and
an unpacked archive or a copied folder can carry one. So, as for `info/exclude`, every file git
will open is looked at first (never opened: lstat and stat only), and anything but a regular file
there is one clear error. A missing file is fine: git does without it too."""
from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

from scanner.errors import GitError

# In the git directory of the work tree (a linked worktree has its own), then in the common one.
_PER_TREE = ("HEAD", "commondir", "gitdir", "index", "config.worktree", "ORIG_HEAD", "FETCH_HEAD", "MERGE_HEAD",
             "sharedindex", "info/sparse-checkout")
_COMMON = ("config", "packed-refs", "shallow", "HEAD", "info/attributes", "info/grafts",
           "objects/info/alternates", "objects/info/commit-graph", "objects/info/packs",
           "objects/info/commit-graphs/commit-graph-chain", "objects/pack/multi-pack-index")
# Folders whose every file git may open: loose refs, reflogs (the stash), packs and their indexes,
# commit-graph chains, linked worktrees' own files. Not the loose objects: listing their 256 folders
# would cost the commit hook some 20 ms on every commit.
_WALKED = ("refs", "logs", "objects/pack", "objects/info/commit-graphs", "worktrees")
# A `.git` file or `commondir` holds one path; more than this is not one.
_POINTER_LIMIT = 4096


def check(folder: Path) -> None:
    """Raise GitError when the git directory git would find from FOLDER holds something other than
    a regular file where git opens one. Nothing to check outside a repository."""
    env_dir = os.environ.get("GIT_DIR")
    git_dir = Path(env_dir) if env_dir else _discover(folder)
    if git_dir is None:
        return
    common = _common_dir(git_dir)
    for name in _PER_TREE:
        _check_file(git_dir, name)
    for name in _COMMON:
        _check_file(common, name)
    for top in _WALKED:
        for path in _walk(common / top):
            _check_entry(common, path)


def _discover(folder: Path) -> Path | None:
    """git's discovery, as far as it matters here: the first folder upwards with a `.git` (a folder,
    or a `gitdir:` file), or that is itself a git directory (bare)."""
    start = folder if folder.is_dir() else folder.parent
    for candidate in (start.absolute(), *start.absolute().parents):
        dot_git = candidate / ".git"
        try:
            mode = os.stat(dot_git).st_mode
        except OSError:
            mode = None
        if mode is not None:
            if stat.S_ISDIR(mode):
                return dot_git
            if not stat.S_ISREG(mode):
                raise GitError(f"refusing to run git: {dot_git} is {_kind(mode)}, not a regular file or folder "
                               "(git would wait on it for ever); remove it")
            pointer = _pointer(dot_git)
            return (candidate / pointer) if pointer else None
        if (candidate / "HEAD").exists() and (candidate / "objects").is_dir() and (candidate / "refs").is_dir():
            return candidate
    return None


def _pointer(path: Path) -> str:
    """The path a `.git` file (`gitdir: X`) or a `commondir` file names; "" when it names none."""
    try:
        with open(path, "rb") as fh:  # a regular file, checked by the caller: this never blocks
            text = fh.read(_POINTER_LIMIT).decode("utf-8", "surrogateescape")
    except OSError:
        return ""
    line = text.splitlines()[0].strip() if text.strip() else ""
    return line.removeprefix("gitdir:").strip()


def _common_dir(git_dir: Path) -> Path:
    commondir = git_dir / "commondir"
    _check_file(git_dir, "commondir")
    if not commondir.is_file():
        return git_dir
    pointer = _pointer(commondir)
    return (git_dir / pointer) if pointer else git_dir


def _check_file(git_dir: Path, name: str) -> None:
    _check_entry(git_dir, git_dir / name)


def _check_entry(git_dir: Path, path: Path) -> None:
    try:
        mode = os.stat(path).st_mode  # git follows a link here, so what it leads to counts
    except OSError:
        return  # missing, or a link to nowhere: git does without it, or fails with a message
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return
    try:
        shown = path.relative_to(git_dir).as_posix()
    except ValueError:
        shown = str(path)
    raise GitError(f"refusing to run git on {git_dir}: {shown} in it is {_kind(mode)}, not a regular file, "
                   "and git would wait on it for ever; remove it (an unpacked archive can carry one)")


def _walk(folder: Path) -> Iterator[Path]:
    """The entries below FOLDER that are neither folders nor regular files by the type their folder
    lists (no stat for the thousands of plain objects and refs), and every symbolic link, for the
    caller to follow. Links are not followed into other folders."""
    stack = [folder]
    while stack:
        try:
            with os.scandir(stack.pop()) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(Path(entry.path))
                    elif not entry.is_file(follow_symlinks=False):
                        yield Path(entry.path)
        except OSError:
            continue


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"
