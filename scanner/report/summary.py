"""The numbers every summary shows (text, Markdown, HTML): computed once from the view, so that no
two reports can count differently."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from scanner.domain import SEVERITIES as SEVERITIES  # most urgent first; the reports import it from here
from scanner.domain import Severity
from scanner.report import Shown, View


@dataclass(frozen=True)
class RuleCount:
    rule_id: str
    description: str
    findings: int
    secrets: int  # distinct secrets among those findings
    remediation: str  # the rule's fix, said once however many findings it has


@dataclass(frozen=True)
class Summary:
    findings: int
    secrets: int  # distinct secrets
    by_severity: tuple[tuple[Severity, int], ...]  # every severity, most urgent first, zeros kept
    by_rule: tuple[RuleCount, ...]  # rules with findings, most findings first
    in_head: int  # history/range: findings whose secret is still in HEAD
    history_only: int  # history/range: findings whose secret HEAD no longer holds
    by_verification: tuple[tuple[str, int], ...]  # status -> findings, when --verify ran


def summarize(view: View) -> Summary:
    findings = view.findings
    severities = Counter(f.severity for f in findings)
    per_rule: dict[str, list[Shown]] = {}
    for f in findings:
        per_rule.setdefault(f.rule_id, []).append(f)
    by_rule = tuple(sorted(
        (RuleCount(rule_id, group[0].rule.description, len(group), len({f.secret_id for f in group}),
                   group[0].rule.remediation)
         for rule_id, group in per_rule.items()),
        key=lambda r: (-r.findings, r.rule_id),
    ))
    verified = Counter(f.verification.status for f in findings if f.verification is not None)
    return Summary(
        findings=len(findings),
        secrets=len({f.secret_id for f in findings}),
        by_severity=tuple((s, severities.get(s, 0)) for s in SEVERITIES),
        by_rule=by_rule,
        in_head=sum(1 for f in findings if f.in_head is True),
        history_only=sum(1 for f in findings if f.in_head is False),
        by_verification=tuple(sorted(verified.items())),
    )
