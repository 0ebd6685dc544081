#!/usr/bin/env python3
"""The pre-receive hook's cost: a push of N new commits, against the 5 s budget a server gives it.

    python benchmarks/bench_receive.py [--commits 1000] [--runs 5]

The fixture (default /tmp/ks-bench-receive, rebuilt when --commits changes) is a bare server that
holds the N commits' objects with no ref to them, so the hook scans them all as new, exactly as
it would in a push's quarantine, and a clone whose branch is the server's tip plus those commits.
Each commit edits one of 200 Python modules of some 2 KB (a realistic delta) and one in fifty adds
a new module. Timed, median of --runs after one warm-up, every command started afresh
(interpreter start-up included):
  git floor          rev-list --objects TIP --not --all | cat-file --batch   (reading what is new)
  hook pre-receive   printf 'OLD TIP refs/heads/main' | python -I -m scanner hook pre-receive  (in the server)
  scan --range       python -m scanner scan --range BASE..TIP --format json                    (in the clone)
  gitleaks           gitleaks git --log-opts BASE..TIP                                         (if installed)
Targets: the hook within the default budget (5 s), and no slower than `scan --range` of the same
commits by more than a quarter (the hook adds its input, the server's refs and the policy).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import string
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib

BUDGET = 5.0
RATIO_TARGET = 1.25
DEFAULT_DIR = Path("/tmp/ks-bench-receive")
MODULES = 200


def git(cwd: Path, *args: str, input: str | None = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, input=input, capture_output=True, text=True, check=True).stdout.strip()


def _module(rng: random.Random, n: int, version: int) -> str:
    lines = [f'"""Module {n}, version {version}."""', "import os", ""]
    for f in range(40):
        word = "".join(rng.choice(string.ascii_lowercase) for _ in range(8))
        lines.append(f"def {word}_{f}(value):\n    return value * {rng.randint(1, 999)}  # {word}")
    lines.append('API_KEY = os.environ["GEMINI_API_KEY"]')
    return "\n".join(lines) + "\n"


def build(folder: Path, commits: int) -> tuple[Path, Path, str, str]:
    """(server, clone, base, tip), built once per commit count."""
    server, clone, stamp = folder / "server.git", folder / "clone", folder / "commits"
    if stamp.exists() and stamp.read_text() == str(commits):
        return server, clone, git(clone, "rev-parse", "base"), git(clone, "rev-parse", "main")
    subprocess.run(["rm", "-rf", str(folder)], check=True)
    folder.mkdir(parents=True)
    git(folder, "init", "-q", "-b", "main", str(clone))
    rng = random.Random(17)
    stream = []
    for n in range(commits + 1):
        path = f"pkg/m{rng.randrange(MODULES) if n % 50 else MODULES + n}.py"
        text = _module(rng, n, n).encode()
        stream.append(f"commit refs/heads/main\ncommitter Ada <ada@example.com> {1700000000 + n} +0000\n"
                      f"data 3\nc{n % 10}\n" + f"M 100644 inline {path}\ndata {len(text)}\n"
                      + text.decode() + "\n")
    subprocess.run(["git", "fast-import", "--quiet"], cwd=clone, input="".join(stream), text=True, check=True)
    git(clone, "branch", "base", f"main~{commits}")
    git(folder, "init", "-q", "--bare", "-b", "main", str(server))
    git(server, "fetch", "-q", str(clone), "main:refs/bench/all", "base:refs/heads/main")
    git(server, "update-ref", "-d", "refs/bench/all")  # the objects stay, as in a push's quarantine
    stamp.write_text(str(commits))
    return server, clone, git(clone, "rev-parse", "base"), git(clone, "rev-parse", "main")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--commits", type=int, default=1000)
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    benchlib.add_common_arguments(parser)
    args = parser.parse_args(argv)
    benchlib.SAMPLE_TREE = args.tree_rss
    server, clone, base, tip = build(args.dir, args.commits)
    python = args.python or benchlib.keysentry_python()
    benchlib.bytecode(benchlib.PROJECT, python)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    code = f"import sys; sys.path.insert(0, {str(benchlib.PROJECT)!r}); from scanner.cli import main; raise SystemExit(main())"
    hook_cmd = (f"printf '%s %s refs/heads/main\\n' {base} {tip} | GIT_DIR=. {shlex.quote(python)} -I -c "
                f"{shlex.quote(code)} hook pre-receive")
    hook = benchlib.Tool("hook pre-receive", hook_cmd, cwd=str(server), env=env, check=benchlib.check_no_traceback)
    scan = benchlib.Tool("scan --range", benchlib.keysentry_cmd("scan", "--range", f"{base}..{tip}", "--format", "json",
                                                                "--quiet", python=python),
                         cwd=str(clone), env=env, keep_stdout=True, check=benchlib.check_keysentry_json)
    floor = benchlib.Tool("git floor", f"git rev-list --objects {tip} --not --all | cut -d' ' -f1 | "
                                       f"git cat-file --batch >/dev/null", cwd=str(server), env=env)
    tools = [floor, hook, scan]
    gitleaks_bin = benchlib.find_gitleaks(args.gitleaks)
    if gitleaks_bin:
        tools.append(benchlib.Tool("gitleaks", [gitleaks_bin, "git", "--log-opts", f"{base}..{tip}", "--no-banner",
                                                "--exit-code", "0", "-f", "json", "-r",
                                                benchlib.scratch_report("gitleaks.json"), "."], cwd=str(clone), env=env))
    else:
        print("gitleaks not found: set GITLEAKS or install the yardstick (see benchmarks/README.md); skipping it")
    print(benchlib.machine_note())
    print(f"fixture: {args.dir}, {args.commits} new commits, runs: {args.runs} (+{args.warmup} warm-up)", flush=True)
    benchlib.measure(tools, args.runs, args.warmup, scan)
    checks = [("hook pre-receive, seconds", hook.seconds if hook.ok else None, "<=", BUDGET, " s"),
              ("hook / scan --range", benchlib.ratio(hook, scan), "<=", RATIO_TARGET, "x")]
    print()
    print(benchlib.target_rows(checks))
    benchlib.print_tree_peaks(tools)
    benchlib.print_failures(tools)
    if args.json:
        args.json.write_text(json.dumps(benchlib.as_json(tools, checks, commits=args.commits), indent=2) + "\n")
    return 0 if hook.ok and scan.ok and all(benchlib.verdict(v, t, op) == "PASS" for _, v, op, t, _ in checks) else 1


if __name__ == "__main__":
    raise SystemExit(main())
