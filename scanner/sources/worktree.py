"""The working tree: what git tracks plus untracked files it does not ignore, or every file of a
plain folder honouring its .gitignore files."""
from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from scanner import gitcmd


@dataclass(frozen=True)
class Listing:
    root: Path  # paths are reported relative to this
    paths: Iterator[str]  # "/"-separated, relative to root


def list_files(target: Path) -> Listing:
    repo = gitcmd.find(target)
    if target.is_file():
        root = repo.root if repo and not repo.bare else target.parent
        return Listing(root, iter([_relative(target, root)]))
    if repo is not None and not repo.bare:
        return Listing(repo.root, _git_files(repo))
    return Listing(target, _walk(target))


def _relative(path: Path, root: Path) -> str:
    return path.resolve().relative_to(root.resolve()).as_posix()


def _git_files(repo: gitcmd.Repo) -> Iterator[str]:
    # Exactly `git ls-files -co --exclude-standard`: nested .gitignore, info/exclude, global excludes.
    args = ["ls-files", "-z", "-co", "--exclude-standard"]
    if repo.prefix:
        args += ["--", f":(literal){repo.prefix}"]
    out = gitcmd.run(repo.root, *args)
    seen: set[bytes] = set()
    for raw in out.split(b"\0"):
        if raw and raw not in seen:  # unmerged entries are listed once per stage
            seen.add(raw)
            yield os.fsdecode(raw)


def _walk(top: Path) -> Iterator[str]:
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

    for dirpath, dirnames, filenames in os.walk(top):
        rel_dir = Path(dirpath).relative_to(top).as_posix()
        rel_dir = "" if rel_dir == "." else rel_dir
        specs = [(f, s) for f, s in specs if not f or rel_dir == f or rel_dir.startswith(f + "/")]
        if ".gitignore" in filenames:
            try:
                lines = (Path(dirpath) / ".gitignore").read_text(encoding="utf-8", errors="replace").splitlines()
                specs.append((rel_dir, pathspec.GitIgnoreSpec.from_lines(lines)))
            except OSError:
                pass
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
