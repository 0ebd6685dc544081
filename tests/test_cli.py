"""The command line's promises: exit codes, one-line errors, atomic reports, Ctrl-C and a light start."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from scanner import parallel
from scanner.cli import main
from scanner.output import write_atomic
from scanner.sources.blobs import CatFile
from tests.conftest import google_key


def one_line_error(capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and captured.err.startswith("keysentry: error: ")
    assert message in captured.err and "Traceback" not in captured.err


def leaky(repo: Path) -> str:
    key = google_key()
    (repo / "app.py").write_text(f'KEY = "{key}"\n')
    return key


# --- errors: one clear line, exit 2 ------------------------------------------------------------------

ERRORS = {
    "missing path": (["scan", "{tmp}/nope"], "path not found: {tmp}/nope"),
    "missing path for baseline": (["baseline", "{tmp}/nope"], "path not found"),
    "missing config": (["scan", "{repo}", "--config", "{tmp}/nope.toml"], "config file not found"),
    "missing baseline": (["scan", "{repo}", "--baseline", "{tmp}/nope.json"], "baseline file not found"),
    "bad jobs": (["scan", "{repo}", "--jobs", "0"], "--jobs must be at least 1"),
    "bad jobs text": (["scan", "{repo}", "--jobs", "many"], "--jobs takes a whole number"),
    "bad format": (["scan", "{repo}", "--format", "xml"], "invalid choice: 'xml'"),
    "unknown option": (["scan", "{repo}", "--frobnicate"], "unrecognized arguments: --frobnicate"),
    "stdin with history": (["scan", "-", "--history"], "standard input ('-') cannot be combined"),
    "output folder missing": (["scan", "{repo}", "--output", "{tmp}/no/such/report.json"], "does not exist"),
    "output is a folder": (["scan", "{repo}", "--output", "{tmp}"], "it is a folder"),
}


@pytest.mark.parametrize(("args", "message"), ERRORS.values(), ids=ERRORS.keys())
def test_errors_are_one_line_and_exit_2(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                        args: list[str], message: str) -> None:
    leaky(repo)
    fill = {"tmp": str(tmp_path), "repo": str(repo)}
    one_line_error(capsys, [a.format(**fill) for a in args], message.format(**fill))


def test_exit_codes_for_clean_and_leaky_trees(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "app.py").write_text("print('clean')\n")
    assert main(["scan", str(repo)]) == 0
    leaky(repo)
    assert main(["scan", str(repo)]) == 1


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "scan" in capsys.readouterr().out


# --- reports are written atomically -------------------------------------------------------------------

@pytest.mark.parametrize("command", ["scan", "baseline"])
def test_existing_output_survives_a_failed_run(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                               command: str) -> None:
    leaky(repo)
    out_dir = tmp_path / "reports"
    out_dir.mkdir()
    report = out_dir / "report.json"
    report.write_text('{"old": true}\n')
    (repo / ".keysentry.toml").write_text('allow = ["[unclosed"]\n')
    args = [command, str(repo), "--output", str(report)] + (["--format", "json"] if command == "scan" else [])
    one_line_error(capsys, args, "bad 'allow' regex")
    assert report.read_text() == '{"old": true}\n'
    assert [p.name for p in out_dir.iterdir()] == ["report.json"]


def test_output_replaces_old_report_and_keeps_its_mode(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    leaky(repo)
    report = tmp_path / "report.json"
    report.write_text("old")
    report.chmod(0o640)
    assert main(["scan", str(repo), "--format", "json", "--output", str(report)]) == 1
    assert len(json.loads(report.read_text())["findings"]) == 1
    assert report.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".report")] == []


def test_output_through_a_symlink_keeps_the_link(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    leaky(repo)
    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    assert main(["scan", str(repo), "--format", "json", "--output", str(link)]) == 1
    assert link.is_symlink() and json.loads(real.read_text())["findings"]


def test_output_to_a_pipe_is_written_in_place(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # `--output /dev/stdout` or a named pipe: renaming over it would replace the device itself.
    leaky(repo)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    try:
        assert main(["scan", str(repo), "--format", "json", "--output", str(fifo)]) == 1
    finally:
        reader.join(timeout=10)
    assert json.loads(received[0])["findings"]
    assert fifo.is_fifo() and sorted(p.name for p in tmp_path.iterdir()) == ["fifo", "repo"]


def test_write_atomic_interrupted_mid_write_leaves_old_file_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "report.sarif"
    target.write_text("the previous report\n")

    def chunks():  # the text is produced while it is written; Ctrl-C arrives halfway
        yield '{"version": "2.1.0",\n'
        yield " " * 100_000
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, chunks())
    assert target.read_text() == "the previous report\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.sarif"]


def test_write_atomic_interrupted_at_the_sync_leaves_no_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "baseline.json"

    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)  # the OS, not our code, is what gets interrupted
    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, "{}\n")
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_exits_130_without_traceback_or_half_report(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    report.write_text("previous\n")
    env = {**os.environ, "NO_COLOR": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "scanner", "scan", "-", "--format", "json", "--output", str(report)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path, env=env)
    assert proc.stdin is not None
    proc.stdin.write(f'KEY = "{google_key()}"\n'.encode())
    proc.stdin.flush()  # stdin stays open: the scan waits for the rest of it
    _wait_until_blocked_reading(proc.pid)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert err.decode() == "keysentry: interrupted\n"
    assert report.read_text() == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


def _wait_until_blocked_reading(pid: int) -> None:
    """Until the process sits in a read of its standard input, i.e. it is inside main()."""
    deadline = time.monotonic() + 30
    wchan = Path(f"/proc/{pid}/wchan")
    while time.monotonic() < deadline:
        try:
            if "pipe" in wchan.read_text():
                time.sleep(0.2)
                return
        except OSError:
            break
        time.sleep(0.05)
    time.sleep(3)  # no /proc: give the interpreter ample time to start


def test_sigterm_mid_write_leaves_the_old_file_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text("the previous report\n")
    # The real handler main() installs, and a real signal arriving while the report is written.
    code = (
        "import os, signal, sys\n"
        "from pathlib import Path\n"
        "from scanner import cli\n"
        "from scanner.output import write_atomic\n"
        "def chunks():\n"
        "    yield 'x' * 100_000\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "    yield 'never written'\n"
        "with cli._sigterm_raises():\n"
        "    try:\n"
        "        write_atomic(Path(sys.argv[1]), chunks())\n"
        "    except cli._Terminated:\n"
        "        sys.exit(143)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(target)], capture_output=True, timeout=60)
    assert (proc.returncode, proc.stderr) == (143, b"")
    assert target.read_text() == "the previous report\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_worker_count_is_capped_by_the_cpus_and_the_work() -> None:
    cpus = parallel.cpu_count()
    assert parallel.worker_count(500) == 2 * cpus
    assert parallel.worker_count(500, work=100, chunksize=8) == min(2 * cpus, 13)
    assert parallel.worker_count(8, work=3) == min(3, 2 * cpus)
    assert parallel.worker_count(1, work=0) == 1


_CAT: list[CatFile] = []


def _start_cat_file(repo: Path) -> None:
    _CAT.append(CatFile(repo))


def _stop_cat_file(record: Path) -> None:
    cat = _CAT.pop()
    cat.close()
    with record.open("a") as out:  # what ran in the worker before it exited
        out.write(f"{os.getpid()} {cat._proc.returncode}\n")


def _cat_file_of(_: int) -> tuple[int, int]:
    time.sleep(0.01)  # so that both workers get items
    return os.getpid(), _CAT[-1]._proc.pid


def test_workers_end_the_git_processes_they_started_before_the_scan_ends(repo: Path, tmp_path: Path) -> None:
    """A worker's reader (one cat-file each) is closed, and git reaped, when the pool ends: a scan
    leaves no process behind it. Ended with terminate(), the workers died with their git still running."""
    import functools

    record = tmp_path / "closed"
    answers = list(parallel.imap(_cat_file_of, range(16), 2, initializer=_start_cat_file, initargs=(repo,),
                                 finalizer=functools.partial(_stop_cat_file, record)))
    workers = {worker for worker, _ in answers}
    closed = dict(line.split() for line in record.read_text().splitlines())
    assert workers <= {int(pid) for pid in closed} and set(closed.values()) == {"0"}
    for _, git_pid in answers:
        assert not Path(f"/proc/{git_pid}").exists()


def test_output_outside_the_repository_follows_a_link_and_inside_refuses_it(
        repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    leaky(repo)
    real = repo / "real.json"
    (repo / "link.json").symlink_to(real)
    one_line_error(capsys, ["scan", str(repo), "--format", "json", "--output", str(repo / "link.json")],
                   "symbolic link")
    assert not real.exists()
    # Scanning a subfolder: the repository is still the tree whose links are refused.
    (repo / "src").mkdir()
    one_line_error(capsys, ["scan", str(repo / "src"), "--output", str(repo / "link.json")], "symbolic link")
    # A link of the user's own, outside, that leads to the repository's link.
    (tmp_path / "mine.json").symlink_to(repo / "link.json")
    one_line_error(capsys, ["scan", str(repo), "--output", str(tmp_path / "mine.json")], "symbolic link")
    assert not real.exists()


# --- a light start ---------------------------------------------------------------------------------

def imported_modules(*args: str, cwd: Path | None = None) -> set[str]:
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "scanner", *args], capture_output=True,
                          text=True, cwd=cwd, env={**os.environ, "NO_COLOR": "1"})
    assert proc.returncode in (0, 1), proc.stderr
    names = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip())
    assert "scanner.cli" in names
    return names


def _top_level(names: set[str]) -> set[str]:
    return {name.split(".")[0] for name in names}


def test_help_imports_neither_gitpython_nor_rich() -> None:
    top = _top_level(imported_modules("--help"))
    assert "git" not in top and "gitdb" not in top
    assert "rich" not in top


def test_json_scan_of_a_small_folder_imports_neither_gitpython_nor_rich(repo: Path) -> None:
    leaky(repo)
    top = _top_level(imported_modules("scan", ".", "--format", "json", cwd=repo))
    assert "git" not in top and "rich" not in top


def test_text_scan_to_a_pipe_imports_neither_gitpython_nor_rich(repo: Path) -> None:
    # Uncoloured text is formatted without rich; rich only supplies a terminal's escape codes.
    leaky(repo)
    top = _top_level(imported_modules("scan", ".", cwd=repo))
    assert "rich" not in top and "git" not in top
