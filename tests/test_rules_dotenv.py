"""dotenv-file: a committed .env with a value is a finding of its own; templates only with a real secret."""
from __future__ import annotations

from pathlib import Path

import pytest

from scanner.cli import main
from scanner.detect import Detector
from scanner.rules.dotenv import DOTENV_FILE
from tests.conftest import google_key, hex_secret, random_chars

# Every test here runs on each engine: they must find the same secrets.
pytestmark = pytest.mark.usefixtures("engine")


def _found(text: str, path: str) -> list[tuple[str, int, int]]:
    return [(m.rule_id, m.line, m.column) for m in Detector().scan(text.encode(), path).matches]


@pytest.mark.parametrize("path", [
    pytest.param(".env", id=".env"),
    pytest.param(".env.local", id=".env.local"),
    pytest.param(".env.production", id=".env.production"),
    pytest.param(".env.development.local", id=".env.development.local"),
    pytest.param("services/api/.env", id="nested folder"),
    pytest.param("deploy/.env.staging", id="nested staging"),
])
def test_dotenv_file_detects_committed_env(path: str) -> None:
    text = f"DATABASE_URL=postgres://app:{hex_secret(16)}@db:5432/app\nDEBUG=false\n"
    assert _found(text, path) == [("dotenv-file", 0, 0)]


@pytest.mark.parametrize("text", [
    pytest.param("PORT=8000\n", id="a number"),
    pytest.param("DEBUG=true\n", id="a boolean"),
    pytest.param("export SESSION_SECRET='s3cr3t-value'\n", id="export quoted"),
    pytest.param("# settings\n\nNAME = value\n", id="spaces around ="),
    pytest.param('JSON={"a": 1}\n', id="json value"),
    pytest.param("TOKEN=abc # trailing comment\n", id="value with comment"),
    pytest.param("EMPTY=\nREAL=1\n", id="second line holds it"),
    pytest.param("KEY=value\r\n", id="crlf"),
    pytest.param('MULTI="first\nsecond"\n', id="multi-line value"),
])
def test_dotenv_file_counts_any_real_value(text: str) -> None:
    assert _found(text, ".env") == [("dotenv-file", 0, 0)]


@pytest.mark.parametrize("text", [
    pytest.param("", id="empty file"),
    pytest.param("# GEMINI_API_KEY=\n", id="comments only"),
    pytest.param("GEMINI_API_KEY=\nDATABASE_URL=\n", id="empty values"),
    pytest.param("GEMINI_API_KEY=''\nOTHER=\"\"\n", id="empty quotes"),
    pytest.param("GEMINI_API_KEY=your_key_here\n", id="placeholder"),
    pytest.param("GEMINI_API_KEY=<YOUR_API_KEY_HERE>\n", id="angle placeholder"),
    pytest.param("API_KEY=${API_KEY}\n", id="template reference"),
    pytest.param("API_KEY= # set me\n", id="only a comment"),
    pytest.param("API_KEY=null\n", id="null"),
])
def test_dotenv_file_ignores_env_without_values(text: str) -> None:
    assert _found(text, ".env") == []


@pytest.mark.parametrize("path", [
    pytest.param(".env.example", id=".env.example"),
    pytest.param(".env.sample", id=".env.sample"),
    pytest.param(".env.template", id=".env.template"),
    pytest.param(".env.dist", id=".env.dist"),
    pytest.param("app/.env.local.example", id="local example"),
    pytest.param(".env.vault", id="dotenv-vault"),
])
def test_dotenv_templates_with_stand_ins_are_quiet(path: str) -> None:
    text = "GEMINI_API_KEY=your_key_here\nPORT=8000\nDEBUG=true\nDATABASE_URL=postgres://localhost/app\n"
    assert _found(text, path) == []


@pytest.mark.parametrize("path", [
    pytest.param(".env.example", id=".env.example"),
    pytest.param(".env.sample", id=".env.sample"),
    pytest.param(".env.template", id=".env.template"),
    pytest.param(".env.dist", id=".env.dist"),
])
def test_dotenv_templates_with_a_real_secret_are_flagged(path: str) -> None:
    text = f"PORT=8000\nGEMINI_API_KEY={google_key()}\n"
    assert _found(text, path) == [("google-api-key", 2, 16), ("dotenv-file", 0, 0)]


def test_secret_in_env_is_reported_under_its_rule_and_the_file() -> None:
    key, token = google_key(), random_chars(32)
    text = f"# local\nGOOGLE_API_KEY={key}\nSERVICE_API_KEY={token}\n"
    scanned = Detector().scan(text.encode(), ".env")
    assert [(m.rule_id, m.line, m.column, m.secret) for m in scanned.matches] == [
        ("google-api-key", 2, 16, key), ("hardcoded-api-key", 3, 17, token), ("dotenv-file", 0, 0, key)]
    # The file's finding is keyed on the file, not on its content, so editing it keeps the baseline.
    assert scanned.matches[-1].identity == ""


@pytest.mark.parametrize("path", [
    pytest.param("env", id="no dot"),
    pytest.param(".envrc", id="direnv"),
    pytest.param("config/app.env.ts", id="source file"),
    pytest.param(".environment", id="longer name"),
    pytest.param("docs/dotenv.md", id="docs"),
])
def test_dotenv_rule_is_about_env_files_only(path: str) -> None:
    assert [f for f in _found("PORT=8000\n", path) if f[0] == "dotenv-file"] == []


def test_dotenv_allow_pragma_silences_the_secret_line_not_the_file() -> None:
    text = f"GEMINI_API_KEY={google_key()}  # keysentry:allow\n"
    scanned = Detector().scan(text.encode(), ".env")
    assert [m.rule_id for m in scanned.matches] == ["dotenv-file"] and scanned.allowed == 1


def test_disabling_dotenv_rule_keeps_the_secret_finding() -> None:
    text = f"GEMINI_API_KEY={google_key()}\n"
    scanned = Detector.configured(disabled=["dotenv-file"]).scan(text.encode(), ".env")
    assert [m.rule_id for m in scanned.matches] == ["google-api-key"]


def test_dotenv_advice_names_what_silences_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # An inline pragma never silences the file's finding (see above): the advice must not offer it.
    assert "`exclude`" in DOTENV_FILE.remediation and "keysentry baseline" in DOTENV_FILE.remediation
    (tmp_path / ".env").write_text("PORT=8000\nLOG_LEVEL=debug  # keysentry:allow\n")
    assert main(["scan", str(tmp_path)]) == 1
    (tmp_path / ".keysentry.toml").write_text('exclude = [".env"]\n')
    assert main(["scan", str(tmp_path)]) == 0
    (tmp_path / ".keysentry.toml").unlink()
    baseline = tmp_path / "baseline.json"
    assert main(["baseline", str(tmp_path), "--output", str(baseline)]) == 0
    assert main(["scan", str(tmp_path), "--baseline", str(baseline)]) == 0
    capsys.readouterr()


@pytest.mark.parametrize("value", [
    pytest.param("x" + " " * 80_000 + "y", id="a run of spaces inside"),
    pytest.param("s3cr3t-value" + " " * 80_000, id="a run of spaces after"),
    pytest.param("<" * 80_000, id="a run of <"),
    pytest.param("<" + "a" * 2000 + ">", id="a long <...>"),
])
def test_dotenv_long_values_are_values(value: str) -> None:
    # Each of these took seconds to minutes when the value's regex and the placeholder check were
    # quadratic (tests/test_linear_cost.py measures it).
    assert _found(f"A={value}\n", ".env") == [("dotenv-file", 0, 0)]


@pytest.mark.parametrize("text", [
    pytest.param("A=   <your key>   \n", id="spaced angle placeholder"),
    pytest.param("A=<<<your key>\n", id="placeholder after a run of <"),
    pytest.param("A=" + " " * 5000 + "\n", id="only spaces"),
])
def test_dotenv_stand_ins_with_odd_spacing_stay_quiet(text: str) -> None:
    assert _found(text, ".env") == []


@pytest.mark.parametrize(("text", "holds"), [
    pytest.param("GEMINI_API_KEY=YOUR_API_KEY\nDEBUG=true\nPORT=8080\n", False, id="placeholders and settings"),
    pytest.param("SECRET_KEY=my-local-dev-secret-key\nAPI_TOKEN=changeme\nLOG_LEVEL=info\n", False,
                 id="typed stand-ins"),
    pytest.param("DEBUG=true\nSERVICE_API_KEY=<<R>>\n", True, id="a secret"),
])
def test_dotenv_message_says_whether_the_file_holds_a_secret(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                             text: str, holds: bool) -> None:
    # Reported either way (contract: a committed .env with a value), but a file of stand-ins and
    # settings is low and says it holds no secret; never high.
    (tmp_path / ".env").write_text(text.replace("<<R>>", random_chars(32)))
    assert main(["scan", str(tmp_path), "--format", "sarif"]) == 1
    import json

    results = json.loads(capsys.readouterr().out)["runs"][0]["results"]
    [message] = [r["message"]["text"] for r in results if r["ruleId"] == "dotenv-file"]
    assert ("holds no secret" in message) is not holds
    assert main(["scan", str(tmp_path), "--format", "json"]) == 1
    [severity] = [f["severity"] for f in json.loads(capsys.readouterr().out)["findings"] if f["rule_id"] == "dotenv-file"]
    assert severity == ("high" if holds else "low")


@pytest.mark.parametrize(("line", "severity"), [
    # An inline comment is not the value: the key before it is judged alone.
    pytest.param("PUBLIC_SERVICE_KEY=<<R>> # replace with your project's key", "high", id="key, then a comment"),
    pytest.param('PUBLIC_SERVICE_KEY="<<R>>"  # staging', "high", id="quoted key, then a comment"),
    pytest.param("PUBLIC_SERVICE_KEY=YOUR_KEY_HERE # replace with your project's key", "low", id="stand-in, then a comment"),
    pytest.param("PUBLIC_SERVICE_HOST=https://example.com # where it lives", "low", id="setting, then a comment"),
])
def test_dotenv_severity_reads_a_value_without_its_inline_comment(line: str, severity: str) -> None:
    from scanner.detect import Detector
    from tests.conftest import random_chars
    text = "APP_ENV=dev\n" + line.replace("<<R>>", "pk_" + random_chars(40)) + "\n"
    found = [m.severity for m in Detector().scan(text.encode(), "web/.env.local").matches if m.rule_id == "dotenv-file"]
    assert found == [severity]
