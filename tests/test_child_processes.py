"""Every process keysentry starts, accounted for (issue 17 §0): git, and Python only isolated.

An audit, a hook or a Dask worker runs in a folder whose files may be anybody's; a Python started
there with that folder on sys.path imports the folder's `scanner` in place of keysentry's. The
behaviour is proved end to end elsewhere, one row per way in (tests/attacks/audit.py: audits and a
parallel scan inside a hostile checkout; tests/attacks/hooks.py: the plain hooks;
test_audit_cluster.py: a LocalCluster's workers). This file makes sure that list stays complete: a new place that starts a process, or a
Python started any other way, fails here until it is isolated and given its own row.
"""
from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from scanner import audit

PACKAGE = Path(__file__).resolve().parents[1] / "scanner"
_STARTERS = {("subprocess", "run"), ("subprocess", "Popen"), ("subprocess", "call"), ("subprocess", "check_call"),
             ("subprocess", "check_output"), ("os", "system"), ("os", "popen"), ("os", "posix_spawn"),
             ("os", "posix_spawnp")}
# What each place that starts a process runs: git (through gitcmd.argv, or a literal "git"), or
# the audit's repository process (audit.child_command, isolated). Nothing else.
# `keysentry fix` adds gofmt on standard input (fix.code.gofmt_command) and git-filter-repo as an
# isolated module of this Python inside the mirror clone it made (fix.history.filter_repo_command).
_ALLOWED_ARGV = re.compile(r"^(gitcmd\.argv\(|argv\(|\['git', |child_command\(\)|gofmt_command\(|filter_repo_command\()")


def _starts(tree: ast.AST) -> list[ast.Call]:
    calls = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and isinstance(node.func.value, ast.Name):
            name = (node.func.value.id, node.func.attr)
            if name in _STARTERS or (name[0] == "os" and name[1].startswith(("exec", "spawn"))):
                calls.append(node)
    return calls


def test_every_process_keysentry_starts_is_git_or_an_isolated_python() -> None:
    seen = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for call in _starts(tree):
            argv = ast.unparse(call.args[0]) if call.args else ""
            where = f"{path.relative_to(PACKAGE)}:{call.lineno}"
            assert _ALLOWED_ARGV.match(argv), f"{where} starts {argv!r}: isolate it and add a row for it"
            seen.append(argv)
    assert any(a == "child_command()" for a in seen), "the audit's repository process is no longer found"


def test_python_is_only_ever_started_isolated() -> None:
    """sys.executable appears only where the audit's child and git-filter-repo are started, where the
    hooks record their interpreter and where a blocked message names it; both start it with -I and keysentry's own folder first on sys.path."""
    uses = sorted(f"{p.relative_to(PACKAGE)}" for p in PACKAGE.rglob("*.py")
                  if "sys.executable" in p.read_text(encoding="utf-8"))
    assert uses == ["audit.py", "fix/history.py", "install.py", "report/blocked.py"], uses
    # The blocked message only prints a command for the user, and that one is isolated too.
    assert "{sys.executable} -I -m scanner" in (PACKAGE / "report" / "blocked.py").read_text(encoding="utf-8")
    command = audit.child_command()
    assert command[1] == "-I" and "-m" not in command
    from scanner.fix.history import filter_repo_command

    assert filter_repo_command()[:4] == [sys.executable, "-I", "-m", "git_filter_repo"]
    # Every hook script's Python (the recorded one, or one found on PATH) runs with -I.
    python = re.compile(r'(?:^|exec|&&|\|\||;|\$\()\s*"\$(installed_python|py)"\s')  # run, not tested
    for hook in (PACKAGE / "hookscripts").iterdir():
        runs = [ln for ln in hook.read_text(encoding="utf-8").splitlines() if python.search(ln)]
        assert all(re.search(r'"\$(installed_python|py)" -I ', ln) for ln in runs), (hook.name, runs)
        assert runs or hook.name not in ("pre-commit", "pre-push"), hook.name


def test_the_audit_child_imports_keysentry_from_a_folder_that_ships_its_own(tmp_path: Path) -> None:
    """The child started by the audit's command in a folder holding a `scanner` package and named by
    PYTHONPATH too: it answers a task with keysentry's record, and the folder's code never runs."""
    marker = tmp_path / "ran"
    (tmp_path / "scanner").mkdir()
    (tmp_path / "scanner" / "__init__.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    (tmp_path / "scanner.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    task = {"source": str(tmp_path / "missing"), "key": "k", "clones": str(tmp_path), "keep_clone": False,
            "known_refs": None, "show_secrets": False, "config": None, "max_file_size": None, "jobs": 1,
            "timeout": None}
    proc = subprocess.run(audit.child_command(), input=json.dumps(task).encode() + b"\n", cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(tmp_path)}, capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    answer = json.loads(proc.stdout)
    assert answer["record"]["error"] == f"path not found: {tmp_path / 'missing'}"
    assert not marker.exists()


def test_the_audit_child_keeps_the_callers_choice_not_to_write_bytecode() -> None:
    """-I drops PYTHONDONTWRITEBYTECODE; the caller's choice (this machine sets it) goes on as -B."""
    probe = "import json; from scanner.audit import child_command; print(json.dumps(child_command()[1:3]))"
    for value, expected in (("1", ["-I", "-B"]), ("", ["-I", "-c"])):
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        if value:
            env["PYTHONDONTWRITEBYTECODE"] = value
        out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60)
        assert json.loads(out.stdout) == expected, out.stderr
