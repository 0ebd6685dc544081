"""The eleven ways a pull request used to pass the gate with a real key (issue 17), one row each, run
through the real `github-action` entry point on a pull-request layout: the merge commit checked
out, base and head from the event file. Each must now fail with the key reported; a legitimate
policy change merged into the base first still applies."""
from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from scanner.rules import ALL_RULES
from tests.conftest import git, google_key
from tests.test_action import Run, checkout, commit, pull_request_event, run_action


@dataclass(frozen=True)
class Attack:
    id: str
    # Given the repository on the feature branch and the key, make the pull request's commits;
    # returns the path the key is in.
    make: Callable[[Path, str], str]
    # Does the change widen its own exemptions (reported as suppression-change), or only try a
    # loophole that no longer exists (a marker outside a comment, a lower size limit, padding)?
    widens: bool = True
    inputs: dict[str, str] = field(default_factory=dict)


def _key_then(files: dict[str, str]) -> Callable[[Path, str], str]:
    """The key in src/app.py in one commit, FILES (the policy change) in the same commit."""
    def make(repo: Path, key: str) -> str:
        (repo / "src").mkdir(exist_ok=True)
        (repo / "src/app.py").write_text(f'client(api_key="{key}")\n')
        for name, text in files.items():
            (repo / name).write_text(text)
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", "use the API")
        return "src/app.py"
    return make


def _policy_in_a_second_commit(repo: Path, key: str) -> str:
    _key_then({})(repo, key)
    commit(repo, ".keysentry.toml", 'exclude = ["**"]\n', "tidy up")
    return "src/app.py"


def _line(text: str) -> Callable[[Path, str], str]:
    def make(repo: Path, key: str) -> str:
        commit(repo, "app.js", text.format(key=key), "use the API")
        return "app.js"
    return make


def _baseline_of_its_own_key(repo: Path, key: str) -> str:
    _key_then({})(repo, key)
    subprocess.run([sys.executable, "-m", "scanner", "baseline", str(repo), "--output",
                    str(repo / "keysentry-baseline.json")], check=True, capture_output=True)
    git(repo, "add", "keysentry-baseline.json")
    git(repo, "commit", "-qm", "accept existing findings")
    return "src/app.py"


def _padded(repo: Path, key: str) -> str:
    with (repo / "data.sql").open("w") as fh:
        fh.write(f"-- api_key: {key}\n")
        fh.write("INSERT INTO t VALUES (1, 'padding padding padding');\n" * (26 * 1024 * 1024 // 50))
    git(repo, "add", "data.sql")
    git(repo, "commit", "-qm", "a dump")
    return "data.sql"


EVERY_RULE = ", ".join(f'"{rule.id}"' for rule in ALL_RULES)
ATTACKS = [
    Attack("keysentry-toml-excludes-everything", _key_then({".keysentry.toml": 'exclude = ["**"]\n'})),
    Attack("pyproject-excludes-src", _key_then({"pyproject.toml": '[tool.keysentry]\nexclude = ["src/**"]\n'})),
    Attack("disable-every-rule", _key_then({".keysentry.toml": f"disable = [{EVERY_RULE}]\n"})),
    Attack("allow-empty-regex", _key_then({".keysentry.toml": 'allow = [""]\n'})),
    Attack("max-file-size-1", _key_then({".keysentry.toml": "max-file-size = 1\n"}), widens=False),
    Attack("policy-change-in-a-second-commit", _policy_in_a_second_commit),
    Attack("keysentry-allow-after-the-key", _line('const apiKey = "{key}";  // keysentry:allow\n')),
    Attack("pragma-inside-a-string", _line('const apiKey = "{key}", why = "pragma: allowlist secret";\n'),
           widens=False),
    Attack("gitleaks-allow-160kb-away", _line('var k="{key}";' + "a=1;" * 40000 + "/*gitleaks:allow*/\n"),
           widens=False),
    Attack("baseline-holding-the-new-key", _baseline_of_its_own_key, inputs={"baseline": "keysentry-baseline.json"}),
    Attack("file-padded-past-25mb", _padded, widens=False),
]


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    path = tmp_path / "origin"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    commit(path, "README.md", "hello\n", "start")
    return path


def pull_request(origin: Path, tmp_path: Path, make: Callable[[Path, str], str],
                 **inputs: str) -> tuple[Run, str, str]:
    """Open a pull request made by MAKE and run the action on its merge commit, as GitHub does."""
    base = git(origin, "rev-parse", "main")
    git(origin, "checkout", "-qb", "feature")
    key = google_key()
    path = make(origin, key)
    head = git(origin, "rev-parse", "HEAD")
    git(origin, "checkout", "-q", "main")
    workspace = checkout(origin, tmp_path)
    git(workspace, "checkout", "-q", "--detach", base)
    git(workspace, "merge", "-q", "--no-ff", "--no-edit", head)  # refs/pull/N/merge
    return run_action(workspace, "pull_request", pull_request_event(base, head), **inputs), key, path


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.id for a in ATTACKS])
def test_a_pull_request_cannot_switch_the_gate_off(attack: Attack, origin: Path, tmp_path: Path) -> None:
    run, key, path = pull_request(origin, tmp_path, attack.make, **attack.inputs)

    assert run.code == 1, run.err
    titles = [a.split("title=keysentry ")[1].split(" ")[0] for a in run.annotations]
    keys = [a for a, rule in zip(run.annotations, titles, strict=True) if rule in ("google-api-key", "hardcoded-api-key")]
    assert [a.split(",")[0] for a in keys] == [f"::error file={path}"], run.out
    assert ("suppression-change" in titles) == attack.widens, run.out
    assert key not in run.out + run.err + run.summary


def test_a_policy_change_merged_into_the_base_first_applies(origin: Path, tmp_path: Path) -> None:
    commit(origin, ".keysentry.toml", 'exclude = ["src/**"]\n', "reviewed: src holds test keys only")

    run, _, _ = pull_request(origin, tmp_path, _key_then({}))

    assert run.code == 0, run.err + run.out
    assert run.annotations == [] and run.outputs["findings"] == "0"
