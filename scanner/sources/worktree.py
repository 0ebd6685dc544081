"""The working tree: what git tracks plus untracked files it does not ignore, or every file of a
plain folder honouring its .gitignore files."""
from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from scanner import gitcmd
from scanner.errors import GitError

_CHUNK = 1 << 16
_UNLISTABLE = re.compile(r"could not open directory '(?P<path>.*)': (?P<why>.*)")


@dataclass(frozen=True)
class Listing:
    root: Path  # paths are reported relative to this
    paths: Iterator[str]  # "/"-separated, relative to root; streamed, never collected
    # Folders that could not be listed; filled in while `paths` is consumed.
    warnings: list[str] = field(default_factory=list)


def list_files(target: Path) -> Listing:
    repo = gitcmd.find(target)
    if target.is_file() or target.is_symlink():
        root = repo.root if repo and not repo.bare else target.parent
        return Listing(root, iter([_relative(target, root)]))
    warnings: list[str] = []
    if repo is not None and not repo.bare:
        return Listing(repo.root, _git_files(repo, warnings), warnings)
    return Listing(target, _walk(target, warnings), warnings)


def _relative(path: Path, root: Path) -> str:
    # Resolve the folder, not the file: a symlink named on the command line stays a symlink (and is
    # skipped) rather than becoming the file outside the tree that it points to.
    return (path.parent.resolve() / path.name).relative_to(root.resolve()).as_posix()


def _git_files(repo: gitcmd.Repo, warnings: list[str]) -> Iterator[str]:
    # Exactly `git ls-files -co --exclude-standard`: nested .gitignore, info/exclude, global excludes.
    # Submodules are listed as their folder (a gitlink), which the scanner skips as not a file.
    args = ["ls-files", "-z", "-co", "--exclude-standard"]
    if repo.prefix:
        args += ["--", f":(literal){repo.prefix}"]
    with tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.Popen(gitcmd.argv(repo.root, *args), stdout=subprocess.PIPE, stderr=err,
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
            try:
                lines = (Path(dirpath) / ".gitignore").read_text(encoding="utf-8", errors="replace").splitlines()
                specs.append((rel_dir, pathspec.GitIgnoreSpec.from_lines(lines)))
            except OSError as exc:
                warnings.append(f"cannot read {rel_dir or '.'}/.gitignore: {exc.strerror or exc}")
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
