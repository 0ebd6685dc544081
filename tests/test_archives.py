"""Keys inside archives: every kind the scanner reads (built here, keys made at test time) is read
member by member, each finding at `ARCHIVE!MEMBER` with its member's own context; placeholders in
them stay quiet; every limit is counted in the stats and named in the report; standard input and
history attribution work on them as on files. (The same archives in every git mode:
tests/test_cross_mode.py; bombs: tests/attacks/archives.py.)"""
from __future__ import annotations

import io
import json
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from scanner import archives
from scanner.cli import main
from scanner.config import from_table
from scanner.detect import Detector
from scanner.errors import ConfigError
from scanner.models import make_finding
from tests.archive_kinds import KINDS, STREAMS, archive_of, tar_of, zip_of
from tests.conftest import git, google_key, hex_secret
from tests.test_history import run_scan

Found = set[tuple[str, str, str]]  # (rule id, path, context)


def _found(data: bytes, name: str, detector: Detector | None = None) -> Found:
    detector = detector or Detector()
    scanned = detector.scan(data, name)
    return {(f.rule_id, f.path, f.context) for f in (make_finding(m, name) for m in scanned.matches)}


@dataclass(frozen=True)
class Row:
    kind: str  # the file's suffix, which also picks the builder (tests.archive_kinds.archive_of)
    member: str  # where the key sits inside it
    text: str  # the member's text; {key} is a Google API key made for the row
    path: str  # the finding's path, {name} the archive's
    context: str


# One row per kind, each with a member where apps and packages really carry keys.
ROWS = [
    Row("apk", "res/values/strings.xml", '<resources><string name="google_api_key">{key}</string></resources>',
        "{name}!res/values/strings.xml", "android-resource"),
    Row("aab", "base/assets/google-services.json", '{{"client": [{{"api_key": [{{"current_key": "{key}"}}]}}]}}',
        "{name}!base/assets/google-services.json", "firebase-config"),
    Row("ipa", "Payload/App.app/GoogleService-Info.plist", "<dict><key>API_KEY</key><string>{key}</string></dict>",
        "{name}!Payload/App.app/GoogleService-Info.plist", "ios-plist"),
    Row("aar", "res/values/values.xml", '<resources><string name="maps_key">{key}</string></resources>',
        "{name}!res/values/values.xml", "android-resource"),
    Row("jar", "config/application.properties", "maps.key={key}\n", "{name}!config/application.properties",
        "service-config"),
    Row("war", "WEB-INF/classes/app.js", 'const genai = new GoogleGenAI({{apiKey: "{key}"}});\n',
        "{name}!WEB-INF/classes/app.js", "gemini-client"),
    Row("whl", "pkg/client.py", 'KEY = "{key}"\n', "{name}!pkg/client.py", "generic"),
    Row("nupkg", "content/appsettings.json", '{{"Maps": {{"Key": "{key}"}}}}', "{name}!content/appsettings.json",
        "service-config"),
    Row("zip", "dist/main.js", 'fetch("https://x.test/?key={key}")\n', "{name}!dist/main.js", "generic"),
    Row("tar", "srv/app.py", 'KEY = "{key}"\n', "{name}!srv/app.py", "generic"),
    Row("tar.gz", "srv/app.py", 'KEY = "{key}"\n', "{name}!srv/app.py", "generic"),
    Row("tgz", "tests/fixtures/app.py", 'KEY = "{key}"\n', "{name}!tests/fixtures/app.py", "test-fixture"),
    Row("tar.bz2", "srv/app.py", 'KEY = "{key}"\n', "{name}!srv/app.py", "generic"),
    Row("tar.xz", "srv/app.py", 'KEY = "{key}"\n', "{name}!srv/app.py", "generic"),
    # A compressed file that does not name its content: its own name minus the suffix.
    Row("gz", "", 'KEY = "{key}"\n', "{stem}!{stem_name}", "generic"),
    Row("bz2", "", 'KEY = "{key}"\n', "{stem}!{stem_name}", "generic"),
    Row("xz", "", 'KEY = "{key}"\n', "{stem}!{stem_name}", "generic"),
    Row("docx", "", "Gemini key for the demo: {key}", "{name}!word/document.xml", "generic"),
    Row("xlsx", "", "{key}", "{name}!xl/sharedStrings.xml", "generic"),
    Row("pptx", "", "Our key {key}", "{name}!ppt/slides/slide1.xml", "generic"),
]


def test_every_kind_has_a_row() -> None:
    assert sorted(r.kind for r in ROWS) == sorted(KINDS)


def _archive(row: Row, text: str) -> tuple[str, bytes]:
    name = f"build/app.{row.kind}" if row.kind not in STREAMS else f"build/app.py.{row.kind}"
    return name, archive_of(row.kind, {row.member or "member": text.encode()})


@pytest.mark.parametrize("row", ROWS, ids=[r.kind for r in ROWS])
def test_a_key_in_a_member_is_found_at_its_member_path_with_its_context(row: Row) -> None:
    key = google_key()
    name, data = _archive(row, row.text.format(key=key))
    path = row.path.format(name=name, stem=name, stem_name="app.py")
    assert _found(data, name) == {("google-api-key", path, row.context)}


@pytest.mark.parametrize("row", ROWS, ids=[r.kind for r in ROWS])
def test_a_placeholder_in_a_member_stays_quiet(row: Row) -> None:
    name, data = _archive(row, row.text.format(key="YOUR_API_KEY_HERE"))
    assert _found(data, name) == set()


def test_a_dotenv_inside_an_archive_is_a_committed_dotenv() -> None:
    key = google_key()
    data = zip_of({"deploy/.env": f"MAPS_KEY={key}\nPORT=80\n".encode(), "deploy/.env.example": b"PORT=80\n"})
    assert _found(data, "site.zip") == {("google-api-key", "site.zip!deploy/.env", "service-config"),
                                        ("dotenv-file", "site.zip!deploy/.env", "service-config")}


def test_nested_archives_give_nested_paths_and_the_innermost_context() -> None:
    key = google_key()
    jar = zip_of({"res/values/strings.xml": f'<string name="k">{key}</string>'.encode()})
    data = tar_of({"libs/ui.aar": jar}, "w:gz")
    assert _found(data, "vendor.tgz") == {
        ("google-api-key", "vendor.tgz!libs/ui.aar!res/values/strings.xml", "android-resource")}


def test_sarif_names_a_member_by_a_readable_uri_the_schema_accepts(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    import re

    import jsonschema

    from tests.test_sarif import SCHEMA

    key = google_key()
    jar = zip_of({"res/values/strings.xml": f'<string name="k">{key}</string>'.encode()})
    (tmp_path / "vendor.tgz").write_bytes(tar_of({"libs/ui.aar": jar}, "w:gz"))
    (tmp_path / "my app.zip").write_bytes(zip_of({"conf/a b.js": f'k="{google_key()}"'.encode()}))
    assert main(["scan", str(tmp_path), "--format", "sarif"]) == 1
    log = json.loads(capsys.readouterr().out)
    assert not list(jsonschema.Draft4Validator(SCHEMA).iter_errors(log))
    uris = sorted(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in log["runs"][0]["results"])
    # '!' is a legal path character of a URI: kept, as gitleaks and Kingfisher write member paths;
    # a space is not, and is encoded.
    assert uris == ["my%20app.zip!conf/a%20b.js", "vendor.tgz!libs/ui.aar!res/values/strings.xml"]
    assert all(re.fullmatch(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-F]{2})+", uri) for uri in uris)


def test_the_same_key_in_two_members_is_two_findings_with_two_fingerprints() -> None:
    key = google_key()
    data = zip_of({"a/config.js": f'k="{key}"'.encode(), "b/config.js": f'k="{key}"'.encode()})
    findings = [make_finding(m, "two.zip") for m in Detector().scan(data, "two.zip").matches]
    assert sorted(f.path for f in findings) == ["two.zip!a/config.js", "two.zip!b/config.js"]
    assert len({f.fingerprint for f in findings}) == 2


def test_a_stored_member_is_found_once_at_its_member_path() -> None:
    # Its bytes are in the archive as they are: the binary scan of the whole sees the key too.
    key = google_key()
    data = zip_of({"raw.txt": f"key={key}".encode()}, zipfile.ZIP_STORED)
    assert _found(data, "stored.zip") == {("google-api-key", "stored.zip!raw.txt", "docs")}


def test_an_archive_is_known_by_its_bytes_not_its_name() -> None:
    key = google_key()
    data = zip_of({"res/values/strings.xml": f'<string name="k">{key}</string>'.encode()})
    assert _found(data, "blob.bin") == {("google-api-key", "blob.bin!res/values/strings.xml", "android-resource")}


def test_archives_can_be_switched_off() -> None:
    data = zip_of({"app.py": f'KEY = "{google_key()}"'.encode()})
    assert _found(data, "a.zip", Detector(archive_limits=None)) == set()


def test_a_key_split_over_runs_of_a_word_paragraph_is_one_key() -> None:
    key = google_key()
    assert ("google-api-key", "d.docx!word/document.xml", "generic") in _found(archive_of("docx", {"m": key.encode()}),
                                                                              "d.docx")


# --- limits: each counted, named, never a crash -------------------------------------------------

def _tally(data: bytes, **limits: int) -> archives.Tally:
    scanned = Detector(archive_limits=archives.Limits(**limits)).scan_content(data)
    assert scanned.archive is not None
    return scanned.archive


def _encrypted(members: dict[str, bytes]) -> bytes:
    """A zip whose members are marked encrypted (flag bit 0), as `zip -e` writes them: the standard
    library cannot write ZipCrypto, and the scanner never gets as far as the cipher."""
    data = bytearray(zip_of(members, zipfile.ZIP_STORED))
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature)
        while at >= 0:
            data[at + flag_at] |= 1
            at = data.find(signature, at + 4)
    return bytes(data)


LIMIT_ROWS = [
    ("depth", lambda: zip_of({"a.zip": zip_of({"b.zip": zip_of({"c.txt": b"x"})})}), {"depth": 2}, "x.zip!a.zip!b.zip"),
    ("bytes", lambda: zip_of({f"{i}.txt": bytes(1000) for i in range(5)}), {"max_bytes": 2500}, "x.zip!2.txt"),
    # A tar is read up to the limit; a zip listing more is not opened (its directory is read whole).
    ("members", lambda: tar_of({f"{i}.txt": b"x" for i in range(5)}), {"max_members": 3}, "x.zip!3.txt"),
    ("members", lambda: zip_of({f"{i}.txt": b"x" for i in range(5)}), {"max_members": 3}, "x.zip"),
    ("ratio", lambda: zip_of({"zeros.bin": bytes(4 << 20)}), {"max_ratio": 100}, "x.zip!zeros.bin"),
    ("encrypted", lambda: _encrypted({"secret.txt": b"hidden"}), {}, "x.zip!secret.txt"),
    ("large", lambda: zip_of({"big.txt": bytes(3000)}), {"max_member": 2000}, "x.zip!big.txt"),
    ("corrupt", lambda: zip_of({"a.txt": b"x" * 100})[:-30], {}, "x.zip"),
    ("unsafe-name", lambda: zip_of({"../../etc/cron.d/job": b"x", "/abs/path": b"y"}), {},
     "x.zip!%2E%2E/%2E%2E/etc/cron.d/job"),
]


@pytest.mark.parametrize(("reason", "build", "limits", "named"), LIMIT_ROWS, ids=[r[0] for r in LIMIT_ROWS])
def test_each_limit_is_counted_and_names_the_member(reason: str, build: object, limits: dict[str, int],
                                                    named: str) -> None:
    assert callable(build)
    tally = _tally(build(), **limits)
    assert any(why == reason and count >= 1 for why, count in tally.skipped), tally
    first = next(member for why, member in tally.named if why == reason)
    assert f"x.zip!{first}".rstrip("!") == named


def test_a_limit_hit_is_in_the_json_stats_and_a_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = google_key()
    (tmp_path / ".keysentry.toml").write_text("archive-depth = 1\narchive-max-members = 1\n")
    (tmp_path / "deep.tgz").write_bytes(tar_of({"inner.jar": zip_of({"k.txt": key.encode()}), "top.txt": b"x",
                                                "more.txt": b"y"}, "w:gz"))
    code, data = run_scan(capsys, str(tmp_path))
    stats = data["stats"]["archives"]
    assert code == 0 and data["findings"] == []
    assert stats["read"] == 1 and stats["skipped"]["depth"] == 1 and stats["skipped"]["members"] == 1
    main(["scan", str(tmp_path)])
    out, err = capsys.readouterr()
    assert "files, and 1 member of 1 archive in them (" in out
    assert "archive deep.tgz: 1 member nested deeper than archive-depth" in err
    assert "deep.tgz!inner.jar" in err and "past archive-max-members" in err


@pytest.mark.parametrize(("table", "message"), [
    ({"archives": "yes"}, "'archives' must be true or false"),
    ({"archive-depth": 0}, "'archive-depth' must be a positive whole number"),
    ({"archive-max-members": "many"}, "'archive-max-members' must be a positive whole number"),
    ({"archive-max-ratio": True}, "'archive-max-ratio' must be a positive whole number"),
    ({"archive-max-bytes": "lots"}, "archive-max-bytes must be a positive number of bytes"),
])
def test_a_bad_archive_setting_is_a_config_error(table: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        from_table(table, "cfg")


def test_archive_settings_become_the_limits() -> None:
    cfg = from_table({"archive-depth": 5, "archive-max-bytes": "2MB", "archive-max-members": 7,
                      "archive-max-ratio": 50}, "cfg")
    assert cfg.archive_limits(1000) == archives.Limits(5, 2_000_000, 7, 50, 1000)
    assert from_table({}, "cfg").archive_limits(1000) == archives.Limits(max_bytes=10_000, max_member=1000)
    assert from_table({"archives": False}, "cfg").archive_limits(1000) is None


# --- standard input and history ---------------------------------------------------------------

def test_an_archive_on_standard_input_is_read(monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    key = google_key()
    data = tar_of({"app/google-services.json": f'{{"current_key": "{key}"}}'.encode()}, "w:xz")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    code, report = run_scan(capsys, "-")
    assert code == 1
    assert [(f["path"], f["context"]) for f in report["findings"]] == [("-!app/google-services.json",
                                                                         "firebase-config")]


def test_history_names_the_commit_that_added_the_archive(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key, other = google_key(), hex_secret()
    (repo / "README.md").write_text("app\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "start")
    (repo / "app.apk").write_bytes(zip_of({"res/values/strings.xml": f'<string name="k">{key}</string>'.encode()}))
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "add the build")
    added = git(repo, "rev-parse", "HEAD").strip()
    # Another archive with the same key beside more: the first one is moved, not new.
    git(repo, "mv", "app.apk", "release.apk")
    (repo / "notes.py").write_text(f'token = "{other}"\n')
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "rename")
    code, data = run_scan(capsys, "--history", str(repo))
    found = [(f["path"], f["commit"], f["in_head"], [loc["path"] for loc in f["locations"]])
             for f in data["findings"] if f["rule_id"] == "google-api-key"]
    assert code == 1
    assert found == [("app.apk!res/values/strings.xml", added, True, ["release.apk!res/values/strings.xml"])]
    assert json.dumps(data).count(key) == 0  # redacted


def test_a_baseline_silences_a_member_finding_by_its_member_path(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.zip").write_bytes(zip_of({"x/app.py": f'KEY = "{google_key()}"'.encode()}))
    code, data = run_scan(capsys, str(tmp_path))
    assert code == 1 and data["findings"][0]["path"] == "a.zip!x/app.py"
    baseline = tmp_path.parent / f"{tmp_path.name}-baseline.json"
    assert main(["baseline", str(tmp_path), "--output", str(baseline)]) == 0
    capsys.readouterr()
    code, data = run_scan(capsys, str(tmp_path), "--baseline", str(baseline))
    assert code == 0 and data["findings"] == [] and data["stats"]["baselined"] == 1


def test_a_rebuilt_archive_not_yet_staged_says_git_add(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The staged archive holds the key; the one in the work tree was rebuilt without it.
    (repo / "app.apk").write_bytes(zip_of({"res/values/strings.xml": f"<s>{google_key()}</s>".encode()}))
    git(repo, "add", "-A")
    (repo / "app.apk").write_bytes(zip_of({"res/values/strings.xml": b"<s>@string/none</s>"}))
    code, data = run_scan(capsys, "--staged", str(repo))
    assert code == 1 and data["findings"][0]["path"] == "app.apk!res/values/strings.xml"
    assert main(["scan", "--staged", str(repo)]) == 1
    assert "the staged version still holds it: `git add` your fix" in " ".join(capsys.readouterr().out.split())


def test_a_history_only_key_in_an_archive_is_purged_by_removing_the_archive(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Its bytes are compressed: --replace-text cannot reach them, --invert-paths of the archive does.
    (repo / "app.apk").write_bytes(zip_of({"res/values/strings.xml": f"<s>{google_key()}</s>".encode()}))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "build")
    git(repo, "rm", "-q", "app.apk")
    git(repo, "commit", "-q", "-m", "no build")
    capsys.readouterr()
    assert main(["scan", "--history", str(repo)]) == 1
    out = capsys.readouterr().out
    assert "git filter-repo --invert-paths --path app.apk\n" in out and "--replace-text" not in out
    assert main(["scan", "--history", str(repo), "--format", "html", "--output", str(repo / "r.html")]) == 1
    page = (repo / "r.html").read_text()
    assert "--invert-paths --path app.apk" in page and "app.apk!res/values/strings.xml" in page


def test_fix_history_plans_removing_the_archive_wherever_it_went(repo: Path) -> None:
    from scanner.fix.history import plan
    from scanner.scan import Request, run

    (repo / "app.apk").write_bytes(zip_of({"res/values/strings.xml": f"<s>{google_key()}</s>".encode()}))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "build")
    git(repo, "mv", "app.apk", "release.apk")
    git(repo, "commit", "-q", "-m", "rename")
    planned = plan(run(Request("history", repo)), repo, verified=False)
    assert set(planned.remove_paths) == {"app.apk", "release.apk"}


@pytest.mark.parametrize("kind", ["zip", "tar.gz", "gz"])
def test_a_member_past_the_whole_read_is_scanned_in_pieces(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archives, "WHOLE", 64 << 10)
    key = google_key()
    body = b"x = 1\n" * 40_000 + f'KEY = "{key}"\n'.encode()
    found = _found(archive_of(kind, {"big/app.py": body}), f"a.{kind}")
    path = "a.gz!a" if kind == "gz" else f"a.{kind}!big/app.py"
    assert found == {("google-api-key", path, "generic")}
    assert [m.line for m in Detector().scan(archive_of(kind, {"big/app.py": body}), "a").matches] == [40_001]


def test_a_large_member_cut_short_is_counted_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archives, "WHOLE", 64 << 10)
    data = archive_of("gz", {"m": b"y = 2\n" * 100_000})
    assert dict(_tally(data[:len(data) // 2]).skipped) == {"corrupt": 1}


def test_what_a_truncated_stream_holds_before_the_cut_is_scanned() -> None:
    key = google_key()
    data = archive_of("gz", {"m": f'KEY = "{key}"\n'.encode() + bytes(range(256)) * 400})
    assert _found(data[:-100], "cut.py.gz") == {("google-api-key", "cut.py.gz!cut.py", "generic")}


@pytest.mark.parametrize(("text", "said", "hidden"), [
    ("archives = false\n", "`archives` turned off", True),
    ("archive-depth = 1\n", "`archive-depth` lowered from 3 to 1", False),
    ("archive-max-ratio = 10\n", "`archive-max-ratio` lowered from 100 to 10", False),
])
def test_a_range_that_reads_less_of_its_archives_is_a_suppression_change(
        repo: Path, capsys: pytest.CaptureFixture[str], text: str, said: str, hidden: bool) -> None:
    from tests.test_policy import commit_file

    base = commit_file(repo, "README.md", "hi\n")
    (repo / "app.apk").write_bytes(zip_of({"res/values/strings.xml": f"<s>{google_key()}</s>".encode()}))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "build")
    commit_file(repo, ".keysentry.toml", text, "quietly")
    code = main(["scan", "--format", "json", "--range", f"{base}..HEAD", str(repo)])
    data = json.loads(capsys.readouterr().out)
    [change] = [f for f in data["findings"] if f["rule_id"] == "suppression-change"]
    assert code == 1 and said in change["secret"]
    assert ("would hide 1 finding of this change: google-api-key at app.apk!res/values/strings.xml"
            in change["secret"]) is hidden
    assert "app.apk!res/values/strings.xml" in [f["path"] for f in data["findings"]]  # the base's policy reads it


def test_an_archive_finding_and_the_archive_stats_survive_the_audit_record() -> None:
    from scanner import audit_record
    from scanner.models import Result, Stats
    from scanner.report import Options, present

    data = zip_of({"res/values/strings.xml": f"<s>{google_key()}</s>".encode(), "../x": b"y"})
    scanned = Detector().scan_content(data)
    stats = Stats()
    assert scanned.archive is not None
    stats.note_archive(scanned.archive)
    view = present(Result("history", tuple(make_finding(m, "app.apk", commit="0" * 40) for m in scanned.matches),
                          stats), Options())
    record = audit_record.RepoResult("https://example.invalid/repo.git", None, None, None, view)
    decoded = audit_record.decode(json.loads(json.dumps(audit_record.encode(record))))
    assert decoded.view == view
    assert [f.archives for f in view.findings] == [("app.apk",)]
    assert decoded.view.stats.as_dict()["archives"]["unsafe_names"] == 1


def test_the_42_zip_shape_counts_what_it_read_and_what_it_left() -> None:
    from tests.archive_kinds import nested_bomb

    tally = _tally(nested_bomb(levels=3, fan=4, leaf=1 << 20), depth=2)
    # The outer zip and its 4 member zips opened; the 16 zips inside those (depth 3) left closed.
    assert (tally.archives, tally.members, tally.skipped) == (5, 4, (("depth", 16),))


def test_an_archive_too_large_to_hold_whole_is_scanned_as_binary_counted_and_named(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from scanner import chunked

    monkeypatch.setattr(chunked, "READ_WHOLE", 4096)
    key = google_key()
    (tmp_path / "big.zip").write_bytes(zip_of({f"{i}.bin": bytes(range(256)) * 8 for i in range(4)}
                                              | {"raw.txt": f"key={key}\n".encode()}, zipfile.ZIP_STORED))
    code, data = run_scan(capsys, str(tmp_path), "--jobs", "1")
    # Its stored member's key is still found, by the binary scan, at the archive's own path.
    assert code == 1 and [f["path"] for f in data["findings"]] == ["big.zip"]
    assert data["stats"]["archives"]["skipped"]["oversized"] == 1
    main(["scan", str(tmp_path), "--jobs", "1"])
    assert "archive big.zip: larger than 0 MB, which an archive must be read whole" in capsys.readouterr().err


def test_a_nested_archive_too_large_to_open_is_scanned_as_binary_and_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archives, "WHOLE", 4096)
    key = google_key()
    inner = zip_of({"pad.bin": bytes(range(256)) * 32, "raw.txt": f"key={key}\n".encode()}, zipfile.ZIP_STORED)
    data = zip_of({"libs/big.jar": inner}, zipfile.ZIP_STORED)
    assert _found(data, "app.zip") == {("google-api-key", "app.zip!libs/big.jar", "generic")}
    assert dict(_tally(data).skipped) == {"oversized": 1}


def test_a_zip_listing_more_members_than_the_limit_is_not_opened_and_costs_nothing() -> None:
    # zipfile would read all 70,000 entries (ZIP64) before the first member: refused from the end record.
    data = zip_of({f"{i}": b"" for i in range(70_000)}, zipfile.ZIP_STORED)
    assert archives.zip_entries(data) == 70_000
    assert _tally(data, max_members=10_000) == archives.Tally(1, 0, (("members", 70_000),), (("members", ""),))


def test_a_tar_of_folders_only_stops_at_the_member_limit() -> None:
    import tarfile

    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        for i in range(50):
            info = tarfile.TarInfo(f"d{i}")
            info.type = tarfile.DIRTYPE
            archive.addfile(info)
    assert dict(_tally(out.getvalue(), max_members=20).skipped) == {"members": 1}


@pytest.mark.parametrize("whole", [1 << 20, 1024])
def test_a_compressed_file_unpacking_past_max_file_size_is_counted_large(whole: int,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    # Its size is known only as it is unpacked: past the limit it is skipped as a large file is.
    monkeypatch.setattr(archives, "WHOLE", whole)
    monkeypatch.setattr(archives, "PIECE", 1000)  # unpacked a thousand bytes at a time
    data = archive_of("gz", {"m": b"z = 3\n" * 2000})
    assert dict(_tally(data, max_member=5000).skipped) == {"large": 1}
