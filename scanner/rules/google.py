"""The Google credential family: fixed formats that need no surrounding name to be recognised."""
from __future__ import annotations

import re

from scanner.filters import plausible_fixed_format
from scanner.rules.base import KEY_CHARS, TOKEN_END, TOKEN_START, Rule

ROTATE_API_KEY = (
    "Delete or rotate this key now in Google AI Studio (API keys) or the Cloud console "
    "(APIs & Services > Credentials): a key that was ever pushed is compromised even after it is removed "
    "from the tree. Read it from GEMINI_API_KEY / GOOGLE_API_KEY or a secret manager instead, and restrict "
    "the new key (API restrictions, plus HTTP referrer / IP / app restrictions)."
)


def _accept(value: str, quoted: bool) -> bool:
    return plausible_fixed_format(value)


def _both(pattern: str) -> tuple[tuple[re.Pattern[str], ...], tuple[re.Pattern[bytes], ...]]:
    return (re.compile(pattern),), (re.compile(pattern.encode()),)


_api_key_text, _api_key_bin = _both(rf"{TOKEN_START}(?P<secret>AIza[{KEY_CHARS}]{{35}}){TOKEN_END}")
_gemini_text, _gemini_bin = _both(rf"{TOKEN_START}(?P<secret>AQ\.Ab[{KEY_CHARS}]{{44,64}}){TOKEN_END}")
_client_secret_text, _client_secret_bin = _both(rf"{TOKEN_START}(?P<secret>GOCSPX-[{KEY_CHARS}]{{28}}){TOKEN_END}")
_token_text, _token_bin = _both(
    rf"{TOKEN_START}(?P<secret>ya29\.[{KEY_CHARS}]{{20,}}(?:\.[{KEY_CHARS}]+)*|1//0[{KEY_CHARS}]{{38,}}){TOKEN_END}"
)

GOOGLE_API_KEY = Rule(
    id="google-api-key",
    description="Google API key (Gemini, Maps, Firebase, Cloud)",
    severity="error",
    remediation=ROTATE_API_KEY,
    keywords=(b"aiza",),
    patterns=_api_key_text,
    binary_patterns=_api_key_bin,
    accept=_accept,
)

GOOGLE_GEMINI_KEY = Rule(
    id="google-gemini-key",
    description="Gemini API authorization key (AQ. format)",
    severity="error",
    remediation=(
        "Delete this key in Google AI Studio and create a new one; a key that was ever pushed is compromised. "
        "Read it from GEMINI_API_KEY / GOOGLE_API_KEY or a secret manager instead of the source."
    ),
    keywords=(b"aq.ab",),
    patterns=_gemini_text,
    binary_patterns=_gemini_bin,
    accept=_accept,
)

GOOGLE_OAUTH_CLIENT_SECRET = Rule(
    id="google-oauth-client-secret",
    description="Google OAuth client secret",
    severity="error",
    remediation=(
        "Reset the client secret in the Cloud console (APIs & Services > Credentials > OAuth client) and "
        "load the new one from a secret manager or the environment; never ship it in client code."
    ),
    keywords=(b"gocspx-",),
    patterns=_client_secret_text,
    binary_patterns=_client_secret_bin,
    accept=_accept,
)

GOOGLE_OAUTH_TOKEN = Rule(
    id="google-oauth-token",
    description="Google OAuth access or refresh token",
    severity="error",
    remediation=(
        "Revoke the token (https://myaccount.google.com/permissions, or the OAuth revoke endpoint) and "
        "obtain tokens at run time through a credential library instead of storing them."
    ),
    keywords=(b"ya29.", b"1//0"),
    patterns=_token_text,
    binary_patterns=_token_bin,
    accept=_accept,
)


def _accept_service_account(value: str, quoted: bool) -> bool:
    return len(value) >= 20 and "..." not in value and "your" not in value.lower()


GCP_SERVICE_ACCOUNT_KEY = Rule(
    id="gcp-service-account-key",
    description="Google Cloud service-account or authorized_user JSON credential",
    severity="error",
    remediation=(
        "Delete this key in the Cloud console (IAM > Service accounts > Keys) or revoke the user's refresh "
        "token, then use Workload Identity Federation, an attached service account or Secret Manager "
        "instead of key files in the repository."
    ),
    keywords=(b"private_key", b"refresh_token"),
    patterns=(
        re.compile(
            r'\\?"private_key\\?"\s*:\s*\\?"(?P<secret>-----BEGIN [A-Z ]*PRIVATE KEY-----[^"]{20,}?'
            r'-----END [A-Z ]*PRIVATE KEY-----)'
        ),
        re.compile(r'\\?"refresh_token\\?"\s*:\s*\\?"(?P<secret>[^"\\\s]{20,})'),
    ),
    requires=re.compile(r"service_account|gserviceaccount\.com|authorized_user"),
    accept=_accept_service_account,
)

RULES = (GCP_SERVICE_ACCOUNT_KEY, GOOGLE_API_KEY, GOOGLE_GEMINI_KEY, GOOGLE_OAUTH_CLIENT_SECRET, GOOGLE_OAUTH_TOKEN)
