"""The registry: every rule keysentry knows, content rules in the order of their `priority` (which
settles overlaps: lower wins), then the whole-file rules."""
from __future__ import annotations

from scanner.rules.base import Rule
from scanner.rules.dotenv import DOTENV_FILE, FileRule
from scanner.rules.generic import HARDCODED_API_KEY
from scanner.rules.google import RULES as GOOGLE_RULES
from scanner.rules.policy import SUPPRESSION_CHANGE

CONTENT_RULES: tuple[Rule, ...] = (*GOOGLE_RULES, HARDCODED_API_KEY)
FILE_RULES: tuple[FileRule, ...] = (DOTENV_FILE,)
# suppression-change is judged on the policy (scanner.suppression), never by the engine.
ALL_RULES: tuple[Rule | FileRule, ...] = (*CONTENT_RULES, *FILE_RULES, SUPPRESSION_CHANGE)
RULES_BY_ID: dict[str, Rule | FileRule] = {rule.id: rule for rule in ALL_RULES}

__all__ = ["ALL_RULES", "CONTENT_RULES", "FILE_RULES", "RULES_BY_ID", "FileRule", "Rule"]
