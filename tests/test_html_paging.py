"""The HTML report of many secrets (issue 23: 50,000 findings made a 114 MB page that Chromium took
181 s to show): the first PAGE rows are HTML, readable without JavaScript; the rest travel as one
JSON data block that the page's script turns into rows a page at a time, filter and sort included."""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from scanner.models import Finding, Result, Stats
from scanner.report import Options, render
from scanner.report.html import PAGE
from tests.chromium import Browser
from tests.conftest import google_key

COUNT = 3 * PAGE + 17


def _findings(count: int) -> tuple[Finding, ...]:
    return tuple(Finding("google-api-key", f"src/pkg{i % 7}/file{i:05d}.py", 1 + i % 30, 9, google_key(), f"{i:040x}")
                 for i in range(count))


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("html") / "report.html"
    # A hostile name among the rows the data block carries: it must stay text.
    findings = _findings(COUNT) + (Finding("google-api-key", "zz/</script><img src=x onerror=alert(1)>.py", 1, 1,
                                           google_key(), "f" * 40),)
    target.write_text(render(Result("worktree", findings, Stats(files=COUNT + 1)), "html", Options()), encoding="utf-8")
    return target


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with Browser(width=1280) as b:
        yield b


def _visible(browser: Browser) -> list[str]:
    return list(browser.evaluate("Array.from(document.querySelectorAll('tbody.secret')).filter(r => !r.hidden)"
                                 ".map(r => r.dataset.path)"))


def test_the_page_holds_the_first_rows_as_html_and_the_rest_as_one_data_block(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    assert text.count('<tbody class="secret"') == PAGE
    block = text.split('<script type="application/json" id="more-rows">', 1)[1].split("</script>", 1)[0]
    assert "<" not in block  # no value can close the element
    assert len(json.loads(block)["rows"]) == COUNT + 1 - PAGE


def test_pages_of_rows_are_made_from_the_data_block(page: Path, browser: Browser) -> None:
    browser.open(page)
    first = _visible(browser)
    assert len(first) == PAGE
    assert browser.evaluate("document.getElementById('page-of').value").startswith(f"rows 1–{PAGE} of {COUNT + 1}")
    browser.evaluate("document.getElementById('next-page').click()")
    second = _visible(browser)
    assert len(second) == PAGE and not set(first) & set(second)
    # A made row opens to its places and its fix like an HTML one.
    details = browser.evaluate("Array.from(document.querySelectorAll('tbody.secret')).filter(r => !r.hidden)[0]"
                               ".querySelector('details')")
    assert details is not None
    text = browser.evaluate("(() => { const d = Array.from(document.querySelectorAll('tbody.secret'))"
                            ".filter(r => !r.hidden)[0].querySelector('details'); d.open = true; return d.innerText; })()")
    assert "found at" in text.lower() and "rotate:" in text.lower()
    for _ in range(5):
        browser.evaluate("document.getElementById('next-page').click()")
    assert browser.evaluate("document.getElementById('next-page').disabled") is True
    assert len(_visible(browser)) == COUNT + 1 - 3 * PAGE
    assert browser.evaluate("window.__violations") == []


def test_filter_and_sort_reach_the_rows_of_the_data_block(page: Path, browser: Browser) -> None:
    browser.open(page)
    last = f"src/pkg{(COUNT - 1) % 7}/file{COUNT - 1:05d}.py"
    browser.type_text("#filter", f"file{COUNT - 1:05d}")
    assert _visible(browser) == [last]
    browser.evaluate("document.getElementById('filter').value = ''")
    browser.type_text("#filter", "onerror")
    hostile = _visible(browser)
    assert len(hostile) == 1 and "onerror" in hostile[0]
    assert browser.evaluate("document.querySelectorAll('img').length") == 0  # text, never markup
    browser.evaluate("{ const f = document.getElementById('filter'); f.value = ''; f.dispatchEvent(new Event('input')); }")
    browser.evaluate("document.querySelector('button[data-sort=path]').click()")
    browser.evaluate("document.querySelector('button[data-sort=path]').click()")  # descending: the data block's end first
    assert _visible(browser)[0] == hostile[0]


def test_without_javascript_the_first_rows_and_a_note_say_the_rest(page: Path) -> None:
    with Browser(width=1280, javascript=False) as b:
        b.open(page)
        assert b.evaluate("document.querySelectorAll('tbody.secret').length") == PAGE
        note = b.evaluate("document.getElementById('more-note').textContent")
        assert f"first {PAGE} of {COUNT + 1} secrets" in note and "JSON" in note
        assert b.evaluate("document.getElementById('pager').hidden") is True


def test_verified_rows_of_the_data_block_show_their_status_and_filter_by_it(tmp_path: Path) -> None:
    from dataclasses import replace

    from scanner.models import Verification

    findings = tuple(replace(f, verification=Verification("live" if i % 2 else "invalid", "checked",
                                                          exposes=("files",) if i % 2 else ()))
                     for i, f in enumerate(_findings(PAGE + 40)))
    page = tmp_path / "verified.html"
    page.write_text(render(Result("worktree", findings, Stats(files=len(findings))), "html", Options()), encoding="utf-8")
    with Browser(width=1280) as b:
        b.open(page)
        b.evaluate("document.getElementById('next-page').click()")
        made = b.evaluate("Array.from(document.querySelectorAll('tbody.secret')).filter(r => !r.hidden)"
                          ".map(r => [r.dataset.status, r.querySelector('.status').textContent,"
                          " r.querySelectorAll('.exposes').length])")
        assert len(made) == 40 and all(status == shown for status, shown, _ in made)
        assert {n for status, _, n in made if status == "live"} == {1}
        b.evaluate("{ const s = document.getElementById('status-filter'); s.value = 'live';"
                   " s.dispatchEvent(new Event('input')); }")
        assert b.evaluate("document.getElementById('shown-count').value").startswith(f"{(PAGE + 40) // 2} of ")
        assert b.evaluate("window.__violations") == []


def test_rows_of_the_data_block_show_where_a_secret_was_moved(tmp_path: Path, browser: Browser) -> None:
    from dataclasses import replace

    from scanner.models import Moved

    commit = "c0ffee" + "0" * 34
    findings = tuple(replace(f, commit="a" * 40, date="2024-03-01T10:00:00+00:00", in_head=False,
                             moved_to=(Moved(f"moved/{i}.py", commit),))
                     for i, f in enumerate(_findings(PAGE + 3)))
    page = tmp_path / "moved.html"
    page.write_text(render(Result("history", findings, Stats(blobs=len(findings))), "html", Options()), encoding="utf-8")
    browser.open(page)
    browser.evaluate("document.getElementById('next-page').click()")
    texts = browser.evaluate("Array.from(document.querySelectorAll('tbody.secret')).filter(r => !r.hidden)"
                             ".map(r => { const d = r.querySelector('details'); d.open = true; return d.innerText; })")
    assert len(texts) == 3
    assert all("moved to" in text.lower() and "c0ffee000000" in text and "moved/" in text for text in texts), texts[0]
    assert browser.evaluate("window.__violations") == []
