"""The documentation: a MkDocs site that builds with --strict (no broken link, no anchor that is
not there, no page left out of the navigation), a rules page that is the rule registry's own, and
a README that stays a newcomer's page and points only at pages that exist."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

from scanner import rule_url
from scanner.rules import ALL_RULES
from scanner.rules.reference import markdown

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_site_builds_strictly(tmp_path: Path) -> None:
    proc = subprocess.run([str(Path(sys.executable).parent / "mkdocs"), "build", "--strict", "--site-dir",
                           str(tmp_path / "site")], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "site" / "rules" / "index.html").is_file()


def test_a_broken_link_fails_the_build(tmp_path: Path) -> None:
    # The check above can fail: a copy of the site with one link pointing nowhere does not build.
    copy = tmp_path / "copy"
    (copy / "docs").mkdir(parents=True)
    for page in DOCS.glob("*.md"):
        (copy / "docs" / page.name).write_text(page.read_text(encoding="utf-8"), encoding="utf-8")
    (copy / "mkdocs.yml").write_text((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), encoding="utf-8")
    index = copy / "docs" / "index.md"
    index.write_text(index.read_text(encoding="utf-8") + "\nSee [nothing](nowhere.md#here).\n", encoding="utf-8")
    proc = subprocess.run([str(Path(sys.executable).parent / "mkdocs"), "build", "--strict", "--site-dir",
                           str(tmp_path / "site")], cwd=copy, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0 and "nowhere.md" in proc.stdout + proc.stderr


def test_every_page_is_in_the_navigation() -> None:
    nav = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))["nav"]
    listed = {page for entry in nav for page in entry.values()}
    assert listed == {p.name for p in DOCS.glob("*.md")}


def test_the_rules_page_is_the_registrys() -> None:
    # `python -m scanner.rules.reference docs/rules.md` writes it again when a rule changes.
    assert (DOCS / "rules.md").read_text(encoding="utf-8") == markdown(), \
        "docs/rules.md drifted from the rule registry: run `python -m scanner.rules.reference docs/rules.md`"


def test_each_rule_has_the_section_its_reports_link_to() -> None:
    headings = set(re.findall(r"^## (\S+)$", (DOCS / "rules.md").read_text(encoding="utf-8"), flags=re.MULTILINE))
    for rule in ALL_RULES:
        assert rule.id in headings and rule_url(rule.id).endswith(f"/docs/rules.md#{rule.id}")
        assert rule.remediation.split()[0] in (DOCS / "rules.md").read_text(encoding="utf-8")


def test_the_readme_is_a_newcomers_page_that_points_at_pages_that_exist() -> None:
    assert len(README.splitlines()) <= 200
    for heading in ("## Install", "### 1. Block commits", "### 2. Gate pull requests in CI", "### 3. Audit",
                    "## Exit codes"):
        assert heading in README
    for target in re.findall(r"\]\((docs/[^)#]+)", README):
        assert (ROOT / target).is_file(), target
