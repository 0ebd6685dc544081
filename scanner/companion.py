"""The public half that a secret needs to be checked: the OAuth client id next to a client secret.

Google checks a client secret (`GOCSPX-…`) only together with its client id, and both sit side by
side wherever a client is configured (client_secret.json, a .env pair, code). The client id is
not a secret (every OAuth URL carries it), so it may travel with the finding and be shown; it never
changes a fingerprint or whether a finding is made.
"""
from __future__ import annotations

import bisect
import re

CLIENT_SECRET_RULE = "google-oauth-client-secret"
# A project number, a dash, 32 characters, Google's suffix. The lookbehind lets a match start only
# where a run of digits starts, so a long run of digits costs one attempt, not one per digit.
_CLIENT_ID = re.compile(r"(?<![0-9])[0-9]{1,30}-[0-9a-z]{32}\.apps\.googleusercontent\.com")
_SUFFIX = ".apps.googleusercontent.com"
# How far from the secret its client id is looked for: a client_secret.json or a .env file keeps
# them a line or a few keys apart; much farther, it is more likely some other client's.
WINDOW = 2000


class ClientIds:
    """The client ids of one text, found in one pass, then looked up for each secret (so many
    secrets in one text cost one scan of it, not one per secret)."""

    def __init__(self, text: str) -> None:
        found = [(m.start(), m.end(), m.group()) for m in _CLIENT_ID.finditer(text)] if _SUFFIX in text else []
        self._starts = [s for s, _, _ in found]
        self._found = found

    def nearest(self, start: int, end: int) -> str:
        """The client id nearest to the span START:END within WINDOW characters, or ""."""
        if not self._found:
            return ""
        best, best_distance = "", WINDOW + 1
        at = bisect.bisect_left(self._starts, start)
        # The nearest one ends before the secret, starts after it, or (never, for a secret that
        # holds no dot) overlaps it: the two neighbours of START are the only candidates.
        for i in (at - 1, at):
            if 0 <= i < len(self._found):
                s, e, value = self._found[i]
                distance = start - e if e <= start else s - end if s >= end else 0
                if distance < best_distance:
                    best, best_distance = value, distance
        return best
