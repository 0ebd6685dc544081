"""Attack rows for the hostile suites (see tests/hostile.py): the CI formats and the GitHub Action.

In CI a report is read by a machine as well as a person: GitHub runs every log line that starts with
`::` as a command, renders the job summary as Markdown and HTML, and reads $GITHUB_OUTPUT as
name/value pairs. A name chosen by whoever wrote the repository (or a pull request) must not add a
command, a column, a tag or an output of its own.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import GIT_ENV, git, google_key
from tests.hostile import Attack, keysentry, new_repo, no_traceback

_COMMAND_NAME = b"x\n::add-mask::everything\n::stop-commands::pwned\n,line=1::.py"
_MARKUP_NAME = b"<script>alert(1)<\\script>|`x`|[a](javascript:alert(1)).py"


def _write(repo: Path, name: bytes, text: str) -> None:
    with open(os.path.join(os.fsencode(repo), name), "w") as fh:
        fh.write(text)


def _commit(repo: Path) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "files")


def _names_add_no_workflow_command(tmp_path: Path) -> None:
    """A file name with newlines and `::` makes one annotation, never a command of its own."""
    repo = new_repo(tmp_path)
    _write(repo, _COMMAND_NAME, f'KEY = "{google_key()}"\n')
    _write(repo, b"plain.py", f'KEY = "{google_key()}"\n')
    for args in ((".",), ("--history", ".")):
        if args[0] == "--history":
            _commit(repo)
        proc = keysentry("scan", *args, "--format", "github", cwd=repo)
        no_traceback(proc)
        assert proc.returncode == 1
        lines = proc.stdout.decode().splitlines()
        assert len(lines) == 2 and all(line.startswith("::error file=") for line in lines), lines
        assert not any("::add-mask::" in line or "::stop-commands::" in line for line in lines)


def _names_add_no_markup_to_the_summary(tmp_path: Path) -> None:
    """A file name with HTML, pipes, backticks and a link stays text in one table cell."""
    repo = new_repo(tmp_path)
    _write(repo, _MARKUP_NAME, f'KEY = "{google_key()}"\n')
    proc = keysentry("scan", ".", "--format", "markdown", cwd=repo)
    no_traceback(proc)
    out = proc.stdout.decode()
    assert "<script>" not in out and "](javascript:" not in out
    (row,) = [line for line in out.splitlines() if "script" in line]
    # Four cells (severity, rule, location, secret): an unescaped `|` would open more.
    assert len(row.replace("\\|", "").strip().strip("|").split("|")) == 4, row


def _names_stay_exact_in_the_gitlab_report(tmp_path: Path) -> None:
    repo = new_repo(tmp_path)
    _write(repo, _COMMAND_NAME, f'KEY = "{google_key()}"\n')
    proc = keysentry("scan", ".", "--format", "gitlab", cwd=repo)
    no_traceback(proc)
    (vulnerability,) = json.loads(proc.stdout)["vulnerabilities"]
    assert vulnerability["location"]["file"] == os.fsdecode(_COMMAND_NAME)


def _input_adds_no_action_output(tmp_path: Path) -> None:
    """A sarif-file input holding a newline cannot set another output: values are delimited."""
    repo = new_repo(tmp_path)
    (repo / "app.py").write_text(f'KEY = "{google_key()}"\n')
    _commit(repo)
    out_file, summary = tmp_path / "out.txt", tmp_path / "summary.md"
    out_file.write_text("")
    env = {**os.environ, **GIT_ENV, "GITHUB_EVENT_NAME": "workflow_dispatch", "GITHUB_WORKSPACE": str(repo),
           "GITHUB_OUTPUT": str(out_file), "GITHUB_STEP_SUMMARY": str(summary),
           "INPUT_SARIF_FILE": "report.sarif\nfindings=0\nmode=none"}
    proc = subprocess.run([str(Path(sys.executable).with_name("keysentry")), "github-action"], cwd=repo, env=env,
                          capture_output=True, timeout=60)
    no_traceback(proc)
    assert proc.returncode == 1, proc.stderr
    text = out_file.read_text()
    assert "\nfindings=0\n" in text  # inside the sarif-file value...
    lines = text.splitlines()
    starts = [line for line in lines if "<<" in line]
    assert [line.split("<<")[0] for line in starts] == ["sarif-file", "findings", "mode"]  # ...not an output
    assert lines[lines.index(starts[1]) + 1] == "1"


REPOS: list[Attack] = [
    Attack("ci-names-add-no-workflow-command", "16", _names_add_no_workflow_command),
    Attack("ci-names-add-no-summary-markup", "16", _names_add_no_markup_to_the_summary),
    Attack("ci-names-exact-in-gitlab-report", "16", _names_stay_exact_in_the_gitlab_report),
]
INPUTS: list[Attack] = [
    Attack("action-input-adds-no-output", "also: ci", _input_adds_no_action_output),
]
