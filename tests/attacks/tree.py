"""Attack rows for the hostile suites (see tests/hostile.py): tree (the work tree, file reads and the
scan loop)."""
from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.conftest import git, google_key
from tests.hostile import new_repo, KEYSENTRY, Attack, expect_error, keysentry, no_traceback

# A hang here is the failure: a FIFO is never written to, so a reader waits on it for ever.
QUICK = 30


def _json(proc: subprocess.CompletedProcess[bytes]) -> dict:  # type: ignore[type-arg]
    no_traceback(proc)
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def _tracked_then_linked(tmp_path: Path, folder: str, name: str, target: Path) -> Path:
    """A repository that tracks FOLDER/NAME, whose FOLDER was then replaced by a link to TARGET."""
    repo = new_repo(tmp_path)
    (repo / folder).mkdir()
    (repo / folder / name).write_text("nothing here\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "tracked")
    (repo / folder / name).unlink()
    (repo / folder).rmdir()
    os.symlink(target, repo / folder)
    return repo


# --- item 4: reads outside the tree through a symlinked parent folder ----------------------------

def tracked_path_through_linked_folder(tmp_path: Path) -> None:
    key = google_key()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.py").write_text(f'KEY = "{key}"\n')
    repo = _tracked_then_linked(tmp_path, "sub", "secret.py", outside)
    proc = keysentry("scan", ".", "--format", "json", "--show-secrets", cwd=repo)
    data = _json(proc)
    assert proc.returncode == 0 and data["findings"] == [] and key.encode() not in proc.stdout
    assert data["stats"]["skipped_symlinks"] >= 1
    assert b"warning: skipped sub/secret.py" in proc.stderr and b"symbolic link" in proc.stderr


def tracked_path_through_link_to_proc_self(tmp_path: Path) -> None:
    key = google_key()
    repo = _tracked_then_linked(tmp_path, "proc", "environ", Path("/proc/self"))
    proc = keysentry("scan", ".", "--format", "json", "--show-secrets", cwd=repo, env={"GEMINI_API_KEY": key})
    data = _json(proc)
    assert proc.returncode == 0 and data["findings"] == [] and key.encode() not in proc.stdout
    assert data["stats"]["skipped_symlinks"] >= 1 and b"warning: skipped proc/environ" in proc.stderr


def named_file_through_linked_folder(tmp_path: Path) -> None:
    key = google_key()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.py").write_text(f'KEY = "{key}"\n')
    repo = _tracked_then_linked(tmp_path, "sub", "secret.py", outside)
    proc = keysentry("scan", "sub/secret.py", "--format", "json", "--show-secrets", cwd=repo)
    data = _json(proc)
    assert data["findings"] == [] and key.encode() not in proc.stdout
    assert data["stats"]["skipped_symlinks"] == 1 and b"symbolic link" in proc.stderr


# --- item 8: unbounded reads ---------------------------------------------------------------------

def stdin_over_max_file_size(tmp_path: Path) -> None:
    proc = keysentry("scan", "-", "--max-file-size", "1KB", cwd=tmp_path,
                     stdin=f'KEY = "{google_key()}"\n'.encode() + b"#" * 4096)
    expect_error(proc, "standard input", "max-file-size")


def stdin_from_dev_zero(tmp_path: Path) -> None:
    with open("/dev/zero", "rb") as zero:
        proc = subprocess.run([KEYSENTRY, "scan", "-", "--max-file-size", "1MB"], cwd=tmp_path, stdin=zero,
                              capture_output=True, timeout=QUICK)
    expect_error(proc, "standard input", "max-file-size")


def gitignore_linked_to_dev_zero(tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "app.py").write_text(f'KEY = "{google_key()}"\n')
    os.symlink("/dev/zero", folder / ".gitignore")
    proc = keysentry("scan", folder, "--format", "json", cwd=tmp_path, timeout=QUICK)
    assert proc.returncode == 1 and [f["path"] for f in _json(proc)["findings"]] == ["app.py"]
    assert b"warning: ignoring .gitignore: it is a symbolic link" in proc.stderr


def gitignore_is_a_device(tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "app.py").write_text(f'KEY = "{google_key()}"\n')
    try:
        os.mknod(folder / ".gitignore", stat.S_IFCHR | 0o644, os.makedev(1, 5))  # what /dev/zero is
    except PermissionError:
        pytest.skip("making a device node needs root")
    proc = keysentry("scan", folder, "--format", "json", cwd=tmp_path, timeout=QUICK)
    assert proc.returncode == 1 and [f["path"] for f in _json(proc)["findings"]] == ["app.py"]
    assert b"warning: ignoring .gitignore: it is not a regular file" in proc.stderr


def gitignore_of_4_gb(tmp_path: Path) -> None:
    # A regular .gitignore far bigger than any real one (sparse: no disk) is not read whole.
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "app.py").write_text(f'KEY = "{google_key()}"\n')
    with (folder / ".gitignore").open("wb") as fh:
        fh.write(b"app.py\n")
        fh.truncate(4 << 30)
    proc = keysentry("scan", folder, "--format", "json", cwd=tmp_path, timeout=QUICK)
    assert proc.returncode == 1 and [f["path"] for f in _json(proc)["findings"]] == ["app.py"]
    assert b"warning: ignoring .gitignore: it is larger than" in proc.stderr


def info_exclude_is_dev_zero(tmp_path: Path) -> None:
    repo = new_repo(tmp_path)
    (repo / ".git" / "info").mkdir(exist_ok=True)
    (repo / ".git" / "info" / "exclude").unlink(missing_ok=True)
    os.symlink("/dev/zero", repo / ".git" / "info" / "exclude")
    expect_error(keysentry("scan", ".", cwd=repo, timeout=QUICK), "info/exclude", "not a regular file")


def excludes_file_is_dev_zero(tmp_path: Path) -> None:
    repo = new_repo(tmp_path)
    git(repo, "config", "core.excludesFile", "/dev/zero")
    expect_error(keysentry("scan", ".", cwd=repo, timeout=QUICK), "core.excludesFile", "not a regular file")


# --- item 9: FIFOs nobody writes to ----------------------------------------------------------------

def gitignore_is_fifo(tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "app.py").write_text(f'KEY = "{google_key()}"\n')
    os.mkfifo(folder / ".gitignore")
    proc = keysentry("scan", folder, "--format", "json", cwd=tmp_path, timeout=QUICK)
    assert proc.returncode == 1 and [f["path"] for f in _json(proc)["findings"]] == ["app.py"]
    assert b"warning: ignoring .gitignore: it is not a regular file" in proc.stderr


def info_exclude_is_fifo(tmp_path: Path) -> None:
    repo = new_repo(tmp_path)
    (repo / ".git" / "info").mkdir(exist_ok=True)
    (repo / ".git" / "info" / "exclude").unlink(missing_ok=True)
    os.mkfifo(repo / ".git" / "info" / "exclude")
    expect_error(keysentry("scan", ".", cwd=repo, timeout=QUICK), "info/exclude", "not a regular file")


def excludes_file_is_fifo(tmp_path: Path) -> None:
    repo = new_repo(tmp_path)
    os.mkfifo(tmp_path / "fifo")
    git(repo, "config", "core.excludesFile", str(tmp_path / "fifo"))
    expect_error(keysentry("scan", ".", cwd=repo, timeout=QUICK), "core.excludesFile", "not a regular file")


def fifo_in_the_tree(tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    os.mkfifo(folder / "pipe.py")
    (folder / "app.py").write_text(f'KEY = "{google_key()}"\n')
    proc = keysentry("scan", folder, "--format", "json", cwd=tmp_path, timeout=QUICK)
    assert proc.returncode == 1 and [f["path"] for f in _json(proc)["findings"]] == ["app.py"]


# --- item 11: a file that only starts like a Git LFS pointer ---------------------------------------

def lfs_version_line_then_a_key(tmp_path: Path) -> None:
    repo = new_repo(tmp_path)
    (repo / "model.bin").write_text(f'version https://git-lfs.github.com/spec/v1\nKEY = "{google_key()}"\n')
    proc = keysentry("scan", ".", "--format", "json", cwd=repo)
    data = _json(proc)
    assert proc.returncode == 1 and [f["path"] for f in data["findings"]] == ["model.bin"]
    assert data["stats"]["skipped_lfs"] == 0


# --- item 12: the folder the user names is a symlink -----------------------------------------------

def named_linked_plain_folder(tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "app.py").write_text(f'KEY = "{google_key()}"\n')
    os.symlink(folder, tmp_path / "link")
    proc = keysentry("scan", "link/", "--format", "json", cwd=tmp_path)
    assert proc.returncode == 1 and [f["path"] for f in _json(proc)["findings"]] == ["app.py"]


def named_link_to_repository(tmp_path: Path) -> None:
    repo = new_repo(tmp_path)
    (repo / "app.py").write_text(f'KEY = "{google_key()}"\n')
    os.symlink(repo, tmp_path / "link")
    proc = keysentry("scan", "link", "--format", "json", cwd=tmp_path)
    assert proc.returncode == 1 and [f["path"] for f in _json(proc)["findings"]] == ["app.py"]


# --- item 23: a "no secrets found" that scanned nothing ----------------------------------------------

def bare_repository_work_tree_scan(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q", "--bare", "bare.git")
    expect_error(keysentry("scan", "bare.git", cwd=tmp_path), "bare", "no work tree", "--history")


def named_dev_zero(tmp_path: Path) -> None:
    expect_error(keysentry("scan", "/dev/zero", cwd=tmp_path, timeout=QUICK), "/dev/zero", "not a regular file")


def named_fifo(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    expect_error(keysentry("scan", "pipe", cwd=tmp_path, timeout=QUICK), "pipe", "not a regular file")


def named_file_over_the_size_limit(tmp_path: Path) -> None:
    (tmp_path / "big.py").write_text(f'KEY = "{google_key()}"\n' + "#" * 4096)
    expect_error(keysentry("scan", "big.py", "--max-file-size", "1KB", cwd=tmp_path), "big.py", "max-file-size")


def unreadable_named_file(tmp_path: Path) -> None:
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None:
        pytest.skip("needs root and setpriv to run keysentry as a user who cannot read the file")
    # Not in tmp_path: pytest's own folder above it is closed to other users.
    top = Path(tempfile.mkdtemp(prefix="keysentry-unreadable-"))
    try:
        top.chmod(0o755)
        (top / "locked.py").write_text(f'KEY = "{google_key()}"\n')
        (top / "locked.py").chmod(0)
        proc = subprocess.run([setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", KEYSENTRY, "scan",
                               "locked.py"], cwd=top, capture_output=True, timeout=QUICK,
                              env={**os.environ, "HOME": str(top)})
    finally:
        shutil.rmtree(top)
    expect_error(proc, "cannot read locked.py")


def large_file_in_a_tree_is_named(tmp_path: Path) -> None:
    repo = new_repo(tmp_path)
    (repo / "dump.sql").write_text(f'KEY = "{google_key()}"\n' + "#" * 4096)
    proc = keysentry("scan", ".", "--format", "json", "--max-file-size", "1KB", cwd=repo)
    stats = _json(proc)["stats"]
    assert (stats["skipped_large"], stats["skipped_large_paths"]) == (1, ["dump.sql"])


# --- item 25: the baseline is checked before the scan ------------------------------------------------

def missing_baseline_before_the_scan(tmp_path: Path) -> None:
    # The scan itself would fail (not a repository); the baseline is what the user must fix first.
    expect_error(keysentry("scan", "--history", ".", "--baseline", "nope.json", cwd=tmp_path), "nope.json")


# --- item 26: a nested repository is not entered, and the report says so ----------------------------

def nested_repository(tmp_path: Path) -> None:
    repo = new_repo(tmp_path)
    inner = repo / "vendor" / "inner"
    inner.mkdir(parents=True)
    git(inner, "init", "-q")
    (inner / "secret.py").write_text(f'KEY = "{google_key()}"\n')
    proc = keysentry("scan", ".", "--format", "json", cwd=repo)
    assert proc.returncode == 0 and _json(proc)["stats"]["nested_repos"] == 1
    text = keysentry("scan", ".", cwd=repo, env={"NO_COLOR": "1"})
    assert b"vendor/inner/" in text.stdout and b"nested" in text.stdout


# Repositories built to attack us (tests/test_hostile_repos.py).
REPOS: list[Attack] = [
    Attack("tracked-path-through-linked-folder", "4", tracked_path_through_linked_folder),
    Attack("tracked-path-through-link-to-proc-self", "4", tracked_path_through_link_to_proc_self),
    Attack("named-file-through-linked-folder", "4", named_file_through_linked_folder),
    Attack("info-exclude-is-dev-zero", "8", info_exclude_is_dev_zero),
    Attack("excludes-file-is-dev-zero", "8", excludes_file_is_dev_zero),
    Attack("info-exclude-is-fifo", "9", info_exclude_is_fifo),
    Attack("excludes-file-is-fifo", "9", excludes_file_is_fifo),
    Attack("lfs-version-line-then-a-key", "11", lfs_version_line_then_a_key),
    Attack("named-link-to-repository", "12", named_link_to_repository),
    Attack("bare-repository-work-tree-scan", "23", bare_repository_work_tree_scan),
    Attack("large-file-in-a-tree-is-named", "23", large_file_in_a_tree_is_named),
    Attack("nested-repository", "26", nested_repository),
]
# Inputs built to attack us: files, streams, configs, terminals (tests/test_hostile_inputs.py).
INPUTS: list[Attack] = [
    Attack("stdin-over-max-file-size", "8", stdin_over_max_file_size),
    Attack("stdin-from-dev-zero", "8", stdin_from_dev_zero),
    Attack("gitignore-linked-to-dev-zero", "8", gitignore_linked_to_dev_zero),
    Attack("gitignore-of-4-gb", "8", gitignore_of_4_gb),
    Attack("gitignore-is-a-device", "8", gitignore_is_a_device),
    Attack("gitignore-is-fifo", "9", gitignore_is_fifo),
    Attack("fifo-in-the-tree", "9", fifo_in_the_tree),
    Attack("named-linked-plain-folder", "12", named_linked_plain_folder),
    Attack("named-dev-zero", "23", named_dev_zero),
    Attack("named-fifo", "23", named_fifo),
    Attack("named-file-over-the-size-limit", "23", named_file_over_the_size_limit),
    Attack("unreadable-named-file", "23", unreadable_named_file),
    Attack("missing-baseline-before-the-scan", "25", missing_baseline_before_the_scan),
]
