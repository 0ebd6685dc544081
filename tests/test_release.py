"""Release hygiene: one version, named by every snippet people copy; an sdist and a wheel that PyPI
would accept; `pip install .` from a checkout."""
from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import scanner

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_version_is_written_once() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "version" not in project and "version" in project["dynamic"]
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert setuptools["dynamic"]["version"] == {"attr": "scanner.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", scanner.__version__)


SNIPPETS = {
    "pre-commit rev": r"^\s*rev: (\S+)$",
    "action uses": r"uses: keysentry/keysentry@(\S+)",
    "pip install from a tag": r"keysentry/keysentry@(v[^\"\s]+)\"",
}


@pytest.mark.parametrize("pattern", SNIPPETS.values(), ids=SNIPPETS.keys())
def test_readme_snippets_name_this_version(pattern: str) -> None:
    found = re.findall(pattern, README, flags=re.MULTILINE)
    assert found, f"no {pattern!r} in the README"
    assert set(found) == {f"v{scanner.__version__}"}


def test_changelog_has_this_version_and_starts_at_0_1_0() -> None:
    versions = re.findall(r"^## (\d+\.\d+\.\d+)$", (ROOT / "CHANGELOG.md").read_text(), flags=re.MULTILINE)
    assert versions[0] == scanner.__version__
    assert versions[-1] == "0.1.0"
    assert versions == sorted(versions, key=lambda v: tuple(map(int, v.split("."))), reverse=True)


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


def test_pip_install_from_a_checkout_works(tmp_path: Path) -> None:
    target = tmp_path / "site"
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
                           str(ROOT)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    # Run from elsewhere, with only the installed copy importable as `scanner` (-P: no cwd on sys.path).
    version = subprocess.run([sys.executable, "-P", "-c", "import scanner, sys; print(scanner.__file__, scanner.__version__)"],
                             cwd=tmp_path, capture_output=True, text=True, env={"PYTHONPATH": str(target)})
    path, _, installed = version.stdout.strip().partition(" ")
    assert installed == scanner.__version__ and Path(path).is_relative_to(target), version.stdout + version.stderr
    rules = subprocess.run([sys.executable, "-P", "-m", "scanner", "rules"], cwd=tmp_path, capture_output=True,
                           text=True, env={"PYTHONPATH": str(target)})
    assert rules.returncode == 0 and "google-api-key" in rules.stdout, rules.stderr
