"""The working tree: what git tracks plus untracked files it does not ignore, or every file of a
plain folder honouring its .gitignore files. Files are read through TreeReader, which never follows a
symbolic link inside the tree, not even in a folder on the way to the file."""
from __future__ import annotations

import errno
import os
import re
import stat
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from scanner import gitcmd
from scanner.errors import ConfigError, GitError, UsageError
from scanner.models import Blob, Stats
from scanner.report import printable
from scanner.sources.base import Outcomes, Plain, Read, Reading, Scope, Source

__all__ = ["Listing", "Read", "TreeReader", "WorkTree", "list_files"]

_CHUNK = 1 << 16
_UNLISTABLE = re.compile(r"could not open directory '(?P<path>.*)': (?P<why>.*)")
# Ignore files are a few KB; git itself reads info/exclude and core.excludesFile whole into memory.
IGNORE_FILE_LIMIT = 16 << 20
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: opening a FIFO that slipped in between the lstat and the open must not wait for a writer.
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


@dataclass(frozen=True)
class Listing:
    root: Path  # paths are reported relative to this
    paths: Iterator[str]  # "/"-separated, relative to root; streamed, never collected
    # Folders that could not be listed; filled in while `paths` is consumed.
    warnings: list[str] = field(default_factory=list)
    named: bool = False  # one file named on the command line, rather than a folder


def list_files(target: Path, only: Sequence[str] | None = None) -> Listing:
    """The files to scan under TARGET: all of them, or ONLY those paths (relative to the top folder
    of TARGET's repository, as the pre-commit framework names them)."""
    if only is not None:
        return _list_given(target, only)
    if target.is_symlink() and target.is_dir():
        # The folder the user names is theirs to choose, link or not; links inside it are not.
        target = target.resolve()
    if target.is_dir():
        return _list_folder(target)
    if target.is_file() or target.is_symlink():  # a named link is listed, and then skipped unread
        return _list_named_file(target)
    raise UsageError(f"not a regular file or folder: {target}")


def _list_folder(target: Path) -> Listing:
    inner = _link_inside_a_tree(target)
    if inner:
        raise UsageError(f"{target} goes through the symbolic link {inner.link} inside a repository; "
                         "name the folder it points to instead")
    repo = gitcmd.find(target)
    if repo is not None and repo.bare:
        raise UsageError(f"{target} is a bare repository: it has no work tree to scan "
                         "(scan its commits with --history)")
    warnings: list[str] = []
    if repo is not None:
        _check_git_excludes(repo)
        return Listing(repo.root, _git_files(repo, warnings), warnings)
    root = target.resolve()
    return Listing(root, _walk(root, warnings), warnings)


def _list_named_file(target: Path) -> Listing:
    inner = _link_inside_a_tree(target)
    if inner:
        # The path as the user wrote it, below the tree holding the link: the reader then meets
        # the link on its way and skips the file, as it would in a scan of the whole tree.
        return Listing(inner.root, iter([inner.rel]), named=True)
    repo = gitcmd.find(target)
    root = repo.root if repo and not repo.bare else target.parent
    return Listing(root, iter([_relative(target, root)]), named=True)


def _list_given(target: Path, only: Sequence[str]) -> Listing:
    repo = gitcmd.find(target)
    if repo is None or repo.bare:
        raise UsageError(f"{target} is not in a git work tree: the files to check are named relative to one")
    # Read through TreeReader like any listed file: a link is skipped, a folder (a submodule) is not
    # a file, a name leading out of the tree names nothing in it.
    inside = (p for p in dict.fromkeys(only) if p and not os.path.isabs(p) and ".." not in p.split("/"))
    return Listing(repo.root, iter(list(inside)))


def _relative(path: Path, root: Path) -> str:
    # Resolve the folder, not the file: a symlink named on the command line stays a symlink (and is
    # skipped) rather than becoming the file outside the tree that it points to.
    return (path.parent.resolve() / path.name).relative_to(root.resolve()).as_posix()


@dataclass(frozen=True)
class _Inside:
    root: Path  # the work tree holding the link
    rel: str  # the named path below root, as written: through the link, not resolved
    link: Path


def _link_inside_a_tree(target: Path) -> _Inside | None:
    """The symbolic link on the way to TARGET that lies inside a git work tree and leads out of it
    (`sub` in `repo/sub/secret.py`), if any. Links above any tree (a linked home or projects
    folder) are the user's own set-up: None."""
    lexical = Path(os.path.abspath(target))
    for link in lexical.parents:
        if not os.path.islink(link):
            continue
        repo = gitcmd.find(link.parent)
        if repo is None or repo.bare:
            continue
        root = repo.root.resolve()
        if not _is_within(target.resolve(), root) and _is_within(link.parent.resolve(), root):
            above = link.parent.resolve().relative_to(root)
            return _Inside(repo.root, (above / lexical.relative_to(link.parent)).as_posix(), link)
    return None


def _is_within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


# --- a git repository ------------------------------------------------------------------------------

def _check_git_excludes(repo: gitcmd.Repo) -> None:
    """git reads info/exclude and core.excludesFile itself: a FIFO there would make it wait for
    ever and a huge file would be read whole, so both are checked before git runs."""
    info = Path(os.fsdecode(gitcmd.run(repo, "rev-parse", "--git-path", "info/exclude").rstrip(b"\n")))
    _check_exclude_file(repo.root / info, "info/exclude")
    configured = gitcmd.run(repo, "config", "--path", "--get", "core.excludesFile", ok=(0, 1)).rstrip(b"\n")
    if configured:
        _check_exclude_file(repo.root / os.fsdecode(configured), "core.excludesFile")
    else:  # git's default when the setting is absent
        xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
        _check_exclude_file(Path(xdg) / "git" / "ignore", "core.excludesFile")


def _check_exclude_file(path: Path, what: str) -> None:
    try:
        st = path.stat()  # git follows a link here, so the file it leads to is what counts
    except OSError:
        return  # missing or unreachable: git skips it too
    if not stat.S_ISREG(st.st_mode):
        raise ConfigError(f"{what} ({path}) is not a regular file: git would wait on it or read it "
                          "without end; remove it or point it at a file")
    if st.st_size > IGNORE_FILE_LIMIT:
        raise ConfigError(f"{what} ({path}) is {st.st_size} bytes, more than an ignore file can sensibly "
                          f"be ({IGNORE_FILE_LIMIT} bytes): git would read it whole")


def _git_files(repo: gitcmd.Repo, warnings: list[str]) -> Iterator[str]:
    # Exactly `git ls-files -co --exclude-standard`: nested .gitignore, info/exclude, global excludes.
    # Submodules are listed as their folder (a gitlink), which the scanner skips as not a file; an
    # untracked nested repository is listed as its folder with a trailing "/".
    args = ["ls-files", "-z", "-co", "--exclude-standard"]
    if repo.prefix:
        args += ["--", f":(literal){repo.prefix}"]
    with tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.Popen(gitcmd.argv(repo, *args), stdout=subprocess.PIPE, stderr=err,
                                    env=gitcmd.env())
        except FileNotFoundError:
            raise GitError("git is not installed or not on PATH") from None
        assert proc.stdout is not None
        try:
            previous = b""
            pending = b""
            while chunk := proc.stdout.read(_CHUNK):
                *names, pending = (pending + chunk).split(b"\0")
                for raw in names:
                    # Unmerged entries are listed once per stage, one after the other.
                    if raw and raw != previous:
                        previous = raw
                        yield os.fsdecode(raw)
            if proc.wait() != 0:
                err.seek(0)
                raise GitError(gitcmd.describe_failure(err.read(), args))
        finally:
            if proc.poll() is None:  # the consumer stopped early (an error, Ctrl-C)
                proc.kill()
                proc.wait()
            proc.stdout.close()
        err.seek(0)
        for line in err.read().decode("utf-8", "replace").splitlines():
            # git skips a folder it cannot open with only a warning; so do we, but we say so.
            m = _UNLISTABLE.search(line)
            if m:
                warnings.append(f"cannot list {m['path'].rstrip('/')}: {m['why']}")


# --- a plain folder --------------------------------------------------------------------------------

def _walk(top: Path, warnings: list[str]) -> Iterator[str]:
    """Every file below TOP, skipping .git folders and what the .gitignore files ignore."""
    import pathspec

    specs: list[tuple[str, pathspec.GitIgnoreSpec]] = []  # (folder relative to top, its rules)

    def ignored(rel: str, is_dir: bool) -> bool:
        candidate = rel + "/" if is_dir else rel
        for folder, spec in reversed(specs):  # the deepest .gitignore that decides wins
            if folder and not candidate.startswith(folder + "/"):
                continue
            result = spec.check_file(candidate[len(folder) + 1:] if folder else candidate)
            if result.include is not None:
                return bool(result.include)
        return False

    def unlistable(exc: OSError) -> None:
        where = Path(os.path.relpath(exc.filename, top)).as_posix() if exc.filename else str(top)
        warnings.append(f"cannot list {where}: {exc.strerror or exc}")

    for dirpath, dirnames, filenames in os.walk(top, onerror=unlistable):
        rel_dir = Path(dirpath).relative_to(top).as_posix()
        rel_dir = "" if rel_dir == "." else rel_dir
        specs = [(f, s) for f, s in specs if not f or rel_dir == f or rel_dir.startswith(f + "/")]
        if ".gitignore" in filenames:
            where = f"{rel_dir}/.gitignore" if rel_dir else ".gitignore"
            text, why = _read_ignore_file(os.path.join(dirpath, ".gitignore"))
            if why:
                warnings.append(f"ignoring {where}: {why}")
            else:
                specs.append((rel_dir, pathspec.GitIgnoreSpec.from_lines(text.splitlines())))
        keep = []
        for name in sorted(dirnames):
            rel = f"{rel_dir}/{name}" if rel_dir else name
            if name == ".git" or os.path.islink(os.path.join(dirpath, name)) or ignored(rel, True):
                continue
            keep.append(name)
        dirnames[:] = keep
        for name in sorted(filenames):
            rel = f"{rel_dir}/{name}" if rel_dir else name
            if not ignored(rel, False):
                yield rel


def _read_ignore_file(path: str) -> tuple[str, str]:
    """(text, "") or ("", why it was not used). Like git, a link is not followed; a FIFO, device or
    huge file is never read, so the ignore file cannot hang the scan or fill the memory."""
    try:
        fd = os.open(path, _FILE_FLAGS)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "", "it is a symbolic link (git does not follow it either)"
        return "", f"cannot read it: {exc.strerror or exc}"
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return "", "it is not a regular file"
        data = _read_at_most(fd, IGNORE_FILE_LIMIT)
    except OSError as exc:
        return "", f"cannot read it: {exc.strerror or exc}"
    finally:
        os.close(fd)
    if data is None:
        return "", f"it is larger than {IGNORE_FILE_LIMIT} bytes"
    return data.decode("utf-8", "replace"), ""


def _read_at_most(fd: int, limit: int) -> bytes | None:
    """The whole file, or None when it holds more than LIMIT bytes (it may have grown since fstat)."""
    parts: list[bytes] = []
    total = 0
    while total <= limit:
        chunk = os.read(fd, min(limit + 1 - total, 1 << 20))
        if not chunk:
            return b"".join(parts)
        parts.append(chunk)
        total += len(chunk)
    return None


# --- reading files of the tree ---------------------------------------------------------------------

@dataclass(frozen=True)
class WorkTree:
    """The opener for files of the tree below ROOT, read by path through a TreeReader."""

    root: Path

    def open(self) -> "_Files":
        return _Files(TreeReader(self.root))


class _Files:
    def __init__(self, reader: "TreeReader") -> None:
        self._reader = reader

    def read(self, blobs: Sequence[Blob], limit: int) -> Iterator[tuple[Blob, Read]]:
        for blob in blobs:
            yield blob, self._reader.read(blob.paths[0], limit)

    def stream(self, blob: Blob, piece: int) -> Iterator[bytes]:
        return self._reader.stream(blob.paths[0], piece)

    def close(self) -> None:
        self._reader.close()


class TreeReader:
    """Reads files by their path below ROOT without following any symbolic link: each folder on the
    way is opened with O_NOFOLLOW from the one above it, so a tracked `sub/secret.py` whose `sub` is
    a link (to a folder outside, to /proc/self) is never read. The open folders of the last path
    are kept, since listings come folder by folder."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._open: list[tuple[str, int]] = []  # (name, fd) from the root down; the root is ""

    def close(self) -> None:
        for _, fd in self._open:
            os.close(fd)
        self._open = []

    def read(self, rel: str, limit: int) -> Read:
        if rel.endswith("/"):  # git's mark for a nested repository it does not enter
            return Read("nested-repo")
        *folders, name = rel.split("/")
        try:
            folder_fd = self._folder(folders)
        except _Stop as stop:
            return stop.read
        return _read_file(folder_fd, name, limit)

    def stream(self, rel: str, piece: int) -> Iterator[bytes]:
        """The file at REL a piece at a time, opened as `read` opens it (no link followed)."""
        *folders, name = rel.split("/")
        try:
            folder_fd = self._folder(folders)
        except _Stop as stop:
            raise OSError(f"not a regular file any more ({stop.read.outcome})") from None
        fd = os.open(name, _FILE_FLAGS, dir_fd=folder_fd)
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise OSError("not a regular file any more")
            while True:
                chunk = os.read(fd, piece)
                if not chunk:
                    return
                yield chunk
        finally:
            os.close(fd)

    def _folder(self, folders: list[str]) -> int:
        if not self._open:
            self._open.append(("", os.open(self._root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)))
        wanted = ["", *folders]
        keep = 1
        while keep < len(self._open) and keep < len(wanted) and self._open[keep][0] == wanted[keep]:
            keep += 1
        for _, fd in self._open[keep:]:
            os.close(fd)
        del self._open[keep:]
        for depth in range(keep, len(wanted)):
            parent = self._open[-1][1]
            try:
                fd = os.open(wanted[depth], _DIR_FLAGS, dir_fd=parent)
            except OSError as exc:
                raise _Stop(_why_not_a_folder(parent, wanted[depth], "/".join(wanted[1:depth + 1]), exc)) from None
            self._open.append((wanted[depth], fd))
        return self._open[-1][1]


class _Stop(Exception):
    def __init__(self, read: Read) -> None:
        self.read = read


def _why_not_a_folder(parent: int, name: str, rel: str, exc: OSError) -> Read:
    try:
        st = os.stat(name, dir_fd=parent, follow_symlinks=False)
    except FileNotFoundError:
        return Read("other")  # tracked but deleted in the work tree
    except OSError:
        st = None
    if st is not None and stat.S_ISLNK(st.st_mode):
        return Read("linked-folder", detail=rel)
    if st is not None and not stat.S_ISDIR(st.st_mode):
        return Read("other")  # a tracked folder replaced by a file
    return Read("unreadable", detail=exc.strerror or str(exc))


def _read_file(folder_fd: int, name: str, limit: int) -> Read:
    try:
        st = os.stat(name, dir_fd=folder_fd, follow_symlinks=False)
        if stat.S_ISLNK(st.st_mode):
            return Read("symlink")  # never follow a link, in or out of the tree
        if not stat.S_ISREG(st.st_mode):
            return Read("other")  # submodule folders, sockets, FIFOs, devices: never opened
        if st.st_size > limit:
            return Read("large", size=st.st_size)
        fd = os.open(name, _FILE_FLAGS, dir_fd=folder_fd)
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):  # swapped since the lstat
                return Read("other")
            data = _read_at_most(fd, limit)
        finally:
            os.close(fd)
    except FileNotFoundError:
        return Read("other")  # tracked but deleted in the work tree
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return Read("symlink")
        return Read("unreadable", detail=exc.strerror or str(exc))
    if data is None:
        return Read("large", size=limit + 1)
    return Read("text", data)


# --- the work tree as a source of the scan loop ------------------------------------------------------

# How many nested repositories the report names; the count in the stats says how many in all.
_NESTED_NAMED = 5


def sources(scope: Scope) -> list[Source]:
    listing = scope.listing if scope.listing is not None else list_files(scope.request.path, scope.request.files)
    return [Files(listing)]


class Files(Plain):
    """The files of a listing, each read by path (streamed: the listing is never collected, so
    memory stays flat on a huge tree)."""

    def __init__(self, listing: Listing) -> None:
        self._listing = listing
        self.reading = Reading(count_files=True, named=listing.named)

    @property
    def opener(self) -> WorkTree:
        return WorkTree(self._listing.root)

    def blobs(self) -> Iterator[Blob]:
        return (Blob((rel,)) for rel in self._listing.paths)

    def notes(self, stats: Stats, outcomes: Outcomes) -> tuple[str, ...]:
        stats.warnings.extend(_linked_warning(link, *first) for link, first in sorted(outcomes.linked.items()))
        stats.unreadable += len(self._listing.warnings)
        stats.warnings.extend(self._listing.warnings)
        return _nested_note(stats.nested_repos, outcomes.nested)


def _linked_warning(link: str, first: str, count: int) -> str:
    # One line per link, however many tracked files lie below it.
    what = printable(first) if count == 1 else f"{count} files below {printable(link)}"
    return f"skipped {what}: the folder {printable(link)} on its way is a symbolic link, which a scan never follows"


def _nested_note(count: int, paths: list[str]) -> tuple[str, ...]:
    if not count:
        return ()
    shown = ", ".join(printable(p) for p in sorted(paths)[:_NESTED_NAMED]) + (", …" if count > _NESTED_NAMED else "")
    if count == 1:
        return (f"a nested repository (a folder with its own .git) was not scanned: {shown} (scan it on its own)",)
    return (f"{count} nested repositories (folders with their own .git) were not scanned: {shown} "
            "(scan each on its own)",)
