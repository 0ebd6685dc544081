"""What the reports say and what they never say: text, json and sarif, to stdout and to files."""
from __future__ import annotations

import io
import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from scanner.cli import main
from scanner.models import Finding, Result, Stats
from scanner.report import redact
from scanner.rules import RULES_BY_ID
from tests.conftest import git, google_key, random_chars

ANSI = re.compile(r"\x1b\[")


def app_with_keys(repo: Path) -> tuple[str, str]:
    first, second = google_key(), google_key()
    (repo / "src").mkdir(exist_ok=True)
    (repo / "src" / "app.py").write_text(
        "from google import genai\n"
        f'client = genai.Client(api_key="{first}")\n'
        f'backup = "{second}"\n'
    )
    return first, second


# --- redaction ------------------------------------------------------------------------------------

REDACT_CASES = {
    "google key": ("AIzaSy" + "A" * 31 + "xyz", "AIza…yz"),
    "twelve chars": ("abcdefghijkl", "abcd…kl"),
    "short": ("abcdefg", "ab…"),
    "tiny": ("abc", "…"),
}


@pytest.mark.parametrize(("secret", "shown"), REDACT_CASES.values(), ids=REDACT_CASES.keys())
def test_redact_keeps_at_most_first_four_and_last_two(secret: str, shown: str) -> None:
    assert redact(secret) == shown
    visible = shown.replace("…", "")
    assert len(visible) <= 6 and secret.startswith(shown.split("…")[0]) and secret.endswith(shown.split("…")[1])


def _secrets_in_tree(repo: Path) -> list[str]:
    first, second = app_with_keys(repo)
    dotenv_value = random_chars(24)
    (repo / ".env").write_text(f"DATABASE_PASSWORD={dotenv_value}\n")
    return [first, second, dotenv_value]


@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
@pytest.mark.parametrize("to_file", [False, True], ids=["stdout", "file"])
def test_full_secret_never_leaves_the_scanner(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              fmt: str, to_file: bool) -> None:
    secrets = _secrets_in_tree(repo)
    report = tmp_path / f"report.{fmt}"
    args = ["scan", str(repo), "--format", fmt] + (["--output", str(report)] if to_file else [])
    assert main(args) == 1
    captured = capsys.readouterr()
    everything = captured.out + captured.err + (report.read_text() if to_file else "")
    assert "AIza…" in everything  # the findings are there...
    for secret in secrets:
        assert secret not in everything  # ...but never the secrets
        assert secret[4:-2] not in everything


@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
def test_show_secrets_prints_them_in_full(repo: Path, capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    first, second = app_with_keys(repo)
    assert main(["scan", str(repo), "--format", fmt, "--show-secrets"]) == 1
    out = capsys.readouterr().out
    assert first in out and second in out


@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
def test_key_in_the_name_of_a_skipped_file_is_redacted(repo: Path, capsys: pytest.CaptureFixture[str],
                                                        fmt: str) -> None:
    """The summary names the files skipped for their size; one named after a key is redacted there
    too, in every format (the view masks every name once, the stats' included)."""
    key = google_key()
    (repo / f"dump-{key}.bin").write_text("x" * 4000)
    (repo / "app.py").write_text(f'KEY = "{google_key()}"\n')
    assert main(["scan", str(repo), "--format", fmt, "--max-file-size", "1KB"]) == 1
    out = capsys.readouterr().out
    assert key not in out and f"dump-{redact(key)}.bin" in out
    assert main(["scan", str(repo), "--format", fmt, "--max-file-size", "1KB", "--show-secrets"]) == 1
    assert key in capsys.readouterr().out


def test_baseline_file_holds_no_secret(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    secrets = _secrets_in_tree(repo)
    assert main(["baseline", str(repo)]) == 0
    text = (repo / ".keysentry-baseline.json").read_text() + capsys.readouterr().err
    for secret in secrets:
        assert secret not in text and secret[:8] not in text


# --- fingerprints ------------------------------------------------------------------------------------

def fingerprints(capsys: pytest.CaptureFixture[str], path: Path) -> dict[str, tuple[int, str]]:
    main(["scan", str(path), "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    return {f["rule_id"] + ":" + str(i): (f["line"], f["fingerprint"]) for i, f in enumerate(data["findings"])}


def test_fingerprint_survives_lines_inserted_above(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    app_with_keys(repo)
    (repo / ".env").write_text("TOKEN=" + random_chars(30) + "\n")
    git(repo, "add", "-A")
    before = fingerprints(capsys, repo)
    for path in (repo / "src" / "app.py", repo / ".env"):
        path.write_text("# a new first line\n\n\n" + path.read_text() + "# and more below\n")
    after = fingerprints(capsys, repo)
    assert [fp for _, fp in before.values()] == [fp for _, fp in after.values()]
    assert [line for line, _ in before.values()] != [line for line, _ in after.values()]


def test_fingerprint_depends_on_rule_path_and_secret(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = google_key()
    (repo / "a.py").write_text(f'K = "{key}"\n')
    (repo / "b.py").write_text(f'K = "{key}"\n')
    (repo / "c.py").write_text(f'K = "{google_key()}"\n')
    # The report folds a.py's and b.py's copies into one finding; the baseline keeps each place's.
    assert main(["baseline", str(repo)]) == 0
    baseline = json.loads((repo / ".keysentry-baseline.json").read_text())
    prints = [entry["fingerprint"] for entry in baseline["findings"]]
    assert len(set(prints)) == 3


# --- the text report ---------------------------------------------------------------------------------

def test_text_report_groups_by_file_with_location_and_fix(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = app_with_keys(repo)
    (repo / "z.py").write_text(f'K = "{google_key()}"\n')
    assert main(["scan", str(repo)]) == 1
    out = capsys.readouterr().out
    rule = RULES_BY_ID["google-api-key"]
    lines = out.splitlines()
    assert lines[0] == "src/app.py"
    assert lines[1].split() == ["google-api-key", *rule.description.split()]
    assert lines[2] == f"    src/app.py:2:32  secret {redact(first)}"
    assert lines[3].startswith("    fix: " + rule.remediation.split()[0])
    assert f"    src/app.py:3:11  secret {redact(second)}" in lines
    assert "z.py" in lines and "    z.py:1:6  secret " in out
    assert out.index("src/app.py") < out.index("\nz.py\n")
    summary = lines[-1]
    assert re.fullmatch(r"Scanned 2 files \(\d+ B\) in \d+\.\d\ds: 3 findings \(google-api-key: 3\)", summary)
    # The whole remediation is there, wrapped but not cut, with no trailing blanks.
    # ...and then `keysentry fix` named as the next step.
    after = lines.index(next(line for line in lines if line.startswith("    next: `keysentry fix`")))
    fix = " ".join(line.strip() for line in lines[3:after])
    assert fix == "fix: " + rule.remediation
    assert all(line == line.rstrip() for line in lines)


def test_text_report_for_a_clean_tree(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "app.py").write_text("print('hello')\n")
    assert main(["scan", str(repo)]) == 0
    out = capsys.readouterr().out
    assert re.fullmatch(r"Scanned 1 file \(\d+ B\) in \d+\.\d\ds: no secrets found\n", out)


def test_long_location_lines_are_never_broken_when_piped(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    deep = repo.joinpath(*[f"folder-number-{i}" for i in range(8)])
    deep.mkdir(parents=True)
    (deep / "settings.py").write_text(f'KEY = "{google_key()}"\n')
    main(["scan", str(repo)])
    out = capsys.readouterr().out
    rel = deep.relative_to(repo).as_posix()
    assert any(line.startswith(f"    {rel}/settings.py:1:8  secret AIza…") for line in out.splitlines())


def test_no_ansi_codes_when_piped(repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    app_with_keys(repo)
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich honours this; a pipe still gets plain text
    monkeypatch.setenv("TERM", "xterm-256color")
    assert main(["scan", str(repo)]) == 1
    captured = capsys.readouterr()
    assert not ANSI.search(captured.out + captured.err)


def run_in_terminal(args: list[str], env: dict[str, str]) -> str:
    """Run keysentry with a pseudo-terminal as standard output, as a person at a terminal would."""
    controller, terminal = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "scanner", *args], stdout=terminal, stderr=subprocess.PIPE,
                            env=env)
    os.close(terminal)
    chunks = []
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal is gone once the process exits
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(controller)
    assert proc.wait(timeout=60) == 1
    assert proc.stderr is not None and b"Traceback" not in proc.stderr.read()
    return b"".join(chunks).decode()


def test_colour_on_a_terminal_but_not_with_no_color(repo: Path) -> None:
    first, _ = app_with_keys(repo)
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    coloured = run_in_terminal(["scan", str(repo)], env)
    assert ANSI.search(coloured) and "google-api-key" in coloured and first not in coloured
    plain = run_in_terminal(["scan", str(repo)], {**env, "NO_COLOR": "1"})
    assert not ANSI.search(plain) and "src/app.py:2:32" in plain


# --- the JSON report ---------------------------------------------------------------------------------

def test_json_report_matches_the_contract(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = app_with_keys(repo)
    (repo / ".env").write_text("PASSWORD=" + random_chars(20) + "\n")
    git(repo, "add", "-A")
    assert main(["scan", str(repo), "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert list(data) == ["version", "mode", "findings", "stats"]
    assert (data["version"], data["mode"]) == (1, "worktree")
    keys = ["rule_id", "path", "line", "column", "secret", "fingerprint", "commit", "author", "date", "in_head",
            "severity", "context", "locations", "verification"]
    assert all(list(f) == keys for f in data["findings"])
    assert [(f["rule_id"], f["path"], f["line"], f["column"], f["secret"]) for f in data["findings"]] == [
        ("dotenv-file", ".env", 0, 0, data["findings"][0]["secret"]),
        ("google-api-key", "src/app.py", 2, 32, redact(first)),
        ("google-api-key", "src/app.py", 3, 11, redact(second)),
    ]
    for f in data["findings"]:
        assert re.fullmatch(r"[0-9a-f]{40}", f["fingerprint"])
        assert (f["commit"], f["author"], f["date"], f["in_head"]) == (None, None, None, None)
    stats = data["stats"]
    assert {"files", "blobs", "commits", "bytes", "seconds"} <= set(stats)
    assert stats["files"] == 2 and stats["bytes"] == sum(p.stat().st_size for p in (repo / "src" / "app.py", repo / ".env"))
    assert isinstance(stats["seconds"], float)


def test_stdin_is_reported_with_path_dash(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                                          tmp_path: Path) -> None:
    key = google_key()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(f'\n  key = "{key}"\n'.encode())))
    assert main(["scan", "-", "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["mode"] == "stdin"
    assert [(f["path"], f["line"], f["column"]) for f in data["findings"]] == [("-", 2, 10)]
    assert data["stats"]["files"] == 1


def test_report_to_a_file_leaves_stdout_empty(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    app_with_keys(repo)
    report = tmp_path / "out.json"
    assert main(["scan", str(repo), "--format", "json", "--output", str(report)]) == 1
    assert capsys.readouterr().out == ""
    assert len(json.loads(report.read_text())["findings"]) == 2
    assert oct(report.stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


ODD_NAMES = [(b"caf\xe9.py", "caf\\xe9.py"), (b"[bold]rich[/bold].py", "[bold]rich[/bold].py"),
             ("ünïcode dir/ä b.py".encode(), "ünïcode dir/ä b.py")]


@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
def test_odd_file_names_in_every_format_and_the_baseline(repo: Path, tmp_path: Path, fmt: str,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    for raw, _ in ODD_NAMES:
        path = os.path.join(os.fsencode(repo), raw)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as fh:
            fh.write(f'KEY = "{google_key()}"\n')
    assert main(["scan", str(repo), "--format", fmt]) == 1
    out = capsys.readouterr().out
    if fmt == "sarif":
        from urllib.parse import unquote_to_bytes

        results = json.loads(out)["runs"][0]["results"]
        uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results]
        assert sorted(unquote_to_bytes(u) for u in uris) == sorted(raw for raw, _ in ODD_NAMES)
    elif fmt == "json":
        assert sorted(f["path"] for f in json.loads(out)["findings"]) == sorted(s for _, s in ODD_NAMES)
    else:
        for _, shown in ODD_NAMES:
            assert shown in out  # printed as is, never taken as rich markup
    baseline = tmp_path / "baseline.json"
    assert main(["baseline", str(repo), "--output", str(baseline)]) == 0
    assert sorted(e["path"] for e in json.loads(baseline.read_text())["findings"]) == sorted(s for _, s in ODD_NAMES)
    capsys.readouterr()
    assert main(["scan", str(repo), "--baseline", str(baseline)]) == 0


# --- speed (issue 7, item 14) ------------------------------------------------------------------------

def _many_findings(n: int) -> Result:
    findings = tuple(Finding("google-api-key", f"src/module_{i // 4}.py", i % 4 + 1, 9, google_key(), f"{i:040x}")
                     for i in range(n))
    return Result("worktree", findings, Stats(files=n // 4, bytes=n * 60))


def test_text_report_of_40k_findings_is_not_pathologically_slower_than_json() -> None:
    import time

    from scanner.report import Options, render

    result = _many_findings(40_000)

    def timed(fmt: str) -> float:
        started = time.perf_counter()
        out = render(result, fmt, Options(width=80))
        assert out.count("AIza…") == 40_000
        return time.perf_counter() - started

    as_json, as_text = timed("json"), timed("text")
    assert as_text < 5 * as_json, (as_text, as_json)


def test_coloured_text_report_styles_without_wrapping_locations() -> None:
    from scanner.report import Options, render

    result = _many_findings(8)
    coloured = render(result, "text", Options(color=True, width=40))
    assert ANSI.search(coloured)
    plain = re.sub(r"\x1b\[[0-9;]*m", "", coloured)
    assert plain == render(result, "text", Options(color=False, width=40))
    assert "    src/module_0.py:1:9  secret AIza…" in plain


# --- names in the summary (item 23) --------------------------------------------------------------------

def test_summary_names_the_first_files_skipped_for_their_size() -> None:
    from scanner.models import Result, Stats
    from scanner.report import Options, render

    stats = Stats(files=2, skipped_large=7)
    for name in ("big.bin", "evil\x1b[2J.bin", "c.bin"):
        stats.note_large(name)
    out = render(Result("worktree", (), stats), "text", Options())
    # The summary wraps at spaces to the report's width (issue 10): read it as one line.
    assert " ".join(out.split()).endswith(r"skipped: 7 over the size limit (big.bin, evil\x1b[2J.bin, c.bin, …)")


# --- shell words (item 16) -----------------------------------------------------------------------------

SHELL_PATHS = ["plain/.env", "with space/.env", "it's/.env", "new\nline/.env", "esc\x1b[31m/.env",
               "caf\udce9/.env", "bidi\u202e/.env", "back\\slash/.env", "$(touch x)/.env"]


@pytest.mark.parametrize("path", SHELL_PATHS)
def test_shell_word_is_one_printable_line_the_shell_reads_back(path: str, tmp_path: Path) -> None:
    from scanner.report import printable, shell_word

    word = shell_word(path)
    assert word == printable(word) and "\n" not in word
    proc = subprocess.run(["bash", "-c", f"printf '%s' {word}"], capture_output=True, check=True, cwd=tmp_path)
    assert proc.stdout == path.encode("utf-8", "surrogateescape")
    assert not list(tmp_path.iterdir())


# --- the package's seams ---------------------------------------------------------------------------

def test_no_reporter_imports_the_scan_pipeline() -> None:
    """scan -> baseline -> report must not lead back to scan: reporters know results (models), not
    how they are made. Checked in the source (TYPE_CHECKING imports too) and in a fresh interpreter."""
    import ast

    import scanner

    for source in (Path(scanner.__file__).parent / "report").glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            assert not any(n == "scanner.scan" or n.startswith("scanner.sources") for n in names), source.name
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, scanner.baseline, scanner.report.text, scanner.report.json_report, "
                               "scanner.report.sarif, scanner.report.blocked; print(sorted(sys.modules))"],
        capture_output=True, text=True, check=True).stdout
    assert "'scanner.scan'" not in loaded and "'scanner.detect'" not in loaded
