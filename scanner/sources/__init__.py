"""Sources yield content with its provenance; only they talk to git or the filesystem.

REGISTRY names each source module and the modes it applies to. A module offers
`sources(scope: scanner.sources.base.Scope) -> list[Source]`; the scan loop (scanner.scan) takes
every source of the request's mode from here, so a new place to scan is one module and one line
below, never a branch in the loop. Modules are imported only for a mode that needs them (a
commit hook never loads the history's)."""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from scanner.domain import Mode

if TYPE_CHECKING:
    from scanner.sources.base import Scope, Source

REGISTRY: tuple[tuple[str, frozenset[Mode]], ...] = (
    ("scanner.sources.stdin", frozenset({"stdin"})),
    ("scanner.sources.worktree", frozenset({"worktree"})),
    ("scanner.sources.staged", frozenset({"staged"})),
    ("scanner.sources.history", frozenset({"history", "range"})),
    ("scanner.sources.messages", frozenset({"history", "range"})),
    ("scanner.sources.notes", frozenset({"history", "range"})),
)


def for_scope(scope: "Scope") -> list["Source"]:
    """Every source of the scope's mode, in the registry's order."""
    found: list[Source] = []
    for name, modes in REGISTRY:
        if scope.request.mode in modes:
            found.extend(importlib.import_module(name).sources(scope))
    return found
