"""Attack rows for the hostile suites (see tests/hostile.py): audit.

Sources and repositories built to make `keysentry audit` run a program while cloning, fetching or
scanning (a transport, an option, a hook, a submodule), or to crash it. Each leaves a marker file
if it ran anything; the audit must report such a source as failed (or scan it safely) and go on.
"""
from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import git, google_key
from tests.hostile import Attack, keysentry, new_repo, no_traceback


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


REPOS: list[Attack] = [
    Attack("audit-ext-transport-url", "audit: transport", _ext_transport),
    Attack("audit-fd-transport-url", "audit: transport", _fd_transport),
    Attack("audit-ssh-host-read-as-option", "audit: option", _ssh_option_host),
    Attack("audit-source-named-like-a-clone-option", "audit: option", _option_named_source),
    Attack("audit-local-repository-config-runs-nothing", "audit: config", _local_repo_runs_nothing),
    Attack("audit-submodule-with-ext-url", "audit: submodule", _submodule_with_ext_url),
]
