"""`--verify`: what Google's answers become, what is sent (and what never is), against a local
server answering like Google (tests/fake_google.py), through the real command line."""
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

from tests import fake_google as g
from tests.conftest import git, google_key, hex_secret, random_chars
from tests.hostile import KEYSENTRY, expect_error, keysentry, no_traceback

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
    proc = keysentry("scan", *args, "--format", fmt, "--verify", "--jobs", "1", cwd=repo,
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
    assert [s.target.split("?")[0] for s in google.seen] == [g.GEMINI] + ([g.IDENTITY] if identity else [])
    for seen in google.seen:  # the key in its header, nowhere in the URL
        assert seen.method == "GET" and seen.headers["x-goog-api-key"] == key and key not in seen.target


def test_live_key_becomes_critical_and_others_keep_their_severity(repo: Path, google: g.FakeGoogle) -> None:
    live, restricted = google_key(), google_key()
    google.on(g.GEMINI, live, g.models())
    google.on(g.GEMINI, restricted, g.google_error("API_KEY_HTTP_REFERRER_BLOCKED"))
    _write(repo, {"a.py": f'KEY = "{live}"\n', "b.py": f'KEY = "{restricted}"\n'})
    found = _by_secret(_findings(repo, google, "--show-secrets"))
    unverified = _by_secret(json.loads(keysentry("scan", "--format", "json", "--show-secrets",
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
    alone = json.loads(keysentry("scan", "--format", "json", cwd=repo).stdout)["findings"]
    _write(repo, {"a.env.txt": f"GOOGLE_CLIENT_SECRET={secret}\nGOOGLE_CLIENT_ID={cid}\n"})
    paired = json.loads(keysentry("scan", "--format", "json", cwd=repo).stdout)["findings"]
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
    assert sorted(s.secret for s in google.seen) == sorted([copied, other])
    assert {f["verification"]["status"] for f in findings if f["secret"] == copied} == {"live"}  # type: ignore[index]


def test_suppressed_findings_are_never_sent(repo: Path, google: g.FakeGoogle) -> None:
    pragma, configured, baselined, reported = google_key(), "AIzaSyAllowed" + random_chars(26), google_key(), \
        google_key()
    _write(repo, {"base.py": f'KEY = "{baselined}"\n'})
    assert keysentry("baseline", ".", cwd=repo).returncode == 0
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
    assert len(google.seen) == 3


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
    proc = keysentry("scan", "--format", "json", "--verify", "--verify-timeout", "0.5", cwd=repo,
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
    proc = keysentry("scan", "--format", "json", "--verify", cwd=repo, env={ENDPOINT: f"http://127.0.0.1:{port}"})
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
        google.on(g.GEMINI, key, g.slow(1, g.models()))
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
    expect_error(keysentry("scan", "--verify", cwd=repo, env={ENDPOINT: value}), ENDPOINT)


@pytest.mark.parametrize("value", ["0", "-1", "soon", "601"])
def test_verify_timeout_must_be_a_sensible_number_of_seconds(repo: Path, value: str) -> None:
    expect_error(keysentry("scan", "--verify", "--verify-timeout", value, cwd=repo), "--verify-timeout")


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
    expect_error(keysentry("hook", "pre-push", "--verify", cwd=repo), "--verify")


def test_a_staged_scan_verifies_only_when_the_user_configures_it(repo: Path, google: g.FakeGoogle) -> None:
    """`args: [--verify]` in a pre-commit config makes the framework run `keysentry scan --staged --verify`."""
    key = google_key()
    google.on(g.GEMINI, key, g.models())
    _write(repo, {"app.py": f'KEY = "{key}"\n'})
    git(repo, "add", "app.py")
    env = {ENDPOINT: google.url}
    assert keysentry("scan", "--staged", cwd=repo, env=env).returncode == 1
    assert google.seen == []
    verified = keysentry("scan", "--staged", "--verify", cwd=repo, env=env)
    assert verified.returncode == 1
    assert [s.secret for s in google.seen] == [key]
    assert "verified  live — the Generative Language API listed 2 models" in verified.stdout.decode()
