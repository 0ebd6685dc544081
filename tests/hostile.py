"""What the two hostile suites share: an attack is one row (an id, the review item it answers and a
function that builds the attack in tmp_path, runs keysentry or git against it and asserts).

keysentry runs here as a subprocess through its installed console script, never `python -m` from
the attacked folder: a hang, a traceback, a signal or a stray write must show as the user sees it.
"""
from __future__ import annotations

import array
import atexit
import os
import pickle
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import GIT_ENV, count_forked_cpu, git

# The console script next to the interpreter running the tests (the project's virtualenv).
KEYSENTRY = str(Path(sys.executable).with_name("keysentry"))


@dataclass(frozen=True)
class Attack:
    id: str
    item: str  # the hostile-input review's item number ("3", "also: advice"), for the test id
    run: Callable[[Path], None]

    def __str__(self) -> str:
        return f"{self.item}-{self.id}"


def keysentry(*args: str | os.PathLike[str], cwd: Path, env: Mapping[str, str] | None = None,
              stdin: bytes | None = b"", timeout: float = 60) -> subprocess.CompletedProcess[bytes]:
    """Run the installed keysentry in a process of its own; a hang past TIMEOUT fails the test
    instead of blocking it. The process is forked from one that has already started the console
    script's interpreter and imports (tests/forkserver.py), unless the environment changes how an
    interpreter starts (then it is the console script itself)."""
    argv = [os.fspath(a) for a in args]
    full_env = {**os.environ, **GIT_ENV, **(env or {})}
    try:
        if _FORKS.serves(full_env, cwd):
            return _FORKS.run(argv, cwd, full_env, stdin, timeout)
        return _run_as_group([KEYSENTRY, *argv], cwd, full_env, stdin, timeout)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"keysentry {' '.join(map(str, args))} did not finish within {timeout} s") from None


def _run_as_group(argv: list[str], cwd: Path, env: Mapping[str, str], stdin: bytes | None,
                  timeout: float) -> subprocess.CompletedProcess[bytes]:
    """subprocess.run, but a timeout kills the run's whole process group, not only its first
    process: a hung scan's git and worker processes must not outlive the test."""
    with subprocess.Popen(argv, cwd=cwd, env=env, stdin=None if stdin is None else subprocess.PIPE,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, process_group=0) as proc:
        try:
            out, err = proc.communicate(stdin, timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def _startup(environ: Mapping[str, str]) -> dict[str, str]:
    """The variables an interpreter reads as it starts (its paths, flags, locale and standard
    streams' encoding): a child forked from a started one would not see them."""
    return {name: value for name, value in environ.items()
            if name.startswith(("PYTHON", "LC_")) or name in ("LANG", "LANGUAGE", "TZ", "VIRTUAL_ENV")}


class _ForkServer:
    """tests/forkserver.py, started at this process's first run; one run at a time."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None
        self._sock: socket.socket | None = None
        self._started_with: dict[str, str] | None = None  # the server's start-up environment

    def serves(self, environ: Mapping[str, str], cwd: Path) -> bool:
        """Whether a run with ENVIRON in CWD is the run of a fresh console script when forked."""
        started_with = self._started_with if self._proc is not None else _startup({**os.environ, **GIT_ENV})
        return _startup(environ) == started_with and os.path.isdir(cwd)

    def _server(self) -> socket.socket:
        if self._proc is None or self._proc.poll() is not None or self._sock is None:
            self.close()
            environ = {**os.environ, **GIT_ENV}
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            with theirs:
                self._proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("forkserver.py")), KEYSENTRY],
                                              stdin=theirs, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                              env=environ, cwd="/")
            self._sock, self._started_with = ours, _startup(environ)
            atexit.register(self.close)
        return self._sock

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()  # the server's cue to end
            self._sock = None
        if self._proc is not None:
            self._proc.wait()  # its CPU time (and its children's) counts as this process's children's
            self._proc = None

    def _answer(self) -> object:
        sock = self._server()
        with sock.makefile("rb", buffering=0) as stream:
            return pickle.load(stream)

    def run(self, argv: list[str], cwd: Path, environ: Mapping[str, str], stdin: bytes | None,
            timeout: float) -> subprocess.CompletedProcess[bytes]:
        sock = self._server()
        in_read, in_write = os.pipe() if stdin is not None else (os.dup(0), -1)
        out_read, out_write = os.pipe()
        err_read, err_write = os.pipe()
        try:
            request = pickle.dumps((argv, os.fspath(cwd), dict(environ)))
            sock.sendmsg([request], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                      array.array("i", [in_read, out_write, err_write]).tobytes())])
        finally:
            for fd in (in_read, out_write, err_write):
                os.close(fd)
        pid = self._answer()
        assert isinstance(pid, int)
        try:
            out, err = _exchange(in_write, stdin or b"", out_read, err_read, time.monotonic() + timeout)
        except subprocess.TimeoutExpired:
            os.killpg(pid, signal.SIGKILL)  # the run and the processes it started (its own group)
            self._answer()
            raise
        status, cpu = self._answer()  # type: ignore[misc]
        count_forked_cpu(cpu)
        return subprocess.CompletedProcess([KEYSENTRY, *argv], os.waitstatus_to_exitcode(status), out, err)


def _exchange(in_write: int, data: bytes, out_read: int, err_read: int,
              deadline: float) -> tuple[bytes, bytes]:
    """Write DATA to the child's standard input while reading its output and error to their ends."""
    chunks: dict[int, list[bytes]] = {out_read: [], err_read: []}
    with selectors.DefaultSelector() as selector:
        for fd in chunks:
            selector.register(fd, selectors.EVENT_READ)
        if in_write >= 0:
            os.set_blocking(in_write, False)
            selector.register(in_write, selectors.EVENT_WRITE)
        try:
            while selector.get_map():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise subprocess.TimeoutExpired(KEYSENTRY, 0)
                for key, _ in selector.select(left):
                    fd = key.fd
                    if fd == in_write:
                        try:
                            data = data[os.write(fd, data[:65536]):]
                        except BrokenPipeError:
                            data = b""
                        if not data:
                            selector.unregister(fd)
                            os.close(fd)
                            in_write = -1
                        continue
                    chunk = os.read(fd, 65536)
                    if chunk:
                        chunks[fd].append(chunk)
                    else:
                        selector.unregister(fd)
        finally:
            for fd in (in_write, out_read, err_read):
                if fd >= 0:
                    os.close(fd)
    return b"".join(chunks[out_read]), b"".join(chunks[err_read])


_FORKS = _ForkServer()


def new_repo(tmp_path: Path, name: str = "repo") -> Path:
    """An empty repository (branch main) at TMP_PATH/NAME, for an attack to fill."""
    repo = tmp_path / name
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    return repo


def git_run(repo: Path, *args: str, env: Mapping[str, str] | None = None, stdin: bytes | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
    """A git command whose failure is the point (a blocked commit or push): never raises on status."""
    full_env = {**os.environ, **GIT_ENV, **(env or {})}
    return subprocess.run(["git", *args], cwd=repo, env=full_env, input=stdin, capture_output=True,
                          timeout=timeout)


def no_traceback(proc: subprocess.CompletedProcess[bytes]) -> None:
    for stream in (proc.stdout, proc.stderr):
        assert b"Traceback (most recent call last)" not in stream, stream.decode("utf-8", "replace")


def expect_error(proc: subprocess.CompletedProcess[bytes], *words: str) -> str:
    """Exit 2 with one clear line on stderr (and the WORDS in it); returns that line."""
    no_traceback(proc)
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 2, (proc.returncode, err, proc.stdout.decode("utf-8", "replace"))
    lines = [ln for ln in err.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("keysentry: error:")]
    assert len(errors) == 1, err
    for word in words:
        assert word in errors[0], (word, errors[0])
    return errors[0]


def path_without(*names: str) -> str:
    """PATH with every folder that holds one of NAMES (say `keysentry`) left out."""
    keep = [d for d in os.environ.get("PATH", "").split(os.pathsep)
            if d and not any(os.path.exists(os.path.join(d, n)) for n in names)]
    for tool in ("git", "sh"):
        assert shutil.which(tool, path=os.pathsep.join(keep)), f"{tool} must stay reachable"
    return os.pathsep.join(keep)


def ids(rows: Sequence[Attack]) -> list[str]:
    return [str(a) for a in rows]
