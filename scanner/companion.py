"""The public half that sits next to a secret (scanner.rules.base.Companion), found once per text.

Google checks a client secret (`GOCSPX-…`) only together with its client id, an HMAC secret is
usable only with its access id, a Maps signing secret belongs to a `gme-` client id, and each pair
sits side by side wherever it is configured (client_secret.json, a .env pair, a boto config,
code). The companion is looked for in one pass over the text, then for each secret by bisection,
so many secrets in one text cost one scan of it, not one per secret.
"""
from __future__ import annotations

import bisect

from scanner.rules.base import Companion


class Companions:
    """The companions of one kind in one text, nearest first for each secret asked about."""

    def __init__(self, text: str, kind: Companion) -> None:
        found = [(m.start(), m.end(), m.group()) for m in kind.pattern.finditer(text)] if kind.marker in text else []
        self._starts = [s for s, _, _ in found]
        self._found = found
        self._window = kind.window

    def nearest(self, start: int, end: int) -> str:
        """The companion nearest to the span START:END within the window, or ""."""
        if not self._found:
            return ""
        best, best_distance = "", self._window + 1
        at = bisect.bisect_left(self._starts, start)
        # Companions do not overlap each other: the nearest one ends before the secret, starts
        # after it, or overlaps it; the two neighbours of START are the only candidates.
        for i in (at - 1, at):
            if 0 <= i < len(self._found):
                s, e, value = self._found[i]
                distance = start - e if e <= start else s - end if s >= end else 0
                if distance < best_distance:
                    best, best_distance = value, distance
        return best
