"""Large files in bounded memory (issue 17 §3): peak memory and speed of `keysentry scan` on a file
read a window at a time (past scanner.chunked.READ_WHOLE) against one read whole (the reference),
in the same run.

Targets: the large file's peak RSS at most 1.5x the reference's, though it is 5x the size (memory
bounded by the window, not the file); its throughput (MB/s) at least 0.8x the reference's.

    .venv/bin/python benchmarks/bench_large_file.py [--runs N] [--json FILE]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

MB = 1024 * 1024
FIXTURES = Path("/tmp/keysentry-bench-large")
LINE = b"INSERT INTO events VALUES (42, 'a line of padding, as in a database dump', 3.14);\n"


def build(path: Path, size: int) -> Path:
    if path.exists() and path.stat().st_size >= size:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    block = LINE * (MB // len(LINE))
    with path.open("wb") as fh:
        written = 0
        while written < size:
            fh.write(block)
            written += len(block)
        # A key-shaped value made here, never committed: found at the very end of the file.
        fh.write(b'api_key = "' + os.urandom(18).hex().encode() + b'"\n')
    return path


def run(python: str, target: Path) -> tuple[float, int, int]:
    """Seconds, peak RSS (KiB) and exit status of one scan of TARGET."""
    started = time.perf_counter()
    proc = subprocess.Popen([python, "-m", "scanner", "scan", "--quiet", "--jobs", "1", str(target)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    return seconds, usage.ru_maxrss, os.waitstatus_to_exitcode(status)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--python", default=os.environ.get("KEYSENTRY_PYTHON", ".venv/bin/python"))
    args = parser.parse_args()
    files = {"whole (48 MB)": build(FIXTURES / "whole" / "dump.sql", 48 * MB),
             "windows (240 MB)": build(FIXTURES / "windows" / "dump.sql", 240 * MB)}
    figures: dict[str, dict[str, float]] = {}
    samples: dict[str, list[tuple[float, int, int]]] = {name: [] for name in files}
    for path in files.values():
        run(args.python, path.parent)  # warm-up, untimed
    for _ in range(args.runs):
        for name, path in files.items():  # alternated round by round
            samples[name].append(run(args.python, path.parent))
    print(f"{'file':18} {'seconds':>8} {'MB/s':>8} {'peak RSS MB':>12} {'exit':>5}")
    for name, path in files.items():
        seconds = statistics.median(s for s, _, _ in samples[name])
        rss = max(r for _, r, _ in samples[name]) / 1024
        size = path.stat().st_size / MB
        codes = {c for _, _, c in samples[name]}
        figures[name] = {"seconds": seconds, "mb_per_s": size / seconds, "peak_rss_mb": rss, "exit": max(codes)}
        print(f"{name:18} {seconds:8.2f} {size / seconds:8.1f} {rss:12.1f} {max(codes):5}")
    whole, windows = figures["whole (48 MB)"], figures["windows (240 MB)"]
    memory = windows["peak_rss_mb"] / whole["peak_rss_mb"]
    speed = windows["mb_per_s"] / whole["mb_per_s"]
    found = whole["exit"] == 1 and windows["exit"] == 1
    checks = [(f"peak RSS, 240 MB in windows / 48 MB whole: {memory:.2f}x (target <= 1.5)", memory <= 1.5),
              (f"throughput, windows / whole: {speed:.2f}x (target >= 0.8)", speed >= 0.8),
              ("the key at the end of each file is found (exit 1)", found)]
    for text, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {text}")
    if args.json:
        args.json.write_text(json.dumps({"figures": figures, "memory_ratio": memory, "speed_ratio": speed}, indent=2))
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
