"""--format github: one workflow command per finding, escaped as GitHub's toolkit escapes them."""
from __future__ import annotations

from pathlib import Path

import pytest

from scanner.cli import main
from scanner.report.github import escape_data, escape_property
from tests.conftest import git, google_key, random_chars

ESCAPES = {
    "percent": ("100%", "100%25", "100%25"),
    "newline": ("a\nb", "a%0Ab", "a%0Ab"),
    "carriage return": ("a\rb", "a%0Db", "a%0Db"),
    "colon": ("C:x", "C:x", "C%3Ax"),
    "comma": ("a,b", "a,b", "a%2Cb"),
    "already escaped stays literal": ("%0A", "%250A", "%250A"),
}


@pytest.mark.parametrize(("raw", "data", "prop"), ESCAPES.values(), ids=ESCAPES.keys())
def test_values_are_escaped_as_the_actions_toolkit_does(raw: str, data: str, prop: str) -> None:
    assert escape_data(raw) == data
    assert escape_property(raw) == prop


def annotations(capsys: pytest.CaptureFixture[str], *args: str) -> list[str]:
    code = main(["scan", *args, "--format", "github"])
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert code == (1 if lines else 0)
    assert all(line.startswith("::error ") for line in lines), out
    return lines


def test_one_annotation_per_finding_with_file_line_column_and_title(repo: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    key = google_key()
    (repo / "app.py").write_text(f'\n\nclient = genai.Client(api_key="{key}")\n')
    (repo / ".env").write_text(f"SECRET={random_chars(24)}\n")
    lines = annotations(capsys, str(repo))
    assert len(lines) == 2
    by_file = {line.split(",")[0].removeprefix("::error file="): line for line in lines}
    app = by_file["app.py"]
    assert app.startswith("::error file=app.py,line=3,col=32,endColumn=71,title=keysentry google-api-key (")
    message = app.split("::", 2)[2]
    assert message.startswith("Google API key") and "AIza…" in message and key not in app
    assert "Fix: " in message
    # A whole-file finding is annotated on the file's first line (line 0 is no line to GitHub).
    assert by_file[".env"].startswith("::error file=.env,line=1,title=keysentry dotenv-file (")


def test_clean_tree_prints_no_commands(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "app.py").write_text("print('hi')\n")
    assert annotations(capsys, str(repo)) == []


def test_a_name_cannot_end_the_command_or_add_a_property(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    name = "a,line=99::x%0A,title=owned.py"
    (repo / name).write_text(f'KEY = "{google_key()}"\n')
    (line,) = annotations(capsys, str(repo))
    properties, _, message = line.removeprefix("::error ").partition("::")
    assert properties.split(",")[0] == "file=a%2Cline=99%3A%3Ax%250A%2Ctitle=owned.py"
    assert [p.split("=")[0] for p in properties.split(",")] == ["file", "line", "col", "endColumn", "title"]
    assert "::" not in message


def test_history_finding_removed_from_head_names_its_commit_and_no_line(repo: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "app.py").write_text(f'KEY = "{google_key()}"\n')
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "add a key")
    added = git(repo, "rev-parse", "HEAD")
    (repo / "app.py").write_text('KEY = os.environ["GEMINI_API_KEY"]\n')
    git(repo, "commit", "-qam", "the fix")
    (line,) = annotations(capsys, "--history", str(repo))
    assert line.startswith("::error file=app.py,title=")  # the line it was on now holds the fix
    assert f"commit {added[:12]} added it; it is no longer in HEAD" in line
