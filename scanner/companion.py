"""The public half that a secret needs to be checked: the OAuth client id next to a client secret
or a refresh token; the account's e-mail and the key's id next to a service account's private key.

Google checks a client secret (`GOCSPX-…`) only together with its client id, and both sit side by
side wherever a client is configured (client_secret.json, a .env pair, code); a refresh token is
redeemed with its client's id and secret (authorized_user JSON, code). A service-account key file
names its account (`client_email`) and the key (`private_key_id`), whose public certificate Google
publishes. None of these is a secret (every OAuth URL carries a client id), so they may travel with
the finding; they never change a fingerprint or whether a finding is made.
"""
from __future__ import annotations

import bisect
import re

CLIENT_SECRET_RULE = "google-oauth-client-secret"
TOKEN_RULE = "google-oauth-token"
SERVICE_ACCOUNT_RULE = "gcp-service-account-key"
API_KEY_RULE = "google-api-key"
# The rules whose findings may have a companion (detect.py looks for one only for these).
RULES = frozenset({CLIENT_SECRET_RULE, TOKEN_RULE, SERVICE_ACCOUNT_RULE, API_KEY_RULE})
# The app an API key of a Firebase config file belongs to, for `--verify-owner`'s restriction
# command: google-services.json's package_name (Android), GoogleService-Info.plist's BUNDLE_ID (iOS).
_PACKAGE = re.compile(r'"package_name"\s*:\s*"([A-Za-z][A-Za-z0-9_]{0,100}(?:\.[A-Za-z][A-Za-z0-9_]{0,100}){1,20})"')
_BUNDLE = re.compile(r"<key>BUNDLE_ID</key>\s*<string>([A-Za-z0-9][A-Za-z0-9.-]{0,200})</string>")
_REFRESH_TOKEN = re.compile(r"1//0[0-9A-Za-z_-]{38,}")
# A key file's fields as JSON writes them (plain, or escaped inside another JSON string).
_CLIENT_EMAIL = re.compile(r'client_email\\?"\s*:\s*\\?"([A-Za-z0-9._-]{1,100}@[A-Za-z0-9.-]{1,200}'
                           r'\.gserviceaccount\.com)\\?"')
_KEY_ID = re.compile(r'private_key_id\\?"\s*:\s*\\?"([0-9a-f]{40})\\?"')
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


class Companions:
    """The public halves in one text, each kind found in one pass when first needed."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._client_ids: ClientIds | None = None
        self._apps: list[tuple[int, int, str]] | None = None  # (start, end, "android:…" | "ios:…"), found once

    def client_ids(self) -> ClientIds:
        if self._client_ids is None:
            self._client_ids = ClientIds(self._text)
        return self._client_ids

    def of(self, rule_id: str, secret: str, start: int, end: int) -> str:
        """The companion of RULE_ID's SECRET at START:END, or ""."""
        if rule_id == CLIENT_SECRET_RULE or (_REFRESH_TOKEN.fullmatch(secret) and rule_id in RULES):
            return self.client_ids().nearest(start, end)
        if rule_id == SERVICE_ACCOUNT_RULE and secret.startswith("-----BEGIN"):
            return self._key_file(start, end)
        if rule_id == API_KEY_RULE:
            return self._app(start, end)
        return ""

    def _app(self, start: int, end: int) -> str:
        """`android:PACKAGE` or `ios:BUNDLE_ID` of the Firebase config around START:END, or ""."""
        if self._apps is None:
            found: list[tuple[int, int, str]] = []
            if "package_name" in self._text or "BUNDLE_ID" in self._text:
                for kind, pattern in (("android", _PACKAGE), ("ios", _BUNDLE)):
                    found += [(m.start(), m.end(), f"{kind}:{m.group(1)}") for m in pattern.finditer(self._text)]
            self._apps = sorted(found)
        at = bisect.bisect_left(self._apps, (start,))
        best, distance = "", WINDOW + 1
        for i in (at - 1, at):  # the app named just before the key, or just after it
            if 0 <= i < len(self._apps):
                s, e, value = self._apps[i]
                d = start - e if e <= start else s - end if s >= end else 0
                if d < distance:
                    best, distance = value, d
        return best

    def _key_file(self, start: int, end: int) -> str:
        """`EMAIL KEY_ID` of the key file around START:END (its fields within WINDOW), or ""."""
        around = self._text[max(0, start - WINDOW):end + WINDOW]
        email, key_id = _CLIENT_EMAIL.findall(around), _KEY_ID.findall(around)
        # One key file: exactly one account and one key id in reach, else it is not clear which.
        if len(set(email)) == 1 and len(set(key_id)) == 1:
            return f"{email[0]} {key_id[0]}"
        return ""
