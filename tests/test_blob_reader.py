"""Reading blobs from git's object store, in both of cat-file's protocols: --batch-command (git
2.36 and later, flushed once a batch) and plain --batch (older git)."""
from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import pytest

from scanner import gitcmd
from scanner.errors import GitError
from scanner.sources import blobs
from scanner.sources.blobs import CatFile


PROTOCOLS = [pytest.param(True, id="batch-command"), pytest.param(False, id="batch")]


def store(repo: Path, contents: list[bytes]) -> list[str]:
    """Each of CONTENTS written as a blob; their ids. One git for them all (a git a blob took 3 CPU-s
    for a thousand): each is a file first, and git hashes the files the paths on its input name."""
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for i, data in enumerate(contents):
            path = Path(folder) / str(i)
            path.write_bytes(data)
            paths.append(f"{path}\n")
        out = subprocess.run(["git", "hash-object", "-w", "--no-filters", "--stdin-paths"], cwd=repo,
                             input="".join(paths).encode(), capture_output=True, check=True)
    ids = out.stdout.decode().split()
    assert len(ids) == len(contents)
    return ids


def test_this_git_speaks_batch_command() -> None:
    # Otherwise the batch-command rows below test what users never run (CI's git is recent).
    assert gitcmd.version() >= (2, 36)


@pytest.mark.parametrize("commands", PROTOCOLS)
def test_every_blob_is_read_in_order_over_several_batches(repo: Path, commands: bool) -> None:
    contents = [f"blob {i}\n".encode() * (i % 7) for i in range(blobs.MAX_BATCH * 2 + 3)]
    ids = store(repo, contents)
    with CatFile(repo, commands) as cat:
        assert list(cat.read(ids)) == list(zip(ids, contents, strict=True))


@pytest.mark.parametrize("commands", PROTOCOLS)
def test_a_blob_over_the_limit_is_skipped_unread_and_the_next_ones_still_come(repo: Path, commands: bool) -> None:
    contents = [b"small one\n", b"x" * 300_000, b"", b"small two\n", b"y" * 300_000, b"last\n"]
    ids = store(repo, contents)
    with CatFile(repo, commands) as cat:
        got = list(cat.read_within(ids, 1000))
    assert got == [(oid, len(data), None if len(data) > 1000 else data) for oid, data in zip(ids, contents, strict=True)]


@pytest.mark.parametrize("commands", PROTOCOLS)
def test_a_missing_object_is_reported_as_corruption(repo: Path, commands: bool) -> None:
    (present,) = store(repo, [b"here\n"])
    absent = "1" * 40
    with CatFile(repo, commands) as cat, pytest.raises(GitError, match=absent):
        list(cat.read([present, absent]))


@pytest.mark.parametrize("commands", PROTOCOLS)
def test_the_reader_is_reused_across_calls(repo: Path, commands: bool) -> None:
    first, second = store(repo, [b"one\n", b"two\n"])
    with CatFile(repo, commands) as cat:
        assert list(cat.read([first])) == [(first, b"one\n")]
        assert list(cat.read([second, first])) == [(second, b"two\n"), (first, b"one\n")]
