#!/usr/bin/env python3
"""Full-history scan of a long synthetic history: keysentry vs the cat-file floor, gitleaks, kingfisher.

    python benchmarks/bench_history.py [--commits 3000 [20000 ...]] [--runs 5]

For each size N the fixture /tmp/hN is built once with ../shared/bench/make_history.py (it plants
secrets and lists them in /tmp/hN.planted.json) and reused afterwards. Then, in the same run,
interleaved, median of --runs after one warm-up each:
  floor       git -C R cat-file --batch-all-objects --batch --unordered >/dev/null
  gitleaks    gitleaks git R --no-banner --exit-code 0 -f json -r TMPFILE  (never -r /dev/null: see README)
  kingfisher  kingfisher scan R --git-history full --no-validate --no-update-check  (if installed)
  keysentry   python -m scanner scan --history R --format json
Targets: keysentry / floor <= 3, keysentry / gitleaks < 1, keysentry peak RSS < 250 MB, and every
planted secret reported with the commit that introduced it (rule_id, path, commit; line too,
except for dotenv-file findings). A keysentry that fails or lacks --history is reported as such.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib

FLOOR_TARGET = 3.0
GITLEAKS_TARGET = 1.0
RSS_TARGET_MB = 250.0
DEFAULT_MAKE_HISTORY = Path(os.environ.get("MAKE_HISTORY", benchlib.PROJECT.parent / "shared" / "bench" / "make_history.py"))


def ensure_history(commits: int, where: Path, make_history: Path, rebuild: bool) -> Path:
    repo = where / f"h{commits}"
    planted = Path(f"{repo}.planted.json")
    if repo.exists() and planted.exists() and not rebuild:
        return repo
    if repo.exists():  # half built (no planted list yet) or --rebuild
        print(f"bench_history: removing {repo} to rebuild it", file=sys.stderr)
        shutil.rmtree(repo)
        planted.unlink(missing_ok=True)
    if not make_history.exists():
        sys.exit(f"bench_history: {make_history} not found (set MAKE_HISTORY or --make-history)")
    print(f"bench_history: building {repo} ({commits} commits) …", file=sys.stderr, flush=True)
    subprocess.run([sys.executable, str(make_history), str(repo), "--commits", str(commits)], check=True)
    return repo


def repo_summary(repo: Path) -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True).stdout.strip()

    commits = git("rev-list", "--all", "--count")
    objects = dict(line.split(": ", 1) for line in git("count-objects", "-v").splitlines() if ": " in line)
    packed = int(objects.get("size-pack", "0")) + int(objects.get("size", "0"))
    return f"{commits} commits, {objects.get('in-pack', '?')} packed objects, {packed / 1024:.0f} MB on disk"


def check_planted(planted: list[dict[str, object]], findings: list[dict[str, object]]) -> tuple[list[dict[str, object]], int]:
    """(planted secrets not reported as introduced in their commit, findings matching no planted secret)."""
    reported = {(f.get("rule_id"), f.get("path"), f.get("commit"), f.get("line")) for f in findings}
    loose = {(r, p, c) for r, p, c, _ in reported}
    missing = []
    matched: set[tuple[object, object, object]] = set()
    for p in planted:
        key3 = (p["rule_id"], p["path"], p["commit"])
        if p["rule_id"] == "dotenv-file":
            ok = key3 in loose
        else:
            ok = (*key3, p["line"]) in reported
        if ok:
            matched.add(key3)
        else:
            missing.append(p)
    extra = sum(1 for r, pth, c, _ in reported if (r, pth, c) not in matched)
    return missing, extra


def bench_one(repo: Path, args: argparse.Namespace) -> bool:
    planted = json.loads(Path(f"{repo}.planted.json").read_text())
    print(f"\n=== {repo}: {repo_summary(repo)}, {len(planted)} planted secrets")
    floor = benchlib.Tool("floor (cat-file)", ["git", "-C", str(repo), "cat-file", "--batch-all-objects", "--batch",
                                               "--unordered"])
    tools = [floor]
    gitleaks = None
    gitleaks_bin = None if "gitleaks" in args.skip else benchlib.find_gitleaks(args.gitleaks)
    if gitleaks_bin:
        gitleaks = benchlib.Tool("gitleaks git", [gitleaks_bin, "git", str(repo), "--no-banner", "--exit-code", "0",
                                                  "-f", "json", "-r", benchlib.scratch_report("gitleaks.json")])
        tools.append(gitleaks)
    elif "gitleaks" not in args.skip:
        print("gitleaks not found: set GITLEAKS or install the yardstick (see benchmarks/README.md); skipping it")
    kingfisher = None
    no_kingfisher = args.no_kingfisher or "kingfisher" in args.skip
    kf_bin = None if no_kingfisher else benchlib.find_kingfisher()
    if kf_bin:
        kingfisher = benchlib.Tool("kingfisher", [kf_bin, "scan", str(repo), "--git-history", "full", "--no-validate",
                                                  "--no-update-check", "-q", "-f", "json", "-o", benchlib.scratch_report("kingfisher.json")],
                                   ok_codes=(0, 200, 205))
        tools.append(kingfisher)
    elif not no_kingfisher:
        print("kingfisher not found (optional peer); skipping it")
    ks_args = ["scan", "--history", str(repo), "--format", "json", "--quiet"]
    if args.jobs:
        ks_args += ["--jobs", str(args.jobs)]
    keysentry = benchlib.Tool("keysentry --history", benchlib.keysentry_cmd(*ks_args, python=args.python),
                              ok_codes=(0, 1), keep_stdout=True, cwd=str(benchlib.PROJECT),
                              check=benchlib.check_keysentry_json)
    tools.append(keysentry)
    print(f"runs: {args.runs} (+{args.warmup} warm-up), keysentry: {' '.join(keysentry.cmd)}", flush=True)
    findings = benchlib.measure(tools, args.runs, args.warmup, keysentry)
    if kingfisher is not None and kingfisher.ok and keysentry.ok:
        print(f"\n(keysentry / kingfisher: {benchlib.fmt(benchlib.ratio(keysentry, kingfisher), '.2f', 'x')}; "
              f"gitleaks / floor: {benchlib.fmt(benchlib.ratio(gitleaks, floor) if gitleaks else None, '.2f', 'x')})")
    elif gitleaks is not None:
        print(f"\n(gitleaks / floor: {benchlib.fmt(benchlib.ratio(gitleaks, floor), '.2f', 'x')})")

    found: float | None = None
    if findings is not None:
        missing, extra = check_planted(planted, findings)
        found = len(planted) - len(missing)
        print(f"\nplanted secrets reported with their commit: {found}/{len(planted)}; "
              f"{len(findings)} finding(s) in all, {extra} matching no planted secret")
        for p in missing[:10]:
            print(f"  missing: {p['rule_id']} {p['path']}:{p['line']} in {str(p['commit'])[:12]}")
        if len(missing) > 10:
            print(f"  … and {len(missing) - 10} more")
    checks = [
        ("keysentry / floor", benchlib.ratio(keysentry, floor), "<=", FLOOR_TARGET, "x"),
        ("keysentry / gitleaks git", benchlib.ratio(keysentry, gitleaks) if gitleaks else None, "<", GITLEAKS_TARGET, "x"),
        ("keysentry peak RSS", keysentry.rss_mb if keysentry.ok else None, "<", RSS_TARGET_MB, " MB"),
    ]
    if args.tree_rss and keysentry.ok:
        checks.append(("keysentry tree RSS (all processes)", keysentry.tree_rss_mb, "<", RSS_TARGET_MB, " MB"))
    checks.append(("planted secrets missed", None if found is None else float(len(planted) - found), "<=", 0.0, ""))
    print()
    print(benchlib.target_rows(checks))
    benchlib.print_tree_peaks(tools)
    benchlib.print_failures(tools)
    if args.json:
        results = benchlib.as_json(tools, checks, repo=str(repo), planted=len(planted), planted_found=found)
        existing = json.loads(args.json.read_text()) if args.json.exists() and args.json.stat().st_size else {}
        existing[str(repo)] = results
        args.json.write_text(json.dumps(existing, indent=2) + "\n")
    return keysentry.ok and found == len(planted) and all(
        benchlib.verdict(v, t, op) != "FAIL" for _, v, op, t, _ in checks)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--commits", type=int, nargs="+", default=[3000],
                        help="fixture sizes, e.g. --commits 3000 20000 (default 3000)")
    parser.add_argument("--where", type=Path, default=Path("/tmp"), help="folder for the fixtures /tmp/hN")
    parser.add_argument("--make-history", type=Path, default=DEFAULT_MAKE_HISTORY)
    parser.add_argument("--rebuild", action="store_true", help="rebuild the fixtures even if they exist")
    parser.add_argument("--build-only", action="store_true", help="build the fixtures and stop")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs of each tool first (default 1)")
    parser.add_argument("--jobs", type=int, help="pass --jobs N to keysentry")
    parser.add_argument("--no-kingfisher", action="store_true", help="do not time kingfisher even if installed")
    parser.add_argument("--skip", action="append", default=[], choices=("gitleaks", "kingfisher"),
                        help="leave a yardstick out (repeatable); the floor and keysentry always run")
    benchlib.add_common_arguments(parser)
    args = parser.parse_args(argv)
    benchlib.SAMPLE_TREE = args.tree_rss

    repos = [ensure_history(n, args.where, args.make_history, args.rebuild) for n in args.commits]
    if args.build_only:
        for repo in repos:
            print(f"{repo}: {repo_summary(repo)}")
        return 0
    print(benchlib.machine_note())
    ok = True
    for repo in repos:
        ok = bench_one(repo, args) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
