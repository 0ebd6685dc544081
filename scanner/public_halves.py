"""The public halves that `--verify` needs beside a secret, beyond a client secret's client id
(scanner.companion): the client id next to a refresh token (it is redeemed with its client's id
and secret), the account's e-mail and the key's id next to a service account's private key (whose
public certificate Google publishes), and the app a Firebase config's API key belongs to (for
`--verify-owner`'s restriction command).

None of these is a secret, so they may travel with the finding as its `companion`; they never
change a fingerprint or whether a finding is made. Each kind is found in one pass over a text
when first needed, then looked up for each secret by bisection, so many secrets in one text cost
one scan of it, not one per secret.
"""
from __future__ import annotations

import bisect

from scanner import lazyre

TOKEN_RULE = "google-oauth-token"
SERVICE_ACCOUNT_RULE = "gcp-service-account-key"
API_KEY_RULE = "google-api-key"
# The rules whose findings may have such a half (detect.py looks for one only for these).
RULES = frozenset({TOKEN_RULE, SERVICE_ACCOUNT_RULE, API_KEY_RULE})
# How far from the secret its half is looked for: a key file or a config keeps them a few lines apart.
WINDOW = 2000
_REFRESH_TOKEN = lazyre.compile(r"1//0[0-9A-Za-z_-]{38,}")
# A project number, a dash, 32 characters, Google's suffix; a match starts only where a run of digits does.
_CLIENT_ID = lazyre.compile(r"(?<![0-9])[0-9]{1,30}-[0-9a-z]{32}\.apps\.googleusercontent\.com")
# A key file's fields as JSON writes them (plain, or escaped inside another JSON string).
_CLIENT_EMAIL = lazyre.compile(r'client_email\\?"\s*:\s*\\?"([A-Za-z0-9._-]{1,100}@[A-Za-z0-9.-]{1,200}'
                           r'\.gserviceaccount\.com)\\?"')
_KEY_ID = lazyre.compile(r'private_key_id\\?"\s*:\s*\\?"([0-9a-f]{40})\\?"')
# google-services.json's package_name (Android), GoogleService-Info.plist's BUNDLE_ID (iOS).
_PACKAGE = lazyre.compile(r'"package_name"\s*:\s*"([A-Za-z][A-Za-z0-9_]{0,100}(?:\.[A-Za-z][A-Za-z0-9_]{0,100}){1,20})"')
_BUNDLE = lazyre.compile(r"<key>BUNDLE_ID</key>\s*<string>([A-Za-z0-9][A-Za-z0-9.-]{0,200})</string>")


class _Nearest:
    """Values found at spans of one text, the nearest to a secret looked up by bisection."""

    def __init__(self, found: list[tuple[int, int, str]]) -> None:
        self._found = sorted(found)
        self._starts = [s for s, _, _ in self._found]

    def nearest(self, start: int, end: int) -> str:
        """The value nearest to START:END within WINDOW characters, or ""."""
        best, best_distance = "", WINDOW + 1
        at = bisect.bisect_left(self._starts, start)
        for i in (at - 1, at):  # the one ending before the secret, or the one starting after it
            if 0 <= i < len(self._found):
                s, e, value = self._found[i]
                distance = start - e if e <= start else s - end if s >= end else 0
                if distance < best_distance:
                    best, best_distance = value, distance
        return best


class PublicHalves:
    """The public halves of one text, each kind found when first needed."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._client_ids: _Nearest | None = None
        self._apps: _Nearest | None = None

    def of(self, rule_id: str, secret: str, start: int, end: int) -> str:
        """The public half of RULE_ID's SECRET at START:END, or ""."""
        if rule_id in (TOKEN_RULE, SERVICE_ACCOUNT_RULE) and _REFRESH_TOKEN.fullmatch(secret):
            if self._client_ids is None:
                found = _CLIENT_ID.finditer(self._text) if ".apps.googleusercontent.com" in self._text else ()
                self._client_ids = _Nearest([(m.start(), m.end(), m.group()) for m in found])
            return self._client_ids.nearest(start, end)
        if rule_id == SERVICE_ACCOUNT_RULE and secret.startswith("-----BEGIN"):
            return self._key_file(start, end)
        if rule_id == API_KEY_RULE:
            if self._apps is None:
                apps: list[tuple[int, int, str]] = []
                if "package_name" in self._text or "BUNDLE_ID" in self._text:
                    for kind, pattern in (("android", _PACKAGE), ("ios", _BUNDLE)):
                        apps += [(m.start(), m.end(), f"{kind}:{m.group(1)}") for m in pattern.finditer(self._text)]
                self._apps = _Nearest(apps)
            return self._apps.nearest(start, end)
        return ""

    def _key_file(self, start: int, end: int) -> str:
        """`EMAIL KEY_ID` of the key file around START:END (its fields within WINDOW), or ""."""
        around = self._text[max(0, start - WINDOW):end + WINDOW]
        email, key_id = _CLIENT_EMAIL.findall(around), _KEY_ID.findall(around)
        # One key file: exactly one account and one key id in reach, else it is not clear which.
        if len(set(email)) == 1 and len(set(key_id)) == 1:
            return f"{email[0]} {key_id[0]}"
        return ""
