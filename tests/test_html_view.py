"""The HTML report's content, read as an HTML parser does: the verification column appears when
--verify ran, the timeline counts secrets per month, one row per secret, the print style."""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from scanner import report
from scanner.models import Finding, Location, Result, Stats, Verification, fingerprint
from tests.conftest import google_key


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.headers: list[str] = []
        self.counts: dict[str, str] = {}
        self.bars: dict[str, str] = {}
        self.rows = 0
        self._th = False
        self._count: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self._th = (tag == "button" and "data-sort" in a) or tag == "th"
        self._count = a.get("data-count") if tag != "rect" else None
        if tag == "rect" and a.get("data-month"):
            self.bars[a["data-month"] or ""] = a.get("data-count") or ""
        if tag == "tbody" and a.get("class") == "secret":
            self.rows += 1

    def handle_data(self, data: str) -> None:
        if self._th and data.strip() and data.strip() not in self.headers:
            self.headers.append(data.strip())
        if self._count:
            self.counts[self._count] = data.strip()
            self._count = None


def finding(key: str, path: str, date: str | None = None, status: str | None = None, **extra: object) -> Finding:
    return Finding("google-api-key", path, 1, 8, key, fingerprint("google-api-key", path, key), date=date,
                   commit="a" * 40 if date else None, author="Ada" if date else None, in_head=True if date else None,
                   verification=Verification(status, f"the server said {status}") if status else None,
                   **extra)  # type: ignore[arg-type]


def page(*findings: Finding, mode: str = "history") -> tuple[str, _Page]:
    html = report.render(Result(mode, findings, Stats(commits=3)), "html", report.Options())
    parsed = _Page()
    parsed.feed(html)
    return html, parsed


def test_verification_column_and_counts_when_verify_ran() -> None:
    html, parsed = page(finding(google_key(), "a.py", "2024-01-02T00:00:00+00:00", "live"),
                        finding(google_key(), "b.py", "2024-01-03T00:00:00+00:00", "restricted"),
                        finding(google_key(), "c.py", "2024-01-04T00:00:00+00:00", "live"))
    assert "Verification" in parsed.headers
    assert (parsed.counts["verified-live"], parsed.counts["verified-restricted"]) == ("2", "1")
    assert "the server said restricted" in html


def test_no_verification_column_without_verify() -> None:
    _, parsed = page(finding(google_key(), "a.py", "2024-01-02T00:00:00+00:00"))
    assert "Verification" not in parsed.headers
    assert not [k for k in parsed.counts if k.startswith("verified-")]


def test_timeline_counts_secrets_per_month_with_the_gaps() -> None:
    key = google_key()
    html, parsed = page(finding(key, "a.py", "2023-11-02T00:00:00+00:00"),
                        finding(key, "b.py", "2024-02-03T00:00:00+00:00"),  # the same secret: its first month
                        finding(google_key(), "c.py", "2023-11-20T00:00:00+00:00"),
                        finding(google_key(), "d.py", "2024-02-01T00:00:00+00:00"))
    assert parsed.bars == {"2023-11": "2", "2024-02": "1"}
    assert parsed.rows == 3
    assert len(re.findall(r"<rect class=\"bar\"", html)) == 2
    assert "<svg" in html and "<script src" not in html


@pytest.mark.parametrize("mode", ["worktree", "stdin"])
def test_a_tree_has_no_commit_columns_and_no_timeline(mode: str) -> None:
    key = google_key()
    html, parsed = page(finding(key, "a.py", locations=(Location("a.py", 1, 8), Location("b.py", 4, 2))), mode=mode)
    assert "First commit" not in parsed.headers and "Path" in parsed.headers
    assert "<svg" not in html
    assert "b.py:4:2" in html


def test_print_style_drops_the_controls() -> None:
    html, _ = page(finding(google_key(), "a.py", "2024-01-02T00:00:00+00:00"))
    print_css = html[html.index("@media print"):html.index("</style>")]
    assert re.search(r"#controls[^{]*\{ display: none; \}", print_css)
    assert 'addEventListener("beforeprint"' in html
