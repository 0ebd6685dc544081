#!/usr/bin/env python3
"""`--verify` cost: 200 distinct keys verified against a local server answering like Google.

    python benchmarks/bench_verify.py [--keys 200] [--runs 3] [--latency 0 0.05]

A folder (not committed anywhere) holds one file per key; the server (tests/fake_google.py, on
127.0.0.1) answers a quarter of the keys live (each then asked its three exposure lists: files,
cached contents, tuned models, which it can list), a quarter restricted, a quarter
no-gemini-access (which costs a second probe) and a quarter invalid, after LATENCY seconds per
request (0.05 is about a real round trip to Google from Europe). Timed, median of --runs, every
command started afresh (interpreter start-up included):
  scan                       python -m scanner scan DIR --format json          (the reference)
  scan --verify              the same with --verify, KEYSENTRY_VERIFY_ENDPOINT = the local server
  scan --verify --verify-cache FILE, run twice: the second run (timed) must send no request
Reported: each, the difference to the reference (what verifying costs) and the number of
requests the server got. Targets (issues 11 and 21): scan --verify < 5 s; the cached run sends 0.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import benchlib
from tests import fake_google as g
from tests.conftest import google_key

TARGET = 5.0


def _answers(fake: g.FakeGoogle, keys: list[str], latency: float) -> None:
    for i, key in enumerate(keys):
        kind = i % 4
        if kind == 0:
            fake.on(g.GEMINI, key, g.slow(latency, g.models()))
            fake.on(g.FILES, key, g.slow(latency, g.listing("files", 3)))
            fake.on(g.CACHED, key, g.slow(latency, g.listing("cachedContents", 1)))
            fake.on(g.TUNED, key, g.slow(latency, g.listing("tunedModels", 0)))
        elif kind == 1:
            fake.on(g.GEMINI, key, g.slow(latency, g.google_error("API_KEY_HTTP_REFERRER_BLOCKED")))
        elif kind == 2:
            fake.on(g.GEMINI, key, g.slow(latency, g.google_error("SERVICE_DISABLED")))
            fake.on(g.IDENTITY, key, g.slow(latency, g.identity_config()))
        else:
            fake.on(g.GEMINI, key, g.slow(latency, g.google_error("API_KEY_INVALID")))


def _time(cmd: list[str], env: dict[str, str]) -> tuple[float, bytes]:
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, env=env)
    took = time.perf_counter() - started
    if proc.returncode != 1:
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.decode()}")
    return took, proc.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keys", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--latency", type=float, nargs="+", default=[0.0, 0.05])
    args = parser.parse_args()
    keys = [google_key() for _ in range(args.keys)]
    rows = []
    with tempfile.TemporaryDirectory(prefix="keysentry-bench-verify-") as folder:
        for i, key in enumerate(keys):
            Path(folder, f"m{i:03}.py").write_text(f'KEY = "{key}"\n')
        scan = benchlib.keysentry_cmd("scan", folder, "--format", "json", "--quiet")
        base_env = {k: v for k, v in os.environ.items() if k != "KEYSENTRY_VERIFY_ENDPOINT"}
        plain = statistics.median(_time(scan, base_env)[0] for _ in range(args.runs))
        for latency in args.latency:
            fake = g.FakeGoogle()
            _answers(fake, keys, latency)
            times = []
            with fake.running():
                env = {**base_env, "KEYSENTRY_VERIFY_ENDPOINT": fake.url}
                for _ in range(args.runs):
                    fake.seen.clear()
                    took, out = _time([*scan, "--verify"], env)
                    times.append(took)
                statuses = sorted({f["verification"]["status"] for f in json.loads(out)["findings"]})
                requests = len(fake.seen)
                cache = Path(folder).with_name(Path(folder).name + "-verdicts.json")
                _time([*scan, "--verify", "--verify-cache", str(cache)], env)  # fills the cache
                cached_times = []
                for _ in range(args.runs):
                    fake.seen.clear()
                    cached_times.append(_time([*scan, "--verify", "--verify-cache", str(cache)], env)[0])
                cached_requests = len(fake.seen)
                cache.unlink()
            verified = statistics.median(times)
            rows.append((latency, verified, requests, statuses, statistics.median(cached_times), cached_requests))
    print(f"{args.keys} distinct keys, median of {args.runs} runs; scan without --verify: {plain:.2f} s")
    print(f"{'latency/request':>16} {'scan --verify':>14} {'verify cost':>12} {'requests':>9} "
          f"{'cached run':>11} {'requests':>9}  statuses")
    failed = False
    for latency, verified, requests, statuses, cached, cached_requests in rows:
        ok = verified < TARGET and cached_requests == 0
        failed |= not ok
        print(f"{latency * 1000:>13.0f} ms {verified:>12.2f} s {verified - plain:>10.2f} s {requests:>9} "
              f"{cached:>9.2f} s {cached_requests:>9}  {', '.join(statuses)}  "
              f"{'ok' if ok else f'OVER {TARGET:g} s or a cached run sent requests'}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
