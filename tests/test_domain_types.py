"""The contract's closed sets of words are types (scanner.domain): the same words as CONTRACT.md and
the registries, on every field that carries one, so that mypy --strict rejects a misspelt one."""
from __future__ import annotations

import dataclasses
import typing

from scanner import domain
from scanner.context import CONTEXTS
from scanner.models import Finding, Match, Result, Verification
from scanner.report import Shown
from scanner.rules import ALL_RULES
from scanner.scan import Request


def test_the_words_are_the_contracts() -> None:
    assert domain.MODES == ("worktree", "history", "staged", "range", "stdin")
    assert domain.SEVERITIES == ("critical", "high", "medium", "low")
    assert set(domain.STATUSES) == {"live", "restricted", "no-gemini-access", "reported-leaked", "invalid", "unknown"}


def test_every_context_has_its_entry_and_every_rule_a_known_severity() -> None:
    assert set(CONTEXTS) == set(domain.CONTEXT_NAMES)
    assert {rule.severity for rule in ALL_RULES} <= set(domain.SEVERITIES)
    for context in CONTEXTS.values():
        assert {severity for _, severity in context.severity} <= set(domain.SEVERITIES)


def test_the_fields_that_carry_them_are_typed_with_them() -> None:
    def hint(cls: type, name: str) -> object:
        # The annotation as written (these modules postpone annotations), read with the domain's names.
        (field,) = [f for f in dataclasses.fields(cls) if f.name == name]
        return eval(field.type, {**vars(domain), "Literal": typing.Literal}) if isinstance(field.type, str) else field.type

    assert hint(Request, "mode") == hint(Result, "mode") == domain.Mode
    assert hint(Finding, "severity") == hint(Shown, "severity") == domain.Severity
    assert hint(Match, "severity") == domain.Severity | typing.Literal[""]
    assert hint(Finding, "context") == hint(Shown, "context") == domain.ContextName
    assert hint(Verification, "status") == domain.Status
