"""`keysentry hook pre-receive` and `install-hooks --server`, run by real `git push`es from a clone to a
bare repository on disk, through the hook that `install-hooks --server` wrote (issue 17, 4)."""
from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from scanner import install, receive
from scanner.cli import main
from scanner.errors import ConfigError, UsageError
from tests.conftest import git, google_key
from tests.test_install_hooks import _env

ZERO = "0" * 40


def _push(clone: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "push", *args], cwd=clone, env=_env(), capture_output=True, text=True, timeout=300)


def _commit(clone: Path, files: dict[str, str], message: str = "change") -> str:
    for name, text in files.items():
        (clone / name).parent.mkdir(parents=True, exist_ok=True)
        (clone / name).write_text(text)
    git(clone, "add", "-A")
    git(clone, "commit", "-q", "--no-verify", "-m", message)
    return git(clone, "rev-parse", "HEAD")


def _serve(tmp_path: Path, config: str | None = None, *extra: str) -> Path:
    server = tmp_path / "server.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(server))
    args = ["install-hooks", "--server", str(server), *extra]
    if config is not None:
        (tmp_path / "keysentry-server.toml").write_text(config)
        args += ["--config", str(tmp_path / "keysentry-server.toml")]
    assert main(args) == 0
    return server


@pytest.fixture
def server(tmp_path: Path) -> Path:
    return _serve(tmp_path)


def _clone(server: Path) -> Path:
    clone = server.parent / "clone"
    git(server.parent, "clone", "-q", str(server), str(clone))
    git(clone, "checkout", "-q", "-b", "main")
    return clone


@pytest.fixture
def clone(server: Path) -> Path:
    clone = _clone(server)
    _commit(clone, {"README.md": "# demo\n"}, "start")
    proc = _push(clone, "-q", "origin", "main")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return clone


def _rejected(proc: subprocess.CompletedProcess[str]) -> str:
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "pre-receive hook declined" in out and "Traceback" not in out, out
    return out


# --- what a push brings is scanned, in quarantine -------------------------------------------------

def test_push_adding_a_key_is_rejected_and_the_server_keeps_nothing(server: Path) -> None:
    clone = _clone(server)
    key = google_key()
    head = _commit(clone, {"src/app.py": f'client = genai.Client(api_key="{key}")\n'}, "first")  # into an empty repo
    out = _rejected(_push(clone, "origin", "main"))
    assert "push rejected by the server: 1 secret" in out and "src/app.py:1:" in out and head[:12] in out
    assert key not in out and "This server allows no bypass" in out
    # The key was read from git's quarantine, which the rejection threw away.
    assert subprocess.run(["git", "cat-file", "-e", head], cwd=server).returncode != 0
    assert git(server, "for-each-ref") == ""


def test_clean_push_is_accepted(clone: Path, server: Path) -> None:
    head = _commit(clone, {"app.py": 'client = genai.Client(api_key=os.environ["GEMINI_API_KEY"])\n'})
    proc = _push(clone, "origin", "main")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no secrets in what this push brings: 1 new commit" in proc.stderr
    assert git(server, "rev-parse", "main") == head


def test_a_key_buried_in_the_middle_of_many_commits_is_found(clone: Path, server: Path) -> None:
    for n in range(5):
        _commit(clone, {"notes.txt": f"{n}\n"}, f"c{n}")
    _commit(clone, {"deploy/run.sh": f"export GEMINI_API_KEY={google_key()}\n"}, "key")
    _commit(clone, {"deploy/run.sh": 'export GEMINI_API_KEY="$(cat /run/secrets/gemini)"\n'}, "removed again")
    out = _rejected(_push(clone, "origin", "main"))
    assert "deploy/run.sh:1:" in out and "1 secret" in out


# --- refs: new branches, tags, deletions, force pushes --------------------------------------------

def test_new_branch_is_scanned_for_its_new_commits_only(clone: Path, server: Path) -> None:
    old = google_key()
    _commit(clone, {"old.py": f'OLD = "{old}"\n'}, "published before the hook")
    # On the server already (as if from before the hook was installed): never rescanned.
    hook = server / "hooks" / "pre-receive"
    hook.rename(hook.with_suffix(".off"))
    assert _push(clone, "-q", "origin", "main").returncode == 0
    hook.with_suffix(".off").rename(hook)
    git(clone, "checkout", "-q", "-b", "feature")
    proc = _push(clone, "origin", "feature")  # nothing new: the same commits under another name
    assert proc.returncode == 0 and "brings no commit the server does not have" in proc.stderr, proc.stderr
    _commit(clone, {"new.py": f'NEW = "{google_key()}"\n'}, "new key")
    out = _rejected(_push(clone, "origin", "feature"))
    assert "new.py:1:" in out and "old.py" not in out and "1 secret" in out


def test_branch_deletion_is_accepted(clone: Path, server: Path) -> None:
    git(clone, "branch", "gone")
    assert _push(clone, "-q", "origin", "gone").returncode == 0
    proc = _push(clone, "origin", ":gone")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert git(server, "branch", "--list", "gone") == ""


def test_force_push_is_judged_on_the_commits_it_brings(clone: Path, server: Path) -> None:
    _commit(clone, {"a.txt": "a\n"}, "a")
    assert _push(clone, "-q", "origin", "main").returncode == 0
    git(clone, "reset", "-q", "--hard", "HEAD~1")
    _commit(clone, {"cfg.yaml": f"api_key: {google_key()}\n"}, "rewritten with a key")
    out = _rejected(_push(clone, "--force", "origin", "main"))
    assert "cfg.yaml:1:" in out
    git(clone, "reset", "-q", "--hard", "HEAD~1")
    _commit(clone, {"cfg.yaml": "api_key: ${GEMINI_API_KEY}\n"}, "rewritten clean")
    proc = _push(clone, "--force", "origin", "main")
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("annotated", [False, True], ids=["lightweight", "annotated"])
def test_tag_of_a_new_commit_with_a_key_is_rejected(clone: Path, server: Path, annotated: bool) -> None:
    git(clone, "checkout", "-q", "--detach")
    _commit(clone, {"k.go": f'var key = "{google_key()}"\n'}, "only on a tag")
    git(clone, "tag", *(["-a", "-m", "release"] if annotated else []), "v1")
    out = _rejected(_push(clone, "origin", "v1"))
    assert "k.go:1:" in out
    assert git(server, "tag", "--list") == ""


def test_tag_of_a_blob_holding_a_key_is_rejected(clone: Path, server: Path) -> None:
    blob = subprocess.run(["git", "hash-object", "-w", "--stdin"], cwd=clone, input=f'KEY = "{google_key()}"\n',
                          capture_output=True, text=True, check=True).stdout.strip()
    git(clone, "tag", "-a", "-m", "keys", "keys", blob)
    out = _rejected(_push(clone, "origin", "keys"))
    assert "refs/tags/keys" in out and "1 secret" in out


# --- the policy is the server's ------------------------------------------------------------------

@pytest.mark.parametrize("files", [
    pytest.param(lambda k: {".keysentry.toml": 'exclude = ["**"]\n'}, id="dotfile excludes everything"),
    pytest.param(lambda k: {"pyproject.toml": '[tool.keysentry]\ndisable = ["google-api-key", "hardcoded-api-key"]\n'},
                 id="pyproject disables the rules"),
    pytest.param(lambda k: {".keysentry.toml": 'allow = [""]\n'}, id="allow everything"),
    pytest.param(lambda k: {".keysentry.toml": "max-file-size = 1\n"}, id="tiny size limit"),
], )
def test_a_pushed_config_is_never_the_servers_policy(clone: Path, server: Path, files: object) -> None:
    key = google_key()
    pushed = files(key)  # type: ignore[operator]
    _commit(clone, {**pushed, "app.py": f'API_KEY = "{key}"\n'})
    out = _rejected(_push(clone, "origin", "main"))
    assert "app.py:1:" in out


def test_an_inline_marker_the_push_adds_silences_nothing(clone: Path, server: Path) -> None:
    _commit(clone, {"app.py": f'API_KEY = "{google_key()}"  # keysentry:allow\n'})
    out = _rejected(_push(clone, "origin", "main"))
    assert "app.py:1:" in out


def test_a_pushed_baseline_is_never_the_servers(clone: Path, server: Path) -> None:
    _commit(clone, {"app.py": f'API_KEY = "{google_key()}"\n'})
    assert main(["baseline", "--history", str(clone)]) == 0  # holds the new key's fingerprint
    git(clone, "add", "-A")
    git(clone, "commit", "-q", "--no-verify", "-m", "accept my own key")
    out = _rejected(_push(clone, "origin", "main"))
    assert "app.py:1:" in out


def test_the_servers_config_and_baseline_apply(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    server = _serve(tmp_path, 'exclude = ["fixtures/**"]\n[pre-receive]\nbaseline = "server-baseline.json"\n')
    clone = _clone(server)
    accepted = google_key()
    _commit(clone, {"fixtures/data.py": f'KEY = "{google_key()}"\n', "legacy.py": f'KEY = "{accepted}"\n'})
    # The administrators accept legacy.py's key in the server's own baseline.
    (tmp_path / "probe").mkdir()
    (tmp_path / "probe" / "legacy.py").write_text(f'KEY = "{accepted}"\n')
    assert main(["baseline", str(tmp_path / "probe"), "--output", str(tmp_path / "server-baseline.json")]) == 0
    proc = _push(clone, "origin", "main")
    assert proc.returncode == 0, proc.stdout + proc.stderr


# --- bypass with a reason, only where the server allows it -----------------------------------------

def _log(server: Path) -> list[dict[str, object]]:
    path = server / receive.DEFAULT_LOG
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_bypass_with_a_reason_is_accepted_and_logged_where_allowed(tmp_path: Path) -> None:
    server = _serve(tmp_path, "[pre-receive]\nallow-bypass = true\n")
    clone = _clone(server)
    key = google_key()
    head = _commit(clone, {"app.py": f'API_KEY = "{key}"\n'})
    out = _rejected(_push(clone, "origin", "main"))
    assert 'git push -o keysentry.bypass="' in out  # the rejection says how
    proc = _push(clone, "-o", "keysentry.bypass=test fixture, rotated already", "origin", "main")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "push accepted with a bypass (1 finding let through)" in proc.stderr
    assert git(server, "rev-parse", "main") == head
    [entry] = _log(server)
    assert entry["event"] == "bypass" and entry["reason"] == "test fixture, rotated already"
    assert entry["refs"] == [{"ref": "refs/heads/main", "old": ZERO, "new": head}]
    assert entry["pusher"] and entry["scanned"] is True and entry["policy"] == str(tmp_path / "keysentry-server.toml")
    [finding] = entry["findings"]  # type: ignore[misc]
    assert finding["rule_id"] == "google-api-key" and finding["path"] == "app.py" and finding["commit"] == head
    assert key not in (server / receive.DEFAULT_LOG).read_text()


def test_a_bypass_on_a_clean_push_is_not_logged(tmp_path: Path) -> None:
    server = _serve(tmp_path, "[pre-receive]\nallow-bypass = true\n")
    clone = _clone(server)
    _commit(clone, {"app.py": "DEBUG = True\n"})
    proc = _push(clone, "-o", "keysentry.bypass=just in case", "origin", "main")
    assert proc.returncode == 0 and "was not needed (nothing was logged)" in proc.stderr, proc.stderr
    assert _log(server) == []


def test_bypass_is_refused_where_the_server_does_not_allow_it(clone: Path, server: Path) -> None:
    _commit(clone, {"app.py": f'API_KEY = "{google_key()}"\n'})
    out = _rejected(_push(clone, "-o", "keysentry.bypass=please", "origin", "main"))
    assert "keysentry.bypass was ignored: this server does not allow bypassing" in out
    assert _log(server) == []


def test_bypass_needs_a_reason(tmp_path: Path) -> None:
    server = _serve(tmp_path, "[pre-receive]\nallow-bypass = true\n")
    clone = _clone(server)
    _commit(clone, {"app.py": f'API_KEY = "{google_key()}"\n'})
    out = _rejected(_push(clone, "-o", "keysentry.bypass=", "origin", "main"))
    assert "a bypass needs a reason" in out and _log(server) == []


def test_bypass_that_cannot_be_logged_is_refused(tmp_path: Path) -> None:
    server = _serve(tmp_path, '[pre-receive]\nallow-bypass = true\naudit-log = "no/such/folder/audit.log"\n')
    clone = _clone(server)
    _commit(clone, {"app.py": f'API_KEY = "{google_key()}"\n'})
    out = _rejected(_push(clone, "-o", "keysentry.bypass=urgent", "origin", "main"))
    assert "could not be recorded in the server's audit log" in out


# --- the time budget ---------------------------------------------------------------------------------

@pytest.mark.parametrize("fail", ["closed", "open"])
def test_out_of_time_fails_as_the_server_chose(tmp_path: Path, fail: str) -> None:
    audit = tmp_path / "audit.jsonl"
    server = _serve(tmp_path, f'[pre-receive]\ntimeout = 0.001\nfail = "{fail}"\naudit-log = "{audit}"\n')
    clone = _clone(server)
    _commit(clone, {"app.py": "DEBUG = True\n"})
    proc = _push(clone, "origin", "main")
    if fail == "closed":
        out = _rejected(proc)
        assert "did not finish within 0.001 s" in out and "fails closed" in out
        assert not audit.exists()
    else:
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "accepted unscanned" in proc.stderr
        [entry] = [json.loads(line) for line in audit.read_text().splitlines()]
        assert entry["event"] == "unscanned" and entry["scanned"] is False


def test_a_push_of_a_thousand_new_commits_stays_within_the_default_budget(clone: Path, server: Path) -> None:
    # fast-import: a thousand commits in one process, each adding a file; one holds a key.
    key_at = 700
    stream = []
    for n in range(1000):
        text = f'KEY = "{google_key()}"\n' if n == key_at else f"value = {n}\n"
        data = text.encode()
        stream.append(f"commit refs/heads/main\ncommitter Ada <ada@example.com> {1700000000 + n} +0000\n"
                      f"data 4\nc{n:02}\n" + ("from refs/heads/main^0\n" if n == 0 else "")
                      + f"M 100644 inline f{n}.py\ndata {len(data)}\n{text}\n")
    subprocess.run(["git", "fast-import", "--quiet"], cwd=clone, input="".join(stream), text=True, check=True,
                   env=_env())
    git(clone, "reset", "-q", "--hard", "main")
    started = time.monotonic()
    out = _rejected(_push(clone, "origin", "main"))
    elapsed = time.monotonic() - started
    # Rejected for the key, not for the time: the scan finished within the 5 s budget.
    assert f"f{key_at}.py:1:" in out and "1 secret" in out and "did not finish" not in out, out
    assert elapsed < 60  # the whole push, however loaded the machine; the budget is the hook's own
    git(clone, "reset", "-q", "--hard", f"main~{1000 - key_at}")  # the commits before the key
    proc = _push(clone, "origin", "main")
    assert proc.returncode == 0 and "no secrets in what this push brings: 700 new commits" in proc.stderr, proc.stderr


# --- install-hooks --server ----------------------------------------------------------------------------

def test_install_server_writes_the_hook_and_lets_pushes_carry_options(server: Path) -> None:
    hook = server / "hooks" / "pre-receive"
    assert install.MARKER in hook.read_text() and hook.stat().st_mode & 0o111
    assert git(server, "config", "--get", "receive.advertisePushOptions") == "true"
    assert not (server / "hooks" / "pre-commit").exists()


def test_install_server_records_the_config(tmp_path: Path) -> None:
    server = _serve(tmp_path, "[pre-receive]\ntimeout = 9\n")
    assert f"server_config={tmp_path / 'keysentry-server.toml'}" in (server / "hooks" / "pre-receive").read_text()


@pytest.mark.parametrize("config, message", [
    ("[pre-receive]\ntimeout = 0\n", "timeout must be a number of seconds"),
    ('[pre-receive]\nfail = "maybe"\n', "'fail' must be"),
    ("[pre-receive]\nallow-bypass = 'yes'\n", "'allow-bypass' must be true or false"),
    ("[pre-receive]\nbypass = true\n", "unknown key 'bypass'"),
    ('exclud = ["x"]\n', "unknown key 'exclud'"),
])
def test_install_server_refuses_a_broken_config(tmp_path: Path, config: str, message: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    server = tmp_path / "s.git"
    git(tmp_path, "init", "-q", "--bare", str(server))
    (tmp_path / "c.toml").write_text(config)
    assert main(["install-hooks", "--server", str(server), "--config", str(tmp_path / "c.toml")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
    assert not (server / "hooks" / "pre-receive").exists()


def test_install_server_needs_a_bare_repository(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["install-hooks", "--server", str(repo)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not a bare repository" in err


def test_install_server_keeps_a_foreign_pre_receive_hook(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    server = tmp_path / "s.git"
    git(tmp_path, "init", "-q", "--bare", str(server))
    (server / "hooks" / "pre-receive").write_text("#!/bin/sh\nexit 0\n")
    assert main(["install-hooks", "--server", str(server)]) == 2
    assert "did not write it" in capsys.readouterr().err
    assert main(["install-hooks", "--server", "--force", str(server)]) == 0
    assert (server / "hooks" / "pre-receive.keysentry-backup").read_text() == "#!/bin/sh\nexit 0\n"


def test_config_without_server_is_a_usage_error(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["install-hooks", "--config", "x.toml", str(repo)]) == 2
    assert "--config is for --server" in capsys.readouterr().err


# --- the hook's input ------------------------------------------------------------------------------

@pytest.mark.parametrize("line", [f"--all {ZERO} refs/heads/main", f"{'a' * 40} HEAD refs/heads/main",
                                  f"{'a' * 40} {'b' * 40}", f"{'a' * 39} {'b' * 40} refs/heads/x"])
def test_pre_receive_input_must_hold_object_ids(line: str) -> None:
    with pytest.raises(UsageError):
        receive.parse_updates(line + "\n", 40)


def test_push_options_name_the_bypass() -> None:
    env = {"GIT_PUSH_OPTION_COUNT": "2", "GIT_PUSH_OPTION_0": "ci.skip", "GIT_PUSH_OPTION_1": "keysentry.bypass= why "}
    assert receive.bypass_reason(env) == "why"
    assert receive.bypass_reason({"GIT_PUSH_OPTION_COUNT": "1", "GIT_PUSH_OPTION_0": "keysentry.bypass"}) == ""
    assert receive.bypass_reason({"GIT_PUSH_OPTION_COUNT": "x"}) is None
    assert receive.bypass_reason({}) is None


def test_load_policy_reads_relative_files_beside_the_config(tmp_path: Path) -> None:
    (tmp_path / "s.toml").write_text('disable = ["dotenv-file"]\n[pre-receive]\naudit-log = "log/a.jsonl"\n'
                                     'fail = "open"\ntimeout = 2.5\n')
    policy = receive.load_policy(tmp_path / "s.toml")
    assert policy.audit_log == tmp_path / "log" / "a.jsonl" and policy.fail == "open" and policy.timeout == 2.5
    assert policy.scan.disable == ("dotenv-file",) and not policy.allow_bypass
    with pytest.raises(ConfigError):
        receive.load_policy(tmp_path / "missing.toml")


def test_sha256_server_and_a_branch_name_that_is_not_utf8(tmp_path: Path) -> None:
    server = tmp_path / "s.git"
    git(tmp_path, "init", "-q", "--bare", "--object-format=sha256", "-b", "main", str(server))
    assert main(["install-hooks", "--server", str(server)]) == 0
    clone = tmp_path / "c"
    git(tmp_path, "init", "-q", "--object-format=sha256", "-b", "main", str(clone))
    git(clone, "remote", "add", "origin", str(server))
    _commit(clone, {"a.py": f'KEY = "{google_key()}"\n'})
    subprocess.run([b"git", b"branch", b"caf\xe9"], cwd=clone, check=True, env=_env())
    proc = subprocess.run([b"git", b"push", b"origin", b"caf\xe9"], cwd=clone, env=_env(), capture_output=True)
    out = (proc.stdout + proc.stderr).decode("utf-8", "replace")
    assert proc.returncode != 0 and "push rejected by the server: 1 secret" in out and "a.py:1:" in out, out
    assert "Traceback" not in out


def test_a_push_widening_the_repositorys_own_exemptions_is_rejected_for_it(clone: Path, server: Path) -> None:
    # The server's policy stays the server's, but the next `--range` gate of this repository would
    # read the pushed config: the widening itself is what a reviewer must see (suppression-change).
    _commit(clone, {".keysentry.toml": 'exclude = ["**"]\n', "app.py": "print('hello')\n"})
    out = _rejected(_push(clone, "origin", "main"))
    assert "suppression-change" in out and ".keysentry.toml" in out


def test_a_new_branch_widening_the_exemptions_is_rejected_against_the_default_branch(clone: Path,
                                                                                      server: Path) -> None:
    git(clone, "checkout", "-q", "-b", "feature")
    _commit(clone, {"pyproject.toml": '[tool.keysentry]\ndisable = ["google-api-key"]\n'})
    out = _rejected(_push(clone, "origin", "feature"))
    assert "suppression-change" in out and "pyproject.toml" in out


def test_the_servers_config_can_turn_the_suppression_check_off(tmp_path: Path) -> None:
    clone = _clone(_serve(tmp_path, 'disable = ["suppression-change"]\n'))
    _commit(clone, {".keysentry.toml": 'exclude = ["**"]\n'})
    proc = _push(clone, "origin", "main")
    assert proc.returncode == 0, proc.stdout + proc.stderr
