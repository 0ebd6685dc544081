"""`keysentry audit` on this machine: every repository's history scanned as `scan --history` scans
it, remote ones cloned (file://, git daemon), failures isolated, results resumed from --workdir."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import jsonschema
import pytest

from tests.audit_repos import COUNT, Fleet, comparable, fleet, free_port, load
from tests.conftest import GIT_ENV, git, google_key
from tests.hostile import KEYSENTRY, keysentry

SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def repos(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    yield from fleet(tmp_path_factory.mktemp("fleet"))


def history_findings(path: Path) -> list[dict[str, object]]:
    proc = keysentry("scan", "--history", "--format", "json", path, cwd=path)
    assert proc.returncode in (0, 1), proc.stderr
    return list(load(proc.stdout)["findings"])


def test_every_repository_is_scanned_as_scan_history_scans_it(repos: Fleet, tmp_path: Path) -> None:
    sources = repos.mixed()
    proc = keysentry("audit", *sources, "--format", "json", "--jobs", "2", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    report = load(proc.stdout)
    assert report["mode"] == "audit" and report["version"] == 1
    assert [r["source"] for r in report["repositories"]] == sources
    for entry, path in zip(report["repositories"], repos.work, strict=True):
        assert entry["error"] is None
        assert entry["head"] == git(path, "rev-parse", "HEAD")
        # Same findings, same attribution (commit, author, date, in_head), branches and tags included.
        assert entry["findings"] == history_findings(path), entry["source"]
    assert report["stats"]["repositories"] == COUNT and report["stats"]["failed"] == 0
    assert report["stats"]["findings"] == sum(len(r["findings"]) for r in report["repositories"]) > COUNT // 2


def test_nothing_found_is_exit_0(repos: Fleet, tmp_path: Path) -> None:
    clean = [repos.file_url(3), repos.git_url(7)]  # neither ever held a key (see audit_repos.make_repo)
    proc = keysentry("audit", *clean, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert b"audited 2 repositories: 0 findings" in proc.stdout
    assert proc.stderr == b""  # no progress display off a terminal


def test_on_a_terminal_progress_shows_a_line_per_repository(repos: Fleet, tmp_path: Path) -> None:
    import pty

    primary, secondary = pty.openpty()
    proc = subprocess.Popen([KEYSENTRY, "audit", repos.file_url(0), str(repos.work[3]), "--output",
                             str(tmp_path / "report.txt")], stdin=secondary, stdout=secondary, stderr=secondary,
                            cwd=tmp_path, env={**os.environ, **GIT_ENV, "COLUMNS": "400"})  # no wrapping
    os.close(secondary)
    shown = b""
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # the terminal's other side closed: the audit ended
            break
        if not chunk:
            break
        shown += chunk
    os.close(primary)
    assert proc.wait(timeout=60) == 1
    screen = shown.decode("utf-8", "replace")
    assert "repositories" in screen and "2/2" in screen
    assert f"{repos.file_url(0)} at " in screen and "1 finding" in screen
    assert f"{repos.work[3]} at " in screen and "no secrets found" in screen


def plain_folder(tmp_path: Path) -> str:
    (tmp_path / "plain").mkdir()
    return str(tmp_path / "plain")


_LISTENERS: list[socket.socket] = []


def silent_server(tmp_path: Path) -> str:
    """A git:// server that accepts and never answers: a clone hangs until --repo-timeout."""
    listener = socket.socket()
    _LISTENERS.append(listener)  # open until the tests end
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def hold() -> None:
        while True:
            _LISTENERS.append(listener.accept()[0])

    threading.Thread(target=hold, daemon=True).start()
    return f"git://127.0.0.1:{listener.getsockname()[1]}/stuck.git"


# (id, how to make the failing source, words its error must hold)
FAILURES: list[tuple[str, Callable[[Path], str], tuple[str, ...]]] = [
    ("missing-path", lambda p: str(p / "nowhere"), ("path not found",)),
    ("not-a-repository", plain_folder, ("not a git repository",)),
    ("file-url-to-nothing", lambda p: (p / "nothing.git").as_uri(), ("does not appear to be a git repository",)),
    ("refused-connection", lambda p: f"git://127.0.0.1:{free_port()}/x.git", ("unable to connect",)),
    ("ext-transport", lambda p: f"ext::sh -c touch% {p}/pwned", ("refusing to clone",)),
    ("upload-pack-option", lambda p: f"--upload-pack=touch {p}/pwned", ("path not found",)),
    ("hangs", silent_server, ("timed out after 6 seconds",)),
]


@pytest.mark.parametrize(("make", "words"), [(m, w) for _, m, w in FAILURES], ids=[i for i, _, _ in FAILURES])
def test_a_failing_repository_is_reported_and_the_others_go_on(repos: Fleet, tmp_path: Path,
                                                               make: Callable[[Path], str],
                                                               words: tuple[str, ...]) -> None:
    bad = make(tmp_path)
    good = [repos.file_url(3), str(repos.work[6])]  # 3: clean, 6: a key
    # Long enough for a good repository on a busy machine; only the hanging clone reaches it.
    timeout = "6" if make is silent_server else "120"
    # One job: the repositories after the failing one are audited by the same thread, in a new
    # process when the failure (a timeout) ended its process.
    proc = keysentry("audit", "--format", "json", "--repo-timeout", timeout, "--jobs", "1", good[0], "--", bad, good[1],
                     cwd=tmp_path)
    assert b"Traceback" not in proc.stderr
    report = load(proc.stdout)
    entries = {r["source"]: r for r in report["repositories"]}
    assert entries[bad]["findings"] == [] and entries[bad]["head"] is None
    for word in words:
        assert word in entries[bad]["error"]
    assert entries[good[0]]["error"] is None and entries[good[1]]["findings"]
    assert proc.returncode == 1  # a finding outranks a failure
    assert not (tmp_path / "pwned").exists()
    clean_only = keysentry("audit", "--repo-timeout", timeout, good[0], "--", bad, cwd=tmp_path)
    assert clean_only.returncode == 2, clean_only.stderr  # no finding, but a repository failed
    assert b"error: " in clean_only.stdout


def test_a_repository_missing_a_blob_and_a_tree_is_scanned_and_names_them(repos: Fleet, tmp_path: Path) -> None:
    path = tmp_path / "mirror"
    git(tmp_path, "init", "-q", str(path))
    (path / "a.txt").write_text("data\n")
    (path / "b.txt").write_text("more\n")
    (path / "sub").mkdir()
    (path / "sub" / "c.txt").write_text("deeper\n")
    git(path, "add", ".")
    git(path, "commit", "-qm", "one")
    blob = git(path, "rev-parse", "HEAD:a.txt")
    tree = git(path, "rev-parse", "HEAD:sub")  # a tree too: git's own walk stops at it
    for oid in (blob, tree):
        (path / ".git" / "objects" / oid[:2] / oid[2:]).unlink()  # an old mirror, a partial clone

    proc = keysentry("audit", "--format", "json", str(path), repos.file_url(3), cwd=tmp_path)
    entry = {r["source"]: r for r in load(proc.stdout)["repositories"]}[str(path)]
    assert entry["error"] is None and entry["stats"]["missing_objects"] == sorted([blob, tree])
    assert entry["stats"]["blobs"] == 1  # the other blob was read
    assert proc.returncode == 2, proc.stderr  # no finding, but one repository was not read whole
    with_key = keysentry("audit", "--format", "json", str(path), str(repos.work[6]), cwd=tmp_path)
    assert with_key.returncode == 1, with_key.stderr


def test_secrets_are_redacted_before_they_leave_the_worker(repos: Fleet, tmp_path: Path) -> None:
    key = google_key()
    path = tmp_path / "secret"
    git(tmp_path, "init", "-q", str(path))
    (path / f"config-{key}.txt").write_text(f'api_key = "{key}"\n')
    git(path, "add", ".")
    git(path, "commit", "-qm", "x")
    workdir = tmp_path / "work"
    proc = keysentry("audit", path.as_uri(), "--workdir", workdir, "--format", "json", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    stored = b"".join(p.read_bytes() for p in (workdir / "results").iterdir())
    assert key.encode() not in proc.stdout and key.encode() not in stored
    assert key[:4].encode() in stored  # redacted, not dropped
    shown = keysentry("audit", path.as_uri(), "--format", "json", "--show-secrets", cwd=tmp_path)
    assert load(shown.stdout)["repositories"][0]["findings"][0]["secret"] == key


def test_a_password_in_a_clone_url_is_never_reported(tmp_path: Path) -> None:
    url = f"git://user:{'s3cr' + 'etTok'}@127.0.0.1:{free_port()}/x.git"
    proc = keysentry("audit", url, "--format", "json", cwd=tmp_path)
    assert proc.returncode == 2
    assert b"s3cretTok" not in proc.stdout + proc.stderr
    assert load(proc.stdout)["repositories"][0]["source"] == url.replace("s3cretTok", "***")


def test_sources_are_read_from_a_file_once_each(repos: Fleet, tmp_path: Path) -> None:
    listing = tmp_path / "repos.txt"
    listing.write_text(f"# our repositories\n{repos.file_url(0)}\n\n  {repos.git_url(1)}  \n{repos.file_url(0)}\n")
    proc = keysentry("audit", "--repos", listing, str(repos.work[2]), "--format", "json", cwd=tmp_path)
    assert [r["source"] for r in load(proc.stdout)["repositories"]] == [
        str(repos.work[2]), repos.file_url(0), repos.git_url(1)]


def test_sarif_has_one_valid_run_per_repository(repos: Fleet, tmp_path: Path) -> None:
    sources = [repos.file_url(0), repos.git_url(3), str(tmp_path / "missing")]
    proc = keysentry("audit", *sources, "--format", "sarif", cwd=tmp_path)
    log = json.loads(proc.stdout)
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    runs = log["runs"]
    assert [r["versionControlProvenance"][0]["repositoryUri"] for r in runs] == sources
    assert len({r["automationDetails"]["id"] for r in runs}) == 3
    assert runs[0]["results"] and not runs[1]["results"]
    assert [r["invocations"][0]["executionSuccessful"] for r in runs] == [True, True, False]


def test_a_rerun_with_workdir_skips_unchanged_repositories_and_fetches_changed_ones(
        tmp_path: Path) -> None:
    origin = tmp_path / "origin"
    git(tmp_path, "init", "-q", "-b", "main", str(origin))
    (origin / "a.txt").write_text("nothing yet\n")
    git(origin, "add", ".")
    git(origin, "commit", "-qm", "one")
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(origin), str(other))
    workdir = tmp_path / "work"
    args = ("audit", origin.as_uri(), str(other), "--workdir", workdir, "--format", "json")
    first = keysentry(*args, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    clones = list((workdir / "repos").iterdir())
    assert len(clones) == 1
    packs_before = set((clones[0] / "objects" / "pack").iterdir())
    second = keysentry(*args, cwd=tmp_path)
    assert load(second.stdout)["stats"]["resumed"] == 2
    assert comparable(load(second.stdout)) == comparable(load(first.stdout))
    (origin / "b.py").write_text(f'API_KEY = "{google_key()}"\n')
    git(origin, "add", ".")
    git(origin, "commit", "-qm", "two")
    third = keysentry(*args, cwd=tmp_path)
    assert third.returncode == 1, third.stderr
    report = load(third.stdout)
    assert report["stats"]["resumed"] == 1  # only the changed one scanned again
    assert report["repositories"][0]["findings"][0]["commit"] == git(origin, "rev-parse", "HEAD")
    assert list((workdir / "repos").iterdir()) == clones
    assert packs_before <= set((clones[0] / "objects" / "pack").iterdir())  # fetched, not cloned anew


def test_an_interrupted_audit_resumes_without_losing_finished_repositories(repos: Fleet, tmp_path: Path) -> None:
    workdir = tmp_path / "work"
    sources = repos.mixed()
    args = ["audit", *sources, "--workdir", str(workdir), "--format", "json", "--jobs", "1"]
    env = {**os.environ, **GIT_ENV}
    proc = subprocess.Popen([KEYSENTRY, *args], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    results = workdir / "results"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(results.glob("*.json")) if results.is_dir() else []) < 3:
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 130
    kept = len(list(results.glob("*.json")))
    assert 3 <= kept < COUNT
    assert not list(results.glob(".*.tmp"))  # no half-written result
    resumed = keysentry(*args, cwd=tmp_path)
    report = load(resumed.stdout)
    assert report["stats"]["resumed"] == kept
    fresh = keysentry("audit", *sources, "--format", "json", cwd=tmp_path)
    assert comparable(report) == comparable(load(fresh.stdout))


def test_cluster_without_dask_says_what_to_install(tmp_path: Path) -> None:
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "distributed.py").write_text("raise ImportError('no distributed here')\n")
    proc = keysentry("audit", ".", "--cluster", "tcp://127.0.0.1:8786", cwd=tmp_path,
                     env={"PYTHONPATH": str(blocker)})
    assert proc.returncode == 2
    assert proc.stderr.decode().strip().splitlines() == [
        "keysentry: error: --cluster needs Dask distributed, which is not installed: "
        "pip install 'keysentry[cluster]'"]


def test_no_source_is_a_usage_error(tmp_path: Path) -> None:
    proc = keysentry("audit", cwd=tmp_path)
    assert proc.returncode == 2 and b"name at least one repository" in proc.stderr


def test_verify_asks_on_the_worker_only_for_reported_secrets(tmp_path: Path) -> None:
    from tests import fake_google as g

    live, accepted = google_key(), google_key()
    sources = []
    for name, key in (("live", live), ("accepted", accepted)):
        path = tmp_path / name
        git(tmp_path, "init", "-q", str(path))
        (path / "app.py").write_text(f'API_KEY = "{key}"\n')
        git(path, "add", ".")
        git(path, "commit", "-qm", "key")
        sources.append(path.as_uri())
    baseline = tmp_path / "baseline.json"
    made = keysentry("baseline", "--history", "--output", baseline, tmp_path / "accepted", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    fake = g.FakeGoogle()
    fake.on(g.GEMINI, live, g.models())
    with fake.running():
        proc = keysentry("audit", *sources, "--verify", "--baseline", baseline, "--format", "json",
                         "--workdir", tmp_path / "work", cwd=tmp_path,
                         env={"KEYSENTRY_VERIFY_ENDPOINT": fake.url})
    assert proc.returncode == 1, proc.stderr
    first, second = load(proc.stdout)["repositories"]
    assert first["findings"][0]["verification"]["status"] == "live"
    assert first["findings"][0]["severity"] == "critical"
    assert second["findings"] == [] and second["stats"]["baselined"] == 1
    assert fake.requests_for(live) and not fake.requests_for(accepted)  # an accepted key is never sent
    stored = b"".join(p.read_bytes() for p in (tmp_path / "work" / "results").iterdir())
    assert live.encode() not in stored + proc.stdout  # verified on the worker, sent back redacted


def _repositories_holding(tmp_path: Path, keys: dict[str, str]) -> list[str]:
    """One local repository per NAME, each with its KEY committed in app.py."""
    sources = []
    for name, key in keys.items():
        path = tmp_path / name
        git(tmp_path, "init", "-q", str(path))
        (path / "app.py").write_text(f'API_KEY = "{key}"\n')
        git(path, "add", ".")
        git(path, "commit", "-qm", "key")
        sources.append(str(path))
    return sources


def test_an_audit_with_verify_cache_asks_google_once_for_a_key_many_repositories_share(tmp_path: Path) -> None:
    from tests import fake_google as g

    shared = google_key()
    sources = _repositories_holding(tmp_path, {f"repo{i}": shared for i in range(4)})
    cache = tmp_path / "verdicts.json"
    fake = g.FakeGoogle()
    fake.on(g.GEMINI, shared, g.models())
    fake.on(g.FILES, shared, g.listing("files", 3))
    with fake.running():
        # One worker: two workers that meet a new key at the same moment would each ask for it.
        proc = keysentry("audit", *sources, "--verify", "--verify-cache", cache, "--jobs", "1", "--format", "json",
                         cwd=tmp_path, env={"KEYSENTRY_VERIFY_ENDPOINT": fake.url})
        assert proc.returncode == 1, proc.stderr
        asked = [s.target.split("?")[0] for s in fake.requests_for(shared)]
        assert asked.count(g.GEMINI) == 1  # the first repository asked; the other three read the cache
        for entry in load(proc.stdout)["repositories"]:
            [finding] = entry["findings"]
            assert finding["verification"]["status"] == "live"
            assert finding["verification"]["exposes"] == ["files"]  # the whole verdict reaches the report
        before = len(fake.seen)
        again = keysentry("audit", *sources, "--verify", "--verify-cache", cache, "--format", "json",
                          cwd=tmp_path, env={"KEYSENTRY_VERIFY_ENDPOINT": fake.url})
        assert again.returncode == 1, again.stderr
        assert len(fake.seen) == before  # a second audit asks nothing
    assert shared.encode() not in cache.read_bytes()


def test_an_audits_verify_max_requests_caps_each_repository(tmp_path: Path) -> None:
    from tests import fake_google as g

    keys = [google_key() for _ in range(3)]
    path = tmp_path / "many"
    git(tmp_path, "init", "-q", str(path))
    (path / "app.py").write_text("".join(f'KEY_{i} = "{k}"\n' for i, k in enumerate(keys)))
    git(path, "add", ".")
    git(path, "commit", "-qm", "keys")
    fake = g.FakeGoogle()
    with fake.running():
        proc = keysentry("audit", path, "--verify", "--verify-max-requests", "1", "--format", "json",
                         cwd=tmp_path, env={"KEYSENTRY_VERIFY_ENDPOINT": fake.url})
    assert proc.returncode == 1, proc.stderr
    statuses = sorted(f["verification"]["status"] for f in load(proc.stdout)["repositories"][0]["findings"])
    assert statuses == ["invalid", "unknown", "unknown"] and len(fake.seen) == 1


def test_a_rerun_with_another_verify_max_requests_verifies_again(tmp_path: Path) -> None:
    from tests import fake_google as g

    sources = _repositories_holding(tmp_path, {"one": google_key()})
    workdir = tmp_path / "work"
    fake = g.FakeGoogle()
    with fake.running():
        def audit(*extra: str) -> dict[str, object]:
            proc = keysentry("audit", *sources, "--verify", "--workdir", workdir, "--format", "json", *extra,
                             cwd=tmp_path, env={"KEYSENTRY_VERIFY_ENDPOINT": fake.url})
            assert proc.returncode == 1, proc.stderr
            return dict(load(proc.stdout)["stats"])

        assert audit()["resumed"] == 0
        assert audit()["resumed"] == 1
        assert audit("--verify-max-requests", "5")["resumed"] == 0  # the cap decides which keys are asked
        # A cache holds Google's own answers, as the stored result does: not a new input.
        assert audit("--verify-max-requests", "5", "--verify-cache", str(tmp_path / "cache.json"))["resumed"] == 1


def test_an_audits_verify_cache_that_is_not_one_is_one_line_before_any_repository(tmp_path: Path) -> None:
    sources = _repositories_holding(tmp_path, {"one": google_key()})
    cache = tmp_path / "not-a-cache.json"
    cache.write_text('{"something": "else"}\n')
    proc = keysentry("audit", *sources, "--verify", "--verify-cache", cache, cwd=tmp_path,
                     env={"KEYSENTRY_VERIFY_ENDPOINT": "http://127.0.0.1:9"})
    assert proc.returncode == 2
    assert b"is not a keysentry verification cache" in proc.stderr and len(proc.stderr.splitlines()) == 1
    assert cache.read_text() == '{"something": "else"}\n'
