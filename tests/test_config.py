"""Configuration: where it is found, what each key does, and that every mistake stops the scan."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from scanner.cli import main
from scanner.config import AllowPattern
from scanner.errors import ConfigError
from tests.conftest import google_key


def scan(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict | None, str]:
    code = main(["scan", *args, "--format", "json"])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, (json.loads(captured.out) if captured.out else None), captured.err


def two_leaks(repo: Path) -> tuple[str, str]:
    kept, other = google_key(), google_key()
    (repo / "src").mkdir()
    (repo / "src" / "app.py").write_text(f'KEY = "{kept}"\n')
    (repo / "tests").mkdir()
    (repo / "tests" / "fixture.py").write_text(f'KEY = "{other}"\n')
    return kept, other


def paths(data: dict | None) -> list[str]:
    assert data is not None
    return [f["path"] for f in data["findings"]]


# --- where the configuration comes from -------------------------------------------------------------

def test_pyproject_tool_table(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    two_leaks(repo)
    (repo / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.keysentry]\nexclude = ["tests/"]\n')
    _, data, _ = scan(capsys, str(repo))
    assert paths(data) == ["src/app.py"]
    assert data and data["stats"]["excluded"] == 1


def test_dotfile_when_pyproject_has_no_table(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    two_leaks(repo)
    (repo / "pyproject.toml").write_text('[project]\nname = "x"\n')
    (repo / ".keysentry.toml").write_text('exclude = ["tests/"]\n')
    _, data, _ = scan(capsys, str(repo))
    assert paths(data) == ["src/app.py"]


def test_pyproject_table_wins_over_dotfile(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    two_leaks(repo)
    (repo / "pyproject.toml").write_text('[tool.keysentry]\nexclude = ["src/"]\n')
    (repo / ".keysentry.toml").write_text('exclude = ["tests/"]\n')
    _, data, _ = scan(capsys, str(repo))
    assert paths(data) == ["tests/fixture.py"]


def test_explicit_config_file_wins(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    two_leaks(repo)
    (repo / ".keysentry.toml").write_text('exclude = ["tests/"]\n')
    mine = tmp_path / "ci.toml"
    mine.write_text('exclude = ["src/"]\n')
    _, data, _ = scan(capsys, str(repo), "--config", str(mine))
    assert paths(data) == ["tests/fixture.py"]
    # --config may also name a pyproject.toml, whose [tool.keysentry] table is used.
    other = tmp_path / "other" / "pyproject.toml"
    other.parent.mkdir()
    other.write_text('[tool.keysentry]\nexclude = ["tests/"]\n')
    _, data, _ = scan(capsys, str(repo), "--config", str(other))
    assert paths(data) == ["src/app.py"]


def test_config_at_repo_root_applies_when_scanning_a_subfolder(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    two_leaks(repo)
    (repo / "src" / "generated.py").write_text(f'KEY = "{google_key()}"\n')
    (repo / ".keysentry.toml").write_text('exclude = ["src/generated.py"]\n')
    _, data, _ = scan(capsys, str(repo / "src"))
    assert paths(data) == ["src/app.py"]


# --- what each key does ---------------------------------------------------------------------------------

def test_exclude_uses_gitignore_globs(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for rel in ("a/fixtures/x.py", "b/c/fixtures/y.py", "keep.py", "data.snap", "deep/more.snap", "deep/keep.snap"):
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(f'KEY = "{google_key()}"\n')
    (repo / ".keysentry.toml").write_text('exclude = ["**/fixtures/", "*.snap", "!deep/keep.snap"]\n')
    _, data, _ = scan(capsys, str(repo))
    assert paths(data) == ["deep/keep.snap", "keep.py"]
    assert data and data["stats"]["excluded"] == 4


def test_allow_regex_is_matched_against_the_secret(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _kept, other = two_leaks(repo)
    (repo / ".keysentry.toml").write_text(f'allow = ["^{other[:12]}"]\n')
    _, data, _ = scan(capsys, str(repo))
    assert paths(data) == ["src/app.py"]
    assert data and data["stats"]["allowed"] == 1
    # Not matched against the line or the path: a pattern naming the file allows nothing.
    (repo / ".keysentry.toml").write_text('allow = ["fixture", "KEY ="]\n')
    _, data, _ = scan(capsys, str(repo))
    assert paths(data) == ["src/app.py", "tests/fixture.py"]


def test_disable_rule_ids(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    two_leaks(repo)
    (repo / ".env").write_text("PASSWORD=s3cr3t-Value-123\n")
    (repo / ".keysentry.toml").write_text('disable = ["google-api-key"]\n')
    _, data, _ = scan(capsys, str(repo))
    assert data and [f["rule_id"] for f in data["findings"]] == ["dotenv-file"]


def test_max_file_size_from_config_and_option_overrides_it(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    two_leaks(repo)
    (repo / "src" / "app.py").write_text((repo / "src" / "app.py").read_text() + "#" * 5000 + "\n")
    (repo / ".keysentry.toml").write_text('max-file-size = "2KB"\n')
    _, data, _ = scan(capsys, str(repo))
    assert paths(data) == ["tests/fixture.py"] and data and data["stats"]["skipped_large"] == 1
    _, data, _ = scan(capsys, str(repo), "--max-file-size", "1MB")
    assert paths(data) == ["src/app.py", "tests/fixture.py"]
    (repo / ".keysentry.toml").write_text("max-file-size = 40\n")  # plain bytes
    _, data, _ = scan(capsys, str(repo))
    assert paths(data) == []


# --- every mistake is an error: exit 2 and one line, never ignored ------------------------------------

BAD_CONFIGS = {
    "unknown key": ('exclude = []\nexculde = ["tests/"]\n', "unknown key 'exculde'"),
    "bad allow regex": ('allow = ["AIza[0-9"]\n', "bad 'allow' regex 'AIza[0-9'"),
    "bad exclude pattern": ('exclude = ["!"]\n', "bad 'exclude' pattern '!'"),
    "unknown rule": ('disable = ["google-key"]\n', "unknown rule 'google-key'"),
    "allow not a list": ('allow = "AIza"\n', "'allow' must be a list of strings"),
    "exclude not strings": ("exclude = [1, 2]\n", "'exclude' must be a list of strings"),
    "bad size": ('max-file-size = "huge"\n', "max-file-size must be a positive number"),
    "negative size": ("max-file-size = -1\n", "max-file-size must be a positive number"),
    "bool size": ("max-file-size = true\n", "max-file-size must be a positive number"),
    "not toml": ("exclude = [\n", "not valid TOML"),
    "nested too deeply": ("x = " + "[" * 100_000 + "]" * 100_000 + "\n", "nested too deeply"),
}


@pytest.mark.parametrize(("text", "message"), BAD_CONFIGS.values(), ids=BAD_CONFIGS.keys())
@pytest.mark.parametrize("where", ["dotfile", "pyproject"])
def test_bad_config_is_one_clear_line_and_exit_2(repo: Path, capsys: pytest.CaptureFixture[str],
                                                 text: str, message: str, where: str) -> None:
    two_leaks(repo)
    if where == "dotfile":
        (repo / ".keysentry.toml").write_text(text)
    else:
        (repo / "pyproject.toml").write_text("[tool.keysentry]\n" + text)
    code, data, err = scan(capsys, str(repo))
    assert (code, data) == (2, None)
    assert err.count("\n") == 1 and err.startswith("keysentry: error: ")
    assert message in err
    assert ("pyproject.toml" if where == "pyproject" else ".keysentry.toml") in err


def test_tool_keysentry_must_be_a_table(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "pyproject.toml").write_text('[tool]\nkeysentry = "on"\n')
    code, _, err = scan(capsys, str(repo))
    assert code == 2 and "[tool.keysentry] must be a table" in err


def test_missing_config_file_is_an_error(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = scan(capsys, str(repo), "--config", str(tmp_path / "nope.toml"))
    assert code == 2 and err == f"keysentry: error: config file not found: {tmp_path / 'nope.toml'}\n"


def test_explicit_pyproject_without_table_is_an_error(repo: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    code, _, err = scan(capsys, str(repo), "--config", str(tmp_path / "pyproject.toml"))
    assert code == 2 and "no [tool.keysentry] table" in err


def test_bad_config_fails_stdin_and_baseline_too(repo: Path, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    (repo / ".keysentry.toml").write_text("nonsense = 1\n")
    assert main(["baseline", str(repo)]) == 2
    assert "unknown key 'nonsense'" in capsys.readouterr().err
    assert not (repo / ".keysentry-baseline.json").exists()
    monkeypatch.chdir(repo)
    code, _, err = scan(capsys, "-")
    assert code == 2 and "unknown key 'nonsense'" in err


@pytest.mark.parametrize("text", ["tool = 5\n", "tool = [1]\n", '[tool]\nkeysentry = "on"\n'])
def test_a_tool_that_is_not_a_table_is_an_error(repo: Path, capsys: pytest.CaptureFixture[str], text: str) -> None:
    (repo / "pyproject.toml").write_text(text)
    code, _, err = scan(capsys, str(repo))
    assert code == 2 and err.count("\n") == 1 and "pyproject.toml" in err and "table" in err


def test_config_that_is_not_utf8_is_one_line(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / ".keysentry.toml").write_bytes(b'exclude = ["caf\xe9/"]\n')
    code, _, err = scan(capsys, str(repo))
    assert code == 2 and err.count("\n") == 1 and "not UTF-8" in err


def test_dotfile_takes_the_readme_table_too(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    two_leaks(repo)
    (repo / ".keysentry.toml").write_text('[tool.keysentry]\nexclude = ["tests/"]\n')
    _, data, _ = scan(capsys, str(repo))
    assert paths(data) == ["src/app.py"]
    # An error names the table it was found in.
    (repo / ".keysentry.toml").write_text('[tool.keysentry]\nexculde = ["tests/"]\n')
    code, _, err = scan(capsys, str(repo))
    assert code == 2 and ".keysentry.toml [tool.keysentry]: unknown key 'exculde'" in err


@pytest.mark.parametrize("text", ['exclude = ["a"]\n[tool.keysentry]\nexclude = ["b"]\n',
                                  '[tool.keysentry]\nexclude = ["b"]\n[tool.black]\nline-length = 9\n'])
def test_dotfile_with_bare_keys_and_the_table_is_an_error(repo: Path, capsys: pytest.CaptureFixture[str],
                                                          text: str) -> None:
    (repo / ".keysentry.toml").write_text(text)
    code, _, err = scan(capsys, str(repo))
    assert code == 2 and err.count("\n") == 1 and "not both" in err


def test_allow_pattern_search_is_bounded_in_time() -> None:
    catastrophic = AllowPattern.compile(r"^([\w-]|[\w-][\w-])+[^\w-]", "ci.toml")
    with pytest.raises(ConfigError, match=r"ci.toml: 'allow' regex .* took too long"):
        catastrophic.search(google_key())
    # Plain patterns behave as under `re`.
    key = google_key()
    assert AllowPattern.compile(f"^{key[:10]}", "x").search(key)
    assert not AllowPattern.compile("^AIzaX", "x").search(key)
