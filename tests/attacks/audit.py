"""Attack rows for the hostile suites (see tests/hostile.py): audit.

Sources and repositories built to make `keysentry audit` run a program while cloning, fetching or
scanning (a transport, an option, a hook, a submodule), or to crash it. Each leaves a marker file
if it ran anything; the audit must report such a source as failed (or scan it safely) and go on.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path

from scanner.models import Stats

from tests.conftest import git, google_key
from tests.hostile import Attack, keysentry, new_repo, no_traceback

_STAT_NAMES = tuple(f.name for f in fields(Stats))


def _good(tmp_path: Path) -> Path:
    repo = new_repo(tmp_path, "good")
    (repo / "app.py").write_text(f'API_KEY = "{google_key()}"\n')
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "key")
    return repo


def _audit(tmp_path: Path, *sources: str) -> tuple[int, dict[str, dict[str, object]]]:
    proc = keysentry("audit", "--format", "json", "--repo-timeout", "30", "--", *sources, cwd=tmp_path)
    no_traceback(proc)
    report = json.loads(proc.stdout)
    assert not (tmp_path / "pwned").exists(), "the audit ran a program the source chose"
    return proc.returncode, {r["source"]: r for r in report["repositories"]}


def _refused(tmp_path: Path, source: str, *words: str) -> None:
    good = str(_good(tmp_path))
    code, repos = _audit(tmp_path, source, good)
    assert code == 1 and repos[good]["findings"], "the other repository was not audited"
    error = str(repos[source]["error"])
    assert all(word in error for word in words), error


def _ext_transport(tmp_path: Path) -> None:
    _refused(tmp_path, f"ext::sh -c touch% {tmp_path}/pwned", "refusing to clone")


def _fd_transport(tmp_path: Path) -> None:
    _refused(tmp_path, "fd::17", "refusing to clone")


def _ssh_option_host(tmp_path: Path) -> None:
    # A host name that ssh would read as an option (CVE-2017-1000117): git refuses it.
    _refused(tmp_path, f"ssh://-oProxyCommand=touch%20{tmp_path}/pwned/x.git", "git:")


def _option_named_source(tmp_path: Path) -> None:
    # After `--`, a source that looks like git's clone option is a (missing) path, never an option.
    _refused(tmp_path, f"--upload-pack=touch {tmp_path}/pwned", "path not found")


def _local_repo_runs_nothing(tmp_path: Path) -> None:
    """A local repository whose config names programs (fsmonitor, hooks, a filter, a pager): the
    audit reads its history with none of them run."""
    repo = new_repo(tmp_path, "hostile")
    marker = tmp_path / "pwned"
    hooks = repo / "hooks"
    hooks.mkdir()
    for hook in ("post-checkout", "reference-transaction", "pre-auto-gc"):
        (hooks / hook).write_text(f"#!/bin/sh\ntouch {marker}\n")
        (hooks / hook).chmod(0o755)
    (repo / ".gitattributes").write_text("* filter=evil\n")
    (repo / "app.py").write_text(f'API_KEY = "{google_key()}"\n')
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "key")
    for key, value in (("core.fsmonitor", f"touch {marker}"), ("core.hooksPath", str(hooks)),
                       ("filter.evil.smudge", f"touch {marker}"), ("filter.evil.clean", f"touch {marker}"),
                       ("core.pager", f"touch {marker}")):
        git(repo, "config", key, value)
    code, repos = _audit(tmp_path, str(repo), repo.as_uri())
    assert code == 1
    assert all(r["error"] is None and r["findings"] for r in repos.values()), repos


def _submodule_with_ext_url(tmp_path: Path) -> None:
    """A repository whose .gitmodules names an ext:: URL: a bare clone never follows submodules."""
    repo = new_repo(tmp_path, "super")
    (repo / ".gitmodules").write_text(f'[submodule "x"]\n\tpath = x\n\turl = ext::sh -c touch% {tmp_path}/pwned\n')
    (repo / "app.py").write_text(f'API_KEY = "{google_key()}"\n')
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "super")
    code, repos = _audit(tmp_path, repo.as_uri())
    assert code == 1 and repos[repo.as_uri()]["findings"]


# --- 17 §0: an audit started inside a checkout never runs the checkout's code ---------------------

def clean_answer_program(marker: Path) -> str:
    """A stand-in for keysentry's repository process: it records that it ran, then answers every
    task with a well-formed "no findings" record, so that were it imported the audit would report
    the repository clean."""
    stats = {name: [] if name in ("skipped_large_paths", "warnings") else False if name == "shallow" else 0
             for name in _STAT_NAMES}
    view = {"mode": "history", "findings": [], "stats": stats, "notes": [], "skipped_large_paths": []}
    return (f"import json, pathlib, sys\npathlib.Path({str(marker)!r}).write_text('ran')\n"
            "for line in sys.stdin:\n"
            "    task = json.loads(line)\n"
            "    record = {'format': 1, 'source': task['source'], 'head': None, 'refs': None, 'error': None,\n"
            f"              'seconds': 0.0, 'view': {view!r}}}\n"
            "    print(json.dumps({'record': record}), flush=True)\n")


def plant_scanner(repo: Path, marker: Path, layout: str) -> None:
    """REPO ships a `scanner` of its own (a package, or a module) that would report it clean."""
    program = clean_answer_program(marker)
    if layout == "package":
        (repo / "scanner").mkdir()
        init = f"import pathlib\npathlib.Path({str(marker)!r}).write_text('ran')\n"
        (repo / "scanner" / "__init__.py").write_text(init)
        for module in ("audit_child", "__main__", "cli"):
            (repo / "scanner" / f"{module}.py").write_text(program)
    else:
        (repo / "scanner.py").write_text(program)
    (repo / "app.py").write_text(f'API_KEY = "{google_key()}"\n')
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "a scanner of our own, and a key")


def _audit_inside_checkout(layout: str) -> Callable[[Path], None]:
    def run(tmp_path: Path) -> None:
        repo = new_repo(tmp_path, "checkout")
        marker = tmp_path / "repository-code-ran"
        plant_scanner(repo, marker, layout)
        # From inside the checkout, as `keysentry audit .`, with a second source cloned from it.
        proc = keysentry("audit", ".", repo.as_uri(), "--format", "json", "--jobs", "2", cwd=repo)
        no_traceback(proc)
        assert not marker.exists(), "the audit imported the audited checkout's scanner"
        assert proc.returncode == 1, proc.stderr
        found = [r["findings"] for r in json.loads(proc.stdout)["repositories"]]
        assert all(len(f) == 1 and f[0]["rule_id"] == "google-api-key" for f in found), found
    return run


def _non_ascii_paths_whatever_the_io_encoding(tmp_path: Path) -> None:
    """Issue 23: PYTHONIOENCODING=ascii or latin-1 (or a locale like them) must not fail a
    repository whose paths, author or findings hold characters it cannot encode."""
    repo = new_repo(tmp_path, "répertoire-日本")
    (repo / "données").mkdir()
    (repo / "données" / "clé-🔑.py").write_text(f'API_KEY = "{google_key()}"\n')
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "clé", env={"GIT_AUTHOR_NAME": "Zoë Ærøskøbing"})
    for encoding in ("ascii", "latin-1"):
        proc = keysentry("audit", str(repo), repo.as_uri(), "--format", "json", cwd=tmp_path,
                         env={"PYTHONIOENCODING": encoding})
        no_traceback(proc)
        assert proc.returncode == 1, (encoding, proc.stderr)
        for entry in json.loads(proc.stdout)["repositories"]:
            assert entry["error"] is None, (encoding, entry["error"])
            assert [f["path"] for f in entry["findings"]] == ["données/clé-🔑.py"], encoding
        text = keysentry("audit", str(repo), cwd=tmp_path, env={"PYTHONIOENCODING": encoding})
        no_traceback(text)
        assert text.returncode == 1 and b"1 finding" in text.stdout, (encoding, text.stderr)


def _parallel_scan_inside_checkout(tmp_path: Path) -> None:
    """The other processes a scan starts inside such a checkout, its parallel workers (forked, or
    spawned where fork is missing), import nothing of it either."""
    repo = new_repo(tmp_path, "checkout")
    marker = tmp_path / "repository-code-ran"
    for n in range(300):  # enough blobs for the scan to start its workers
        (repo / f"f{n:03}.txt").write_text(f"filler {n}\n")
    plant_scanner(repo, marker, "package")
    for mode in ("--history", "--jobs"):  # the whole history, and the work tree
        proc = keysentry("scan", mode, *(["2"] if mode == "--jobs" else ["--jobs", "2"]), ".", "--format", "json",
                         cwd=repo)
        no_traceback(proc)
        assert not marker.exists(), f"scan {mode} imported the checkout's scanner"
        assert proc.returncode == 1 and [f["path"] for f in json.loads(proc.stdout)["findings"]] == ["app.py"]


REPOS: list[Attack] = [
    Attack("audit-non-ascii-paths-under-ascii-io-encoding", "audit: io encoding",
           _non_ascii_paths_whatever_the_io_encoding),
    Attack("audit-inside-checkout-with-scanner-package", "audit: own code", _audit_inside_checkout("package")),
    Attack("audit-inside-checkout-with-scanner-module", "audit: own code", _audit_inside_checkout("module")),
    Attack("parallel-scan-inside-checkout-with-scanner-package", "audit: own code", _parallel_scan_inside_checkout),
    Attack("audit-ext-transport-url", "audit: transport", _ext_transport),
    Attack("audit-fd-transport-url", "audit: transport", _fd_transport),
    Attack("audit-ssh-host-read-as-option", "audit: option", _ssh_option_host),
    Attack("audit-source-named-like-a-clone-option", "audit: option", _option_named_source),
    Attack("audit-local-repository-config-runs-nothing", "audit: config", _local_repo_runs_nothing),
    Attack("audit-submodule-with-ext-url", "audit: submodule", _submodule_with_ext_url),
]
