"""SARIF 2.1.0 as GitHub code scanning accepts it: one run, one rule per id, one result per finding."""
from __future__ import annotations

import json
from urllib.parse import quote

from scanner import __version__
from scanner.report import View, display_path, printable
from scanner.rules import ALL_RULES, FileRule, Rule

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
# GitHub ranks security alerts by this property: 9.0 and above is "critical".
_SECURITY_SEVERITY = "9.0"


def _uri(path: str) -> str:
    """A relative URI reference: spaces, '#', '%' and non-ASCII bytes percent-encoded, '/' kept."""
    return quote(path.encode("utf-8", "surrogateescape"), safe="/")


def _rule(rule: Rule | FileRule) -> dict[str, object]:
    return {
        "id": rule.id,
        "name": "".join(part.title() for part in rule.id.split("-")),
        "shortDescription": {"text": rule.description},
        "fullDescription": {"text": rule.description},
        "help": {"text": rule.remediation, "markdown": rule.remediation},
        "defaultConfiguration": {"level": rule.level},
        "properties": {"tags": ["security", "secret"], "security-severity": _SECURITY_SEVERITY, "precision": "high"},
    }


def render(view: View) -> str:
    index = {rule.id: i for i, rule in enumerate(ALL_RULES)}
    # Names arrive with any key in them masked, so the location's URI holds none either.
    results = []
    for f in view.findings:
        region: dict[str, int] = {"startLine": max(f.line, 1)}
        if f.column > 0:
            region["startColumn"] = f.column
            region["endColumn"] = f.column + f.secret_length
        # Shown to people as is (GitHub's alert title): a secret's control characters escaped.
        message = f"{f.rule.description}: {f.secret}"
        if f.commit:
            message += f" (introduced in commit {f.commit[:12]})"
        entry: dict[str, object] = {
            "ruleId": f.rule_id,
            "ruleIndex": index[f.rule_id],
            "level": f.rule.level,
            "message": {"text": printable(message)},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": _uri(f.path), "uriBaseId": "%SRCROOT%"},
                "region": region,
            }}],
            "partialFingerprints": {"keysentry/v1": f.fingerprint},
        }
        # The other places holding the same secret (contract `locations`), so one alert covers its copies.
        related = [{"id": i, "physicalLocation": {
            "artifactLocation": {"uri": _uri(loc.path), "uriBaseId": "%SRCROOT%"},
            "region": {"startLine": max(loc.line, 1), **({"startColumn": loc.column} if loc.column > 0 else {})},
        }} for i, loc in enumerate(f.locations) if (loc.path, loc.line, loc.column) != (f.path, f.line, f.column)]
        if related:
            entry["relatedLocations"] = related
        if f.commit:
            entry["properties"] = {"commit": f.commit, "author": f.author, "date": f.date, "in_head": f.in_head,
                                   "head_paths": [display_path(p) for p in f.head_paths]}
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
            "properties": {"mode": view.mode, "stats": view.stats_dict()},
        }],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
