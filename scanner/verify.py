"""Opt-in live verification (`--verify`): ask Google, once per distinct secret, whether a key or
token that the scan found still works and what it can reach (contract: "Verification").

Only Google's documented hosts are asked, over HTTPS, the secret in a header or a form body and
never in a URL (URLs end up in proxy and server logs). `KEYSENTRY_VERIFY_ENDPOINT` replaces the
hosts with one base URL, for tests against a local server; plain http is allowed only then.
Whatever the network or the server does (a timeout, a dropped connection, a 50 MB or invalid
body, a redirect) the answer is `unknown`, never an error: the scan's findings stand either way.

The caller passes only the findings it reports, so a finding suppressed by a baseline, a pragma
or an `allow` entry is never sent: a user's decision to accept a key is no reason to send it out.
"""
from __future__ import annotations

import dataclasses
import http.client
import json
import re
import ssl
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from scanner import __version__
from scanner.domain import Status
from scanner.errors import UsageError
from scanner.models import Finding, Result, Verification

ENDPOINT_VARIABLE = "KEYSENTRY_VERIFY_ENDPOINT"
DEFAULT_TIMEOUT = 10.0
# Bounded so that a scan with 2,000 distinct keys neither floods Google (which answers 429) nor
# opens 2,000 sockets; 8 in flight verify 200 keys in well under a second on a fast link.
WORKERS = 8
# The model list is ~50 KB; anything much larger is not Google answering.
MAX_BODY = 1 << 20
RETRIES_ON_429 = 3
BACKOFF = 0.5  # seconds before the first retry, doubled each time
MAX_BACKOFF = 4.0  # and never longer, whatever Retry-After asks
# Network failures in a row at one host after which the keys still waiting are not tried: offline,
# or behind a firewall that drops packets, 200 keys would otherwise wait 200 timeouts / WORKERS.
GIVE_UP_AFTER = 3

# The contract's verification statuses (scanner.domain.Status), typed so that a misspelt one is an error.
LIVE: Status = "live"
RESTRICTED: Status = "restricted"
NO_GEMINI: Status = "no-gemini-access"
INVALID: Status = "invalid"
UNKNOWN: Status = "unknown"


@dataclass(frozen=True)
class Endpoint:
    """One Google API method: its documented host and path."""

    base: str
    path: str


GEMINI_MODELS = Endpoint("https://generativelanguage.googleapis.com", "/v1beta/models")
# Identity Toolkit's public project config: answers any live key of a project with the API
# enabled (every Firebase project), so it tells a live key from a dead one when Gemini is closed.
IDENTITY_CONFIG = Endpoint("https://identitytoolkit.googleapis.com", "/v1/projects")
TOKEN_INFO = Endpoint("https://oauth2.googleapis.com", "/tokeninfo")
# The token endpoint, asked to exchange a code that cannot be one: it authenticates the client
# (id and secret) before it looks at the code, so `invalid_grant` means the secret was accepted.
TOKEN = Endpoint("https://oauth2.googleapis.com", "/token")
_NOT_A_CODE = "keysentry-verify-not-a-code"
# Never visited: nothing is granted, and a loopback address is one every client type may name.
_HARMLESS_REDIRECT = "http://127.0.0.1"

# google.rpc.ErrorInfo reasons (HTTP 403) that mean the key exists but a restriction refused us.
RESTRICTIONS = {
    "API_KEY_HTTP_REFERRER_BLOCKED": "restricted to certain websites (HTTP referrers)",
    "API_KEY_IP_ADDRESS_BLOCKED": "restricted to certain IP addresses",
    "API_KEY_ANDROID_APP_BLOCKED": "restricted to certain Android apps",
    "API_KEY_IOS_APP_BLOCKED": "restricted to certain iOS apps",
}
# ... and those (HTTP 403) that mean the Generative Language API is closed to it.
NO_GEMINI_REASONS = {
    "API_KEY_SERVICE_BLOCKED": "the key's API restrictions leave out the Generative Language API",
    "SERVICE_DISABLED": "the Generative Language API is not enabled in the key's project",
}
_ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
# What a value from the server must look like to be repeated in a reason: a hostile server's
# text never reaches a report verbatim.
_REASON_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
_CONSUMER = re.compile(r"projects/[0-9]{1,20}")
_SCOPE = re.compile(r"[A-Za-z0-9:/._-]{1,200}")
# Scopes under which an access token can call the Gemini API.
_GEMINI_SCOPES = ("https://www.googleapis.com/auth/cloud-platform",
                  "https://www.googleapis.com/auth/generative-language")

_API_KEY = re.compile(r"AIza[0-9A-Za-z_-]{35}|AQ\.Ab[0-9A-Za-z_-]{44,64}")
_ACCESS_TOKEN = re.compile(r"ya29\.[0-9A-Za-z_.-]{20,4096}")
_REFRESH_TOKEN = re.compile(r"1//0[0-9A-Za-z_-]{38,}")
_CLIENT_SECRET = re.compile(r"GOCSPX-[0-9A-Za-z_-]{28}")
_CLIENT_ID = re.compile(r"[0-9]{1,30}-[0-9a-z]{32}\.apps\.googleusercontent\.com")


@dataclass(frozen=True)
class Reply:
    """What one HTTP exchange gave: a status and parsed JSON, or why there is none."""

    status: int  # 0 when no HTTP exchange completed (a network failure, a body over the cap)
    body: object = None
    problem: str | None = None  # set when nothing usable came back


class Client:
    """Sends one request at a time per thread to an endpoint, never following a redirect (it
    would carry the key's header to wherever the redirect points)."""

    def __init__(self, timeout: float, base: str | None = None) -> None:
        self.timeout = timeout
        self.base = base
        self._context = ssl.create_default_context()
        self._lock = threading.Lock()
        self._failures: dict[str, int] = {}  # host -> network failures in a row

    def call(self, endpoint: Endpoint, headers: Mapping[str, str], form: Mapping[str, str] | None = None) -> Reply:
        """GET (or POST FORM) ENDPOINT, retrying a bounded number of times on 429."""
        delay = BACKOFF
        host = urlsplit(self.base or endpoint.base).netloc
        for attempt in range(RETRIES_ON_429 + 1):
            with self._lock:
                if self._failures.get(host, 0) >= GIVE_UP_AFTER:
                    return Reply(0, problem=f"not tried: {GIVE_UP_AFTER} requests to {host} in a row failed")
            reply, retry_after = self._once(endpoint, headers, form)
            with self._lock:
                self._failures[host] = self._failures.get(host, 0) + 1 if reply.status == 0 else 0
            if reply.status != 429:
                return reply
            if attempt == RETRIES_ON_429:
                return Reply(429, problem=f"still rate-limited (HTTP 429) after {RETRIES_ON_429} retries")
            time.sleep(min(retry_after if retry_after is not None else delay, MAX_BACKOFF))
            delay *= 2
        raise AssertionError("unreachable")

    def _once(self, endpoint: Endpoint, headers: Mapping[str, str],
              form: Mapping[str, str] | None) -> tuple[Reply, float | None]:
        parts = urlsplit(self.base or endpoint.base)
        host = parts.hostname or ""
        connection: http.client.HTTPConnection
        if parts.scheme == "https":
            connection = http.client.HTTPSConnection(host, parts.port, timeout=self.timeout, context=self._context)
        else:
            connection = http.client.HTTPConnection(host, parts.port, timeout=self.timeout)
        sent = {"User-Agent": f"keysentry/{__version__} (--verify)", "Accept": "application/json", **headers}
        body = None
        if form is not None:
            body = urlencode(form).encode("ascii")
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        deadline = time.monotonic() + self.timeout
        try:
            connection.request("POST" if form is not None else "GET", parts.path.rstrip("/") + endpoint.path,
                               body=body, headers=sent)
            response = connection.getresponse()
            data = _read_capped(response, deadline)
            retry_after = _seconds(response.getheader("Retry-After"))
        except TimeoutError:
            return Reply(0, problem=f"no answer within {self.timeout:g} s"), None
        except _TooLarge:
            return Reply(0, problem=f"the answer was larger than {MAX_BODY // 1024} KB"), None
        except (OSError, http.client.HTTPException) as exc:
            return Reply(0, problem=f"network error: {_describe(exc)}"), None
        finally:
            connection.close()
        if response.status == 429:
            return Reply(429), retry_after
        try:
            parsed: object = json.loads(data.decode("utf-8"))
        except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
            return Reply(response.status, problem=f"HTTP {response.status} with a body that is not JSON"), None
        return Reply(response.status, parsed), None


class _TooLarge(Exception):
    pass


def _read_capped(response: http.client.HTTPResponse, deadline: float) -> bytes:
    """The body, at most MAX_BODY bytes, within the deadline: a server trickling one byte a
    second would otherwise restart the socket timeout forever."""
    chunks: list[bytes] = []
    size = 0
    while True:
        if time.monotonic() > deadline:
            raise TimeoutError
        chunk = response.read1(64 * 1024)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_BODY:
            raise _TooLarge
        chunks.append(chunk)


def _seconds(header: str | None) -> float | None:
    if header is None or not header.strip().isdigit():
        return None  # the HTTP-date form is rare for 429; the backoff then applies
    return float(header.strip())


def _describe(exc: BaseException) -> str:
    text = type(exc).__name__
    detail = getattr(exc, "strerror", None) or getattr(exc, "reason", None)
    return f"{text} ({detail})" if isinstance(detail, str) and detail else text


def endpoint_override(environ: Mapping[str, str]) -> str | None:
    """KEYSENTRY_VERIFY_ENDPOINT as a base URL, checked before anything is sent."""
    value = environ.get(ENDPOINT_VARIABLE)
    if not value:
        return None
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname \
            or parts.query or parts.fragment or parts.username or parts.password:
        raise UsageError(f"{ENDPOINT_VARIABLE} must be a base URL such as https://host:port, not {value!r}")
    return value


# --- what each kind of secret is asked --------------------------------------------------------

def _error_reasons(body: object) -> list[str]:
    """The reasons of the google.rpc.ErrorInfo details: what Google means, unlike its message text."""
    error = body.get("error") if isinstance(body, dict) else None
    details = error.get("details") if isinstance(error, dict) else None
    if not isinstance(details, list):
        return []
    return [d["reason"] for d in details
            if isinstance(d, dict) and d.get("@type") == _ERROR_INFO and isinstance(d.get("reason"), str)]


def _consumer(body: object) -> str:
    """`projects/123` from the ErrorInfo's metadata: which project to rotate the key in."""
    error = body.get("error") if isinstance(body, dict) else None
    for detail in (error.get("details") if isinstance(error, dict) else None) or ():
        metadata = detail.get("metadata") if isinstance(detail, dict) else None
        consumer = metadata.get("consumer") if isinstance(metadata, dict) else None
        if isinstance(consumer, str) and _CONSUMER.fullmatch(consumer):
            return f" (project {consumer.removeprefix('projects/')})"
    return ""


def _unexpected(reply: Reply, what: str) -> Verification:
    if reply.problem:
        return Verification(UNKNOWN, f"{what}: {reply.problem}")
    codes = [r for r in _error_reasons(reply.body) if _REASON_CODE.fullmatch(r)]
    return Verification(UNKNOWN, f"{what}: unexpected answer HTTP {reply.status}" + (f" {codes[0]}" if codes else ""))


def verify_api_key(client: Client, key: str) -> Verification:
    """An `AIza…` or `AQ.…` key: can it list the Gemini models? If Gemini is closed to it, is it alive?"""
    reply = client.call(GEMINI_MODELS, {"x-goog-api-key": key})
    if reply.problem:
        return _unexpected(reply, "Generative Language API")
    if reply.status == 200:
        models = reply.body.get("models") if isinstance(reply.body, dict) else None
        if isinstance(models, list):
            return Verification(LIVE, f"the Generative Language API listed {len(models)} models for it: "
                                      "it can spend Gemini quota")
        return _unexpected(reply, "Generative Language API")
    reasons = _error_reasons(reply.body)
    if reply.status == 400 and "API_KEY_INVALID" in reasons:
        return Verification(INVALID, "API_KEY_INVALID: Google says the key is not valid (deleted or never issued)")
    if reply.status == 403:
        for reason in reasons:
            if reason in RESTRICTIONS:
                return Verification(RESTRICTED, f"{reason}: the key exists, {RESTRICTIONS[reason]}"
                                                f"{_consumer(reply.body)}")
        for reason in reasons:
            if reason in NO_GEMINI_REASONS:
                return _without_gemini(client, key, reason, _consumer(reply.body))
    return _unexpected(reply, "Generative Language API")


def _without_gemini(client: Client, key: str, reason: str, project: str) -> Verification:
    first = f"{reason}: {NO_GEMINI_REASONS[reason]}{project}"
    reply = client.call(IDENTITY_CONFIG, {"x-goog-api-key": key})
    reasons = _error_reasons(reply.body) if not reply.problem else []
    if reply.status == 200 and not reply.problem:
        return Verification(NO_GEMINI, f"{first}; the key is live: Identity Toolkit accepted it")
    if reply.status == 400 and "API_KEY_INVALID" in reasons:
        return Verification(INVALID, f"{first}; Identity Toolkit: API_KEY_INVALID, the key is not valid")
    if reply.status == 403 and any(r in RESTRICTIONS or r in NO_GEMINI_REASONS for r in reasons):
        return Verification(NO_GEMINI, f"{first}; Identity Toolkit is closed to it too, so whether the key "
                                       "works for other APIs is not known")
    why = reply.problem or f"HTTP {reply.status}"
    return Verification(NO_GEMINI, f"{first}; Identity Toolkit could not tell whether it is live ({why})")


def verify_access_token(client: Client, token: str) -> Verification:
    """A `ya29.` token: tokeninfo, the token in the POST body (never the URL)."""
    reply = client.call(TOKEN_INFO, {}, form={"access_token": token})
    if reply.problem:
        return _unexpected(reply, "tokeninfo")
    body = reply.body if isinstance(reply.body, dict) else {}
    if reply.status == 200 and isinstance(body.get("scope"), str):
        scopes = [s for s in str(body["scope"]).split() if _SCOPE.fullmatch(s)][:20]
        expires = str(body.get("expires_in", ""))
        gemini = any(s in _GEMINI_SCOPES for s in scopes)
        return Verification(LIVE, f"Google accepts the token: scopes {' '.join(scopes) or 'none'}; "
                                  + (f"expires in {int(expires)} s" if expires.isdigit() else "expiry not given")
                                  + ("; its scopes reach the Gemini API" if gemini else ""))
    if reply.status == 400 and body.get("error") in ("invalid_token", "invalid_request"):
        return Verification(INVALID, "tokeninfo: invalid_token, the token has expired or was revoked")
    return _unexpected(reply, "tokeninfo")


def verify_client_secret(client: Client, secret: str, client_id: str) -> Verification:
    """A `GOCSPX-` secret with its client id: the token endpoint, both in the POST body."""
    reply = client.call(TOKEN, {}, form={"client_id": client_id, "client_secret": secret, "code": _NOT_A_CODE,
                                         "grant_type": "authorization_code", "redirect_uri": _HARMLESS_REDIRECT})
    if reply.problem:
        return _unexpected(reply, "token endpoint")
    error = reply.body.get("error") if isinstance(reply.body, dict) else None
    if reply.status == 400 and error == "invalid_grant":
        return Verification(LIVE, f"the token endpoint accepted the secret for its client {client_id} (invalid_grant "
                                  "for a code that is not one): anyone holding it can act as that client; rotate it")
    if error == "invalid_client" or reply.status == 401:
        return Verification(INVALID, f"token endpoint: invalid_client, Google does not accept the secret for client "
                                     f"{client_id} (rotated, deleted, or another client's)")
    return _unexpected(reply, "token endpoint")


# --- which findings are asked, and how ----------------------------------------------------------

# A probe is given the secret and the public half its check needs ("" for the secrets alone).
Probe = Callable[[Client, str, str], Verification]
Ask = tuple[Probe, str, str]

# Not verified, and why: said in the reason of their `unknown`.
_NOT_ASKED = {
    "gcp-service-account-key": "not verified: that would mean signing with the private key and sending the "
                               "result to Google; keysentry never uses a private key it finds",
    "dotenv-file": "not verified: a whole .env file; the Google keys in it are verified under their own rules",
}
_NO_CLIENT_ID = ("not verified: Google checks a client secret only together with its client id, and no client id "
                 "(…apps.googleusercontent.com) was found next to it")
_REFRESH = "not verified: a refresh token can be checked only with its OAuth client's id and secret"
_NOT_GOOGLE = "not verified: not shaped like a Google key or token"


def _api_key_probe(client: Client, key: str, _: str) -> Verification:
    return verify_api_key(client, key)


def _access_token_probe(client: Client, token: str, _: str) -> Verification:
    return verify_access_token(client, token)


def plan(finding: Finding) -> Ask | Verification:
    """How FINDING's secret is asked (a probe, the secret and the public half it sends), or what is
    said without asking."""
    if finding.rule_id in _NOT_ASKED:
        return Verification(UNKNOWN, _NOT_ASKED[finding.rule_id])
    secret = finding.secret
    if finding.rule_id == "google-oauth-client-secret":
        if _CLIENT_SECRET.fullmatch(secret) and _CLIENT_ID.fullmatch(finding.companion):
            return verify_client_secret, secret, finding.companion
        return Verification(UNKNOWN, _NO_CLIENT_ID)
    if _API_KEY.fullmatch(secret):
        return _api_key_probe, secret, ""
    if finding.rule_id == "google-oauth-token":
        if _ACCESS_TOKEN.fullmatch(secret):
            return _access_token_probe, secret, ""
        if _REFRESH_TOKEN.fullmatch(secret):
            return Verification(UNKNOWN, _REFRESH)
    return Verification(UNKNOWN, _NOT_GOOGLE)


def verify(findings: Sequence[Finding], client: Client) -> tuple[Finding, ...]:
    """FINDINGS with `verification` set, each distinct secret (with its client id, for a client
    secret) asked once; a live one becomes critical."""
    plans = [plan(f) for f in findings]
    asks: dict[Ask, None] = {}
    for p in plans:
        if not isinstance(p, Verification):
            asks.setdefault(p)
    answers: dict[Ask, Verification] = {}
    if asks:
        pool = ThreadPoolExecutor(max_workers=min(WORKERS, len(asks)), thread_name_prefix="keysentry-verify")
        try:
            answers = dict(zip(asks, pool.map(lambda ask: ask[0](client, ask[1], ask[2]), asks), strict=True))
        finally:
            # Interrupted (Ctrl-C, SIGTERM), the keys not yet sent stay unsent. Executor.map cancels
            # them only once its results are being read: a signal after the keys were queued and
            # before the first result was asked for would otherwise let `with`'s shutdown send them all.
            pool.shutdown(wait=True, cancel_futures=True)
    verified = []
    for finding, p in zip(findings, plans, strict=True):
        verdict = p if isinstance(p, Verification) else answers[p]
        severity = "critical" if verdict.status == LIVE else finding.severity
        verified.append(dataclasses.replace(finding, verification=verdict, severity=severity))
    return tuple(verified)


def verify_result(result: Result, client: Client) -> Result:
    """RESULT with its findings verified: only those it reports, so none that was suppressed."""
    return dataclasses.replace(result, findings=verify(result.findings, client))
