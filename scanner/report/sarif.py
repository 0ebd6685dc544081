"""SARIF 2.1.0 as GitHub code scanning accepts it: one run, one rule per id, one result per finding."""
from __future__ import annotations

import json
from urllib.parse import quote

from scanner import __version__
from scanner.report import NameMasker, Options, display_path, printable, redact
from scanner.rules import ALL_RULES
from scanner.scan import Result

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
# GitHub ranks security alerts by this property: 9.0 and above is "critical".
_SECURITY_SEVERITY = "9.0"


def _uri(path: str) -> str:
    """A relative URI reference: spaces, '#', '%' and non-ASCII bytes percent-encoded, '/' kept."""
    return quote(path.encode("utf-8", "surrogateescape"), safe="/")


def _rule(rule: object) -> dict[str, object]:
    return {
        "id": rule.id,  # type: ignore[attr-defined]
        "name": "".join(part.title() for part in rule.id.split("-")),  # type: ignore[attr-defined]
        "shortDescription": {"text": rule.description},  # type: ignore[attr-defined]
        "fullDescription": {"text": rule.description},  # type: ignore[attr-defined]
        "help": {"text": rule.remediation, "markdown": rule.remediation},  # type: ignore[attr-defined]
        "defaultConfiguration": {"level": rule.severity},  # type: ignore[attr-defined]
        "properties": {"tags": ["security", "secret"], "security-severity": _SECURITY_SEVERITY, "precision": "high"},
    }


def render(result: Result, options: Options) -> str:
    index = {rule.id: i for i, rule in enumerate(ALL_RULES)}
    # A key in a file or author name is redacted there too, the location's URI included.
    mask = NameMasker(result.findings, options.show_secrets)
    results = []
    for f in result.findings:
        secret = f.secret if options.show_secrets else redact(f.secret)
        region: dict[str, int] = {"startLine": max(f.line, 1)}
        if f.column > 0:
            region["startColumn"] = f.column
            region["endColumn"] = f.column + len(f.secret)
        # Shown to people as is (GitHub's alert title): a secret's control characters escaped.
        message = f"{ALL_RULES[index[f.rule_id]].description}: {secret}"
        if f.commit:
            message += f" (introduced in commit {f.commit[:12]})"
        entry: dict[str, object] = {
            "ruleId": f.rule_id,
            "ruleIndex": index[f.rule_id],
            "level": ALL_RULES[index[f.rule_id]].severity,
            "message": {"text": printable(message)},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": _uri(mask(f.path)), "uriBaseId": "%SRCROOT%"},
                "region": region,
            }}],
            "partialFingerprints": {"keysentry/v1": f.fingerprint},
        }
        if f.commit:
            entry["properties"] = {"commit": f.commit, "author": mask(f.author) if f.author is not None else None,
                                   "date": f.date, "in_head": f.in_head,
                                   "head_paths": [mask(display_path(p)) for p in f.head_paths]}
        results.append(entry)
    log = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "keysentry",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": "https://pypi.org/project/keysentry/",
                "rules": [_rule(rule) for rule in ALL_RULES],
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
            "properties": {"mode": result.mode, "stats": result.stats.as_dict()},
        }],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
