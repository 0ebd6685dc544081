"""The text report in a terminal or CI log: 80 columns break no word, a big audit opens with its
counts, each rule's fix is said once, --output still says what was written, --show-secrets is
advised only where it would print something, and the progress bar counts in the summary's units."""
from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from scanner.cli import main
from scanner.report import Options, present
from scanner.report.summary import summarize
from scanner.report.text import BIG_REPORT, render, size_text
from scanner.scan import Request, run
from tests.conftest import git, google_key, random_chars

LOCATION = re.compile(r"^    \S.*:\d+:\d+  secret |^    \S.* \(whole file\)  secret ")


def big_history(repo: Path) -> None:
    """An audit with more than BIG_REPORT findings, some removed again, a long author name."""
    for n in range(BIG_REPORT + 2):
        (repo / f"service_{n}.py").write_text(f'KEY = "{google_key()}"\napi_key = "{random_chars(20)}"\n')
    (repo / ".env").write_text(f"SECRET={random_chars(24)}\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "keys", env={"GIT_AUTHOR_NAME": "Maximiliana Theodora Featherstonehaugh-Worthington"})
    for n in range(4):
        git(repo, "rm", "-q", f"service_{n}.py")
    git(repo, "commit", "-qm", "some removed")


def history_view(repo: Path, **options: object):  # type: ignore[no-untyped-def]
    result = run(Request(mode="history", path=repo, revision_range=None, config=None, baseline=None, jobs=1,
                         max_file_size=None, progress=False))
    return present(result, Options(**options))  # type: ignore[arg-type]


def test_at_80_columns_only_locations_and_commands_are_longer_and_no_word_is_cut(repo: Path) -> None:
    big_history(repo)
    view = history_view(repo, width=80)
    out = render(view, Options(width=80))
    long = [line for line in out.splitlines() if len(line) > 80]
    # A `path:line:column` and a command are never broken (grep, editors and copy-paste need them whole).
    assert all(LOCATION.match(line) or line.startswith("  git ") for line in long), long
    words = set(out.split())
    for sentence in ("gone from HEAD but readable in every clone", "coordinate with everyone who has a clone",
                     "rerun with --show-secrets to have it print those lines"):
        assert all(word in words for word in sentence.split()), sentence
        # Wrapped at spaces, in order, nothing cut (a wrapped shell comment repeats its "#").
        assert sentence in " ".join(word for word in out.split() if word != "#")


def test_big_audit_opens_with_the_summary_models_counts(repo: Path) -> None:
    big_history(repo)
    view = history_view(repo)
    summary = summarize(view)
    lines = render(view, Options()).splitlines()
    assert lines[0] == f"Summary: {summary.findings} findings, {summary.secrets} distinct secrets"
    head = "\n".join(lines[:8])
    assert "by severity: " + ", ".join(f"{s} {n}" for s, n in summary.by_severity if n) in head
    assert "by rule: " + ", ".join(f"{r.rule_id} {r.findings}" for r in summary.by_rule) in head
    assert f"still in HEAD: {summary.in_head}; only in history: {summary.history_only}" in head


def test_small_report_has_no_summary_block(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "app.py").write_text(f'KEY = "{google_key()}"\n')
    assert main(["scan", str(repo)]) == 1
    assert not capsys.readouterr().out.startswith("Summary")


def test_each_rules_fix_is_printed_once(repo: Path) -> None:
    big_history(repo)
    view = history_view(repo)
    out = render(view, Options())
    remedies = {f.rule.gone if (f.rule.whole_file and f.in_head is False and getattr(f.rule, "gone", "")) else
                f.rule.remediation for f in view.findings}
    assert out.count("    fix: ") == len(remedies) < len(view.findings)


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "markdown"])
def test_output_file_with_findings_says_how_many_were_written_where(repo: Path, tmp_path: Path, fmt: str,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "a.py").write_text(f'A = "{google_key()}"\nB = "{google_key()}"\n')
    target = tmp_path / f"report.{fmt}"
    assert main(["scan", str(repo), "--format", fmt, "--output", str(target)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"keysentry: 2 findings written to {target}\n"


def test_output_file_without_findings_is_quiet(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "a.py").write_text("print('hi')\n")
    assert main(["scan", str(repo), "--format", "sarif", "--output", str(tmp_path / "r.sarif")]) == 0
    assert capsys.readouterr().err == ""


def removed(repo: Path, name: str, text: str) -> None:
    (repo / name).write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", f"add {name}")
    git(repo, "rm", "-q", name)
    git(repo, "commit", "-qm", f"remove {name}")


ADVICE = {
    "a removed key: its replace-text line needs the secret": ("K = '{key}'\n", "k.py", [], True),
    "only a removed .env: the purge removes the file, no secret to print": ("PASSWORD=x{pw}\n", ".env", [], False),
    "already given": ("K = '{key}'\n", "k.py", ["--show-secrets"], False),
}


@pytest.mark.parametrize(("text", "name", "extra", "advised"), ADVICE.values(), ids=ADVICE.keys())
def test_show_secrets_is_advised_only_where_it_would_show_something(repo: Path, capsys: pytest.CaptureFixture[str],
                                                                    text: str, name: str, extra: list[str],
                                                                    advised: bool) -> None:
    removed(repo, name, text.format(key=google_key(), pw=random_chars(20)))
    assert main(["scan", "--history", str(repo), *extra]) == 1
    assert ("--show-secrets" in capsys.readouterr().out) == advised


def test_progress_bar_fits_80_columns_and_counts_in_the_summarys_units(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    for n in range(8):
        (repo / f"data{n}.txt").write_text(random_chars(100_000))
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", f"data {n}")
    report = tmp_path / "report.json"
    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    proc = subprocess.Popen([str(Path(sys.executable).with_name("keysentry")), "scan", "--history", str(repo),
                             "--format", "json", "--output", str(report), "--jobs", "1"],
                            stdin=secondary, stdout=secondary, stderr=secondary, env={**os.environ, "TERM": "xterm"})
    os.close(secondary)
    screen = b""
    while True:
        ready, _, _ = select.select([primary], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(primary, 65536)
            except OSError:
                break
            if not chunk:
                break
            screen += chunk
        elif proc.poll() is not None:
            break
    assert proc.wait(timeout=60) == 0
    os.close(primary)
    text = re.sub(r"\x1b\[[0-9;]*m", "", screen.decode("utf-8", "replace"))
    frames = [part for part in re.split(r"\r|\n|\x1b\[2K|\x1b\[1A|\x1b\[\?25[lh]", text) if "blobs" in part]
    assert frames, text
    stats = json.loads(report.read_text())["stats"]
    for frame in frames:
        assert len(frame) <= 80, frame
        assert frame.startswith("scanning ") and f"/ {stats['blobs']} blobs" in frame
        # The bar's total is the summary's "(X MB)": same bytes, same 1024-based units.
        assert f"/ {size_text(stats['bytes'])}" in frame, frame
