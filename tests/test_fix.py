"""`keysentry fix` beyond one literal: committed .env files, templates, shell start-up files, where the
values go, and the safety of the writes (nothing through a link, nothing a scan did not see, never a
half-written file, one clear line and exit 2 for what it refuses)."""
from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from scanner.cli import main
from scanner.fix import apply, plan_worktree
from scanner.models import MAX_MATCHES
from tests.conftest import git, google_key, random_chars


def _commit_all(repo: Path) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "change")


def _fix(repo: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str]:
    status = main(["fix", str(repo), "--jobs", "1", *extra])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return status, out, err


def _snapshot(repo: Path) -> dict[str, bytes]:
    return {str(p.relative_to(repo)): p.read_bytes() for p in repo.rglob("*")
            if p.is_file() and not p.is_symlink() and ".git" not in p.relative_to(repo).parts}


# --- committed .env files -------------------------------------------------------------------------

def test_committed_env_is_untracked_ignored_and_leaves_a_template(repo: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    key = google_key()
    (repo / ".env").write_text(f"GEMINI_API_KEY={key}\nDEBUG=1\n")
    _commit_all(repo)

    status, out, _ = _fix(repo, capsys, "--apply")
    assert status == 1
    assert "untracked .env" in out
    assert (repo / ".env").read_text() == f"GEMINI_API_KEY={key}\nDEBUG=1\n", "the file stays on disk, as it was"
    assert git(repo, "ls-files", "--cached") == "", "the index no longer holds .env; nothing else was staged"
    assert git(repo, "check-ignore", ".env") == ".env"
    assert (repo / ".env.example").read_text().splitlines()[1:] == ["GEMINI_API_KEY=", "DEBUG="]
    git(repo, "add", "-A")
    staged = git(repo, "diff", "--cached", "--name-status").splitlines()
    assert "D\t.env" in staged and "A\t.env.example" in staged and "A\t.gitignore" in staged


def test_nested_env_file_is_ignored_by_its_own_name(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "web").mkdir()
    (repo / "web" / ".env.production").write_text(f"MAPS_API_KEY={google_key()}\n")
    _commit_all(repo)
    assert _fix(repo, capsys, "--apply")[0] == 1
    assert git(repo, "check-ignore", "web/.env.production") == "web/.env.production"
    assert (repo / "web" / ".env.example").read_text().endswith("MAPS_API_KEY=\n")
    assert git(repo, "ls-files", "web") == ""


def test_a_template_holding_a_real_key_gets_the_value_blanked_and_kept(repo: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    key = google_key()
    (repo / ".env.example").write_text(f"# copy to .env\nGEMINI_API_KEY={key}\nPORT=8080\n")
    _commit_all(repo)
    assert _fix(repo, capsys, "--apply")[0] == 1
    assert (repo / ".env.example").read_text() == "# copy to .env\nGEMINI_API_KEY=\nPORT=8080\n"
    assert f"GEMINI_API_KEY={key}" in (repo / ".env").read_text().splitlines()


def test_an_untracked_env_file_that_git_would_add_gets_ignored(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "README.md").write_text("demo\n")
    _commit_all(repo)
    (repo / ".env").write_text(f"GEMINI_API_KEY={google_key()}\n")
    assert _fix(repo, capsys, "--apply")[0] == 1
    assert git(repo, "check-ignore", ".env") == ".env"
    assert git(repo, "status", "--porcelain", "--", ".env") == ""


# --- shell start-up files ---------------------------------------------------------------------------

def test_export_in_a_committed_rc_file_is_removed_and_the_user_told_where_it_goes(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = google_key()
    (repo / "dotfiles").mkdir()
    (repo / "dotfiles" / ".zshrc").write_text(f"alias ll='ls -l'\nexport GEMINI_API_KEY={key}\nbindkey -e\n")
    _commit_all(repo)
    status, out, _ = _fix(repo, capsys, "--apply")
    assert status == 1
    assert (repo / "dotfiles" / ".zshrc").read_text() == "alias ll='ls -l'\nbindkey -e\n"
    assert "~/.bashrc or ~/.zshrc" in out
    assert f"GEMINI_API_KEY={key}" in (repo / ".env").read_text().splitlines()


# --- where the values go --------------------------------------------------------------------------

def test_new_env_file_is_private_and_ignored_before_it_is_written(repo: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    (repo / ".gitignore").write_text("node_modules/\n")
    (repo / "app.py").write_text(f'api_key = "{google_key()}"\n')
    _commit_all(repo)
    assert _fix(repo, capsys, "--apply")[0] == 1
    assert stat.S_IMODE((repo / ".env").stat().st_mode) == 0o600
    assert (repo / ".gitignore").read_text().startswith("node_modules/\n")
    git(repo, "add", "-A")
    assert ".env" not in git(repo, "diff", "--cached", "--name-only").splitlines()


def test_no_keep_values_writes_no_env(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "app.py").write_text(f'api_key = "{google_key()}"\n')
    _commit_all(repo)
    assert _fix(repo, capsys, "--apply", "--no-keep-values")[0] == 1
    assert not (repo / ".env").exists()
    assert 'os.environ["API_KEY"]' in (repo / "app.py").read_text()


def test_a_variable_already_holding_another_key_is_never_overwritten(repo: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    (repo / ".gitignore").write_text(".env\n")
    (repo / ".env").write_text(f"API_KEY={google_key()}\n")
    source = f'api_key = "{google_key()}"\n'
    (repo / "app.py").write_text(source)
    _commit_all(repo)
    before = (repo / ".env").read_text()
    status, out, _ = _fix(repo, capsys, "--apply")
    assert status == 1
    assert "already holds another key" in out
    assert (repo / "app.py").read_text() == source and (repo / ".env").read_text() == before


def test_two_places_of_one_key_share_one_variable(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = google_key()
    (repo / "a.py").write_text(f'api_key = "{key}"\n')
    (repo / "b.js").write_text(f'const apiKey = "{key}";\n')
    _commit_all(repo)
    assert _fix(repo, capsys, "--apply")[0] == 1
    assert (repo / ".env").read_text().count(key) == 1
    assert "process.env.API_KEY" in (repo / "b.js").read_text()


def test_tracked_env_that_is_not_flagged_refuses_with_one_line(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / ".env").write_text("DEBUG=\n")  # no value: not a finding, but tracked
    source = f'api_key = "{google_key()}"\n'
    (repo / "app.py").write_text(source)
    _commit_all(repo)
    status, _, err = _fix(repo, capsys, "--apply")
    assert status == 2
    assert err.count("\n") == 1 and ".env is tracked by git" in err
    assert (repo / "app.py").read_text() == source


# --- safety ------------------------------------------------------------------------------------------

def test_dry_run_writes_nothing(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / ".env").write_text(f"GEMINI_API_KEY={google_key()}\n")
    (repo / "app.py").write_text(f'api_key = "{google_key()}"\n')
    _commit_all(repo)
    before = _snapshot(repo)
    index = (repo / ".git" / "index").read_bytes()
    status, out, _ = _fix(repo, capsys)
    assert status == 1 and "dry run" in out and "+++ b/app.py" in out
    assert _snapshot(repo) == before and (repo / ".git" / "index").read_bytes() == index


def test_a_file_changed_after_the_scan_is_skipped_and_named(repo: Path) -> None:
    key = google_key()
    (repo / "app.py").write_text(f'api_key = "{key}"\n')
    (repo / "b.py").write_text(f'token_api_key = "{google_key()}"\n')
    _commit_all(repo)
    plan = plan_worktree(repo, jobs=1)
    mine = f'api_key = "{key}"  # edited meanwhile\n'
    (repo / "app.py").write_text(mine)
    outcome = apply.apply(plan)
    assert ("app.py", "app.py changed since it was scanned") in outcome.skipped
    assert (repo / "app.py").read_text() == mine
    assert "b.py" in outcome.written


def test_a_gitignore_that_is_a_link_out_of_the_repository_is_refused(repo: Path, tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    outside = tmp_path / "victim"
    outside.write_text("precious\n")
    (repo / ".gitignore").symlink_to(outside)
    source = f'api_key = "{google_key()}"\n'
    (repo / "app.py").write_text(source)
    _commit_all(repo)
    status, _, err = _fix(repo, capsys, "--apply")
    assert status == 2 and "symbolic link" in err and err.count("\n") == 1
    assert outside.read_text() == "precious\n"
    assert (repo / "app.py").read_text() == source


def test_an_env_that_is_a_link_is_never_written_through(repo: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    outside = tmp_path / "bashrc"
    outside.write_text("# mine\n")
    (repo / ".gitignore").write_text(".env\n")
    (repo / ".env").symlink_to(outside)
    (repo / "app.py").write_text(f'api_key = "{google_key()}"\n')
    _commit_all(repo)
    status, _, err = _fix(repo, capsys, "--apply")
    assert status == 2 and "symbolic link" in err
    assert outside.read_text() == "# mine\n"


def test_a_folder_linked_out_of_the_repository_is_never_written_through(repo: Path, tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    from scanner.fix import files
    from scanner.fix.code import Refused

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "app.py").write_text("x = 1\n")
    (repo / "src").symlink_to(elsewhere)
    with pytest.raises(Refused, match="symbolic link"):
        files.replace(repo, "src/app.py", b"x = 1\n", b"x = 2\n")
    with pytest.raises(Refused, match=r"\.git"):
        files.replace(repo, ".git/config", None, b"")
    assert (elsewhere / "app.py").read_text() == "x = 1\n"


def test_replacing_keeps_the_mode_and_leaves_no_temporary_file(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = repo / "run.sh"
    script.write_text(f'curl "https://generativelanguage.googleapis.com/v1beta/models?key={google_key()}"\n')
    script.chmod(0o755)
    _commit_all(repo)
    assert _fix(repo, capsys, "--apply")[0] == 1
    assert stat.S_IMODE(script.stat().st_mode) == 0o755
    assert not [p for p in os.listdir(repo) if "keysentry-tmp" in p]


@pytest.mark.parametrize(("setup", "message"), [
    ("plain-folder", "needs a git repository"),
    ("a-file", "takes a folder"),
    ("missing", "no such folder"),
])
def test_unsupported_input_is_one_line_and_exit_2(setup: str, message: str, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "x"
    if setup == "plain-folder":
        target.mkdir()
    elif setup == "a-file":
        target.write_text("")
    status, out, err = _fix(target, capsys, "--apply")
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and message in err


def test_control_characters_in_a_file_name_are_shown_escaped(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    name = "evil\x1b[2J.py"
    (repo / name).write_text(f'api_key = "{google_key()}"\n')
    _commit_all(repo)
    status, out, _ = _fix(repo, capsys)
    assert status == 1
    assert "\x1b" not in out and "\\x1b[2J" in out


def test_generic_secret_names_the_variable_after_its_binding(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "pay.py").write_text(f'PaymentsAPIKey = "sk{random_chars(30, "abcdef0123456789")}"\n')
    _commit_all(repo)
    assert _fix(repo, capsys, "--apply")[0] == 1
    assert 'os.environ["PAYMENTS_API_KEY"]' in (repo / "pay.py").read_text()


# --- keys that ship with an app: restricted, not moved --------------------------------------------

def test_firebase_web_config_gets_restriction_commands_not_a_move(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = google_key()
    source = (f'const firebaseConfig = {{\n  apiKey: "{key}",\n  authDomain: "demo-proj.firebaseapp.com",\n'
              '  projectId: "demo-proj",\n  storageBucket: "demo-proj.appspot.com",\n};\ninitializeApp(firebaseConfig);\n')
    (repo / "src").mkdir()
    (repo / "src" / "firebase.js").write_text(source)
    (repo / ".firebaserc").write_text('{"projects": {"default": "demo-proj"}}\n')
    _commit_all(repo)
    status, out, _ = _fix(repo, capsys, "--apply")
    assert status == 1
    assert (repo / "src" / "firebase.js").read_text() == source and not (repo / ".env").exists()
    assert "--api-target=service=identitytoolkit.googleapis.com" in out
    assert "--api-target=service=firebasestorage.googleapis.com" in out
    assert "https://demo-proj.firebaseapp.com/*" in out and "https://demo-proj.web.app/*" in out
    assert key not in out and 'api-keys lookup "$LEAKED_KEY"' in out
    _, shown, _ = _fix(repo, capsys, "--show-secrets")
    assert f"gcloud services api-keys lookup {key}" in shown


def test_android_google_services_json_gives_package_and_sha1(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sha1 = random_chars(40, "0123456789abcdef")
    (repo / "app").mkdir()
    (repo / "app" / "google-services.json").write_text(
        '{"project_info": {"project_id": "demo"}, "client": [{"client_info": {"android_client_info": '
        '{"package_name": "com.example.app"}}, "oauth_client": [{"client_type": 1, "android_info": '
        f'{{"package_name": "com.example.app", "certificate_hash": "{sha1}"}}}}], '
        f'"api_key": [{{"current_key": "{google_key()}"}}]}}]}}\n')
    _commit_all(repo)
    status, out, _ = _fix(repo, capsys)
    assert status == 1
    fingerprint = ":".join(sha1[i:i + 2] for i in range(0, 40, 2)).upper()
    assert f"--allowed-application=sha1_fingerprint={fingerprint},package_name=com.example.app" in out


def test_ios_plist_gives_the_bundle_id(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "GoogleService-Info.plist").write_text(
        '<?xml version="1.0"?>\n<plist version="1.0"><dict>\n<key>API_KEY</key>\n'
        f'<string>{google_key()}</string>\n<key>BUNDLE_ID</key>\n<string>com.example.ios</string>\n'
        '<key>GOOGLE_APP_ID</key>\n<string>1:1:ios:1</string>\n</dict></plist>\n')
    _commit_all(repo)
    status, out, _ = _fix(repo, capsys)
    assert status == 1 and "--allowed-bundle-ids=com.example.ios" in out


def test_maps_javascript_loader_names_what_the_repository_does_not_show(repo: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "index.html").write_text(
        f'<script src="https://maps.googleapis.com/maps/api/js?key={google_key()}&libraries=places"></script>\n')
    _commit_all(repo)
    status, out, _ = _fix(repo, capsys)
    assert status == 1
    assert "--api-target=service=maps-backend.googleapis.com" in out
    assert "--api-target=service=places-backend.googleapis.com" in out
    assert "YOUR-DOMAIN" in out and "does not show the web app's domains" in out


# --- the reports name the fix -----------------------------------------------------------------------

def test_text_and_html_reports_name_keysentry_fix_where_it_fixes_the_finding(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "app.py").write_text(f'api_key = "{google_key()}"\n')
    (repo / "settings.yaml").write_text(f"api_key: {google_key()}\n")
    _commit_all(repo)
    main(["scan", str(repo), "--jobs", "1"])
    text = capsys.readouterr().out
    app, _, settings = text.partition("settings.yaml")
    assert "next: `keysentry fix` replaces the key with an environment lookup (python)" in " ".join(app.split())
    assert "keysentry fix" not in settings, "no fix is promised where keysentry fix leaves it to a person"
    main(["scan", str(repo), "--jobs", "1", "--format", "html"])
    html = capsys.readouterr().out
    assert html.count("<strong>Fix it:</strong> <code>keysentry fix</code>") == 1


# --- notebooks --------------------------------------------------------------------------------------

def _notebook(cells: list[dict[str, object]]) -> str:
    import json

    return json.dumps({"cells": cells, "metadata": {"kernelspec": {"language": "python", "name": "python3"}},
                       "nbformat": 4, "nbformat_minor": 5}, indent=1) + "\n"


def test_notebook_code_cell_becomes_a_lookup_and_outputs_showing_the_key_are_cleared(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    key = google_key()
    (repo / "demo.ipynb").write_text(_notebook([
        {"cell_type": "markdown", "id": "a", "metadata": {}, "source": ["# Demo"]},
        {"cell_type": "code", "id": "b", "execution_count": 1, "metadata": {},
         "source": ["from google import genai\n", f'client = genai.Client(api_key="{key}")\n', "print(client)"],
         "outputs": [{"name": "stdout", "output_type": "stream", "text": [f"Client(api_key={key})\n"]}]},
        {"cell_type": "code", "id": "c", "execution_count": 2, "metadata": {}, "source": ["print(1)"],
         "outputs": [{"name": "stdout", "output_type": "stream", "text": ["1\n"]}]},
    ]))
    _commit_all(repo)
    status, out, _ = _fix(repo, capsys, "--apply")
    assert status == 1, out
    fixed = (repo / "demo.ipynb").read_text()
    assert key not in fixed
    cells = json.loads(fixed)["cells"]
    assert "".join(cells[1]["source"]) == "from google import genai\nclient = genai.Client()\nprint(client)"
    assert cells[1]["outputs"] == [] and cells[1]["execution_count"] is None
    assert cells[2]["outputs"][0]["text"] == ["1\n"], "other cells keep their outputs"
    compile("".join(cells[1]["source"]), "cell", "exec")
    assert f"GEMINI_API_KEY={key}" in (repo / ".env").read_text()
    assert main(["scan", str(repo), "--jobs", "1"]) == 0
    capsys.readouterr()


def test_notebook_key_in_markdown_is_left_to_a_person(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = _notebook([{"cell_type": "markdown", "id": "a", "metadata": {},
                       "source": [f"Use api_key = \"{google_key()}\" here"]}])
    (repo / "notes.ipynb").write_text(text)
    _commit_all(repo)
    status, out, _ = _fix(repo, capsys, "--apply")
    assert status == 1 and "markdown cell" in out
    assert (repo / "notes.ipynb").read_text() == text


# --- hostile input ----------------------------------------------------------------------------------

def test_an_env_that_is_a_fifo_is_refused_without_blocking(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / ".gitignore").write_text(".env\n")
    (repo / "app.py").write_text(f'api_key = "{google_key()}"\n')
    _commit_all(repo)
    os.mkfifo(repo / ".env")
    status, _, err = _fix(repo, capsys, "--apply")
    assert status == 2 and "not a regular file" in err


def test_a_subfolder_fixes_its_files_with_the_repository_s_env(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "svc").mkdir()
    (repo / "svc" / "app.py").write_text(f'api_key = "{google_key()}"\n')
    (repo / "other.py").write_text(f'api_key = "{google_key()}"\n')
    _commit_all(repo)
    assert _fix(repo / "svc", capsys, "--apply")[0] == 1
    assert "os.environ" in (repo / "svc" / "app.py").read_text()
    assert "os.environ" not in (repo / "other.py").read_text(), "only the folder named is fixed"
    assert (repo / ".env").exists() and not (repo / "svc" / ".env").exists()


# The largest file fix is given: a scan reports at most MAX_MATCHES findings of one file (a dump).
@pytest.mark.parametrize("count", [MAX_MATCHES // 4])
def test_cost_grows_linearly_with_the_keys_in_one_file(count: int, repo: Path) -> None:
    import time

    from scanner import scan
    from scanner.fix import plan

    def timed(n: int) -> float:
        folder = repo / f"n{n}"
        folder.mkdir()
        (folder / "keys.py").write_text("".join(f'api_key_{i} = "{google_key()}"\n' for i in range(n)))
        findings = scan.run(scan.Request(mode="worktree", path=folder, jobs=1)).findings
        assert len(findings) == n
        best = float("inf")
        for _ in range(3):  # CPU time, best of three: other processes on a busy machine do not count
            started = time.process_time()
            built = plan.build(repo, findings)
            best = min(best, time.process_time() - started)
        assert len(built.variables) == n
        return best

    small, large = timed(count), timed(count * 4)
    assert large / max(small, 0.05) < 6, (small, large)


def test_an_existing_template_gets_the_missing_names(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / ".env.sample").write_text("DEBUG=\n")
    (repo / ".env").write_text(f"DEBUG=1\nGEMINI_API_KEY={google_key()}\n")
    _commit_all(repo)
    assert _fix(repo, capsys, "--apply")[0] == 1
    assert (repo / ".env.sample").read_text() == "DEBUG=\nGEMINI_API_KEY=\n"
    assert not (repo / ".env.example").exists()


def test_the_diff_is_coloured_on_a_terminal_and_still_redacted(repo: Path) -> None:
    from scanner.report import Options
    from scanner.report.fix import render

    key = google_key()
    (repo / "app.py").write_text(f'api_key = "{key}"\n')
    _commit_all(repo)
    plan = plan_worktree(repo, jobs=1)
    coloured = render(plan, None, Options(color=True, width=120))
    plain = render(plan, None, Options(color=False))
    assert "\x1b[" in coloured and "\x1b[" not in plain
    assert key not in coloured and key not in plain
    assert "+api_key = os.environ[\"API_KEY\"]" in plain
    assert key in render(plan, None, Options(show_secrets=True))


def test_two_env_files_in_one_folder_share_one_template(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / ".env").write_text(f"GEMINI_API_KEY={google_key()}\n")
    (repo / ".env.local").write_text(f"MAPS_API_KEY={google_key()}\nGEMINI_API_KEY={google_key()}\n")
    _commit_all(repo)
    assert _fix(repo, capsys, "--apply")[0] == 1
    assert (repo / ".env.example").read_text().splitlines()[1:] == ["GEMINI_API_KEY=", "MAPS_API_KEY="]
    assert git(repo, "ls-files", "--cached") == ""


def test_a_template_flagged_for_its_real_key_stays_in_git(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / ".env.example").write_text(f"GEMINI_API_KEY={google_key()}\n")
    _commit_all(repo)
    assert _fix(repo, capsys, "--apply")[0] == 1
    assert git(repo, "ls-files", "--cached") == ".env.example"
    assert (repo / ".env.example").read_text() == "GEMINI_API_KEY=\n"


def test_a_workflow_key_becomes_an_actions_secret_and_the_user_is_told_to_add_it(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".github" / "workflows" / "ci.yml").write_text(
        f"on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    env:\n      GEMINI_API_KEY: {google_key()}\n"
        "    steps:\n      - run: ./test.sh\n")
    (repo / "deploy").mkdir()
    nested = f"services:\n  app:\n    environment:\n      GEMINI_API_KEY: {google_key()}\n"
    (repo / "deploy" / "docker-compose.yml").write_text(nested)
    _commit_all(repo)
    status, out, _ = _fix(repo, capsys, "--apply")
    assert status == 1
    assert "GEMINI_API_KEY: ${{ secrets.GEMINI_API_KEY }}" in (repo / ".github" / "workflows" / "ci.yml").read_text()
    assert "gh secret set GEMINI_API_KEY" in out
    # Compose reads the .env of the compose file's own folder, not the repository's: left to a person.
    assert (repo / "deploy" / "docker-compose.yml").read_text() == nested
    assert "deploy/docker-compose.yml" in out.split("By hand")[1]


def test_an_env_name_that_would_inject_gitignore_rules_is_left_to_a_person(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "README.md").write_text("demo\n")
    (repo / ".env.x\n*").write_text(f"GEMINI_API_KEY={google_key()}\n")
    _commit_all(repo)
    status, out, _ = _fix(repo, capsys, "--apply")
    assert status == 1 and "cannot hold" in out
    assert not (repo / ".gitignore").exists()
    assert "README.md" in git(repo, "ls-files").splitlines()


def test_a_file_swapped_for_a_link_after_the_scan_is_skipped(repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.py"
    outside.write_text("precious = 1\n")
    (repo / "app.py").write_text(f'api_key = "{google_key()}"\n')
    _commit_all(repo)
    plan = plan_worktree(repo, jobs=1)
    (repo / "app.py").unlink()
    (repo / "app.py").symlink_to(outside)
    outcome = apply.apply(plan)
    assert [path for path, _ in outcome.skipped] == ["app.py"] and "symbolic link" in outcome.skipped[0][1]
    assert outside.read_text() == "precious = 1\n"


def test_when_gitignore_cannot_be_written_first_nothing_else_is_done(repo: Path) -> None:
    (repo / ".gitignore").write_text("node_modules/\n")
    (repo / ".env").write_text(f"GEMINI_API_KEY={google_key()}\n")
    source = f'api_key = "{google_key()}"\n'
    (repo / "app.py").write_text(source)
    _commit_all(repo)
    plan = plan_worktree(repo, jobs=1)
    (repo / ".gitignore").write_text("node_modules/\ndist/\n")  # edited meanwhile
    outcome = apply.apply(plan)
    assert outcome.written == () and outcome.untracked == ()
    assert {path for path, _ in outcome.skipped} >= {".gitignore", ".env", "app.py"}
    assert ".env" in git(repo, "ls-files").splitlines() and (repo / "app.py").read_text() == source


def test_a_linked_env_does_not_stop_fixes_that_keep_no_value(repo: Path, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    shared = tmp_path / "shared.env"
    shared.write_text("X=1\n")
    (repo / ".gitignore").write_text(".env\n")
    (repo / ".env").symlink_to(shared)
    (repo / "index.html").write_text(
        f'<script src="https://maps.googleapis.com/maps/api/js?key={google_key()}"></script>\n')
    _commit_all(repo)
    status, out, _ = _fix(repo, capsys, "--apply")
    assert status == 1 and "gcloud services api-keys update" in out
    assert shared.read_text() == "X=1\n"


def test_android_maps_key_in_strings_xml_targets_maps_with_the_manifest_package(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    res = repo / "app" / "src" / "main" / "res" / "values"
    res.mkdir(parents=True)
    (res / "strings.xml").write_text(
        f'<resources>\n    <string name="google_maps_key">{google_key()}</string>\n</resources>\n')
    (repo / "app" / "src" / "main" / "AndroidManifest.xml").write_text(
        '<manifest xmlns:android="http://schemas.android.com/apk/res/android" package="com.example.maps">\n'
        '  <application><meta-data android:name="com.google.android.geo.API_KEY" '
        'android:value="@string/google_maps_key"/></application>\n</manifest>\n')
    _commit_all(repo)
    status, out, _ = _fix(repo, capsys)
    assert status == 1
    assert "--api-target=service=maps-android-backend.googleapis.com" in out
    assert "identitytoolkit" not in out
    assert "--allowed-application=sha1_fingerprint=SHA1,package_name=com.example.maps" in out
    assert "no signing certificate for com.example.maps" in out
