#!/usr/bin/env python3
"""Engine throughput: the detector alone over every file of a tree, in one process, files in memory.

    python benchmarks/bench_engine.py [--root /tmp/ks-stdlib] [--runs 3] [--rev b582bdc] [--engines hyperscan,python]

Each variant runs in its own interpreter (`python -P`, PYTHONPATH pinned to its source): the
working copy with each engine of --engines (KEYSENTRY_ENGINE), and with --rev the code of that
revision too. The files are read first, untimed; then Detector.configured() scans each one
(scan_content where it exists, else scan) --runs times; the table gives the median MB/s.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib
import stdlib_repo

TARGET_MB_S = 400.0

# Run inside the measured interpreter: argv = root, runs. Prints one JSON object.
_PROBE = r"""
import json, os, sys, time
from scanner.detect import Detector
root, runs = sys.argv[1], int(sys.argv[2])
blobs = []
for dirpath, dirnames, filenames in os.walk(root):
    dirnames[:] = sorted(d for d in dirnames if d != ".git")
    for name in sorted(filenames):
        path = os.path.join(dirpath, name)
        if os.path.isfile(path) and not os.path.islink(path):
            with open(path, "rb") as fh:
                blobs.append((os.path.relpath(path, root), fh.read()))
detector = Detector.configured()
content = getattr(detector, "scan_content", None)
seconds, found = [], 0
for _ in range(runs):
    start = time.perf_counter()
    found = 0
    for rel, data in blobs:
        found += len((content(data) if content else detector.scan(data, rel)).matches)
    seconds.append(time.perf_counter() - start)
print(json.dumps({"bytes": sum(len(d) for _, d in blobs), "files": len(blobs), "seconds": seconds,
                  "engine": getattr(detector, "engine", "python (before issue 8)"), "matches": found}))
"""


@dataclass(frozen=True)
class Probe:
    label: str
    failure: str = ""
    size: int = 0  # bytes scanned per run
    files: int = 0
    seconds: tuple[float, ...] = ()
    engine: str = ""
    matches: int = 0

    @property
    def mb_s(self) -> float:
        return self.size / 1e6 / statistics.median(self.seconds) if self.seconds else 0.0


def probe(label: str, python: str, source: Path, root: Path, runs: int, engine: str | None) -> Probe:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "KEYSENTRY_ENGINE"))}
    env["PYTHONPATH"] = str(source)
    if engine:
        env["KEYSENTRY_ENGINE"] = engine
    out = subprocess.run([python, "-P", "-c", _PROBE, str(root), str(runs)], env=env, capture_output=True, text=True,
                         cwd=benchlib.scratch_report(""))
    if out.returncode != 0:
        return Probe(label, failure=(out.stderr.strip().splitlines() or [f"exit {out.returncode}"])[-1])
    r = json.loads(out.stdout)
    return Probe(label, "", int(r["bytes"]), int(r["files"]), tuple(float(x) for x in r["seconds"]),
                 str(r["engine"]), int(r["matches"]))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, help="the tree to scan (default: the stdlib fixture, built if missing)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rev", help="also measure the code of this revision (e.g. b582bdc, before issue 8)")
    parser.add_argument("--engines", default="hyperscan,python", help="engines of the working copy to measure")
    parser.add_argument("--python", default=benchlib.keysentry_python())
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    root = (args.root or stdlib_repo.ensure()).resolve()

    variants: list[tuple[str, Path, str | None]] = []
    if args.rev:
        variants.append((benchlib.resolve_revision(args.rev)[:12], benchlib.export_revision(args.rev), None))
    variants += [(f"working copy, {e}", benchlib.PROJECT, e) for e in args.engines.split(",") if e]
    print(benchlib.machine_note())
    probes = [probe(label, args.python, source, root, args.runs, engine) for label, source, engine in variants]
    done = next((p for p in probes if not p.failure), None)
    if done:
        print(f"tree: {root}, {done.files} files, {done.size / 1e6:.1f} MB in memory, {args.runs} runs each "
              "(one process, one core)\n")
    rows = [[p.label, "FAILED", "—", "—", p.failure[:80]] if p.failure else
            [p.label, f"{statistics.median(p.seconds):.2f}", f"{p.mb_s:.0f}", str(p.matches), p.engine]
            for p in probes]
    print(benchlib.table(("code, engine", "median s", "MB/s", "matches", "engine reported"), rows))
    print(f"\ntarget: at least {TARGET_MB_S:.0f} MB/s")
    if args.json:
        args.json.write_text(json.dumps([{**asdict(p), "mb_s": p.mb_s} for p in probes], indent=2) + "\n")
    return 0 if all(not p.failure for p in probes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
