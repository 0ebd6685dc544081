"""Large files are scanned in bounded memory, a window at a time, and give the same findings, at the
same lines and columns, as a scan of the whole file; a gate that still skips a file for its size
exits 2 naming it."""
from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from scanner import chunked
from scanner.cli import main
from scanner.detect import Detector
from tests.conftest import git, google_key, random_chars
from tests.test_policy import commit_file


def _places(matches: object) -> list[tuple[str, str, int, int, str]]:
    return [(m.rule_id, m.secret, m.line, m.column, m.suppressed) for m in matches]  # type: ignore[attr-defined]


@pytest.mark.parametrize("seed", range(6))
def test_windows_find_what_the_whole_file_holds(seed: int) -> None:
    rng = random.Random(seed)
    parts = []
    for _ in range(120):
        kind = rng.randrange(5)
        if kind == 0:
            parts.append(f'KEY = "{google_key()}"\n')
        elif kind == 1:
            parts.append(f'api_key = "{random_chars(32)}"  # keysentry:allow\n')
        elif kind == 2:
            parts.append("x" * rng.randrange(1, 900) + f" {google_key()} ")  # keys mid-line, lines across windows
        else:
            parts.append("filler text, nothing here\n" * rng.randrange(1, 30))
    data = "".join(parts).encode()
    detector = Detector()
    whole = detector.scan_content(data)

    pieces = [data[i:i + 777] for i in range(0, len(data), 777)]  # pieces of any size
    scanned, first = chunked.scan_pieces(detector, pieces, piece=4096, overlap=2048, margin=512)

    assert _places(scanned.matches) == _places(whole.matches)
    assert _places(scanned.suppressed) == _places(whole.suppressed)
    assert first == data[:min(chunked.FIRST, 4096 + 2048)]


def test_windows_cover_the_stream_with_overlap() -> None:
    data = bytes(range(256)) * 100
    got = list(chunked.windows([data[i:i + 1000] for i in range(0, len(data), 1000)], piece=4096, overlap=512))

    assert [offset for offset, _, _ in got] == list(range(0, len(data), 4096))[:len(got)]
    assert all(window == data[offset:offset + 4096 + 512] for offset, window, last in got if not last)
    assert got[-1][2] and data.endswith(got[-1][1])


PADDING = b"# nothing to see here, only padding for a large file\n"


def _padded_file(path: Path, key: str, size: int) -> None:
    """A text file of about SIZE bytes whose key sits on its last line, past the size read whole."""
    with path.open("wb") as fh:
        fh.write(PADDING * (size // len(PADDING)))
        fh.write(f'KEY = "{key}"\n'.encode())


@pytest.fixture(scope="module")
def big_size() -> int:
    return chunked.READ_WHOLE + 2 * 1024 * 1024


def test_worktree_and_history_scan_a_file_past_the_whole_read_size(repo: Path, big_size: int,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    key = google_key()
    _padded_file(repo / "dump.sql", key, big_size)
    git(repo, "add", "dump.sql")
    git(repo, "commit", "-qm", "a dump")
    line = big_size // len(PADDING) + 1

    assert main(["scan", "--format", "json", str(repo)]) == 1
    tree = json.loads(capsys.readouterr().out)
    assert main(["scan", "--format", "json", "--history", str(repo)]) == 1
    history = json.loads(capsys.readouterr().out)

    for data in (tree, history):
        assert [(f["path"], f["line"], f["column"]) for f in data["findings"]] == [("dump.sql", line, 8)]
        assert data["stats"]["skipped_large"] == 0


def test_gate_exits_2_naming_a_file_it_skipped(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = commit_file(repo, "README.md", "hi\n")
    commit_file(repo, "big.txt", "padding\n" * 500)

    code = main(["scan", "--range", f"{base}..HEAD", "--max-file-size", "1KB", str(repo)])
    err = capsys.readouterr().err

    assert code == 2
    assert "1 file not scanned" in err and "big.txt" in err


def test_staged_exits_2_naming_a_file_it_skipped(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    commit_file(repo, "README.md", "hi\n")
    (repo / "big.txt").write_text("padding\n" * 500)
    git(repo, "add", "big.txt")

    assert main(["scan", "--staged", "--max-file-size", "1KB", str(repo)]) == 2
    assert "big.txt" in capsys.readouterr().err


def test_gate_accepts_a_limit_the_base_config_chose(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = commit_file(repo, ".keysentry.toml", 'max-file-size = "1KB"\n')
    commit_file(repo, "big.txt", "padding\n" * 500)

    assert main(["scan", "--range", f"{base}..HEAD", str(repo)]) == 0
    assert "not scanned" not in capsys.readouterr().err


def test_worktree_scan_still_just_counts_a_skip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "big.txt").write_text("padding\n" * 500)

    assert main(["scan", "--max-file-size", "1KB", str(tmp_path)]) == 0
