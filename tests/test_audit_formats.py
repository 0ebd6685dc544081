"""`keysentry audit --format markdown|github|gitlab|html`: the scan reporters' output for every
repository of an audit, in one report that tells the repositories apart; a repository that failed
is reported with its error. Real repositories in tmp_path (keys made at test time), one source
that does not exist, and a folder named like markup."""
from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from scanner.report import FORMATS as SCAN_FORMATS
from scanner.report import markdown
from scanner.report.github import escape_property
from scanner.report.summary import SEVERITIES
from tests.audit_repos import load, make_repo
from tests.conftest import git, google_key
from tests.hostile import keysentry

GITLAB_SCHEMA = json.loads((Path(__file__).parent / "data" / "secret-detection-report-format.json")
                           .read_text(encoding="utf-8"))
HOSTILE = "<script>x"


@dataclass
class Audited:
    sources: list[str]
    missing: str
    hostile: str
    report: dict[str, Any]  # the audit's JSON, the truth the other formats are checked against
    outputs: dict[str, str] = field(default_factory=dict)

    def entry(self, source: str) -> dict[str, Any]:
        return next(r for r in self.report["repositories"] if r["source"] == source)


def gemini_repo(path: Path) -> Path:
    """A key passed to the Gemini client: a critical finding, ranked above the others."""
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    (path / "app.py").write_text(f'client = genai.Client(api_key="{google_key()}")\n')
    git(path, "add", ".")
    git(path, "commit", "-qm", "gemini")
    return path


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Audited]:
    base = tmp_path_factory.mktemp("formats")
    # make_repo: 0 a key in HEAD (app.py), 1 one only in history, 2 one in HEAD (app.py) and one on
    # a branch, 3 none. The hostile one holds a key in app.py too, line 1 as in 0 and 2.
    repos = [make_repo(base / f"r{i}", i) for i in range(4)]
    hostile = make_repo(base / HOSTILE, 0)
    punctuated = make_repo(base / "team,one:app", 1)  # `,` and `:` end a workflow command's property
    critical = gemini_repo(base / "gemini")
    fork = base / "r0-fork"  # r0's very commits: the same findings, fingerprints and all
    git(base, "clone", "-q", str(repos[0]), str(fork))
    missing = str(base / "does-not-exist")
    sources = [str(p) for p in (*repos, hostile, punctuated, critical, fork)] + [missing]
    proc = keysentry("audit", *sources, "--format", "json", cwd=base)
    assert proc.returncode == 1, proc.stderr
    done = Audited(sources, missing, str(hostile), load(proc.stdout))
    for fmt in ("markdown", "github", "gitlab", "html"):
        proc = keysentry("audit", *sources, "--format", fmt, cwd=base)
        assert proc.returncode == 1, proc.stderr  # findings, whatever the format
        done.outputs[fmt] = proc.stdout.decode("utf-8")
    yield done


def rank(entry: dict[str, Any]) -> tuple[int, int]:
    """Most severe finding first, then most findings; then the failed; then the clean."""
    if entry["error"] is not None:
        return (len(SEVERITIES), 0)
    if not entry["findings"]:
        return (len(SEVERITIES) + 1, 0)
    return (min(SEVERITIES.index(f["severity"]) for f in entry["findings"]), -len(entry["findings"]))


def test_audit_accepts_every_format_scan_offers(tmp_path: Path) -> None:
    proc = keysentry("audit", "--help", cwd=tmp_path)
    offered = re.search(r"--format \{([^}]*)\}", proc.stdout.decode())
    assert offered is not None and set(offered.group(1).split(",")) == set(SCAN_FORMATS)


# --- markdown ------------------------------------------------------------------------------------

def sections(text: str) -> dict[str, str]:
    """Each repository's section (from its `## ` heading to the next) by its heading text."""
    parts = re.split(r"^## (.*)$", text, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_markdown_sums_the_audit_and_gives_each_repository_its_scan_section(audited: Audited) -> None:
    text = audited.outputs["markdown"]
    stats = audited.report["stats"]
    first = text.splitlines()[0]
    assert first == (f"# keysentry audit: {stats['findings']} findings in {stats['with_findings']} of "
                     f"{stats['repositories']} repositories, 1 failed")
    severities = Counter(f["severity"] for r in audited.report["repositories"] for f in r["findings"])
    totals = (f"| {stats['repositories']} | 1 | {stats['with_findings']} | {stats['findings']} | "
              + " | ".join(str(severities.get(s, 0)) for s in SEVERITIES) + " |")
    assert totals in text.splitlines()
    found = sections(text)
    assert set(found) == {markdown.cell(s) for s in audited.sources}
    assert "&lt;script&gt;x" in markdown.cell(audited.hostile) and "<script" not in text
    assert f"**error:** {markdown.cell('path not found: ' + audited.missing)}" in found[markdown.cell(audited.missing)]
    for source in audited.sources:
        entry, body = audited.entry(source), found[markdown.cell(source)]
        if entry["error"] is None:
            # The scan's own Markdown, one level down: its title under the repository's heading.
            assert re.search(r"^### keysentry: ", body, flags=re.M), source
            rows = [ln for ln in body.splitlines() if re.match(r"\| (critical|high|medium|low) \| `", ln)]
            assert len(rows) == len(entry["findings"]), source
            if entry["findings"]:
                assert "\n#### Findings\n" in body and "\n#### How to fix\n" in body
    assert not re.search(r"^## keysentry", text, flags=re.M)


def test_markdown_sections_come_most_severe_first(audited: Audited) -> None:
    shown = list(sections(audited.outputs["markdown"]))
    expected = sorted(audited.report["repositories"], key=rank)  # stable: ties in the order given
    assert shown == [markdown.cell(r["source"]) for r in expected]
    assert shown[0] == markdown.cell(audited.sources[6])  # the Gemini key: critical


def test_markdown_shares_max_rows_among_repositories(tmp_path: Path) -> None:
    # Two repositories of 400 keys each, and a clean one: together past MAX_ROWS (500).
    per_repo = 400
    sources = []
    for name in ("many-a", "many-b"):
        path = tmp_path / name
        path.mkdir()
        git(path, "init", "-q", "-b", "main")
        (path / "keys.py").write_text("".join(f'KEY_{i} = "{google_key()}"\n' for i in range(per_repo)))
        git(path, "add", ".")
        git(path, "commit", "-qm", "keys")
        sources.append(str(path))
    sources.append(str(make_repo(tmp_path / "clean", 3)))
    proc = keysentry("audit", *sources, "--format", "markdown", cwd=tmp_path, timeout=120)
    assert proc.returncode == 1, proc.stderr
    text = proc.stdout.decode()
    rows = [ln for ln in text.splitlines() if re.match(r"\| (critical|high|medium|low) \| `", ln)]
    found = sections(text)
    assert len(rows) + len(found) == markdown.MAX_ROWS  # a section counts as a row
    assert len(found) == 2 and len(rows) == markdown.MAX_ROWS - 2
    # The second repository's table stops where the budget ends, and says how many it left out.
    assert f"…and {2 * per_repo - len(rows)} more findings" in found[markdown.cell(sources[1])]
    assert len(text.encode()) < 1 << 20
    assert "…and 1 more repository (0 findings)" in text
    # Each section still counts all of its findings above its table.
    assert text.count(f"### keysentry: {per_repo} findings") == 2


# --- github ------------------------------------------------------------------------------------

def test_github_annotates_each_finding_with_its_repository_and_each_failure_once(audited: Audited) -> None:
    lines = audited.outputs["github"].splitlines()
    findings = [(r["source"], f) for r in audited.report["repositories"] for f in r["findings"]]
    annotations = [ln for ln in lines if ln.startswith("::error file=")]
    assert len(annotations) == len(findings) and len(lines) == len(findings) + 1
    for (source, f), line in zip(findings, annotations, strict=True):
        properties, message = line[len("::error "):].split("::", 1)
        values = dict(p.split("=", 1) for p in properties.split(","))
        assert values["file"] == escape_property(f["path"])  # the path inside its repository
        assert values["title"] == escape_property(f"{source}: keysentry {f['rule_id']} ({f['severity']})")
        assert message.startswith(f"{source}: ")
    punctuated = next(ln for ln in annotations if "team" in ln)
    assert "title=" + escape_property(audited.sources[5]) in punctuated and "%2Cone%3Aapp" in punctuated
    (failure,) = [ln for ln in lines if not ln.startswith("::error file=")]
    assert failure == f"::error title=keysentry audit::{audited.missing}: path not found: {audited.missing}"


# --- gitlab ------------------------------------------------------------------------------------

def test_gitlab_is_one_valid_report_of_every_repositorys_vulnerabilities(audited: Audited) -> None:
    report = json.loads(audited.outputs["gitlab"])
    errors = list(jsonschema.Draft7Validator(GITLAB_SCHEMA).iter_errors(report))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])
    vulnerabilities = report["vulnerabilities"]
    findings = [(r["source"], f) for r in audited.report["repositories"] for f in r["findings"]]
    assert len(vulnerabilities) == len(findings)
    assert len({v["id"] for v in vulnerabilities}) == len(vulnerabilities)
    folders: dict[str, set[str]] = {}
    for (source, f), v in zip(findings, vulnerabilities, strict=True):
        folder, _, inside = v["location"]["file"].partition("/")
        assert inside == f["path"] and v["location"]["commit"]["sha"] == f["commit"]
        assert v["description"].startswith(f"In {source}: ")
        folders.setdefault(source, set()).add(folder)
    # One folder per repository, no two alike: app.py:1 of r0, its fork, r2 and the hostile one
    # stay apart (and the fork's vulnerabilities have ids of their own, above).
    assert all(len(names) == 1 for names in folders.values())
    assert len({next(iter(names)) for names in folders.values()}) == len(folders)
    app_py = [v for v in vulnerabilities if v["location"]["file"].endswith("/app.py")
              and v["location"].get("start_line") == 1]
    assert len(app_py) >= 4 and len({v["location"]["file"] for v in app_py}) == len(app_py)
    assert {"level": "warn", "value": f"{audited.missing}: path not found: {audited.missing}"} \
        in report["scan"]["messages"]


# --- html --------------------------------------------------------------------------------------

class Page(HTMLParser):
    """What a reader of the page meets: the index's links, the sections, the text, every tag."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.ids: list[str] = []
        self.index_links: list[str] = []
        self.articles: list[str] = []
        self.text: dict[str, list[str]] = {}  # an article's id -> its text
        self.csp = ""
        self._in_index = False
        self._article = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append(tag)
        if a.get("id"):
            self.ids.append(a["id"] or "")
        if tag == "meta" and a.get("http-equiv") == "Content-Security-Policy":
            self.csp = a.get("content") or ""
        if tag == "table" and a.get("class") == "index":
            self._in_index = True
        if tag == "a" and self._in_index:
            self.index_links.append(a.get("href") or "")
        if tag == "article":
            self._article = a.get("id") or ""
            self.articles.append(self._article)

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._in_index = False
        if tag == "article":
            self._article = ""

    def handle_data(self, data: str) -> None:
        self.text.setdefault(self._article, []).append(data)

    def said(self, article: str) -> str:
        return " ".join(" ".join(self.text.get(article, [])).split())


@pytest.fixture(scope="module")
def page(audited: Audited) -> Page:
    parsed = Page()
    parsed.feed(audited.outputs["html"])
    parsed.close()
    return parsed


def test_html_index_links_every_repository_most_severe_first(audited: Audited, page: Page) -> None:
    anchors = {r["source"]: f"repo-{i}" for i, r in enumerate(audited.report["repositories"])}
    expected = [anchors[r["source"]] for r in sorted(audited.report["repositories"], key=rank)]
    assert page.index_links == [f"#{a}" for a in expected]
    assert page.articles == expected  # each link lands on its repository's section
    assert len(page.ids) == len(set(page.ids))  # many reports on one page, no id twice


def test_html_sections_hold_each_repositorys_report_or_its_error(audited: Audited, page: Page) -> None:
    html = audited.outputs["html"]
    for i, entry in enumerate(audited.report["repositories"]):
        anchor = f"repo-{i}"
        if entry["error"] is not None:
            assert f"Not scanned: {entry['error']}" in page.said(anchor)
            assert f"error: {entry['error']}" in page.said("")  # in the index too
            continue
        assert f'<dd data-field="target">{escape(entry["source"])}</dd>' in html  # what was scanned
        counted = re.search(rf'<section id="{anchor}-summary".*?data-count="findings">(\d+)<', html, flags=re.S)
        assert counted is not None and int(counted.group(1)) == len(entry["findings"]), entry["source"]
        secrets = {(f["rule_id"], f["secret"]) for f in entry["findings"]}
        rows = re.findall(rf'<tbody class="secret" id="{anchor}-s\d+"', html)
        assert len(rows) == len(secrets), entry["source"]


def test_html_shows_a_hostile_repository_name_as_text_and_runs_nothing(audited: Audited, page: Page) -> None:
    assert "script" not in page.tags  # the page has no script, and the name made none
    hostile = f"repo-{audited.sources.index(audited.hostile)}"
    assert audited.hostile in page.said(hostile)  # shown as the characters it is
    assert audited.hostile in page.said("")  # and in the index
    assert "script-src 'none'" in page.csp and "default-src 'none'" in page.csp
