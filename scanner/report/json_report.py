"""The JSON report, exactly as CONTRACT.md describes it."""
from __future__ import annotations

import json

from scanner.report import NameMasker, Options, display_path, redact
from scanner.scan import Result

VERSION = 1


def render(result: Result, options: Options) -> str:
    # A key in a file or author name is redacted there too (JSON escapes control characters itself).
    mask = NameMasker(result.findings, options.show_secrets)
    findings = [
        {
            "rule_id": f.rule_id,
            "path": mask(display_path(f.path)),
            "line": f.line,
            "column": f.column,
            "secret": f.secret if options.show_secrets else redact(f.secret),
            "fingerprint": f.fingerprint,
            "commit": f.commit,
            "author": mask(f.author) if f.author is not None else None,
            "date": f.date,
            "in_head": f.in_head,
        }
        for f in result.findings
    ]
    body = {"version": VERSION, "mode": result.mode, "findings": findings, "stats": result.stats.as_dict()}
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"
