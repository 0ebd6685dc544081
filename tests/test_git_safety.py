"""Repositories we do not trust or that are odd: shallow, bare, submodules, LFS, huge blobs, strange
paths, corrupt objects; and the promise that scanning runs nothing from the repository and writes
nothing into it."""
from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path
from urllib.parse import unquote_to_bytes

import pytest

from scanner.cli import main
from tests.conftest import GIT_ENV, git, google_key, hex_secret
from tests.test_history import commit, dated, key_line, row, rows, run_scan, scan_both, when, write

# --- shallow and bare clones ----------------------------------------------------------------------


def _three_commits(repo: Path) -> tuple[str, str, str]:
    gone, kept = google_key(), google_key()
    write(repo, "a.py", key_line(gone))
    commit(repo, 1)
    write(repo, "b.py", key_line(kept))
    c2 = commit(repo, 2)
    write(repo, "a.py", "pass\n")
    c3 = commit(repo, 3)
    return c2, c3, kept


def test_shallow_clone_scans_what_is_there_and_says_history_is_incomplete(
        tmp_path: Path, repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, c3, kept = _three_commits(repo)
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repo}", str(shallow))
    assert git(shallow, "rev-parse", "--is-shallow-repository") == "true"

    code, data = scan_both(capsys, "--history", str(shallow), secrets=(kept,))

    # Only the newest commit is here: it is the oldest known holder of the key that survives.
    assert code == 1
    assert rows(data) == [row("google-api-key", "b.py", 1, c3, 3, True)]
    assert data["stats"]["shallow"] is True

    code, data = scan_both(capsys, "--range", "HEAD", str(shallow), secrets=(kept,))
    assert data["stats"]["shallow"] is True

    capsys.readouterr()
    assert main(["scan", "--history", str(shallow)]) == 1
    text = capsys.readouterr().out
    assert "shallow" in text and "not scanned" in text


def test_full_clone_is_not_marked_shallow(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _three_commits(repo)

    _code, data = run_scan(capsys, "--history", str(repo))

    assert "shallow" not in data["stats"]


def test_bare_repository_history_and_range(tmp_path: Path, repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    c2, _c3, kept = _three_commits(repo)
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(bare))

    code, data = scan_both(capsys, "--history", str(bare), secrets=(kept,))
    assert code == 1
    found = rows(data)
    assert row("google-api-key", "b.py", 1, c2, 2, True) in found
    assert [(f["path"], f["in_head"]) for f in data["findings"]] == [("a.py", False), ("b.py", True)]

    code, data = scan_both(capsys, "--range", f"{c2}^!", str(bare), secrets=(kept,))
    assert rows(data) == [row("google-api-key", "b.py", 1, c2, 2, True)]

    code, data = scan_both(capsys, "--range", "HEAD~1..HEAD", str(bare))
    assert code == 0 and data["findings"] == []


def test_bare_repository_staged_is_a_clear_error(tmp_path: Path, repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _three_commits(repo)
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(bare))
    capsys.readouterr()

    assert main(["scan", "--staged", str(bare)]) == 2

    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bare" in err and "Traceback" not in err


# --- core.worktree: the repository's config must not choose what we read -------------------------------


def _repo_pointing_at(tmp_path: Path, target: Path) -> tuple[Path, str]:
    """A clean repository whose .git/config sets core.worktree to TARGET; returns it and its commit."""
    scanned = tmp_path / "scanned"
    scanned.mkdir()
    git(scanned, "init", "-q", "-b", "main")
    write(scanned, "app.py", "pass\n")
    own = commit(scanned, 2)
    git(scanned, "config", "core.worktree", str(target))
    return scanned, own


def test_core_worktree_cannot_point_the_scan_at_another_repository(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    git(victim, "init", "-q", "-b", "main")
    key = google_key()
    write(victim, "secret.py", key_line(key))
    commit(victim, 1)
    scanned, _ = _repo_pointing_at(tmp_path, victim)

    for mode in (["--history"], ["--range", "HEAD"]):
        code, data = scan_both(capsys, *mode, str(scanned), secrets=(key,))
        # The victim's key and commit are not this repository's: neither may be read.
        assert code == 0 and data["findings"] == [], mode
        assert data["stats"]["commits"] == 1, mode
    code, data = scan_both(capsys, str(scanned), secrets=(key,))
    assert code == 0 and data["findings"] == []


def test_core_worktree_cannot_point_the_scan_at_a_plain_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    elsewhere = tmp_path / "home"
    key = google_key()
    write(elsewhere, "notes.py", key_line(key))
    scanned, _ = _repo_pointing_at(tmp_path, elsewhere)
    git(scanned, "update-index", "--add", "--cacheinfo", f"100644,{git(scanned, 'rev-parse', 'HEAD:app.py')},notes.py")

    for mode in ([], ["--staged"], ["--history"]):
        _code, data = scan_both(capsys, *mode, str(scanned), secrets=(key,))
        assert data["findings"] == [], mode


def test_submodules_and_linked_worktrees_keep_their_own_work_tree(
        tmp_path: Path, repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Both are a core.worktree or a `gitdir:` file that git itself wrote: they must keep working.
    sub_key, wt_key = google_key(), google_key()
    sub = tmp_path / "sub"
    sub.mkdir()
    git(sub, "init", "-q", "-b", "main")
    write(sub, "vendor.py", key_line(sub_key))
    vendored = commit(sub, 1)
    write(repo, "app.py", "pass\n")
    commit(repo, 2)
    git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(sub), "libs/sub")
    commit(repo, 3)
    git(repo, "worktree", "add", "-q", "-b", "side", str(tmp_path / "side"))
    write(tmp_path / "side", "side.py", key_line(wt_key))

    _, data = scan_both(capsys, "--history", str(repo / "libs" / "sub"), secrets=(sub_key,))
    assert rows(data) == [row("google-api-key", "vendor.py", 1, vendored, 1, True)]
    _, data = scan_both(capsys, str(repo / "libs" / "sub"), secrets=(sub_key,))
    assert [f["path"] for f in data["findings"]] == ["vendor.py"]
    _code, data = scan_both(capsys, str(tmp_path / "side"), secrets=(wt_key,))
    assert [f["path"] for f in data["findings"]] == ["side.py"]


def test_dotfiles_repository_with_a_plain_folder_as_worktree(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = tmp_path / "home"
    home.mkdir()
    dotfiles = tmp_path / "dotfiles"
    git(tmp_path, "init", "-q", "--bare", str(dotfiles))
    key = google_key()
    write(home, ".bashrc", f"export GEMINI_API_KEY={key}\n")
    tree = ["--git-dir", str(dotfiles), "--work-tree", str(home)]
    git(tmp_path, *tree, "add", ".bashrc")
    git(tmp_path, *tree, "commit", "-q", "-m", "dotfiles", env=dated(1))
    added = git(tmp_path, "--git-dir", str(dotfiles), "rev-parse", "HEAD")
    git(tmp_path, "--git-dir", str(dotfiles), "config", "core.bare", "false")
    git(tmp_path, "--git-dir", str(dotfiles), "config", "core.worktree", str(home))

    code, data = scan_both(capsys, "--history", str(dotfiles), secrets=(key,))

    assert code == 1
    assert ("google-api-key", ".bashrc", 1, added, "Ada", when(1), True) in rows(data)
    code, data = scan_both(capsys, "--range", "HEAD", str(dotfiles), secrets=(key,))
    assert code == 1 and data["stats"]["commits"] == 1


@pytest.mark.parametrize("encoding", ["UTF-16", "UTF-32", "UTF-16LE"])
def test_log_output_encoding_of_the_repository_changes_nothing(
        repo: Path, capsys: pytest.CaptureFixture[str], encoding: str) -> None:
    key = google_key()
    write(repo, "app.py", key_line(key))
    added = commit(repo, 1, author="Zoë")
    git(repo, "config", "i18n.logOutputEncoding", encoding)  # NULs in every name git prints

    for mode in ("--history", "--range=HEAD"):
        _code, data = scan_both(capsys, mode, str(repo), secrets=(key,))
        assert rows(data) == [row("google-api-key", "app.py", 1, added, 1, True, author="Zoë")], mode


# --- replace refs and grafts: a local view of history that a push does not publish -------------------


def _key_then_removed(repo: Path) -> tuple[str, str, str]:
    key = google_key()
    write(repo, "README.md", "hi\n")
    base = commit(repo, 1)
    write(repo, "app.py", key_line(key))
    added = commit(repo, 2)
    write(repo, "app.py", "pass\n")
    commit(repo, 3)
    return key, base, added


@pytest.mark.parametrize("disguise", ["replace the blob", "replace the commit", "graft"])
def test_replace_refs_and_grafts_hide_nothing(repo: Path, capsys: pytest.CaptureFixture[str], disguise: str) -> None:
    key, base, added = _key_then_removed(repo)
    if disguise == "replace the blob":
        clean = git(repo, "hash-object", "-w", "--stdin", input="pass\n")
        git(repo, "replace", git(repo, "rev-parse", f"{added}:app.py"), clean)
    elif disguise == "replace the commit":
        git(repo, "replace", added, base)  # its tree without the key, and its parent's history
    else:
        (repo / ".git" / "info").mkdir(exist_ok=True)
        (repo / ".git" / "info" / "grafts").write_text(git(repo, "rev-parse", "HEAD") + "\n")  # HEAD as a root

    for mode in ("--history", f"--range={base}..HEAD"):
        _code, data = scan_both(capsys, mode, str(repo), secrets=(key,))
        assert rows(data) == [row("google-api-key", "app.py", 1, added, 2, False)], mode


# --- partial clones: reading a missing object would fetch it, the way the repository says ------------

FETCH_TRAPS = {
    "ext transport": {"remote.origin.url": "ext::sh -c touch% {marker}", "protocol.ext.allow": "always"},
    "ssh command": {"remote.origin.url": "ssh://example.invalid/repo", "core.sshCommand": "touch {marker}"},
    "upload-pack": {"remote.origin.url": "{elsewhere}", "remote.origin.uploadpack": "touch {marker}; git-upload-pack"},
}


@pytest.mark.parametrize("trap", list(FETCH_TRAPS), ids=list(FETCH_TRAPS))
@pytest.mark.parametrize("mode", ["--history", "--range=HEAD"])
def test_partial_clone_never_fetches_a_missing_object(
        tmp_path: Path, repo: Path, capsys: pytest.CaptureFixture[str], trap: str, mode: str) -> None:
    write(repo, "app.py", key_line(google_key()))
    commit(repo, 1)
    blob = git(repo, "rev-parse", "HEAD:app.py")
    (repo / ".git" / "objects" / blob[:2] / blob[2:]).unlink()  # "not fetched yet"
    marker = tmp_path / "fetched"
    git(repo, "config", "core.repositoryformatversion", "1")
    git(repo, "config", "extensions.partialClone", "origin")
    git(repo, "config", "remote.origin.promisor", "true")
    for name, value in FETCH_TRAPS[trap].items():
        git(repo, "config", name, value.format(marker=marker, elsewhere=tmp_path / "elsewhere"))
    if trap == "upload-pack":
        git(tmp_path, "init", "-q", "elsewhere")
    capsys.readouterr()

    code = main(["scan", mode, str(repo), "--format", "json", "--jobs", "1"])

    err = capsys.readouterr().err
    assert not marker.exists(), "git ran a program the repository chose"
    assert code == 2 and err.count("\n") == 1 and "partial clone" in err, err


# --- SHA-256 repositories: 64-hex ids, and a null id of 64 zeros ------------------------------------


def test_sha256_repository_history_and_range(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = tmp_path / "sha256"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main", "--object-format=sha256")
    gone, kept = google_key(), google_key()
    write(repo, "a.py", key_line(gone))
    first = commit(repo, 1)
    write(repo, "b.py", key_line(kept))
    git(repo, "rm", "-q", "a.py")  # a deletion: its new id is the null id
    second = commit(repo, 2)
    assert len(second) == 64

    code, data = scan_both(capsys, "--history", str(repo), secrets=(gone, kept))
    assert code == 1
    assert rows(data) == [row("google-api-key", "a.py", 1, first, 1, False), row("google-api-key", "b.py", 1, second, 2, True)]

    code, data = scan_both(capsys, "--range", f"{first}..HEAD", str(repo), secrets=(gone, kept))
    assert rows(data) == [row("google-api-key", "b.py", 1, second, 2, True)]
    code, data = scan_both(capsys, "--range", "HEAD", str(repo), secrets=(gone, kept))
    assert code == 1 and len(data["findings"]) == 2


def test_sha256_repository_missing_object_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = tmp_path / "sha256"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main", "--object-format=sha256")
    write(repo, "app.py", key_line(google_key()))
    commit(repo, 1)
    blob = git(repo, "rev-parse", "HEAD:app.py")
    (repo / ".git" / "objects" / blob[:2] / blob[2:]).unlink()

    for mode in ("--history", "--range=HEAD"):
        capsys.readouterr()
        code = main(["scan", mode, str(repo), "--format", "json", "--jobs", "1"])
        err = capsys.readouterr().err
        assert code == 2, mode
        assert err.count("\n") == 1 and "Traceback" not in err, err


# --- content that is not ours to scan ---------------------------------------------------------------


def test_submodule_gitlink_is_skipped(tmp_path: Path, repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sub_key, own_key = google_key(), google_key()
    sub = tmp_path / "sub"
    sub.mkdir()
    git(sub, "init", "-q", "-b", "main")
    write(sub, "vendor.py", key_line(sub_key))
    commit(sub, 1)
    write(repo, "app.py", "pass\n")
    commit(repo, 2)
    git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(sub), "libs/sub")
    # A gitlink to a commit that exists nowhere (a submodule never fetched) must not break the scan.
    git(repo, "update-index", "--add", "--cacheinfo", f"160000,{'1' * 40},libs/ghost")
    write(repo, "app.py", key_line(own_key))
    added = commit(repo, 3, "add submodule")
    write(repo, "libs/sub/vendor.py", "pass\n")  # the submodule's work tree changes: still not ours
    git(repo, "-C", "libs/sub", "commit", "-q", "-am", "local change", env=dated(4))
    git(repo, "add", "libs/sub")
    commit(repo, 4, "bump submodule")

    code, data = scan_both(capsys, "--history", str(repo), secrets=(sub_key, own_key))
    assert code == 1
    assert rows(data) == [row("google-api-key", "app.py", 1, added, 3, True)]

    code, data = scan_both(capsys, "--range", f"{added}~1..HEAD", str(repo), secrets=(sub_key, own_key))
    assert rows(data) == [row("google-api-key", "app.py", 1, added, 3, True)]


def _lfs_pointer(n: int) -> str:
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{n:064x}\nsize {1000 + n}\n"


def test_lfs_pointer_is_skipped_and_counted(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / ".gitattributes").write_text("*.bin filter=lfs diff=lfs merge=lfs -text\n")
    write(repo, "model.bin", _lfs_pointer(1))
    write(repo, "weights.bin", _lfs_pointer(2))
    write(repo, "app.py", "pass\n")
    commit(repo, 1)

    code, data = scan_both(capsys, "--history", str(repo))
    assert code == 0
    assert data["stats"]["skipped_lfs"] == 2
    assert data["stats"]["blobs"] == 2  # .gitattributes and app.py

    code, data = scan_both(capsys, "--range", "HEAD", str(repo))
    assert data["stats"]["skipped_lfs"] == 2


def test_blob_over_max_file_size_is_skipped_and_counted(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    small_key, big_key = google_key(), google_key()
    write(repo, "small.py", key_line(small_key))
    write(repo, "big.py", key_line(big_key) + "# padding\n" * 300)
    first = commit(repo, 1)
    write(repo, "big.py", key_line(big_key) + "# more padding\n" * 300)
    commit(repo, 2)

    _, data = scan_both(capsys, "--history", str(repo), "--max-file-size", "2000", secrets=(small_key, big_key))
    assert rows(data) == [row("google-api-key", "small.py", 1, first, 1, True)]
    assert data["stats"]["skipped_large"] == 2

    _, data = scan_both(capsys, "--range", "HEAD", str(repo), "--max-file-size", "2000", secrets=(small_key, big_key))
    assert rows(data) == [row("google-api-key", "small.py", 1, first, 1, True)]
    assert data["stats"]["skipped_large"] == 2

    _code, data = scan_both(capsys, "--history", str(repo), secrets=(small_key, big_key))
    assert {f["path"] for f in data["findings"]} == {"big.py", "small.py"}
    assert data["stats"]["skipped_large"] == 0


# --- paths git allows and terminals do not like -------------------------------------------------------

ODD_PATHS: list[tuple[bytes, str]] = [  # (bytes on disk and in git, the path as the JSON report shows it)
    (b"dir with space/my file.py", "dir with space/my file.py"),
    (b"new\nline.py", "new\nline.py"),
    (b"caf\xe9.py", "caf\\xe9.py"),
    (b"tab\there.py", "tab\there.py"),
    (b'quote".py', 'quote".py'),
    ("ünïcode.py".encode(), "ünïcode.py"),
    (b"[bold]rich[/bold].py", "[bold]rich[/bold].py"),
    (b"-dash.py", "-dash.py"),
]


def test_odd_paths_are_reported_faithfully(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    keys = {shown: google_key() for _, shown in ODD_PATHS}
    write(repo, "README.md", "hi\n")
    base = commit(repo, 1)
    for raw, shown in ODD_PATHS:
        write(repo, raw, "import genai\n" + key_line(keys[shown]))
    added = commit(repo, 2)

    code, data = scan_both(capsys, "--history", str(repo), secrets=tuple(keys.values()))
    assert code == 1
    assert sorted(rows(data)) == sorted(row("google-api-key", shown, 2, added, 2, True) for _, shown in ODD_PATHS)

    code, ranged = scan_both(capsys, "--range", f"{base}..HEAD", str(repo), secrets=tuple(keys.values()))
    assert rows(ranged) == rows(data)

    capsys.readouterr()
    assert main(["scan", "--history", str(repo), "--format", "text"]) == 1
    text = capsys.readouterr().out
    assert "caf\\xe9.py" in text and "ünïcode.py" in text
    assert "[bold]rich[/bold].py" in text  # printed, not taken as rich markup

    assert main(["scan", "--history", str(repo), "--format", "sarif"]) == 1
    sarif = json.loads(capsys.readouterr().out)
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in sarif["runs"][0]["results"]]
    # A URI percent-encodes what is not URI-safe; decoded, it is exactly the bytes git stores.
    assert sorted(unquote_to_bytes(u) for u in uris) == sorted(raw for raw, _ in ODD_PATHS)


def test_odd_path_renamed_keeps_its_original_finding(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = google_key()
    write(repo, b"old\xff name.py", key_line(key))
    added = commit(repo, 1)
    os.rename(os.path.join(os.fsencode(repo), b"old\xff name.py"), os.path.join(os.fsencode(repo), b"n\xe9w.py"))
    commit(repo, 2)

    _code, data = scan_both(capsys, "--history", str(repo), secrets=(key,))

    assert rows(data) == [row("google-api-key", "old\\xff name.py", 1, added, 1, True)]


def test_odd_dotenv_path_is_still_a_dotenv_file(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, b"deploy \xe9t\xe9/.env", f"TOKEN_VALUE={hex_secret()}\n")
    added = commit(repo, 1)

    _code, data = scan_both(capsys, "--history", str(repo))

    assert row("dotenv-file", "deploy \\xe9t\\xe9/.env", 0, added, 1, True) in rows(data)


# --- corrupt repositories ---------------------------------------------------------------------------


def _corrupt(repo: Path, oid: str) -> None:
    loose = repo / ".git" / "objects" / oid[:2] / oid[2:]
    assert loose.is_file(), "the test expects a loose object"
    loose.chmod(loose.stat().st_mode | stat.S_IWUSR)
    loose.write_bytes(b"this is not a zlib stream\n")


# A tree or commit git cannot read (issue 24): the scan goes on, names it, and writes its report.
# (what is unreadable, how): the key sits in app.py of the first commit, read in the second one's
# files when the first cannot be diffed.
UNREADABLE = [
    ("root tree", "HEAD~1^{tree}", "corrupt"),
    ("root tree", "HEAD~1^{tree}", "missing"),
    ("subtree", "HEAD~1:lib", "missing"),
    ("commit", "HEAD~1", "corrupt"),
    ("commit", "HEAD~1", "missing"),
]


@pytest.mark.parametrize(("what", "name", "how"), UNREADABLE, ids=[f"{w}-{h}" for w, _, h in UNREADABLE])
@pytest.mark.parametrize("mode", ["--history", "--range=HEAD"])
def test_an_unreadable_tree_or_commit_is_named_and_the_scan_goes_on(
        repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], what: str, name: str, how: str,
        mode: str) -> None:
    key, buried = google_key(), google_key()
    write(repo, "app.py", key_line(key))
    write(repo, "lib/util.py", key_line(buried))  # behind the subtree, where that goes missing
    write(repo, "other.py", "pass\n")
    commit(repo, 1)
    write(repo, "other.py", "x = 1\n")
    commit(repo, 2)
    oid = git(repo, "rev-parse", name)
    if how == "corrupt":
        _corrupt(repo, oid)
    else:
        (repo / ".git" / "objects" / oid[:2] / oid[2:]).unlink()
    report = tmp_path / "report.json"
    capsys.readouterr()

    code = main(["scan", mode, str(repo), "--format", "json", "--output", str(report), "--jobs", "1"])

    err = capsys.readouterr().err
    assert "Traceback" not in err
    data = json.loads(report.read_text())
    assert oid in data["stats"]["missing_objects"]
    assert "incomplete scan" in err and oid in err  # the report's warning names it too
    found = {f["path"] for f in data["findings"]}
    # app.py is in HEAD's readable tree: found whatever was lost (at the commit whose files were read).
    assert "app.py" in found and code == 1
    assert ("lib/util.py" in found) == (what != "subtree")


def test_an_unreadable_tree_without_findings_exits_2_with_a_report(repo: Path, tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, "lib/util.py", "pass\n")
    write(repo, "other.py", "pass\n")
    commit(repo, 1)
    write(repo, "other.py", "x = 1\n")
    commit(repo, 2)
    tree = git(repo, "rev-parse", "HEAD:lib")
    (repo / ".git" / "objects" / tree[:2] / tree[2:]).unlink()
    report = tmp_path / "report.json"
    code = main(["scan", "--history", str(repo), "--format", "json", "--output", str(report)])
    assert code == 2  # never 0 for an incomplete scan
    assert json.loads(report.read_text())["stats"]["missing_objects"] == [tree]
    assert "incomplete scan" in capsys.readouterr().err


def _unreadable_blob(repo: Path, how: str) -> str:
    """A blob of the first commit that git cannot read: deleted (a partial clone, an old mirror)
    or overwritten with garbage (a bad disk); git dies on the latter, mid-batch."""
    blob = git(repo, "rev-parse", "HEAD~1:old.py")
    if how == "corrupt":
        _corrupt(repo, blob)
    else:
        (repo / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    return blob


@pytest.mark.parametrize("how", ["missing", "corrupt"])
@pytest.mark.parametrize("mode", ["--history", "--range=HEAD"])
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_blob_git_cannot_read_is_named_and_the_scan_goes_on(
        repo: Path, capsys: pytest.CaptureFixture[str], how: str, mode: str, jobs: str) -> None:
    kept, lost = google_key(), google_key()
    write(repo, "old.py", key_line(lost))
    write(repo, "before.py", key_line(kept))
    for i in range(30):  # blobs on both sides of the bad one, read by the same git, or after it by a new one
        write(repo, f"pkg/m{i}.py", f"n = {i}\n")
    commit(repo, 1)
    write(repo, "after.py", "pass\n")
    commit(repo, 2)
    blob = _unreadable_blob(repo, how)
    capsys.readouterr()

    code = main(["scan", mode, str(repo), "--format", "json", "--jobs", jobs])

    captured = capsys.readouterr()
    report = json.loads(captured.out)  # written, whole
    assert [f["path"] for f in report["findings"]] == ["before.py"]
    assert report["stats"]["missing_objects"] == [blob]
    assert report["stats"]["blobs"] >= 32  # every other blob was read
    assert code == 1  # findings were reported; the incomplete scan is said on stderr
    assert captured.err.count("\n") == 1 and captured.err.startswith("keysentry: warning: incomplete scan")
    assert blob in captured.err and "git fsck" in captured.err and "Traceback" not in captured.err


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_an_incomplete_scan_without_findings_is_exit_2_never_0(
        repo: Path, capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    write(repo, "old.py", key_line(google_key()))
    commit(repo, 1)
    write(repo, "after.py", "pass\n")
    commit(repo, 2)
    blob = _unreadable_blob(repo, "missing")
    capsys.readouterr()

    code = main(["scan", "--history", str(repo), "--format", fmt, "--jobs", "1"])

    captured = capsys.readouterr()
    assert code == 2
    if fmt == "json":
        assert json.loads(captured.out)["stats"]["missing_objects"] == [blob]
    else:
        assert "1 git object missing or corrupt" in " ".join(captured.out.split())
    assert captured.err.count("\n") == 1 and blob in captured.err and "Traceback" not in captured.err


# --- running nothing from the repository, writing nothing into it ----------------------------------

HOOKS = ("pre-commit", "post-commit", "post-checkout", "post-merge", "pre-push", "reference-transaction",
         "post-index-change", "pre-auto-gc", "post-rewrite", "fsmonitor-watchman", "push-to-checkout",
         "pre-receive", "update", "post-receive", "prepare-commit-msg", "commit-msg")


def _evil(bin_dir: Path, markers: Path, name: str, marker: str = "") -> str:
    script = bin_dir / name
    # Pass stdin through so that a filter or textconv "works" and the trap is not noticed.
    script.write_text(f'#!/bin/sh\ntouch "{markers / (marker or name)}"\nif [ -f "$1" ]; then cat "$1"; else cat; fi\nexit 0\n')
    script.chmod(0o755)
    return str(script)


def _sign(repo: Path) -> None:
    """Rewrite HEAD as a commit carrying a (fake) PGP signature, so a verifier would be called."""
    raw = git(repo, "cat-file", "commit", "HEAD") + "\n"
    head, _, body = raw.partition("\n\n")
    sig = "gpgsig -----BEGIN PGP SIGNATURE-----\n \n iQEzBAABCAAdFiEE\n -----END PGP SIGNATURE-----"
    proc = subprocess.run(["git", "hash-object", "-t", "commit", "-w", "--stdin"], cwd=repo, capture_output=True,
                          input=f"{head}\n{sig}\n\n{body}".encode(), env={**os.environ, **GIT_ENV}, check=True)
    git(repo, "update-ref", "HEAD", proc.stdout.decode().strip())


def _booby_trapped(tmp_path: Path, repo: Path) -> tuple[Path, list[str]]:
    """A repository whose config, attributes and hooks run a marker script wherever git allows."""
    key = google_key()
    markers, bin_dir = tmp_path / "markers", tmp_path / "bin"
    markers.mkdir()
    bin_dir.mkdir()
    (repo / ".gitattributes").write_text("* diff=evil filter=evil merge=evil\n")
    write(repo, "app.py", "pass\n")
    commit(repo, 1)
    write(repo, "app.py", key_line(key))
    commit(repo, 2)
    git(repo, "checkout", "-q", "-b", "side")
    write(repo, "side.py", key_line(google_key()))
    commit(repo, 3)
    git(repo, "checkout", "-q", "main")
    write(repo, "stashed.py", "pass\n")
    git(repo, "add", "stashed.py")
    git(repo, "stash", "-q", env=dated(4))
    git(repo, "tag", "-a", "v1", "-m", "v1", env=dated(4))
    _sign(repo)
    write(repo, "staged.py", key_line(google_key()))
    git(repo, "add", "staged.py")
    write(repo, "untracked.py", key_line(google_key()))
    write(repo, "app.py", key_line(key) + "# edited in the work tree\n")

    # Armed only now, so that building the repository above did not set them off.
    config = {
        "core.fsmonitor": _evil(bin_dir, markers, "fsmonitor"),
        "core.pager": _evil(bin_dir, markers, "pager"),
        "core.sshCommand": _evil(bin_dir, markers, "ssh"),
        "core.askPass": _evil(bin_dir, markers, "askpass"),
        "core.editor": _evil(bin_dir, markers, "editor"),
        "core.alternateRefsCommand": _evil(bin_dir, markers, "alternate-refs"),
        "core.untrackedCache": "true",
        "diff.external": _evil(bin_dir, markers, "diff-external"),
        "diff.evil.textconv": _evil(bin_dir, markers, "textconv"),
        "diff.evil.command": _evil(bin_dir, markers, "diff-command"),
        "filter.evil.clean": _evil(bin_dir, markers, "clean"),
        "filter.evil.smudge": _evil(bin_dir, markers, "smudge"),
        "merge.evil.driver": _evil(bin_dir, markers, "merge-driver"),
        "gpg.program": _evil(bin_dir, markers, "gpg"),
        "log.showSignature": "true",
        "pager.log": _evil(bin_dir, markers, "pager-log"),
        "gc.auto": "1",
        "gc.autoDetach": "false",
    }
    for name, value in config.items():
        git(repo, "config", name, value)
    hooks = repo / ".git" / "hooks"
    for hook in HOOKS:
        _evil(hooks, markers, hook, marker=f"hook-{hook}")
    return markers, [key]


SCANS = {
    "history": ["--history"],
    "range": ["--range", "HEAD~1..HEAD"],
    "range of a branch": ["--range", "main..side"],
    "staged": ["--staged"],
    "worktree": [],
}


@pytest.mark.parametrize("mode", list(SCANS), ids=list(SCANS))
@pytest.mark.parametrize("fmt", ["json", "text"])
def test_scanning_runs_no_code_from_the_repository(tmp_path: Path, repo: Path, capsys: pytest.CaptureFixture[str],
                                                    mode: str, fmt: str) -> None:
    markers, _ = _booby_trapped(tmp_path, repo)

    for jobs in ("1", "2"):
        capsys.readouterr()
        code = main(["scan", *SCANS[mode], str(repo), "--format", fmt, "--jobs", jobs])
        captured = capsys.readouterr()
        assert code == 1, captured.err
        assert sorted(p.name for p in markers.iterdir()) == []


def test_the_traps_are_armed(tmp_path: Path, repo: Path) -> None:
    """The booby-trapped repository would run code under plain git: the test above means something."""
    markers, _ = _booby_trapped(tmp_path, repo)

    subprocess.run(["git", "status"], cwd=repo, capture_output=True, env={**os.environ, **GIT_ENV})
    subprocess.run(["git", "log", "-p", "-2"], cwd=repo, capture_output=True, env={**os.environ, **GIT_ENV})
    subprocess.run(["git", "checkout", "-q", "side"], cwd=repo, capture_output=True, env={**os.environ, **GIT_ENV})

    fired = {p.name for p in markers.iterdir()}
    assert {"fsmonitor", "textconv", "gpg", "hook-post-checkout", "smudge"} <= fired, fired


def _snapshot(top: Path) -> dict[bytes, tuple[int, int, int]]:
    """Every file and folder below TOP (the work tree and .git): its mode, size and mtime."""
    state = {}
    for dirpath, dirnames, filenames in os.walk(os.fsencode(top)):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            st = os.lstat(full)
            state[os.path.relpath(full, os.fsencode(top))] = (st.st_mode, st.st_size, st.st_mtime_ns)
    return state


def test_scanning_writes_nothing_into_the_repository(tmp_path: Path, repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _booby_trapped(tmp_path, repo)
    for raw, _ in ODD_PATHS[:3]:
        write(repo, raw, "pass\n")
    # Stale stat data in the index tempts a refresh that would rewrite .git/index.
    os.utime(repo / "app.py", ns=(1, 1))
    before = _snapshot(repo)
    assert any(p.startswith(b".git" + os.sep.encode()) for p in before)

    for mode, args in SCANS.items():
        for fmt in ("json", "text", "sarif"):
            capsys.readouterr()
            assert main(["scan", *args, str(repo), "--format", fmt, "--jobs", "2"]) == 1, mode

    after = _snapshot(repo)
    assert {k: v for k, v in after.items() if before.get(k) != v} == {}
    assert set(before) == set(after)


def test_bare_repository_is_not_written_either(tmp_path: Path, repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _three_commits(repo)
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(bare))
    before = _snapshot(bare)

    for args in (["--history"], ["--range", "HEAD~2..HEAD"]):
        capsys.readouterr()
        assert main(["scan", *args, str(bare), "--format", "json"]) == 1

    assert _snapshot(bare) == before


def test_an_unreadable_tree_of_a_reflog_only_commit_is_named_by_unreachable(
        repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, "a.txt", "a\n")
    commit(repo, 1)
    write(repo, "lib/k.py", key_line(google_key()))
    commit(repo, 2)
    tree = git(repo, "rev-parse", "HEAD:lib")
    git(repo, "reset", "-q", "--hard", "HEAD~1")  # commit 2 is now named by the reflog alone
    (repo / ".git" / "objects" / tree[:2] / tree[2:]).unlink()
    report = tmp_path / "report.json"
    code = main(["scan", "--history", "--unreachable", str(repo), "--format", "json", "--output", str(report)])
    data = json.loads(report.read_text())
    assert data["stats"]["missing_objects"] == [tree] and "incomplete scan" in capsys.readouterr().err
    # The key's blob, which no readable tree holds any more, is read as a dangling blob.
    assert code == 1 and [f["reachable"] for f in data["findings"]] == [False]


def test_a_history_missing_most_of_its_trees_is_one_clear_line_and_exit_2(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Not a few lost objects but a repository without its trees (a partial clone made without
    # them, a botched copy): walking it a commit at a time would take hours and say little.
    for i in range(70):
        write(repo, "n.txt", f"{i}\n")
        commit(repo, 1 + i % 28)
    for tree in git(repo, "log", "--format=%T").split():
        (repo / ".git" / "objects" / tree[:2] / tree[2:]).unlink(missing_ok=True)
    code = main(["scan", "--history", str(repo), "--format", "json"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "cannot read the trees of" in err, err
