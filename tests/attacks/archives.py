"""Attack rows for the hostile suites (see tests/hostile.py): issue 18, hostile archives. Each is
scanned by the installed keysentry in a process of its own, whose peak memory is read when it
ends: every bomb must be scanned within a second of CPU and 100 MB, its limit counted and named, and a
key beside the bomb still found."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.archive_kinds import gzip_of_zeros, nested_bomb, self_nesting, zip_of
from tests.conftest import GIT_ENV, git, google_key
from tests.hostile import KEYSENTRY, Attack, new_repo, no_traceback

ITEM = "i18"
SECONDS = 1.0
PEAK = 100 << 20
# Runs keysentry and prints the peak memory of its process tree (Linux: KB), then its output.
_MEASURE = ("import resource, subprocess, sys\n"
            "proc = subprocess.run(sys.argv[1:], capture_output=True)\n"
            "sys.stderr.buffer.write(proc.stderr)\n"
            "use = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
            "print(proc.returncode, use.ru_maxrss, use.ru_utime + use.ru_stime)\n"
            "sys.stdout.buffer.write(proc.stdout)\n")


def _scan(folder: Path, *args: str) -> dict[str, Any]:
    """The JSON report of a scan of FOLDER, checked: no traceback, within SECONDS of CPU and PEAK."""
    proc = subprocess.run([sys.executable, "-c", _MEASURE, KEYSENTRY, "scan", *args, "--format", "json"], cwd=folder,
                          capture_output=True, timeout=60, env={**os.environ, **GIT_ENV})
    no_traceback(proc)
    head, _, body = proc.stdout.partition(b"\n")
    words = head.split()
    code, peak_kb, cpu = int(words[0]), int(words[1]), float(words[2])
    report: dict[str, Any] = json.loads(body)
    assert code == 1, (code, proc.stderr.decode("utf-8", "replace"))
    assert peak_kb * 1024 <= PEAK, f"peak memory {peak_kb >> 10} MB"
    # CPU time of keysentry's whole process tree (start-up included), not the wall clock: the bound
    # is the work a bomb makes, which a loaded CI machine must not turn into a false failure.
    assert cpu <= SECONDS, f"{cpu:.2f} s of CPU"
    return report


def _beside(tmp_path: Path, name: str, data: bytes | Callable[[Path], None]) -> tuple[Path, str]:
    """A folder holding the hostile archive NAME and, beside it, a key that must still be found."""
    folder = tmp_path / "scan"
    folder.mkdir()
    if callable(data):
        data(folder / name)
    else:
        (folder / name).write_bytes(data)
    key = google_key()
    (folder / "app.py").write_text(f'KEY = "{key}"\n')
    return folder, key


def _reported(report: dict[str, Any]) -> list[str]:
    return [f["path"] for f in report["findings"]]


def nested_zip_bomb(tmp_path: Path) -> None:
    # 42.zip's shape: 16 zips of 16 zips … of 1 GB of zeros each, 64 TB in all, 22 KB on disk.
    folder, _ = _beside(tmp_path, "42.zip", nested_bomb())
    report = _scan(folder, ".")
    assert _reported(report) == ["app.py"]
    assert report["stats"]["archives"]["skipped"]["depth"] > 0


def self_nesting_archive(tmp_path: Path) -> None:
    # What a zip quine unfolds to: itself inside itself, without end; read to the depth, no further.
    key = google_key()
    folder, _ = _beside(tmp_path, "r.zip", self_nesting(200, zip_of({"deep.py": f'K = "{key}"'.encode()})))
    report = _scan(folder, ".")
    assert _reported(report) == ["app.py"]
    assert report["stats"]["archives"]["skipped"]["depth"] == 1 and report["stats"]["archives"]["read"] == 3


def gzip_of_10_gb_of_zeros(tmp_path: Path) -> None:
    def write(path: Path) -> None:
        with path.open("wb") as out:
            for piece in gzip_of_zeros(10 << 30):
                out.write(piece)

    folder, _ = _beside(tmp_path, "zeros.gz", write)
    assert (folder / "zeros.gz").stat().st_size < 12 << 20
    report = _scan(folder, ".")
    assert _reported(report) == ["app.py"]
    assert report["stats"]["archives"]["skipped"]["ratio"] == 1


def zip_bomb_in_history(tmp_path: Path) -> None:
    # The same bombs committed: a history scan reads them once, as blobs, within the same bounds.
    repo = new_repo(tmp_path)
    (repo / "42.zip").write_bytes(nested_bomb())
    (repo / "r.zip").write_bytes(self_nesting(50, b"x"))
    (repo / "app.py").write_text(f'KEY = "{google_key()}"\n')
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "bombs")
    report = _scan(repo, "--history")
    assert _reported(report) == ["app.py"]


def member_named_outside_the_archive(tmp_path: Path) -> None:
    # Nothing is extracted, so a `..` or absolute name writes nothing: it is named safely and read.
    key = google_key()
    data = zip_of({"../../../../tmp/keysentry-escape.py": f'K = "{key}"'.encode(), "/etc/cron.d/x": b"* * * * *\n"})
    folder, _ = _beside(tmp_path, "slip.zip", data)
    report = _scan(folder, ".")
    assert sorted(_reported(report)) == ["app.py", "slip.zip!%2E%2E/%2E%2E/%2E%2E/%2E%2E/tmp/keysentry-escape.py"]
    assert report["stats"]["archives"]["unsafe_names"] == 2
    assert not Path("/tmp/keysentry-escape.py").exists()


def truncated_and_garbage_archives(tmp_path: Path) -> None:
    # Magic bytes with nothing valid after them: each is counted unreadable, none ends the scan.
    folder, _ = _beside(tmp_path, "cut.zip", zip_of({"a.txt": b"x" * 5000})[:-40])
    for name, data in (("junk.gz", b"\x1f\x8b\x08\x00" + b"\xff" * 4000), ("junk.xz", b"\xfd7zXZ\x00" + b"\0" * 99),
                       ("junk.bz2", b"BZh91AY&SY" + b"\x01" * 500)):
        (folder / name).write_bytes(data)
    report = _scan(folder, ".")
    assert _reported(report) == ["app.py"]
    assert report["stats"]["archives"]["skipped"]["corrupt"] == 4


def zip_of_70000_empty_entries(tmp_path: Path) -> None:
    # Its central directory alone would cost zipfile seconds and tens of MB: refused from its end record.
    folder, _ = _beside(tmp_path, "many.zip", zip_of({f"{i}": b"" for i in range(70_000)}))
    report = _scan(folder, ".")
    assert _reported(report) == ["app.py"]
    assert report["stats"]["archives"]["skipped"]["members"] == 70_000


def tar_member_claiming_a_huge_size(tmp_path: Path) -> None:
    # A 1 KB tar whose one member says it holds 1 PB (git/git ships one such test file): moving past
    # it must not cost a read per block of what it claims. Plain, and inside a gzip.
    import gzip
    import tarfile

    info = tarfile.TarInfo("future.bin")
    info.size = 1 << 50
    header = info.tobuf(tarfile.GNU_FORMAT) + b"some bytes, then the file ends"
    folder, _ = _beside(tmp_path, "huge.tar", header)
    (folder / "huge.tar.gz").write_bytes(gzip.compress(header))
    report = _scan(folder, ".")
    assert _reported(report) == ["app.py"]
    assert report["stats"]["archives"]["skipped"]["corrupt"] == 2


INPUTS: list[Attack] = [
    Attack("nested-zip-bomb-42-zip", ITEM, nested_zip_bomb),
    Attack("self-nesting-archive-quine-like", ITEM, self_nesting_archive),
    Attack("gzip-of-10-gb-of-zeros", ITEM, gzip_of_10_gb_of_zeros),
    Attack("archive-bombs-in-history", ITEM, zip_bomb_in_history),
    Attack("archive-member-named-outside-it", ITEM, member_named_outside_the_archive),
    Attack("truncated-and-garbage-archives", ITEM, truncated_and_garbage_archives),
    Attack("zip-of-70000-empty-entries", ITEM, zip_of_70000_empty_entries),
    Attack("tar-member-claiming-a-huge-size", ITEM, tar_member_claiming_a_huge_size),
]
