"""Attack rows for the hostile suites (see tests/hostile.py): reports and the terminal.

A report is read by a person at a terminal: a file name, an author or a secret chosen by whoever
wrote the repository must neither drive that terminal nor forge a line of the report, a key in a
name must not be printed in full, and the advice printed must work as written.
"""
from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from tests.conftest import children_cpu_seconds, git, google_key
from tests.hostile import new_repo, KEYSENTRY, Attack, keysentry, no_traceback

# Raw bytes a hostile name could use: ESC (terminal sequences), BEL, CR (overwrite a line), LF
# (forge one), and the C1 CSI that some terminals honour like ESC [.
_CONTROLS = (b"\x1b", b"\x07", b"\r", b"\x9b", "\u009b".encode())


def _commit(repo: Path, message: str, author: str = "Ada") -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message, env={"GIT_AUTHOR_NAME": author})


def _write(repo: Path, name: bytes, text: str) -> None:
    path = os.path.join(os.fsencode(repo), name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        fh.write(text)


def _out(proc: subprocess.CompletedProcess[bytes], code: int = 1) -> bytes:
    no_traceback(proc)
    assert proc.returncode == code, (proc.returncode, proc.stderr.decode("utf-8", "replace"))
    return proc.stdout


def _assert_no_controls(out: bytes) -> None:
    for byte in _CONTROLS:
        assert byte not in out, (byte, out.decode("utf-8", "replace"))


# --- 16: control characters in names ---------------------------------------------------------------

_FORGED = "\nkeysentry: no secrets found\n"
_HOSTILE_NAME = b"evil\x1b]0;pwned\x07\x1b[2J\rcover" + _FORGED.encode() + b".py"


def _names_drive_no_terminal(tmp_path: Path) -> None:
    """A file name and an author with ESC, BEL, CR and LF: every format shows them escaped."""
    repo = new_repo(tmp_path)
    _write(repo, _HOSTILE_NAME, f'KEY = "{google_key()}"\n')
    _commit(repo, "add", author="Eve\x1b[8m\x07\rhidden")
    for args in (["scan", "."], ["scan", "--history", "."]):
        out = _out(keysentry(*args, cwd=repo))
        _assert_no_controls(out)
        assert b"keysentry: no secrets found" not in out.splitlines()  # no forged line
        assert rb"evil\x1b]0;pwned\x07\x1b[2J\rcover\nkeysentry" in out
    history = _out(keysentry("scan", "--history", ".", cwd=repo))
    assert rb"by Eve\x1b[8m\x07\rhidden" in history
    sarif = json.loads(_out(keysentry("scan", "--history", ".", "--format", "sarif", cwd=repo)))
    for result in sarif["runs"][0]["results"]:
        assert not re.search("[\x00-\x1f\x7f-\x9f]", result["message"]["text"])


def _secret_drives_no_terminal(tmp_path: Path) -> None:
    """A literal holding ESC sequences, redacted or shown in full, is shown escaped."""
    repo = new_repo(tmp_path)
    (repo / "app.py").write_text('api_key = "\x1b]0;pwn\x07Qw7rT9z\x1b[2JLp2XvB8nM"\n')
    for extra in ([], ["--show-secrets"]):
        out = _out(keysentry("scan", ".", *extra, cwd=repo))
        _assert_no_controls(out)
        assert b"hardcoded-api-key" in out
        sarif = json.loads(_out(keysentry("scan", ".", "--format", "sarif", *extra, cwd=repo)))
        (result,) = sarif["runs"][0]["results"]
        assert not re.search("[\x00-\x1f\x7f-\x9f]", result["message"]["text"]), result["message"]["text"]


def _shell_word(line: str, flag: str) -> str:
    """What the shell makes of the word after FLAG in LINE (bash parses it, as the user's would)."""
    word = line.split(flag + " ", 1)[1].split(" --")[0]
    proc = subprocess.run(["bash", "-c", f"printf '%s' {word}"], capture_output=True, check=True)
    return os.fsdecode(proc.stdout)


def _filter_repo_path_with_a_newline(tmp_path: Path) -> None:
    """A committed .env under a folder named with ESC, CR, a quote and a space: the filter-repo command
    stays one printable line and its --path names exactly that file when pasted into a shell. (A
    newline in the name: see test_shell_word_is_one_printable_line_the_shell_reads_back.)"""
    repo = new_repo(tmp_path)
    folder = b"conf \x1b[31mit's\rig"
    _write(repo, folder + b"/.env", "DATABASE_PASSWORD=Zx8vQ2mN7pL4rT6y\n")
    _commit(repo, "add env")
    git(repo, "rm", "-q", "-r", os.fsdecode(folder))
    _commit(repo, "remove env")
    out = _out(keysentry("scan", "--history", ".", cwd=repo))
    _assert_no_controls(out)
    (line,) = [ln for ln in out.decode().splitlines() if "git filter-repo" in ln and "--path" in ln]
    assert _shell_word(line, "--path") == os.fsdecode(folder + b"/.env")


# --- 20: the cursor after Ctrl-C or SIGTERM during the progress bar --------------------------------

def _big_history(repo: Path, blobs: int = 3000, size: int = 16_000) -> None:
    """Many distinct blobs in one commit, written with fast-import (seconds, not minutes), stored
    as they are (zlib level 0, no deltas: a pack git reads as any other; random text neither
    compresses nor deltifies well, and trying took 2.9 of the row's 3.5 CPU-s, now 0.7)."""
    chunks = [b"commit refs/heads/main\ncommitter Ada <ada@example.com> 1700000000 +0000\ndata 4\nbig\n"]
    for i in range(blobs):
        body = (f"# file {i}\n".encode() + os.urandom(size // 2).hex().encode())[:size]
        chunks.append(b"M 644 inline f%05d.txt\ndata %d\n%s\n" % (i, len(body), body))
    subprocess.run(["git", "-c", "pack.compression=0", "fast-import", "--quiet", "--depth=0"], cwd=repo,
                   input=b"".join(chunks), check=True)
    # No checkout: a history scan reads the commits, and writing the 48 MB of files out cost 2 CPU-s.


def _read_until(fd: int, wanted: bytes, seen: bytearray, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while wanted not in seen and time.monotonic() < deadline:
        if select.select([fd], [], [], 0.1)[0]:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the terminal is gone once the process exits
                break
            if not chunk:
                break
            seen.extend(chunk)
    return wanted in seen


def _signal_during_the_bar(signum: int, codes: tuple[int, ...]) -> Callable[[Path], None]:
    """A real `keysentry scan --history` on a terminal, signalled (the whole foreground process group,
    as Ctrl-C does) while its bar is shown: the cursor is shown again after it was hidden."""
    def run(tmp_path: Path) -> None:
        repo = new_repo(tmp_path)
        _big_history(repo)
        controller, terminal = pty.openpty()
        env = {**{k: v for k, v in os.environ.items() if k != "NO_COLOR"}, "TERM": "xterm-256color"}
        proc = subprocess.Popen([KEYSENTRY, "scan", "--history", "--jobs", "2", str(repo)], stdin=terminal,
                                stdout=terminal, stderr=terminal, env=env, start_new_session=True)
        os.close(terminal)
        seen = bytearray()
        try:
            assert _read_until(controller, b"\x1b[?25l", seen, 30), seen.decode("utf-8", "replace")
            os.killpg(proc.pid, signum)
            code = proc.wait(timeout=30)
            _read_until(controller, b"\0never", seen, 1)
        finally:
            if proc.poll() is None:
                proc.kill()
            os.close(controller)
        text = seen.decode("utf-8", "replace")
        assert code in codes, (code, text)  # interrupted during the scan, not after it
        assert seen.rfind(b"\x1b[?25h") > seen.rfind(b"\x1b[?25l"), text[-400:]
        assert "Traceback" not in text and "Exception ignored" not in text, text
    return run


# --- 27: keys in names -------------------------------------------------------------------------

def _key_in_names_is_redacted(tmp_path: Path) -> None:
    """A key in a file name and another in the author's name: redacted in text, JSON and SARIF,
    shown in full with --show-secrets."""
    repo = new_repo(tmp_path)
    in_name, in_author = google_key(), google_key()
    (repo / f"config-{in_name}.json").write_text(json.dumps({"key": in_name, "backup": in_author}))
    _commit(repo, "add config", author=f"Mallory {in_author}")
    for fmt in ("text", "json", "sarif"):
        for mode in ([], ["--history"]):
            out = _out(keysentry("scan", *mode, ".", "--format", fmt, cwd=repo)).decode()
            assert in_name not in out and in_author not in out, (fmt, mode, out)
            assert f"config-{in_name[:4]}…{in_name[-2:]}.json" in out or fmt == "sarif"
        shown = _out(keysentry("scan", "--history", ".", "--format", fmt, "--show-secrets", cwd=repo)).decode()
        assert in_name in shown and in_author in shown
    sarif = json.loads(_out(keysentry("scan", "--history", ".", "--format", "sarif", cwd=repo)))
    for result in sarif["runs"][0]["results"]:
        assert in_name not in json.dumps(result) and "config-AIza%E2%80%A6" in json.dumps(result)


# --- 14: the text report's speed -------------------------------------------------------------------

def _many_findings_text_not_slower_than_json(tmp_path: Path) -> None:
    """20,000 keys (in 20 files: one file lists at most MAX_MATCHES, issue 23): the text report takes
    about as long as the JSON one (same scan). Timed in the CPU time the scan's processes use, which
    other processes on the machine do not inflate; a second look only when the first is over the bound."""
    repo = new_repo(tmp_path)
    for n in range(20):
        (repo / f"keys{n:02d}.txt").write_text("".join(f"{google_key()}\n" for _ in range(1_000)))

    def timed(fmt: str) -> float:
        before = children_cpu_seconds()
        out = _out(keysentry("scan", ".", "--format", fmt, "--jobs", "1", cwd=repo, timeout=120))
        spent = children_cpu_seconds() - before
        assert out.count(b"AIza") >= 20_000
        return spent

    as_json, as_text = timed("json"), timed("text")
    if as_text >= 2 * as_json:
        as_json, as_text = min(as_json, timed("json")), min(as_text, timed("text"))
    assert as_text < 2 * as_json, (as_text, as_json)


# --- 23: files skipped for their size --------------------------------------------------------------

def _large_files_are_named(tmp_path: Path) -> None:
    repo = new_repo(tmp_path)
    (repo / "app.py").write_text("print('hi')\n")
    for name in ("big.bin", "huge.dat"):
        (repo / name).write_text(f'KEY = "{google_key()}"\n' + "x" * 4000)
    out = _out(keysentry("scan", ".", "--max-file-size", "1KB", cwd=repo), code=0).decode()
    assert re.search(r"skipped: 2 over the size limit \((big\.bin, huge\.dat|huge\.dat, big\.bin)\)", out), out


# --- also seen: advice that does not work -----------------------------------------------------------

def _history_key(tmp_path: Path) -> tuple[Path, str]:
    return _history_key_on(new_repo(tmp_path))


def _purge_lists_the_replace_text_lines(tmp_path: Path) -> None:
    """With --show-secrets the report prints the replace-text lines to use; without, it says so."""
    repo, key = _history_key(tmp_path)
    shown = _out(keysentry("scan", "--history", ".", "--show-secrets", cwd=repo)).decode().splitlines()
    assert f"{key}==>REMOVED" in shown
    hidden = _out(keysentry("scan", "--history", ".", cwd=repo)).decode()
    assert key not in hidden and "--show-secrets" in hidden and "==>REMOVED" in hidden


def _range_advice_rewrites_only_the_range(tmp_path: Path) -> None:
    """An unmerged branch: amend or rebase its commits, never filter-repo the whole repository."""
    repo = new_repo(tmp_path)
    (repo / "README").write_text("hello\n")
    _commit(repo, "start")
    git(repo, "checkout", "-q", "-b", "feature")
    _history_key_on(repo)
    first = git(repo, "rev-list", "--reverse", "main..feature").split()[0]
    out = _out(keysentry("scan", "--range", "main..feature", ".", cwd=repo)).decode()
    assert "filter-repo" not in out
    assert f"git rebase -i {first[:12]}^" in out and "rotate" in out


def _history_key_on(repo: Path) -> tuple[Path, str]:
    key = google_key()
    (repo / "app.py").write_text(f'KEY = "{key}"\n')
    _commit(repo, "add key")
    (repo / "app.py").write_text('import os\nKEY = os.environ["GEMINI_API_KEY"]\n')
    _commit(repo, "read it from the environment")
    return repo, key


def _notebook_output_is_cleared(tmp_path: Path) -> None:
    """A key printed in a notebook's output cell: the fix says to clear the outputs."""
    repo = new_repo(tmp_path)
    cell = {"cell_type": "code", "execution_count": 1, "metadata": {}, "source": ["print(client)"],
            "outputs": [{"output_type": "stream", "name": "stdout", "text": [f"Client(key={google_key()})\n"]}]}
    notebook = {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (repo / "my notebook.ipynb").write_text(json.dumps(notebook, indent=1))
    out = _out(keysentry("scan", ".", cwd=repo)).decode()
    assert "jupyter nbconvert --clear-output --inplace 'my notebook.ipynb'" in out


REPOS: list[Attack] = [
    Attack("control-chars-in-names", "16", _names_drive_no_terminal),
    Attack("filter-repo-path-with-controls", "16", _filter_repo_path_with_a_newline),
    Attack("key-in-file-and-author-name", "27", _key_in_names_is_redacted),
    Attack("history-purge-lists-replace-text", "also: advice", _purge_lists_the_replace_text_lines),
    Attack("range-advice-rebases-the-range", "also: advice", _range_advice_rewrites_only_the_range),
]
INPUTS: list[Attack] = [
    Attack("escape-sequences-in-a-secret", "16", _secret_drives_no_terminal),
    Attack("20k-findings-as-text", "14", _many_findings_text_not_slower_than_json),
    Attack("large-files-named-in-summary", "23", _large_files_are_named),
    Attack("notebook-output-cell-advice", "also: advice", _notebook_output_is_cleared),
    Attack("ctrl-c-during-progress-bar", "20", _signal_during_the_bar(signal.SIGINT, (130,))),
    # 143 once the process turns SIGTERM into a quiet exit (item 19), killed by it (-15) until then.
    Attack("sigterm-during-progress-bar", "20", _signal_during_the_bar(signal.SIGTERM, (143, -signal.SIGTERM))),
]
