"""Hand-edited copies of one test key: a step over a scan's findings, once every source is done.

An SDK's own test suite often holds one test key and copies of it with a few characters changed by
hand (one per scenario: a changed key, a second project, a key the stub rejects). Each copy alone is
random-shaped, so no test of the value can tell; what tells is the family: two independent random keys
never agree in most places (two random hex keys of 16 characters agree in 11 places once in 5 * 10^9
pairs). So a `hardcoded-api-key` literal in a test fixture (context `test-fixture`) that has a near-copy
among the scan's other such literals (the same length, 1 to a third of its characters different) is a
hand-made stand-in, and neither copy is reported; they are counted in `stats.allowed`, as a published
example value is.

Where it applies and where not (docs/scanning.md, "Hand-edited copies of one test key"):
- Only test fixtures: a module's documentation may show one real key and, in a sibling module, the
  same key with a digit changed; that is not evidence the first is made up.
- Only values of one run of key characters (hex, base62, base64, with a provider's `_`/`-` prefix) of
  16 to 64 characters: a JWT or a Mapbox token of the same account shares its whole header by design.
- The family is looked for among what the scan reads: a work-tree or history scan sees every copy; a
  staged change, a range or a pre-commit hook's named files see only theirs, so a copy they add to a
  family they do not hold is still reported (never the other way round). In a history only the
  copies still in HEAD make a family: a key edited away (a leaked key "scrubbed" by changing a few of
  its characters in a later commit) is reported, as is its edited copy, unless others still stand.
- Linear: each value is compared only with values agreeing with it exactly on one of a third of its
  length + 1 blocks (if a third or fewer places differ, some block has none), at most a few per block,
  and with at most a fixed number per value in all: a scan built to hold thousands of look-alike values
  costs no more than a few comparisons each, and what it cannot compare is reported.
"""
from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence

from scanner import lazyre
from scanner.models import Finding

RULE = "hardcoded-api-key"
CONTEXT = "test-fixture"
_ELIGIBLE = lazyre.compile(r"[A-Za-z0-9_+/-]{16,64}={0,2}")
# Kept per block, and compared per value in all (on average): beyond them a value is reported.
_PER_BLOCK = 8
_PER_VALUE = 16


def _blocks(n: int, count: int) -> list[tuple[int, int]]:
    """COUNT consecutive spans covering 0..N as evenly as they can."""
    return [(n * i // count, n * (i + 1) // count) for i in range(count)]


@functools.cache
def _spans(n: int) -> tuple[tuple[int, int], ...]:
    """The blocks of a value of N characters: a third of N, plus one."""
    return tuple(_blocks(n, n // 3 + 1))


def _differences(a: str, b: str, limit: int) -> int:
    """In how many places A and B (of one length) differ; anything over LIMIT as LIMIT + 1."""
    d = 0
    for x, y in zip(a, b, strict=True):
        if x != y:
            d += 1
            if d > limit:
                break
    return d


def near_copies(values: Iterable[str]) -> frozenset[str]:
    """The distinct VALUES (of 16 to 64 key characters) that have a near-copy among them: another of the
    same length differing in at least one place and at most a third of them."""
    distinct = sorted({v for v in values if _ELIGIBLE.fullmatch(v)})
    blocks: dict[tuple[int, int, str], list[int]] = {}
    found: set[str] = set()
    budget = _PER_VALUE * len(distinct)
    for i, value in enumerate(distinct):
        n = len(value)
        limit = n // 3
        compared: set[int] = set()
        for b, (low, high) in enumerate(_spans(n)):
            members = blocks.setdefault((n, b, value[low:high]), [])
            # Once the budget is spent, values are only filed: walking the full blocks' members to
            # compare none of them made a value cost up to 8 times more as buckets filled.
            for j in members if budget > 0 else ():
                if j in compared:
                    continue
                compared.add(j)
                budget -= 1
                if _differences(value, distinct[j], limit) <= limit:
                    found.update((value, distinct[j]))
                if budget <= 0:
                    break
            if len(members) < _PER_BLOCK:
                members.append(i)
    return frozenset(found)


def without_near_copies(findings: Sequence[Finding]) -> tuple[list[Finding], int]:
    """FINDINGS less the test fixtures' hardcoded-api-key literals that are near-copies of one another,
    and how many findings that took out."""
    family = near_copies(f.secret for f in findings if _member(f))
    if not family:
        return list(findings), 0
    kept = [f for f in findings if not (_member(f) and f.secret in family)]
    return kept, len(findings) - len(kept)


def _member(finding: Finding) -> bool:
    """May FINDING belong to a family: a test fixture's hardcoded-api-key literal, still in HEAD when
    the scan knows (a history's `in_head`; None in a work tree)?"""
    return finding.rule_id == RULE and finding.context == CONTEXT and finding.in_head is not False

