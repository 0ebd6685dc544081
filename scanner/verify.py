"""Opt-in live verification (`--verify`): ask Google, once per distinct secret, whether a key or
token that the scan found still works and what it can reach (contract: "Verification").

Only Google's documented hosts are asked, over HTTPS, the secret in a header or a form body and
never in a URL (URLs end up in proxy and server logs); a service-account key is not sent at all
(its account's public certificate is fetched and compared here). `KEYSENTRY_VERIFY_ENDPOINT`
replaces the hosts with one base URL on a loopback address, for tests against a local server;
plain http is allowed only then. Whatever the network or the server does (a timeout, a trickle,
a dropped connection, a 50 MB or invalid body, a redirect) the answer is `unknown`, never an
error: the scan's findings stand either way. Each request has a total deadline, the run a cap on
requests, and the first signal cuts whatever is in flight.

The caller passes only the findings it reports, so a finding suppressed by a baseline, a pragma
or an `allow` entry is never sent: a user's decision to accept a key is no reason to send it out.
"""
from __future__ import annotations

import dataclasses
import http.client
import ipaddress
import json
import re
import socket
import ssl
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import SplitResult, quote, urlencode, urlsplit

from scanner import __version__
from scanner.domain import Status
from scanner.errors import UsageError
from scanner.models import Finding, Restrictions, Result, Verification
from scanner.verify_cache import Cache, cache_key

if TYPE_CHECKING:
    from scanner.verify_owner import Owner

T = TypeVar("T")
R = TypeVar("R")

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
# Requests per run (--verify-max-requests): a scan that finds 5,000 keys must not send 5,000+ requests
# to Google on one command; an API key costs one to six requests (the exposure and surface probes),
# so the default verifies a few hundred keys fully.
DEFAULT_MAX_REQUESTS = 2000

# The contract's verification statuses (scanner.domain.Status), typed so that a misspelt one is an error.
LIVE: Status = "live"
RESTRICTED: Status = "restricted"
NO_GEMINI: Status = "no-gemini-access"
INVALID: Status = "invalid"
UNKNOWN: Status = "unknown"
REPORTED_LEAKED: Status = "reported-leaked"
GENERATIVE_LANGUAGE, VERTEX_AI = "generative-language", "vertex-ai"


@dataclass(frozen=True)
class Endpoint:
    """One Google API method: its documented host and path."""

    base: str
    path: str


GEMINI_MODELS = Endpoint("https://generativelanguage.googleapis.com", "/v1beta/models")
# What a live Gemini key exposes beyond quota: the project's uploaded files, cached prompts and
# tuned models, each listed (metadata only: names, sizes, dates; never content) one page at most.
# (exposes value, endpoint, the list's field in the answer, what an attacker can do with it)
EXPOSURES = (
    ("files", Endpoint("https://generativelanguage.googleapis.com", "/v1beta/files?pageSize=100"), "files",
     "the files uploaded to the project (the Files API): an attacker can list them and put them in prompts"),
    ("cached-contents", Endpoint("https://generativelanguage.googleapis.com", "/v1beta/cachedContents?pageSize=100"),
     "cachedContents", "the project's cached prompts (context caching): an attacker can list them and "
                       "have Gemini answer from their content"),
    ("tuned-models", Endpoint("https://generativelanguage.googleapis.com", "/v1beta/tunedModels?pageSize=100"),
     "tunedModels", "the project's tuned models: an attacker can list and call them"),
)
# Vertex AI's publisher model list: read-only, bills nothing, and answers Vertex AI express-mode
# keys, which share the `AQ.` shape with AI Studio's Gemini keys.
VERTEX_MODELS = Endpoint("https://aiplatform.googleapis.com", "/v1beta1/publishers/google/models?pageSize=1")
# Identity Toolkit's public project config: answers any live key of a project with the API
# enabled (every Firebase project), so it tells a live key from a dead one when Gemini is closed.
IDENTITY_CONFIG = Endpoint("https://identitytoolkit.googleapis.com", "/v1/projects")
TOKEN_INFO = Endpoint("https://oauth2.googleapis.com", "/tokeninfo")
# The token endpoint, asked to exchange a code that cannot be one: it authenticates the client
# (id and secret) before it looks at the code, so `invalid_grant` means the secret was accepted.
TOKEN = Endpoint("https://oauth2.googleapis.com", "/token")
_NOT_A_CODE = "keysentry-verify-not-a-code"
# A service account's public certificates, by key id: asked with the account's e-mail alone.
ROBOT_CERTS = "https://www.googleapis.com"
_SERVICE_ACCOUNT = re.compile(r"([A-Za-z0-9._-]{1,100}@[A-Za-z0-9.-]{1,200}\.gserviceaccount\.com) ([0-9a-f]{40})")
# Cloud Storage's XML API: GET / lists the buckets of the HMAC key's project, signed with the key
# (AWS Signature Version 4, as S3 clients send it: region `auto`, service `s3`).
STORAGE_BUCKETS = Endpoint("https://storage.googleapis.com", "/")
_HMAC_ACCESS_ID = re.compile(r"GOOG(?:[A-Z0-9]{57}|[A-Z0-9]{20})")
_HMAC_SECRET = re.compile(r"[A-Za-z0-9+/]{40}")
_XML_CODE = re.compile(rb"<Code>([A-Za-z]{1,64})</Code>")
# A Chat webhook: its space and public key (the finding's companion), and its token.
CHAT = "https://chat.googleapis.com"
_CHAT_PLACE = re.compile(r"spaces/([A-Za-z0-9_-]{1,64})/messages\?.*?key=(AIza[0-9A-Za-z_-]{35})", re.DOTALL)
_CHAT_TOKEN = re.compile(r"[A-Za-z0-9_-]{40,48}")
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
# A GOCSPX- secret, or the legacy 24-character one (checked the same way, with its client id).
_CLIENT_SECRET = re.compile(r"GOCSPX-[0-9A-Za-z_-]{28}|[0-9A-Za-z_-]{24}")
_CLIENT_ID = re.compile(r"[0-9]{1,30}-[0-9a-z]{32}\.apps\.googleusercontent\.com")


@dataclass(frozen=True)
class Reply:
    """What one HTTP exchange gave: a status and parsed JSON, or why there is none."""

    status: int  # 0 when no HTTP exchange completed (a network failure, a body over the cap)
    body: object = None
    problem: str | None = None  # set when nothing usable came back
    raw: bytes = b""  # the body as received (JSON or not), for a caller that parses it itself


class Client:
    """Sends one request at a time per thread to an endpoint, never following a redirect (it
    would carry the key's header to wherever the redirect points).

    Each request has a total deadline (TIMEOUT seconds from the first byte sent to the last byte
    read): a socket timeout alone restarts with every byte, so a server trickling its status line
    a byte a second would hold a worker for ever. `stop()` (the first Ctrl-C or SIGTERM) cuts every
    request in flight and lets no new one start. At most MAX_REQUESTS are sent in all."""

    def __init__(self, timeout: float, base: str | None = None, max_requests: int = DEFAULT_MAX_REQUESTS) -> None:
        self.timeout = timeout
        self.base = base
        self.max_requests = max_requests
        self.sent = 0  # requests started, retries included
        self._context = ssl.create_default_context()
        self._lock = threading.Lock()
        self._failures: dict[str, int] = {}  # host -> network failures in a row
        self._stopped = threading.Event()
        # The sockets in flight, each as a duplicate this client owns: shutting one down ends the
        # request's connection (TLS or not, mid-handshake too) whatever read is waiting on it.
        self._open: set[socket.socket] = set()

    def stop(self) -> None:
        """End every request in flight now and send no more (a signal asked the run to stop)."""
        self._stopped.set()
        with self._lock:
            for sock in self._open:
                _cut(sock)

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    def call(self, endpoint: Endpoint, headers: Mapping[str, str], form: Mapping[str, str] | None = None, *,
             body: bytes | None = None, method: str | None = None) -> Reply:
        """GET (or POST FORM, or METHOD BODY with its Content-Type in HEADERS) ENDPOINT, retrying a
        bounded number of times on 429."""
        delay = BACKOFF
        host = urlsplit(self.base or endpoint.base).netloc
        for attempt in range(RETRIES_ON_429 + 1):
            with self._lock:
                if self._stopped.is_set():
                    return Reply(0, problem="not sent: verification was interrupted")
                if self._failures.get(host, 0) >= GIVE_UP_AFTER:
                    return Reply(0, problem=f"not tried: {GIVE_UP_AFTER} requests to {host} in a row failed")
                if self.sent >= self.max_requests:
                    return Reply(0, problem=f"not sent: this run's {self.max_requests} requests "
                                            "(--verify-max-requests) were used")
                self.sent += 1
            reply, retry_after = self._once(endpoint, headers, form, body, method)
            with self._lock:
                self._failures[host] = self._failures.get(host, 0) + 1 if reply.status == 0 else 0
            if reply.status != 429:
                return reply
            if attempt == RETRIES_ON_429:
                return Reply(429, problem=f"still rate-limited (HTTP 429) after {RETRIES_ON_429} retries")
            if self._stopped.wait(min(retry_after if retry_after is not None else delay, MAX_BACKOFF)):
                return Reply(0, problem="not sent: verification was interrupted")
            delay *= 2
        raise AssertionError("unreachable")

    def _connection(self, parts: SplitResult, watched: list[socket.socket]) -> http.client.HTTPConnection:
        host = parts.hostname or ""
        connection: http.client.HTTPConnection
        if parts.scheme == "https":
            connection = http.client.HTTPSConnection(host, parts.port, timeout=self.timeout, context=self._context)
        else:
            connection = http.client.HTTPConnection(host, parts.port, timeout=self.timeout)

        def create(address: tuple[str, int], timeout: float, source: object = None) -> socket.socket:
            sock = socket.create_connection(address, timeout)
            duplicate = sock.dup()  # outlives TLS's taking over the original's descriptor
            watched.append(duplicate)
            with self._lock:
                self._open.add(duplicate)
                if self._stopped.is_set():
                    _cut(duplicate)
            return sock

        connection._create_connection = create  # type: ignore[attr-defined]  # http.client's documented hook
        return connection

    def _once(self, endpoint: Endpoint, headers: Mapping[str, str], form: Mapping[str, str] | None,
              body: bytes | None, method: str | None) -> tuple[Reply, float | None]:
        parts = urlsplit(self.base or endpoint.base)
        watched: list[socket.socket] = []
        connection = self._connection(parts, watched)
        sent = {"User-Agent": f"keysentry/{__version__} (--verify)", "Accept": "application/json", **headers}
        if form is not None:
            body = urlencode(form).encode("ascii")
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        expired = threading.Event()

        def expire() -> None:
            expired.set()
            for sock in watched:
                _cut(sock)

        timer = threading.Timer(self.timeout, expire)
        timer.daemon = True
        timer.start()
        try:
            verb = method or ("POST" if body is not None else "GET")
            connection.request(verb, parts.path.rstrip("/") + endpoint.path, body=body, headers=sent)
            response = connection.getresponse()
            data = _read_capped(response)
            retry_after = _seconds(response.getheader("Retry-After"))
        except _TooLarge:
            return Reply(0, problem=f"the answer was larger than {MAX_BODY // 1024} KB"), None
        except (OSError, http.client.HTTPException) as exc:
            if self._stopped.is_set():
                return Reply(0, problem="not answered: verification was interrupted"), None
            if expired.is_set() or isinstance(exc, TimeoutError):
                return Reply(0, problem=f"no answer within {self.timeout:g} s"), None
            return Reply(0, problem=f"network error: {_describe(exc)}"), None
        finally:
            timer.cancel()
            connection.close()
            with self._lock:
                for sock in watched:
                    self._open.discard(sock)
                    sock.close()
        if expired.is_set() or self._stopped.is_set():
            # A cut connection reads as an end of file, which http.client takes for the end of the
            # headers or of a body without a length: what arrived is not the whole answer.
            return Reply(0, problem=f"no answer within {self.timeout:g} s" if expired.is_set()
                         else "not answered: verification was interrupted"), None
        if response.status == 429:
            return Reply(429), retry_after
        try:
            parsed: object = json.loads(data.decode("utf-8"))
        except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
            return Reply(response.status, problem=f"HTTP {response.status} with a body that is not JSON",
                         raw=data), None
        return Reply(response.status, parsed, raw=data), None


def _cut(sock: socket.socket) -> None:
    """End SOCK's connection in both directions: a read blocked on it returns at once."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed by the other side


class _TooLarge(Exception):
    pass


def _read_capped(response: http.client.HTTPResponse) -> bytes:
    """The body, at most MAX_BODY bytes (the request's deadline cuts a trickle)."""
    chunks: list[bytes] = []
    size = 0
    while True:
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
    """KEYSENTRY_VERIFY_ENDPOINT as a base URL, checked before anything is sent.

    Only a loopback address (127.0.0.0/8, ::1) is accepted, written as an address: the variable
    exists for a test's local server, and an environment (a CI job's, a sourced .env file's)
    must not be able to send every key found to a host of its choosing. A name such as
    `localhost` is refused too, since what it resolves to is up to the resolver."""
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
        raise UsageError(f"{ENDPOINT_VARIABLE} must be a base URL such as http://127.0.0.1:PORT, not {value!r}")
    try:
        loopback = ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise UsageError(f"{ENDPOINT_VARIABLE} may name only a loopback address (127.0.0.1, [::1]), not "
                         f"{parts.hostname!r}: it is for a local test server, never a way to send keys elsewhere")
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


# Google's message for a key it found exposed in public and blocked, as users quote it ("Your API
# key was reported as leaked. Please use another API key."). The one verdict read from message
# text: no ErrorInfo reason of its own is documented for it, so the match is narrow and anchored.
_REPORTED_LEAKED = re.compile(r"(?:^|[.:]\s*)Your API key was reported as leaked\b")


def _reported_leaked(reply: Reply) -> bool:
    error = reply.body.get("error") if isinstance(reply.body, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    return reply.status == 403 and isinstance(message, str) and _REPORTED_LEAKED.search(message) is not None


def _leaked(api: str, reply: Reply) -> Verification:
    return Verification(REPORTED_LEAKED, f"{api}: Google says the key was reported as leaked and blocks it"
                                         f"{_consumer(reply.body)}; delete it, and fix the code that used it")


def verify_api_key(client: Client, key: str) -> Verification:
    """An `AIza…` or `AQ.…` key: can it list the Gemini models (and then what else can it list)?
    If Gemini is closed to it, is it alive? An `AQ.` key the Generative Language API refuses is
    asked of Vertex AI too before it is called invalid or without Gemini access."""
    verdict, closed = _generative_language(client, key)
    if key.startswith("AQ.") and verdict.status in (INVALID, NO_GEMINI, UNKNOWN) and not client.stopped:
        vertex = _on_vertex(client, key, verdict.reason)
        if isinstance(vertex, Verification):
            return vertex
        verdict = dataclasses.replace(verdict, reason=verdict.reason + vertex)
    if closed:
        return _without_gemini(client, key, verdict.reason)
    return verdict


def _generative_language(client: Client, key: str) -> tuple[Verification, bool]:
    """What the Gemini model list says, and whether Gemini is closed to a key that may be alive."""
    reply = client.call(GEMINI_MODELS, {"x-goog-api-key": key})
    if reply.problem:
        return _unexpected(reply, "Generative Language API"), False
    if reply.status == 200:
        models = reply.body.get("models") if isinstance(reply.body, dict) else None
        if isinstance(models, list):
            return _exposure(client, key, f"the Generative Language API listed {len(models)} models for it: "
                                          "it can spend Gemini quota"), False
        return _unexpected(reply, "Generative Language API"), False
    if _reported_leaked(reply):
        return _leaked("Generative Language API", reply), False
    reasons = _error_reasons(reply.body)
    if reply.status == 400 and "API_KEY_INVALID" in reasons:
        return Verification(INVALID, "API_KEY_INVALID: Google says the key is not valid (deleted or never "
                                     "issued)"), False
    if reply.status == 403:
        for reason in reasons:
            if reason in RESTRICTIONS:
                return Verification(RESTRICTED, f"{reason}: the key exists, {RESTRICTIONS[reason]}"
                                                f"{_consumer(reply.body)}"), False
        for reason in reasons:
            if reason in NO_GEMINI_REASONS:
                return Verification(NO_GEMINI, f"{reason}: {NO_GEMINI_REASONS[reason]}{_consumer(reply.body)}"), True
    return _unexpected(reply, "Generative Language API"), False


def _exposure(client: Client, key: str, live: str) -> Verification:
    """A live Gemini key: which of the project's stored data it can list, each list asked once."""
    exposes: list[str] = []
    said: list[str] = []
    for name, endpoint, field, meaning in EXPOSURES:
        reply = client.call(endpoint, {"x-goog-api-key": key})
        if reply.problem or reply.status != 200 or not isinstance(reply.body, dict):
            continue  # refused, or no answer: not shown to be exposed
        items = reply.body.get(field, [])
        if not isinstance(items, list):
            continue
        more = isinstance(reply.body.get("nextPageToken"), str) and bool(reply.body.get("nextPageToken"))
        exposes.append(name)
        said.append(f"{meaning} ({len(items)}{'+' if more else ''} listed)")
    if not exposes:
        return Verification(LIVE, live, surface=GENERATIVE_LANGUAGE)
    return Verification(LIVE, f"{live}; it can also read {'; '.join(said)}", exposes=tuple(exposes),
                        surface=GENERATIVE_LANGUAGE)


def _on_vertex(client: Client, key: str, first: str) -> Verification | str:
    """An `AQ.` key the Generative Language API did not take (FIRST says why): is it a Vertex AI
    express-mode key? Vertex AI's verdict when it gives one, else the words to add to FIRST."""
    reply = client.call(VERTEX_MODELS, {"x-goog-api-key": key})
    if reply.problem:
        return f"; Vertex AI: {reply.problem}"
    if reply.status == 200 and isinstance(reply.body, dict):
        return Verification(LIVE, f"Vertex AI accepted it (it listed Google's publisher models): it can call "
                                  f"Gemini on Vertex AI and spend the project's quota; Generative Language API: "
                                  f"{first}", surface=VERTEX_AI)
    if _reported_leaked(reply):
        return _leaked("Vertex AI", reply)
    reasons = _error_reasons(reply.body)
    if reply.status == 403:
        for reason in reasons:
            if reason in RESTRICTIONS:
                return Verification(RESTRICTED, f"Vertex AI: {reason}: the key exists, {RESTRICTIONS[reason]}"
                                                f"{_consumer(reply.body)}; Generative Language API: {first}")
    codes = [r for r in reasons if _REASON_CODE.fullmatch(r)]
    return f"; Vertex AI: HTTP {reply.status}" + (f" {codes[0]}" if codes else "") + (
        ", not a Vertex AI express-mode key either" if reply.status in (400, 401, 403) else "")


def _without_gemini(client: Client, key: str, first: str) -> Verification:
    """Gemini is closed to the key (FIRST says why): does Identity Toolkit find it alive?"""
    reply = client.call(IDENTITY_CONFIG, {"x-goog-api-key": key})
    reasons = _error_reasons(reply.body) if not reply.problem else []
    if reply.status == 200 and not reply.problem:
        return Verification(NO_GEMINI, f"{first}; the key is live: Identity Toolkit accepted it")
    if reply.status == 400 and "API_KEY_INVALID" in reasons:
        return Verification(INVALID, f"{first}; Identity Toolkit: API_KEY_INVALID, the key is not valid")
    if _reported_leaked(reply):
        return _leaked("Identity Toolkit", reply)
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


def verify_refresh_token(client: Client, token: str, pair: str) -> Verification:
    """A `1//0…` refresh token with its client's id and secret (PAIR, "ID SECRET"): a refresh-token
    grant at the token endpoint, all in the POST body. The access token it returns is dropped unread."""
    client_id, client_secret = pair.split(" ", 1)
    reply = client.call(TOKEN, {}, form={"client_id": client_id, "client_secret": client_secret,
                                         "refresh_token": token, "grant_type": "refresh_token"})
    if reply.problem:
        return _unexpected(reply, "token endpoint")
    body = reply.body if isinstance(reply.body, dict) else {}
    if reply.status == 200 and isinstance(body.get("access_token"), str):
        scopes = [s for s in str(body.get("scope", "")).split() if _SCOPE.fullmatch(s)][:20]
        gemini = any(s in _GEMINI_SCOPES for s in scopes)
        return Verification(LIVE, f"the token endpoint redeemed it for client {client_id} (the access token it "
                                  f"returned was discarded): scopes {' '.join(scopes) or 'not given'}"
                                  + ("; its scopes reach the Gemini API" if gemini else "")
                                  + "; anyone holding it and the client secret can act as that user; revoke it")
    if reply.status == 400 and body.get("error") == "invalid_grant":
        return Verification(INVALID, f"token endpoint: invalid_grant, the refresh token has expired or was revoked "
                                     f"(client {client_id})")
    if body.get("error") == "invalid_client" or reply.status == 401:
        return Verification(UNKNOWN, f"token endpoint: invalid_client, the client secret next to it is not accepted "
                                     f"for client {client_id}, so the refresh token could not be checked")
    return _unexpected(reply, "token endpoint")


def verify_service_account(client: Client, private_key: str, account: str) -> Verification:
    """A service account's private key (ACCOUNT: "EMAIL KEY_ID"): Google's published certificate for
    KEY_ID, fetched with the e-mail alone, must hold this key's public half. Nothing secret is sent,
    and nothing is signed."""
    email, key_id = account.split(" ", 1)
    reply = client.call(Endpoint(ROBOT_CERTS, f"/robot/v1/metadata/x509/{quote(email, safe='@')}"), {})
    if reply.status == 404:
        return Verification(INVALID, f"Google publishes no certificates for {email}: the service account was "
                                     "deleted (or never existed)")
    if reply.problem or reply.status != 200 or not isinstance(reply.body, dict):
        return _unexpected(reply, "service-account certificates")
    certificate = reply.body.get(key_id)
    if not isinstance(certificate, str):
        return Verification(INVALID, f"{email} exists, but Google publishes no certificate for key {key_id}: the "
                                     "key was deleted")
    match = _same_key(private_key, certificate)
    if match is None:
        return Verification(UNKNOWN, f"the certificate Google publishes for key {key_id} of {email} could not be "
                                     "compared with the private key (encrypted, or not a key/certificate Python's "
                                     "cryptography reads)")
    if not match:
        return Verification(UNKNOWN, f"Google publishes key {key_id} for {email}, but its certificate does not hold "
                                     "this private key's public half (the file was edited?)")
    return Verification(LIVE, f"Google still publishes key {key_id} of {email} and its certificate matches this "
                              "private key (checked locally; only the e-mail was sent): the key works; delete it "
                              "(IAM > Service accounts > Keys)")


def verify_hmac_key(client: Client, secret: str, access_id: str) -> Verification:
    """A Cloud Storage HMAC secret with its ACCESS_ID: a bucket listing signed with the pair (read
    only; only the access id and the signature are sent, never the secret)."""
    import datetime

    from scanner import sigv4

    parts = urlsplit(client.base or STORAGE_BUCKETS.base)
    amz_date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    headers = {"x-amz-date": amz_date, "x-amz-content-sha256": sigv4.EMPTY_SHA256}
    signature = sigv4.authorization(access_id=access_id, secret=secret, method="GET", host=parts.netloc,
                                    path=parts.path.rstrip("/") + STORAGE_BUCKETS.path, query={}, headers=headers,
                                    amz_date=amz_date, region="auto", service="s3")
    reply = client.call(STORAGE_BUCKETS, {**headers, "Authorization": signature, "Accept": "application/xml"})
    if reply.status == 0:
        return _unexpected(reply, "Cloud Storage")
    code = _XML_CODE.search(reply.raw)
    said = code.group(1).decode("ascii") if code else ""
    if reply.status == 200 and b"<ListAllMyBucketsResult" in reply.raw:
        count = reply.raw.count(b"<Bucket>")
        return Verification(LIVE, f"Cloud Storage accepted the HMAC key {access_id} (a signed bucket listing: {count} "
                                  "bucket(s) listed): it reads and writes what its account can; deactivate and "
                                  "delete it")
    if reply.status == 403 and said == "AccessDenied":
        return Verification(LIVE, f"Cloud Storage accepted the signature of HMAC key {access_id} but its account may "
                                  "not list buckets (AccessDenied): the key is active; deactivate and delete it")
    if reply.status == 403 and said == "InvalidAccessKeyId":
        return Verification(INVALID, f"Cloud Storage: InvalidAccessKeyId, the HMAC key {access_id} does not exist "
                                     "(deleted) or is not active")
    if reply.status == 403 and said == "SignatureDoesNotMatch":
        return Verification(INVALID, f"Cloud Storage: SignatureDoesNotMatch, the secret is not HMAC key {access_id}'s "
                                     "(another key's, or edited)")
    return Verification(UNKNOWN, f"Cloud Storage: unexpected answer HTTP {reply.status}" + (f" {said}" if said else ""))


def verify_chat_webhook(client: Client, token: str, place: str) -> Verification:
    """A Chat webhook's TOKEN at PLACE ("SPACE KEY"): an empty message POSTed to the webhook, which
    Chat refuses either way — as a bad request when the token is the space's (nothing is posted),
    as unauthenticated when it is not. The token can travel only in the URL's query (the webhook
    takes it nowhere else): that one request's, to Chat's host alone, and never repeated in a
    reason, an error or a log line."""
    space, key = place.split(" ", 1)
    padded = token + "=" * (-len(token) % 4)  # base64url as the URL holds it (%3D), where the scan stops
    reply = client.call(Endpoint(CHAT, f"/v1/spaces/{space}/messages?{urlencode({'key': key, 'token': padded})}"),
                        {"Content-Type": "application/json; charset=UTF-8"}, body=b"{}", method="POST")
    if reply.problem:
        return _unexpected(reply, "Chat webhook")
    reasons = _error_reasons(reply.body)
    status = reply.body.get("error", {}).get("status") if isinstance(reply.body, dict) and \
        isinstance(reply.body.get("error"), dict) else None
    if reply.status == 400 and not reasons and status == "INVALID_ARGUMENT":
        return Verification(LIVE, f"Chat took the webhook's token for space {space} and refused only the empty "
                                  "message (nothing was posted): anyone holding the URL can post into the space; "
                                  "delete the webhook")
    if reply.status in (401, 403) and not any(r.startswith("API_KEY") for r in reasons):
        return Verification(INVALID, f"Chat webhook: HTTP {reply.status}, the token is not (or no longer) space "
                                     f"{space}'s: the webhook was deleted")
    if reply.status == 404:
        return Verification(INVALID, f"Chat webhook: HTTP 404, space {space} does not exist (deleted)")
    return _unexpected(reply, "Chat webhook")


def _same_key(private_pem: str, certificate_pem: str) -> bool | None:
    """Whether the certificate holds the private key's public half; None when either cannot be read."""
    # Here: only a run that found a service-account key loads OpenSSL's bindings.
    from cryptography import x509
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization

    # As found: line breaks may be written `\n` (JSON) or `\\n` (JSON in a JSON string).
    text = re.sub(r"\\+[nr]", "\n", private_pem)
    der = serialization.Encoding.DER
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    try:
        key = serialization.load_pem_private_key(text.encode("ascii", "replace"), password=None)
        cert = x509.load_pem_x509_certificate(certificate_pem.encode("ascii", "replace"))
        return key.public_key().public_bytes(der, spki) == cert.public_key().public_bytes(der, spki)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return None


# --- which findings are asked, and how ----------------------------------------------------------

# A probe is given the secret and the public half its check needs ("" for the secrets alone).
Probe = Callable[[Client, str, str], Verification]
Ask = tuple[Probe, str, str]

# Not verified, and why: said in the reason of their `unknown`.
_NOT_ASKED = {
    "dotenv-file": "not verified: a whole .env file; the Google keys in it are verified under their own rules",
    # The rest of the family (issue 19) without a read-only check: each would act with the secret.
    "recaptcha-secret-key": "not verified: keysentry does not send reCAPTCHA secrets to siteverify",
    "google-maps-signing-secret": "not verified: the only check is signing a Maps request, which its project "
                                  "is billed for",
    "firebase-cloud-messaging-server-key": "not verified: the only check is a send request to the legacy FCM API",
}
_NO_CLIENT_ID = ("not verified: Google checks a client secret only together with its client id, and no client id "
                 "(…apps.googleusercontent.com) was found next to it")
_REFRESH = ("not verified: a refresh token can be checked only with its OAuth client's id and secret, and no "
            "client id with a client secret for it was found in the same file")
_NO_KEY_FILE = ("not verified: the private key's account (client_email) and key id (private_key_id) were not found "
                "next to it, and keysentry never signs with a private key it finds")
_NOT_GOOGLE = "not verified: not shaped like a Google key or token"
_NO_SPACE = ("not verified: a Chat webhook's token is checked only at its space, with the URL's key, and the "
             "URL's space was not found with it (the URL is split?)")
_NO_ACCESS_ID = "not verified: an HMAC secret is checked only with its access id (GOOG…), and none was found next to it"


def _api_key_probe(client: Client, key: str, _: str) -> Verification:
    return verify_api_key(client, key)


def _access_token_probe(client: Client, token: str, _: str) -> Verification:
    return verify_access_token(client, token)


def plan(finding: Finding, client_secrets: Mapping[tuple[str, str], str] | None = None) -> Ask | Verification:
    """How FINDING's secret is asked (a probe, the secret and the public half it sends), or what is
    said without asking. CLIENT_SECRETS: the client secrets found, by (path, client id), for a
    refresh token to be redeemed with its own client's."""
    if finding.rule_id in _NOT_ASKED:
        return Verification(UNKNOWN, _NOT_ASKED[finding.rule_id])
    secret = finding.secret
    if _REFRESH_TOKEN.fullmatch(secret) and finding.rule_id in ("google-oauth-token", "gcp-service-account-key"):
        pair = (finding.path, finding.companion)
        if _CLIENT_ID.fullmatch(finding.companion) and client_secrets and pair in client_secrets:
            return verify_refresh_token, secret, f"{finding.companion} {client_secrets[pair]}"
        return Verification(UNKNOWN, _REFRESH)
    if finding.rule_id == "gcp-service-account-key":
        if secret.startswith("-----BEGIN") and _SERVICE_ACCOUNT.fullmatch(finding.companion):
            return verify_service_account, secret, finding.companion
        return Verification(UNKNOWN, _NO_KEY_FILE if secret.startswith("-----BEGIN") else _NOT_GOOGLE)
    if finding.rule_id == "google-chat-webhook":
        place = _CHAT_PLACE.search(finding.companion)
        if _CHAT_TOKEN.fullmatch(secret) and place is not None:
            return verify_chat_webhook, secret, f"{place.group(1)} {place.group(2)}"
        return Verification(UNKNOWN, _NO_SPACE)
    if finding.rule_id == "gcs-hmac-key":
        if _HMAC_SECRET.fullmatch(secret) and _HMAC_ACCESS_ID.fullmatch(finding.companion):
            return verify_hmac_key, secret, finding.companion
        return Verification(UNKNOWN, _NO_ACCESS_ID)
    if finding.rule_id == "google-oauth-client-secret":
        if _CLIENT_SECRET.fullmatch(secret) and _CLIENT_ID.fullmatch(finding.companion):
            return verify_client_secret, secret, finding.companion
        return Verification(UNKNOWN, _NO_CLIENT_ID)
    if _API_KEY.fullmatch(secret):
        return _api_key_probe, secret, ""
    if finding.rule_id == "google-oauth-token" and _ACCESS_TOKEN.fullmatch(secret):
        return _access_token_probe, secret, ""
    return Verification(UNKNOWN, _NOT_GOOGLE)


def _in_parallel(client: Client, work: Callable[[T], R], items: Sequence[T]) -> Iterator[tuple[T, R]]:
    """(item, WORK(item)) for each of ITEMS, at most WORKERS at once, in order."""
    if not items:
        return
    pool = ThreadPoolExecutor(max_workers=min(WORKERS, len(items)), thread_name_prefix="keysentry-verify")
    try:
        yield from zip(items, pool.map(work, items), strict=True)
    except BaseException:
        # The first Ctrl-C or SIGTERM: the requests in flight are cut now, not when they end
        # (a slow or trickling server would hold the run for as long as it likes).
        client.stop()
        raise
    finally:
        # Interrupted (Ctrl-C, SIGTERM), the keys not yet sent stay unsent. Executor.map cancels
        # them only once its results are being read: a signal after the keys were queued and
        # before the first result was asked for would otherwise let `with`'s shutdown send them all.
        pool.shutdown(wait=True, cancel_futures=True)


def verify(findings: Sequence[Finding], client: Client, cache: Cache | None = None,
           owner: Owner | None = None) -> tuple[Finding, ...]:
    """FINDINGS with `verification` set, each distinct secret (with its client id, for a client
    secret) asked once, or not at all when CACHE holds a recent verdict for it (CACHE gets the
    new ones); a live one becomes critical. With OWNER (--verify-owner), each API key's
    restrictions are read too."""
    client_secrets = {(f.path, f.companion): f.secret for f in findings
                      if f.rule_id == "google-oauth-client-secret" and _CLIENT_SECRET.fullmatch(f.secret)
                      and _CLIENT_ID.fullmatch(f.companion)}
    plans = [plan(f, client_secrets) for f in findings]
    asks: dict[Ask, None] = {}
    answers: dict[Ask, Verification] = {}
    for p in plans:
        if not isinstance(p, Verification) and p not in asks and p not in answers:
            known = cache.get(cache_key(p[1], p[2])) if cache is not None else None
            if known is not None:
                answers[p] = known
            else:
                asks.setdefault(p)
    for ask, answer in _in_parallel(client, lambda ask: ask[0](client, ask[1], ask[2]), list(asks)):
        answers[ask] = answer
        if cache is not None:
            cache.put(cache_key(ask[1], ask[2]), answer)
    restricted: dict[str, Restrictions] = {}
    fix: Callable[[Restrictions, str, str], str] = lambda r, context, app: ""  # noqa: E731
    if owner is not None:
        from scanner import verify_owner  # here: it imports this module

        fix = verify_owner.fix
        keys = list(dict.fromkeys(p[1] for p in plans if not isinstance(p, Verification) and p[0] is _api_key_probe))
        restricted = dict(_in_parallel(client, lambda key: verify_owner.restrictions(client, owner, key), keys))
    verified = []
    for finding, p in zip(findings, plans, strict=True):
        verdict = p if isinstance(p, Verification) else answers[p]
        if not isinstance(p, Verification) and p[1] in restricted:
            found = restricted[p[1]]
            remedy = fix(found, finding.context, finding.companion)
            verdict = dataclasses.replace(verdict, restrictions=dataclasses.replace(found, fix=remedy))
        severity = "critical" if verdict.status == LIVE else finding.severity
        verified.append(dataclasses.replace(finding, verification=verdict, severity=severity))
    return tuple(verified)


def verify_result(result: Result, client: Client, cache: Cache | None = None, owner: Owner | None = None) -> Result:
    """RESULT with its findings verified: only those it reports, so none that was suppressed."""
    return dataclasses.replace(result, findings=verify(result.findings, client, cache, owner))
