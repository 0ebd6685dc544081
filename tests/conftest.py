from __future__ import annotations

import fcntl
import io
import os
import random
import re
import resource
import shutil
import secrets
import signal
import string
import subprocess
import sys
from collections.abc import Callable, Generator, Mapping
from pathlib import Path

import pytest

from scanner.detect import Detector

def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--cpu-durations", type=int, default=None, metavar="N",
                     help="list the N tests that took the most CPU time (their own process and the processes "
                          "they waited for): the suite's cost on a shared machine, where --durations measures the load")


_FORKED_CPU = [0.0]


def count_forked_cpu(seconds: float) -> None:
    """Count SECONDS of CPU time of a process this one ran but did not wait for itself (a child
    of tests/forkserver.py) as its children's."""
    _FORKED_CPU[0] += seconds


def children_cpu_seconds() -> float:
    """The CPU time of the processes this one ran to their end: those it waited for itself and
    tests.hostile.keysentry's."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return children.ru_utime + children.ru_stime + _FORKED_CPU[0]


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime + children_cpu_seconds()


_CPU_STARTED = pytest.StashKey[float]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, None, None]:
    # Set-up, call and teardown together: a session fixture's cost lands on its first test. The
    # figure travels in the reports' user_properties, so an xdist worker's reaches the controller.
    item.stash[_CPU_STARTED] = _cpu_seconds()
    yield


def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> None:
    if call.when == "teardown" and _CPU_STARTED in item.stash:
        item.user_properties.append(("cpu_seconds", round(_cpu_seconds() - item.stash[_CPU_STARTED], 3)))


_CPU: list[tuple[float, str]] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "teardown":
        seconds = dict(report.user_properties).get("cpu_seconds")
        if isinstance(seconds, float):
            _CPU.append((seconds, report.nodeid))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    count = config.getoption("--cpu-durations")
    if count is None or not _CPU:
        return
    terminalreporter.write_sep("=", f"most CPU time ({sum(s for s, _ in _CPU):.1f} s in all)")
    for seconds, nodeid in sorted(_CPU, reverse=True)[:count or None]:
        terminalreporter.write_line(f"{seconds:8.2f}s {nodeid}")


# Files whose tests each take seconds of wall time (process pools, Dask clusters, Chromium, the
# pre-commit framework, repository timeouts, scans of megabytes), slowest first: they run first, so
# that the run ends on short tests and no xdist worker waits alone for one long test at the end.
_LONG_FIRST = (
    "test_audit_cluster.py", "test_audit.py", "test_hooks_precommit.py", "test_audit_integrity.py",
    "test_release.py", "test_linear_cost.py", "test_hostile_inputs.py", "test_hostile_repos.py",
    "test_audit_formats.py", "test_contexts.py", "test_html_report.py", "test_exclude.py", "test_self_scan.py",
    "test_reports.py", "test_blob_reader.py", "test_pre_receive.py",
)


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: one worker more than the CPUs. A share of the suite waits rather than computes
    (Dask start-up, a repository timeout, a server's deadline, Chromium): a spare worker runs
    another test meanwhile (on 2 idle cores: 4m52s instead of 5m32s, the same CPU time). Cost
    guards measure CPU time, so the extra worker does not make them fail."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return cpus + 1


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A stable sort: a file's tests stay together and in their order (module-scoped fixtures are
    # built once); every xdist worker computes the same order from the same collection.
    rank = {name: i for i, name in enumerate(_LONG_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


# --- built once a run, shared by every xdist worker --------------------------------------------

_SHARED = "shared"


def _run_root(factory: pytest.TempPathFactory, config: pytest.Config) -> Path:
    """The folder of the whole run: the controller's temporary folder, whose popen-gwN folders are
    the workers' (or this process's own, without xdist)."""
    base = factory.getbasetemp()
    return base.parent if hasattr(config, "workerinput") else base


def built_once(request: pytest.FixtureRequest, name: str, build: Callable[[Path], None]) -> Path:
    """A folder NAME that BUILD fills once for the whole run, whichever worker asks first; the others
    wait for it and share it. For what tests only read and would each build again in every worker
    (a hook environment: a virtualenv and an install). Removed when the run ends."""
    shared = _run_root(request.config._tmp_path_factory, request.config) / _SHARED  # type: ignore[attr-defined]
    shared.mkdir(exist_ok=True)
    target, done = shared / name, shared / f"{name}.done"
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also if this process dies
        if not done.exists():
            shutil.rmtree(target, ignore_errors=True)  # a half-built one, from a worker that failed
            target.mkdir()
            build(target)
            done.touch()
    return target


def pytest_sessionfinish(session: pytest.Session) -> None:
    # The controller ends last, after every worker: the shared folders go with the run (a green
    # run leaves nothing behind; pytest keeps a failed test's own folder, not these).
    if not hasattr(session.config, "workerinput"):
        factory = getattr(session.config, "_tmp_path_factory", None)
        if factory is not None and factory._basetemp is not None:
            shutil.rmtree(_run_root(factory, session.config) / _SHARED, ignore_errors=True)


def pytest_configure(config: pytest.Config) -> None:
    """A suite started with SIGINT ignored (a background job, some CI runners) would pass that on
    to every process a test starts, and the tests that interrupt keysentry with Ctrl-C would wait
    for an exit that never comes: give SIGINT its default back (each xdist worker does this too)."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if not hasattr(config, "workerinput"):
        _compile_package()
        _compile_tests(config)


def _compile_package() -> None:
    """Write the package's bytecode once, before the workers start. The suite starts keysentry in
    hundreds of processes (hooks git runs, the pre-commit framework's, the CLI's own), and each
    would compile every module it imports again where no bytecode was written: an editable
    install writes none, nor does an interpreter under PYTHONDONTWRITEBYTECODE (this machine's).
    About 0.1 CPU-s a process; a fifth of the hook tests' CPU time. (Up-to-date files are kept.)"""
    import compileall

    import scanner

    compileall.compile_dir(Path(scanner.__file__).parent, quiet=1)


def _compile_tests(config: pytest.Config) -> None:
    """Write the test modules' bytecode once, before the workers start, as pytest itself would
    without PYTHONDONTWRITEBYTECODE: each xdist worker imports every test module, and rewriting
    and compiling them took each worker 5 of its 6 CPU-s of collection. The test modules' code is
    pytest's assertion rewriter's (a private interface: if it changes, the workers rewrite them as
    before); the other modules here are compiled as Python compiles them."""
    import compileall

    here = Path(__file__).parent
    compileall.compile_dir(here, quiet=1, rx=re.compile(r"(?:^|/)(?:test_[^/]*|conftest)\.py$"))
    try:
        from _pytest.assertion import rewrite

        for source in sorted(here.rglob("*.py")):
            if not (source.name.startswith("test_") or source.name == "conftest.py"):
                continue
            pyc = rewrite.get_cache_dir(source) / (source.name[:-3] + rewrite.PYC_TAIL)
            if rewrite._read_pyc(source, pyc, lambda message: None) is not None:
                continue  # up to date
            source_hash, code = rewrite._rewrite_test(source, config)
            pyc.parent.mkdir(exist_ok=True)
            written = pyc.with_name(f"{pyc.name}.{os.getpid()}")
            with open(written, "wb") as out:
                rewrite._write_pyc_fp(out, source_hash, code)
            os.replace(written, pyc)  # whole or not at all, as pytest writes it
    except Exception:  # only a speed-up: the workers rewrite what is not here
        return


KEY_ALPHABET = string.ascii_letters + string.digits + "-_"


# Test values need random characters, not secret ones: secrets.choice reads the kernel's random
# source once a character (a system call each; 1.5 CPU-s for 20,000 keys, 0.1 s from this). Its
# own generator, seeded from that source, again in a forked child: hypothesis seeds the global one.
_RANDOM = random.Random(secrets.randbits(128))
os.register_at_fork(after_in_child=lambda: _RANDOM.seed(secrets.randbits(128)))


def random_chars(n: int, alphabet: str = KEY_ALPHABET) -> str:
    return "".join(_RANDOM.choices(alphabet, k=n))


def google_key() -> str:
    """A Google-API-key-shaped value made at test time; never a literal in the repository."""
    return "AIza" + "Sy" + random_chars(33)


def hex_secret(n: int = 32) -> str:
    return random_chars(n, "0123456789abcdef")


def located(text: str, secret: str) -> tuple[int, int]:
    """The 1-based line and column of the first occurrence of SECRET in TEXT."""
    index = text.index(secret)
    return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1


# Every engine the rule tests run on; a module opts in with `pytestmark = pytest.mark.usefixtures("engine")`.
ENGINES = ("hyperscan", "python")


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The engine every Detector built in the test uses (KEYSENTRY_ENGINE), in turn each of them."""
    monkeypatch.setenv("KEYSENTRY_ENGINE", request.param)
    return str(request.param)


def detector_matches(data: str | bytes, path: str = "snippet") -> list[tuple[str, int, int, str]]:
    """(rule id, line, column, secret) of every match the engine in use (see `engine`) finds."""
    raw = data.encode() if isinstance(data, str) else data
    return [(m.rule_id, m.line, m.column, m.secret) for m in Detector().scan(raw, path).matches]


GIT_ENV = {
    "GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "ada@example.com",
    "GIT_COMMITTER_NAME": "Ada", "GIT_COMMITTER_EMAIL": "ada@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(repo: Path, *args: str, **kwargs: object) -> str:
    env = {**os.environ, **GIT_ENV, **kwargs.pop("env", {})}  # type: ignore[arg-type]
    proc = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]
    if proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
    return proc.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    return path


def run_cli(*args: str | os.PathLike[str], cwd: Path, env: Mapping[str, str] | None = None,
            stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    """`keysentry ARGS` run in this process (scanner.cli.main) as the console script would run it:
    in CWD, with GIT_ENV and ENV added to the environment, STDIN on standard input; its status and
    what it wrote, as bytes. A process costs the suite an interpreter and every import, so a test
    runs keysentry in a process of its own (tests.hostile.keysentry) only when that boundary is the
    point: a signal, a hang, what reaches the terminal, what a fresh interpreter imports."""
    from scanner.cli import main

    added = {**GIT_ENV, **(env or {})}
    saved_env = {name: os.environ.get(name) for name in added}
    saved_streams = sys.stdin, sys.stdout, sys.stderr
    saved_cwd = os.getcwd()
    out, err = io.BytesIO(), io.BytesIO()
    # Not terminals, as in a subprocess with its output captured: no colour, no progress bar.
    streams = [io.TextIOWrapper(buffer, encoding="utf-8", write_through=True) for buffer in (out, err)]
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
    sys.stdout, sys.stderr = streams
    os.environ.update(added)
    os.chdir(cwd)
    try:
        status = main([os.fspath(a) for a in args])
    finally:
        os.chdir(saved_cwd)
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        for stream in streams:
            stream.flush()
        sys.stdin, sys.stdout, sys.stderr = saved_streams
    return subprocess.CompletedProcess([os.fspath(a) for a in args], status, out.getvalue(), err.getvalue())
