"""One finding per secret in a tree: the findings of one secret, wherever it was copied, folded into
one that lists every place (the contract's `locations`). Pure: findings in, findings out.

Only a scanned tree (work tree, standard input) is folded. In history and range mode one secret at
one path stays one finding, because each path has its own introducing commit; their `locations`
are filled by the history source from HEAD (scanner.attribution) and a report that wants one row
per secret groups them itself (HTML). Folding the history's per-path findings as well and giving
each every HEAD place would make the report quadratic: 600 findings x 600 places."""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Sequence

from scanner.models import Finding, Location, fingerprint

SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3}


def fold(findings: Sequence[Finding]) -> list[Finding]:
    """FINDINGS of a tree with one finding per (rule, secret): the first place in tree order is the
    finding's own, every place (that one first) is in `locations`. Whole-file findings (a `.env`
    file) are about their file, not a value, and stay one per file. Baselined places must already
    be gone: what is folded is reported."""
    groups: dict[tuple[str, str], list[Finding]] = {}
    out: list[Finding] = []
    for f in findings:
        if f.line == 0:
            out.append(f if f.locations else dataclasses.replace(f, locations=(Location(f.path, 0, 0),)))
        else:
            groups.setdefault((f.rule_id, f.secret), []).append(f)
    for group in groups.values():
        group.sort(key=lambda f: (f.path, f.line, f.column))
        # The most urgent place decides: a key that is a test fixture in one file and a Gemini
        # client's key in another is as urgent as the client makes it.
        lead = min(group, key=lambda f: SEVERITY_ORDER.get(f.severity, len(SEVERITY_ORDER)))
        places = tuple(dict.fromkeys(Location(f.path, f.line, f.column) for f in group))
        first = group[0]
        # A client secret copied to a place without its client id is still checkable by the other.
        companion = first.companion or next((f.companion for f in group if f.companion), "")
        out.append(dataclasses.replace(first, severity=lead.severity, context=lead.context, locations=places,
                                       companion=companion))
    return out


def place_fingerprints(findings: Iterable[Finding]) -> Iterator[tuple[str, str, str]]:
    """(path, rule id, fingerprint) of every place the findings stand for, as the baseline records
    them: a folded finding accepts each of its copies, and each copy has its own (per-path)
    fingerprint, so a baseline written from a folded report still drops every place next time."""
    for f in findings:
        yield f.path, f.rule_id, f.fingerprint
        if f.line == 0:
            continue  # a whole-file finding's identity is its file, not a value
        for loc in f.locations:
            if loc.path != f.path:
                yield loc.path, f.rule_id, fingerprint(f.rule_id, loc.path, f.secret)
