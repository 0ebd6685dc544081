"""Attack rows for the hostile suites (see tests/hostile.py): the HTML report.

A repository's author chooses its file names, author names and values; the page a reviewer opens
must show them as text (no element, no attribute, no script of theirs), keep a key in a name
redacted, and stay small when one key is copied into thousands of files. The browser checks of
the same page are in tests/test_html_report.py; these read the page as an HTML parser does.
"""
from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

from tests.conftest import git, google_key
from tests.hostile import Attack, keysentry, new_repo, no_traceback


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: Counter[str] = Counter()
        self.attributes: set[str] = set()
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        self.attributes.update(name for name, _ in attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _page(repo: Path, *args: str) -> tuple[str, _Page]:
    proc = keysentry("scan", *args, repo, "--format", "html", cwd=repo.parent)
    no_traceback(proc)
    assert proc.returncode == 1, proc.stderr.decode("utf-8", "replace")
    html = proc.stdout.decode("utf-8")
    page = _Page()
    page.feed(html)
    return html, page


_MARKUP = ("<script>alert(1)</script>.py", '"><img src=x onerror=alert(2)>.js', "</textarea><textarea>.cfg",
           "--><!--.txt", "]]><svg onload=alert(3)>.xml", "<style>body{display:none}</style>.env")


def _markup_in_names_stays_text(tmp_path: Path) -> None:
    """Markup in file names, an author and a key in a file's name: one script and one style (the
    page's own), no element or handler of theirs, every name shown as written, the key redacted."""
    repo = new_repo(tmp_path)
    key = google_key()
    names = (*_MARKUP, f"config-{key}.json")
    for name in names:
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f'GEMINI_API_KEY="{google_key()}"\n')
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "</title><script>alert(4)</script>",
        env={"GIT_AUTHOR_NAME": 'x" onmouseover="alert(5) &amp; y'})
    for mode in ((), ("--history",)):
        html, page = _page(repo, *mode)
        assert page.tags["script"] == 1 and page.tags["style"] == 1, (mode, page.tags)
        assert not {"img", "textarea", "iframe", "link"} & set(page.tags), page.tags
        assert page.tags["svg"] == (1 if mode else 0)  # the timeline, drawn by keysentry
        assert not [a for a in page.attributes if a.startswith("on")], page.attributes
        text = "".join(page.text)
        for name in _MARKUP:
            assert name in text, name
        assert key not in html and f"config-{key[:4]}…{key[-2:]}.json" in text
        if mode:
            assert 'x" onmouseover="alert(5) &amp; y' in text


def _many_copies_stay_small(tmp_path: Path) -> None:
    """One key in 3,000 files: one row, ten places named and the rest folded away, a page linear in
    the places (not thousands of rows of thousands of places)."""
    repo = new_repo(tmp_path)
    key = google_key()
    for i in range(3000):
        folder = repo / f"samples/{i // 100:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"s{i:04d}.html").write_text(f'<script src="https://maps.googleapis.com/maps/api/js?key={key}"></script>\n')
    html, page = _page(repo)
    assert html.count("<tbody class=\"secret\"") == 1  # the one secret
    assert "and 2990 more files" in "".join(page.text)
    assert len(html.encode()) < 3000 * 200 + 100_000, len(html)
    assert "samples/29/s2999.html:1:58" in html  # folded away, not dropped


REPOS = [
    Attack("html-markup-in-names-stays-text", "html", _markup_in_names_stays_text),
    Attack("html-many-copies-stay-small", "html", _many_copies_stay_small),
]
INPUTS: list[Attack] = []
