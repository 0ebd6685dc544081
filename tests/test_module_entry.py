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


def test_only_the_entry_points_import_the_command_line() -> None:
    # The CLI sits on top: it imports the commands (scan, audit, the GitHub Action…), never the other
    # way round. What they share (the parser, what is said on the terminal, the exit status of a
    # gate) lives in scanner.arguments, scanner.console and scanner.exitcodes.
    import ast

    importers = []
    for path in sorted((PROJECT / "scanner").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [f"{node.module}.{a.name}" if node.module else a.name for a in node.names] \
                if isinstance(node, ast.ImportFrom) else []
            if any(n == "scanner.cli" or n.startswith("scanner.cli.") for n in names):
                importers.append(path.relative_to(PROJECT).as_posix())
    assert importers == ["scanner/__main__.py"]
