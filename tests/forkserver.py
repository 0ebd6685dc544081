"""keysentry's console script, started once and forked for every run (tests.hostile.keysentry).

A fresh interpreter costs each run about 0.25 CPU-s (the interpreter, then scanner's imports),
more than most attacks spend scanning; a forked child of an interpreter that has done the imports
costs a few milliseconds. What the run is stays the same: its own process, with the test's
standard input, output and error, working folder, environment and argv, running `scanner.cli:main`
as the console script does and ending through the interpreter's own exit (exit status, atexit,
flushes, a traceback, a signal's death): a hang, a stray write or a crash shows as the user sees it.

Run as `python tests/forkserver.py KEYSENTRY` with one end of a socket pair as standard input.
Each request is a pickled (argv, cwd, environ) with the child's standard input, output and error
as three file descriptors (SCM_RIGHTS); the answer is the child's pid, then its wait status and
its CPU seconds (os.wait4), each a pickled message. The server is single-threaded (fork is only
safe so) and ends when its socket closes.
"""
from __future__ import annotations

import array
import importlib
import os
import pickle
import socket
import sys

_FDS = 3


def _receive(sock: socket.socket) -> tuple[object, list[int]] | None:
    fds = array.array("i")
    data, ancillary, _, _ = sock.recvmsg(1 << 20, socket.CMSG_SPACE(_FDS * fds.itemsize))
    if not data:
        return None
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[:len(payload) - len(payload) % fds.itemsize])
    return pickle.loads(data), list(fds)


def _serve(sock: socket.socket) -> tuple[list[str], str, dict[str, str]] | None:
    """Answer requests until the socket closes (None); in a forked child, return its request."""
    while True:
        received = _receive(sock)
        if received is None:
            return None
        request, fds = received
        pid = os.fork()
        # The run leads a process group of its own (set on both sides of the fork, so whichever runs
        # first): a timeout kills the group, the git and pool processes the run started with it.
        os.setpgid(pid if pid else 0, 0)
        if pid == 0:
            sock.close()
            for target, fd in enumerate(fds):
                os.dup2(fd, target)
                os.close(fd)
            return request  # type: ignore[return-value]
        for fd in fds:
            os.close(fd)
        sock.sendall(pickle.dumps(pid))
        _, status, usage = os.wait4(pid, 0)
        sock.sendall(pickle.dumps((status, usage.ru_utime + usage.ru_stime)))


def _warm_up() -> None:
    """Do once what every run's first scan does (compile the rules' expressions, build the Hyperscan
    database, load the typed-text model), then freeze what exists: the children start with it done
    and, with the objects out of the collector's sight, do not copy the pages they sit on when they
    collect garbage. Nothing here keeps a file open or starts a thread, which a fork would not carry over."""
    import gc
    import secrets

    from scanner.detect import Detector

    # A value made here (never one written in the repository) that reaches the typed-text model.
    Detector().scan(f'api_key = "{secrets.token_hex(12)}"\nk = AIza0\n'.encode(), "warm.py")
    gc.freeze()


def main() -> None:
    script = sys.argv[1]
    # As for the console script: its folder first on sys.path, not this one's.
    sys.path[0] = os.path.dirname(script)
    for module in ("scanner.cli", "scanner.scan", "scanner.detect"):  # what every run imports, done once here
        importlib.import_module(module)
    _warm_up()

    sock = socket.socket(fileno=os.dup(0))
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.close(devnull)
    request = _serve(sock)
    if request is None:
        return
    argv, cwd, environ = request
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(environ)
    sys.argv = [script, *argv]
    from scanner.cli import main as keysentry

    sys.exit(keysentry())


if __name__ == "__main__":
    main()
