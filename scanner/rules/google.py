"""The Google credential family: fixed formats that need no surrounding name to be recognised."""
from __future__ import annotations

import dataclasses
import re

from scanner import lazyre
from scanner.filters import bound_name, is_identifier, is_low_entropy, is_phrase, plausible_fixed_format
from scanner.rules.base import (
    AI_STUDIO, CREDENTIALS, KEY_CHARS, RESTRICT_KEY, Companion, Rule, binary_token, fixed_token,
)

ROTATE_API_KEY = (
    "Delete or rotate this key now in Google AI Studio (API keys) or the Cloud console "
    "(APIs & Services > Credentials): a key that was ever pushed is compromised even after it is removed "
    "from the tree. Read it from GEMINI_API_KEY / GOOGLE_API_KEY or a secret manager instead, and restrict "
    "the new key (API restrictions, plus HTTP referrer / IP / app restrictions)."
)


def _accept(value: str, quoted: bool) -> bool:
    return plausible_fixed_format(value)


def _both(pattern: str) -> tuple[tuple[re.Pattern[str], ...], tuple[re.Pattern[bytes], ...]]:
    return (lazyre.compile(pattern),), (lazyre.compile(pattern.encode()),)


def _token(prefix: str, body: str, edge: str = "") -> tuple[tuple[re.Pattern[str], ...], tuple[re.Pattern[bytes], ...]]:
    """A fixed format as text and as bytes of a compiled file (base.binary_token: one of fixed
    length ends at its length there)."""
    return (lazyre.compile(fixed_token(prefix, body, edge)),), (lazyre.compile(binary_token(prefix, body, edge).encode()),)


_api_key_text, _api_key_bin = _token("AIza", f"[{KEY_CHARS}]{{35}}")
_gemini_text, _gemini_bin = _token(r"AQ\.Ab", f"[{KEY_CHARS}]{{44,64}}")
_client_secret_text, _client_secret_bin = _token("GOCSPX-", f"[{KEY_CHARS}]{{28}}")
# A token start inside a longer base64 run (`+` and `/` are base64's, not the token's) is chance.
_BASE64_EDGE = r"+/"
_access_text, _access_bin = _token(r"ya29\.", rf"[{KEY_CHARS}]{{20,}}(?:\.[{KEY_CHARS}]+)*", _BASE64_EDGE)
_refresh_text, _refresh_bin = _token("1//0", f"[{KEY_CHARS}]{{38,}}", _BASE64_EDGE)

# A Google Chat incoming webhook: https://chat.googleapis.com/v1/spaces/SPACE/messages?key=…&token=….
# Its `key` is one public value that every Chat webhook URL carries (scanner/data/known_public.json
# lists it too); the secret is the `token`, 43 base64url characters (a 32-byte value) and its `=`.
_CHAT_HOST = "chat.googleapis.com/v1/spaces/"
_CHAT_PATH = r"chat\.googleapis\.com/v1/spaces/[A-Za-z0-9_-]{1,64}/messages\?"
# A query parameter's separator as HTML, JSON (\u0026) or plain text writes it.
_QUERY_AND = r"(?:&amp;|\\u0026|&)"
_CHAT_URL_TO_KEY = lazyre.compile(_CHAT_PATH + r"(?:[^\s\"'`<>#]{0,400}?" + _QUERY_AND + ")?key=")
_CHAT_TOKEN_NEXT = lazyre.compile(_QUERY_AND + "token=")


def in_chat_webhook(text: str, start: int, end: int) -> bool:
    """Is the `AIza` key at text[start:end] the `key` of a Chat webhook URL: after its space's
    path, or (the URL split across strings) right before its `&token=`?"""
    if not text.endswith("key=", 0, start):
        return False
    if _CHAT_TOKEN_NEXT.match(text, end):
        return True
    host = text.rfind(_CHAT_HOST, max(0, start - 500), start)
    return host >= 0 and _CHAT_URL_TO_KEY.fullmatch(text, host, start) is not None


def _not_in_chat_webhook(text: str, start: int, end: int) -> bool:
    return not in_chat_webhook(text, start, end)


GOOGLE_API_KEY = Rule(
    id="google-api-key",
    description="Google API key (Gemini, Maps, Firebase, Cloud)",
    level="error",
    remediation=ROTATE_API_KEY,
    keywords=(b"aiza",),
    patterns=_api_key_text,
    binary_patterns=_api_key_bin,
    accept=_accept,
    # The `key` of a Chat webhook URL is public: the webhook's secret is its token (google-chat-webhook).
    in_context=_not_in_chat_webhook,
    opens_with_keyword=True,
    priority=1,
    where=(AI_STUDIO, CREDENTIALS),
    restrict=RESTRICT_KEY,
    rotate="delete it in Google AI Studio (API keys) or the Cloud console (APIs & Services > Credentials) and "
           "create a new, restricted key",
)

GOOGLE_GEMINI_KEY = Rule(
    id="google-gemini-key",
    severity="critical",
    description="Gemini API authorization key (AQ. format)",
    level="error",
    remediation=(
        "Delete this key in Google AI Studio and create a new one; a key that was ever pushed is compromised. "
        "Read it from GEMINI_API_KEY / GOOGLE_API_KEY or a secret manager instead of the source."
    ),
    keywords=(b"aq.ab",),
    patterns=_gemini_text,
    binary_patterns=_gemini_bin,
    accept=_accept,
    opens_with_keyword=True,
    priority=2,
    where=(AI_STUDIO,),
    restrict=RESTRICT_KEY,
    rotate="delete it in Google AI Studio and create a new one",
)

# An OAuth client id: a project number, a dash, 32 characters, Google's suffix. Public (every OAuth
# URL carries it), and what Google checks a client secret with. The lookbehind lets a match start
# only where a run of digits starts, so a long run of digits costs one attempt, not one per digit.
CLIENT_ID = Companion(
    pattern=lazyre.compile(r"(?<![0-9])[0-9]{1,30}-[0-9a-z]{32}\.apps\.googleusercontent\.com"),
    marker=".apps.googleusercontent.com",
)

# The legacy client secret (before GOCSPX-, 2021): 24 base64url characters, named as a client
# secret. Many providers name 24-character values so; it is Google's beside a Google client id
# (client_secret.json always holds one) or under a Google name (GOOGLE_CLIENT_SECRET).
# One pattern per spelling of the name, each opening with it: the engine tries them only where
# one starts (`client` alone starts in every file that makes an API client).
_CLIENT_SECRET_NAMES = ("client_secret", "clientsecret", "client-secret", "client.secret")
_legacy_secrets = tuple(lazyre.compile(
    rf"(?i:{re.escape(name)})(?![\w-])(?:\\?[\"'`]\]?)?"
    r"(?:[ \t]{0,20}(?:=>|:=|==?|:|,|>)[ \t]{0,20}|[ \t]{1,20})(?:\{[ \t]{0,20})?(?:\\?[\"'`])?"
    r"(?P<secret>[A-Za-z0-9_-]{24})(?![A-Za-z0-9_-])") for name in _CLIENT_SECRET_NAMES)
_GOOGLE_NAMED = lazyre.compile(r"(?i:google|gcp|gcloud|firebase|youtube|gmail|gdrive|gsuite)[\w.$-]{0,40}"
                               r"(?i:client[_.-]?secret)")


def _accept_client_secret(value: str, quoted: bool) -> bool:
    """A GOCSPX- secret as any fixed format; a legacy one must also read as random, not as a name."""
    if value.startswith("GOCSPX-"):
        return plausible_fixed_format(value)
    return plausible_fixed_format(value) and not is_identifier(value) and not is_phrase(value) \
        and (any(c.isdigit() for c in value) or value.lower() != value != value.upper())


def _legacy_needs_client_id(text: str, start: int, end: int) -> bool:
    """A legacy secret is Google's only beside a client id, unless its own name says Google."""
    if text.startswith("GOCSPX-", start):
        return False
    line = text.rfind("\n", max(0, start - 200), start) + 1
    return _GOOGLE_NAMED.search(text, max(line, start - 200), start) is None


GOOGLE_OAUTH_CLIENT_SECRET = Rule(
    id="google-oauth-client-secret",
    description="Google OAuth client secret",
    level="error",
    remediation=(
        "Reset the client secret in the Cloud console (APIs & Services > Credentials > OAuth client) and "
        "load the new one from a secret manager or the environment; never ship it in client code."
    ),
    keywords=(b"gocspx-", *(name.encode() for name in _CLIENT_SECRET_NAMES)),
    patterns=(*_client_secret_text, *_legacy_secrets),
    binary_patterns=_client_secret_bin,
    accept=_accept_client_secret,
    opens_with_keyword=True,
    priority=3,
    companion=dataclasses.replace(CLIENT_ID, required=_legacy_needs_client_id),
    where=(CREDENTIALS,),
    restrict="Keep the new secret on the server; a client that cannot keep a secret uses PKCE.",
    rotate="reset the client secret in the Cloud console (APIs & Services > Credentials)",
    env_vars=("GOOGLE_CLIENT_SECRET",),
)

def _not_elided(text: str, start: int, end: int) -> bool:
    """A token that runs into an ellipsis (`ya29.a0AW…nj...`) is the start of one, shown and cut
    short in docs or a comment: a real one goes on."""
    return not (text.startswith("...", end) or text.startswith("\u2026", end))


GOOGLE_OAUTH_TOKEN = Rule(
    id="google-oauth-token",
    description="Google OAuth access or refresh token",
    level="error",
    remediation=(
        "Revoke the token (https://myaccount.google.com/permissions, or the OAuth revoke endpoint) and "
        "obtain tokens at run time through a credential library instead of storing them."
    ),
    keywords=(b"ya29.", b"1//0"),
    patterns=_access_text + _refresh_text,
    binary_patterns=_access_bin + _refresh_bin,
    accept=_accept,
    in_context=_not_elided,
    opens_with_keyword=True,
    priority=4,
    where=(("Google Account: third-party access", "https://myaccount.google.com/permissions"),),
    restrict="Request only the scopes the program needs.",
    rotate="revoke it (https://myaccount.google.com/permissions or the OAuth revoke endpoint)",
    fix="do not store tokens: obtain them at run time through a Google auth library",
)


_PEM_MARKER = lazyre.compile(r"-----(?:BEGIN|END) [A-Z ]*PRIVATE KEY-----")
# Line breaks as written in JSON (`\n`), in JSON inside a JSON string (`\\n`), or real ones.
_PEM_LAYOUT = lazyre.compile(r"\\+[nr]|\s")
_BASE64 = lazyre.compile(r"[A-Za-z0-9+/]+=*")


# What an OAuth refresh token is written in: base64url (Google's `1//0…`, the older `1/…`), or base64
# and the URL-safe marks an STS token may hold. `!`, `@`, `#`, `$`, `*`: a password's marks, typed.
_REFRESH_ALPHABET = lazyre.compile(r"[A-Za-z0-9_./+=~-]+")


def _is_random_token(value: str) -> bool:
    """A refresh token is random: in a token's alphabet; with a digit or both cases (20 random base64url
    characters lack both about once in ten million); not made of what people type: a name
    (`cached_refresh_token`), words joined by separators (`default-cached-token`), words run together
    (plausible_fixed_format's typed test)."""
    return _REFRESH_ALPHABET.fullmatch(value) is not None and plausible_fixed_format(value) \
        and not is_identifier(value) and not is_phrase(value) \
        and (any(c.isdigit() for c in value) or value.lower() != value != value.upper())


def _accept_service_account(value: str, quoted: bool) -> bool:
    """A private key needs a real base64 body; a refresh token must be a random token, not a stand-in."""
    if value.startswith("-----BEGIN"):
        body = _PEM_LAYOUT.sub("", _PEM_MARKER.sub("", value))
        return len(body) >= 100 and _BASE64.fullmatch(body) is not None and not is_low_entropy(body, 4.0)
    return len(value) >= 20 and _is_random_token(value)


# Where a credential's value opens: a JSON or dict string (plain or escaped quote), a TOML triple
# quote (Streamlit's secrets.toml), a YAML block scalar.
_OPEN = r"""\\?["']?[ \t]*[:=][ \t]*(?:\|[-+]?\s*|\"\"\"(?:\\?\n)?|'''\n?|\\?["'])"""
# A PEM key may also follow the operator bare: FIREBASE_PRIVATE_KEY=-----BEGIN… (its markers say
# where it starts; a bare refresh_token would be any name assigned to it).
_OPEN_PEM = _OPEN[:-1] + "|)"

# "RSA ", "EC ", "ENCRYPTED ": a few words, bounded so that a run of capitals costs one pass.
_KEY_KIND = r"[A-Z ]{0,40}"
# The body stops at the first dash, which must open the END marker: base64 and its line breaks
# (`\n` in JSON) hold none. Running on to the next quote instead made every `private_key: |` of a
# quote-less YAML file scan the rest of the file (quadratic). A real key is under 10 KB.
_PEM_BODY = r"[^\"'-]{20,16384}?"

GCP_SERVICE_ACCOUNT_KEY = Rule(
    id="gcp-service-account-key",
    severity="critical",
    description="Google Cloud service-account or authorized_user JSON credential",
    level="error",
    remediation=(
        "Delete this key in the Cloud console (IAM > Service accounts > Keys) or revoke the user's refresh "
        "token, then use Workload Identity Federation, an attached service account or Secret Manager "
        "instead of key files in the repository."
    ),
    keywords=(b"private_key", b"refresh_token"),
    patterns=(
        lazyre.compile(
            rf"(?i:private_key){_OPEN_PEM}"
            rf"(?P<secret>-----BEGIN {_KEY_KIND}PRIVATE KEY-----{_PEM_BODY}-----END {_KEY_KIND}PRIVATE KEY-----)"
        ),
        lazyre.compile(rf"refresh_token{_OPEN}(?P<secret>[^\"'\\\s]{{20,}})"),
    ),
    # A key file's markers, or a private key given to a Google variable or mapping outside its JSON:
    # GOOGLE_PRIVATE_KEY="-----BEGIN…", FIREBASE_PRIVATE_KEY=…, `private_key: |` under `gcp:`.
    requires=lazyre.compile(
        r"service_account|gserviceaccount\.com|authorized_user"
        r"|(?i:(?:google|gcp|gcloud|firebase)\w{0,40}private_key)"
        # Each line's indentation is all of its leading blanks (the text starts at a non-blank):
        # letting `[^\n]` take some of them made every indented line split many ways, and 20 such
        # lines under a `gcp:` without a private_key took hours to rule out.
        r"|(?i:(?:google|gcp|gcloud|firebase)[\w-]{0,40}:[ \t]*\r?\n(?:[ \t]+(?:[^ \t\n][^\n]{0,300})?\n){0,20}?"
        r"[ \t]+private_key[ \t]*:)"),
    accept=_accept_service_account,
    opens_with_keyword=True,
    # First: a key file's private key or refresh token is reported as the file's credential.
    priority=0,
    where=(("Cloud console: IAM > Service accounts", "https://console.cloud.google.com/iam-admin/serviceaccounts"),),
    restrict=("Prefer workload identity (no key file); else give the account only the roles it needs and "
              "set an expiry on its keys."),
    rotate="delete the key in the Cloud console (IAM > Service accounts > Keys), or revoke the user's refresh token",
    fix="remove the key file from the commit; point GOOGLE_APPLICATION_CREDENTIALS at a file outside the "
        "repository, or better, use an attached service account or Workload Identity Federation",
)

# The webhook's space and its public `key`, which a check of the token needs (a URL's part before
# the token; a URL split across strings keeps the key with the token, its space maybe out of reach).
CHAT_WEBHOOK_PLACE = Companion(
    pattern=lazyre.compile(r"(?:spaces/[A-Za-z0-9_-]{1,64}/messages\?(?:[^\s\"'`<>#]{0,400}?" + _QUERY_AND + ")?)?"
                           rf"key=AIza[{KEY_CHARS}]{{35}}(?={_QUERY_AND}(?:[^\s\"'`<>#]{{0,400}}?{_QUERY_AND})?token=)"),
    marker="key=AIza",
    window=600,
)

_chat_text, _chat_bin = _both(
    # The token as the query holds it, after the space's path and any other parameters ...
    _CHAT_PATH + r"(?:[^\s\"'`<>#]{0,400}?" + _QUERY_AND + r")?token=(?P<secret>[A-Za-z0-9_-]{40,48})(?![A-Za-z0-9_-])")
_chat_split_text, _chat_split_bin = _both(
    # ... or right after the public key, where the URL is split across two strings or lines.
    rf"key=AIza[{KEY_CHARS}]{{35}}{_QUERY_AND}token=(?P<secret>[A-Za-z0-9_-]{{40,48}})(?![A-Za-z0-9_-])")

GOOGLE_CHAT_WEBHOOK = Rule(
    id="google-chat-webhook",
    severity="medium",
    description="Google Chat incoming-webhook URL (its token)",
    level="error",
    remediation=(
        "Anyone holding this webhook URL can post messages into the Chat space under the webhook's name. Delete "
        "the webhook in the space (space name > Apps & integrations > Webhooks) and add a new one; keep its URL "
        "in a secret store or an environment variable (GOOGLE_CHAT_WEBHOOK_URL), never in the source. The `key` "
        "in the URL is public and the same in every Chat webhook: there is nothing to rotate there."
    ),
    keywords=(b"chat.googleapis.com/v1/spaces/", b"key=aiza"),
    patterns=_chat_text + _chat_split_text,
    binary_patterns=_chat_bin + _chat_split_bin,
    accept=_accept,
    opens_with_keyword=True,
    priority=5,
    companion=CHAT_WEBHOOK_PLACE,
    where=(("Google Chat: the space's Apps & integrations > Webhooks", "https://chat.google.com/"),
           ("Google Chat: incoming webhooks", "https://developers.google.com/workspace/chat/quickstart/webhooks")),
    restrict="Give each integration its own webhook, so that one leak is one webhook to delete.",
    rotate="delete the webhook in the Chat space (Apps & integrations > Webhooks) and add a new one",
    env_vars=("GOOGLE_CHAT_WEBHOOK_URL",),
    fix="move the whole webhook URL out of the code: read it from GOOGLE_CHAT_WEBHOOK_URL or a secret store",
)

# A legacy FCM server key: `AAAA` and 7 characters (a project's sender id, base64url), a colon,
# `APA91b` and 120-180 more. A device registration token shares the `:APA91b` but not the `AAAA`.
_fcm_text, _fcm_bin = _both(fixed_token("AAAA", rf"[{KEY_CHARS}]{{7}}:APA91b[{KEY_CHARS}]{{120,180}}"))

FIREBASE_CLOUD_MESSAGING_SERVER_KEY = Rule(
    id="firebase-cloud-messaging-server-key",
    description="Firebase Cloud Messaging legacy server key",
    level="error",
    remediation=(
        "Delete this server key in the Firebase console (Project settings > Cloud Messaging) or the Cloud console "
        "(APIs & Services > Credentials): whoever holds it can send push notifications to every install of the "
        "app. Send through the FCM HTTP v1 API instead, authorised by a service account at run time, never by a "
        "key in the app or the repository."
    ),
    keywords=(b":apa91b",),
    patterns=_fcm_text,
    binary_patterns=_fcm_bin,
    accept=_accept,
    # The distinctive part is in the middle: the pattern runs only around it.
    anchors=(lazyre.compile(r":apa91b"),),
    reach=(11, 190),
    priority=7,
    where=(("Firebase console: Project settings > Cloud Messaging",
            "https://console.firebase.google.com/project/_/settings/cloudmessaging"), CREDENTIALS),
    restrict="Migrate to the FCM HTTP v1 API: short-lived OAuth tokens from a service account, no long-lived key.",
    rotate="delete the server key in the Firebase console (Project settings > Cloud Messaging)",
    env_vars=("FCM_SERVER_KEY",),
    fix="never ship a server key in an app: send from a server through the FCM HTTP v1 API with a service account",
)

def _always(text: str, start: int, end: int) -> bool:
    return True


# A Cloud Storage HMAC key: an access id (`GOOG1E` + 55 for a service account, `GOOG` + 20 for a
# user account; upper-case letters and digits) and a 40-character base64 secret (30 bytes). The
# secret is the finding; alone it is any base64 run, so it counts only beside its access id, a
# few lines away in a boto, rclone or .env file.
HMAC_ACCESS_ID = Companion(
    pattern=lazyre.compile(r"(?<![A-Za-z0-9_])GOOG(?:[A-Z0-9]{57}|[A-Z0-9]{20})(?![A-Za-z0-9_])"),
    marker="GOOG",
    window=1000,
    required=_always,
)
_HEX = lazyre.compile(r"[0-9a-f]+|[0-9A-F]+")


def _accept_hmac_secret(value: str, quoted: bool) -> bool:
    """Random base64, not a digest in hex (a git sha is 40 characters too), nor words and paths."""
    return plausible_fixed_format(value) and not _HEX.fullmatch(value) and not is_identifier(value) \
        and not is_phrase(value) and value.lower() != value != value.upper()


GCS_HMAC_KEY = Rule(
    id="gcs-hmac-key",
    description="Google Cloud Storage HMAC key (access id and secret)",
    level="error",
    remediation=(
        "Deactivate, then delete this HMAC key in the Cloud console (Cloud Storage > Settings > Interoperability) "
        "or with `gcloud storage hmac update ACCESS_ID --deactivate` and `gcloud storage hmac delete ACCESS_ID`: "
        "it reads and writes every bucket its account can. Prefer a service account's OAuth credentials; where an "
        "S3-compatible client needs HMAC, read the secret from the environment or a secret manager."
    ),
    keywords=(b"goog",),
    patterns=(lazyre.compile(r"(?<![A-Za-z0-9+/])(?P<secret>[A-Za-z0-9+/]{40})(?![A-Za-z0-9+/=])"),),
    accept=_accept_hmac_secret,
    # Looked for only around an access id's shape; the companion step then asks for the exact one.
    anchors=(lazyre.compile(r"goog[0-9a-z]{20}"),),
    reach=(1000, 1100),
    priority=6,
    companion=HMAC_ACCESS_ID,
    where=(("Cloud Storage: Settings > Interoperability (HMAC keys)",
            "https://console.cloud.google.com/storage/settings;tab=interoperability"),),
    restrict="Create HMAC keys for a service account holding only the bucket roles it needs, never for a user.",
    rotate="deactivate and delete the HMAC key (Cloud Storage > Settings > Interoperability)",
    env_vars=("GCS_HMAC_SECRET", "AWS_SECRET_ACCESS_KEY"),
    fix="remove the secret from the code: read it from GCS_HMAC_SECRET (AWS_SECRET_ACCESS_KEY for S3-compatible "
        "clients) or a secret manager, or use a service account's OAuth credentials instead of HMAC",
)

# A reCAPTCHA key: `6L` and 38 characters, the site key and the secret key alike. The site key is
# public (every page with the widget carries it); the secret is told by the name it is bound to.
_recaptcha_text = (lazyre.compile(fixed_token("6L", f"[{KEY_CHARS}]{{38}}")),)


def _recaptcha_secret_named(text: str, start: int, end: int) -> bool:
    """Bound to a secret's name (RECAPTCHA_SECRET_KEY, private_key, `?secret=`, recaptchaSecret), or
    given to the PHP library's constructor (`new ReCaptcha('…')`), which takes the secret."""
    name, op = bound_name(text, start)
    lowered = name.lower()
    return "secret" in lowered or "private" in lowered or (op == "(" and lowered.endswith("recaptcha"))


RECAPTCHA_SECRET_KEY = Rule(
    id="recaptcha-secret-key",
    severity="medium",
    description="reCAPTCHA secret key",
    level="error",
    remediation=(
        "Whoever holds this secret key can call siteverify as your site (and spend its quota). Create a new key "
        "in the reCAPTCHA admin console (or Cloud console > Security > reCAPTCHA for a migrated key), deploy it, "
        "then delete the old one; keep the secret on the server, read from RECAPTCHA_SECRET_KEY or a secret "
        "manager. The site key next to it is public and needs nothing."
    ),
    keywords=(b"6l",),
    patterns=_recaptcha_text,
    accept=_accept,
    in_context=_recaptcha_secret_named,
    opens_with_keyword=True,
    priority=8,
    where=(("reCAPTCHA admin console", "https://www.google.com/recaptcha/admin"),
           ("Cloud console: Security > reCAPTCHA", "https://console.cloud.google.com/security/recaptcha")),
    restrict="Limit the new key to your own domains in its settings.",
    rotate="create a new key in the reCAPTCHA admin console, deploy it, and delete the old one",
    env_vars=("RECAPTCHA_SECRET_KEY",),
    fix="keep the secret key on the server: read it from RECAPTCHA_SECRET_KEY or a secret manager",
)

# A Maps Platform URL-signing secret (the premium plan's "crypto key" too): 20 bytes in base64url,
# 28 characters ending in `=`. Any SHA-1 digest has that shape, so only its name or its client id
# (`gme-…`) makes one a signing secret; a `signature=` value is the signature it made, not it.
_maps_secret_text = (lazyre.compile(r"(?<![A-Za-z0-9_+/-])(?P<secret>[A-Za-z0-9_-]{27}=)(?![A-Za-z0-9_+/=-])"),)
_MAPS_CLIENT_ID = Companion(
    pattern=lazyre.compile(r"(?<![\w-])gme-[A-Za-z0-9_-]{1,64}"),
    marker="gme-",
    window=1000,
)
# A signing secret's own name (URL_SIGNING_SECRET, urlSigningSecret, crypto_key, MAPS_PRIVATE_KEY) or
# a signing helper's (signUrl, sign_url, UrlSigner) it is passed to. The rule's anchors and keywords
# are these words, `gme-` and `signature=`, so that it runs only near one of them.
_SIGNING_WORDS = r"signing|sign_?url|url_?sign|signer|crypto|maps[\w.$-]{0,30}(?:secret|private)"
_SIGNING_NAME = lazyre.compile(_SIGNING_WORDS, re.IGNORECASE)
_SIGNATURE_NAME = lazyre.compile(r"^(?:[\w.$-]*[_.-])?sig(?:nature)?s?$", re.IGNORECASE)
_SECRET_NAME = lazyre.compile(r"secret|private|key", re.IGNORECASE)
_SIGNING_CALL = lazyre.compile(r"(?:sign_?url|url_?sign|signer)[\w.]{0,30}\(", re.IGNORECASE)


def _maps_name(text: str, start: int) -> str:
    """How the value is named: "signing" (its own name, or a signing call's argument), "secret" (a
    generic secret's name: a `gme-` client id must stand near), "" (anything else, a signature too)."""
    name, op = bound_name(text, start)
    if name and _SIGNATURE_NAME.match(name):
        return ""
    if _SIGNING_NAME.search(name):
        return "signing"
    line = text.rfind("\n", max(0, start - 200), start) + 1
    if op in (",", "(") and _SIGNING_CALL.search(text, max(line, start - 200), start):
        return "signing"
    return "secret" if _SECRET_NAME.search(name) else ""


def _maps_signing_named(text: str, start: int, end: int) -> bool:
    return _maps_name(text, start) != ""


def _maps_needs_client_id(text: str, start: int, end: int) -> bool:
    """A generic secret's name needs a `gme-` client id nearby, or signed URLs (`signature=`) being made."""
    return _maps_name(text, start) != "signing" and text.find("signature=", max(0, start - 1000), end + 1000) < 0


GOOGLE_MAPS_SIGNING_SECRET = Rule(
    id="google-maps-signing-secret",
    description="Google Maps Platform URL-signing secret",
    level="error",
    remediation=(
        "Whoever holds this secret can sign Maps requests billed to your project or client id. Regenerate it "
        "in the Cloud console (Google Maps Platform > Credentials > URL signing secret) and sign URLs on a "
        "server, reading the secret from GOOGLE_MAPS_URL_SIGNING_SECRET or a secret manager; never in a page "
        "or an app."
    ),
    keywords=(b"signing", b"signurl", b"sign_url", b"urlsign", b"url_sign", b"signer", b"crypto", b"maps", b"gme-",
              b"signature="),
    patterns=_maps_secret_text,
    accept=_accept,
    in_context=_maps_signing_named,
    # Looked for near its name, its client id or signed URLs; the judges then ask which.
    # (Literals and alternatives of them: each starts a match at most once, as both engines see it.)
    anchors=(lazyre.compile(r"signing|sign_?url|url_?sign|signer|crypto|maps|gme-|signature="),),
    reach=(1100, 1100),
    priority=9,
    companion=dataclasses.replace(_MAPS_CLIENT_ID, required=_maps_needs_client_id),
    where=(("Cloud console: Google Maps Platform > Credentials (URL signing secret)",
            "https://console.cloud.google.com/google/maps-apis/credentials"),),
    restrict="Sign on a server only, and require signed requests for the APIs that accept them.",
    rotate="regenerate the URL signing secret in the Cloud console (Google Maps Platform > Credentials)",
    env_vars=("GOOGLE_MAPS_URL_SIGNING_SECRET",),
    fix="sign URLs on a server: read the secret from GOOGLE_MAPS_URL_SIGNING_SECRET or a secret manager",
)

RULES = (GCP_SERVICE_ACCOUNT_KEY, GOOGLE_API_KEY, GOOGLE_GEMINI_KEY, GOOGLE_OAUTH_CLIENT_SECRET, GOOGLE_OAUTH_TOKEN,
         GOOGLE_CHAT_WEBHOOK, GCS_HMAC_KEY, FIREBASE_CLOUD_MESSAGING_SERVER_KEY, RECAPTCHA_SECRET_KEY,
         GOOGLE_MAPS_SIGNING_SECRET)
