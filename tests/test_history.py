"""`keysentry scan --history`: small stories told in real git repositories built in tmp_path.

Every scan here runs with `--jobs 1` and `--jobs 2` and must give the same report either way.
Commit dates are pinned through GIT_AUTHOR_DATE/GIT_COMMITTER_DATE so that attribution and ordering
do not depend on how fast the test runs.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from scanner.cli import main
from tests.conftest import git, google_key, hex_secret

# --- helpers shared with test_range.py and test_git_safety.py ---------------------------------


def when(day: int) -> str:
    """The pinned author/committer date of the DAYth commit, as git's %aI prints it."""
    return f"2024-03-{day:02d}T10:00:00+00:00"


def dated(day: int, author: str = "Ada") -> dict[str, str]:
    return {"GIT_AUTHOR_DATE": when(day), "GIT_COMMITTER_DATE": when(day), "GIT_AUTHOR_NAME": author}


def write(repo: Path, rel: str | bytes, text: str) -> None:
    path = Path(os.fsdecode(os.path.join(os.fsencode(repo), os.fsencode(rel))))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def commit(repo: Path, day: int, message: str = "change", author: str = "Ada") -> str:
    """Stage everything and commit it on day DAY; returns the full sha."""
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message, env=dated(day, author))
    return sha(repo)


def sha(repo: Path, rev: str = "HEAD") -> str:
    return git(repo, "rev-parse", "--verify", "-q", f"{rev}^{{commit}}")


def run_scan(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    code = main(["scan", *args, "--format", "json"])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    data = json.loads(captured.out) if code in (0, 1) else {}
    return code, data


def scan_both(capsys: pytest.CaptureFixture[str], *args: str, secrets: tuple[str, ...] = ()) -> tuple[int, dict[str, Any]]:
    """Scan with one worker and with two; the reports must match (but for the elapsed time)."""
    code1, one = run_scan(capsys, *args, "--jobs", "1")
    code2, two = run_scan(capsys, *args, "--jobs", "2")
    assert code1 == code2
    for data in (one, two):
        data.get("stats", {}).pop("seconds", None)
        # Redaction is the default: the full secret never reaches the report.
        for secret in secrets:
            assert secret not in json.dumps(data)
    assert one == two
    return code1, one


def history(capsys: pytest.CaptureFixture[str], repo: Path, *secrets: str) -> tuple[int, dict[str, Any]]:
    return scan_both(capsys, "--history", str(repo), secrets=secrets)


FIELDS = ("rule_id", "path", "line", "commit", "author", "date", "in_head")


def rows(data: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [tuple(f[k] for k in FIELDS) for f in data["findings"]]


def row(rule: str, path: str, line: int, commit_sha: str, day: int, in_head: bool, author: str = "Ada") -> tuple[Any, ...]:
    return (rule, path, line, commit_sha, author, when(day), in_head)


def key_line(key: str) -> str:
    return f'client = genai.Client(api_key="{key}")\n'


# --- scenarios ---------------------------------------------------------------------------------


def test_key_added_then_removed_is_found_not_in_head(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = google_key()
    write(repo, "app.py", "import os\n")
    commit(repo, 1, "start")
    write(repo, "app.py", "import os\n" + key_line(key))
    added = commit(repo, 2, "add client", author="Grace")
    write(repo, "app.py", 'import os\nclient = genai.Client(api_key=os.environ["GEMINI_API_KEY"])\n')
    commit(repo, 3, "read the key from the environment")

    code, data = history(capsys, repo, key)

    assert code == 1
    assert data["mode"] == "history"
    assert rows(data) == [row("google-api-key", "app.py", 2, added, 2, False, author="Grace")]
    assert data["findings"][0]["column"] == len('client = genai.Client(api_key="') + 1
    assert data["stats"]["commits"] == 3


def test_key_in_a_file_later_deleted(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = google_key()
    write(repo, "README.md", "hello\n")
    commit(repo, 1)
    write(repo, "scripts/try_gemini.py", "import genai\n\n" + key_line(key))
    added = commit(repo, 2, "try it")
    git(repo, "rm", "-q", "scripts/try_gemini.py")
    commit(repo, 3, "oops")

    code, data = history(capsys, repo, key)

    assert code == 1
    assert rows(data) == [row("google-api-key", "scripts/try_gemini.py", 3, added, 2, False)]


def test_renamed_file_is_one_finding_at_the_original_path(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = google_key()
    write(repo, "src/settings.py", "DEBUG = False\n" + key_line(key))
    added = commit(repo, 1, "settings")
    (repo / "config").mkdir()
    git(repo, "mv", "src/settings.py", "config/settings.py")
    commit(repo, 2, "move settings")
    # A later edit elsewhere in the moved file changes its blob but not the finding.
    write(repo, "config/settings.py", "DEBUG = True\n" + key_line(key))
    commit(repo, 3, "debug on")

    code, data = history(capsys, repo, key)

    assert code == 1
    assert rows(data) == [row("google-api-key", "src/settings.py", 2, added, 1, True)]

    capsys.readouterr()
    assert main(["scan", "--history", str(repo), "--jobs", "1"]) == 1
    text = capsys.readouterr().out
    assert "src/settings.py" in text
    assert "config/settings.py" in text, "the text report should say where the renamed secret lives now"
    assert key not in text


def test_renamed_then_deleted_is_not_in_head(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = google_key()
    write(repo, "old.py", key_line(key))
    added = commit(repo, 1)
    git(repo, "mv", "old.py", "new.py")
    commit(repo, 2)
    git(repo, "rm", "-q", "new.py")
    commit(repo, 3)

    _code, data = history(capsys, repo, key)

    assert rows(data) == [row("google-api-key", "old.py", 1, added, 1, False)]


def test_key_only_on_a_side_branch(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = google_key()
    write(repo, "app.py", "print('hi')\n")
    commit(repo, 1)
    git(repo, "checkout", "-q", "-b", "experiment")
    write(repo, "app.py", "print('hi')\n" + key_line(key))
    added = commit(repo, 2, "wip", author="Linus")
    git(repo, "checkout", "-q", "main")
    write(repo, "other.py", "x = 1\n")
    commit(repo, 3)

    code, data = history(capsys, repo, key)

    assert code == 1
    assert rows(data) == [row("google-api-key", "app.py", 2, added, 2, False, author="Linus")]


def test_key_only_on_a_remote_tracking_branch(tmp_path: Path, repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = google_key()
    write(repo, "app.py", "print('hi')\n")
    commit(repo, 1)
    git(repo, "checkout", "-q", "-b", "feature")
    write(repo, "feature.py", key_line(key))
    added = commit(repo, 2, "feature")
    git(repo, "checkout", "-q", "main")

    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    git(clone, "checkout", "-q", "-b", "feature", "origin/feature")
    git(clone, "checkout", "-q", "main")
    git(clone, "branch", "-q", "-D", "feature")
    assert git(clone, "branch", "--list", "feature") == ""
    assert sha(clone, "origin/feature") == added

    code, data = history(capsys, clone, key)

    assert code == 1
    assert rows(data) == [row("google-api-key", "feature.py", 1, added, 2, False)]


def test_key_only_in_a_tag(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = google_key()
    write(repo, "app.py", "print('hi')\n")
    commit(repo, 1)
    git(repo, "checkout", "-q", "-b", "release")
    write(repo, "release.cfg", f"api_key = {key}\n")
    added = commit(repo, 2, "release build")
    git(repo, "tag", "-a", "v1.0", "-m", "release 1.0", env=dated(2))
    git(repo, "checkout", "-q", "main")
    git(repo, "branch", "-q", "-D", "release")

    code, data = history(capsys, repo, key)

    assert code == 1
    assert rows(data) == [row("google-api-key", "release.cfg", 1, added, 2, False)]


def test_key_only_in_an_older_stash_entry(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = google_key()
    write(repo, "app.py", "print('hi')\n")
    write(repo, "util.py", "x = 1\n")
    commit(repo, 1)
    write(repo, "app.py", "print('hi')\n" + key_line(key))
    git(repo, "stash", "-q", env=dated(2))
    stashed = sha(repo, "stash@{0}")
    write(repo, "util.py", "x = 2\n")
    git(repo, "stash", "-q", env=dated(3))
    assert sha(repo, "stash@{1}") == stashed  # the stash with the key is no longer the newest

    code, data = history(capsys, repo, key)

    assert code == 1
    assert rows(data) == [row("google-api-key", "app.py", 2, stashed, 2, False)]


def test_key_only_in_a_staged_then_stashed_change(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # `git add` before `git stash`: the secret lives in the stash's index commit (stash^2).
    key = google_key()
    write(repo, "app.py", "print('hi')\n")
    commit(repo, 1)
    write(repo, "app.py", "print('hi')\n" + key_line(key))
    git(repo, "add", "app.py")
    git(repo, "stash", "-q", env=dated(2))
    index_commit = sha(repo, "stash@{0}^2")
    write(repo, "app.py", "print('bye')\n")
    git(repo, "stash", "-q", env=dated(3))

    _code, data = history(capsys, repo, key)

    assert rows(data) == [row("google-api-key", "app.py", 2, index_commit, 2, False)]


def test_key_only_in_an_untracked_file_stash(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # `git stash -u` keeps untracked files in a third parent commit (stash^3).
    key = google_key()
    write(repo, "app.py", "print('hi')\n")
    commit(repo, 1)
    write(repo, "scratch.py", key_line(key))
    git(repo, "stash", "-q", "-u", env=dated(2))
    untracked_commit = sha(repo, "stash@{0}^3")
    assert not (repo / "scratch.py").exists()

    _code, data = history(capsys, repo, key)

    assert rows(data) == [row("google-api-key", "scratch.py", 1, untracked_commit, 2, False)]


def test_key_only_in_a_detached_head_commit(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = google_key()
    write(repo, "app.py", "print('hi')\n")
    commit(repo, 1)
    git(repo, "checkout", "-q", "--detach")
    write(repo, "app.py", key_line(key))
    added = commit(repo, 2, "on no branch")

    _code, data = history(capsys, repo, key)

    assert rows(data) == [row("google-api-key", "app.py", 1, added, 2, True)]


@pytest.mark.parametrize("conflict", [True, False], ids=["conflict resolution", "clean merge amended"])
def test_key_introduced_by_a_merge_resolution(repo: Path, capsys: pytest.CaptureFixture[str], conflict: bool) -> None:
    key = google_key()
    write(repo, "config.py", "TIMEOUT = 1\n")
    commit(repo, 1)
    git(repo, "checkout", "-q", "-b", "feature")
    write(repo, "config.py" if conflict else "feature.py", "TIMEOUT = 2\n")
    commit(repo, 2, "feature")
    git(repo, "checkout", "-q", "main")
    write(repo, "config.py" if conflict else "main.py", "TIMEOUT = 3\n")
    commit(repo, 3, "main")
    proc_env = dated(4, author="Mergy")
    if conflict:
        with pytest.raises(AssertionError):
            git(repo, "merge", "-q", "feature", env=proc_env)
    else:
        git(repo, "merge", "-q", "--no-commit", "--no-ff", "feature", env=proc_env)
    write(repo, "config.py", "TIMEOUT = 4\n" + key_line(key))
    git(repo, "add", "config.py")
    git(repo, "commit", "-q", "--no-edit", env=proc_env)
    merge = sha(repo)
    assert len(git(repo, "rev-list", "--parents", "-n", "1", "HEAD").split()) == 3

    code, data = history(capsys, repo, key)

    assert code == 1
    assert rows(data) == [row("google-api-key", "config.py", 2, merge, 4, True, author="Mergy")]


def test_key_on_one_side_of_a_merge_keeps_its_branch_commit(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = google_key()
    write(repo, "config.py", "TIMEOUT = 1\n")
    commit(repo, 1)
    git(repo, "checkout", "-q", "-b", "feature")
    write(repo, "feature.py", key_line(key))
    added = commit(repo, 2, "feature")
    git(repo, "checkout", "-q", "main")
    write(repo, "main.py", "x = 1\n")
    commit(repo, 3)
    git(repo, "merge", "-q", "--no-edit", "feature", env=dated(4))

    _code, data = history(capsys, repo, key)

    assert rows(data) == [row("google-api-key", "feature.py", 1, added, 2, True)]


def test_same_key_in_two_files_is_two_findings(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = google_key()
    write(repo, "web/app.js", f'const client = new GoogleGenAI({{apiKey: "{key}"}});\n')
    write(repo, "tools/run.py", "import genai\n" + key_line(key))
    added = commit(repo, 1)

    code, data = history(capsys, repo, key)

    assert code == 1
    assert rows(data) == [
        row("google-api-key", "tools/run.py", 2, added, 1, True),
        row("google-api-key", "web/app.js", 1, added, 1, True),
    ]
    assert len({f["fingerprint"] for f in data["findings"]}) == 2


def test_dotenv_committed_then_git_rm(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    value = hex_secret()
    write(repo, "app.py", "print('hi')\n")
    commit(repo, 1)
    write(repo, ".env", f"DATABASE_PASSWORD={value}\n")
    added = commit(repo, 2, "add env")
    git(repo, "rm", "-q", "--cached", ".env")
    (repo / ".gitignore").write_text(".env\n")
    commit(repo, 3, "untrack env")
    assert (repo / ".env").exists()  # still on disk, ignored: only history holds it

    code, data = history(capsys, repo, value)

    assert code == 1
    dotenv = [f for f in data["findings"] if f["rule_id"] == "dotenv-file"]
    assert [tuple(f[k] for k in FIELDS) for f in dotenv] == [row("dotenv-file", ".env", 0, added, 2, False)]
    assert dotenv[0]["column"] == 0
    assert {f["path"] for f in data["findings"]} == {".env"}


def test_key_moved_within_a_file_is_one_finding_at_its_first_commit(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = google_key()
    write(repo, "app.py", "import os\n" + key_line(key) + "print(client)\n")
    added = commit(repo, 1)
    write(repo, "app.py", "import sys\nimport os\n\n\nprint(client)\n" + key_line(key))
    commit(repo, 2, "shuffle")

    _code, data = history(capsys, repo, key)

    assert rows(data) == [row("google-api-key", "app.py", 2, added, 1, True)]


def test_key_moved_to_another_file_in_one_commit_is_not_new(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = google_key()
    write(repo, "app.py", "import genai\n" + key_line(key) + "main()\n")
    added = commit(repo, 1)
    write(repo, "app.py", "import genai\nfrom settings import client\nmain()\n")
    write(repo, "settings.py", "import genai\n\n" + key_line(key))
    commit(repo, 2, "move the client into settings")

    _code, data = history(capsys, repo, key)

    # One finding, where it first appeared; still in HEAD (at settings.py now).
    assert rows(data) == [row("google-api-key", "app.py", 2, added, 1, True)]


def test_copy_that_keeps_the_old_path_is_a_new_finding(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = google_key()
    write(repo, "a.py", key_line(key))
    first = commit(repo, 1)
    (repo / "b.py").write_text((repo / "a.py").read_text())
    copied = commit(repo, 2, "copy")

    _code, data = history(capsys, repo, key)

    assert rows(data) == [
        row("google-api-key", "a.py", 1, first, 1, True),
        row("google-api-key", "b.py", 1, copied, 2, True),
    ]


def test_a_key_removed_and_readded_at_the_same_path_is_one_finding(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = google_key()
    write(repo, "app.py", key_line(key))
    first = commit(repo, 1)
    write(repo, "app.py", "pass\n")
    commit(repo, 2)
    write(repo, "app.py", "import x\n" + key_line(key))
    commit(repo, 3, "revert the fix")

    _code, data = history(capsys, repo, key)

    assert rows(data) == [row("google-api-key", "app.py", 1, first, 1, True)]


def test_cherry_picked_key_is_attributed_to_the_oldest_commit(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = google_key()
    write(repo, "app.py", "print('hi')\n")
    commit(repo, 1)
    git(repo, "checkout", "-q", "-b", "side")
    write(repo, "keys.py", key_line(key))
    original = commit(repo, 2, "on side")
    git(repo, "checkout", "-q", "main")
    write(repo, "main.py", "x = 1\n")
    commit(repo, 3)
    git(repo, "cherry-pick", original, env=dated(5))
    assert sha(repo) != original

    _code, data = history(capsys, repo, key)

    assert rows(data) == [row("google-api-key", "keys.py", 1, original, 2, True)]


def test_findings_are_ordered_by_commit_date_then_path(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first_key, second_key, third_key = google_key(), google_key(), google_key()
    write(repo, "zeta.py", key_line(first_key))
    c1 = commit(repo, 1)
    write(repo, "beta.py", key_line(second_key))
    write(repo, "alpha.py", key_line(third_key))
    c2 = commit(repo, 2)

    _code, data = history(capsys, repo, first_key, second_key, third_key)

    assert [(f["path"], f["commit"]) for f in data["findings"]] == [("zeta.py", c1), ("alpha.py", c2), ("beta.py", c2)]


def test_findings_are_ordered_by_the_instant_not_the_local_clock(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # 10:00 in Karachi (05:00 UTC) is before 08:00 in London: the wall-clock text sorts the other way.
    east, west = google_key(), google_key()
    write(repo, "zz_east.py", key_line(east))
    git(repo, "add", "-A")
    stamp = "2024-03-01T10:00:00+05:00"
    git(repo, "commit", "-q", "-m", "east", env={"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp})
    first = sha(repo)
    write(repo, "aa_west.py", key_line(west))
    git(repo, "add", "-A")
    stamp = "2024-03-01T08:00:00+00:00"
    git(repo, "commit", "-q", "-m", "west", env={"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp})
    second = sha(repo)

    _code, data = history(capsys, repo, east, west)

    assert [(f["path"], f["commit"], f["date"]) for f in data["findings"]] == [
        ("zz_east.py", first, "2024-03-01T10:00:00+05:00"),
        ("aa_west.py", second, "2024-03-01T08:00:00+00:00"),
    ]


def test_two_keys_in_one_file_and_a_non_ascii_author(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    k1, k2 = google_key(), google_key()
    write(repo, "app.py", key_line(k1) + "\n" + key_line(k2))
    added = commit(repo, 1, author="Zoë Ünal")

    _code, data = history(capsys, repo, k1, k2)

    assert rows(data) == [
        row("google-api-key", "app.py", 1, added, 1, True, author="Zoë Ünal"),
        row("google-api-key", "app.py", 3, added, 1, True, author="Zoë Ünal"),
    ]


# Byte 0x01 is legal in paths and idents; git log -z must be framed by NULs only. Paths that look
# like the next field (a colon, a newline, hex) must not shift the framing either.
DECOYS = [b"secret.p\x01y", b"\x01", b"a\x01b\x01c.py", b"x\x01\n:100644 100644 A", b":000000 A",
          b"\n:", b"0" * 40, b"e" * 40 + b" " + b"f" * 40]


@pytest.mark.parametrize("decoy", DECOYS, ids=[repr(d)[2:-1] for d in DECOYS])
def test_odd_bytes_in_a_path_beside_a_key_hide_nothing(repo: Path, capsys: pytest.CaptureFixture[str], decoy: bytes) -> None:
    key, decoy_key = google_key(), google_key()
    write(repo, "README.md", "hi\n")
    base = commit(repo, 1)
    write(repo, decoy, "pass\n")
    write(repo, "secret.py", key_line(key))
    added = commit(repo, 2)
    write(repo, decoy, key_line(decoy_key))  # and a key at the odd path itself
    decoyed = commit(repo, 3)
    shown = os.fsdecode(decoy)

    for args in (["--history"], ["--range", f"{base}..HEAD"]):
        code, data = scan_both(capsys, *args, str(repo), secrets=(key, decoy_key))
        assert code == 1, args
        assert sorted(rows(data)) == sorted([row("google-api-key", "secret.py", 1, added, 2, True),
                                             row("google-api-key", shown, 1, decoyed, 3, True)]), args


@pytest.mark.parametrize("author", ["Ada\x01Lovelace", "\x01Ada", "Ada\x01\x01", "Ada\x01:100644"])
def test_byte_0x01_in_an_author_name(repo: Path, capsys: pytest.CaptureFixture[str], author: str) -> None:
    key = google_key()
    write(repo, "README.md", "hi\n")
    base = commit(repo, 1, author=author)
    write(repo, "secret.py", key_line(key))
    added = commit(repo, 2, author=author)
    stored = git(repo, "log", "-1", "--format=%an")

    for args in (["--history"], ["--range", f"{base}..HEAD"]):
        code, data = scan_both(capsys, *args, str(repo), secrets=(key,))
        assert code == 1, args
        assert rows(data) == [row("google-api-key", "secret.py", 1, added, 2, True, author=stored)], args


def crafted_commit(repo: Path, author_date: str, parents: tuple[str, ...] = ()) -> str:
    """A commit of the index written byte by byte: dates `git commit` would refuse to make."""
    git(repo, "add", "-A")
    lines = [f"tree {git(repo, 'write-tree')}", *(f"parent {p}" for p in parents),
             f"author Ada <ada@example.com> {author_date}", f"committer Ada <ada@example.com> {author_date}"]
    made = git(repo, "hash-object", "-t", "commit", "-w", "--stdin", input="\n".join(lines) + "\n\nx\n")
    git(repo, "update-ref", "refs/heads/main", made)
    return made


@pytest.mark.parametrize("author_date, shown", [
    ("253402300800 +0000", "9999-12-31T23:59:59+00:00"),  # the year 10000
    ("1700000000 +9959", "2023-11-14T22:13:20+00:00"),  # an offset of 99 h 59 min
], ids=["year 10000", "offset +9959"])
def test_author_date_git_accepts_but_datetime_cannot_hold(
        repo: Path, capsys: pytest.CaptureFixture[str], author_date: str, shown: str) -> None:
    key = google_key()
    write(repo, "secret.py", key_line(key))
    made = crafted_commit(repo, author_date)
    git(repo, "fsck", "--strict")

    for args in (["--history"], ["--range", "HEAD"]):
        code, data = scan_both(capsys, *args, str(repo), secrets=(key,))
        assert code == 1, args
        assert [(f["commit"], f["date"]) for f in data["findings"]] == [(made, shown)], args
    capsys.readouterr()
    assert main(["scan", "--history", str(repo)]) == 1
    assert "Traceback" not in capsys.readouterr().err


def test_clean_history_exits_0(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, "app.py", 'client = genai.Client(api_key=os.environ["GEMINI_API_KEY"])\n')
    commit(repo, 1)

    code, data = history(capsys, repo)

    assert code == 0
    assert data["findings"] == []
    assert data["stats"]["commits"] == 1 and data["stats"]["blobs"] == 1


def test_history_of_a_repository_without_commits_is_empty(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, "app.py", key_line(google_key()))  # in the work tree only, never committed

    code, data = history(capsys, repo)

    assert code == 0
    assert data["findings"] == []


def test_many_blobs_scan_identically_with_one_or_two_workers(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Enough blobs for several worker batches, so --jobs 2 really fans out.
    keys = {n: google_key() for n in (7, 300, 555)}
    for n in range(600):
        write(repo, f"pkg/mod_{n:03d}.py", f"VALUE = {n}\n" + (key_line(keys[n]) if n in keys else ""))
    c1 = commit(repo, 1)
    for n in range(0, 600, 2):
        write(repo, f"pkg/mod_{n:03d}.py", f"VALUE = {n} changed\n")
    c2 = commit(repo, 2, "touch half, drops the key in mod_300")

    code, data = history(capsys, repo, *keys.values())

    assert code == 1
    assert rows(data) == [
        row("google-api-key", "pkg/mod_007.py", 2, c1, 1, True),
        row("google-api-key", "pkg/mod_300.py", 2, c1, 1, False),
        row("google-api-key", "pkg/mod_555.py", 2, c1, 1, True),
    ]
    assert data["stats"]["blobs"] == 900
    assert c2 != c1
