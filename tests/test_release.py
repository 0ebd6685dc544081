"""Release hygiene: one version, a development one between releases; every snippet people copy
names the latest release; an sdist and a wheel that PyPI would accept; installs from a git URL, as
the README's first command does; a release workflow that publishes exactly the tagged version."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

import scanner
from tests.conftest import git

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
# Every page people copy snippets from: the README and the documentation.
COPIED = "\n".join([README, *(p.read_text(encoding="utf-8") for p in sorted((ROOT / "docs").glob("*.md")))])
CHANGELOG = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
RELEASES = re.findall(r"^## (\d+\.\d+\.\d+)$", CHANGELOG, flags=re.MULTILINE)
DEV = re.fullmatch(r"(\d+\.\d+\.\d+)\.dev\d+", scanner.__version__)


def _release_key(version: str) -> tuple[int, ...]:
    return tuple(map(int, version.split(".")))


def test_version_is_written_once() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "version" not in project and "version" in project["dynamic"]
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert setuptools["dynamic"]["version"] == {"attr": "scanner.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+(\.dev\d+)?", scanner.__version__)


def test_between_releases_the_version_is_the_next_ones_development_version() -> None:
    # The changelog has unreleased changes: a checkout of main must not claim to be the last release.
    if "\n## Unreleased\n" in CHANGELOG:
        assert DEV, f"{scanner.__version__} while the changelog has unreleased changes: use X.Y.Z.dev0"
        assert _release_key(DEV.group(1)) > _release_key(RELEASES[0])
    else:
        assert scanner.__version__ == RELEASES[0]


SNIPPETS = {
    "pre-commit rev": r"^\s*rev: (\S+)$",
    "action uses": r"uses: keysentry/keysentry@(\S+)",
    "pip install from a tag": r"keysentry/keysentry@(v[^\"\s]+)\"",
}


@pytest.mark.parametrize("pattern", SNIPPETS.values(), ids=SNIPPETS.keys())
def test_readme_snippets_name_the_latest_release(pattern: str) -> None:
    # A tag that exists: a development version has none to copy.
    found = re.findall(pattern, COPIED, flags=re.MULTILINE)
    assert found, f"no {pattern!r} in the README or docs/"
    assert set(found) == {f"v{RELEASES[0]}"}


def test_changelog_lists_the_releases_newest_first_from_0_1_0() -> None:
    assert RELEASES[-1] == "0.1.0"
    assert sorted(RELEASES, key=_release_key, reverse=True) == RELEASES


def test_cli_reports_the_version() -> None:
    out = subprocess.run([str(BIN / "keysentry"), "--version"], capture_output=True, text=True, check=True).stdout
    assert out.strip() == f"keysentry {scanner.__version__}"


def test_build_gives_an_sdist_and_wheel_that_twine_accepts(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    proc = subprocess.run([sys.executable, "-m", "build", "--outdir", str(dist), str(ROOT)], capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    wheel = dist / f"keysentry-{scanner.__version__}-py3-none-any.whl"
    sdist = dist / f"keysentry-{scanner.__version__}.tar.gz"
    assert wheel.is_file() and sdist.is_file(), sorted(p.name for p in dist.iterdir())
    check = subprocess.run([str(BIN / "twine"), "check", "--strict", str(wheel), str(sdist)], capture_output=True,
                           text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    import zipfile

    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("scanner/py.typed", "scanner/hookscripts/pre-commit", "scanner/action.py",
                   "scanner/report/gitlab.py"):
        assert needed in names


def _tagged_clone(tmp_path: Path) -> Path:
    """This working tree (committed or not) as a repository with the tag `v` + this version: what
    `git+https://github.com/keysentry/keysentry@vX.Y.Z` fetches, here over file://."""
    clone = tmp_path / "keysentry"
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True).stdout
    for rel in sorted({os.fsdecode(p) for p in listed.split(b"\0") if p}):
        if (ROOT / rel).is_file():
            (clone / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, clone / rel)
    git(clone, "init", "-q", "-b", "main")
    git(clone, "add", "-A")
    git(clone, "commit", "-q", "--no-verify", "-m", "keysentry under test")
    git(clone, "tag", f"v{scanner.__version__}")
    return clone


def test_pip_install_from_a_git_url_works_from_any_folder(tmp_path: Path) -> None:
    # The README's first command, with a file:// URL for GitHub's: run in an unrelated folder.
    clone, elsewhere, target = _tagged_clone(tmp_path), tmp_path / "my-project", tmp_path / "site"
    elsewhere.mkdir()
    url = f"git+{clone.as_uri()}@v{scanner.__version__}"
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), url],
                          cwd=elsewhere, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    # Run from elsewhere, with only the installed copy importable as `scanner` (-P: no cwd on sys.path).
    version = subprocess.run([sys.executable, "-P", "-c", "import scanner, sys; print(scanner.__file__, scanner.__version__)"],
                             cwd=elsewhere, capture_output=True, text=True, env={"PYTHONPATH": str(target)})
    path, _, installed = version.stdout.strip().partition(" ")
    assert installed == scanner.__version__ and Path(path).is_relative_to(target), version.stdout + version.stderr
    rules = subprocess.run([sys.executable, "-P", "-m", "scanner", "rules"], cwd=elsewhere, capture_output=True,
                           text=True, env={"PYTHONPATH": str(target)})
    assert rules.returncode == 0 and "google-api-key" in rules.stdout, rules.stderr


def test_readme_first_command_installs_from_the_projects_git_url_at_the_latest_release() -> None:
    first = re.search(r"^```sh\n(.*?)^```$", README, flags=re.MULTILINE | re.DOTALL)
    assert first is not None
    assert f"git+{scanner.PROJECT_URL}@v{RELEASES[0]}" in first.group(1)


# --- the release workflow -----------------------------------------------------------------------

WORKFLOW = ROOT / ".github" / "workflows" / "release.yml"


def test_release_workflow_is_valid() -> None:
    proc = subprocess.run([str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_release_workflow_publishes_a_checked_build_of_a_version_tag_with_trusted_publishing() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    assert workflow[True] == {"push": {"tags": ["v*"]}}  # YAML 1.1 reads `on:` as True
    build, publish = workflow["jobs"]["build"], workflow["jobs"]["publish"]
    runs = [s.get("run", "") for s in build["steps"]]
    assert "python -m build" in runs and "python -m twine check --strict dist/*" in runs
    assert publish["needs"] == "build" and publish["permissions"] == {"id-token": "write"}
    (upload,) = [s for s in publish["steps"] if s.get("uses", "").startswith("pypa/gh-action-pypi-publish@")]
    assert "password" not in upload.get("with", {})  # no stored token: PyPI trusts the workflow itself


@pytest.mark.parametrize(("tag", "published"), [(f"v{scanner.__version__}", True), ("v9.9.9", False),
                                                 (scanner.__version__, False)])
def test_release_workflow_publishes_only_the_tag_of_this_version(tag: str, published: bool) -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    (step,) = [s for s in workflow["jobs"]["build"]["steps"] if s.get("name") == "The tag names the package's version"]
    proc = subprocess.run(["bash", "-e", "-c", step["run"].replace("python ", f"{sys.executable} -P ")], cwd=ROOT,
                          env={**os.environ, "GITHUB_REF_NAME": tag, "PYTHONPATH": str(ROOT)}, capture_output=True,
                          text=True)
    assert (proc.returncode == 0) == published, proc.stderr
