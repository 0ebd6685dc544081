"""An audit's answer can be trusted (issue 17 §5): concurrent audits sharing clones, reruns after an
input changed, tokens in clone URLs, names that look like markup, and --output through a link."""
from __future__ import annotations

import base64
import contextlib
import functools
import http.server
import os
import random
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from tests.audit_repos import free_port, load
from tests.conftest import GIT_ENV, git, google_key, random_chars
from tests.hostile import KEYSENTRY


def bare_with_key(root: Path, name: str, filler_lines: int = 60_000) -> Path:
    """A bare repository holding one key beside some filler, so that cloning it takes a moment."""
    work = root / f"{name}-work"
    git(root, "init", "-q", "-b", "main", str(work))
    rng = random.Random(name)
    (work / "data.txt").write_text("".join(f"line {n} {rng.random()}\n" for n in range(filler_lines)))
    (work / "app.py").write_text(f'API_KEY = "{google_key()}"\n')
    git(work, "add", ".")
    git(work, "commit", "-qm", "key")
    bare = root / f"{name}.git"
    git(root, "clone", "-q", "--bare", str(work), str(bare))
    return bare


def test_audits_sharing_a_workdir_never_report_a_key_holding_repository_clean(tmp_path: Path) -> None:
    """Two audits at once on one --workdir (as two Dask workers of one host share their clone
    folder): each clone is fetched, scanned and removed by one process at a time, so every
    repository is reported with its key, in every round."""
    sources = [bare_with_key(tmp_path, f"r{i}").as_uri() for i in range(4)]
    env = {**os.environ, **GIT_ENV}
    for round_ in range(3):
        workdir = tmp_path / f"work{round_}"
        procs = [subprocess.Popen([KEYSENTRY, "audit", *sources, "--workdir", str(workdir), "--format", "json",
                                   "--jobs", "2"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE) for _ in range(2)]
        for proc in procs:
            out, err = proc.communicate(timeout=180)
            assert proc.returncode == 1, err
            for entry in load(out)["repositories"]:
                assert entry["error"] is None and len(entry["findings"]) == 1, (round_, entry["source"], entry["error"])
    # A rerun on the last workdir (fetches into the kept clones) agrees.
    again = subprocess.run([KEYSENTRY, "audit", *sources, "--workdir", str(workdir), "--format", "json"],
                           cwd=tmp_path, env=env, capture_output=True, timeout=180)
    assert all(len(r["findings"]) == 1 for r in load(again.stdout)["repositories"])


def repo_with_key(root: Path, name: str = "repo") -> Path:
    path = root / name
    git(root, "init", "-q", "-b", "main", str(path))
    (path / "app.py").write_text(f'API_KEY = "{google_key()}"\n')
    git(path, "add", ".")
    git(path, "commit", "-qm", "key")
    return path


def audit_json(tmp_path: Path, *args: str | Path, python: list[str] | None = None) -> dict[str, object]:
    command = python or [KEYSENTRY]
    proc = subprocess.run([*command, "audit", *map(str, args), "--format", "json"], cwd=tmp_path,
                          env={**os.environ, **GIT_ENV}, capture_output=True, timeout=120)
    assert proc.returncode in (0, 1), proc.stderr
    return load(proc.stdout)


def findings(report: dict[str, object]) -> list[int]:
    return [len(r["findings"]) for r in report["repositories"]]  # type: ignore[attr-defined]


def test_a_rerun_scans_again_when_the_config_file_changed_in_place(tmp_path: Path) -> None:
    repo = repo_with_key(tmp_path)
    config = tmp_path / "keysentry.toml"
    config.write_text('exclude = ["app.py"]\n')
    args = (repo, repo.as_uri(), "--workdir", tmp_path / "work", "--config", config)
    assert findings(audit_json(tmp_path, *args)) == [0, 0]
    assert audit_json(tmp_path, *args)["stats"]["resumed"] == 2  # type: ignore[index]
    stat = config.stat()
    config.write_text('exclude = ["nothing"]\n')  # same name, same size class; the time put back too
    os.utime(config, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    again = audit_json(tmp_path, *args)
    assert again["stats"]["resumed"] == 0 and findings(again) == [1, 1]  # type: ignore[index]


def test_a_rerun_scans_again_when_the_work_trees_own_config_changed(tmp_path: Path) -> None:
    repo = repo_with_key(tmp_path)
    (repo / ".keysentry.toml").write_text('exclude = ["app.py"]\n')  # not committed: no ref moves
    args = (repo, "--workdir", tmp_path / "work")
    assert findings(audit_json(tmp_path, *args)) == [0]
    (repo / ".keysentry.toml").unlink()
    again = audit_json(tmp_path, *args)
    assert again["stats"]["resumed"] == 0 and findings(again) == [1]  # type: ignore[index]


def test_a_rerun_scans_again_when_keysentrys_rules_changed(tmp_path: Path) -> None:
    """A stored result made by another build of keysentry (its rules edited, the version not
    bumped: a development checkout, or a worker upgraded) is not reused."""
    import shutil

    import scanner

    copy = tmp_path / "build"
    shutil.copytree(Path(scanner.__file__).parent, copy / "scanner",
                    ignore=shutil.ignore_patterns("__pycache__"))
    python = [sys.executable, "-I", "-c",
              "import sys; sys.path.insert(0, sys.argv.pop(1)); from scanner.cli import main; raise SystemExit(main())",
              str(copy)]
    repo = repo_with_key(tmp_path)
    args = (repo, "--workdir", tmp_path / "work")
    assert findings(audit_json(tmp_path, *args, python=python)) == [1]
    assert audit_json(tmp_path, *args, python=python)["stats"]["resumed"] == 1  # type: ignore[index]
    rules = copy / "scanner" / "rules" / "google.py"
    rules.write_text(rules.read_text(encoding="utf-8") + "\n# a rule changed\n", encoding="utf-8")
    assert audit_json(tmp_path, *args, python=python)["stats"]["resumed"] == 0  # type: ignore[index]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def dumb_http(folder: Path, handler: type[_Quiet] | None = None) -> Iterator[str]:
    """FOLDER's bare repositories over git's dumb HTTP protocol on a loopback port: any user name,
    password or query is accepted (and ignored), as a token-checking forge would accept a good one
    (unless HANDLER checks them)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(handler or _Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)  # a prompt shutdown()
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def on_terminal(args: list[str], cwd: Path) -> tuple[int, bytes]:
    """Run keysentry on a pseudo-terminal (its progress display on): exit status and the screen."""
    import pty

    primary, secondary = pty.openpty()
    proc = subprocess.Popen([KEYSENTRY, *args], stdin=secondary, stdout=secondary, stderr=secondary, cwd=cwd,
                            env={**os.environ, **GIT_ENV, "COLUMNS": "400"})
    os.close(secondary)
    shown = b""
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # the other side closed: keysentry ended
            break
        if not chunk:
            break
        shown += chunk
    os.close(primary)
    return proc.wait(timeout=120), shown


def test_a_token_in_a_clone_url_appears_in_no_report_progress_error_or_stored_file(tmp_path: Path) -> None:
    served = tmp_path / "served"
    served.mkdir()
    bare = bare_with_key(served, "r", filler_lines=10)
    git(bare, "update-server-info")
    tokens = ["ghp_" + random_chars(36), "ghs_" + random_chars(36), "glpat-" + random_chars(20),
              random_chars(40), "glpat-" + random_chars(20)]
    with dumb_http(served) as host:
        sources = [f"http://{tokens[0]}@{host}/r.git",  # GitHub: the token as the user name
                   f"http://x-access-token:{tokens[1]}@{host}/r.git",  # as the password
                   f"http://{host}/r.git?private_token={tokens[2]}",  # in the query (git then fails: its error)
                   f"http://{tokens[3]}@{host}/missing.git",  # a failing clone's error
                   f"ssh://{tokens[4]}@127.0.0.1:{free_port()}/x.git"]  # ssh, refused
        workdir = tmp_path / "work"
        outputs = []
        for fmt in ("json", "text", "sarif", "html", "markdown", "gitlab", "github"):
            proc = subprocess.run([KEYSENTRY, "audit", *sources, "--workdir", str(workdir), "--format", fmt],
                                  cwd=tmp_path, env={**os.environ, **GIT_ENV}, capture_output=True, timeout=120)
            assert proc.returncode == 1, proc.stderr
            outputs.append(proc.stdout + proc.stderr)
            if fmt == "json":
                report = load(proc.stdout)
                assert [len(r["findings"]) for r in report["repositories"]] == [1, 1, 0, 0, 0]
                assert [r["source"] for r in report["repositories"]][:3] == [
                    f"http://***@{host}/r.git", f"http://x-access-token:***@{host}/r.git",
                    f"http://{host}/r.git?private_token=***"]
                assert all(r["error"] for r in report["repositories"][2:])
        shutil.rmtree(workdir)  # on a terminal, from scratch: every clone's progress line shows
        status, screen = on_terminal(["audit", *sources, "--workdir", str(workdir), "--output",
                                      str(tmp_path / "report.txt")], tmp_path)
        assert status == 1 and b"r.git" in screen
        outputs.append(screen)
    kept = [p.read_bytes() for p in workdir.rglob("*") if p.is_file()]  # results, clones' config
    for token in tokens:
        for text in (*outputs, *kept):
            assert token.encode() not in text, token


class _Guarded(_Quiet):
    """Serves only a request bearing the Authorization header `expected`; at every request, looks for
    `watched` in every process's command line (what `ps` shows any local user), and notes it."""
    expected: ClassVar[str] = ""
    watched: ClassVar[bytes] = b""
    seen_on: ClassVar[list[bytes]] = []
    served: ClassVar[int] = 0

    def send_head(self) -> object:
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            with contextlib.suppress(OSError):
                if self.watched in (argv := cmdline.read_bytes()):
                    self.seen_on.append(argv.replace(b"\0", b" "))
        if self.headers.get("Authorization") != self.expected:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="forge"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        type(self).served += 1
        return super().send_head()


@pytest.mark.parametrize("user, password", [
    ("ghp_", None),  # GitHub: the token as the user name
    ("x-access-token", "ghs_"),  # a login, the token as the password
    ("oauth2", "glpat-"),
])
def test_a_clone_and_its_fetch_send_the_token_as_a_header_never_on_a_command_line(
        tmp_path: Path, user: str, password: str | None) -> None:
    # A forge that demands the token proves it still reaches the server; a look at every process's
    # command line while the server answers (git's, and the remote helper's git starts) proves no
    # local user could have read it there, at the first clone or at a later audit's fetch.
    served = tmp_path / "served"
    served.mkdir()
    git(bare_with_key(served, "r", filler_lines=10), "update-server-info")
    if password is None:
        user, token = user + random_chars(36), ""
        userinfo, secret = user, user
    else:
        token = password + random_chars(30)
        userinfo, secret = f"{user}:{token}", token
    basic = base64.b64encode(f"{user}:{token}".encode()).decode()
    handler = type("Forge", (_Guarded,), {"expected": f"Basic {basic}", "watched": secret.encode(),
                                           "seen_on": []})
    with dumb_http(served, handler) as host:
        args = [KEYSENTRY, "audit", f"http://{userinfo}@{host}/r.git", "--workdir", str(tmp_path / "work"),
                "--format", "json"]
        first = subprocess.run(args, cwd=tmp_path, env={**os.environ, **GIT_ENV}, capture_output=True, timeout=120)
        assert first.returncode == 1, first.stderr
        assert [len(r["findings"]) for r in load(first.stdout)["repositories"]] == [1]
        cloned_with = handler.served
        (served / "r.git" / "refs" / "tags").mkdir(exist_ok=True)
        git(served / "r.git", "tag", "v2", "main")  # a moved ref: the rerun fetches, then scans
        git(served / "r.git", "update-server-info")
        again = subprocess.run(args, cwd=tmp_path, env={**os.environ, **GIT_ENV}, capture_output=True, timeout=120)
    assert again.returncode == 1, again.stderr
    assert cloned_with > 0 and handler.served > cloned_with  # both asked the forge, with the token
    # keysentry's own command line (and its forked workers', the same) holds what the user typed:
    # `--repos FILE` keeps a token off it. Every process it starts must not show it.
    typed = b" ".join(a.encode() for a in args)
    assert [argv for argv in handler.seen_on if not argv.endswith(typed + b" ")] == []


def test_a_task_as_dask_logs_it_names_no_token() -> None:
    from scanner.audit_child import RepoTask

    token = "ghp_" + random_chars(36)
    task = RepoTask(source=f"https://{token}@github.com/o/r.git", key="r", clones="", keep_clone=False,
                    known_refs=None, show_secrets=False, config=None, max_file_size=None, jobs=1, timeout=None)
    assert token not in repr(task) and token not in str(task) and "github.com/o/r.git" in repr(task)


def test_repository_names_that_look_like_markup_are_shown_as_text(tmp_path: Path) -> None:
    """The progress display on a terminal: a `[link=…]` in a name writes no hyperlink escape and a
    stray `[/x]` ends nothing; the report is written, every name shown as given."""
    folder = tmp_path / "[link=https:" / "e.example]" / "r[" / "x]"
    folder.mkdir(parents=True)
    work = repo_with_key(folder, "repo-work")
    for n in range(1500):  # a scan long enough for the display to draw its line
        (work / f"f{n:04}.txt").write_text(f"{n} filler\n" * 300)
    git(work, "add", ".")
    git(work, "commit", "-qm", "filler")
    bare = folder / "repo.git"
    git(folder, "clone", "-q", "--bare", str(work), str(bare))
    report = tmp_path / "report.json"
    status, screen = on_terminal(["audit", bare.as_uri(), str(work), str(bare), "--format", "json", "--output",
                                  str(report)], tmp_path)
    text = screen.decode("utf-8", "replace")
    assert "Traceback" not in text and b"\x1b]8;" not in screen, text
    assert status == 1, text
    assert [len(r["findings"]) for r in load(report.read_bytes())["repositories"]] == [1, 1, 1]
    assert f"{work} at " in text  # the finished line, as given


def test_on_a_terminal_a_local_repository_shows_the_bytes_its_scan_has_read(tmp_path: Path) -> None:
    """Issue 24: the display moved only for clones; a local repository's scan now shows its bytes
    as they are read, on its own line and in the overall total."""
    repo = repo_with_key(tmp_path, "big")
    rng = random.Random(0)
    for n in range(3000):  # some 12 MB in many blobs, read in several batches: a scan that takes a moment
        (repo / f"f{n:04}.txt").write_text("".join(f"{rng.random()} filler\n" for _ in range(150)))
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "filler")
    status, screen = on_terminal(["audit", str(repo), "--jobs", "1", "--output", str(tmp_path / "report.txt")],
                                 tmp_path)
    text = screen.decode("utf-8", "replace")
    assert status == 1, text
    assert "scanning: " in text and " MB scanned" in text, text
    shown = [float(m) for m in re.findall(r"scanning: ([0-9.]+) MB", text)]
    assert any(size > 0 for size in shown), shown


def test_an_audit_of_nothing_but_missing_paths_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """Issue 24: not a report of failures on stdout, but one line on stderr, as `scan` says it."""
    from tests.hostile import expect_error, keysentry

    line = expect_error(keysentry("audit", "/no/such/path", cwd=tmp_path), "path not found: /no/such/path")
    assert line == "keysentry: error: path not found: /no/such/path"
    proc = keysentry("audit", str(tmp_path / "a"), str(tmp_path / "b"), "--format", "json", cwd=tmp_path)
    assert expect_error(proc).endswith(f"path not found: {tmp_path / 'a'} (and 1 more)") and proc.stdout == b""
    # One missing path among repositories stays that repository's error; the others are audited.
    repo = repo_with_key(tmp_path)
    report = audit_json(tmp_path, repo, tmp_path / "gone")
    errors = [r["error"] for r in report["repositories"]]  # type: ignore[attr-defined]
    assert errors == [None, f"path not found: {tmp_path / 'gone'}"]


def test_audit_output_says_on_stderr_what_was_written_where(tmp_path: Path) -> None:
    from tests.hostile import keysentry

    repo = repo_with_key(tmp_path)
    clean = tmp_path / "clean"
    git(tmp_path, "init", "-q", str(clean))
    for sources, status, said in (([repo, clean], 1, "audited 2 repositories: 1 finding in 1, 0 failed"),
                                  ([clean], 0, "audited 1 repository: 0 findings in 0, 0 failed")):
        report = tmp_path / "out" / "audit.json"
        report.parent.mkdir(exist_ok=True)
        proc = keysentry("audit", *sources, "--format", "json", "--output", report, cwd=tmp_path)
        assert proc.returncode == status and proc.stdout == b""
        assert proc.stderr.decode().splitlines() == [f"keysentry: {said}; report written to {report}"]
        assert load(report.read_bytes())["mode"] == "audit"


def test_what_of_a_clone_url_is_taken_for_a_token() -> None:
    """The rule the reports, progress and errors share (scanner.sources.remote): a login stays, a
    token goes, wherever in the URL it is; an error quoting it loses it too."""
    from scanner.sources.remote import scrub, without_password

    token = "ghp_" + random_chars(36)
    short = random_chars(8, "abcdef") + random_chars(8, "0123456789")  # 16, letters and digits
    rows = [
        (f"https://{token}@github.com/o/r.git", "https://***@github.com/o/r.git"),
        (f"https://{token}:x-oauth-basic@github.com/o/r", "https://***:***@github.com/o/r"),
        (f"https://x-access-token:{token}@github.com/o/r", "https://x-access-token:***@github.com/o/r"),
        (f"https://oauth2:{token}@gitlab.example/g/r.git", "https://oauth2:***@gitlab.example/g/r.git"),
        (f"ssh://{short}@host:2222/x.git", "ssh://***@host:2222/x.git"),
        (f"{token}@host:o/r.git", "***@host:o/r.git"),
        (f"https://host/g/r.git?private_token={token}", "https://host/g/r.git?private_token=***"),
        ("ssh://git@host/x.git", "ssh://git@host/x.git"),
        ("git@github.com:o/r.git", "git@github.com:o/r.git"),
        ("https://alice@host/r.git", "https://alice@host/r.git"),
        ("/home/alice/repo", "/home/alice/repo"),
    ]
    for url, shown in rows:
        assert without_password(url) == shown, url
        said = scrub(f"fatal: unable to access '{url}': it said {url} again", url)
        assert token not in said and short not in said, said


def test_a_fetch_into_a_kept_clone_puts_no_token_on_a_command_line(tmp_path: Path) -> None:
    """A command line is readable by every local user (ps, /proc/PID/cmdline): the rerun's fetch
    reads the URL from the clone's config, set by writing the file, never through git's argv."""
    served = tmp_path / "served"
    served.mkdir()
    git(bare_with_key(served, "r", filler_lines=10), "update-server-info")
    real_git = shutil.which("git")
    assert real_git
    wrappers = tmp_path / "bin"
    wrappers.mkdir()
    log = tmp_path / "git-commands.log"
    (wrappers / "git").write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> {log}\nexec {real_git} "$@"\n')
    (wrappers / "git").chmod(0o755)
    env = {**os.environ, **GIT_ENV, "PATH": f"{wrappers}{os.pathsep}{os.environ['PATH']}"}
    token = "ghp_" + random_chars(36)
    with dumb_http(served) as host:
        args = [KEYSENTRY, "audit", f"http://{token}@{host}/r.git", "--workdir", str(tmp_path / "work"),
                "--format", "json"]
        first = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, timeout=120)
        assert first.returncode == 1, first.stderr
        (served / "r.git" / "refs" / "tags").mkdir(exist_ok=True)
        git(served / "r.git", "tag", "v2", "main")  # a moved ref: the rerun fetches, then scans
        git(served / "r.git", "update-server-info")
        log.write_text("")
        again = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, timeout=120)
    assert again.returncode == 1, again.stderr
    commands = log.read_text()
    assert "fetch" in commands and token not in commands, commands
