"""`--verify`: what Google's answers become, what is sent (and what never is), against a local
server answering like Google (tests/fake_google.py), through the real command line: run in the
test's own process (tests.conftest.run_cli), and in a process of its own where a signal or the
sockets a fresh interpreter opens are the point."""
from __future__ import annotations

import json
import os
import signal
import string
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from scanner.report.markdown import cell as markdown_cell
from tests import fake_google as g
from tests.conftest import git, google_key, hex_secret, random_chars, run_cli
from tests.hostile import KEYSENTRY, expect_error, no_traceback

ENDPOINT = "KEYSENTRY_VERIFY_ENDPOINT"


def gemini_key() -> str:
    return "AQ.Ab8RN6" + random_chars(44)


def access_token() -> str:
    return "ya29." + random_chars(80)


def client_secret() -> str:
    return "GOCSPX-" + random_chars(28)


def client_id() -> str:
    return random_chars(12, string.digits) + "-" + random_chars(32, string.ascii_lowercase + string.digits) \
        + ".apps.googleusercontent.com"


@pytest.fixture
def google() -> object:
    fake = g.FakeGoogle()
    with fake.running():
        yield fake


def _write(repo: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)


def _scan(repo: Path, google: g.FakeGoogle, *args: str, fmt: str = "json") -> subprocess.CompletedProcess[bytes]:
    proc = run_cli("scan", *args, "--format", fmt, "--verify", "--jobs", "1", cwd=repo,
                   env={ENDPOINT: google.url})
    no_traceback(proc)
    assert proc.returncode in (0, 1), proc.stderr.decode()
    return proc


def _findings(repo: Path, google: g.FakeGoogle, *args: str) -> list[dict[str, object]]:
    findings: list[dict[str, object]] = json.loads(_scan(repo, google, *args).stdout)["findings"]
    return findings


def _by_secret(findings: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    return {str(f["secret"]): f for f in findings}


# --- every status, from Google's own answers ------------------------------------------------------

# (id, what the model list answers, what Identity Toolkit answers or None if it must not be asked,
#  status, words the reason must hold)
KEY_ANSWERS: list[tuple[str, Callable[[], g.Answer], Callable[[], g.Answer] | None, str, tuple[str, ...]]] = [
    ("models listed", g.models, None, "live", ("Gemini quota",)),
    ("referrer restriction", lambda: g.google_error("API_KEY_HTTP_REFERRER_BLOCKED"), None, "restricted",
     ("API_KEY_HTTP_REFERRER_BLOCKED", "websites", "project 123456789012")),
    ("ip restriction", lambda: g.google_error("API_KEY_IP_ADDRESS_BLOCKED"), None, "restricted",
     ("API_KEY_IP_ADDRESS_BLOCKED", "IP addresses")),
    ("android restriction", lambda: g.google_error("API_KEY_ANDROID_APP_BLOCKED"), None, "restricted",
     ("API_KEY_ANDROID_APP_BLOCKED", "Android")),
    ("ios restriction", lambda: g.google_error("API_KEY_IOS_APP_BLOCKED"), None, "restricted",
     ("API_KEY_IOS_APP_BLOCKED", "iOS")),
    ("gemini blocked, key alive", lambda: g.google_error("API_KEY_SERVICE_BLOCKED"), g.identity_config,
     "no-gemini-access", ("API_KEY_SERVICE_BLOCKED", "the key is live")),
    ("gemini disabled, key alive", lambda: g.google_error("SERVICE_DISABLED"), g.identity_config,
     "no-gemini-access", ("SERVICE_DISABLED", "not enabled", "the key is live")),
    ("gemini disabled, identity toolkit too", lambda: g.google_error("SERVICE_DISABLED"),
     lambda: g.google_error("SERVICE_DISABLED", service="identitytoolkit.googleapis.com"),
     "no-gemini-access", ("SERVICE_DISABLED", "not known")),
    ("gemini disabled, identity toolkit says invalid", lambda: g.google_error("SERVICE_DISABLED"),
     lambda: g.google_error("API_KEY_INVALID", service="identitytoolkit.googleapis.com"),
     "invalid", ("API_KEY_INVALID",)),
    ("gemini disabled, identity toolkit unreachable", lambda: g.google_error("SERVICE_DISABLED"), g.dropped,
     "no-gemini-access", ("could not tell",)),
    ("deleted key", lambda: g.google_error("API_KEY_INVALID"), None, "invalid", ("API_KEY_INVALID",)),
    # The reason comes from the ErrorInfo detail: a message saying otherwise does not count.
    ("reason read from details not message",
     lambda: g.google_error("API_KEY_HTTP_REFERRER_BLOCKED", message="API key not valid. API_KEY_INVALID"),
     None, "restricted", ("API_KEY_HTTP_REFERRER_BLOCKED",)),
    ("reason only in the message",
     lambda: g.json_answer(400, {"error": {"code": 400, "status": "INVALID_ARGUMENT",
                                           "message": "API key not valid. API_KEY_INVALID"}}),
     None, "unknown", ("HTTP 400",)),
    ("unheard-of reason", lambda: g.google_error("API_KEY_EXPIRED_SOMEHOW"), None, "unknown",
     ("HTTP 403", "API_KEY_EXPIRED_SOMEHOW")),
    ("200 without models", lambda: g.json_answer(200, {"kind": "something else"}), None, "unknown", ("HTTP 200",)),
]


@pytest.mark.parametrize(("gemini", "identity", "status", "words"), [row[1:] for row in KEY_ANSWERS],
                         ids=[row[0] for row in KEY_ANSWERS])
@pytest.mark.parametrize("make_key", [google_key, gemini_key], ids=["AIza key", "AQ key"])
def test_api_key_status_follows_googles_answer(repo: Path, google: g.FakeGoogle, make_key: Callable[[], str],
                                               gemini: Callable[[], g.Answer],
                                               identity: Callable[[], g.Answer] | None,
                                               status: str, words: tuple[str, ...]) -> None:
    key = make_key()
    google.on(g.GEMINI, key, gemini())
    if identity is not None:
        google.on(g.IDENTITY, key, identity())
    _write(repo, {"app.py": f'KEY = "{key}"\n'})
    [finding] = _findings(repo, google, "--show-secrets")
    verification = finding["verification"]
    assert isinstance(verification, dict) and verification["status"] == status, verification
    for word in words:
        assert word in verification["reason"], (word, verification)
    asked = [g.GEMINI]
    if status == "live":  # then what it exposes (nothing here: the lists are not answered)
        asked += [g.FILES, g.CACHED, g.TUNED]
    if make_key is gemini_key and status not in ("live", "restricted"):  # an AQ. key refused: Vertex AI too
        asked.append(g.VERTEX)
    assert [s.target.split("?")[0] for s in google.seen] == asked + ([g.IDENTITY] if identity else [])
    for seen in google.seen:  # the key in its header, nowhere in the URL
        assert seen.method == "GET" and seen.headers["x-goog-api-key"] == key and key not in seen.target


def test_live_key_becomes_critical_and_others_keep_their_severity(repo: Path, google: g.FakeGoogle) -> None:
    live, restricted = google_key(), google_key()
    google.on(g.GEMINI, live, g.models())
    google.on(g.GEMINI, restricted, g.google_error("API_KEY_HTTP_REFERRER_BLOCKED"))
    _write(repo, {"a.py": f'KEY = "{live}"\n', "b.py": f'KEY = "{restricted}"\n'})
    found = _by_secret(_findings(repo, google, "--show-secrets"))
    unverified = _by_secret(json.loads(run_cli("scan", "--format", "json", "--show-secrets",
                                               cwd=repo).stdout)["findings"])
    assert found[live]["severity"] == "critical" and unverified[live]["severity"] != "critical"
    assert found[restricted]["severity"] == unverified[restricted]["severity"]
    assert unverified[live]["verification"] is None


# --- tokens and the credentials that are not asked -------------------------------------------------

def test_access_token_is_asked_at_tokeninfo_in_the_body(repo: Path, google: g.FakeGoogle) -> None:
    live, dead = access_token(), access_token()
    google.on(g.TOKENINFO, live, g.token_info("https://www.googleapis.com/auth/cloud-platform openid", 1234))
    google.on(g.TOKENINFO, dead, g.token_invalid())
    _write(repo, {"a.py": f'TOKEN = "{live}"\n', "b.py": f'TOKEN = "{dead}"\n'})
    found = _by_secret(_findings(repo, google, "--show-secrets"))
    assert found[live]["verification"] == {
        "status": "live", "reason": "Google accepts the token: scopes https://www.googleapis.com/auth/cloud-platform "
                                    "openid; expires in 1234 s; its scopes reach the Gemini API"}
    assert found[live]["severity"] == "critical"
    assert found[dead]["verification"]["status"] == "invalid"  # type: ignore[index]
    assert len(google.seen) == 2
    for seen in google.seen:
        assert seen.method == "POST" and seen.target == g.TOKENINFO and seen.secret in (live, dead)
        assert seen.headers["content-type"] == "application/x-www-form-urlencoded"


def _service_account() -> str:
    body = "\\n".join(random_chars(64, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
                      for _ in range(6))
    return json.dumps({"type": "service_account", "project_id": "demo",
                       "client_email": "bot@demo.iam.gserviceaccount.com"})[:-1] + (
        ', "private_key": "-----BEGIN PRIVATE KEY-----\\n' + body + '\\n-----END PRIVATE KEY-----\\n"}\n')


# Spelled in two pieces, so that this file holds no assignment keysentry would report.
_API_KEY_NAME = "api" + "_key"

# (id, file name, content, words of the `unknown` reason)
NOT_ASKED: list[tuple[str, str, Callable[[], str], str]] = [
    ("service-account key", "sa.json", _service_account, "private key"),
    ("oauth client secret without a client id", "client.py", lambda: f'CLIENT_SECRET = "{client_secret()}"\n',
     "no client id"),
    ("refresh token", "auth.py", lambda: f'REFRESH = "1//0{random_chars(60)}"\n', "refresh token"),
    ("hardcoded non-google key", "settings.py", lambda: f'{_API_KEY_NAME} = "{hex_secret()}"\n',
     "not shaped like a Google key"),
    ("dotenv file", ".env", lambda: "DEBUG=1\nSITE_NAME=demo\n", "whole .env file"),
]


@pytest.mark.parametrize(("name", "make", "words"), [r[1:] for r in NOT_ASKED], ids=[r[0] for r in NOT_ASKED])
def test_credentials_not_checkable_without_sending_more_are_unknown_and_never_sent(
        repo: Path, google: g.FakeGoogle, name: str, make: Callable[[], str], words: str) -> None:
    _write(repo, {name: make()})
    findings = _findings(repo, google)
    assert findings, "the fixture must produce a finding"
    for finding in findings:
        assert finding["verification"]["status"] == "unknown"  # type: ignore[index]
        assert words in finding["verification"]["reason"]  # type: ignore[index]
    assert google.seen == []


# --- OAuth client secrets: asked with the client id found next to them ------------------------------

def _client_secret_json(cid: str, secret: str) -> str:
    return json.dumps({"web": {"client_id": cid, "project_id": "demo", "auth_uri": "https://accounts.google.com/o/"
                               "oauth2/auth", "token_uri": "https://oauth2.googleapis.com/token",
                               "client_secret": secret, "redirect_uris": ["http://localhost:8080/callback"]}},
                      indent=2) + "\n"


def _dotenv_pair(cid: str, secret: str) -> str:
    return f"DEBUG=1\nGOOGLE_CLIENT_ID={cid}\nGOOGLE_CLIENT_SECRET={secret}\n"


def _code(cid: str, secret: str) -> str:
    return f'flow = Flow.from_client_config({{"installed": {{\n    "client_secret": "{secret}",\n' \
           f'    "client_id": "{cid}",\n}}}}, scopes=["openid"])\n'


def _far_apart(cid: str, secret: str) -> str:
    return f'CLIENT_ID = "{cid}"\n' + "# notes\n" * 300 + f'CLIENT_SECRET = "{secret}"\n'


def _two_clients(cid: str, secret: str) -> str:
    """Other clients' ids farther away, before and after: the nearest one is the secret's."""
    padding = "# other settings\n" * 20
    return f"OLD_CLIENT_ID={client_id()}\n{padding}{_dotenv_pair(cid, secret)}{padding}NEW_CLIENT_ID={client_id()}\n"


# (id, file name, its text from (client id, secret), what Google knows: "pair" the client with this
#  secret / "other" the client with another secret / "" no such client, status, words the reason must hold)
CLIENT_SECRET_ANSWERS: list[tuple[str, str, Callable[[str, str], str], str, str, tuple[str, ...]]] = [
    ("client_secret.json, accepted", "client_secret.json", _client_secret_json, "pair", "live",
     ("invalid_grant", "accepted", "rotate")),
    ("client_secret.json, another secret", "client_secret.json", _client_secret_json, "other", "invalid",
     ("invalid_client",)),
    (".env pair, accepted", ".env.local", _dotenv_pair, "pair", "live", ("invalid_grant",)),
    (".env pair, client unknown", ".env.local", _dotenv_pair, "", "invalid", ("invalid_client",)),
    ("code, client id after the secret", "auth.py", _code, "pair", "live", ("invalid_grant",)),
    ("nearest of two client ids", ".env.local", _two_clients, "pair", "live", ("invalid_grant",)),
]


@pytest.mark.parametrize(("name", "make", "known", "status", "words"), [r[1:] for r in CLIENT_SECRET_ANSWERS],
                         ids=[r[0] for r in CLIENT_SECRET_ANSWERS])
def test_client_secret_is_asked_at_the_token_endpoint_with_its_client_id(
        repo: Path, google: g.FakeGoogle, name: str, make: Callable[[str, str], str], known: str, status: str,
        words: tuple[str, ...]) -> None:
    cid, secret = client_id(), client_secret()
    if known:
        google.client(cid, secret if known == "pair" else client_secret())
    _write(repo, {name: make(cid, secret)})
    [finding] = [f for f in _findings(repo, google, "--show-secrets") if f["rule_id"] == "google-oauth-client-secret"]
    verification: dict[str, str] = finding["verification"]  # type: ignore[assignment]
    assert verification["status"] == status, verification
    assert cid in verification["reason"] and all(w in verification["reason"] for w in words), verification
    assert (finding["severity"] == "critical") == (status == "live")
    [seen] = google.seen
    assert seen.form["client_id"] == [cid] and seen.form["client_secret"] == [secret]


def test_client_secret_travels_only_in_the_post_body(repo: Path, google: g.FakeGoogle) -> None:
    cid, secret = client_id(), client_secret()
    google.client(cid, secret)
    _write(repo, {"client_secret.json": _client_secret_json(cid, secret)})
    _findings(repo, google)
    [seen] = google.seen
    assert seen.method == "POST" and seen.target == g.TOKEN
    assert seen.headers["content-type"] == "application/x-www-form-urlencoded"
    assert not any(secret in value for value in seen.headers.values())
    form = seen.form
    assert sorted(form) == ["client_id", "client_secret", "code", "grant_type", "redirect_uri"]
    assert form["grant_type"] == ["authorization_code"] and form["client_secret"] == [secret]
    assert form["redirect_uri"][0].startswith("http://127.0.0.1") and secret not in form["code"][0]


def test_a_client_id_too_far_from_the_secret_is_not_its_own(repo: Path, google: g.FakeGoogle) -> None:
    cid, secret = client_id(), client_secret()
    google.client(cid, secret)
    _write(repo, {"settings.py": _far_apart(cid, secret)})
    [finding] = _findings(repo, google)
    assert finding["verification"]["status"] == "unknown"  # type: ignore[index]
    assert "no client id" in finding["verification"]["reason"]  # type: ignore[index]
    assert google.seen == []


def test_each_client_secret_and_client_id_pair_is_sent_once(repo: Path, google: g.FakeGoogle) -> None:
    cid, other_cid, secret = client_id(), client_id(), client_secret()
    google.client(cid, secret)
    _write(repo, {**{f"svc{i}/.env.local": _dotenv_pair(cid, secret) for i in range(4)},
                  "legacy/.env.local": _dotenv_pair(other_cid, secret)})
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "clients")
    # --history: one finding per path, so the same secret stands next to two client ids.
    findings = [f for f in _findings(repo, google, "--show-secrets", "--history")
                if f["rule_id"] == "google-oauth-client-secret"]
    assert len(findings) == 5
    assert sorted(s.form["client_id"][0] for s in google.seen) == sorted([cid, other_cid])
    by_status = sorted(f["verification"]["status"] for f in findings)  # type: ignore[index]
    assert by_status == ["invalid"] + ["live"] * 4


def test_a_copy_without_its_client_id_is_checked_with_the_id_of_another_copy(repo: Path,
                                                                            google: g.FakeGoogle) -> None:
    cid, secret = client_id(), client_secret()
    google.client(cid, secret)
    _write(repo, {"a_first.py": f'SECRET = "{secret}"\n', "z_config/.env.local": _dotenv_pair(cid, secret)})
    [finding] = [f for f in _findings(repo, google) if f["rule_id"] == "google-oauth-client-secret"]
    assert finding["path"] == "a_first.py" and len(finding["locations"]) == 2  # type: ignore[arg-type]
    assert finding["verification"]["status"] == "live"  # type: ignore[index]
    assert len(google.seen) == 1


@pytest.mark.parametrize("answer", [lambda: g.json_answer(400, {"error": "redirect_uri_mismatch"}),
                                    lambda: g.json_answer(500, {"error": "internal_failure"}), g.dropped],
                         ids=["other error", "server error", "dropped"])
def test_a_token_endpoint_answer_that_says_neither_is_unknown(repo: Path, google: g.FakeGoogle,
                                                               answer: Callable[[], g.Answer]) -> None:
    cid, secret = client_id(), client_secret()
    google.on(g.TOKEN, secret, answer())
    _write(repo, {".env.local": _dotenv_pair(cid, secret)})
    [finding] = [f for f in _findings(repo, google) if f["rule_id"] == "google-oauth-client-secret"]
    assert finding["verification"]["status"] == "unknown"  # type: ignore[index]
    assert "token endpoint" in finding["verification"]["reason"]  # type: ignore[index]


def test_the_client_id_next_to_a_secret_changes_no_fingerprint(repo: Path) -> None:
    cid, secret = client_id(), client_secret()
    _write(repo, {"a.env.txt": f"GOOGLE_CLIENT_SECRET={secret}\n"})
    alone = json.loads(run_cli("scan", "--format", "json", cwd=repo).stdout)["findings"]
    _write(repo, {"a.env.txt": f"GOOGLE_CLIENT_SECRET={secret}\nGOOGLE_CLIENT_ID={cid}\n"})
    paired = json.loads(run_cli("scan", "--format", "json", cwd=repo).stdout)["findings"]
    assert [(f["rule_id"], f["fingerprint"]) for f in paired] == [(f["rule_id"], f["fingerprint"]) for f in alone]
    assert len(alone) == 1


# --- what is sent, how often, and what never is -----------------------------------------------------

def test_each_distinct_secret_is_sent_once(repo: Path, google: g.FakeGoogle) -> None:
    copied, other = google_key(), google_key()
    google.on(g.GEMINI, copied, g.models())
    _write(repo, {**{f"src/m{i}.py": f'KEY = "{copied}"\n' for i in range(5)},
                  "a.js": f'const k = "{other}";\nconst again = "{other}";\n'})
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "keys")
    findings = _findings(repo, google, "--show-secrets", "--history")
    assert {f["secret"] for f in findings} == {copied, other} and len(findings) >= 6
    # Asked once each: the live one's model list (and its exposure lists), the other's model list.
    assert sorted(s.secret for s in google.seen if s.target == g.GEMINI) == sorted([copied, other])
    assert len([s for s in google.seen if s.secret == copied]) == 4
    assert {f["verification"]["status"] for f in findings if f["secret"] == copied} == {"live"}  # type: ignore[index]


def test_suppressed_findings_are_never_sent(repo: Path, google: g.FakeGoogle) -> None:
    pragma, configured, baselined, reported = google_key(), "AIzaSyAllowed" + random_chars(26), google_key(), \
        google_key()
    _write(repo, {"base.py": f'KEY = "{baselined}"\n'})
    assert run_cli("baseline", ".", cwd=repo).returncode == 0
    _write(repo, {"pragma.py": f'KEY = "{pragma}"  # keysentry:allow\n',
                  "conf.py": f'KEY = "{configured}"\n',
                  ".keysentry.toml": 'allow = ["^AIzaSyAllowed"]\n',
                  "app.py": f'KEY = "{reported}"\n'})
    findings = _findings(repo, google, "--show-secrets", "--baseline", ".keysentry-baseline.json")
    assert [f["secret"] for f in findings] == [reported]
    assert [s.secret for s in google.seen] == [reported]
    for secret in (pragma, configured, baselined):  # in no header, body or URL
        assert not any(secret in s.target or secret in s.body.decode() or secret in s.headers.values()
                       for s in google.seen)


def test_every_format_shows_the_status(repo: Path, google: g.FakeGoogle) -> None:
    key = google_key()
    google.on(g.GEMINI, key, g.google_error("API_KEY_IOS_APP_BLOCKED"))
    _write(repo, {"app.py": f'KEY = "{key}"\n'})
    text = _scan(repo, google, fmt="text").stdout.decode()
    assert "verified: restricted — API_KEY_IOS_APP_BLOCKED" in text
    assert "; verified: 1 restricted" in text.splitlines()[-1]  # the summary line
    sarif = json.loads(_scan(repo, google, fmt="sarif").stdout)
    [result] = sarif["runs"][0]["results"]
    assert result["properties"]["verification"]["status"] == "restricted"
    assert "verified restricted: API_KEY_IOS_APP_BLOCKED" in result["message"]["text"]
    github = _scan(repo, google, fmt="github").stdout.decode()
    assert "verified restricted: API_KEY_IOS_APP_BLOCKED" in github
    gitlab = json.loads(_scan(repo, google, fmt="gitlab").stdout)
    assert "Verified restricted: API_KEY_IOS_APP_BLOCKED" in gitlab["vulnerabilities"][0]["description"]
    for report in (text, json.dumps(sarif), github, json.dumps(gitlab)):  # verifying changes nothing about redaction
        assert key not in report


# --- transport: slow, rate-limited, broken and hostile servers --------------------------------------

def test_rate_limited_then_answered_is_retried(repo: Path, google: g.FakeGoogle) -> None:
    key = google_key()
    google.on(g.GEMINI, key, g.rate_limited(), g.rate_limited(), g.models())
    _write(repo, {"app.py": f'KEY = "{key}"\n'})
    [finding] = _findings(repo, google)
    assert finding["verification"]["status"] == "live"  # type: ignore[index]
    assert len([s for s in google.seen if s.target == g.GEMINI]) == 3


def test_rate_limited_for_ever_gives_up_as_unknown(repo: Path, google: g.FakeGoogle) -> None:
    key = google_key()
    google.on(g.GEMINI, key, g.rate_limited())
    _write(repo, {"app.py": f'KEY = "{key}"\n'})
    [finding] = _findings(repo, google)
    assert finding["verification"]["status"] == "unknown"  # type: ignore[index]
    assert "429" in finding["verification"]["reason"]  # type: ignore[index]
    assert len(google.seen) == 4  # one try and three retries, not more


def test_a_server_slower_than_the_timeout_is_unknown(repo: Path, google: g.FakeGoogle) -> None:
    key = google_key()
    google.on(g.GEMINI, key, g.slow(5, g.models()))
    _write(repo, {"app.py": f'KEY = "{key}"\n'})
    started = time.monotonic()
    proc = run_cli("scan", "--format", "json", "--verify", "--verify-timeout", "0.5", cwd=repo,
                   env={ENDPOINT: google.url})
    assert time.monotonic() - started < 4
    no_traceback(proc)
    [finding] = json.loads(proc.stdout)["findings"]
    assert finding["verification"] == {"status": "unknown", "reason": "Generative Language API: no answer within 0.5 s"}


def test_an_unreachable_endpoint_is_unknown_not_an_error(repo: Path) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    _write(repo, {"app.py": f'KEY = "{google_key()}"\n'})
    proc = run_cli("scan", "--format", "json", "--verify", cwd=repo, env={ENDPOINT: f"http://127.0.0.1:{port}"})
    no_traceback(proc)
    assert proc.returncode == 1
    [finding] = json.loads(proc.stdout)["findings"]
    assert finding["verification"]["status"] == "unknown"
    assert "network error" in finding["verification"]["reason"]


def test_after_a_few_network_failures_in_a_row_the_rest_is_not_tried(repo: Path, google: g.FakeGoogle) -> None:
    """Offline or firewalled, 60 keys must not cost 60 timeouts: three failures and the rest wait no more."""
    keys = [google_key() for _ in range(60)]
    for key in keys:
        google.on(g.GEMINI, key, g.dropped())
    _write(repo, {f"m{i}.py": f'KEY = "{key}"\n' for i, key in enumerate(keys)})
    findings = _findings(repo, google)
    assert len(findings) == 60 and {f["verification"]["status"] for f in findings} == {"unknown"}  # type: ignore[index]
    assert 3 <= len(google.seen) < 3 + 8  # those in flight when the third failed still finish
    assert sum("not tried" in f["verification"]["reason"] for f in findings) == 60 - len(google.seen)  # type: ignore[index]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_an_interrupted_verification_sends_no_more_keys(repo: Path, google: g.FakeGoogle,
                                                        signum: signal.Signals) -> None:
    keys = [google_key() for _ in range(40)]
    for key in keys:
        # Each answer takes 5 s, and the signal cuts the requests in flight: a second round of keys
        # could only come from a signal left unhandled that long (with 1 s, a loaded machine's
        # scheduling alone let a second and third round through before keysentry ran its handler).
        google.on(g.GEMINI, key, g.slow(5, g.models()))
    _write(repo, {f"m{i}.py": f'KEY = "{key}"\n' for i, key in enumerate(keys)})
    proc = subprocess.Popen([KEYSENTRY, "scan", "--verify", "--jobs", "1"], cwd=repo, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**os.environ, ENDPOINT: google.url})
    deadline = time.monotonic() + 30
    while not google.seen and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signum)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == (130 if signum == signal.SIGINT else 143), err.decode()
    assert b"Traceback" not in err
    time.sleep(1.5)  # anything still to come would have arrived by now
    assert 1 <= len(google.seen) <= 8, len(google.seen)  # those in flight, not the 32 waiting


@pytest.mark.parametrize("value", ["ftp://127.0.0.1/", "127.0.0.1:8080", "http://127.0.0.1:99999",
                                   "http://127.0.0.1/?key=1"])
def test_a_bad_endpoint_override_is_an_error_before_the_scan(repo: Path, value: str) -> None:
    _write(repo, {"app.py": f'KEY = "{google_key()}"\n'})
    expect_error(run_cli("scan", "--verify", cwd=repo, env={ENDPOINT: value}), ENDPOINT)


@pytest.mark.parametrize("value", ["0", "-1", "soon", "601"])
def test_verify_timeout_must_be_a_sensible_number_of_seconds(repo: Path, value: str) -> None:
    expect_error(run_cli("scan", "--verify", "--verify-timeout", value, cwd=repo), "--verify-timeout")


# --- no network without --verify; hooks never verify ------------------------------------------------

_WATCH = """
import json, sys
calls = []
def watch(event, args):
    if event.startswith("socket.") or event in ("http.client.connect", "urllib.Request"):
        calls.append(event)
sys.addaudithook(watch)
from scanner.cli import main
status = main(sys.argv[1:])
sys.stderr.write("\\nSOCKETS " + json.dumps(calls) + "\\n")
raise SystemExit(status)
"""


def _socket_calls(repo: Path, google: g.FakeGoogle, *args: str) -> list[str]:
    proc = subprocess.run([sys.executable, "-c", _WATCH, *args], cwd=repo, capture_output=True, timeout=120,
                          env={**os.environ, ENDPOINT: google.url})
    no_traceback(proc)
    assert proc.returncode == 1, proc.stderr.decode()
    calls: list[str] = json.loads(proc.stderr.decode().rsplit("SOCKETS ", 1)[1])
    return calls


def test_no_socket_is_opened_without_verify(repo: Path, google: g.FakeGoogle) -> None:
    key = google_key()
    google.on(g.GEMINI, key, g.models())
    _write(repo, {"app.py": f'KEY = "{key}"\n', "tok.py": f'T = "{access_token()}"\n'})
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "keys")
    for mode in ((), ("--history",)):
        assert _socket_calls(repo, google, "scan", ".", "--jobs", "1", "--format", "json", *mode) == []
    assert google.seen == []
    # The watch sees the verifier's sockets, so the empty lists above mean something.
    assert "socket.connect" in _socket_calls(repo, google, "scan", ".", "--jobs", "1", "--verify")
    assert [s.secret for s in google.seen if s.target == g.GEMINI] == [key]


def test_hooks_never_verify(repo: Path) -> None:
    root = Path(__file__).resolve().parent.parent
    assert "--verify" not in (root / ".pre-commit-hooks.yaml").read_text()
    for script in (root / "scanner" / "hookscripts").iterdir():
        assert "--verify" not in script.read_text(), script
    expect_error(run_cli("hook", "pre-push", "--verify", cwd=repo), "--verify")


def test_a_staged_scan_verifies_only_when_the_user_configures_it(repo: Path, google: g.FakeGoogle) -> None:
    """`args: [--verify]` in a pre-commit config makes the framework run `keysentry scan --staged --verify`."""
    key = google_key()
    google.on(g.GEMINI, key, g.models())
    _write(repo, {"app.py": f'KEY = "{key}"\n'})
    git(repo, "add", "app.py")
    env = {ENDPOINT: google.url}
    assert run_cli("scan", "--staged", cwd=repo, env=env).returncode == 1
    assert google.seen == []
    verified = run_cli("scan", "--staged", "--verify", cwd=repo, env=env)
    assert verified.returncode == 1
    assert {s.secret for s in google.seen} == {key}
    assert "verified  live — the Generative Language API listed 2 models" in verified.stdout.decode()


# --- a total deadline per request, the first signal, the endpoint and the request cap (issue 17 §5) ---

@pytest.mark.parametrize("part", ["status", "headers", "body"])
def test_a_trickling_server_is_cut_at_the_requests_deadline(repo: Path, google: g.FakeGoogle, part: str) -> None:
    """One byte every 0.2 s restarts any socket timeout; the request's total deadline still ends it."""
    keys = [google_key() for _ in range(3)]
    for key in keys:
        google.on(g.GEMINI, key, g.trickle(part))
    _write(repo, {f"m{i}.py": f'KEY = "{key}"\n' for i, key in enumerate(keys)})
    started = time.monotonic()
    proc = run_cli("scan", "--format", "json", "--verify", "--verify-timeout", "1", "--jobs", "1", cwd=repo,
                   env={ENDPOINT: google.url})
    took = time.monotonic() - started
    no_traceback(proc)
    assert proc.returncode == 1, proc.stderr.decode()
    findings = json.loads(proc.stdout)["findings"]
    assert [f["verification"] for f in findings] == [
        {"status": "unknown", "reason": "Generative Language API: no answer within 1 s"}] * 3
    assert took < 8, took  # three keys in parallel, each cut at 1 s, plus start-up; not 100,000 bytes' worth


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_the_first_signal_stops_verification_at_once(repo: Path, google: g.FakeGoogle, signum: signal.Signals) -> None:
    """Requests in flight to a trickling server (within their 60 s deadline) are cut by the first signal."""
    keys = [google_key() for _ in range(12)]
    for key in keys:
        google.on(g.GEMINI, key, g.trickle("headers"))
    _write(repo, {f"m{i}.py": f'KEY = "{key}"\n' for i, key in enumerate(keys)})
    proc = subprocess.Popen([KEYSENTRY, "scan", "--verify", "--verify-timeout", "60", "--jobs", "1"], cwd=repo,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, ENDPOINT: google.url})
    deadline = time.monotonic() + 30
    while len(google.seen) < 8 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(google.seen) == 8  # every worker is waiting on the trickle
    signalled = time.monotonic()
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=30)
    assert time.monotonic() - signalled < 3, time.monotonic() - signalled
    assert proc.returncode == (130 if signum == signal.SIGINT else 143), err.decode()
    assert b"Traceback" not in err
    time.sleep(0.5)
    assert len(google.seen) == 8  # and none of the 4 waiting was sent


@pytest.mark.parametrize("value", ["http://192.0.2.10:8080", "https://verify.example.com", "http://localhost:8080",
                                   "http://10.0.0.1", "http://[2001:db8::1]:8080", "http://0.0.0.0:8080"])
def test_the_endpoint_override_names_only_a_loopback_address(repo: Path, google: g.FakeGoogle, value: str) -> None:
    """A CI job's or a sourced file's environment must not send every key found to a host of its choosing."""
    _write(repo, {"app.py": f'KEY = "{google_key()}"\n'})
    proc = run_cli("scan", "--verify", cwd=repo, env={ENDPOINT: value})
    expect_error(proc, "loopback")
    for mode in (("--verify",), ("--verify", "--format", "json")):
        assert run_cli("audit", ".", *mode, cwd=repo, env={ENDPOINT: value}).returncode == 2
    assert google.seen == []


def test_verify_max_requests_caps_the_requests_of_a_run(repo: Path, google: g.FakeGoogle) -> None:
    keys = [google_key() for _ in range(10)]
    for key in keys:
        google.on(g.GEMINI, key, g.google_error("API_KEY_HTTP_REFERRER_BLOCKED"))
    _write(repo, {f"m{i}.py": f'KEY = "{key}"\n' for i, key in enumerate(keys)})
    findings = _findings(repo, google, "--verify-max-requests", "4")
    assert len(google.seen) == 4
    statuses = sorted(f["verification"]["status"] for f in findings)  # type: ignore[index]
    assert statuses == ["restricted"] * 4 + ["unknown"] * 6
    assert all("--verify-max-requests" in f["verification"]["reason"]  # type: ignore[index]
               for f in findings if f["verification"]["status"] == "unknown")  # type: ignore[index]


@pytest.mark.parametrize("value", ["0", "-3", "many", "1.5"])
def test_verify_max_requests_must_be_a_positive_whole_number(repo: Path, value: str) -> None:
    expect_error(run_cli("scan", "--verify", "--verify-max-requests", value, cwd=repo), "--verify-max-requests")


# --- exposure triage (issue 21): what a live key can read, which surface took it, Google's own verdict ---

# (id, what files / cachedContents / tunedModels answer (None: not answered, Google's error for a
#  key that may not list it), what `exposes` must be, words the reason must hold)
EXPOSURES: list[tuple[str, dict[str, Callable[[], g.Answer]], list[str], tuple[str, ...]]] = [
    ("nothing listed", {}, [], ("it can spend Gemini quota",)),
    ("uploaded files", {"files": lambda: g.listing("files", 3)}, ["files"], ("files uploaded", "3 listed")),
    ("every list, all empty", {"files": lambda: g.listing("files", 0),
                               "cached-contents": lambda: g.listing("cachedContents", 0),
                               "tuned-models": lambda: g.listing("tunedModels", 0)},
     ["files", "cached-contents", "tuned-models"], ("0 listed", "cached prompts", "tuned models")),
    ("more pages of cached prompts", {"cached-contents": lambda: g.listing("cachedContents", 2, more=True)},
     ["cached-contents"], ("2+ listed",)),
    ("tuned models only", {"tuned-models": lambda: g.listing("tunedModels", 1)}, ["tuned-models"],
     ("tuned models", "call them")),
    ("a list refused", {"files": lambda: g.google_error("PERMISSION_DENIED"),
                        "tuned-models": lambda: g.listing("tunedModels", 1)}, ["tuned-models"], ()),
    ("a 200 that is no list", {"files": lambda: g.json_answer(200, {"files": "none"})}, [], ()),
]


@pytest.mark.parametrize(("lists", "exposes", "words"), [r[1:] for r in EXPOSURES], ids=[r[0] for r in EXPOSURES])
@pytest.mark.parametrize("make_key", [google_key, gemini_key], ids=["AIza key", "AQ key"])
def test_a_live_key_says_which_stored_data_it_can_list(repo: Path, google: g.FakeGoogle, make_key: Callable[[], str],
                                                       lists: dict[str, Callable[[], g.Answer]], exposes: list[str],
                                                       words: tuple[str, ...]) -> None:
    key = make_key()
    google.on(g.GEMINI, key, g.models())
    for name, answer in lists.items():
        google.on(g.EXPOSURE_PATHS[name], key, answer())
    _write(repo, {"app.py": f'KEY = "{key}"\n'})
    [finding] = _findings(repo, google)
    verification = finding["verification"]
    assert isinstance(verification, dict)
    assert verification["status"] == "live" and verification["surface"] == "generative-language"
    assert verification.get("exposes", []) == exposes
    assert all(w in verification["reason"] for w in words), verification
    assert finding["severity"] == "critical"
    # Each list asked once, read-only, the key in its header; nothing else (no Vertex AI for a live key).
    assert [s.target.split("?")[0] for s in google.seen] == [g.GEMINI, g.FILES, g.CACHED, g.TUNED]
    for seen in google.seen:
        assert seen.method == "GET" and seen.headers["x-goog-api-key"] == key and key not in seen.target
        assert seen.body == b""


# (id, make the key, what the model list answers, what Vertex AI answers (None: must not be asked),
#  what Identity Toolkit answers (None: must not be asked), status, surface, words the reason must hold)
SURFACES: list[tuple[str, Callable[[], str], Callable[[], g.Answer], Callable[[], g.Answer] | None,
                     Callable[[], g.Answer] | None, str, str | None, tuple[str, ...]]] = [
    ("AQ: invalid for Gemini API, live on Vertex AI", gemini_key, lambda: g.google_error("API_KEY_INVALID"),
     g.vertex_models, None, "live", "vertex-ai", ("Vertex AI accepted it", "API_KEY_INVALID")),
    ("AQ: unauthenticated on Gemini API, live on Vertex AI", gemini_key, lambda: g.unauthenticated(
        service="generativelanguage.googleapis.com"), g.vertex_models, None, "live", "vertex-ai", ("Vertex AI",)),
    ("AQ: Gemini API disabled, live on Vertex AI", gemini_key, lambda: g.google_error("SERVICE_DISABLED"),
     g.vertex_models, None, "live", "vertex-ai", ("SERVICE_DISABLED",)),
    ("AQ: invalid on both", gemini_key, lambda: g.google_error("API_KEY_INVALID"),
     lambda: g.google_error("API_KEY_INVALID", service="aiplatform.googleapis.com"), None, "invalid", None,
     ("API_KEY_INVALID", "Vertex AI: HTTP 400 API_KEY_INVALID")),
    ("AQ: invalid, Vertex AI takes no key", gemini_key, lambda: g.google_error("API_KEY_INVALID"), g.unauthenticated,
     None, "invalid", None, ("Vertex AI: HTTP 401 CREDENTIALS_MISSING", "not a Vertex AI express-mode key")),
    ("AQ: invalid, Vertex AI restricted", gemini_key, lambda: g.google_error("API_KEY_INVALID"),
     lambda: g.google_error("API_KEY_IP_ADDRESS_BLOCKED", service="aiplatform.googleapis.com"), None,
     "restricted", None, ("Vertex AI: API_KEY_IP_ADDRESS_BLOCKED",)),
    ("AQ: Gemini API disabled, Vertex AI no, Identity Toolkit live", gemini_key,
     lambda: g.google_error("SERVICE_DISABLED"), g.unauthenticated, g.identity_config, "no-gemini-access", None,
     ("SERVICE_DISABLED", "Vertex AI: HTTP 401", "the key is live")),
    ("AQ: Vertex AI unreachable", gemini_key, lambda: g.google_error("API_KEY_INVALID"), g.dropped, None,
     "invalid", None, ("Vertex AI: network error",)),
    ("AIza: never asked of Vertex AI", google_key, lambda: g.google_error("API_KEY_INVALID"), None, None,
     "invalid", None, ("API_KEY_INVALID",)),
    # Google's own verdict: read from the message, narrowly, wherever it comes from.
    ("reported leaked", google_key, g.reported_leaked, None, None, "reported-leaked", None,
     ("reported as leaked", "delete it", "Generative Language API")),
    ("AQ: reported leaked, Vertex AI not asked", gemini_key, g.reported_leaked, None, None, "reported-leaked", None,
     ("reported as leaked",)),
    ("reported leaked outranks its ErrorInfo reason", google_key, lambda: g.reported_leaked("API_KEY_SERVICE_BLOCKED"),
     None, None, "reported-leaked", None, ("reported as leaked",)),
    ("the words elsewhere in a message do not count", google_key, lambda: g.google_error(
        "API_KEY_HTTP_REFERRER_BLOCKED",
        message="Requests from referer https://example.com/Your API key was reported as leaked are blocked."),
     None, None, "restricted", None, ("API_KEY_HTTP_REFERRER_BLOCKED",)),
    ("not on a 400", google_key, lambda: g.json_answer(400, {"error": {
        "code": 400, "status": "INVALID_ARGUMENT", "message": "Your API key was reported as leaked."}}),
     None, None, "unknown", None, ("HTTP 400",)),
    ("AQ: reported leaked on Vertex AI", gemini_key, lambda: g.google_error("API_KEY_INVALID"), g.reported_leaked,
     None, "reported-leaked", None, ("Vertex AI", "reported as leaked")),
    ("reported leaked at Identity Toolkit", google_key, lambda: g.google_error("SERVICE_DISABLED"), None,
     g.reported_leaked, "reported-leaked", None, ("Identity Toolkit", "reported as leaked")),
]


@pytest.mark.parametrize(("make_key", "gemini", "vertex", "identity", "status", "surface", "words"),
                         [r[1:] for r in SURFACES], ids=[r[0] for r in SURFACES])
def test_each_surface_is_asked_before_a_key_is_called_dead(
        repo: Path, google: g.FakeGoogle, make_key: Callable[[], str], gemini: Callable[[], g.Answer],
        vertex: Callable[[], g.Answer] | None, identity: Callable[[], g.Answer] | None, status: str,
        surface: str | None, words: tuple[str, ...]) -> None:
    key = make_key()
    google.on(g.GEMINI, key, gemini())
    if vertex is not None:
        google.on(g.VERTEX, key, vertex())
    if identity is not None:
        google.on(g.IDENTITY, key, identity())
    _write(repo, {"app.py": f'KEY = "{key}"\n'})
    [finding] = _findings(repo, google)
    verification = finding["verification"]
    assert isinstance(verification, dict) and verification["status"] == status, verification
    assert verification.get("surface") == surface
    assert all(w in verification["reason"] for w in words), verification
    assert finding["severity"] == "critical" or status != "live"
    assert [s.target.split("?")[0] for s in google.seen] == \
        [g.GEMINI] + ([g.VERTEX] if vertex else []) + ([g.IDENTITY] if identity else [])
    for seen in google.seen:
        assert seen.headers["x-goog-api-key"] == key and key not in seen.target


def test_every_format_shows_what_a_live_key_exposes(repo: Path, google: g.FakeGoogle) -> None:
    key, leaked = google_key(), google_key()
    google.on(g.GEMINI, key, g.models())
    google.on(g.FILES, key, g.listing("files", 2))
    google.on(g.CACHED, key, g.listing("cachedContents", 1))
    google.on(g.GEMINI, leaked, g.reported_leaked())
    _write(repo, {"app.py": f'KEY = "{key}"\n', "old.py": f'KEY = "{leaked}"\n'})
    words = "exposes files, cached-contents; accepted by generative-language"
    text = _scan(repo, google, fmt="text").stdout.decode()
    assert words in text and "verified: reported-leaked" in text
    assert "1 live, 1 reported-leaked" in text.splitlines()[-1]
    sarif = json.loads(_scan(repo, google, fmt="sarif").stdout)
    by_status = {r["properties"]["verification"]["status"]: r for r in sarif["runs"][0]["results"]}
    assert by_status["live"]["properties"]["verification"]["exposes"] == ["files", "cached-contents"]
    assert by_status["live"]["properties"]["verification"]["surface"] == "generative-language"
    assert words in by_status["live"]["message"]["text"]
    assert words in _scan(repo, google, fmt="github").stdout.decode()
    gitlab = json.loads(_scan(repo, google, fmt="gitlab").stdout)
    assert any(words in v["description"] for v in gitlab["vulnerabilities"])
    markdown = _scan(repo, google, fmt="markdown").stdout.decode()
    assert "| Verified |" in markdown and "reported-leaked 1" in markdown
    assert markdown_cell(f"live ({words})") in markdown
    html = _scan(repo, google, fmt="html").stdout.decode()
    assert 'data-exposes="files"' in html and 'data-exposes="cached-contents"' in html
    assert 'id="status-filter"' in html and '<option value="reported-leaked">' in html
    for report in (text, json.dumps(sarif), json.dumps(gitlab), markdown, html):
        assert key not in report and leaked not in report


def test_the_html_reports_verification_filter_shows_one_status(repo: Path, google: g.FakeGoogle) -> None:
    """In a real headless Chromium: choosing a status in the filter leaves only that status's rows."""
    from tests.chromium import Browser

    live, leaked, dead = google_key(), google_key(), [google_key() for _ in range(3)]
    google.on(g.GEMINI, live, g.models())
    google.on(g.FILES, live, g.listing("files", 1))
    google.on(g.GEMINI, leaked, g.reported_leaked())
    _write(repo, {"a.py": f'KEY = "{live}"\n', "b.py": f'KEY = "{leaked}"\n',
                  **{f"c{i}.py": f'KEY = "{k}"\n' for i, k in enumerate(dead)}})
    html = repo.parent / "report.html"
    html.write_bytes(_scan(repo, google, fmt="html").stdout)
    shown = "Array.from(document.querySelectorAll('tbody.secret')).filter(r => !r.hidden).map(r => r.dataset.status)"
    choose = "{{ const s = document.getElementById('status-filter'); s.value = '{}'; s.dispatchEvent(new Event('input')); }}"
    with Browser(width=1280) as browser:
        browser.open(html)
        assert sorted(browser.evaluate(shown)) == ["invalid"] * 3 + ["live", "reported-leaked"]
        browser.evaluate(choose.format("live"))
        assert browser.evaluate(shown) == ["live"]
        assert browser.evaluate("document.querySelector('tbody.secret:not([hidden]) .exposes').textContent") == "files"
        browser.evaluate(choose.format("reported-leaked"))
        assert browser.evaluate(shown) == ["reported-leaked"]
        browser.evaluate(choose.format(""))
        assert len(browser.evaluate(shown)) == 5


# --- --verify-cache: once per key per max-age, never the secret, safe against a hostile file --------

def _cached_scan(repo: Path, google: g.FakeGoogle, cache: Path, *args: str) -> list[dict[str, object]]:
    return _findings(repo, google, "--verify-cache", str(cache), *args)


def _statuses(findings: list[dict[str, object]]) -> list[str]:
    return sorted(f["verification"]["status"] for f in findings)  # type: ignore[index]


def test_a_second_run_with_the_cache_asks_google_nothing(repo: Path, google: g.FakeGoogle, tmp_path: Path) -> None:
    live, restricted, dead, token = google_key(), gemini_key(), google_key(), access_token()
    google.on(g.GEMINI, live, g.models())
    google.on(g.FILES, live, g.listing("files", 2))
    google.on(g.GEMINI, restricted, g.google_error("API_KEY_IOS_APP_BLOCKED"))
    google.on(g.TOKENINFO, token, g.token_info("openid"))
    _write(repo, {"a.py": f'KEY = "{live}"\n', "b.py": f'KEY = "{restricted}"\n', "c.py": f'KEY = "{dead}"\n',
                  "d.py": f'TOKEN = "{token}"\n'})
    cache = tmp_path / "verdicts.json"
    first = _cached_scan(repo, google, cache)
    asked = len(google.seen)
    assert asked == 4 + 1 + 1 + 1
    text = cache.read_text()
    assert all(secret not in text for secret in (live, restricted, dead, token))
    assert cache.stat().st_mode & 0o077 == 0  # its owner's only
    google.seen.clear()
    second = _cached_scan(repo, google, cache)
    assert google.seen == []
    assert _statuses(second) == _statuses(first) == ["invalid", "live", "live", "restricted"]
    by_rule = {f["path"]: f["verification"] for f in second}
    assert by_rule["a.py"]["exposes"] == ["files"] and by_rule["a.py"]["surface"] == "generative-language"  # type: ignore[index]
    assert all("from --verify-cache" in v["reason"] for v in by_rule.values())  # type: ignore[index]
    assert [f["severity"] for f in second if f["path"] == "a.py"] == ["critical"]


def test_a_cached_verdict_older_than_max_age_is_asked_again(repo: Path, google: g.FakeGoogle, tmp_path: Path) -> None:
    key = google_key()
    google.on(g.GEMINI, key, g.google_error("API_KEY_HTTP_REFERRER_BLOCKED"))
    _write(repo, {"a.py": f'KEY = "{key}"\n'})
    cache = tmp_path / "verdicts.json"
    _cached_scan(repo, google, cache)
    data = json.loads(cache.read_text())
    for entry in data["entries"].values():
        entry["at"] -= 25 * 3600  # made yesterday, an hour more than the default allows
    cache.write_text(json.dumps(data))
    google.seen.clear()
    _cached_scan(repo, google, cache, "--verify-max-age", "2d")
    assert google.seen == []
    _cached_scan(repo, google, cache)
    assert len(google.seen) == 1
    google.seen.clear()
    _cached_scan(repo, google, cache, "--verify-max-age", "0")
    assert len(google.seen) == 1


def test_an_unknown_verdict_is_not_cached(repo: Path, google: g.FakeGoogle, tmp_path: Path) -> None:
    key = google_key()
    google.on(g.GEMINI, key, g.dropped(), g.models())
    _write(repo, {"a.py": f'KEY = "{key}"\n'})
    cache = tmp_path / "verdicts.json"
    assert _statuses(_cached_scan(repo, google, cache)) == ["unknown"]
    assert _statuses(_cached_scan(repo, google, cache)) == ["live"]
    assert len([s for s in google.seen if s.target == g.GEMINI]) == 2


def _symlink_to_elsewhere(cache: Path) -> bytes:
    target = cache.parent / "precious.txt"
    target.write_text("not yours\n")
    cache.symlink_to(target)
    return target.read_bytes()


# (id, what the cache path holds (made by the function, which returns the bytes that must stay), words)
HOSTILE_CACHES: list[tuple[str, Callable[[Path], bytes | None], str]] = [
    ("symbolic link", _symlink_to_elsewhere, "symbolic link"),
    ("not json", lambda p: (p.write_bytes(b"{not json"), p.read_bytes())[1], "not a keysentry verification cache"),
    ("another program's json", lambda p: (p.write_text('{"name": "app", "version": "1.0.0"}\n'), p.read_bytes())[1],
     "not a keysentry verification cache"),
    ("nested too deeply", lambda p: (p.write_text("[" * 100000 + "]" * 100000), p.read_bytes())[1],
     "not a keysentry verification cache"),
    ("larger than 32 MiB", lambda p: (p.write_bytes(b" " * (33 << 20)), None)[1], "larger than 32 MiB"),
    ("a folder", lambda p: (p.mkdir(), None)[1], "not a regular file"),
]


@pytest.mark.parametrize(("make", "words"), [r[1:] for r in HOSTILE_CACHES], ids=[r[0] for r in HOSTILE_CACHES])
def test_a_hostile_cache_file_is_one_line_and_exit_2_and_left_alone(
        repo: Path, google: g.FakeGoogle, tmp_path: Path, make: Callable[[Path], bytes | None], words: str) -> None:
    key = google_key()
    _write(repo, {"a.py": f'KEY = "{key}"\n'})
    cache = tmp_path / "verdicts.json"
    kept = make(cache)
    proc = run_cli("scan", "--verify", "--verify-cache", str(cache), cwd=repo, env={ENDPOINT: google.url})
    expect_error(proc, words)
    assert google.seen == []  # refused before the scan, so before anything is sent
    if kept is not None:
        assert (cache.parent / "precious.txt" if cache.is_symlink() else cache).read_bytes() == kept


def test_cache_entries_that_keysentry_did_not_write_are_ignored(repo: Path, google: g.FakeGoogle,
                                                                tmp_path: Path) -> None:
    from scanner.verify_cache import cache_key

    keys = [google_key() for _ in range(5)]
    for key in keys:
        google.on(g.GEMINI, key, g.google_error("API_KEY_INVALID"))
    _write(repo, {f"m{i}.py": f'KEY = "{key}"\n' for i, key in enumerate(keys)})
    now = time.time()
    bad = [{"status": "pwned", "reason": "x", "at": now}, {"status": "live", "reason": "x", "at": now + 86400},
           {"status": "live", "reason": "x" * 10000, "at": now}, {"status": "live", "reason": "x", "at": now,
                                                                   "exposes": ["everything"]},
           {"status": "live", "reason": "x", "at": "today"}]
    cache = tmp_path / "verdicts.json"
    cache.write_text(json.dumps({"version": 1, "entries": {cache_key(k): e for k, e in zip(keys, bad, strict=True)}}))
    findings = _cached_scan(repo, google, cache)
    assert _statuses(findings) == ["invalid"] * 5 and len(google.seen) == 5


@pytest.mark.parametrize("value", ["-1h", "soon", "400d", "nan", ""])
def test_verify_max_age_must_be_a_duration(repo: Path, value: str) -> None:
    expect_error(run_cli("scan", "--verify", "--verify-max-age", value, cwd=repo), "--verify-max-age")


# --- service-account keys: the published certificate, fetched with the e-mail alone -----------------

def _rsa_key_and_certificate() -> tuple[str, str]:
    """A private key (PKCS#8 PEM, as Google's key files hold) and a self-signed certificate for it,
    made now: Google publishes one such certificate per key id."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bot.demo.iam.gserviceaccount.com")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=3650)).sign(key, hashes.SHA256()))
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return private, cert.public_bytes(serialization.Encoding.PEM).decode()


EMAIL = "deploy-bot@demo-project.iam.gserviceaccount.com"


def _key_file(private: str, key_id: str, email: str = EMAIL) -> str:
    return json.dumps({"type": "service_account", "project_id": "demo-project", "private_key_id": key_id,
                       "private_key": private, "client_email": email, "client_id": random_chars(21, string.digits),
                       "token_uri": "https://oauth2.googleapis.com/token"}, indent=2) + "\n"


# (id, what Google publishes for the account, given (key id, this key's certificate, another's), status, words)
SERVICE_ACCOUNTS: list[tuple[str, Callable[[str, str, str], g.Answer], str, tuple[str, ...]]] = [
    ("key published", lambda kid, mine, other: g.certificates({hex_secret(40): other, kid: mine}), "live",
     ("still publishes key", "matches", "only the e-mail was sent")),
    ("key deleted", lambda kid, mine, other: g.certificates({hex_secret(40): other}), "invalid",
     ("no certificate for key", "deleted")),
    ("account deleted", lambda kid, mine, other: g.not_found(), "invalid", ("no certificates for", EMAIL)),
    ("certificate of another key", lambda kid, mine, other: g.certificates({kid: other}), "unknown",
     ("does not hold this private key",)),
    ("not a certificate", lambda kid, mine, other: g.certificates({kid: "-----BEGIN CERTIFICATE-----\nAAAA\n"
                                                                        "-----END CERTIFICATE-----\n"}),
     "unknown", ("could not be compared",)),
    ("server error", lambda kid, mine, other: g.json_answer(500, {"error": "backend"}), "unknown", ("HTTP 500",)),
]


@pytest.mark.parametrize(("published", "status", "words"), [r[1:] for r in SERVICE_ACCOUNTS],
                         ids=[r[0] for r in SERVICE_ACCOUNTS])
def test_a_service_account_key_is_checked_against_googles_certificate_sending_only_the_email(
        repo: Path, google: g.FakeGoogle, published: Callable[[str, str, str], g.Answer], status: str,
        words: tuple[str, ...]) -> None:
    private, mine = _rsa_key_and_certificate()
    _, other = _rsa_key_and_certificate()
    key_id = hex_secret(40)
    google.on(g.CERTS + EMAIL, "", published(key_id, mine, other))
    _write(repo, {"deploy/sa.json": _key_file(private, key_id)})
    [finding] = [f for f in _findings(repo, google) if f["rule_id"] == "gcp-service-account-key"]
    verification = finding["verification"]
    assert isinstance(verification, dict) and verification["status"] == status, verification
    assert all(w in verification["reason"] for w in words), verification
    # One GET that carries the e-mail in its path and nothing else of the file: no body, no
    # credential header, no piece of the key.
    [seen] = google.seen
    assert seen.method == "GET" and seen.target == g.CERTS + EMAIL and seen.body == b""
    assert set(seen.headers) <= {"host", "accept-encoding", "user-agent", "accept"}
    body_lines = [line for line in private.splitlines() if not line.startswith("-----")]
    assert not any(line in seen.target or any(line in v for v in seen.headers.values()) for line in body_lines)
    assert key_id not in seen.target


def test_a_private_key_without_its_account_and_key_id_is_not_sent(repo: Path, google: g.FakeGoogle) -> None:
    private, _ = _rsa_key_and_certificate()
    _write(repo, {"key.json": json.dumps({"private_key": private, "type": "service_account"}) + "\n",
                  "two.json": json.dumps([json.loads(_key_file(private, hex_secret(40))),
                                          json.loads(_key_file(private, hex_secret(40), "other@demo.iam."
                                                                                       "gserviceaccount.com"))])})
    findings = [f for f in _findings(repo, google) if f["rule_id"] == "gcp-service-account-key"]
    assert findings and all(f["verification"]["status"] == "unknown" for f in findings)  # type: ignore[index]
    assert all("client_email" in f["verification"]["reason"] for f in findings)  # type: ignore[index]
    assert google.seen == []


# --- refresh tokens, redeemed with their own client's id and secret ---------------------------------

def refresh_token() -> str:
    return "1//0" + random_chars(60)


def _authorized_user(cid: str, secret: str, token: str) -> str:
    return json.dumps({"type": "authorized_user", "client_id": cid, "client_secret": secret,
                       "refresh_token": token, "quota_project_id": "demo-project"}, indent=2) + "\n"


def _token_in_code(cid: str, secret: str, token: str) -> str:
    return f'CLIENT_ID = "{cid}"\nCLIENT_SECRET = "{secret}"\nREFRESH = "{token}"\n'


# (id, file name, its text, what Google knows: "token" the token for this client / "client" the client
#  only / "other secret" the client with another secret, status, words)
REFRESH_TOKENS: list[tuple[str, str, Callable[[str, str, str], str], str, str, tuple[str, ...]]] = [
    ("authorized_user json, live", "adc.json", _authorized_user, "token", "live",
     ("redeemed", "discarded", "cloud-platform", "Gemini API", "revoke")),
    ("authorized_user json, revoked", "adc.json", _authorized_user, "client", "invalid", ("invalid_grant",)),
    ("authorized_user json, client secret wrong", "adc.json", _authorized_user, "other secret", "unknown",
     ("invalid_client",)),
    ("in code, live", "auth.py", _token_in_code, "token", "live", ("redeemed",)),
]


@pytest.mark.parametrize(("name", "make", "known", "status", "words"), [r[1:] for r in REFRESH_TOKENS],
                         ids=[r[0] for r in REFRESH_TOKENS])
def test_a_refresh_token_is_redeemed_with_its_clients_id_and_secret(
        repo: Path, google: g.FakeGoogle, name: str, make: Callable[[str, str, str], str], known: str, status: str,
        words: tuple[str, ...]) -> None:
    cid, secret, token = client_id(), client_secret(), refresh_token()
    google.client(cid, secret if known != "other secret" else client_secret())
    if known == "token":
        google.refresh_token(token, cid, "https://www.googleapis.com/auth/cloud-platform openid")
    _write(repo, {name: make(cid, secret, token)})
    proc = _scan(repo, google, "--show-secrets")
    [finding] = [f for f in json.loads(proc.stdout)["findings"] if f["secret"] == token]
    verification = finding["verification"]
    assert verification["status"] == status, verification
    assert all(w in verification["reason"] for w in words), verification
    [grant] = [s for s in google.seen if s.form.get("grant_type") == ["refresh_token"]]
    assert grant.method == "POST" and grant.target == g.TOKEN and token not in grant.target
    assert grant.form["refresh_token"] == [token] and grant.form["client_id"] == [cid]
    assert grant.form["client_secret"] == [secret]
    for issued in google.issued:  # the access token Google handed out is never shown or kept
        assert issued.encode() not in proc.stdout and issued.encode() not in proc.stderr


def test_a_refresh_token_without_its_client_secret_is_not_sent(repo: Path, google: g.FakeGoogle) -> None:
    """No secret beside it, one of no form keysentry knows (a 24-character one is a legacy secret,
    and found), none at all, or only another client's: the token cannot be redeemed, so it is not sent."""
    alone, odd, bare, mixed = refresh_token(), refresh_token(), refresh_token(), refresh_token()
    adc = json.loads(_authorized_user(client_id(), "", alone))
    del adc["client_secret"]
    _write(repo, {"adc.json": json.dumps(adc, indent=2) + "\n",
                  "odd.json": _authorized_user(client_id(), "d-" + random_chars(12), odd),
                  "other.py": f'T = "{bare}"\n',
                  "mixed.py": f'CLIENT_ID = "{client_id()}"\nCLIENT_SECRET = "{client_secret()}"\n'
                              f'OTHER_CLIENT_ID = "{client_id()}"\nREFRESH = "{mixed}"\n'})
    findings = [f for f in _findings(repo, google, "--show-secrets") if f["secret"] in (alone, odd, bare, mixed)]
    assert len(findings) == 4
    assert all(f["verification"]["status"] == "unknown" and "client secret" in f["verification"]["reason"]  # type: ignore[index]
               for f in findings)
    assert not [s for s in google.seen if s.form.get("refresh_token")]


# --- --verify-owner: the key's real restrictions, read with the caller's own credentials -----------

KEY_NAME = "projects/123456789012/locations/global/keys/0a1b2c3d-4e5f-6789-abcd-ef0123456789"


def _caller_adc(tmp_path: Path, google: g.FakeGoogle) -> tuple[dict[str, str], str]:
    """The caller's own credentials (`gcloud auth application-default login` writes such a file),
    known to the fake token endpoint; the environment that names them, and their refresh token."""
    cid, secret, token = client_id(), client_secret(), refresh_token()
    google.client(cid, secret)
    google.refresh_token(token, cid, "https://www.googleapis.com/auth/cloud-platform")
    adc = tmp_path / "caller" / "application_default_credentials.json"
    adc.parent.mkdir()
    adc.write_text(_authorized_user(cid, secret, token))
    return {ENDPOINT: google.url, "GOOGLE_APPLICATION_CREDENTIALS": str(adc)}, token


_GOOGLE_SERVICES = """{{
  "project_info": {{"project_number": "123456789012", "project_id": "shop-demo"}},
  "client": [{{
    "client_info": {{"mobilesdk_app_id": "1:123456789012:android:0a1b2c3d4e5f", "android_client_info":
      {{"package_name": "com.example.shop"}}}},
    "api_key": [{{"current_key": "{key}"}}]
  }}],
  "configuration_version": "1"
}}
"""
_GOOGLE_SERVICE_PLIST = """<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0">
<dict>
\t<key>API_KEY</key>
\t<string>{key}</string>
\t<key>BUNDLE_ID</key>
\t<string>com.example.shop.ios</string>
</dict>
</plist>
"""
_FILE_FOR = {_GOOGLE_SERVICES: "app/google-services.json", _GOOGLE_SERVICE_PLIST: "ios/GoogleService-Info.plist"}

RESTRICTION_CASES: list[tuple[str, str, dict[str, object] | None, dict[str, object]]] = [
    ("unrestricted gemini key", 'from google import genai\nclient = genai.Client(api_key="{key}")\n', None,
     {"unrestricted": True, "gemini_allowed": True, "api_targets": [],
      "fix": f"gcloud services api-keys update {KEY_NAME} --api-target=service=generativelanguage.googleapis.com"}),
    ("unrestricted maps key", '<script src="https://maps.googleapis.com/maps/api/js?key={key}"></script>\n', None,
     {"unrestricted": True, "fix": f"gcloud services api-keys update {KEY_NAME} --api-target=service=maps-backend"
                                   ".googleapis.com --allowed-referrers='https://YOUR-SITE/*'"}),
    ("android firebase config names its package", _GOOGLE_SERVICES, None,
     {"unrestricted": True, "fix": f"gcloud services api-keys update {KEY_NAME} "
                                   "--api-target=service=identitytoolkit.googleapis.com "
                                   "--api-target=service=securetoken.googleapis.com "
                                   "--api-target=service=firebaseinstallations.googleapis.com "
                                   "--allowed-application=sha1_fingerprint=YOUR_SIGNING_SHA1,"
                                   "package_name=com.example.shop"}),
    ("ios firebase plist names its bundle", _GOOGLE_SERVICE_PLIST, None,
     {"unrestricted": True, "fix": f"gcloud services api-keys update {KEY_NAME} "
                                   "--api-target=service=identitytoolkit.googleapis.com "
                                   "--api-target=service=securetoken.googleapis.com "
                                   "--api-target=service=firebaseinstallations.googleapis.com "
                                   "--allowed-bundle-ids=com.example.shop.ios"}),
    ("referrers and api targets", 'KEY = "{key}"\n',
     {"browserKeyRestrictions": {"allowedReferrers": ["https://example.com/*", "*.example.org"]},
      "apiTargets": [{"service": "maps-backend.googleapis.com"}, {"service": "places.googleapis.com"}]},
     {"unrestricted": False, "gemini_allowed": False, "referrers": ["https://example.com/*", "*.example.org"],
      "api_targets": ["maps-backend.googleapis.com", "places.googleapis.com"]}),
    ("android apps", 'KEY = "{key}"\n',
     {"androidKeyRestrictions": {"allowedApplications": [
         {"sha1Fingerprint": "DA:39:A3:EE:5E:6B:4B:0D:32:55:BF:EF:95:60:18:90:AF:D8:07:09",
          "packageName": "com.example.app"}]}},
     {"unrestricted": False, "gemini_allowed": True, "android_apps": [
         {"package": "com.example.app", "sha1": "DA:39:A3:EE:5E:6B:4B:0D:32:55:BF:EF:95:60:18:90:AF:D8:07:09"}]}),
    ("ips and ios, hostile values dropped", 'KEY = "{key}"\n',
     {"serverKeyRestrictions": {"allowedIps": ["192.0.2.0/24", "\x1b]8;;evil\x07"]},
      "iosKeyRestrictions": {"allowedBundleIds": ["com.example.ios", "x y"]}},
     {"ips": ["192.0.2.0/24"], "ios_bundle_ids": ["com.example.ios"], "unrestricted": False}),
]


@pytest.mark.parametrize(("code", "restrictions", "expected"), [r[1:] for r in RESTRICTION_CASES],
                         ids=[r[0] for r in RESTRICTION_CASES])
def test_verify_owner_reads_the_keys_real_restrictions(repo: Path, google: g.FakeGoogle, tmp_path: Path, code: str,
                                                       restrictions: dict[str, object] | None,
                                                       expected: dict[str, object]) -> None:
    key = google_key()
    env, caller_token = _caller_adc(tmp_path, google)
    google.on(g.GEMINI, key, g.models())
    google.on(g.LOOKUP_KEY, key, g.json_answer(200, {"parent": "projects/123456789012/locations/global",
                                                     "name": KEY_NAME}))
    google.on("/v2/" + KEY_NAME, "", g.key_resource(KEY_NAME, restrictions))
    _write(repo, {_FILE_FOR.get(code, "index.html" if "script" in code else "app.py"): code.format(key=key)})
    proc = run_cli("scan", "--format", "json", "--verify-owner", "--jobs", "1", cwd=repo, env=env)
    no_traceback(proc)
    assert proc.returncode == 1, proc.stderr.decode()
    [finding] = json.loads(proc.stdout)["findings"]
    verification = finding["verification"]
    assert verification["status"] == "live"  # --verify-owner implies --verify
    got = verification["restrictions"]
    assert got["known"] is True and got["key"] == KEY_NAME
    for field, value in expected.items():
        assert got[field] == value, (field, got)
    assert ("fix" in got) == bool(expected.get("unrestricted"))
    # The identity is the caller's: the token the caller's refresh token was redeemed for, never the found key.
    [redeemed] = [s for s in google.seen if s.form.get("grant_type") == ["refresh_token"]]
    assert redeemed.form["refresh_token"] == [caller_token]
    issued = f"Bearer {google.issued[0]}"
    [lookup] = [s for s in google.seen if s.target.startswith(g.LOOKUP_KEY)]
    assert lookup.method == "POST" and lookup.target == g.LOOKUP_KEY and lookup.form["keyString"] == [key]
    assert lookup.headers["x-http-method-override"] == "GET" and lookup.headers["authorization"] == issued
    [got_key] = [s for s in google.seen if s.target == "/v2/" + KEY_NAME]
    assert got_key.method == "GET" and got_key.headers["authorization"] == issued
    assert all(key not in s.target for s in google.seen)  # the key in no URL
    assert google.issued[0].encode() not in proc.stdout + proc.stderr  # the caller's token is never shown


def test_a_key_the_caller_does_not_own_has_unknown_restrictions(repo: Path, google: g.FakeGoogle,
                                                                 tmp_path: Path) -> None:
    key = google_key()
    env, _ = _caller_adc(tmp_path, google)
    google.on(g.GEMINI, key, g.google_error("API_KEY_HTTP_REFERRER_BLOCKED"))
    google.on(g.LOOKUP_KEY, key, g.google_error("PERMISSION_DENIED", service="apikeys.googleapis.com"))
    _write(repo, {"app.py": f'KEY = "{key}"\n'})
    proc = run_cli("scan", "--format", "text", "--verify-owner", "--jobs", "1", cwd=repo, env=env)
    no_traceback(proc)
    assert "restrictions not known: keys.lookupKey: HTTP 403, not a key of a project your credentials can read" \
        in " ".join(proc.stdout.decode().split())
    proc = run_cli("scan", "--format", "json", "--verify-owner", "--jobs", "1", cwd=repo, env=env)
    [finding] = json.loads(proc.stdout)["findings"]
    assert finding["verification"]["status"] == "restricted"
    assert finding["verification"]["restrictions"]["known"] is False


def test_verify_owner_without_credentials_says_so_in_one_line(repo: Path, google: g.FakeGoogle,
                                                               tmp_path: Path) -> None:
    _write(repo, {"app.py": f'KEY = "{google_key()}"\n'})
    home = tmp_path / "home"
    home.mkdir()
    env = {ENDPOINT: google.url, "HOME": str(home), "CLOUDSDK_CONFIG": str(home / "gcloud"),
           "GOOGLE_APPLICATION_CREDENTIALS": ""}
    proc = run_cli("scan", "--verify-owner", cwd=repo, env=env)
    expect_error(proc, "Application Default Credentials")
    assert google.seen == []  # nothing was sent: not the key, not a token request


def test_an_audit_with_verify_owner_reports_each_keys_restrictions(repo: Path, google: g.FakeGoogle,
                                                                  tmp_path: Path) -> None:
    key = google_key()
    env, _ = _caller_adc(tmp_path, google)
    google.on(g.GEMINI, key, g.models())
    google.on(g.LOOKUP_KEY, key, g.json_answer(200, {"parent": "projects/123456789012/locations/global",
                                                     "name": KEY_NAME}))
    google.on("/v2/" + KEY_NAME, "", g.key_resource(KEY_NAME, None))
    _write(repo, {"app.py": f'KEY = "{key}"\n'})
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "key")
    proc = run_cli("audit", repo, "--verify-owner", "--format", "json", cwd=tmp_path, env=env)
    no_traceback(proc)
    assert proc.returncode == 1, proc.stderr.decode()
    [finding] = json.loads(proc.stdout)["repositories"][0]["findings"]
    assert finding["verification"]["status"] == "live"  # --verify-owner implies --verify
    assert finding["verification"]["restrictions"]["unrestricted"] is True
    assert finding["verification"]["restrictions"]["fix"].startswith(f"gcloud services api-keys update {KEY_NAME} ")


def test_an_audit_with_verify_owner_without_credentials_says_so_in_one_line(repo: Path, google: g.FakeGoogle,
                                                                            tmp_path: Path) -> None:
    _write(repo, {"app.py": f'KEY = "{google_key()}"\n'})
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "key")
    home = tmp_path / "home"
    home.mkdir()
    env = {ENDPOINT: google.url, "HOME": str(home), "CLOUDSDK_CONFIG": str(home / "gcloud"),
           "GOOGLE_APPLICATION_CREDENTIALS": ""}
    proc = run_cli("audit", repo, "--verify-owner", cwd=tmp_path, env=env)
    expect_error(proc, "Application Default Credentials")
    assert google.seen == []  # nothing was sent, from no repository


def test_no_secret_of_any_kind_travels_in_a_url(repo: Path, google: g.FakeGoogle, tmp_path: Path) -> None:
    """Every kind that is sent, each answered live so that every follow-up request is made too."""
    api_key, aq_key, token = google_key(), gemini_key(), access_token()
    cid, secret, refresh = client_id(), client_secret(), refresh_token()
    private, certificate = _rsa_key_and_certificate()
    key_id = hex_secret(40)
    google.on(g.GEMINI, api_key, g.models())
    for path, field in ((g.FILES, "files"), (g.CACHED, "cachedContents"), (g.TUNED, "tunedModels")):
        google.on(path, api_key, g.listing(field, 1))
    google.on(g.GEMINI, aq_key, g.google_error("API_KEY_INVALID"))
    google.on(g.VERTEX, aq_key, g.vertex_models())
    google.on(g.TOKENINFO, token, g.token_info("openid"))
    google.client(cid, secret)
    google.refresh_token(refresh, cid, "openid")
    google.on(g.CERTS + EMAIL, "", g.certificates({key_id: certificate}))
    env, _ = _caller_adc(tmp_path, google)
    google.on(g.LOOKUP_KEY, api_key, g.json_answer(200, {"name": KEY_NAME}))
    google.on("/v2/" + KEY_NAME, "", g.key_resource(KEY_NAME, None))
    _write(repo, {"a.py": f'KEY = "{api_key}"\n', "b.py": f'KEY = "{aq_key}"\n', "c.py": f'TOKEN = "{token}"\n',
                  "adc.json": _authorized_user(cid, secret, refresh), "sa.json": _key_file(private, key_id)})
    proc = run_cli("scan", "--format", "json", "--verify-owner", "--jobs", "1", cwd=repo, env=env)
    no_traceback(proc)
    findings = json.loads(proc.stdout)["findings"]
    assert {f["rule_id"]: f["verification"]["status"] for f in findings if f["rule_id"] != "google-oauth-client-secret"} \
        == {"google-api-key": "live", "google-gemini-key": "live", "google-oauth-token": "live",
            "gcp-service-account-key": "live"}
    sent = [api_key, aq_key, token, secret, refresh] + [line for line in private.splitlines() if "-----" not in line]
    assert len(google.seen) >= 12
    for seen in google.seen:
        assert not any(s in seen.target for s in sent), seen.target


def test_text_and_html_show_the_restrictions_and_the_command_beside_the_finding(repo: Path, google: g.FakeGoogle,
                                                                                 tmp_path: Path) -> None:
    key = google_key()
    env, _ = _caller_adc(tmp_path, google)
    google.on(g.GEMINI, key, g.models())
    google.on(g.LOOKUP_KEY, key, g.json_answer(200, {"name": KEY_NAME}))
    google.on("/v2/" + KEY_NAME, "", g.key_resource(KEY_NAME, None))
    _write(repo, {"app.py": f'from google import genai\nclient = genai.Client(api_key="{key}")\n'})
    command = f"gcloud services api-keys update {KEY_NAME} --api-target=service=generativelanguage.googleapis.com"
    text = run_cli("scan", "--verify-owner", "--jobs", "1", cwd=repo, env=env).stdout.decode()
    assert "restrictions: unrestricted: any API enabled in its project, called from anywhere" in " ".join(text.split())
    assert command in " ".join(text.split())
    html = run_cli("scan", "--verify-owner", "--format", "html", "--jobs", "1", cwd=repo, env=env).stdout.decode()
    assert command in html and "unrestricted" in html
