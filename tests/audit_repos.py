"""What the audit tests share: a dozen small repositories with and without keys (some only in
history, some on a branch or a tag), bare copies of them served as file:// URLs and by `git daemon`
on a loopback port, and a report made comparable (times dropped)."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conftest import GIT_ENV, git, google_key

COUNT = 12


@dataclass(frozen=True)
class Fleet:
    work: tuple[Path, ...]  # the repositories, with work trees
    served: Path  # bare copies, NAME.git, the daemon's base path
    daemon: str  # git://127.0.0.1:PORT

    def file_url(self, i: int) -> str:
        return (self.served / f"r{i:02}.git").as_uri()

    def git_url(self, i: int) -> str:
        return f"{self.daemon}/r{i:02}.git"

    def mixed(self) -> list[str]:
        """Every repository once: a third as paths, a third as file:// URLs, a third from the daemon."""
        return [str(p) if i % 3 == 0 else self.file_url(i) if i % 3 == 1 else self.git_url(i)
                for i, p in enumerate(self.work)]


def make_repo(path: Path, i: int) -> Path:
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    (path / "README.md").write_text(f"repository {i}\n")
    git(path, "add", ".")
    git(path, "commit", "-qm", "start", env={"GIT_AUTHOR_DATE": f"2024-01-{i + 1:02}T10:00:00+00:00"})
    if i % 2 == 0:  # a key, still in HEAD
        (path / "app.py").write_text(f'API_KEY = "{google_key()}"\n')
        git(path, "add", ".")
        git(path, "commit", "-qm", "key", env={"GIT_AUTHOR_DATE": f"2024-02-{i + 1:02}T10:00:00+00:00"})
    if i % 4 == 1:  # a key only in history
        (path / "old.py").write_text(f'key = "{google_key()}"\n')
        git(path, "add", ".")
        git(path, "commit", "-qm", "oops")
        git(path, "rm", "-q", "old.py")
        git(path, "commit", "-qm", "remove")
    if i % 3 == 2:  # a key on a branch and a tag only
        git(path, "checkout", "-q", "-b", "feature")
        (path / "feature.js").write_text(f'const apiKey = "{google_key()}";\n')
        git(path, "add", ".")
        git(path, "commit", "-qm", "feature")
        git(path, "tag", "v1")
        git(path, "checkout", "-q", "main")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port}")


def fleet(root: Path) -> Iterator[Fleet]:
    work = tuple(make_repo(root / "work" / f"r{i:02}", i) for i in range(COUNT))
    served = root / "served"
    served.mkdir()
    for path in work:
        git(root, "clone", "-q", "--bare", str(path), str(served / f"{path.name}.git"))
    port = free_port()
    daemon = subprocess.Popen(["git", "daemon", "--reuseaddr", "--export-all", "--informative-errors",
                               f"--base-path={served}", "--listen=127.0.0.1", f"--port={port}", str(served)],
                              env={**os.environ, **GIT_ENV}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        yield Fleet(work, served, f"git://127.0.0.1:{port}")
    finally:
        daemon.terminate()
        daemon.wait(timeout=10)


def comparable(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The report's repositories without what differs between two runs (times)."""
    repos = []
    for entry in report["repositories"]:
        stats = {k: v for k, v in entry["stats"].items() if k != "seconds"}
        repos.append({**entry, "stats": stats})
    return repos


def load(stdout: bytes) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(stdout)
    return data
