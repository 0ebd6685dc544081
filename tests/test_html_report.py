"""The HTML report in a real headless Chromium: an audit of a repository with ~200 findings (keys
made at test time), its numbers checked against the JSON report's, its table sorted and filtered
by clicking and typing, no request leaving the page, hostile names rendered as text, and a 1280 px
screenshot saved under tests/artifacts/ for a person to look at."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from tests.chromium import Browser
from tests.conftest import GIT_ENV, git, google_key

KEYSENTRY = str(Path(sys.executable).with_name("keysentry"))
ARTIFACTS = Path(__file__).with_name("artifacts")
MONTHS = 12
PER_MONTH = 14
COPIES = 25


def keysentry(*args: str | os.PathLike[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([KEYSENTRY, *map(os.fspath, args)], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **GIT_ENV})


def commit_at(repo: Path, when: str, message: str, author: str = "Ada") -> None:
    git(repo, "add", "-A")
    env = {"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when, "GIT_AUTHOR_NAME": author}
    git(repo, "commit", "-q", "-m", message, env=env)


def write(repo: Path, rel: str, text: str) -> None:
    (repo / rel).parent.mkdir(parents=True, exist_ok=True)
    (repo / rel).write_text(text)


@pytest.fixture(scope="module")
def audit(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A year of commits leaking keys (one key copied into 25 samples, a .env, a folder deleted
    later), scanned once as HTML and once as JSON with the secrets shown (to count them)."""
    root = tmp_path_factory.mktemp("audit")
    repo = root / "maps-samples"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    shared = google_key()
    for i in range(COPIES):
        write(repo, f"samples/s{i:02d}/index.html",
              f'<script src="https://maps.googleapis.com/maps/api/js?key={shared}"></script>\n')
    commit_at(repo, "2023-01-03T10:00:00+00:00", "samples")
    for month in range(1, MONTHS + 1):
        for n in range(PER_MONTH):
            write(repo, f"src/m{month:02d}/client{n:02d}.py",
                  f'from google import genai\nclient = genai.Client(api_key="{google_key()}")\n')
        if month == 3:
            write(repo, ".env", f"GEMINI_API_KEY={google_key()}\nDEBUG=1\n")
        commit_at(repo, f"2023-{month:02d}-15T12:00:00+00:00", f"month {month}", author=f"Dev {month % 4}")
    git(repo, "rm", "-q", "-r", "src/m01")
    commit_at(repo, "2024-02-01T09:00:00+00:00", "remove the first clients")
    html = root / "report.html"
    proc = keysentry("scan", "--history", repo, "--format", "html", "--output", html)
    assert proc.returncode == 1, proc.stderr
    proc = keysentry("scan", "--history", repo, "--format", "json", "--show-secrets")
    assert proc.returncode == 1, proc.stderr
    return {"repo": repo, "html": html, "json": json.loads(proc.stdout)}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with Browser(width=1280) as b:
        yield b


def rows_of(findings: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """One row per secret: a rule's value, or a whole-file finding's file."""
    return {(f["rule_id"], f["path"] if f["line"] == 0 else f["secret"]) for f in findings}


def visible(browser: Browser) -> list[dict[str, str]]:
    return list(browser.evaluate(
        "Array.from(document.querySelectorAll('tbody.secret')).filter(r => !r.hidden)"
        ".map(r => Object.assign({}, r.dataset))"))


def test_the_audit_has_about_200_findings(audit: dict[str, Any]) -> None:
    assert 190 <= len(audit["json"]["findings"]) <= 210


def test_summary_numbers_equal_the_json_report(audit: dict[str, Any], browser: Browser) -> None:
    browser.open(audit["html"])
    findings = audit["json"]["findings"]
    count = browser.evaluate(
        "Object.fromEntries(Array.from(document.querySelectorAll('#summary [data-count]:not([data-count^=rule])'))"
        ".map(e => [e.dataset.count, Number(e.textContent)]))")
    severities = Counter(f["severity"] for f in findings)
    assert count == {
        "findings": len(findings),
        "secrets": len({f["secret"] for f in findings}),
        "in-head": sum(f["in_head"] is True for f in findings),
        "history-only": sum(f["in_head"] is False for f in findings),
        **{f"severity-{s}": severities.get(s, 0) for s in ("critical", "high", "medium", "low")},
    }
    by_rule = browser.evaluate(
        "Object.fromEntries(Array.from(document.querySelectorAll('.by-rule tr[data-rule]')).map(r => [r.dataset.rule,"
        " [Number(r.querySelector('[data-count=rule-findings]').textContent),"
        "  Number(r.querySelector('[data-count=rule-secrets]').textContent)]]))")
    expected = {rule: [n, len({f["secret"] for f in findings if f["rule_id"] == rule})]
                for rule, n in Counter(f["rule_id"] for f in findings).items()}
    assert by_rule == expected
    stats = browser.evaluate("Object.fromEntries(Array.from(document.querySelectorAll('[data-stat]'))"
                             ".map(e => [e.dataset.stat, e.dataset.value || e.textContent]))")
    json_stats = audit["json"]["stats"]
    assert (int(stats["commits"]), int(stats["blobs"]), int(stats["bytes"])) == (
        json_stats["commits"], json_stats["blobs"], json_stats["bytes"])
    assert len(visible(browser)) == len(rows_of(findings))


def test_no_request_leaves_the_page(audit: dict[str, Any], browser: Browser) -> None:
    browser.open(audit["html"])
    browser.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    browser.evaluate("document.querySelector('button[data-sort=places]').click()")
    assert browser.requested() == [audit["html"].resolve().as_uri()]
    assert browser.evaluate("window.__violations") == []  # nor one the page's policy had to block
    assert browser.evaluate("document.querySelectorAll('[src], link, iframe, object, embed, img').length") == 0


def test_clicking_a_header_sorts_the_rows(audit: dict[str, Any], browser: Browser) -> None:
    browser.open(audit["html"])
    click = "document.querySelector('button[data-sort={}]').click()"
    browser.evaluate(click.format("places"))
    ascending = [int(r["places"]) for r in visible(browser)]
    assert ascending == sorted(ascending) and ascending[0] == 1
    browser.evaluate(click.format("places"))
    descending = [int(r["places"]) for r in visible(browser)]
    assert descending == sorted(descending, reverse=True) and descending[0] == COPIES
    browser.evaluate(click.format("date"))
    dates = [float(r["date"]) for r in visible(browser)]
    assert dates == sorted(dates) and dates[0] < dates[-1]
    browser.evaluate(click.format("rule"))
    rules = [r["rule"] for r in visible(browser)]
    assert rules == sorted(rules) and rules[0] == "dotenv-file"


def test_typing_and_choosing_filter_the_rows(audit: dict[str, Any], browser: Browser) -> None:
    browser.open(audit["html"])
    findings = audit["json"]["findings"]
    browser.type_text("#filter", "src/m05/")
    assert len(visible(browser)) == PER_MONTH
    assert browser.evaluate("document.getElementById('shown-count').value").startswith(f"{PER_MONTH} of ")
    browser.evaluate("{ const f = document.getElementById('filter'); f.value = '';"
                     "f.dispatchEvent(new Event('input')); }")
    choose = ("{{ const s = document.getElementById('{}'); s.value = '{}';"
              "s.dispatchEvent(new Event('input')); }}")
    browser.evaluate(choose.format("head-filter", "no"))
    assert len(visible(browser)) == len(rows_of([f for f in findings if f["in_head"] is False])) == PER_MONTH
    browser.evaluate(choose.format("head-filter", ""))
    browser.evaluate(choose.format("rule-filter", "dotenv-file"))
    assert [r["rule"] for r in visible(browser)] == ["dotenv-file"]
    browser.evaluate(choose.format("rule-filter", ""))
    assert len(visible(browser)) == len(rows_of(findings))


def test_a_row_expands_to_its_places_folded_after_ten(audit: dict[str, Any], browser: Browser) -> None:
    browser.open(audit["html"])
    shared = browser.evaluate(f"document.querySelector('tbody.secret[data-places=\"{COPIES}\"]').id")
    text = browser.evaluate(f"document.getElementById('{shared}').querySelector('details').innerText")
    assert "samples/s00/index.html:1:58" not in text  # closed: only its summary shows
    browser.evaluate(f"document.getElementById('{shared}').querySelector('details').open = true")
    text = browser.evaluate(f"document.getElementById('{shared}').querySelector('details').innerText")
    assert "samples/s00/index.html:1:58" in text and f"and {COPIES - 10} more files" in text
    assert "samples/s24/index.html" not in text  # the rest stays folded away
    assert "Cloud console" in text and "Restrict" in text


def test_history_only_rows_give_the_exact_filter_repo_commands(audit: dict[str, Any], browser: Browser) -> None:
    browser.open(audit["html"])
    text = browser.evaluate("Array.from(document.querySelectorAll('tbody.secret[data-head=no] pre'))"
                            ".map(p => p.textContent)")
    assert len(text) == PER_MONTH
    assert all("git filter-repo --replace-text ../keysentry-secrets.txt" in t for t in text)
    assert "git filter-repo --replace-text" in browser.evaluate("document.getElementById('rewrite').textContent")


def test_readable_without_javascript(audit: dict[str, Any]) -> None:
    with Browser(width=1280, javascript=False) as b:
        b.open(audit["html"])
        assert b.evaluate("document.getElementById('controls').hidden") is True
        assert b.evaluate("getComputedStyle(document.getElementById('controls')).display") == "none"
        assert b.evaluate("document.getElementById('shown-count').value") == ""  # the script never ran
        assert b.evaluate("document.querySelectorAll('tbody.secret > tr.detail > td > details').length") == len(rows_of(audit["json"]["findings"]))
        assert int(b.evaluate("document.querySelector('[data-count=findings]').textContent")) == len(audit["json"]["findings"])


def test_screenshot_at_1280_px(audit: dict[str, Any], browser: Browser) -> None:
    browser.open(audit["html"])
    browser.evaluate("document.querySelector('tbody.secret details').open = true")
    assert browser.evaluate("document.documentElement.clientWidth") == 1280
    shot = browser.screenshot(ARTIFACTS / "html-report-1280.png", full_height=2400)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    print(f"screenshot: {shot}")


# --- hostile names ---------------------------------------------------------------------------------

HOSTILE_FILES = ("<script>alert(1)</script>.py", '"><img src=x onerror=alert(2)>.py', "</textarea>.py",
                 "' onmouseover='alert(3).py", "&lt;b&gt;bold&lt;/b&gt;.py")
# git drops < and > from names, so an author attacks with quotes and entities.
HOSTILE_AUTHORS = ('x" onmouseover="alert(4)', "y' autofocus onfocus='alert(5)", "Tom &amp; Jerry &lt;i&gt; x")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    repo = tmp_path_factory.mktemp("hostile") / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    for i, name in enumerate(HOSTILE_FILES):
        write(repo, name, f'KEY = "{google_key()}"\n')
        commit_at(repo, f"2024-0{i + 1}-01T00:00:00+00:00", "<script>alert(6)</script>",
                  author=HOSTILE_AUTHORS[i % len(HOSTILE_AUTHORS)])
    reports = {}
    for mode in ("worktree", "history"):
        out = repo.parent / f"{mode}.html"
        proc = keysentry("scan", *(["--history"] if mode == "history" else []), repo, "--format", "html", "--output", out)
        assert proc.returncode == 1, proc.stderr
        reports[mode] = out
    return reports


@pytest.mark.parametrize("mode", ["worktree", "history"])
def test_hostile_names_render_as_text_in_the_browser(hostile: dict[str, Path], browser: Browser, mode: str) -> None:
    browser.open(hostile[mode])
    assert browser.evaluate("document.querySelectorAll('img, textarea, iframe, b').length") == 0
    assert browser.evaluate("document.scripts.length") == 1  # the report's own
    handlers = browser.evaluate(
        "Array.from(document.querySelectorAll('*')).flatMap(e => Array.from(e.attributes).map(a => a.name))"
        ".filter(n => n.startsWith('on') || n === 'autofocus')")
    assert handlers == []
    browser.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    text = browser.evaluate("document.body.innerText")
    for name in HOSTILE_FILES:
        assert name in text
    if mode == "history":
        for author in HOSTILE_AUTHORS:
            assert author in text
    assert browser.dialogs() == [] and browser.evaluate("window.__violations") == []


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: Counter[str] = Counter()
        self.attributes: set[str] = set()
        self.policy = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        self.attributes.update(name for name, _ in attrs)
        if tag == "meta" and ("http-equiv", "Content-Security-Policy") in attrs:
            self.policy = dict(attrs).get("content") or ""


def test_the_page_is_self_contained_and_escaped(hostile: dict[str, Path]) -> None:
    page = hostile["history"].read_text()
    parsed = _Elements()
    parsed.feed(page)
    assert parsed.tags["script"] == 1 and parsed.tags["style"] == 1
    assert not {"img", "link", "iframe", "textarea", "object", "embed"} & set(parsed.tags)
    assert not {a for a in parsed.attributes if a.startswith("on")} and "src" not in parsed.attributes
    assert parsed.policy.startswith("default-src 'none'; style-src 'sha256-") and "script-src 'sha256-" in parsed.policy
