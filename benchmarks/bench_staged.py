#!/usr/bin/env python3
"""Pre-commit latency: scan what one staged file would add, in a clone of the stdlib repository.

    python benchmarks/bench_staged.py [--runs 10] [--file json/encoder.py] [--secret] [--kingfisher]

The clone (default /tmp/ks-stdlib-staged, made from the stdlib fixture) gets one modified file
staged; nothing is ever committed, so every run sees the same index. Timed, median of --runs
after one warm-up each, every command started afresh (interpreter start-up included), run from
inside the clone as a git hook would be:
  python start-up        python -c pass                             (the floor of any Python hook)
  keysentry -P -m json   python -P -m scanner scan --staged . --format json --quiet
  keysentry -m (hook)    python -m scanner scan --staged .            (the plain hook command, text report)
  keysentry script       .venv/bin/keysentry scan --staged .          (the console script, if installed)
  hooks/pre-commit       sh hooks/pre-commit, the shipped git hook    (if present; venv bin first on PATH)
  gitleaks               gitleaks git --pre-commit --staged . --no-banner --exit-code 0 -f json -r TMPFILE
`python -m` puts the current folder first on sys.path, and this fixture *is* the standard library:
without -P (Python 3.11+, "safe path") the interpreter imports json, argparse, subprocess … from
the clone, uncompiled, which costs about 0.3 s. The -P row is what `-m scanner` costs in an
ordinary repository; the plain row shows what the shadowing costs (and that a repository's own
modules are imported by `python -m scanner` run from inside it).
Targets: each keysentry variant / gitleaks <= 0.3. --secret puts a fake Google API key into the
staged edit (keysentry must then report it: exit 1 and one google-api-key finding).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import string
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib
import stdlib_repo

RATIO_TARGET = 0.3  # issue 8 (it was 0.5)
DEFAULT_CLONE = Path("/tmp/ks-stdlib-staged")


def prepare_clone(source: Path, clone: Path, rel: str, secret: bool) -> str | None:
    """A clone of SOURCE with REL modified and staged; returns the planted key, if any."""
    if not (clone / ".git").exists():
        subprocess.run(["git", "clone", "-q", str(source), str(clone)], check=True)
    stdlib_repo.git(clone, "reset", "-q", "--hard", "HEAD")
    stdlib_repo.git(clone, "clean", "-q", "-fdx")
    target = clone / rel
    if not target.is_file():
        sys.exit(f"bench_staged: {rel} is not a file of the fixture")
    key = None
    edit = "\n\ndef _bench_helper(value):\n    \"\"\"A small edit, as in an ordinary commit.\"\"\"\n    return value\n"
    if secret:
        rng = random.Random(1)
        key = "AIza" + "Sy" + "".join(rng.choice(string.ascii_letters + string.digits + "-_") for _ in range(33))
        edit += f'\n\nGEMINI_KEY = "{key}"\n'
    with open(target, "a", encoding="utf-8") as fh:
        fh.write(edit)
    stdlib_repo.git(clone, "add", "--", rel)
    return key


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", type=Path, default=stdlib_repo.DEFAULT_PATH, help="stdlib fixture (built if missing)")
    parser.add_argument("--clone", type=Path, default=DEFAULT_CLONE, help="the clone that gets the staged edit")
    parser.add_argument("--file", default="json/encoder.py", help="fixture file to modify and stage")
    parser.add_argument("--secret", action="store_true", help="put a fake Google API key into the staged edit")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs of each tool first (default 1)")
    parser.add_argument("--kingfisher", action="store_true", help="also time kingfisher --staged (optional peer)")
    parser.add_argument("--rev", help="also time `-P -m scanner` as of this git revision (e.g. b582bdc)")
    benchlib.add_common_arguments(parser)
    args = parser.parse_args(argv)
    benchlib.SAMPLE_TREE = args.tree_rss

    repo = stdlib_repo.ensure(args.repo)
    clone = args.clone.resolve()
    key = prepare_clone(repo, clone, args.file, args.secret)
    python = args.python or benchlib.keysentry_python()
    here = str(clone)
    codes = (1,) if args.secret else (0,)  # the verdict keysentry must reach

    safe = subprocess.run([python, "-c", "import sys; sys.exit(sys.version_info < (3, 11))"]).returncode == 0
    json_cmd = benchlib.keysentry_cmd("scan", "--staged", ".", "--format", "json", "--quiet", python=python)
    if safe:
        json_cmd.insert(1, "-P")
    tools = [
        benchlib.Tool("python start-up", [python, "-c", "pass"], cwd=here),
        benchlib.Tool("keysentry -P -m json" if safe else "keysentry -m json", json_cmd,
                      ok_codes=codes, cwd=here, keep_stdout=True, check=benchlib.check_keysentry_json),
        benchlib.Tool("keysentry -m (hook)", benchlib.keysentry_cmd("scan", "--staged", ".", python=python),
                      ok_codes=codes, cwd=here, check=benchlib.check_no_traceback),
    ]
    if args.rev:  # the -P json command on the code of another revision, for a before/after in one run
        env = {**os.environ, "PYTHONPATH": str(benchlib.export_revision(args.rev))}
        tools.append(benchlib.Tool(f"before ({args.rev}) -P json", json_cmd, ok_codes=codes, cwd=here, env=env,
                                   keep_stdout=True, check=benchlib.check_keysentry_json))
    bindir = Path(python).parent
    script = bindir / "keysentry"
    if script.exists():
        tools.append(benchlib.Tool("keysentry script", [str(script), "scan", "--staged", "."], ok_codes=codes,
                                   cwd=here, check=benchlib.check_no_traceback))
    hook = benchlib.PROJECT / "hooks" / "pre-commit"
    if hook.exists():
        env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}"}
        tools.append(benchlib.Tool("hooks/pre-commit", ["sh", str(hook)], ok_codes=codes, cwd=here, env=env,
                                   check=benchlib.check_no_traceback))
    gitleaks = None
    gitleaks_bin = benchlib.find_gitleaks(args.gitleaks)
    if gitleaks_bin:
        gitleaks = benchlib.Tool("gitleaks --pre-commit", [gitleaks_bin, "git", "--pre-commit", "--staged", ".",
                                                           "--no-banner", "--exit-code", "0", "-f", "json",
                                                           "-r", benchlib.scratch_report("gitleaks.json")], cwd=here)
        tools.append(gitleaks)
    else:
        print("gitleaks not found: set GITLEAKS or install the yardstick (see benchmarks/README.md); skipping it")
    if args.kingfisher:
        kf = benchlib.find_kingfisher()
        if kf:
            tools.append(benchlib.Tool("kingfisher --staged", [kf, "scan", ".", "--staged", "--no-validate",
                                                               "--no-update-check", "-q", "-f", "json",
                                                               "-o", benchlib.scratch_report("kingfisher.json")],
                                       ok_codes=(0, 200, 205), cwd=here))
        else:
            print("kingfisher not found; skipping it")

    print(benchlib.machine_note())
    print(f"clone: {clone}, staged: {args.file} (+{'a fake key' if key else 'a clean edit'}), "
          f"runs: {args.runs} (+{args.warmup} warm-up)", flush=True)
    findings = benchlib.measure(tools, args.runs, args.warmup, tools[1])
    if findings is not None:
        print(f"\nkeysentry --staged reported {len(findings)} finding(s): "
              + (", ".join(f"{f['rule_id']} {f['path']}:{f['line']}" for f in findings) or "none"))
    caught = None
    if key is not None and findings is not None:
        caught = any(f.get("rule_id") == "google-api-key" and f.get("path") == args.file for f in findings)
    checks = [(f"{t.name} / gitleaks", benchlib.ratio(t, gitleaks) if gitleaks else None, "<=", RATIO_TARGET, "x")
              for t in tools if t.name.startswith(("keysentry", "hooks/"))]
    print()
    print(benchlib.target_rows(checks))
    if key is not None:
        print(f"\nplanted key reported: {'yes' if caught else 'NO'}")
    benchlib.print_tree_peaks(tools)
    benchlib.print_failures(tools)
    if args.json:
        args.json.write_text(json.dumps(benchlib.as_json(tools, checks, planted_key_reported=caught), indent=2) + "\n")
    keysentry_ok = all(t.ok for t in tools if t.name.startswith("keysentry"))
    return 0 if keysentry_ok and caught is not False and all(
        benchlib.verdict(v, t, op) != "FAIL" for _, v, op, t, _ in checks) else 1


if __name__ == "__main__":
    raise SystemExit(main())
