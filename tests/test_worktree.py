"""The working-tree source: which files a scan reads, in a repository and in a plain folder."""
from __future__ import annotations

import ctypes
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from scanner.cli import main
from tests.conftest import git, google_key


def scan(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    code = main(["scan", *args, "--format", "json"])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, json.loads(captured.out)


def found_paths(data: dict) -> set[str]:
    return {f["path"] for f in data["findings"]}


def leak(path: Path) -> None:
    """A file whose only content is one finding, so each scanned file shows up in the report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'KEY = "{google_key()}"\n')


def ls_files(repo: Path) -> set[str]:
    out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=repo,
                         capture_output=True, check=True).stdout
    return {p.decode() for p in out.split(b"\0") if p}


# --- a git repository: exactly `git ls-files -co --exclude-standard` ------------------------------

def test_repo_scans_tracked_and_untracked_but_not_ignored(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    global_excludes = tmp_path / "global-excludes"
    global_excludes.write_text("*.globalignored\n")
    global_config = tmp_path / "gitconfig"
    global_config.write_text(f"[core]\n\texcludesFile = {global_excludes}\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(global_config))

    (repo / ".gitignore").write_text("*.log\nbuild/\n")
    (repo / "sub").mkdir()
    (repo / "sub" / ".gitignore").write_text("local.py\n")
    (repo / ".git" / "info" / "exclude").write_text("private/\n")
    for name in ("tracked.py", "sub/tracked.py", "untracked.py", "sub/untracked.py",
                 "app.log", "build/out.py", "sub/local.py", "private/notes.txt", "x.globalignored"):
        leak(repo / name)
    git(repo, "add", "tracked.py", "sub/tracked.py")
    # A tracked file stays in the scan even when an ignore rule matches it (as in git).
    leak(repo / "forced.log")
    git(repo, "add", "-f", "forced.log")

    code, data = scan(capsys, str(repo))
    assert code == 1
    expected = {"tracked.py", "sub/tracked.py", "untracked.py", "sub/untracked.py", "forced.log"}
    assert found_paths(data) == expected
    assert found_paths(data) == ls_files(repo) - {".gitignore", "sub/.gitignore"}
    assert data["stats"]["files"] == len(expected) + 2  # and the two .gitignore files


def test_path_inside_repo_scans_that_subtree_with_root_relative_paths(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    leak(repo / "outside.py")
    leak(repo / "src" / "pkg" / "inside.py")
    leak(repo / "src" / "pkg" / "deeper" / "more.py")
    leak(repo / "src" / "pkg-other" / "sibling.py")  # shares the prefix "src/pkg" but is not below it
    git(repo, "add", "-A")
    _, data = scan(capsys, str(repo / "src" / "pkg"))
    assert found_paths(data) == {"src/pkg/inside.py", "src/pkg/deeper/more.py"}


def test_single_file_inside_repo_is_reported_relative_to_root(repo: Path, capsys: pytest.CaptureFixture[str],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    leak(repo / "src" / "app.py")
    monkeypatch.chdir(repo / "src")
    _, data = scan(capsys, "app.py")
    assert found_paths(data) == {"src/app.py"}


def test_symlinks_are_never_followed(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outside = tmp_path / "outside"
    leak(outside / "secret.py")
    leak(repo / "real.py")
    os.symlink(outside / "secret.py", repo / "file-link.py")
    os.symlink(outside, repo / "dir-link")
    os.symlink("real.py", repo / "inner-link.py")  # even inside the tree: the target is scanned once
    git(repo, "add", "real.py", "file-link.py", "inner-link.py")  # tracked links, plus an untracked one
    code, data = scan(capsys, str(repo))
    assert code == 1
    assert found_paths(data) == {"real.py"}
    # dir-link is listed by git as a single (untracked) symlink entry too.
    assert data["stats"]["skipped_symlinks"] == 3
    assert data["stats"]["files"] == 1


def test_symlink_named_on_the_command_line_is_not_followed(repo: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    leak(tmp_path / "outside.py")
    os.symlink(tmp_path / "outside.py", repo / "link.py")
    code, data = scan(capsys, str(repo / "link.py"))
    assert (code, data["findings"], data["stats"]["skipped_symlinks"]) == (0, [], 1)


def test_submodules_are_not_entered(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    library = tmp_path / "library"
    library.mkdir()
    git(library, "init", "-q", "-b", "main")
    leak(library / "vendored.py")
    git(library, "add", "-A")
    git(library, "commit", "-q", "-m", "library")
    leak(repo / "app.py")
    git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(library), "vendor/library")
    assert (repo / "vendor" / "library" / "vendored.py").is_file()  # checked out, yet not ours to scan
    _, data = scan(capsys, str(repo))
    assert found_paths(data) == {"app.py"}


def test_git_lfs_pointer_files_are_skipped(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pointer = ("version https://git-lfs.github.com/spec/v1\n"
               "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
               "size 12345\n")
    (repo / "model.bin").write_text(pointer)
    leak(repo / "app.py")
    _, data = scan(capsys, str(repo))
    assert data["stats"]["skipped_lfs"] == 1
    assert data["stats"]["files"] == 1
    assert data["stats"]["bytes"] == (repo / "app.py").stat().st_size


def test_files_over_the_default_size_limit_are_skipped_and_counted(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    big = repo / "dump.sql"
    leak(big)
    with big.open("r+b") as fh:  # sparse: costs no disk, but its size is over 1 GB
        fh.truncate(1024 * 1024 * 1024 + 1)
    leak(repo / "app.py")
    _, data = scan(capsys, str(repo))
    assert found_paths(data) == {"app.py"}
    assert data["stats"]["skipped_large"] == 1


def test_max_file_size_option(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    leak(repo / "small.py")
    (repo / "large.py").write_text(f'KEY = "{google_key()}"\n' + "#" * 2000 + "\n")
    _, data = scan(capsys, str(repo), "--max-file-size", "1KB")
    assert found_paths(data) == {"small.py"}
    assert data["stats"]["skipped_large"] == 1
    assert main(["scan", str(repo), "--max-file-size", "lots"]) == 2
    assert "max-file-size" in capsys.readouterr().err


def test_parallel_scan_matches_serial_scan(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for i in range(150):  # enough to start worker processes
        leak(repo / f"pkg{i % 7}" / f"mod{i}.py")
    _, serial = scan(capsys, str(repo), "--jobs", "1")
    _, parallel = scan(capsys, str(repo), "--jobs", "2")
    assert len(serial["findings"]) == 150
    assert parallel["findings"] == serial["findings"]
    assert parallel["stats"]["files"] == serial["stats"]["files"] == 150


# --- a folder that is not a repository: every file, honouring .gitignore files -------------------

# Layouts where pathspec must agree with git itself: {path: content or None for a leak}.
LAYOUTS = {
    "root-patterns": {".gitignore": "*.log\n/top-only.py\n", "a.log": None, "top-only.py": None,
                      "sub/top-only.py": None, "sub/keep.py": None},
    "folder-pattern": {".gitignore": "build/\n", "build/out.py": None, "src/build/deep.py": None,
                       "src/ok.py": None},
    "negation": {".gitignore": "*.py\n!keep.py\n", "drop.py": None, "keep.py": None, "sub/keep.py": None},
    "nested-override": {".gitignore": "*.env.py\n", "sub/.gitignore": "!local.env.py\nsecret.py\n",
                        "local.env.py": None, "sub/local.env.py": None, "sub/secret.py": None,
                        "other/secret.py": None},
    "double-star": {".gitignore": "**/cache/**\ndocs/**/*.txt\n", "a/cache/x.py": None, "cache/y.py": None,
                    "docs/a/b/notes.txt": None, "docs/readme.md": None},
    "excluded-folder-stays-excluded": {".gitignore": "vendor/\n!vendor/keep.py\n", "vendor/keep.py": None,
                                      "main.py": None},
}


def build(top: Path, layout: dict[str, str | None]) -> None:
    for rel, text in layout.items():
        if text is None:
            leak(top / rel)
        else:
            (top / rel).parent.mkdir(parents=True, exist_ok=True)
            (top / rel).write_text(text)


@pytest.mark.parametrize("layout", LAYOUTS.values(), ids=LAYOUTS.keys())
def test_plain_folder_honours_gitignore_like_git(tmp_path: Path, layout: dict[str, str | None],
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "folder"
    build(folder, layout)
    as_repo = tmp_path / "as-repo"
    build(as_repo, layout)
    git(as_repo, "init", "-q")
    leaks = {rel for rel, text in layout.items() if text is None}
    _, data = scan(capsys, str(folder))
    assert found_paths(data) == ls_files(as_repo) & leaks


def test_plain_folder_skips_symlinks_and_git_folders(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "folder"
    outside = tmp_path / "outside"
    leak(outside / "secret.py")
    leak(folder / "app.py")
    leak(folder / ".git" / "config.py")  # a stray .git folder holds git's data, never the project's
    os.symlink(outside / "secret.py", folder / "file-link.py")
    os.symlink(outside, folder / "dir-link")
    _, data = scan(capsys, str(folder))
    assert found_paths(data) == {"app.py"}
    assert data["stats"]["skipped_symlinks"] == 1  # the folder link is never entered at all


# --- files that cannot be read -------------------------------------------------------------------

class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


_CAPABILITY_VERSION_3 = 0x20080522
# What lets root read a file whose mode lets nobody read it, and list such a folder.
_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH = 1, 2


@contextmanager
def _file_permissions_bind_root() -> Iterator[None]:
    """Root reads every file: as root, this thread (and the threads and processes it starts) sets
    aside the two capabilities that override file permissions, and takes them back after. It stays
    root, the owner of the files, so a file's mode alone decides, as it does for any other user;
    git, which the scan starts as a program of its own, gets its capabilities back and is
    unaffected."""
    if os.geteuid() != 0:
        yield
        return
    libc = ctypes.CDLL(None, use_errno=True)
    header, data = _CapHeader(_CAPABILITY_VERSION_3, 0), (_CapData * 2)()
    if libc.capget(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capget")
    saved = data[0].effective
    data[0].effective &= ~((1 << _CAP_DAC_OVERRIDE) | (1 << _CAP_DAC_READ_SEARCH))
    if libc.capset(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capset")
    try:
        yield
    finally:
        data[0].effective = saved
        if libc.capset(ctypes.byref(header), data) != 0:
            raise OSError(ctypes.get_errno(), "capset")


def test_unreadable_file_is_a_warning_and_the_scan_goes_on(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    leak(repo / "app.py")
    leak(repo / "locked.py")
    (repo / "locked.py").chmod(0)
    try:
        with _file_permissions_bind_root():
            assert not os.access(repo / "locked.py", os.R_OK, effective_ids=True)
            code = main(["scan", str(repo), "--format", "json"])
    finally:
        (repo / "locked.py").chmod(0o644)
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert code == 1 and found_paths(data) == {"app.py"}
    assert data["stats"]["unreadable"] == 1
    assert captured.err.count("\n") == 1 and "warning: cannot read locked.py" in captured.err


def _unprivileged() -> list[str]:
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None:
        pytest.skip("needs root and setpriv to run the scanner as an unprivileged user")
    prefix = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
    probe = subprocess.run([*prefix, sys.executable, "-c", "import scanner.cli"], capture_output=True, cwd="/")
    if probe.returncode != 0:
        pytest.skip("the unprivileged user cannot run this checkout's Python")
    return prefix


@pytest.mark.parametrize("as_repo", [True, False], ids=["repo", "plain-folder"])
def test_unreadable_file_and_folder_as_unprivileged_user(as_repo: bool) -> None:
    prefix = _unprivileged()
    top = Path(tempfile.mkdtemp(prefix="keysentry-unreadable-"))
    try:
        top.chmod(0o755)
        leak(top / "app.py")
        leak(top / "locked.py")
        leak(top / "closed" / "inside.py")
        env = {**os.environ, "HOME": str(top), "NO_COLOR": "1"}
        if as_repo:
            git(top, "init", "-q")
            git(top, "add", "app.py", "locked.py")
            # git refuses a repository owned by someone else unless told it is safe.
            (top / ".gitconfig").write_text("[safe]\n\tdirectory = *\n")
            env["GIT_CONFIG_GLOBAL"] = str(top / ".gitconfig")
        for path in top.rglob("*"):
            path.chmod(0o755 if path.is_dir() else 0o644)
        (top / "locked.py").chmod(0)
        (top / "closed").chmod(0)
        proc = subprocess.run([*prefix, sys.executable, "-m", "scanner", "scan", str(top), "--format", "json"],
                              capture_output=True, text=True, env=env, cwd="/")
    finally:
        (top / "closed").chmod(0o755)
        shutil.rmtree(top)
    assert "Traceback" not in proc.stderr
    data = json.loads(proc.stdout)
    assert proc.returncode == 1 and found_paths(data) == {"app.py"}
    assert data["stats"]["unreadable"] == 2
    assert "warning: cannot read locked.py: Permission denied" in proc.stderr
    assert "warning: cannot list closed" in proc.stderr


# --- links on the way to a file (item 4) and the target the user names (item 12) -----------------

def test_tracked_file_below_a_linked_folder_is_skipped_with_a_warning(repo: Path, tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    leak(tmp_path / "outside" / "deep" / "secret.py")
    leak(repo / "sub" / "deep" / "secret.py")
    leak(repo / "app.py")
    git(repo, "add", "-A")
    shutil.rmtree(repo / "sub")
    os.symlink(tmp_path / "outside", repo / "sub")
    code = main(["scan", str(repo), "--format", "json"])
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert code == 1 and found_paths(data) == {"app.py"}
    assert data["stats"]["skipped_symlinks"] == 2  # the untracked link itself, and the file below it
    assert "warning: skipped sub/deep/secret.py: the folder sub on its way is a symbolic link" in captured.err


def test_link_inside_the_tree_to_a_folder_of_the_tree_is_not_followed_either(repo: Path,
                                                                            capsys: pytest.CaptureFixture[str]) -> None:
    leak(repo / "real" / "secret.py")
    leak(repo / "alias" / "secret.py")
    git(repo, "add", "-A")
    shutil.rmtree(repo / "alias")
    os.symlink("real", repo / "alias")
    _, data = scan(capsys, str(repo))
    assert found_paths(data) == {"real/secret.py"}  # read once, under its own name


def test_links_above_the_tree_are_the_users_own(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    real = tmp_path / "disk" / "projects"
    project = real / "app"
    project.mkdir(parents=True)
    git(project, "init", "-q")
    leak(project / "src" / "main.py")
    os.symlink(real, tmp_path / "projects")  # ~/projects -> /disk/projects
    _, data = scan(capsys, str(tmp_path / "projects" / "app"))
    assert found_paths(data) == {"src/main.py"}
    _, data = scan(capsys, str(tmp_path / "projects" / "app" / "src" / "main.py"))
    assert found_paths(data) == {"src/main.py"}


def test_named_folder_through_a_link_inside_a_repository_is_refused(repo: Path, tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    leak(tmp_path / "outside" / "deeper" / "secret.py")
    (repo / "a").mkdir()
    os.symlink(tmp_path / "outside", repo / "a" / "sub")
    assert main(["scan", str(repo / "a" / "sub" / "deeper")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"the symbolic link {repo / 'a' / 'sub'} inside a repository" in err


def test_named_symlinked_folder_is_scanned(tmp_path: Path, repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    leak(repo / "pkg" / "app.py")
    os.symlink(repo / "pkg", tmp_path / "pkg-link")
    code, data = scan(capsys, str(tmp_path / "pkg-link") + "/")
    assert code == 1 and found_paths(data) == {"pkg/app.py"}


# --- Git LFS pointers: exactly the pointer format (item 11) ---------------------------------------

_OID = "4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393"
POINTERS = {
    "spec": f"version https://git-lfs.github.com/spec/v1\noid sha256:{_OID}\nsize 12345\n",
    "no-final-newline": f"version https://git-lfs.github.com/spec/v1\noid sha256:{_OID}\nsize 12345",
    "crlf": f"version https://git-lfs.github.com/spec/v1\r\noid sha256:{_OID}\r\nsize 12345\r\n",
}
NOT_POINTERS = {
    "version-line-only": "version https://git-lfs.github.com/spec/v1\n{leak}\n",
    "key-after-size": f"version https://git-lfs.github.com/spec/v1\noid sha256:{_OID}\nsize 1\n{{leak}}\n",
    "key-as-extra-line": f"version https://git-lfs.github.com/spec/v1\n{{leak}}\noid sha256:{_OID}\nsize 1\n",
    "key-in-size": f"version https://git-lfs.github.com/spec/v1\noid sha256:{_OID}\nsize 1 {{leak}}\n",
}


@pytest.mark.parametrize("text", POINTERS.values(), ids=POINTERS.keys())
def test_lfs_pointer_is_skipped(text: str, repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "model.bin").write_text(text, newline="")
    _, data = scan(capsys, str(repo))
    assert (data["stats"]["skipped_lfs"], data["stats"]["files"]) == (1, 0)


@pytest.mark.parametrize("text", NOT_POINTERS.values(), ids=NOT_POINTERS.keys())
def test_file_that_only_looks_like_an_lfs_pointer_is_scanned(text: str, repo: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "model.bin").write_text(text.format(leak=f'KEY = "{google_key()}"'))
    code, data = scan(capsys, str(repo))
    assert code == 1 and found_paths(data) == {"model.bin"} and data["stats"]["skipped_lfs"] == 0


# --- what a clean result left out (items 23 and 26) ------------------------------------------------

def test_large_files_skipped_are_named_first_few(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for i in range(7):
        (repo / f"dump{i}.sql").write_text("#" * 2048)
    _, data = scan(capsys, str(repo), "--max-file-size", "1KB")
    assert data["stats"]["skipped_large"] == 7
    assert data["stats"]["skipped_large_paths"] == [f"dump{i}.sql" for i in range(5)]


def test_named_file_over_the_limit_is_an_error(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "dump.sql").write_text("#" * 2048)
    assert main(["scan", str(repo / "dump.sql"), "--max-file-size", "1KB"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "dump.sql is larger than --max-file-size" in err


def test_nested_repository_is_counted_and_named(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("one", "two"):
        git(repo, "init", "-q", name)
        leak(repo / name / "secret.py")
    leak(repo / "app.py")
    code, data = scan(capsys, str(repo))
    assert code == 1 and found_paths(data) == {"app.py"} and data["stats"]["nested_repos"] == 2
    assert main(["scan", str(repo)]) == 1
    out = capsys.readouterr().out
    assert "2 nested repositories (folders with their own .git) were not scanned: one/, two/" in out


def test_bare_repository_has_no_work_tree(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    git(tmp_path, "init", "-q", "--bare", "r.git")
    assert main(["scan", str(tmp_path / "r.git")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bare repository" in err and "--history" in err


@pytest.mark.parametrize("named", ["locked.py", "closed/inside.py"])
def test_unreadable_named_file_is_an_error_as_unprivileged_user(named: str) -> None:
    prefix = _unprivileged()
    top = Path(tempfile.mkdtemp(prefix="keysentry-unreadable-"))
    try:
        top.chmod(0o755)
        leak(top / "locked.py")
        leak(top / "closed" / "inside.py")
        (top / "locked.py").chmod(0)
        (top / "closed").chmod(0)
        proc = subprocess.run([*prefix, sys.executable, "-m", "scanner", "scan", str(top / named)],
                              capture_output=True, text=True, env={**os.environ, "HOME": str(top)}, cwd="/")
    finally:
        (top / "closed").chmod(0o755)
        shutil.rmtree(top)
    lines = proc.stderr.splitlines()
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert lines[0].startswith("keysentry: error: cannot read ") and lines[0].endswith(f"{named}: Permission denied")


def test_many_files_below_one_linked_folder_are_one_warning(repo: Path, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    for i in range(3):
        leak(repo / "sub" / f"secret{i}.py")
    git(repo, "add", "-A")
    shutil.rmtree(repo / "sub")
    (tmp_path / "outside").mkdir()
    os.symlink(tmp_path / "outside", repo / "sub")
    assert main(["scan", str(repo), "--format", "json"]) == 0
    err = capsys.readouterr().err
    assert err == "keysentry: warning: skipped 3 files below sub: the folder sub on its way is a symbolic link, " \
                  "which a scan never follows\n"
