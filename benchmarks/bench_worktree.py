#!/usr/bin/env python3
"""Working-tree scan of the Python standard library as one repository: keysentry vs gitleaks.

    python benchmarks/bench_worktree.py [--runs 5] [--repo /tmp/ks-stdlib] [--jobs N] [--kingfisher]

Times (median of --runs, after one warm-up run each, runs interleaved) and peak RSS of
  keysentry  python -m scanner scan REPO --format json        (interpreter start-up included)
  gitleaks   gitleaks dir REPO --no-banner --exit-code 0 -f json -r <temp file>
Targets: keysentry / gitleaks <= 0.15, keysentry peak RSS < 150 MB.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib
import stdlib_repo

RATIO_TARGET = 0.15  # issue 8 (it was 0.5)
RSS_TARGET_MB = 150.0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", type=Path, default=stdlib_repo.DEFAULT_PATH, help="fixture path (built if missing)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs of each tool first (default 1)")
    parser.add_argument("--jobs", type=int, help="pass --jobs N to keysentry (default: its own default)")
    parser.add_argument("--kingfisher", action="store_true", help="also time kingfisher (optional peer)")
    parser.add_argument("--rev", help="also time keysentry as of this git revision (e.g. b582bdc)")
    benchlib.add_common_arguments(parser)
    args = parser.parse_args(argv)
    benchlib.SAMPLE_TREE = args.tree_rss

    repo = stdlib_repo.ensure(args.repo)
    ks_args = ["scan", str(repo), "--format", "json", "--quiet"]
    if args.jobs:
        ks_args += ["--jobs", str(args.jobs)]
    keysentry = benchlib.Tool("keysentry", benchlib.keysentry_cmd(*ks_args, python=args.python),
                              ok_codes=(0, 1), keep_stdout=True, cwd=str(benchlib.PROJECT),
                              check=benchlib.check_keysentry_json)
    tools = [keysentry]
    if args.rev:  # the same command on the code of another revision, for a before/after in one run
        before = benchlib.keysentry_cmd(*ks_args, python=args.python)
        before.insert(1, "-P")
        env = {**os.environ, "PYTHONPATH": str(benchlib.export_revision(args.rev))}
        tools.append(benchlib.Tool(f"before ({args.rev})", before, ok_codes=(0, 1), cwd=str(benchlib.PROJECT.parent),
                                   env=env, check=benchlib.check_keysentry_json))
    gitleaks_bin = benchlib.find_gitleaks(args.gitleaks)
    gitleaks = None
    if gitleaks_bin:
        gitleaks = benchlib.Tool("gitleaks dir", [gitleaks_bin, "dir", str(repo), "--no-banner", "--exit-code", "0",
                                                  "-f", "json", "-r", benchlib.scratch_report("gitleaks.json")])
        tools.append(gitleaks)
    else:
        print("gitleaks not found: set GITLEAKS or install the yardstick (see benchmarks/README.md); skipping it",
              file=sys.stderr)
    if args.kingfisher:
        kf = benchlib.find_kingfisher()
        if kf:
            tools.append(benchlib.Tool("kingfisher", [kf, "scan", str(repo), "--git-history", "none", "--no-validate",
                                                      "--no-update-check", "-q", "-f", "json", "-o", benchlib.scratch_report("kingfisher.json")],
                                       ok_codes=(0, 200, 205)))
        else:
            print("kingfisher not found; skipping it", file=sys.stderr)

    print(benchlib.machine_note())
    print(f"repository: {repo} ({stdlib_repo.describe(repo)})")
    print(f"runs: {args.runs} (+{args.warmup} warm-up), keysentry: {' '.join(keysentry.cmd)}", flush=True)
    findings = benchlib.measure(tools, args.runs, args.warmup, keysentry)
    if findings is not None:
        print(f"\nkeysentry reported {len(findings)} finding(s) on the fixture")
    ratio = benchlib.ratio(keysentry, gitleaks) if gitleaks else None
    rss = keysentry.rss_mb if keysentry.ok else None
    checks = [("keysentry / gitleaks dir", ratio, "<=", RATIO_TARGET, "x"),
              ("keysentry peak RSS", rss, "<", RSS_TARGET_MB, " MB")]
    if args.tree_rss and keysentry.ok:
        checks.append(("keysentry tree RSS (all processes)", keysentry.tree_rss_mb, "<", RSS_TARGET_MB, " MB"))
    print()
    print(benchlib.target_rows(checks))
    benchlib.print_tree_peaks(tools)
    benchlib.print_failures(tools)
    if args.json:
        args.json.write_text(json.dumps(benchlib.as_json(tools, checks), indent=2) + "\n")
    return 0 if keysentry.ok and all(benchlib.verdict(v, t, op) != "FAIL" for _, v, op, t, _ in checks) else 1


if __name__ == "__main__":
    raise SystemExit(main())
