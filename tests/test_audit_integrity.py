"""An audit's answer can be trusted (issue 17 §5): concurrent audits sharing clones, reruns after an
input changed, tokens in clone URLs, names that look like markup, and --output through a link."""
from __future__ import annotations

import json
import os
import random
import subprocess
from pathlib import Path

from tests.audit_repos import load
from tests.conftest import GIT_ENV, git, google_key
from tests.hostile import KEYSENTRY


def bare_with_key(root: Path, name: str, filler_lines: int = 60_000) -> Path:
    """A bare repository holding one key beside some filler, so that cloning it takes a moment."""
    work = root / f"{name}-work"
    git(root, "init", "-q", "-b", "main", str(work))
    rng = random.Random(name)
    (work / "data.txt").write_text("".join(f"line {n} {rng.random()}\n" for n in range(filler_lines)))
    (work / "app.py").write_text(f'API_KEY = "{google_key()}"\n')
    git(work, "add", ".")
    git(work, "commit", "-qm", "key")
    bare = root / f"{name}.git"
    git(root, "clone", "-q", "--bare", str(work), str(bare))
    return bare


def test_audits_sharing_a_workdir_never_report_a_key_holding_repository_clean(tmp_path: Path) -> None:
    """Two audits at once on one --workdir (as two Dask workers of one host share their clone
    folder): each clone is fetched, scanned and removed by one process at a time, so every
    repository is reported with its key, in every round."""
    sources = [bare_with_key(tmp_path, f"r{i}").as_uri() for i in range(4)]
    env = {**os.environ, **GIT_ENV}
    for round_ in range(3):
        workdir = tmp_path / f"work{round_}"
        procs = [subprocess.Popen([KEYSENTRY, "audit", *sources, "--workdir", str(workdir), "--format", "json",
                                   "--jobs", "2"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE) for _ in range(2)]
        for proc in procs:
            out, err = proc.communicate(timeout=180)
            assert proc.returncode == 1, err
            for entry in load(out)["repositories"]:
                assert entry["error"] is None and len(entry["findings"]) == 1, (round_, entry["source"], entry["error"])
    # A rerun on the last workdir (fetches into the kept clones) agrees.
    again = subprocess.run([KEYSENTRY, "audit", *sources, "--workdir", str(workdir), "--format", "json"],
                           cwd=tmp_path, env=env, capture_output=True, timeout=180)
    assert all(len(r["findings"]) == 1 for r in load(again.stdout)["repositories"])
