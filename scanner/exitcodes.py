"""The exit statuses, in one place: what a user's script, a CI job or a hook may rely on (the
outside contract's "Exit status"), and the signal-like ones a shell would show anyway."""
from __future__ import annotations

from enum import IntEnum


class Exit(IntEnum):
    CLEAN = 0  # nothing found (and everything could be read)
    FINDINGS = 1  # findings reported, and only that: never a crash
    ERROR = 2  # usage or runtime error, an incomplete scan without findings, an internal error
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)
    BROKEN_PIPE = 141  # the reader of our output went away (128 + SIGPIPE)
    TERMINATED = 143  # asked to stop by SIGTERM (128 + SIGTERM)


def found(anything: bool, complete: bool = True) -> Exit:
    """The status of a finished scan: findings are 1 whatever else happened (the report holds
    them); without findings, a scan that could not read everything is 2, never 0."""
    if anything:
        return Exit.FINDINGS
    return Exit.CLEAN if complete else Exit.ERROR
