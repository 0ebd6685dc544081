#!/usr/bin/env python3
"""Issue 23's scale figures, each against a reference measured in the same run.

    python benchmarks/bench_scale.py [--lines 430000] [--findings 50000] [--skip-dump] [--skip-chromium]

1. A dump of keys: a .env of LINES secret-shaped lines (24 MB at 430,000), scanned as a work tree
   and by the commit hook's `--staged`, against a .env of the same size holding no key (reference).
   Target: under 5 s and 300 MB.
2. Reports of FINDINGS findings in every format: peak RSS of a child that makes the findings and
   writes the report (to a file, as --output does), against the same child writing nothing
   (reference), and the report's size.
3. The HTML page of FINDINGS findings in headless Chromium: first contentful paint and load, against
   the page of 500 findings (reference). Target: first paint under 5 s.
4. What one finding costs in memory (tracemalloc), and its view for the reports.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

FORMATS = ("json", "sarif", "gitlab", "github", "markdown", "text", "html")

_CHILD = r"""
import base64, os, sys, time
from scanner.models import Finding, Result, Stats
from scanner.report import Options, stream
count, fmt, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
key = lambda: "AIza" + base64.urlsafe_b64encode(os.urandom(27)).decode()[:35]
findings = tuple(Finding("google-api-key", f"src/module_{i % 50}/deeply/nested/folder/config_{i}.py", 1 + i % 900,
                         9, key(), f"{i:040x}") for i in range(count))
started = time.perf_counter()
if fmt != "none":
    with open(out, "w", encoding="utf-8") as fh:
        for chunk in stream(Result("worktree", findings, Stats(files=count)), fmt, Options()):
            fh.write(chunk)
print(time.perf_counter() - started)
"""


def _python() -> str:
    venv = PROJECT / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def _rss_of(argv: list[str], cwd: Path) -> tuple[float, float, str]:
    """Like _run, with the child's own peak RSS from GNU time (children's ru_maxrss is a maximum over all)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as fh:
        started = time.perf_counter()
        proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", fh.name, *argv], cwd=cwd, capture_output=True, text=True)
        took = time.perf_counter() - started
        if proc.returncode not in (0, 1):
            raise SystemExit(f"{argv} failed: {proc.stderr}")
        return took, int(fh.read().split()[-1]) / 1024, proc.stdout


def dump(lines: int) -> None:
    print(f"\n1. A .env of {lines:,} secret-shaped lines against one of the same size without a key")
    with tempfile.TemporaryDirectory() as top:
        rows = []
        for name, make in (("reference (no key)", lambda i: f"SETTING_{i}=value-{i:032d}\n"),
                           ("dump of keys", lambda i: f"API_KEY_{i}=AIza{base64.urlsafe_b64encode(os.urandom(27)).decode()[:35]}\n")):
            repo = Path(top) / name.split()[0]
            repo.mkdir()
            subprocess.run(["git", "init", "-q", str(repo)], check=True)
            (repo / ".env").write_text("".join(make(i) for i in range(lines)))
            subprocess.run(["git", "-C", str(repo), "add", ".env"], check=True)
            size = (repo / ".env").stat().st_size
            scan = _rss_of([_python(), "-m", "scanner", "scan", ".", "--format", "json", "--quiet"], repo)
            staged = _rss_of([_python(), "-m", "scanner", "scan", "--staged", "."], repo)
            findings = len(json.loads(scan[2])["findings"])
            rows.append((name, size, scan, staged, findings))
        ref = rows[0]
        for name, size, scan, staged, findings in rows:
            print(f"   {name:20} {size / 1e6:5.1f} MB  scan {scan[0]:5.2f} s {scan[1]:6.0f} MB"
                  f"  staged {staged[0]:5.2f} s {staged[1]:6.0f} MB  findings {findings:5}"
                  f"  (x{scan[0] / ref[2][0]:.2f} time, x{scan[1] / ref[2][1]:.2f} memory of the reference)")


def reports(count: int) -> None:
    print(f"\n2. Reports of {count:,} findings: peak RSS of making the findings and writing the report")
    with tempfile.TemporaryDirectory() as top:
        base = _rss_of([_python(), "-c", _CHILD, str(count), "none", os.devnull], PROJECT)
        print(f"   {'reference (no report)':24} {base[1]:6.0f} MB")
        for fmt in FORMATS:
            out = Path(top) / f"report.{fmt}"
            _, rss, printed = _rss_of([_python(), "-c", _CHILD, str(count), fmt, str(out)], PROJECT)
            print(f"   {fmt:24} {rss:6.0f} MB (+{rss - base[1]:4.0f} MB over the reference)"
                  f"  {out.stat().st_size / 1e6:7.1f} MB written in {float(printed):5.2f} s")


def chromium(count: int) -> None:
    from tests.chromium import Browser

    print(f"\n3. The HTML page in headless Chromium: {count:,} findings against 500")
    with tempfile.TemporaryDirectory() as top:
        figures = {}
        for n in (500, count):
            out = Path(top) / f"report-{n}.html"
            subprocess.run([_python(), "-c", _CHILD, str(n), "html", str(out)], cwd=PROJECT, check=True,
                           capture_output=True)
            with Browser(width=1280, timeout=600) as b:
                started = time.perf_counter()
                b.open(out)
                load = time.perf_counter() - started
                paint = b.evaluate("(performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime || -1")
                rows = b.evaluate("Array.from(document.querySelectorAll('tbody.secret')).filter(r => !r.hidden).length")
            figures[n] = (out.stat().st_size, paint / 1000, load, rows)
            print(f"   {n:7,} findings: {out.stat().st_size / 1e6:6.1f} MB, first contentful paint {paint / 1000:5.2f} s,"
                  f" load event {load:5.2f} s, {rows} rows on screen")
        small, large = figures[500], figures[count]
        print(f"   ratio {count:,} / 500: size x{large[0] / small[0]:.1f}, first paint x{large[1] / max(small[1], 1e-3):.1f},"
              f" load x{large[2] / small[2]:.1f}")


def per_finding(count: int) -> None:
    import tracemalloc

    from scanner.models import Match, Result, Stats, make_finding
    from scanner.report import Options, present

    print(f"\n4. Memory of one finding ({count:,} made)")
    key = lambda: "AIza" + base64.urlsafe_b64encode(os.urandom(27)).decode()[:35]  # noqa: E731
    matches = [Match("google-api-key", key(), 1 + i, 9, "") for i in range(count)]
    tracemalloc.start()
    findings = [make_finding(m, f"src/module_{i % 50}/config_{i}.py") for i, m in enumerate(matches)]
    made = tracemalloc.get_traced_memory()[0]
    view = present(Result("worktree", tuple(findings), Stats()), Options())
    shown = tracemalloc.get_traced_memory()[0] - made
    tracemalloc.stop()
    print(f"   a finding: {made / count:.0f} bytes (its path included); its view for the reports: {shown / count:.0f} bytes")
    del view


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=430_000)
    parser.add_argument("--findings", type=int, default=50_000)
    parser.add_argument("--skip-dump", action="store_true")
    parser.add_argument("--skip-chromium", action="store_true")
    args = parser.parse_args()
    if not args.skip_dump:
        dump(args.lines)
    reports(args.findings)
    if not args.skip_chromium:
        chromium(args.findings)
    per_finding(args.findings)


if __name__ == "__main__":
    main()
