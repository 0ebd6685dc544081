"""Attack rows for the hostile suites (see tests/hostile.py): config, baseline, output files and the process (signals, pipes, encodings)."""
from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from scanner import parallel
from tests.conftest import GIT_ENV, git, google_key
from tests.hostile import KEYSENTRY, Attack, expect_error, keysentry, no_traceback


def _repo(tmp_path: Path, leak: bool = True) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "app.py").write_text(f'KEY = "{google_key()}"\n' if leak else "print('clean')\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "start")
    return repo


def _commit_link(repo: Path, name: str, target: str) -> Path:
    """A symlink committed to the repository, as a clone of it checks it out."""
    link = repo / name
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target)
    git(repo, "add", name)
    git(repo, "commit", "-q", "-m", f"link {name}")
    return link


# --- item 2: committed symlinks must not turn our writes into writes outside the tree ---------------

def _baseline_link_to_outside_file(tmp_path: Path) -> None:
    victim = tmp_path / "bashrc"
    victim.write_text("alias ls='ls --color'\n")
    repo = _repo(tmp_path)
    _commit_link(repo, ".keysentry-baseline.json", str(victim))
    expect_error(keysentry("baseline", cwd=repo), "symbolic link")
    assert victim.read_text() == "alias ls='ls --color'\n"
    assert (repo / ".keysentry-baseline.json").is_symlink()


def _baseline_dangling_link(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    _commit_link(repo, ".keysentry-baseline.json", str(tmp_path / "created-by-us"))
    expect_error(keysentry("baseline", ".", cwd=repo), "symbolic link")
    assert not (tmp_path / "created-by-us").exists()


def _output_link_in_repo(tmp_path: Path) -> None:
    victim = tmp_path / "profile"
    victim.write_text("keep me\n")
    repo = _repo(tmp_path)
    _commit_link(repo, "report.json", str(victim))
    expect_error(keysentry("scan", ".", "--format", "json", "--output", "report.json", cwd=repo), "symbolic link")
    expect_error(keysentry("scan", str(repo), "--format", "json", "--output", str(repo / "report.json"), cwd=tmp_path),
                 "symbolic link")
    assert victim.read_text() == "keep me\n"


def _output_through_linked_folder(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    repo = _repo(tmp_path)
    _commit_link(repo, "reports", str(outside))
    expect_error(keysentry("baseline", ".", "--output", "reports/base.json", cwd=repo), "symbolic link")
    expect_error(keysentry("scan", "--output", "reports/r.json", cwd=repo), "symbolic link")
    assert list(outside.iterdir()) == []


def _output_back_out_of_a_linked_folder(tmp_path: Path) -> None:
    """Issue 17 §5: `LINK/../report.json` reads as a file at the top of the repository, but the
    kernel leaves LINK's target with `..`: the write would land beside the target, outside."""
    outside = tmp_path / "outside"
    (outside / "folder").mkdir(parents=True)
    repo = _repo(tmp_path)
    _commit_link(repo, "LINK", str(outside / "folder"))
    for command in ("scan", "baseline", "audit"):
        expect_error(keysentry(command, ".", "--output", "LINK/../report.json", cwd=repo), "symbolic link")
        expect_error(keysentry(command, str(repo), "--output", str(repo / "LINK" / ".." / "report.json"),
                               cwd=tmp_path), "symbolic link")
    assert list(outside.iterdir()) == [outside / "folder"] and list((outside / "folder").iterdir()) == []
    # A link that stays inside the repository may be walked back out of as usual.
    (repo / "sub").mkdir()
    _commit_link(repo, "INNER", "sub")
    assert keysentry("scan", ".", "--output", "INNER/../inside.json", cwd=repo).returncode == 1
    assert (repo / "inside.json").is_file()


def _output_to_dev_stdout_and_fifo(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    proc = keysentry("scan", ".", "--format", "json", "--output", "/dev/stdout", cwd=repo)
    assert proc.returncode == 1 and json.loads(proc.stdout)["findings"], proc.stderr
    fifo = repo / "report.fifo"  # a FIFO in the tree is the user's own: git cannot commit one
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    proc = keysentry("scan", ".", "--format", "json", "--output", str(fifo), cwd=repo)
    out, _ = reader.communicate(timeout=30)
    assert proc.returncode == 1 and json.loads(out)["findings"], proc.stderr
    assert fifo.is_fifo()


# --- items 8 and 9: baselines and configs that never end or never arrive ---------------------------

def _baseline_dev_zero(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    expect_error(keysentry("scan", ".", "--baseline", "/dev/zero", cwd=repo, timeout=20), "not a regular file")
    (tmp_path / "base.json").symlink_to("/dev/zero")
    expect_error(keysentry("scan", ".", "--baseline", str(tmp_path / "base.json"), cwd=repo, timeout=20),
                 "not a regular file")


def _baseline_fifo(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    os.mkfifo(tmp_path / "base.json")
    expect_error(keysentry("scan", ".", "--baseline", str(tmp_path / "base.json"), cwd=repo, timeout=20),
                 "not a regular file")


def _baseline_too_large(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    big = tmp_path / "base.json"
    with big.open("w") as fh:  # valid JSON, all but its ends one run of spaces past the limit
        fh.write('{"version": 1, "findings": [')
        fh.truncate(65 * 1024 * 1024)
        fh.seek(0, os.SEEK_END)
        fh.write("]}")
    with big.open("r+b") as fh:
        fh.seek(30)
        fh.write(b" " * (65 * 1024 * 1024 - 40))
    expect_error(keysentry("scan", ".", "--baseline", str(big), cwd=repo), "larger than")


def _config_dev_zero_and_fifo(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    os.mkfifo(tmp_path / "ci.toml")
    for config in ("/dev/zero", str(tmp_path / "ci.toml")):
        expect_error(keysentry("scan", ".", "--config", config, cwd=repo, timeout=20), "not a regular file")
    _commit_link(repo, ".keysentry.toml", "/dev/zero")
    expect_error(keysentry("scan", ".", cwd=repo, timeout=20), "not a regular file", ".keysentry.toml")


# --- item 10: malformed configs and baselines are one line, never a traceback ------------------------

def _malformed(files: dict[str, bytes], *words: str, args: tuple[str, ...] = ()) -> Callable[[Path], None]:
    def run(tmp_path: Path) -> None:
        repo = _repo(tmp_path)
        for name, data in files.items():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            (repo / name).write_bytes(data)
        expect_error(keysentry("scan", ".", *args, cwd=repo), *words)
    return run


def _deep_baseline(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    (tmp_path / "base.json").write_text("[" * 200_000)
    expect_error(keysentry("scan", ".", "--baseline", str(tmp_path / "base.json"), cwd=repo), "nested too deeply")


# --- item 15: a catastrophic allow regex from the scanned repository's own config ---------------------

def _catastrophic_allow(pattern: str, refused: bool) -> Callable[[Path], None]:
    """Under `re` either pattern backtracks for minutes on one key; now the regex engine either
    sees through it (the scan goes on) or gives up after its timeout (one line, exit 2)."""
    def run(tmp_path: Path) -> None:
        repo = _repo(tmp_path)
        (repo / ".keysentry.toml").write_text(f"allow = [{json.dumps(pattern)}]\n")
        started = time.monotonic()
        proc = keysentry("scan", ".", cwd=repo, timeout=40)
        if refused:
            expect_error(proc, "allow", "took too long")
        else:
            no_traceback(proc)
            assert proc.returncode == 1, proc.stderr
        assert time.monotonic() - started < 20
    return run


# --- item 17: --jobs against the process limit ------------------------------------------------------

def _tree_of(folder: Path, files: int) -> Path:
    folder.mkdir()
    for i in range(files):
        (folder / f"f{i}.py").write_text(f"x = {i}\n")
    return folder


@contextmanager
def _task_limit(extra: int) -> Iterator[Callable[[], None]]:
    """A preexec_fn letting the scan start at most EXTRA more tasks (processes and threads): an
    RLIMIT_NPROC for a plain user; root ignores that limit, so there a pids cgroup does it."""
    if os.getuid() != 0:
        def rlimit() -> None:
            mine = sum(1 for d in os.listdir("/proc") if d.isdigit() and _owner(d) == os.getuid())
            resource.setrlimit(resource.RLIMIT_NPROC, (mine + extra, mine + extra))
        yield rlimit
        return
    group = Path("/sys/fs/cgroup/pids") / f"keysentry-test-{os.getpid()}-{time.monotonic_ns()}"
    try:
        group.mkdir()
        (group / "pids.max").write_text(f"{1 + extra}\n")
    except OSError:
        pytest.skip("no way to limit the number of processes on this machine")

    def join() -> None:
        with open(group / "cgroup.procs", "w") as fh:
            fh.write(str(os.getpid()))
    try:
        yield join
    finally:
        for _ in range(50):  # the workers may take a moment to be reaped
            try:
                group.rmdir()
                break
            except OSError:
                time.sleep(0.1)


def _owner(pid: str) -> int:
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return -1


def _limited_scan(tmp_path: Path, extra: int, *args: str) -> subprocess.CompletedProcess[bytes]:
    tree = _tree_of(tmp_path / "tree", 100)  # a plain folder: no git process after the first
    with _task_limit(extra) as limit:
        return subprocess.run([KEYSENTRY, "scan", str(tree), "--format", "json", *args], cwd=tmp_path,
                              env={**os.environ, **GIT_ENV}, capture_output=True, timeout=120, preexec_fn=limit)


def _jobs_capped(tmp_path: Path) -> None:
    # The scan itself, the pool's three threads and the workers: --jobs 500 must start no more
    # workers than the CPUs can keep busy.
    proc = _limited_scan(tmp_path, 3 + 2 * parallel.cpu_count() + 1, "--jobs", "500")
    no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["stats"]["files"] == 100


def _fork_fails(tmp_path: Path) -> None:
    expect_error(_limited_scan(tmp_path, 1, "--jobs", "2"), "worker processes")


# --- item 18: a terminal or pipe that cannot encode the report ---------------------------------------

def _ascii_stdout(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    (repo / "caf\u00e9.py").write_text(f'KEY = "{google_key()}"\n')
    for env in ({"PYTHONIOENCODING": "ascii"}, {"LANG": "C", "LC_ALL": "C", "PYTHONIOENCODING": "ascii:strict"}):
        proc = keysentry("scan", ".", cwd=repo, env=env)
        no_traceback(proc)
        assert proc.returncode == 1, proc.stderr
        assert b"caf" in proc.stdout and proc.stdout.isascii()
        proc = keysentry("scan", ".", "--format", "json", cwd=repo, env=env)
        assert proc.returncode == 1 and len(json.loads(proc.stdout)["findings"]) == 2


# --- item 19: SIGTERM -----------------------------------------------------------------------------

def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _sigterm_with_workers(tmp_path: Path) -> None:
    signal_scan_with_workers(tmp_path, signal.SIGTERM)


def signal_scan_with_workers(tmp_path: Path, signum: signal.Signals) -> None:
    """SIGNUM during a scan with workers (a SIGHUP to the whole process group, as a terminal that
    went away sends it): exit 128+N, nothing printed, the old report kept, no .tmp, no worker left."""
    tree = tmp_path / "tree"
    tree.mkdir()
    body = ('api_key = "xxxxxxxxxx" AIza ' * 50 + "\n") * 400  # slow enough to be caught mid-scan
    for i in range(100):
        (tree / f"f{i}.py").write_text(body)
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.json").write_text("previous\n")
    proc = subprocess.Popen([KEYSENTRY, "scan", str(tree), "--jobs", "2", "--format", "json",
                             "--output", str(out / "report.json")], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            cwd=tmp_path, start_new_session=True)
    deadline = time.monotonic() + 30
    while len(_children(proc.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    workers = _children(proc.pid)
    assert len(workers) >= 2, "the scan never started its workers"
    time.sleep(0.3)
    if signum == signal.SIGHUP:
        os.killpg(proc.pid, signum)  # its own session here: the group is the scan and its workers
    else:
        proc.send_signal(signum)
    stdout, stderr = proc.communicate(timeout=30)
    assert (proc.returncode, stdout, stderr) == (128 + signum, b"", b"")
    assert [p.name for p in out.iterdir()] == ["report.json"] and (out / "report.json").read_text() == "previous\n"
    time.sleep(0.5)
    assert not [w for w in workers if Path(f"/proc/{w}").exists() and "Z" not in _state(w)]


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


def _sigterm_while_reading_stdin(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    report.write_text("previous\n")
    proc = subprocess.Popen([KEYSENTRY, "scan", "-", "--format", "json", "--output", str(report)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    assert proc.stdin is not None
    proc.stdin.write(f'KEY = "{google_key()}"\n'.encode())
    proc.stdin.flush()
    _wait_reading(proc.pid)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert (proc.returncode, err) == (143, b"")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"] and report.read_text() == "previous\n"


def _wait_reading(pid: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if "pipe" in Path(f"/proc/{pid}/wchan").read_text():
                time.sleep(0.2)
                return
        except OSError:
            break
        time.sleep(0.05)
    time.sleep(3)


# --- item 24: the reader of standard output went away -----------------------------------------------

def _broken_pipe(tmp_path: Path) -> None:
    for leak, status in ((False, 0), (True, 1)):
        (tmp_path / str(status)).mkdir()
        repo = _repo(tmp_path / str(status), leak=leak)
        read, write = os.pipe()
        os.close(read)  # `| head -0`: nobody will read the report
        proc = subprocess.run([KEYSENTRY, "scan", ".", "--format", "json"], cwd=repo, stdout=write,
                              stderr=subprocess.PIPE, timeout=60)
        os.close(write)
        assert (proc.returncode, proc.stderr) == (status, b"")
    # `keysentry scan . >&-`: no standard output at all; the last repository scanned has a key.
    proc = subprocess.run([KEYSENTRY, "scan", "."], cwd=repo, stderr=subprocess.PIPE, preexec_fn=lambda: os.close(1),
                          timeout=60)
    assert (proc.returncode, proc.stderr) == (1, b""), proc.stderr
    read, write = os.pipe()
    os.close(read)
    for command in (["rules"], ["--help"]):
        proc = subprocess.run([KEYSENTRY, *command], cwd=tmp_path, stdout=write, stderr=subprocess.PIPE, timeout=60)
        assert proc.returncode in (0, 141) and proc.stderr == b"", (command, proc.returncode, proc.stderr)
    os.close(write)


# --- item 16: names in warnings and errors cannot drive the terminal ----------------------------------

def _control_chars_in_error_names(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    line = expect_error(keysentry("scan", ".", "--baseline", "no\x1b]0;pwned\x07such\rfile", cwd=repo), "baseline")
    assert "\x1b" not in line and "\x07" not in line and "\r" not in line and "\\x1b" in line
    proc = keysentry("baseline", ".", "--output", "b\x1b[2Jase.json", cwd=repo)
    assert proc.returncode == 0 and b"\x1b" not in proc.stderr and b"\\x1b[2J" in proc.stderr
    # A warning naming a tracked file below a folder that became a link in the work tree.
    folder = repo / "d\x1b]0;pwned\x07"
    folder.mkdir()
    (folder / "x.py").write_text("x = 1\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "folder")
    (folder / "x.py").unlink()
    folder.rmdir()
    folder.symlink_to(tmp_path)
    proc = keysentry("scan", ".", cwd=repo)
    assert b"keysentry: warning:" in proc.stderr and b"\x1b" not in proc.stderr and b"\x07" not in proc.stderr


# --- also seen: the README's [tool.keysentry] example pasted into .keysentry.toml ----------------------

def _tool_table_in_dotfile(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    (repo / ".keysentry.toml").write_text('[tool.keysentry]\nexclude = ["app.py"]\n')
    proc = keysentry("scan", ".", "--format", "json", cwd=repo)
    assert proc.returncode == 0 and json.loads(proc.stdout)["stats"]["excluded"] == 1, proc.stderr
    (repo / ".keysentry.toml").write_text('exclude = ["x"]\n[tool.keysentry]\nexclude = ["app.py"]\n')
    expect_error(keysentry("scan", ".", cwd=repo), ".keysentry.toml", "not both")


# Repositories built to attack us (tests/test_hostile_repos.py).
REPOS: list[Attack] = [
    Attack("baseline-default-path-links-outside", "2", _baseline_link_to_outside_file),
    Attack("baseline-default-path-dangling-link", "2", _baseline_dangling_link),
    Attack("output-is-a-committed-link", "2", _output_link_in_repo),
    Attack("output-through-a-committed-folder-link", "2", _output_through_linked_folder),
    Attack("output-back-out-of-a-committed-folder-link", "2", _output_back_out_of_a_linked_folder),
    Attack("config-links-to-dev-zero", "8", _config_dev_zero_and_fifo),
    Attack("pyproject-tool-is-a-number", "10", _malformed({"pyproject.toml": b"tool = 5\n"}, "pyproject.toml")),
    Attack("pyproject-tool-keysentry-is-a-number", "10",
           _malformed({"pyproject.toml": b"[tool]\nkeysentry = 5\n"}, "must be a table")),
    Attack("dotfile-tool-is-a-list", "10", _malformed({".keysentry.toml": b"tool = [1]\n"}, ".keysentry.toml")),
    Attack("config-not-utf-8", "10", _malformed({".keysentry.toml": b'exclude = ["\xff\xfe"]\n'}, "UTF-8")),
    Attack("pyproject-not-utf-8", "10", _malformed({"pyproject.toml": b'[tool.keysentry]\n# \xe9t\xe9\n'}, "UTF-8")),
    Attack("config-nested-arrays", "10",
           _malformed({".keysentry.toml": b"x = " + b"[" * 100_000 + b"]" * 100_000}, "nested too deeply")),
    Attack("config-nested-tables", "10",
           _malformed({"pyproject.toml": b"x = " + b"{a = " * 50_000 + b"1" + b"}" * 50_000}, "nested too deeply")),
    Attack("allow-regex-nested-quantifier", "15", _catastrophic_allow(r"^([\w-]+)+[^\w-]", refused=False)),
    Attack("allow-regex-overlapping-alternation", "15", _catastrophic_allow(r"^([\w-]|[\w-][\w-])+[^\w-]", refused=True)),
    Attack("tool-keysentry-table-in-dotfile", "also: dotfile table", _tool_table_in_dotfile),
]
# Inputs built to attack us: files, streams, configs, terminals (tests/test_hostile_inputs.py).
INPUTS: list[Attack] = [
    Attack("output-to-dev-stdout-and-fifo-still-works", "2", _output_to_dev_stdout_and_fifo),
    Attack("baseline-is-dev-zero", "8", _baseline_dev_zero),
    Attack("baseline-over-64-mib", "8", _baseline_too_large),
    Attack("baseline-is-a-fifo", "9", _baseline_fifo),
    Attack("baseline-nested-arrays", "10", _deep_baseline),
    Attack("explicit-pyproject-tool-is-a-number", "10",
           _malformed({"ci/pyproject.toml": b"tool = 5\n"}, "pyproject.toml", args=("--config", "ci/pyproject.toml"))),
    Attack("jobs-500-on-100-files", "17", _jobs_capped),
    Attack("fork-fails", "17", _fork_fails),
    Attack("ascii-stdout", "18", _ascii_stdout),
    Attack("sigterm-with-workers", "19", _sigterm_with_workers),
    Attack("sigterm-while-reading-stdin", "19", _sigterm_while_reading_stdin),
    Attack("stdout-reader-gone", "24", _broken_pipe),
    Attack("control-chars-in-error-names", "16", _control_chars_in_error_names),
]
