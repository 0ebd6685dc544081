"""The CI page's workflows and job (docs/ci.md), and the README's copy, as a user would paste them:
each valid against SchemaStore's schema (check-jsonschema's vendored copies), and wired to the
action's real inputs and outputs."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
CI_PAGE = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")
YAML = r"^```yaml\n(.*?)^```$"
BLOCKS = re.findall(YAML, CI_PAGE, flags=re.MULTILINE | re.DOTALL)
WORKFLOWS = [b for b in BLOCKS if "runs-on:" in b]
GITLAB = [b for b in BLOCKS if "secret_detection:" in b]


def test_the_readmes_workflow_is_the_ci_pages_first() -> None:
    in_readme = [b for b in re.findall(YAML, README, flags=re.MULTILINE | re.DOTALL) if "runs-on:" in b]
    assert in_readme == [WORKFLOWS[0]]


def check(tmp_path: Path, schema: str, text: str, name: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / name
    path.write_text(text)
    return subprocess.run([str(Path(sys.executable).parent / "check-jsonschema"), "--builtin-schema", schema, str(path)],
                          capture_output=True, text=True)


def test_ci_page_has_the_three_workflows_and_the_gitlab_job() -> None:
    assert len(WORKFLOWS) == 3 and len(GITLAB) == 1
    events = [set(yaml.safe_load(w)[True]) for w in WORKFLOWS]  # YAML 1.1 reads `on:` as True
    assert events == [{"pull_request", "push"}, {"schedule", "workflow_dispatch"}, {"pull_request"}]


@pytest.mark.parametrize("index", range(3), ids=["pr and push", "scheduled audit", "without the action"])
def test_readme_workflow_is_valid(tmp_path: Path, index: int) -> None:
    proc = check(tmp_path, "vendor.github-workflows", WORKFLOWS[index], "workflow.yml")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_gitlab_job_is_valid(tmp_path: Path) -> None:
    proc = check(tmp_path, "vendor.gitlab-ci", GITLAB[0], ".gitlab-ci.yml")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    job = yaml.safe_load(GITLAB[0])["keysentry"]
    assert job["variables"]["GIT_DEPTH"] == "0"
    assert job["artifacts"]["reports"]["secret_detection"] == "gl-secret-detection-report.json"
    assert "--format gitlab --output gl-secret-detection-report.json" in "\n".join(job["script"])


def test_the_schemas_catch_a_broken_workflow(tmp_path: Path) -> None:
    broken = WORKFLOWS[0].replace("runs-on: ubuntu-latest", "runs_on: ubuntu-latest")
    assert check(tmp_path, "vendor.github-workflows", broken, "workflow.yml").returncode != 0


def test_workflows_check_out_the_whole_history_and_upload_what_the_action_wrote() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    for text in WORKFLOWS:
        workflow = yaml.safe_load(text)
        (job,) = workflow["jobs"].values()
        steps = job["steps"]
        assert steps[0]["uses"].startswith("actions/checkout@") and steps[0]["with"]["fetch-depth"] == 0
        ours = [s for s in steps if s.get("uses", "").startswith("keysentry/keysentry@")]
        uploads = [s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif@")]
        if ours:
            assert set(ours[0].get("with", {})) <= set(action["inputs"])
            (upload,) = uploads
            assert upload["with"]["sarif_file"] == "${{ steps.%s.outputs.sarif-file }}" % ours[0]["id"]
            assert "sarif-file" in action["outputs"]
            assert "!cancelled()" in upload["if"]  # findings fail the action's step; upload anyway
            assert workflow["permissions"]["security-events"] == "write"
