"""The closed sets of words the outside contract gives fields (CONTRACT.md), as types: a misspelt
mode, severity, verification status or context is a type error, not a silent mismatch. The
tuples are the same words at run time (argparse choices, validation, tests)."""
from __future__ import annotations

from typing import Literal, get_args

Mode = Literal["worktree", "history", "staged", "range", "stdin"]
Severity = Literal["critical", "high", "medium", "low"]
Status = Literal["live", "restricted", "no-gemini-access", "reported-leaked", "invalid", "unknown"]
ContextName = Literal["gemini-client", "firebase-config", "maps-javascript", "android-resource", "ios-plist",
                      "service-config", "notebook-output", "test-fixture", "docs", "generic"]
# Where a finding sits: a file (of a tree, the index or the disk), or git metadata (scanner.sources.messages).
Place = Literal["file", "commit-message", "tag-message", "note"]

MODES: tuple[Mode, ...] = get_args(Mode)
SEVERITIES: tuple[Severity, ...] = get_args(Severity)  # most urgent first
STATUSES: tuple[Status, ...] = get_args(Status)
CONTEXT_NAMES: tuple[ContextName, ...] = get_args(ContextName)
