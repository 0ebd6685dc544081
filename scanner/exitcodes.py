"""The exit statuses, in one place: what a user's script, a CI job or a hook may rely on (the
outside contract's "Exit status"), and the signal-like ones a shell would show anyway."""
from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scanner.models import Result


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


def gate_status(result: Result) -> Exit:
    """1 with findings; else 2 when git could not read an object, or a gate skipped a file for its size (said on standard error, by
    name: a gate that passed a file unread would let a padded key through); else 0."""
    if result.unscanned:
        from scanner.console import say
        from scanner.report import display_path, printable

        count = result.stats.skipped_large
        named = ", ".join(printable(display_path(p)) for p in result.unscanned)
        named += ", …" if count > len(result.unscanned) else ""
        say(f"keysentry: {'warning' if result.findings else 'error'}: {count} file{'s' * (count != 1)} not scanned, "
            f"larger than --max-file-size: {named} (raise --max-file-size, or set max-file-size in the base's config)")
    # A scan that could not read everything is never clean (missing git objects, a skipped file).
    return found(bool(result.findings), complete=not result.unscanned and not result.stats.missing_objects)
