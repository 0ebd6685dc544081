"""The GitHub Action, run as a runner runs it: real event JSON in GITHUB_EVENT_PATH, a real clone of
a real repository as the workspace, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, and the action's
step as a subprocess; asserted on the annotations, the summary, the outputs, the exit status and
the SARIF file."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.conftest import GIT_ENV, git, google_key

ROOT = Path(__file__).resolve().parent.parent
SARIF_SCHEMA = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
ZERO = "0" * 40


@dataclass
class Run:
    code: int
    out: str
    err: str
    summary: str
    outputs: dict[str, str]
    workspace: Path
    keys: list[str] = field(default_factory=list)

    @property
    def annotations(self) -> list[str]:
        return [line for line in self.out.splitlines() if line.startswith("::error ")]

    def sarif(self) -> dict:
        log = json.loads(Path(self.outputs["sarif-file"]).read_text(encoding="utf-8"))
        validator = jsonschema.Draft4Validator(SARIF_SCHEMA)
        errors = list(validator.iter_errors(log))
        assert not errors, errors[0].message
        return log


def commit(repo: Path, name: str, text: str, message: str) -> str:
    (repo / name).write_text(text)
    git(repo, "add", name)
    git(repo, "commit", "-qm", message)
    return git(repo, "rev-parse", "HEAD")


def parse_outputs(text: str) -> dict[str, str]:
    """$GITHUB_OUTPUT as the runner reads it: `name=value` lines and `name<<DELIMITER` blocks."""
    outputs: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if "<<" in line:
            name, delimiter = line.split("<<", 1)
            value = []
            for inner in lines:
                if inner == delimiter:
                    break
                value.append(inner)
            outputs[name] = "\n".join(value)
        elif "=" in line:
            name, value_text = line.split("=", 1)
            outputs[name] = value_text
    return outputs


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    """The repository on GitHub: main holds an old key (committed before any pull request)."""
    path = tmp_path / "origin"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    commit(path, "README.md", "hello\n", "start")
    commit(path, "old.py", f'OLD = "{google_key()}"\n', "an old key, on main before the pull request")
    return path


def checkout(origin: Path, tmp_path: Path, *extra: str, at: str | None = None) -> Path:
    """What actions/checkout leaves (with fetch-depth: 0): a clone with every branch as origin/*,
    AT checked out (a pull request's head, as its merge commit would hold it)."""
    workspace = tmp_path / "workspace"
    subprocess.run(["git", "clone", "-q", *extra, f"file://{origin}", str(workspace)], check=True,
                   env={**os.environ, **GIT_ENV})
    if at:
        git(workspace, "checkout", "-q", "--detach", at)
    return workspace


def run_action(workspace: Path, event_name: str, event: dict, **inputs: str) -> Run:
    event_path = workspace.parent / "event.json"
    event_path.write_text(json.dumps(event))
    summary, outputs = workspace.parent / "summary.md", workspace.parent / "output.txt"
    summary.write_text("")  # the runner creates both files, empty, before the step
    outputs.write_text("")
    env = {**os.environ, **GIT_ENV, "GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": event_name,
           "GITHUB_EVENT_PATH": str(event_path), "GITHUB_WORKSPACE": str(workspace),
           "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(outputs)}
    env.update({f"INPUT_{name.upper()}": value for name, value in inputs.items()})
    # What action.yml's step runs: the console script's `github-action` command.
    proc = subprocess.run([str(Path(sys.executable).with_name("keysentry")), "github-action"], cwd=workspace, env=env,
                          capture_output=True, text=True, timeout=120)
    return Run(proc.returncode, proc.stdout, proc.stderr, summary.read_text(),
               parse_outputs(outputs.read_text()), workspace)


def pull_request_event(base: str, head: str) -> dict:
    return {"action": "synchronize", "number": 7,
            "pull_request": {"number": 7, "base": {"ref": "main", "sha": base}, "head": {"ref": "feature", "sha": head}},
            "repository": {"full_name": "acme/app", "default_branch": "main"}}


def push_event(ref: str, before: str, after: str, *, forced: bool = False) -> dict:
    return {"ref": ref, "before": before, "after": after, "created": before == ZERO,
            "deleted": after == ZERO, "forced": forced,
            "repository": {"full_name": "acme/app", "default_branch": "main"}}


def assert_no_full_secret(run: Run, *keys: str) -> None:
    everything = run.out + run.err + run.summary + Path(run.outputs["sarif-file"]).read_text()
    for key in keys:
        assert key not in everything


# --- pull requests --------------------------------------------------------------------------------

def test_pull_request_reports_only_the_pull_requests_commits(origin: Path, tmp_path: Path) -> None:
    base = git(origin, "rev-parse", "HEAD")
    git(origin, "checkout", "-qb", "feature")
    key = google_key()
    (origin / "src").mkdir()
    head = commit(origin, "src/app.py", f'client(api_key="{key}")\n', "use the API")
    git(origin, "checkout", "-q", "main")
    workspace = checkout(origin, tmp_path, at=head)

    run = run_action(workspace, "pull_request", pull_request_event(base, head))

    assert run.code == 1, run.err
    (annotation,) = run.annotations  # the old key on main is not the pull request's
    (result,) = run.sarif()["runs"][0]["results"]
    severity = result["properties"]["severity"]
    assert annotation.startswith("::error file=src/app.py,line=1,col=17,endColumn=56,")
    assert f"title=keysentry google-api-key ({severity})" in annotation
    assert f"added in commit {head[:12]}; still in HEAD" in annotation
    assert run.outputs["findings"] == "1" and run.outputs["mode"] == "range"
    assert Path(run.outputs["sarif-file"]) == workspace / "keysentry.sarif"
    assert result["ruleId"] == "google-api-key"
    assert result["partialFingerprints"]["primaryLocationLineHash"]
    assert head[:12] in result["message"]["text"]
    assert run.summary.startswith("## keysentry: 1 finding (1 distinct secret)")
    assert f"| {severity} | 1 |" in run.summary and "**Still in HEAD:** 1 · **history only:** 0" in run.summary
    assert f"pull request: its commits, {base[:12]}..{head[:12]}" in run.summary
    assert_no_full_secret(run, key)


def test_clean_pull_request_passes_and_still_writes_every_report(origin: Path, tmp_path: Path) -> None:
    base = git(origin, "rev-parse", "HEAD")
    head = commit(origin, "notes.md", "no secrets here\n", "docs")
    workspace = checkout(origin, tmp_path)

    run = run_action(workspace, "pull_request", pull_request_event(base, head))

    assert run.code == 0, run.err
    assert run.annotations == []
    assert run.outputs["findings"] == "0"
    assert run.sarif()["runs"][0]["results"] == []
    assert run.summary.startswith("## keysentry: no secrets found")


def test_fail_on_findings_false_reports_but_passes(origin: Path, tmp_path: Path) -> None:
    base = git(origin, "rev-parse", "HEAD")
    head = commit(origin, "app.py", f'KEY = "{google_key()}"\n', "a key")
    workspace = checkout(origin, tmp_path)

    run = run_action(workspace, "pull_request", pull_request_event(base, head), fail_on_findings="false")

    assert run.code == 0 and len(run.annotations) == 1 and run.outputs["findings"] == "1"


def test_baseline_input_applies_as_the_base_holds_it(origin: Path, tmp_path: Path) -> None:
    """A maintainer accepts a finding by landing its baseline entry in the base first; the same
    baseline written into the checkout (or committed by the pull request) does not count."""
    key = google_key()
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    (scratch / "app.py").write_text(f'KEY = "{key}"\n')
    subprocess.run([sys.executable, "-m", "scanner", "baseline", str(scratch), "--output",
                    str(origin / "ks-baseline.json")], check=True, capture_output=True)
    git(origin, "add", "ks-baseline.json")
    git(origin, "commit", "-qm", "accept the key in app.py")
    base = git(origin, "rev-parse", "HEAD")
    head = commit(origin, "app.py", f'KEY = "{key}"\n', "a key")
    workspace = checkout(origin, tmp_path)

    run = run_action(workspace, "pull_request", pull_request_event(base, head), baseline="ks-baseline.json")

    assert run.code == 0, run.err
    assert run.annotations == [] and run.outputs["findings"] == "0"


def test_baseline_written_into_the_checkout_is_not_the_bases(origin: Path, tmp_path: Path) -> None:
    base = git(origin, "rev-parse", "HEAD")
    head = commit(origin, "app.py", f'KEY = "{google_key()}"\n', "a key")
    workspace = checkout(origin, tmp_path)
    subprocess.run([sys.executable, "-m", "scanner", "baseline", "--history", str(workspace), "--output",
                    str(workspace / "ks-baseline.json")], check=True, capture_output=True)

    run = run_action(workspace, "pull_request", pull_request_event(base, head), baseline="ks-baseline.json")

    assert run.code == 1 and len(run.annotations) == 1, run.err
    assert "not in the base revision" in run.summary


# --- pushes ---------------------------------------------------------------------------------------

def test_push_reports_the_pushed_commits_only(origin: Path, tmp_path: Path) -> None:
    before = git(origin, "rev-parse", "HEAD")
    key = google_key()
    commit(origin, "config.js", f'const apiKey = "{key}";\n', "add the key")
    after = commit(origin, "more.txt", "more\n", "more")
    workspace = checkout(origin, tmp_path)

    run = run_action(workspace, "push", push_event("refs/heads/main", before, after))

    assert run.code == 1, run.err
    files = [re.search(r"file=([^,]+)", a).group(1) for a in run.annotations]  # type: ignore[union-attr]
    assert files == ["config.js"]
    assert f"push: the pushed commits, {before[:12]}..{after[:12]}" in run.err


def test_push_of_a_new_branch_scans_the_commits_no_other_branch_has(origin: Path, tmp_path: Path) -> None:
    git(origin, "checkout", "-qb", "feature")
    after = commit(origin, "new.py", f'KEY = "{google_key()}"\n', "a key on the new branch")
    git(origin, "checkout", "-q", "main")
    workspace = checkout(origin, tmp_path)

    run = run_action(workspace, "push", push_event("refs/heads/feature", ZERO, after))

    assert run.code == 1, run.err
    assert [a.split(",")[0] for a in run.annotations] == ["::error file=new.py"]  # not main's old.py
    assert "push of a new branch" in run.err


def test_first_push_of_a_repository_scans_all_of_it(origin: Path, tmp_path: Path) -> None:
    after = git(origin, "rev-parse", "HEAD")
    workspace = checkout(origin, tmp_path)

    run = run_action(workspace, "push", push_event("refs/heads/main", ZERO, after))

    assert run.code == 1, run.err
    assert [a.split(",")[0] for a in run.annotations] == ["::error file=old.py"]


def test_force_push_scans_the_rewritten_commits(origin: Path, tmp_path: Path) -> None:
    git(origin, "checkout", "-qb", "feature")
    gone = commit(origin, "draft.txt", "draft\n", "a draft, force-pushed away later")
    git(origin, "reset", "-q", "--hard", "main")
    after = commit(origin, "rewritten.py", f'KEY = "{google_key()}"\n', "the rewrite")
    git(origin, "checkout", "-q", "main")
    git(origin, "reflog", "expire", "--expire=now", "--all")
    git(origin, "gc", "-q", "--prune=now")
    workspace = checkout(origin, tmp_path)
    assert subprocess.run(["git", "cat-file", "-e", gone], cwd=workspace).returncode != 0  # never fetched

    run = run_action(workspace, "push", push_event("refs/heads/feature", gone, after, forced=True))

    assert run.code == 1, run.err
    assert [a.split(",")[0] for a in run.annotations] == ["::error file=rewritten.py"]
    assert "force push" in run.err


def test_push_that_deletes_a_branch_scans_nothing(origin: Path, tmp_path: Path) -> None:
    before = git(origin, "rev-parse", "HEAD")
    workspace = checkout(origin, tmp_path)

    run = run_action(workspace, "push", push_event("refs/heads/old", before, ZERO))

    assert run.code == 0, run.err
    assert run.outputs == {"findings": "0", "mode": "none"}


# --- scheduled audits -----------------------------------------------------------------------------

@pytest.mark.parametrize("event_name", ["schedule", "workflow_dispatch"])
def test_scheduled_run_audits_the_whole_history(origin: Path, tmp_path: Path, event_name: str) -> None:
    git(origin, "rm", "-q", "old.py")
    git(origin, "commit", "-qm", "remove the old key (it stays in the history)")
    workspace = checkout(origin, tmp_path)

    run = run_action(workspace, event_name, {"schedule": "0 3 * * 1"} if event_name == "schedule" else {})

    assert run.code == 1, run.err
    assert run.outputs["mode"] == "history"
    (annotation,) = run.annotations
    assert annotation.startswith("::error file=old.py,title=")  # no line: HEAD no longer has the file
    assert "no longer in HEAD" in annotation
    assert "**Still in HEAD:** 0 · **history only:** 1" in run.summary
    (result,) = run.sarif()["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["region"] == {"startLine": 1}
    assert "removed again" in result["message"]["text"]


# --- what stops the action ------------------------------------------------------------------------

def test_shallow_checkout_says_fetch_depth_0_and_exits_2(origin: Path, tmp_path: Path) -> None:
    base = git(origin, "rev-parse", "HEAD~1")
    head = git(origin, "rev-parse", "HEAD")
    workspace = checkout(origin, tmp_path, "--depth", "1")

    run = run_action(workspace, "pull_request", pull_request_event(base, head))

    assert run.code == 2
    (line,) = run.err.splitlines()
    assert "shallow" in line and "fetch-depth: 0" in line and "Traceback" not in run.err
    assert run.outputs == {}


@pytest.mark.parametrize("sha", ["--all", "HEAD", "refs/heads/main", "abc"], ids=["option", "name", "ref", "short"])
def test_event_shas_that_are_not_object_ids_are_refused(origin: Path, tmp_path: Path, sha: str) -> None:
    head = git(origin, "rev-parse", "HEAD")
    workspace = checkout(origin, tmp_path)

    run = run_action(workspace, "pull_request", pull_request_event(sha, head))

    assert run.code == 2
    (line,) = run.err.splitlines()
    assert line.startswith("keysentry: error:") and "not an object id" in line


def test_format_in_args_is_refused(origin: Path, tmp_path: Path) -> None:
    workspace = checkout(origin, tmp_path)

    run = run_action(workspace, "workflow_dispatch", {}, args="--format json")

    assert run.code == 2 and "leave --format and --output out" in run.err


def test_report_path_that_is_a_link_planted_in_the_repository_is_refused(origin: Path, tmp_path: Path) -> None:
    target = tmp_path / "victim.txt"
    target.write_text("precious\n")
    os.symlink(target, origin / "keysentry.sarif")
    git(origin, "add", "keysentry.sarif")
    git(origin, "commit", "-qm", "a link where the action writes its report")
    workspace = checkout(origin, tmp_path)

    run = run_action(workspace, "workflow_dispatch", {})

    assert run.code == 2 and "symbolic link" in run.err
    assert target.read_text() == "precious\n"


# --- action.yml itself ----------------------------------------------------------------------------

def test_action_yml_runs_its_scan_step_as_the_runner_would(origin: Path, tmp_path: Path) -> None:
    """The Scan step's own shell and env from action.yml, `${{ inputs.* }}` replaced by the inputs'
    defaults as the runner would, with the installed console script standing in for the step
    before it (tests/test_release.py proves `pip install .` works)."""
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    defaults = {name: spec.get("default", "") for name, spec in action["inputs"].items()}
    (step,) = [s for s in action["runs"]["steps"] if s.get("id") == "scan"]
    env = {name: re.sub(r"\$\{\{\s*inputs\.([\w-]+)\s*\}\}", lambda m: defaults[m.group(1)], value)
           for name, value in step["env"].items()}
    runner_temp = tmp_path / "runner-temp"
    (runner_temp / "keysentry" / "bin").mkdir(parents=True)
    os.symlink(Path(sys.executable).parent / "keysentry", runner_temp / "keysentry" / "bin" / "keysentry")
    workspace = checkout(origin, tmp_path)
    (workspace.parent / "event.json").write_text("{}")
    (workspace.parent / "out.txt").write_text("")
    (workspace.parent / "summary.md").write_text("")

    proc = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=workspace, capture_output=True, text=True, env={
        **os.environ, **GIT_ENV, **env, "RUNNER_TEMP": str(runner_temp), "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_EVENT_NAME": "schedule", "GITHUB_EVENT_PATH": str(workspace.parent / "event.json"),
        "GITHUB_OUTPUT": str(workspace.parent / "out.txt"), "GITHUB_STEP_SUMMARY": str(workspace.parent / "summary.md")})

    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.startswith("::error file=old.py,line=1,")
    outputs = parse_outputs((workspace.parent / "out.txt").read_text())
    assert outputs["findings"] == "1" and Path(outputs["sarif-file"]).is_file()
    declared = {name: spec["value"] for name, spec in action["outputs"].items()}
    assert declared["sarif-file"] == "${{ steps.scan.outputs.sarif-file }}"
    assert {f"${{{{ steps.scan.outputs.{name} }}}}" for name in outputs} <= set(declared.values())


def test_action_yml_is_valid_for_github() -> None:
    proc = subprocess.run([str(Path(sys.executable).parent / "check-jsonschema"), "--builtin-schema",
                           "vendor.github-actions", str(ROOT / "action.yml")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_action_yml_passes_every_input_to_the_scan() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    (step,) = [s for s in action["runs"]["steps"] if s.get("id") == "scan"]
    passed = {re.fullmatch(r"\$\{\{ inputs\.([\w-]+) \}\}", v).group(1) for v in step["env"].values()}  # type: ignore[union-attr]
    assert passed == set(action["inputs"])
    assert all(name == f"INPUT_{value[len('${{ inputs.'):-3].upper().replace('-', '_')}"
               for name, value in step["env"].items())
