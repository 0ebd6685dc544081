"""`python -m scanner` run inside a scanned repository must not import that repository's modules."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]


def test_repository_modules_do_not_shadow_the_standard_library(repo: Path, tmp_path: Path) -> None:
    marker = tmp_path / "imported-from-repo"
    for name in ("argparse", "json", "subprocess", "re", "shlex"):
        (repo / f"{name}.py").write_text(f"open({str(marker)!r}, 'w').write({name!r})\nraise SystemExit(99)\n")
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    proc = subprocess.run([sys.executable, "-m", "scanner", "scan", ".", "--format", "json"],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert not marker.exists()
