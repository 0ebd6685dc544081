"""The JSON report, exactly as CONTRACT.md describes it."""
from __future__ import annotations

from collections.abc import Iterator

from scanner.report import Shown, View, display_path, verification_fields
from scanner.report.streaming import ITEMS, dumps

VERSION = 1


def render(view: View) -> str:
    return "".join(stream(view))


def stream(view: View) -> Iterator[str]:
    """The report in chunks, a finding's dict made only when it is written."""
    body: dict[str, object] = {"version": VERSION, "mode": view.mode, "findings": ITEMS, "stats": view.stats_dict()}
    history = view.mode in ("history", "range")
    if view.suppressed:  # --show-suppressed: what the policy hides, each with its cause
        body["suppressed"] = [_finding(f, history) for f in view.suppressed]
    return dumps(body, (_finding(f, history) for f in view.findings))


def _finding(f: Shown, history: bool = False) -> dict[str, object]:
    # Names arrive with any key in them masked; JSON escapes control characters itself.
    entry: dict[str, object] = {
        "rule_id": f.rule_id,
        "path": display_path(f.path),
        "line": f.line,
        "column": f.column,
        "secret": f.secret,
        "fingerprint": f.fingerprint,
        "commit": f.commit,
        "author": f.author,
        "date": f.date,
        "in_head": f.in_head,
        "severity": f.severity,
        "context": f.context,
        "locations": [{"path": display_path(loc.path), "line": loc.line, "column": loc.column}
                      for loc in f.locations],
        "verification": None if f.verification is None else verification_fields(f.verification),
    }
    if history:  # every later path a rename or copy carried the secret to, oldest first
        entry["moved_to"] = [{"path": display_path(m.path), "commit": m.commit} for m in f.moved_to]
    if f.reachable is not None:  # --unreachable: whether any ref leads to it
        entry["reachable"] = f.reachable
    if f.suppressed:
        entry["suppressed"] = f.suppressed
    if f.place != "file":  # a commit or tag message: `path` names the object, not a file
        entry["place"] = f.place
    if f.decoded:  # found in decoded text: line and column are the encoded run's
        entry["decoded"] = list(f.decoded)
    return entry
