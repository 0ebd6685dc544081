#!/usr/bin/env python3
"""Findings identity: keysentry at a reference revision vs the working copy, on the same repositories.

    python benchmarks/diff_findings.py [--ref b582bdc] [--history REPO ...] [--worktree REPO ...]

Each side runs `python -P -m scanner scan [--history] REPO --format json --output TMP --quiet`
with PYTHONPATH pinned to its own source (the reference: `git archive REF`, exported into a
temporary folder; the new side: this checkout, or --new-ref) and its current folder outside the
scanned repository, so neither imports the other's modules or the repository's. It then prints
the difference of the two sets of (rule_id, path, line, commit), per repository and mode: empty
when the findings are identical. Exit 0 when every diff is empty, 1 otherwise, 2 on a failed run.

With no --history/--worktree it takes: the history of /tmp/h3000 (bench_history's fixture, built
if missing) and of the other finished /tmp/hN fixtures, of every repository in /tmp/bench-repos
(the real histories), and of this project;
and the working tree of the stdlib fixture (stdlib_repo.py, built if missing). The reference's
findings are cached in --cache, keyed by the revision and the state of the repository's refs.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib
import stdlib_repo

DEFAULT_REF = "b582bdc"  # the state before issue 8
REAL_REPOS = Path("/tmp/bench-repos")
Key = tuple[str, str, int, str | None]  # (rule_id, path, line, commit)


@dataclass(frozen=True)
class Target:
    mode: str  # "history" or "worktree"
    repo: Path

    @property
    def label(self) -> str:
        return f"{self.mode} {self.repo}"

    def argv(self) -> list[str]:
        return ["scan", *(["--history"] if self.mode == "history" else []), str(self.repo)]


def default_targets() -> list[Target]:
    import bench_history  # here: it is only needed to build /tmp/h3000

    h3000 = bench_history.ensure_history(3000, Path("/tmp"), bench_history.DEFAULT_MAKE_HISTORY, rebuild=False)
    # the other finished fixtures (bench_history --commits 20000 …): their planted list is written last
    others = sorted(p for p in Path("/tmp").glob("h[0-9]*") if p != h3000 and p.name[1:].isdigit()
                    and Path(f"{p}.planted.json").is_file())
    real = sorted(p for p in REAL_REPOS.glob("*") if (p / "objects").is_dir()) if REAL_REPOS.is_dir() else []
    histories = [h3000, *others, *real, benchlib.PROJECT]
    return [Target("worktree", stdlib_repo.ensure()), *(Target("history", r) for r in histories)]


def isolated_env(source: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    return {**env, "PYTHONPATH": str(source), "PYTHONNOUSERSITE": "1"}


def check_import(python: str, source: Path) -> None:
    """Fail loudly if `import scanner` would not come from SOURCE (an editable install, a stray path)."""
    out = subprocess.run([python, "-P", "-c", "import scanner; print(scanner.__file__)"], env=isolated_env(source),
                         cwd=tempfile.gettempdir(), capture_output=True, text=True)
    where = out.stdout.strip()
    if out.returncode != 0 or not Path(where).resolve().is_relative_to(source.resolve()):
        sys.exit(f"diff_findings: scanner imports from {where or out.stderr.strip()!r}, not from {source}")


def run_keysentry(python: str, source: Path, target: Target, jobs: int | None) -> tuple[set[Key], float]:
    with tempfile.TemporaryDirectory(prefix="keysentry-diff-") as tmp:
        report = os.path.join(tmp, "report.json")
        cmd = [python, "-P", "-m", "scanner", *target.argv(), "--format", "json", "--output", report, "--quiet",
               *(["--jobs", str(jobs)] if jobs else [])]
        start = time.perf_counter()
        out = subprocess.run(cmd, env=isolated_env(source), cwd=tmp, capture_output=True, text=True,
                             stdin=subprocess.DEVNULL)
        seconds = time.perf_counter() - start
        if out.returncode not in (0, 1) or "Traceback (most recent call last)" in out.stderr:
            sys.stderr.write(f"diff_findings: {' '.join(cmd)} (PYTHONPATH={source}) exited {out.returncode}:\n"
                             f"{out.stderr[-2000:]}\n")
            raise SystemExit(2)
        findings = json.loads(Path(report).read_text(encoding="utf-8"))["findings"]
    return {(f["rule_id"], f["path"], int(f["line"]), f.get("commit")) for f in findings}, seconds


def repo_state(target: Target) -> str:
    """What the findings depend on besides the code: the refs, and for a working tree its status."""
    def git(*a: str) -> str:
        return subprocess.run(["git", "-C", str(target.repo), *a], capture_output=True, text=True).stdout

    state = git("for-each-ref", "--format=%(objectname) %(refname)") + git("rev-parse", "HEAD")
    if target.mode == "worktree":
        state += git("status", "--porcelain=v1", "--untracked-files=all")
    return state


def cached_reference(args: argparse.Namespace, sha: str, source: Path, target: Target) -> tuple[set[Key], str]:
    key = hashlib.sha256(f"{sha}\0{target.label}\0{repo_state(target)}".encode()).hexdigest()[:24]
    path = args.cache / f"{key}.json"
    if not args.no_cache and path.is_file():
        return {(r, p, ln, c) for r, p, ln, c in json.loads(path.read_text())}, "cached"
    keys, seconds = run_keysentry(args.python, source, target, args.jobs)
    args.cache.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(sorted(keys, key=sort_key)))
    tmp.replace(path)
    return keys, f"{seconds:.1f} s"


def sort_key(k: Key) -> tuple[str, str, int, str]:
    return k[1], k[0], k[2], k[3] or ""


def show(keys: set[Key], sign: str, limit: int) -> None:
    for rule, path, line, commit in sorted(keys, key=sort_key)[:limit]:
        print(f"  {sign} {rule} {printable(path)}:{line}" + (f" @{commit[:12]}" if commit else ""))
    if len(keys) > limit:
        print(f"  {sign} … and {len(keys) - limit} more")


def printable(text: str) -> str:
    """Paths come from repositories we do not control: no control characters onto the terminal."""
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ref", default=DEFAULT_REF, help=f"reference revision (default {DEFAULT_REF})")
    parser.add_argument("--new-ref", help="compare with this revision instead of the working copy")
    parser.add_argument("--history", type=Path, action="append", default=[], metavar="REPO",
                        help="compare `scan --history REPO` (repeatable)")
    parser.add_argument("--worktree", type=Path, action="append", default=[], metavar="REPO",
                        help="compare `scan REPO` (repeatable)")
    parser.add_argument("--python", default=benchlib.keysentry_python(), help="interpreter for both sides")
    parser.add_argument("--jobs", type=int, help="pass --jobs N to both sides")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "keysentry-diff-cache",
                        help="where the reference's findings are kept between runs")
    parser.add_argument("--no-cache", action="store_true", help="always run the reference")
    parser.add_argument("--limit", type=int, default=40, help="show at most this many differing findings per side")
    args = parser.parse_args(argv)

    targets = [Target("history", r.resolve()) for r in args.history] + \
              [Target("worktree", r.resolve()) for r in args.worktree]
    targets = targets or default_targets()
    sha = benchlib.resolve_revision(args.ref)
    old_src = benchlib.export_revision(sha)
    new_src = benchlib.export_revision(args.new_ref) if args.new_ref else benchlib.PROJECT
    for src in (old_src, new_src):
        check_import(args.python, src)
    print(f"reference {sha[:12]} vs {args.new_ref or 'the working copy'} ({new_src}); "
          f"finding = (rule_id, path, line, commit)")
    differ = 0
    for target in targets:
        old, took = cached_reference(args, sha, old_src, target)
        new, seconds = run_keysentry(args.python, new_src, target, args.jobs)
        gone, added = old - new, new - old
        verdict = "identical" if not (gone or added) else f"{len(gone)} only before, {len(added)} only after"
        print(f"\n{target.label}: {len(old)} before ({took}), {len(new)} after ({seconds:.1f} s): {verdict}")
        show(gone, "-", args.limit)
        show(added, "+", args.limit)
        differ += bool(gone or added)
    print(f"\n{len(targets) - differ}/{len(targets)} identical")
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
