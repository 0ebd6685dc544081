"""The rule registry is the one place that knows a rule: its overlap priority and its advice are data."""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import scanner
from scanner.models import Finding, Result, Stats, fingerprint
from scanner.report import Options, present
from scanner.report.blocked import message
from scanner.rules import ALL_RULES, CONTENT_RULES, FILE_RULES, RULES_BY_ID, Rule
from scanner.rules.google import GOOGLE_API_KEY
from tests.conftest import google_key

REPORTS = Path(scanner.__file__).parent / "report"


def test_priorities_are_unique_and_follow_the_registry_order() -> None:
    priorities = [rule.priority for rule in CONTENT_RULES]
    assert len(set(priorities)) == len(priorities)
    assert priorities == sorted(priorities)


def test_every_specific_google_rule_beats_the_generic_one() -> None:
    generic = RULES_BY_ID["hardcoded-api-key"]
    assert isinstance(generic, Rule)
    for rule in CONTENT_RULES:
        if rule.id != generic.id:
            assert rule.priority < generic.priority, rule.id


def test_every_rule_says_how_to_rotate_what_it_finds() -> None:
    for rule in ALL_RULES:
        assert rule.rotate, rule.id
    assert all(rule.whole_file for rule in FILE_RULES)
    assert not any(rule.whole_file for rule in CONTENT_RULES)


def test_no_reporter_names_a_rule_id() -> None:
    """Rule-specific advice lives in the rule's data; a reporter that tests an id drifts from it."""
    ids = re.compile("|".join(re.escape(f'"{rule.id}"') + "|" + re.escape(f"'{rule.id}'") for rule in ALL_RULES))
    for source in REPORTS.glob("*.py"):
        assert not ids.search(source.read_text()), source.name


def test_the_blocked_message_takes_its_advice_from_the_rule() -> None:
    """A rule the reporters have never heard of: its own variable, rotation and fix are what is shown."""
    invented = dataclasses.replace(GOOGLE_API_KEY, id="invented-key", env_vars=("INVENTED_TOKEN",),
                                   rotate="burn it at the invented console")
    key = google_key()
    finding = Finding("invented-key", "app.py", 3, 9, key, fingerprint("invented-key", "app.py", key))
    view = present(Result("staged", (finding,), Stats(files=1)), Options(), rules={"invented-key": invented})
    flat = " ".join(message(view, Options()).split())
    assert 'os.environ["INVENTED_TOKEN"]' in flat
    assert "burn it at the invented console" in flat
    assert "GEMINI_API_KEY" not in flat

    fixed = dataclasses.replace(invented, fix="shred the key file")
    view = present(Result("staged", (finding,), Stats(files=1)), Options(), rules={"invented-key": fixed})
    flat = " ".join(message(view, Options()).split())
    assert "shred the key file" in flat and "INVENTED_TOKEN" not in flat


def test_rule_specific_dead_field_is_gone() -> None:
    assert "specific" not in {field.name for field in dataclasses.fields(Rule)}
