"""`keysentry audit --cluster`: the same tasks on a real Dask cluster, a LocalCluster started here
and a scheduler and workers started as separate processes with the `dask` commands; the report
equals the local one, a worker killed mid-audit loses nothing."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import distributed  # the `cluster` extra, which .ci/run installs
import psutil
import pytest

from tests.audit_repos import Fleet, comparable, fleet, free_port, load, make_repo, wait_for_port
from tests.conftest import GIT_ENV, git, google_key
from tests.hostile import keysentry

DASK = str(Path(sys.executable).with_name("dask"))


@pytest.fixture(scope="module")
def repos(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    yield from fleet(tmp_path_factory.mktemp("fleet"))


@pytest.fixture(scope="module")
def local_report(repos: Fleet, tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, object]]:
    proc = keysentry("audit", *repos.mixed(), "--format", "json", "--jobs", "2", cwd=tmp_path_factory.mktemp("l"))
    assert proc.returncode == 1, proc.stderr
    return comparable(load(proc.stdout))


def test_a_local_cluster_reports_what_the_local_pool_reports(repos: Fleet, local_report: list[dict[str, object]],
                                                              tmp_path: Path) -> None:
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  local_directory=str(tmp_path / "scratch")) as cluster:
        proc = keysentry("audit", *repos.mixed(), "--format", "json", "--cluster", cluster.scheduler_address,
                         cwd=tmp_path, timeout=180)
    assert proc.returncode == 1, proc.stderr
    assert comparable(load(proc.stdout)) == local_report


class Processes:
    """A scheduler and workers, each a process started with the `dask` command on 127.0.0.1."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.procs: list[subprocess.Popen[bytes]] = []
        log = open(root / "scheduler.log", "wb")  # noqa: SIM115 - closed with the process
        self.procs.append(subprocess.Popen([DASK, "scheduler", "--host", "127.0.0.1", "--port", str(self.port),
                                            "--dashboard-address", ":0", "--no-show"], stdout=log, stderr=log,
                                           cwd=root, env={**os.environ, **GIT_ENV}))
        wait_for_port(self.port)

    def worker(self, name: str) -> subprocess.Popen[bytes]:
        log = open(self.root / f"{name}.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen([DASK, "worker", self.address, "--nthreads", "1", "--no-nanny", "--name", name,
                                 "--local-directory", str(self.root / name), "--no-dashboard"],
                                stdout=log, stderr=log, cwd=self.root, env={**os.environ, **GIT_ENV})
        self.procs.append(proc)
        return proc

    def wait_for_workers(self, count: int) -> None:
        with distributed.Client(self.address, timeout=30) as client:
            client.wait_for_workers(count, timeout=60)

    def close(self) -> None:
        # The workers first, while their scheduler still answers their goodbye (with the scheduler
        # gone each one retries until its 5 s are up: 10 s of every teardown), then the scheduler.
        for group in (self.procs[1:], self.procs[:1]):
            for proc in group:
                if proc.poll() is None:
                    proc.terminate()
            for proc in group:
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


@pytest.fixture
def dask_processes(tmp_path: Path) -> Iterator[Processes]:
    cluster = Processes(tmp_path)
    try:
        yield cluster
    finally:
        cluster.close()


def test_scheduler_and_workers_as_processes_report_what_the_local_pool_reports(
        repos: Fleet, local_report: list[dict[str, object]], dask_processes: Processes, tmp_path: Path) -> None:
    dask_processes.worker("w1")
    dask_processes.worker("w2")
    dask_processes.wait_for_workers(2)
    proc = keysentry("audit", *repos.mixed(), "--format", "json", "--cluster", dask_processes.address,
                     cwd=tmp_path, timeout=180)
    assert proc.returncode == 1, proc.stderr
    assert comparable(load(proc.stdout)) == local_report
    # The clones were made on the workers, in their scratch space, and removed after the scan.
    scratch = [p for p in tmp_path.glob("w*/**/keysentry-clones") if p.is_dir()]
    assert scratch and not [c for p in scratch for c in p.iterdir()]


def big_repo(path: Path, i: int) -> Path:
    """A repository whose scan takes a moment (a few MB of text), so a worker can die during it."""
    make_repo(path, i)
    text = "".join(f"line {n} of filler text for the scanner to read through\n" for n in range(60_000))
    for n in range(3):
        (path / f"data{n}.txt").write_text(text + str(n))
        git(path, "add", ".")
        git(path, "commit", "-qm", f"data {n}")
    (path / "late.py").write_text(f'API_KEY = "{google_key()}"\n')
    git(path, "add", ".")
    git(path, "commit", "-qm", "late key")
    return path


def test_a_worker_killed_mid_audit_loses_nothing(dask_processes: Processes, tmp_path: Path) -> None:
    sources = [str(big_repo(tmp_path / "src" / f"b{i}", i)) for i in range(6)]
    expected = keysentry("audit", *sources, "--format", "json", cwd=tmp_path)
    victim = dask_processes.worker("victim")
    dask_processes.worker("survivor")
    dask_processes.wait_for_workers(2)
    audit = subprocess.Popen([str(Path(sys.executable).with_name("keysentry")), "audit", *sources, "--format", "json",
                              "--cluster", dask_processes.address], cwd=tmp_path, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env={**os.environ, **GIT_ENV})
    # Killed while it runs a repository's task (its audit_child process is there).
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not psutil.Process(victim.pid).children():
        time.sleep(0.01)
    assert psutil.Process(victim.pid).children(), "the victim never got a task"
    victim.kill()
    out, err = audit.communicate(timeout=180)
    assert audit.returncode == 1, err
    report = load(out)
    assert all(r["error"] is None for r in report["repositories"])
    assert comparable(report) == comparable(load(expected.stdout))


def test_an_unreachable_scheduler_is_one_line_and_exit_2(tmp_path: Path) -> None:
    started = time.monotonic()
    proc = keysentry("audit", str(tmp_path), "--cluster", f"tcp://127.0.0.1:{free_port()}", cwd=tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("keysentry: error: cannot reach the Dask scheduler at tcp://")
    assert time.monotonic() - started < 40


def test_a_worker_started_inside_a_hostile_checkout_runs_none_of_its_code(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 17 §0 on a real LocalCluster: its workers start in the checkout the audit was started
    from, whose own `scanner` package would report it clean; nothing of it runs, the key is found."""
    from tests.attacks.audit import plant_scanner

    checkout = tmp_path / "checkout"
    checkout.mkdir()
    git(checkout, "init", "-q", "-b", "main")
    marker = tmp_path / "repository-code-ran"
    plant_scanner(checkout, marker, "package")
    monkeypatch.chdir(checkout)  # the workers' folder, as a cluster started there has
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None,
                                  local_directory=str(tmp_path / "scratch")) as cluster:
        proc = keysentry("audit", ".", checkout.as_uri(), "--format", "json", "--cluster", cluster.scheduler_address,
                         cwd=checkout, timeout=180)
    assert not marker.exists(), "a worker's audit process imported the checkout's scanner"
    assert proc.returncode == 1, proc.stderr
    assert all(len(r["findings"]) == 1 for r in load(proc.stdout)["repositories"])


def test_audits_at_once_on_one_cluster_never_report_a_key_holding_repository_clean(tmp_path: Path) -> None:
    """Issue 17 §5: the workers of one host share their clone folder (and remove each clone after
    its scan); two audits of the same repositories at once must each find every key."""
    from tests.test_audit_integrity import bare_with_key

    sources = [bare_with_key(tmp_path, f"r{i}").as_uri() for i in range(4)]
    env = {**os.environ, **GIT_ENV}
    with distributed.LocalCluster(n_workers=2, threads_per_worker=2, processes=True, dashboard_address=None,
                                  local_directory=str(tmp_path / "scratch")) as cluster:
        for _ in range(2):
            procs = [subprocess.Popen([str(Path(sys.executable).with_name("keysentry")), "audit", *sources,
                                       "--format", "json", "--cluster", cluster.scheduler_address],
                                      cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                     for _ in range(2)]
            for proc in procs:
                out, err = proc.communicate(timeout=180)
                assert proc.returncode == 1, err
                for entry in load(out)["repositories"]:
                    assert entry["error"] is None and len(entry["findings"]) == 1, (entry["source"], entry["error"])
