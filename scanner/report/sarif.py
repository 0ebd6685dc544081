"""SARIF 2.1.0 as GitHub code scanning uses it: one run, one rule per id, one result per finding.

What code scanning reads: `partialFingerprints.primaryLocationLineHash` to follow an alert across
commits (ours is the content-keyed fingerprint, so the alert survives edits and moved lines), the
rule's `security-severity` and `precision` to rank it, the result's message as the alert's text
(GitHub ignores result properties, so the commit and whether HEAD still holds the secret are said
there), and `region.startLine`, which every result must have."""
from __future__ import annotations

import itertools
from collections.abc import Iterator
from urllib.parse import quote

from scanner import PROJECT_URL, __version__, rule_url
from scanner.report import (CAUSE_NAMES, UNREACHABLE, Shown, View, display_path, exposure_words, moved_words, printable,
                           verification_fields)
from scanner.report.streaming import ITEMS, dumps
from scanner.rules import ALL_RULES, FileRule, Rule

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
# GitHub ranks security alerts by this score: 9.0 and above is "critical", 7.0 "high", 4.0 "medium".
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}
# A result's own level, so that a finding judged less urgent than its rule's default shows so.
_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}


def _uri(path: str) -> str:
    """A relative URI reference: spaces, '#', '%' and non-ASCII bytes percent-encoded, '/' kept, and
    '!' too: a legal character of a URI's path (RFC 3986 sub-delims), which joins an archive and its
    member (`app.zip!res/values/strings.xml`), kept readable as gitleaks and Kingfisher write it. A
    ':' is encoded: in a relative reference's first segment it would read as a scheme."""
    return quote(path.encode("utf-8", "surrogateescape"), safe="/!")


def _help_markdown(rule: Rule | FileRule) -> str:
    lines = [f"**{rule.description}**", "", rule.remediation]
    if rule.fix:
        lines += ["", rule.fix]
    lines += ["", f"See [{rule.id}]({rule_url(rule.id)}) in keysentry's rules."]
    return "\n".join(lines)


def _rule(rule: Rule | FileRule) -> dict[str, object]:
    return {
        "id": rule.id,
        "name": "".join(part.title() for part in rule.id.split("-")),
        "shortDescription": {"text": rule.description},
        "fullDescription": {"text": rule.description},
        "helpUri": rule_url(rule.id),
        "help": {"text": rule.remediation, "markdown": _help_markdown(rule)},
        "defaultConfiguration": {"level": rule.level},
        "properties": {"tags": ["security", "secret"],
                       "security-severity": SECURITY_SEVERITY.get(rule.severity, SECURITY_SEVERITY["high"]),
                       "precision": rule.precision},
    }


def _message(f: Shown) -> str:
    text = f"{f.message}: {f.secret}"
    if f.decoded:
        text += f", encoded ({' > '.join(f.decoded)})"
    if f.place != "file" and f.commit:
        text += (f", in the {f.place.replace('-', ' ')} of {f.commit[:12]}: no file holds it, but every clone "
                 "does: rotate the key and rewrite that message")
    elif f.commit:
        text += f", introduced in commit {f.commit[:12]}"
        if f.moved_to:
            text += f"; moved to {moved_words(f.moved_to, display_path)}"
        if f.in_head is True:
            text += "; still in HEAD"
        elif f.in_head is False:
            text += ("; removed again, so no line of the file holds it now, but the commit still does: "
                     "rotate the key and rewrite that commit")
    if f.reachable is False:
        text += f"; {UNREACHABLE}"
    if f.verification is not None:  # --verify: what Google said
        text += f"; verified {f.verification.status}: {f.verification.reason}"
        extra = exposure_words(f.verification)
        text += f" ({extra})" if extra else ""
    return text + f" (severity {f.severity})"


def _region(f: Shown) -> dict[str, int]:
    if (f.in_head is False and f.place == "file") or f.line == 0:
        # A whole-file finding, or a secret no longer in the file: the line it was on now holds
        # other text (often the fix), so the result is placed on the file's first line instead.
        return {"startLine": 1}
    region = {"startLine": f.line, "endLine": f.line}
    if f.column > 0:
        # A decoded secret's encoded form is longer than it, and its length is not known here.
        region.update(startColumn=f.column, **({} if f.decoded else {"endColumn": f.column + f.secret_length}))
    return region


def _result(f: Shown, index: dict[str, int]) -> dict[str, object]:
    entry: dict[str, object] = {
        "ruleId": f.rule_id,
        "ruleIndex": index[f.rule_id],
        "level": _LEVEL.get(f.severity, f.rule.level),
        # Shown to people as is (GitHub's alert title): a secret's control characters escaped.
        "message": {"text": printable(_message(f))},
        # Names arrive with any key in them masked, so the location's URI holds none either.
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": _uri(f.path), "uriBaseId": "%SRCROOT%"},
            "region": _region(f),
        }}],
        "partialFingerprints": {"primaryLocationLineHash": f.fingerprint, "keysentry/v1": f.fingerprint},
    }
    # The other places holding the same secret (contract `locations`), so one alert covers its copies.
    related = [{"id": i, "physicalLocation": {
        "artifactLocation": {"uri": _uri(loc.path), "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": max(loc.line, 1), **({"startColumn": loc.column} if loc.column > 0 else {})},
    }} for i, loc in enumerate(f.locations) if (loc.path, loc.line, loc.column) != (f.path, f.line, f.column)]
    if related:
        entry["relatedLocations"] = related
    properties: dict[str, object] = {"severity": f.severity, "context": f.context,
                                     "security-severity": SECURITY_SEVERITY.get(f.severity, "8.0")}
    if f.commit:
        properties.update(commit=f.commit, author=f.author, date=f.date, in_head=f.in_head,
                          head_paths=[display_path(p) for p in f.head_paths],
                          # Not relatedLocations: a path the secret was carried to in the past
                          # need not exist in the analysed commit, whose files those link to.
                          moved_to=[{"path": display_path(m.path), "commit": m.commit} for m in f.moved_to])
    if f.reachable is not None:
        properties["reachable"] = f.reachable
    if f.place != "file":
        # A message has no file: the location is the message's own name, a relative URI no file
        # of the repository has (its ':' percent-encoded), which GitHub accepts and lists unlinked.
        properties["place"] = f.place
    if f.verification is not None:
        properties["verification"] = verification_fields(f.verification)
    if f.decoded:  # found in decoded text: the region is where its encoded form starts
        properties["decoded"] = list(f.decoded)
    entry["properties"] = properties
    if f.suppressed:  # --show-suppressed: SARIF's own way to say a result is silenced, and why
        kind = "inSource" if f.suppressed == "inline" else "external"
        entry["suppressions"] = [{"kind": kind, "justification": f"suppressed by {CAUSE_NAMES[f.suppressed]}"}]
    return entry


def render(view: View) -> str:
    return "".join(stream(view))


def stream(view: View) -> Iterator[str]:
    """The log in chunks, a result's dict made only when it is written (50,000 results held at
    once took 640 MB)."""
    index = {rule.id: i for i, rule in enumerate(ALL_RULES)}
    log = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "keysentry",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": PROJECT_URL,
                "rules": [_rule(rule) for rule in ALL_RULES],
            }},
            "columnKind": "unicodeCodePoints",
            "results": ITEMS,
            "properties": {"mode": view.mode, "stats": view.stats_dict()},
        }],
    }
    return dumps(log, (_result(f, index) for f in itertools.chain(view.findings, view.suppressed)))
