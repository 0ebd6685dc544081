"""A local server that answers like Google's APIs do, for `--verify` (selected with the contract's
KEYSENTRY_VERIFY_ENDPOINT). Bound to 127.0.0.1, started by the test, one thread per request.

Its bodies are shaped like Google's real ones: `error.code`, `error.message`, `error.status` and
`details[]` holding a `google.rpc.ErrorInfo` with the `reason` (and a LocalizedMessage), so the
verifier is tested on what Google sends, not on what it would be convenient to parse.
"""
from __future__ import annotations

import json
import re
import secrets
import string
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

GEMINI = "/v1beta/models"
FILES = "/v1beta/files"
CACHED = "/v1beta/cachedContents"
TUNED = "/v1beta/tunedModels"
EXPOSURE_PATHS = {"files": FILES, "cached-contents": CACHED, "tuned-models": TUNED}
VERTEX = "/v1beta1/publishers/google/models"
CERTS = "/robot/v1/metadata/x509/"  # + a service account's e-mail
LOOKUP_KEY = "/v2/keys:lookupKey"
IDENTITY = "/v1/projects"
TOKENINFO = "/tokeninfo"
TOKEN = "/token"
CHAT_SPACES = "/v1/spaces/"  # + SPACE/messages?key=…&token=…
STORAGE = "/"  # Cloud Storage's XML API: GET / lists the buckets

_SIGV4 = re.compile(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([a-z0-9-]+)/([a-z0-9]+)/aws4_request, "
                    r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})")

Answer = Callable[["_Handler"], None]


@dataclass(frozen=True)
class Seen:
    """One request the server received."""

    method: str
    target: str  # the request line's path and query, exactly as sent
    headers: dict[str, str]
    body: bytes

    @property
    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode("ascii", "replace"))

    @property
    def secret(self) -> str:
        """What it asked about: the x-goog-api-key header, else the form's access_token or client_secret."""
        if "x-goog-api-key" in self.headers:
            return self.headers["x-goog-api-key"]
        query = parse_qs(self.target.partition("?")[2])
        if "token" in query:  # a Chat webhook's, the one secret that travels in a query
            return query["token"][0].rstrip("=")
        form = self.form
        return (form.get("access_token") or form.get("client_secret") or form.get("keyString") or [""])[0]


def json_answer(status: int, body: object, headers: Sequence[tuple[str, str]] = ()) -> Answer:
    data = json.dumps(body).encode()

    def answer(handler: _Handler) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json; charset=UTF-8")
        handler.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)
    return answer


def xml_answer(status: int, body: str) -> Answer:
    data = body.encode()

    def answer(handler: _Handler) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/xml; charset=UTF-8")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
    return answer


def storage_error(code: str, message: str) -> Answer:
    """Cloud Storage's XML API error, as it answers an S3-style request."""
    return xml_answer(403, f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code>"
                           f"<Message>{message}</Message></Error>")


def buckets(*names: str) -> Answer:
    listed = "".join(f"<Bucket><Name>{n}</Name><CreationDate>2024-01-01T00:00:00.000Z</CreationDate></Bucket>"
                     for n in names)
    return xml_answer(200, "<?xml version='1.0' encoding='UTF-8'?><ListAllMyBucketsResult "
                           "xmlns='http://doc.s3.amazonaws.com/2006-03-01'><Owner><ID>00b4</ID></Owner>"
                           f"<Buckets>{listed}</Buckets></ListAllMyBucketsResult>")


def models() -> Answer:
    """200 from models.list: the key can call Gemini."""
    return json_answer(200, {"models": [
        {"name": "models/gemini-2.5-flash", "version": "001", "displayName": "Gemini 2.5 Flash",
         "supportedGenerationMethods": ["generateContent", "countTokens"]},
        {"name": "models/text-embedding-004", "version": "004", "displayName": "Text Embedding 004",
         "supportedGenerationMethods": ["embedContent"]},
    ], "nextPageToken": "Ch9tb2RlbHMvZ2VtaW5pLTEuNS1mbGFzaC0wMDI"})


_MESSAGES = {
    "API_KEY_INVALID": (400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key."),
    "API_KEY_HTTP_REFERRER_BLOCKED": (403, "PERMISSION_DENIED", "Requests from referer <empty> are blocked."),
    "API_KEY_IP_ADDRESS_BLOCKED": (403, "PERMISSION_DENIED",
                                   "The provided API key has an IP address restriction. The originating IP "
                                   "address of the call (192.0.2.7) violates this restriction."),
    "API_KEY_ANDROID_APP_BLOCKED": (403, "PERMISSION_DENIED",
                                    "Requests from this Android client application <empty> are blocked."),
    "API_KEY_IOS_APP_BLOCKED": (403, "PERMISSION_DENIED",
                                "Requests from this iOS client application <empty> are blocked."),
    "API_KEY_SERVICE_BLOCKED": (403, "PERMISSION_DENIED",
                                "Requests to this API generativelanguage.googleapis.com method "
                                "google.ai.generativelanguage.v1beta.ModelService.ListModels are blocked."),
    "SERVICE_DISABLED": (403, "PERMISSION_DENIED",
                         "Generative Language API has not been used in project 123456789012 before or it is "
                         "disabled. Enable it by visiting https://console.developers.google.com/apis/api/"
                         "generativelanguage.googleapis.com/overview?project=123456789012 then retry."),
}


def listing(field: str, count: int, more: bool = False) -> Answer:
    """200 from a list method (files, cachedContents, tunedModels): COUNT items' metadata; an empty
    list is `{}`, as Google leaves out empty fields."""
    items = [{"name": f"{field}/item-{i}", "displayName": f"item {i}", "createTime": "2026-01-01T00:00:00Z"}
             for i in range(count)]
    body: dict[str, object] = {field: items} if items else {}
    if more:
        body["nextPageToken"] = "Cg5uZXh0LXBhZ2UtdG9rZW4"
    return json_answer(200, body)


def vertex_models() -> Answer:
    """200 from Vertex AI's publisher model list (an express-mode key)."""
    return json_answer(200, {"publisherModels": [
        {"name": "publishers/google/models/gemini-2.5-flash", "versionId": "001", "openSourceCategory": "PROPRIETARY",
         "launchStage": "GA"}], "nextPageToken": "CgYKBGdlbWluaQ"})


def reported_leaked(detail: str | None = None, message: str = "Your API key was reported as leaked. Please use "
                    "another API key.") -> Answer:
    """403 for a key Google found exposed and blocked, worded as users have quoted it (no details);
    DETAIL adds an ErrorInfo with that reason, which the message text outranks."""
    error: dict[str, object] = {"code": 403, "message": message, "status": "PERMISSION_DENIED"}
    if detail is not None:
        error["details"] = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": detail,
                             "domain": "googleapis.com", "metadata": {
                                 "service": "generativelanguage.googleapis.com", "consumer": "projects/123456789012"}}]
    return json_answer(403, {"error": error})


def unauthenticated(reason: str = "CREDENTIALS_MISSING", service: str = "aiplatform.googleapis.com") -> Answer:
    """401 from an API that takes no API key there (it expects an OAuth access token)."""
    return json_answer(401, {"error": {
        "code": 401, "status": "UNAUTHENTICATED",
        "message": "API keys are not supported by this API. Expected OAuth2 access token or other authentication "
                   "credentials that assert a principal.",
        "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason,
                     "domain": "googleapis.com", "metadata": {"service": service}}]}})


def certificates(by_key_id: dict[str, str]) -> Answer:
    """200 from the robot metadata endpoint: the account's public certificates, PEM, by key id."""
    return json_answer(200, by_key_id)


def key_resource(name: str, restrictions: dict[str, object] | None) -> Answer:
    """200 from the API Keys API's keys.get: the key's resource, its restrictions if it has any."""
    body: dict[str, object] = {"name": name, "uid": name.rsplit("/", 1)[1], "displayName": "Browser key (auto created "
                               "by Firebase)", "createTime": "2024-05-01T10:00:00.000Z", "etag": "W/\"abc\""}
    if restrictions is not None:
        body["restrictions"] = restrictions
    return json_answer(200, body)


def not_found() -> Answer:
    """404 for an account that does not exist (Google's answer is not JSON)."""
    return raw(404, b"Not Found", content_type="text/html; charset=UTF-8")


def google_error(reason: str, *, message: str | None = None, code: int | None = None,
                 service: str = "generativelanguage.googleapis.com") -> Answer:
    """Google's error body for REASON (its HTTP code, status and message unless given)."""
    default_code, status, default_message = _MESSAGES.get(reason, (403, "PERMISSION_DENIED", "Forbidden."))
    metadata = {"service": service}
    if reason != "API_KEY_INVALID":
        metadata["consumer"] = "projects/123456789012"
    text = message or default_message
    return json_answer(code or default_code, {"error": {
        "code": code or default_code, "message": text, "status": status,
        "details": [
            {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason, "domain": "googleapis.com",
             "metadata": metadata},
            {"@type": "type.googleapis.com/google.rpc.LocalizedMessage", "locale": "en-US", "message": text},
        ]}})


def identity_config() -> Answer:
    """200 from Identity Toolkit's project config: the key is alive."""
    return json_answer(200, {"projectId": "demo-project", "authorizedDomains": ["localhost", "demo.firebaseapp.com"]})


def token_info(scope: str, expires_in: int = 3599) -> Answer:
    return json_answer(200, {"azp": "1234.apps.googleusercontent.com", "aud": "1234.apps.googleusercontent.com",
                             "scope": scope, "exp": str(int(time.time()) + expires_in),
                             "expires_in": str(expires_in), "access_type": "online"})


def token_invalid() -> Answer:
    return json_answer(400, {"error": "invalid_token", "error_description": "Invalid Value"})


def invalid_grant() -> Answer:
    """What the token endpoint says once the client authenticated, to a code it never issued."""
    return json_answer(400, {"error": "invalid_grant", "error_description": "Malformed auth code."})


def invalid_client(description: str = "Unauthorized") -> Answer:
    """... and to a client id it does not know ("The OAuth client was not found.") or a wrong secret."""
    return json_answer(401, {"error": "invalid_client", "error_description": description})


def rate_limited(retry_after: str = "0") -> Answer:
    return json_answer(429, {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED",
                                       "message": "Resource has been exhausted (e.g. check quota)."}},
                       headers=(("Retry-After", retry_after),))


def slow(seconds: float, then: Answer) -> Answer:
    def answer(handler: _Handler) -> None:
        time.sleep(seconds)
        then(handler)
    return answer


def trickle(part: str, interval: float = 0.2) -> Answer:
    """A 200 that never ends, one byte every INTERVAL seconds, from PART ("status", "headers" or
    "body") on: each byte restarts a socket timeout, so only a total deadline ends it."""
    def answer(handler: _Handler) -> None:
        head = b"HTTP/1.1 200 OK\r\n"
        headers = b"Content-Type: application/json\r\nContent-Length: 100000000\r\n\r\n"
        prefix = b"" if part == "status" else head if part == "headers" else head + headers + b'{"models": ['
        try:
            handler.wfile.write(prefix)
            handler.wfile.flush()
            for byte in (head + headers if part == "status" else headers if part == "headers" else b"") \
                    + b" " * 100000:
                handler.wfile.write(bytes([byte]))
                handler.wfile.flush()
                time.sleep(interval)
        except OSError:
            pass  # the client hung up, as it should
    return answer


def dropped() -> Answer:
    """Read the request, then close the connection without a word."""
    def answer(handler: _Handler) -> None:
        handler.close_connection = True
    return answer


def raw(status: int, body: bytes, content_type: str = "application/json") -> Answer:
    def answer(handler: _Handler) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
    return answer


def endless(total: int = 50 << 20) -> Answer:
    """A 200 of TOTAL bytes (50 MB) of valid-looking JSON, written as fast as it is read."""
    def answer(handler: _Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(total))
        handler.end_headers()
        chunk = b" " * (1 << 20)
        try:
            handler.wfile.write(b'{"models": [')
            for _ in range(total // len(chunk)):
                handler.wfile.write(chunk)
        except OSError:
            pass  # the client hung up, as it should
    return answer


def redirect(location: str) -> Answer:
    def answer(handler: _Handler) -> None:
        handler.send_response(302)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()
    return answer


class FakeGoogle:
    """answers[(path, secret)]: what to answer, in turn (the last one again once they run out);
    anything not listed gets Google's answer for an unknown key. The token endpoint knows the
    OAuth clients registered with `client`, like Google checks the pair before the code."""

    def __init__(self) -> None:
        self.answers: dict[tuple[str, str], list[Answer]] = {}
        self.clients: dict[str, str] = {}  # client id -> its secret
        self.refresh_tokens: dict[str, tuple[str, str]] = {}  # refresh token -> (its client id, scopes)
        self.issued: list[str] = []  # the access tokens handed out for refresh tokens
        self.chat_webhooks: dict[str, str] = {}  # a Chat space -> its webhook's token
        # Cloud Storage HMAC keys: access id -> (secret, whether its account may list buckets)
        self.hmac_keys: dict[str, tuple[str, bool]] = {}
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    def on(self, path: str, secret: str, *answers: Answer) -> None:
        self.answers[(path, secret)] = list(answers)

    def chat_webhook(self, space: str, token: str) -> None:
        self.chat_webhooks[space] = token

    def hmac_key(self, access_id: str, secret: str, can_list: bool = True) -> None:
        self.hmac_keys[access_id] = (secret, can_list)

    def client(self, client_id: str, secret: str) -> None:
        self.clients[client_id] = secret

    def refresh_token(self, token: str, client_id: str, scopes: str) -> None:
        self.refresh_tokens[token] = (client_id, scopes)

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def requests_for(self, secret: str) -> list[Seen]:
        return [s for s in self.seen if s.secret == secret]

    def _answer(self, seen: Seen) -> Answer:
        with self._lock:
            self.seen.append(seen)
            path = seen.target.split("?")[0]
            queue = self.answers.get((path, seen.secret))
            if not queue:
                if path.startswith(CHAT_SPACES) and seen.method == "POST":
                    return self._chat(path, seen)
                if path == STORAGE and seen.method == "GET":
                    return self._storage(seen)
                if path == TOKEN:
                    return self._token(seen.form)
                return token_invalid() if path == TOKENINFO else google_error("API_KEY_INVALID")
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def _token(self, form: dict[str, list[str]]) -> Answer:
        client_id, secret = (form.get("client_id") or [""])[0], (form.get("client_secret") or [""])[0]
        if client_id not in self.clients:
            return invalid_client("The OAuth client was not found.")
        if self.clients[client_id] != secret:
            return invalid_client()
        grant = (form.get("grant_type") or [""])[0]
        if grant == "refresh_token":
            token = (form.get("refresh_token") or [""])[0]
            if token not in self.refresh_tokens or self.refresh_tokens[token][0] != client_id:
                return json_answer(400, {"error": "invalid_grant", "error_description": "Token has been expired or "
                                                                                          "revoked."})
            access = "ya29.a0" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(100))
            self.issued.append(access)
            return json_answer(200, {"access_token": access, "expires_in": 3599,
                                     "scope": self.refresh_tokens[token][1], "token_type": "Bearer"})
        if grant != "authorization_code":
            return json_answer(400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type: "})
        return invalid_grant()

    def _chat(self, path: str, seen: Seen) -> Answer:
        """As Chat answers a webhook POST: the key first, then the space's token, then the message."""
        query = parse_qs(seen.target.partition("?")[2])
        if not query.get("key", [""])[0].startswith("AIza"):
            return google_error("API_KEY_INVALID", service="chat.googleapis.com")
        space = path[len(CHAT_SPACES):].removesuffix("/messages")
        if space not in self.chat_webhooks:
            return json_answer(404, {"error": {"code": 404, "message": "Requested entity was not found.",
                                               "status": "NOT_FOUND"}})
        if query.get("token", [""])[0] != self.chat_webhooks[space] + "=":
            return json_answer(401, {"error": {"code": 401, "message": "Request had invalid authentication "
                                               "credentials.", "status": "UNAUTHENTICATED"}})
        if json.loads(seen.body or b"{}") == {}:
            return json_answer(400, {"error": {"code": 400, "message": "Message cannot be empty. Discarding empty "
                                               "create message request in spaces/" + space + ".",
                                               "status": "INVALID_ARGUMENT"}})
        raise AssertionError("a check posted a message into the space")

    def _storage(self, seen: Seen) -> Answer:
        """Checks the request's AWS Signature Version 4 as Cloud Storage does: the access id must be
        a key's, and the signature of what arrived (host and dated headers included) its secret's."""
        from scanner import sigv4

        signed = _SIGV4.fullmatch(seen.headers.get("authorization", ""))
        if signed is None:
            return storage_error("AccessDenied", "Anonymous caller does not have storage.buckets.list access.")
        access_id, day, region, service, names, _ = signed.groups()
        if access_id not in self.hmac_keys:
            return storage_error("InvalidAccessKeyId", "The Access Key Id you provided does not exist in our records.")
        secret, can_list = self.hmac_keys[access_id]
        amz_date = seen.headers.get("x-amz-date", "")
        others = {n: seen.headers.get(n, "") for n in names.split(";") if n != "host"}
        expected = sigv4.authorization(
            access_id=access_id, secret=secret, method=seen.method, host=seen.headers.get("host", ""),
            path=seen.target.split("?")[0], query={}, headers=others, amz_date=amz_date, region=region,
            service=service, payload_sha256=seen.headers.get("x-amz-content-sha256", ""))
        if expected != seen.headers["authorization"] or not amz_date.startswith(day):
            return storage_error("SignatureDoesNotMatch", "The request signature we calculated does not match the "
                                                          "signature you provided.")
        if not can_list:
            return storage_error("AccessDenied", "Access denied.")
        return buckets("bucket-one", "bucket-two")

    @contextmanager
    def running(self) -> Iterator[FakeGoogle]:
        fake = self

        class Handler(_Handler):
            owner = fake

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        # serve_forever looks for shutdown() every poll_interval: 0.5 s by default, paid by every
        # test's teardown (160 tests of test_verify spent 67 s waiting in it).
        thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that hung up mid-answer (a timeout, a capped body) is what the test wanted


class _Handler(BaseHTTPRequestHandler):
    owner: FakeGoogle
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        answer = self.owner._answer(Seen(self.command, self.path, headers, body))
        answer(self)

    do_GET = _serve
    do_POST = _serve

    def log_message(self, format: str, *args: object) -> None:  # the base class's name
        pass
