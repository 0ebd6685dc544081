"""GitLab's Secret Detection report (`gl-secret-detection-report.json`, artifacts:reports:
secret_detection): one vulnerability per finding, valid against the schema version it declares
(tests/data/secret-detection-report-format.json, GitLab's security-report-schemas)."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

from scanner import PROJECT_URL, __version__, rule_url
from scanner.report import (CAUSE_NAMES, UNREACHABLE, Shown, View, decoded_words, display_path, exposure_words,
                           moved_words, printable, suppressed_summary)
from scanner.report.streaming import ITEMS, dumps

SCHEMA_VERSION = "15.2.4"
SCHEMA_URL = ("https://gitlab.com/gitlab-org/security-products/security-report-schemas/-/raw/"
              f"v{SCHEMA_VERSION}/dist/secret-detection-report-format.json")
_SEVERITY = {"critical": "Critical", "high": "High", "medium": "Medium", "low": "Low"}
# A finding outside any commit (the working tree, stdin): the schema requires a sha, and GitLab's
# own secrets analyzer writes this one there.
_NO_COMMIT = "0000000"
# Vulnerability ids: the same finding gets the same id in every run, so GitLab can match them.
_NAMESPACE = uuid.UUID("5b0c4a4e-6b1f-4a43-9a59-6b657973656e")
_TOOL = {"id": "keysentry", "name": "keysentry", "version": __version__, "vendor": {"name": "keysentry"},
         "url": PROJECT_URL}


def timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def _vulnerability(f: Shown) -> dict[str, object]:
    commit: dict[str, object] = {"sha": f.commit or _NO_COMMIT}
    if f.author is not None:
        commit["author"] = printable(f.author)
    if f.date is not None:
        commit["date"] = f.date
    location: dict[str, object] = {"file": display_path(f.path), "commit": commit}
    if f.line:
        location.update(start_line=f.line, end_line=f.line)
    where = "" if f.in_head is None else (" It is still in HEAD." if f.in_head else
                                           " HEAD no longer holds it, but the history does: rotate it.")
    if f.reachable is False:
        where += f" It is {UNREACHABLE}."
    if f.moved_to:  # GitLab's location holds one file: the later paths are said in words
        where += f" Later moved to {moved_words(f.moved_to, display_path)}."
    if f.verification is not None:  # --verify
        extra = exposure_words(f.verification)
        where += f" Verified {f.verification.status}: {f.verification.reason}" + (f" ({extra})." if extra else ".")
    return {
        "id": str(uuid.uuid5(_NAMESPACE, f"{f.fingerprint}\0{f.commit or ''}")),
        "name": f.rule.description[:255],
        "description": printable(f"{f.message}: {f.secret}{decoded_words(f)}.{where}"),
        "severity": _SEVERITY.get(f.severity, "Unknown"),
        "solution": f.rule.remediation[:7000],
        "identifiers": [{"type": "keysentry_rule_id", "name": f"keysentry rule {f.rule_id}", "value": f.rule_id,
                         "url": rule_url(f.rule_id)}],
        "location": location,
        # GitLab shows this as the finding's code; it is the redacted secret unless --show-secrets.
        "raw_source_code_extract": f.secret,
    }


def _messages(view: View) -> list[dict[str, str]]:
    """The notes, what the policy suppressed by cause, and (--show-suppressed) each suppressed finding."""
    texts = list(view.notes)
    hidden = suppressed_summary(view.stats)
    if hidden:
        texts.append(hidden)
    texts += [f"suppressed by {CAUSE_NAMES.get(f.suppressed, f.suppressed)}: {f.rule_id} at "
              f"{display_path(f.path)}:{f.line} ({f.secret})" for f in view.suppressed]
    return [{"level": "info", "value": printable(text)} for text in texts]


def render(view: View) -> str:
    return "".join(stream(view))


def stream(view: View) -> Iterator[str]:
    """The report in chunks, a vulnerability's dict made only when it is written."""
    end = datetime.now(timezone.utc)
    start = end - timedelta(seconds=view.stats.seconds)
    report = {
        "version": SCHEMA_VERSION,
        "schema": SCHEMA_URL,
        "scan": {
            "analyzer": _TOOL,
            "scanner": _TOOL,
            "type": "secret_detection",
            "status": "success",
            "start_time": timestamp(start),
            "end_time": timestamp(end),
            "messages": _messages(view),
        },
        "vulnerabilities": ITEMS,
        "remediations": [],
    }
    return dumps(report, (_vulnerability(f) for f in view.findings))
