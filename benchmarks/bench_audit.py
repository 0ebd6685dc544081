"""`keysentry audit` of many repositories: this machine's pool and a Dask LocalCluster of 2 workers
against a shell loop of `keysentry scan --history`, all measured in the same run.

    .venv/bin/python benchmarks/bench_audit.py [--repos 100] [--total-mb 2000] [--workdir DIR]

Generates REPOS repositories with git fast-import (a mix of sizes: a few large, many small; unique
text per blob, so nothing is deduplicated away; a key in every fifth), then times:
  loop     `for r in ...; do keysentry scan --history --format json $r; done` (one after another)
  audit    `keysentry audit ... --jobs N` (the local pool)
  cluster  `keysentry audit ... --cluster ADDRESS` on a LocalCluster of 2 single-thread workers
and checks that the three find the same. Targets: audit at least as fast as the loop; the cluster
within 10% of the local pool with the same number of workers.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
WORDS = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa "
         "quebec romeo sierra tango uniform victor whiskey xray yankee zulu config client request value").split()
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def key(rng: random.Random) -> str:
    return "AIza" + "Sy" + "".join(rng.choice(ALPHABET) for _ in range(33))  # made now, never committed


def text(rng: random.Random, size: int) -> bytes:
    lines = []
    total = 0
    while total < size:
        line = f"{rng.randrange(10**9)} " + " ".join(rng.choices(WORDS, k=10)) + "\n"
        lines.append(line)
        total += len(line)
    return "".join(lines).encode()


def make_repo(path: Path, size: int, rng: random.Random, with_key: bool) -> None:
    """A repository of about SIZE bytes of history: commits of one new ~256 KB file each."""
    subprocess.run(["git", "init", "-q", "--bare", str(path)], check=True)
    stream = []
    blob = 256 * 1024
    commits = max(1, size // blob)
    for n in range(commits):
        data = text(rng, min(blob, size))
        if with_key and n == commits // 2:
            data += f'API_KEY = "{key(rng)}"\n'.encode()
        stream.append(b"commit refs/heads/main\n")
        stream.append(f"committer Bench <b@example.com> {1_700_000_000 + n} +0000\n".encode())
        stream.append(b"data 7\ncommit\n")
        stream.append(f"M 100644 inline src/file{n % 40}.txt\ndata {len(data)}\n".encode() + data + b"\n")
    subprocess.run(["git", "-C", str(path), "fast-import", "--quiet"], input=b"".join(stream), check=True)


def sizes(count: int, total: int, rng: random.Random) -> list[int]:
    """COUNT sizes adding up to about TOTAL: a long tail, as an organisation's repositories are."""
    weights = [rng.paretovariate(1.2) for _ in range(count)]
    scale = total / sum(weights)
    return [max(64 * 1024, int(w * scale)) for w in weights]


def timed(cmd: list[str] | str, **kwargs: object) -> tuple[float, subprocess.CompletedProcess[bytes]]:
    started = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, **kwargs)  # type: ignore[call-overload]
    return time.monotonic() - started, proc


def findings(report: dict[str, object]) -> list[object]:
    return [sorted(f["fingerprint"] for f in r["findings"]) for r in report["repositories"]]  # type: ignore[attr-defined, index]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repos", type=int, default=100)
    parser.add_argument("--total-mb", type=int, default=2000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3, help="audit and cluster runs, alternated (best of)")
    parser.add_argument("--workdir", type=Path, help="where to generate (default: a temporary folder, removed)")
    args = parser.parse_args()
    root = args.workdir or Path(tempfile.mkdtemp(prefix="keysentry-bench-audit-"))
    try:
        rng = random.Random(12)
        started = time.monotonic()
        paths = []
        planned = sizes(args.repos, args.total_mb << 20, rng)
        sizes_mb = [size / 1e6 for size in planned]
        for i, size in enumerate(planned):
            path = root / f"repo{i:03}.git"
            if not path.exists():
                make_repo(path, size, rng, with_key=i % 5 == 0)
            paths.append(str(path))
        print(f"generated {len(paths)} repositories in {time.monotonic() - started:.0f}s", file=sys.stderr)
        keysentry = str(BIN / "keysentry")
        env = {**os.environ, "NO_COLOR": "1"}

        out = root / "loop"
        out.mkdir(exist_ok=True)
        loop_s, _ = timed(["bash", "-c", 'out=$1; shift; for r in "$@"; do '
                           '"$0" scan --history --format json --output "$out/${r##*/}.json" "$r"; done',
                           keysentry, str(out), *paths], env=env)
        loop_found = [sorted(f["fingerprint"] for f in json.loads((out / f"{Path(p).name}.json").read_text())["findings"])
                      for p in paths]
        from distributed import LocalCluster

        # Alternated, best of --runs each: the machine may be shared, and one run's noise is not
        # the overhead of Dask.
        audit_times, cluster_times = [], []
        with LocalCluster(n_workers=args.jobs, threads_per_worker=1, processes=True, dashboard_address=None) as c:
            for _ in range(args.runs):
                audit_s, audit = timed([keysentry, "audit", *paths, "--format", "json", "--jobs", str(args.jobs)],
                                       env=env)
                cluster_s, cluster = timed([keysentry, "audit", *paths, "--format", "json", "--cluster",
                                            c.scheduler_address], env=env)
                audit_times.append(audit_s)
                cluster_times.append(cluster_s)
        audit_s, cluster_s = min(audit_times), min(cluster_times)
        report = json.loads(audit.stdout)
        cluster_report = json.loads(cluster.stdout)

        mb = report["stats"]["bytes"] / 1e6
        same = findings(report) == findings(cluster_report) == loop_found
        rows = [("loop of scan --history", loop_s), (f"audit --jobs {args.jobs}", audit_s),
                (f"audit --cluster (LocalCluster, {args.jobs} workers)", cluster_s)]
        print(f"{len(paths)} repositories, {mb:,.0f} MB of blobs scanned, "
              f"{report['stats']['commits']} commits, {report['stats']['findings']} findings; "
              f"{os.cpu_count()} CPUs")
        print(f"{'run':45} {'seconds':>8} {'repos/min':>10} {'MB/s':>8}")
        for name, seconds in rows:
            print(f"{name:45} {seconds:8.1f} {len(paths) / seconds * 60:10.0f} {mb / seconds:8.1f}")
        print(f"audit vs loop: {loop_s / audit_s:.2f}x faster (target >= 1.0)")
        print(f"cluster overhead vs local pool: {(cluster_s / audit_s - 1) * 100:+.1f}% (target < 10%)")
        print(f"all runs (s): audit {', '.join(f'{t:.1f}' for t in audit_times)}; "
              f"cluster {', '.join(f'{t:.1f}' for t in cluster_times)}")
        print(f"largest repository: {max(sizes_mb):.0f} MB of text; smallest {min(sizes_mb):.2f} MB")
        print(f"same findings in all three: {same}")
        return 0 if same else 1
    finally:
        if args.workdir is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
