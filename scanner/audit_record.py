"""One repository's audited result as plain JSON: what a worker sends back, what --workdir keeps
for a resumed audit, and what the reports are made from.

It holds a `View` (scanner/report: already redacted, names already masked), never a `Result`, so
no secret crosses the network or reaches the disk unless --show-secrets asked for it; decoding
gives the same View back, so the reporters render a stored result exactly as a fresh one."""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from scanner.models import Restrictions, Stats, Verification
from scanner.report import Shown, ShownLocation, ShownMove, View, verification_fields

FORMAT = 1


@dataclass(frozen=True)
class RepoResult:
    """One SOURCE of an audit: its view, or the error that kept it from being scanned."""

    source: str
    head: str | None  # HEAD's commit when scanned
    refs: str | None  # digest of every ref and every input of the scan (audit_child._state): what a resume compares
    error: str | None
    view: View | None  # None when error
    seconds: float = 0.0  # clone (or fetch) and scan


_STAT_FIELDS = tuple(f.name for f in fields(Stats))


def _shown(f: Shown) -> dict[str, Any]:
    return {
        "rule_id": f.rule_id, "path": f.path, "line": f.line, "column": f.column, "secret": f.secret,
        "secret_length": f.secret_length, "secret_id": f.secret_id, "fingerprint": f.fingerprint,
        "commit": f.commit, "author": f.author, "date": f.date, "in_head": f.in_head,
        # "moved_to" keeps what records have always held there (HEAD's other paths): a resumed
        # audit reads records an older keysentry wrote; the contract's moved_to is "carried_to".
        "head_paths": list(f.head_paths), "moved_to": list(f.head_elsewhere),
        "carried_to": [[m.path, m.commit] for m in f.moved_to], "unstaged_fix": f.unstaged_fix,
        "severity": f.severity, "context": f.context,
        "locations": [[loc.path, loc.line, loc.column] for loc in f.locations],
        "verification": None if f.verification is None else verification_fields(f.verification),
        "companion": f.companion, "reachable": f.reachable,
        "archives": list(f.archives), "decoded": list(f.decoded),
    }


def _unshown(d: dict[str, Any]) -> Shown:
    from scanner.rules import RULES_BY_ID

    verification = d["verification"]
    return Shown(
        rule=RULES_BY_ID[d["rule_id"]], path=d["path"], line=d["line"], column=d["column"], secret=d["secret"],
        secret_length=d["secret_length"], secret_id=d["secret_id"], fingerprint=d["fingerprint"],
        commit=d["commit"], author=d["author"], date=d["date"], in_head=d["in_head"],
        head_paths=tuple(d["head_paths"]), head_elsewhere=tuple(d["moved_to"]), unstaged_fix=d["unstaged_fix"],
        moved_to=tuple(ShownMove(path, commit) for path, commit in d.get("carried_to", ())),
        severity=d["severity"], context=d["context"],
        locations=tuple(ShownLocation(p, line, col) for p, line, col in d["locations"]),
        verification=None if verification is None else _verification(verification),
        companion=d.get("companion", ""), reachable=d.get("reachable"),
        archives=tuple(d.get("archives", ())), decoded=tuple(d.get("decoded", ())),
    )


def _verification(data: Any) -> Verification:
    """The contract's `verification` object back (the whole verdict: exposes, surface,
    restrictions); a record kept by an earlier keysentry holds [status, reason]."""
    if isinstance(data, list):
        status, reason = data
        return Verification(status, reason)
    r = data.get("restrictions")
    restrictions = None if r is None else Restrictions(
        known=r["known"], reason=r["reason"], key=r.get("key", ""), api_targets=tuple(r.get("api_targets", ())),
        referrers=tuple(r.get("referrers", ())), ips=tuple(r.get("ips", ())),
        android_apps=tuple((a["package"], a["sha1"]) for a in r.get("android_apps", ())),
        ios_bundle_ids=tuple(r.get("ios_bundle_ids", ())), fix=r.get("fix", ""))
    return Verification(data["status"], data["reason"], tuple(data.get("exposes", ())), data.get("surface"),
                        restrictions)


def encode(result: RepoResult) -> dict[str, Any]:
    view = result.view
    return {
        "format": FORMAT, "source": result.source, "head": result.head, "refs": result.refs,
        "error": result.error, "seconds": round(result.seconds, 3),
        "view": None if view is None else {
            "mode": view.mode,
            "findings": [_shown(f) for f in view.findings],
            "stats": {name: getattr(view.stats, name) for name in _STAT_FIELDS},
            "notes": list(view.notes),
            "skipped_large_paths": list(view.skipped_large_paths),
        },
    }


def decode(data: dict[str, Any]) -> RepoResult:
    """The RepoResult DATA encodes; KeyError, TypeError or ValueError when it is not one."""
    if data.get("format") != FORMAT:
        raise ValueError(f"not an audit record of format {FORMAT}")
    raw = data["view"]
    view = None
    if raw is not None:
        stats = Stats(**{name: raw["stats"][name] for name in _STAT_FIELDS})
        view = View(raw["mode"], tuple(_unshown(f) for f in raw["findings"]), stats, tuple(raw["notes"]),
                    tuple(raw["skipped_large_paths"]))
    return RepoResult(data["source"], data["head"], data["refs"], data["error"], view, float(data["seconds"]))
