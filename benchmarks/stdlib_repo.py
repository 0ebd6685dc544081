#!/usr/bin/env python3
"""The "Python standard library as one git repository" fixture.

    python benchmarks/stdlib_repo.py [/tmp/ks-stdlib] [--force]

Copies the standard library of the interpreter that runs this script (sysconfig's "stdlib"
path) into PATH, leaving out site-packages/, every __pycache__/ and the config-*/ folder (it
holds only the 45 MB static libpython.a, which would make it a different benchmark), then
`git init` and one commit of everything. About 2,440 files and 57 MB on CPython 3.11.
An existing PATH that holds the finished commit is reused as it is.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Sequence
from pathlib import Path

DEFAULT_PATH = Path("/tmp/ks-stdlib")
_DONE = "keysentry-bench-stdlib"  # a marker in .git so that a half-built copy is never reused
_GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.com",
    "GIT_AUTHOR_DATE": "1700000000 +0000", "GIT_COMMITTER_DATE": "1700000000 +0000",
}


def _skip(rel_dir: str, name: str) -> bool:
    if name == "__pycache__":
        return True
    return rel_dir == "" and (name == "site-packages" or name.startswith("config-"))


def git(repo: Path, *args: str, capture: bool = False) -> str:
    env = {**os.environ, **_GIT_ENV}
    out = subprocess.run(["git", "-C", str(repo), *args], check=True, env=env,
                         stdout=subprocess.PIPE if capture else subprocess.DEVNULL)
    return out.stdout.decode() if capture else ""


def is_ready(path: Path) -> bool:
    return (path / ".git" / _DONE).exists()


def ensure(path: Path = DEFAULT_PATH, force: bool = False, quiet: bool = False) -> Path:
    """Build the fixture at PATH unless a finished one is there; return PATH."""
    path = path.resolve()
    if is_ready(path) and not force:
        return path
    if path.exists():
        if not force and any(path.iterdir()) and not (path / ".git").exists():
            sys.exit(f"stdlib_repo: {path} exists and is not a fixture; pass --force or another path")
        shutil.rmtree(path)
    source = Path(sysconfig.get_paths()["stdlib"])
    if not quiet:
        print(f"stdlib_repo: copying {source} to {path} …", file=sys.stderr, flush=True)
    files = size = 0
    for dirpath, dirnames, filenames in os.walk(source):
        rel_dir = os.path.relpath(dirpath, source)
        rel_dir = "" if rel_dir == "." else rel_dir
        dirnames[:] = sorted(d for d in dirnames if not _skip(rel_dir, d) and not os.path.islink(os.path.join(dirpath, d)))
        target_dir = path / rel_dir
        target_dir.mkdir(parents=True, exist_ok=True)
        for name in sorted(filenames):
            src = os.path.join(dirpath, name)
            if os.path.islink(src) or not os.path.isfile(src):
                continue
            shutil.copyfile(src, target_dir / name)
            files += 1
            size += os.path.getsize(src)
    git(path, "init", "-q", "-b", "main")
    # -f: the standard library ships a few .gitignore files; the fixture tracks every file anyway.
    git(path, "add", "-A", "-f", ".")
    git(path, "commit", "-q", "--no-verify", "--no-gpg-sign", "-m", "Python standard library")
    (path / ".git" / _DONE).write_text(f"{files} files, {size} bytes from {source}\n")
    if not quiet:
        print(f"stdlib_repo: {path}: {files} files, {size / 1e6:.1f} MB, one commit", file=sys.stderr)
    return path


def describe(path: Path) -> str:
    marker = path / ".git" / _DONE
    return marker.read_text().strip() if marker.exists() else "?"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--force", action="store_true", help="rebuild even if a finished fixture is there")
    args = parser.parse_args(argv)
    repo = ensure(args.path, force=args.force)
    print(f"{repo}: {describe(repo)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
