"""The blocked-commit and blocked-push message: per finding what to do, once how to bypass."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from scanner.cli import main
from scanner.models import Finding, Result, Stats, fingerprint
from scanner.report import Options, redact
from scanner.report.blocked import env_lookup, installed_as, render
from tests.conftest import git, google_key


def _finding(path: str, secret: str, rule_id: str = "google-api-key", line: int = 3, **extra: object) -> Finding:
    return Finding(rule_id, path, line, 9 if line else 0, secret, fingerprint(rule_id, path, secret), **extra)  # type: ignore[arg-type]


def _result(*findings: Finding, mode: str = "staged") -> Result:
    return Result(mode, findings, Stats(files=len(findings)))


LANGUAGES = [
    pytest.param("src/app.py", 'os.environ["GEMINI_API_KEY"]', id="python"),
    pytest.param("notebooks/demo.ipynb", 'os.environ["GEMINI_API_KEY"]', id="notebook"),
    pytest.param("web/main.ts", "process.env.GEMINI_API_KEY", id="typescript"),
    pytest.param("web/App.jsx", "process.env.GEMINI_API_KEY", id="jsx"),
    pytest.param("cmd/main.go", 'os.Getenv("GEMINI_API_KEY")', id="go"),
    pytest.param("src/Main.java", 'System.getenv("GEMINI_API_KEY")', id="java"),
    pytest.param("app/Main.kt", 'System.getenv("GEMINI_API_KEY")', id="kotlin"),
    pytest.param("scripts/deploy.sh", '"$GEMINI_API_KEY"', id="shell"),
    pytest.param(".zshrc", '"$GEMINI_API_KEY"', id="shell rc file"),
    pytest.param("lib/client.rb", 'ENV.fetch("GEMINI_API_KEY")', id="ruby"),
    pytest.param("src/main.rs", 'std::env::var("GEMINI_API_KEY")', id="rust"),
    pytest.param("App/Program.cs", 'Environment.GetEnvironmentVariable("GEMINI_API_KEY")', id="csharp"),
    pytest.param(".github/workflows/ci.yml", "${{ secrets.GEMINI_API_KEY }}", id="github actions"),
]


@pytest.mark.parametrize(("path", "expression"), LANGUAGES)
def test_fix_shows_the_lookup_in_the_files_language(path: str, expression: str) -> None:
    text = render(_result(_finding(path, google_key())), Options())
    assert f"\n                 {expression}\n" in text


@pytest.mark.parametrize("path", ["config/settings.yaml", "README.md", "Dockerfile", "data.bin"])
def test_fix_names_the_variable_where_the_language_is_not_obvious(path: str) -> None:
    assert env_lookup(path, "GEMINI_API_KEY") is None
    text = render(_result(_finding(path, google_key())), Options())
    assert "read the key from the environment variable GEMINI_API_KEY (or GOOGLE_API_KEY)" in " ".join(text.split())


def test_each_finding_has_rule_location_redacted_secret_and_advice() -> None:
    keys = [google_key(), google_key()]
    text = render(_result(_finding("a.py", keys[0], line=2), _finding("b/c.go", keys[1], line=7)), Options(),
                  via="framework")
    assert text.startswith("keysentry: commit blocked: 2 secrets in the staged changes\n")
    for n, (path, key) in enumerate([("a.py:2:9", keys[0]), ("b/c.go:7:9", keys[1])], 1):
        block = text.split(f"\n{n}. ", 1)[1].split("\n\n", 1)[0]
        assert block.startswith("google-api-key  Google API key")
        assert path in block and redact(key) in block
        flat = " ".join(block.split())
        assert "rotate if it was ever pushed or shared, it is leaked" in flat
        assert f"`keysentry:allow` comment on line {path.split(':')[1]}" in flat
        assert "`pre-commit run --hook-stage manual keysentry-baseline`" in flat
    assert text.count("SKIP=keysentry git commit") == 1 and text.count("git commit --no-verify") == 1
    assert text.index("--no-verify") > text.index("2. google-api-key")


def test_never_the_full_secret_and_no_colour_unless_asked() -> None:
    key = google_key()
    text = render(_result(_finding("app.py", key)), Options(color=False))
    assert key not in text and "\x1b[" not in text
    coloured = render(_result(_finding("app.py", key)), Options(color=True))
    assert key not in coloured and "\x1b[" in coloured
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == text


def test_show_secrets_is_honoured_when_asked_for() -> None:
    key = google_key()
    assert key in render(_result(_finding("app.py", key)), Options(show_secrets=True))


def test_dotenv_file_advice_is_to_untrack_it() -> None:
    text = render(_result(_finding(".env", "", rule_id="dotenv-file", line=0), _finding(".env", google_key())),
                  Options())
    assert ".env (whole file)" in text and text.count("`git rm --cached .env`") == 2


def test_other_google_credentials_get_their_own_advice() -> None:
    text = render(_result(_finding("sa.json", "-----BEGIN PRIVATE KEY-----abc", rule_id="gcp-service-account-key"),
                          _finding("auth.py", "1//0" + "x" * 40, rule_id="google-oauth-token")), Options())
    flat = " ".join(text.split())
    assert "GOOGLE_APPLICATION_CREDENTIALS" in flat and "Workload Identity Federation" in flat
    assert "obtain them at run time" in flat


def test_push_message_names_the_commit_and_the_push_bypass() -> None:
    sha = "c0ffee" * 6 + "abcd"
    text = render(_result(_finding("app.py", google_key(), commit=sha), mode="range"), Options(), action="push",
                  via="framework")
    flat = " ".join(text.split())
    assert text.startswith("keysentry: push blocked: 1 secret in the commits being pushed")
    assert f"app.py:3:9 in commit {sha[:12]}" in flat and f"git rebase -i --empty=drop {sha[:12]}^" in flat
    assert "SKIP=keysentry-push git push" in text and "git push --no-verify" in text
    assert "SKIP=keysentry git commit" not in text and "git commit --no-verify" not in text


def test_push_message_amends_or_rebases_the_unpushed_commits() -> None:
    sha = "c0ffee" * 6 + "abcd"
    text = render(_result(_finding("app.py", google_key(), commit=sha), mode="range"), Options(), action="push",
                  via="cli")
    flat = " ".join(text.split())
    assert "`git commit --amend` if it is the last one" in flat and "filter-repo" not in flat
    # A pushed key's commits are in the history: the work-tree baseline would record nothing.
    assert "`keysentry baseline --history`" in flat


@pytest.mark.parametrize("line", [pytest.param(0, id="the file"), pytest.param(1, id="a key in it")])
def test_dotenv_file_is_allowed_through_the_baseline_or_exclude_not_a_comment(line: int) -> None:
    finding = _finding(".env", google_key() if line else "", rule_id="google-api-key" if line else "dotenv-file",
                       line=line)
    flat = " ".join(render(_result(finding), Options(), via="cli").split())
    assert "`keysentry:allow`" not in flat and "under `exclude` in the config" in flat
    assert "`keysentry baseline`" in flat


def test_notebook_advice_clears_the_outputs() -> None:
    flat = " ".join(render(_result(_finding("nb/demo.ipynb", google_key())), Options()).split())
    assert "clear the outputs (`jupyter nbconvert --clear-output --inplace nb/demo.ipynb`" in flat
    assert "rotate the key" in flat


def test_one_secret_in_several_places_is_counted_once() -> None:
    key = google_key()
    text = render(_result(_finding("a.py", key), _finding("b.py", key), _finding(".env", key, line=1),
                          _finding(".env", "", rule_id="dotenv-file", line=0)), Options())
    assert text.startswith("keysentry: commit blocked: 1 secret in the staged changes (found in 3 places)\n")
    settings_only = render(_result(_finding(".env", "", rule_id="dotenv-file", line=0)), Options())
    assert settings_only.startswith("keysentry: commit blocked: 1 secret in the staged changes\n")


def test_file_names_are_escaped_and_keys_in_them_redacted() -> None:
    key = google_key()
    text = render(_result(_finding(f"x\x1b]0;pwn\x07\n{key}.py", key)), Options())
    assert "\x1b" not in text and "\x07" not in text and key not in text
    assert f"x\\x1b]0;pwn\\x07\\n{redact(key)}.py:3:9" in text
    assert f"{key}.py:3:9" in render(_result(_finding(f"{key}.py", key)), Options(show_secrets=True))


def test_fix_made_but_not_staged_says_git_add(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "app.py").write_text(f'API_KEY = "{google_key()}"\nx = 1\n')
    git(repo, "add", "-A")
    (repo / "app.py").write_text('API_KEY = os.environ["GEMINI_API_KEY"]\nx = 1\n')
    assert main(["scan", "--staged", str(repo)]) == 1
    assert "the staged version still holds it: `git add` your fix" in " ".join(capsys.readouterr().out.split())
    git(repo, "add", "-A")
    (repo / "app.py").write_text(f'API_KEY = "{google_key()}"\n')  # another key: not a fix
    assert main(["scan", "--staged", str(repo)]) == 0
    git(repo, "add", "-A")
    (repo / "app.py").write_text((repo / "app.py").read_text() + "y = 2\n")  # edited, key kept
    assert main(["scan", "--staged", str(repo)]) == 1
    assert "`git add` your fix" not in capsys.readouterr().out


def test_lines_fit_the_width() -> None:
    text = render(_result(_finding("src/app.py", google_key())), Options(width=80))
    assert max(len(line) for line in text.splitlines()) <= 80


# Each way in gets the one form of each command that works there, and only that one.
VIAS = [
    pytest.param("framework", "`pre-commit run --hook-stage manual keysentry-baseline`", True, id="pre-commit framework"),
    pytest.param("hook", "baseline` and commit .keysentry-baseline.json (the hooks read it)", False, id="plain hook"),
    pytest.param("cli", "`keysentry baseline` and commit .keysentry-baseline.json (scans read it with", False, id="cli"),
]


@pytest.mark.parametrize(("via", "accept", "skip"), VIAS)
def test_the_advice_names_the_commands_that_work_where_the_hook_runs(via: str, accept: str, skip: bool) -> None:
    text = render(_result(_finding("app.py", google_key())), Options(), via=via)  # type: ignore[arg-type]
    flat = " ".join(text.split())
    assert accept in flat
    assert ("SKIP=keysentry git commit" in flat) == skip and "git commit --no-verify" in flat
    assert ("pre-commit" in flat) == (via == "framework")


def test_a_plain_hook_without_keysentry_on_path_names_its_installed_script(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Isolated (-I): run inside the repository, `-m` would otherwise import a `scanner/` it ships.
    monkeypatch.setenv("PATH", "/nonexistent")
    flat = " ".join(render(_result(_finding("app.py", google_key())), Options(), via="hook").split())
    assert f"`{sys.executable} -I -m scanner baseline`" in flat


@pytest.mark.parametrize(("environ", "via"), [({"PRE_COMMIT": "1"}, "framework"), ({"KEYSENTRY_HOOK": "pre-commit"}, "hook"),
                                             ({}, "cli")])
def test_how_the_hook_runs_is_told_by_its_environment(environ: dict[str, str], via: str) -> None:
    assert installed_as(environ) == via


@pytest.mark.parametrize("color", [False, True], ids=["plain", "colour"])
def test_headings_wrap_between_words_at_80_columns(color: bool) -> None:
    # The longest headings: every rule, with the longest context; a terminal would cut them mid-word.
    from scanner.rules import ALL_RULES

    findings = [_finding(f"notebooks/demo{i}.ipynb", google_key(), rule.id, severity="critical",
                         context="notebook-output") for i, rule in enumerate(ALL_RULES)]
    text = render(_result(*findings), Options(width=80, color=color))
    plain = re.sub(r"\x1b\[[0-9;]*m", "", text)
    assert max(len(line) for line in plain.splitlines()) <= 80
    flowing = " ".join(plain.split())
    for rule in ALL_RULES:
        assert f"{rule.id} {' '.join(rule.description.split())} [critical, notebook output]" in flowing


# --- through the CLI ----------------------------------------------------------------------------

def test_scan_staged_text_report_is_the_blocked_message(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = google_key()
    (repo / "main.py").write_text(f'client = genai.Client(api_key="{key}")\n')
    git(repo, "add", "-A")
    assert main(["scan", "--staged", str(repo)]) == 1
    out = capsys.readouterr().out
    assert "commit blocked: 1 secret" in out and "main.py:1:" in out and key not in out


def test_scan_staged_json_is_unchanged(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "main.py").write_text(f'KEY = "{google_key()}"\n')
    git(repo, "add", "-A")
    assert main(["scan", "--staged", str(repo), "--format", "json"]) == 1
    assert "blocked" not in capsys.readouterr().out


def test_other_modes_keep_the_plain_report(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "main.py").write_text(f'KEY = "{google_key()}"\n')
    assert main(["scan", str(repo)]) == 1
    assert "blocked" not in capsys.readouterr().out


@pytest.mark.parametrize(("severity", "context", "label"), [
    pytest.param("critical", "gemini-client", "[critical, gemini client]", id="gemini client"),
    pytest.param("high", "firebase-config", "[high, firebase config]", id="firebase config"),
    pytest.param("medium", "test-fixture", "[medium, test fixture]", id="test fixture"),
    pytest.param("high", "generic", "[high]", id="generic context is not named"),
])
def test_each_finding_says_its_severity_and_context(severity: str, context: str, label: str) -> None:
    text = render(_result(_finding("app.js", google_key(), severity=severity, context=context)), Options())
    assert text.split("\n1. ", 1)[1].split("\n", 1)[0] == f"google-api-key  Google API key (Gemini, Maps, Firebase, Cloud)  {label}"


@pytest.mark.parametrize(("context", "restriction"), [
    pytest.param("firebase-config", "HTTP referrers", id="firebase config"),
    pytest.param("maps-javascript", "HTTP referrers", id="maps loader"),
    pytest.param("android-resource", "package name + signing SHA-1", id="android"),
    pytest.param("ios-plist", "bundle id", id="ios"),
])
def test_a_key_that_ships_with_an_app_is_told_to_be_restricted(context: str, restriction: str) -> None:
    flat = " ".join(render(_result(_finding("web/app.js", google_key(), context=context)), Options()).split())
    assert "API restrictions" in flat and restriction in flat and "can call Gemini" in flat
    assert "GEMINI_API_KEY" not in flat and "process.env" not in flat


def test_a_gemini_key_in_code_is_still_moved_to_the_environment() -> None:
    flat = " ".join(render(_result(_finding("ai.py", google_key(), context="gemini-client")), Options()).split())
    assert 'os.environ["GEMINI_API_KEY"]' in flat


@pytest.mark.parametrize(("via", "command"), [
    ("framework", "`pre-commit run --hook-stage manual keysentry-fix` makes the change"),
    ("cli", "`keysentry fix --apply` makes the change"),
])
def test_the_autofix_names_the_fix_command_that_works_where_the_hook_runs(via: str, command: str) -> None:
    flat = " ".join(render(_result(_finding("app.py", google_key())), Options(), via=via).split())  # type: ignore[arg-type]
    assert "autofix `keysentry fix` replaces the key with an environment lookup (python)" in flat
    assert command in flat
