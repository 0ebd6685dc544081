#!/usr/bin/env python3
"""What `--format html` costs next to the scan it reports: git/git's full history by default.

    python benchmarks/bench_html.py [REPO] [--runs 3] [--findings 2000]

In one process, --runs times: `scan.run` of REPO's whole history (the scan), then the JSON and
the HTML report of its result (median of 5 renders each). Then the same two reports of a made-up
history result with --findings findings (keys made at run time, a tenth of them copied into 20
paths), since git/git's history holds no secret and its report is nearly empty. Target: HTML
rendering < 10% of the scan, on REPO and on the made-up result (against REPO's scan time).
"""
from __future__ import annotations

import argparse
import secrets
import statistics
import string
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scanner import report, scan
from scanner.models import Finding, Location, Result, Stats, fingerprint

TARGET = 0.10
_ALPHABET = string.ascii_letters + string.digits + "-_"


def timed(work: Callable[[], object], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def made_up(count: int) -> Result:
    """A history result of COUNT findings: one per path, a tenth of the secrets at 20 paths each."""
    findings = []
    for i in range(count):
        shared = i % 10 == 0
        key = "AIza" + "Sy" + "".join(secrets.choice(_ALPHABET) for _ in range(33))
        for copy in range(20 if shared else 1):
            path = f"src/pkg{i % 97}/module{i}_{copy}.py"
            month = 1 + (i * 7 + copy) % 12
            findings.append(Finding(
                "google-api-key", path, 3, 12, key, fingerprint("google-api-key", path, key),
                commit=f"{i:040x}", author=f"Dev {i % 31}", date=f"20{10 + i % 14}-{month:02d}-15T12:00:00+00:00",
                in_head=i % 3 != 0, head_paths=(path,) if i % 3 else (), locations=((Location(path, 3, 12),) if i % 3 else ())))
            if len(findings) >= count:
                break
        if len(findings) >= count:
            break
    return Result("history", tuple(findings), Stats(commits=count, blobs=count, bytes=count * 4000), (),
                  target="made-up", revisions="all refs (branches, tags, stash)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", nargs="?", default="/tmp/bench-repos/git.git")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--findings", type=int, default=2000)
    args = parser.parse_args()
    options = report.Options()
    scans, jsons, htmls = [], [], []
    found = 0
    for _ in range(args.runs):
        started = time.perf_counter()
        result = scan.run(scan.Request("history", Path(args.repo)))
        scans.append(time.perf_counter() - started)
        found = len(result.findings)
        jsons.append(timed(lambda: report.render(result, "json", options)))  # noqa: B023 - called at once
        htmls.append(timed(lambda: report.render(result, "html", options)))  # noqa: B023 - called at once
    scan_s, json_s, html_s = (statistics.median(v) for v in (scans, jsons, htmls))
    from scanner.report import html

    html._environment.cache_clear()  # a CLI run loads and compiles the template once: count that too
    cold = timed(lambda: report.render(result, "html", options), runs=1)
    synthetic = made_up(args.findings)
    synth_json = timed(lambda: report.render(synthetic, "json", options))
    synth_html = timed(lambda: report.render(synthetic, "html", options))
    size = len(report.render(synthetic, "html", options).encode())
    print(f"{args.repo}: {found} findings, scan {scan_s:.2f} s (median of {args.runs}; runs {', '.join(f'{s:.2f}' for s in scans)})")
    print("| report | findings | render s | / scan |")
    print("|---|---|---|---|")
    print(f"| json, {Path(args.repo).name} | {found} | {json_s:.4f} | {json_s / scan_s:.2%} |")
    print(f"| html, {Path(args.repo).name} | {found} | {html_s:.4f} | {html_s / scan_s:.2%} |")
    print(f"| html, {Path(args.repo).name}, first render (template compiled) | {found} | {cold:.4f} | {cold / scan_s:.2%} |")
    print(f"| json, made-up history | {len(synthetic.findings)} | {synth_json:.4f} | {synth_json / scan_s:.2%} |")
    print(f"| html, made-up history | {len(synthetic.findings)} | {synth_html:.4f} | {synth_html / scan_s:.2%} |")
    print(f"made-up HTML page: {size / 1e6:.1f} MB")
    ok = max(html_s, cold) / scan_s < TARGET and synth_html / scan_s < TARGET
    print(f"Target: html / scan < {TARGET:.0%}: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
