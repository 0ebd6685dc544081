"""`--verify` and the rest of the Google family (issue 19), against the local stand-in for Google
(tests/fake_google.py), through the real command line: the kinds keysentry cannot check without
acting as the credential (a push message, a billed request) are never sent and say why; a Chat
webhook's token is checked with an empty message Chat refuses; a
legacy client secret is checked like a GOCSPX- one, with its client id; a Cloud Storage HMAC key by
a bucket listing signed with it (the secret never sent)."""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import fake_google as g
from tests.hostile import keysentry, no_traceback
from tests.test_rules_google_family import (
    chat_space,
    chat_token,
    chat_url,
    client_id,
    fcm_key,
    hmac_access_id,
    hmac_secret,
    legacy_secret,
    maps_secret,
    recaptcha_key,
)


@pytest.fixture
def google() -> Iterator[g.FakeGoogle]:
    fake = g.FakeGoogle()
    with fake.running():
        yield fake


def _verified(repo: Path, google: g.FakeGoogle) -> dict[str, dict[str, object]]:
    proc = keysentry("scan", "--format", "json", "--verify", "--show-secrets", "--jobs", "1", cwd=repo,
                     env={"KEYSENTRY_VERIFY_ENDPOINT": google.url})
    no_traceback(proc)
    assert proc.returncode == 1, proc.stderr.decode()
    return {str(f["rule_id"]): f for f in json.loads(proc.stdout)["findings"]}


def test_kinds_that_cannot_be_checked_without_acting_are_never_sent(tmp_path: Path, google: g.FakeGoogle) -> None:
    files = {
        "push.php": f"define('FCM_SERVER_KEY', '{fcm_key()}');\n",
        "captcha.py": f"RECAPTCHA_SECRET_KEY = '{recaptcha_key()}'\n",
        "maps.py": f"GOOGLE_MAPS_URL_SIGNING_SECRET = '{maps_secret()}'\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    found = _verified(tmp_path, google)
    reasons = {
        "firebase-cloud-messaging-server-key": "legacy FCM API",
        "recaptcha-secret-key": "siteverify",
        "google-maps-signing-secret": "signing",
    }
    assert set(found) == set(reasons)
    for rule_id, words in reasons.items():
        verification = found[rule_id]["verification"]
        assert isinstance(verification, dict)
        assert verification["status"] == "unknown" and words in verification["reason"], (rule_id, verification)
    assert google.seen == []


def test_a_legacy_client_secret_is_checked_with_its_client_id(tmp_path: Path, google: g.FakeGoogle) -> None:
    cid, secret = client_id(), legacy_secret()
    google.client(cid, secret)
    (tmp_path / "client_secret.json").write_text(json.dumps(
        {"installed": {"client_id": cid, "client_secret": secret, "token_uri": "https://oauth2.googleapis.com/token"}}))
    finding = _verified(tmp_path, google)["google-oauth-client-secret"]
    verification = finding["verification"]
    assert isinstance(verification, dict) and verification["status"] == "live", verification
    [seen] = google.seen
    assert seen.form["client_id"] == [cid] and seen.form["client_secret"] == [secret]


HMAC_CASES = [
    # (case, the key Cloud Storage knows: None, same secret, another secret; its account may list buckets)
    ("lists buckets", "same", True, "live", "2 bucket(s) listed"),
    ("may not list, but signed right", "same", False, "live", "AccessDenied"),
    ("access id unknown", None, True, "invalid", "InvalidAccessKeyId"),
    ("another secret", "other", True, "invalid", "SignatureDoesNotMatch"),
]


@pytest.mark.parametrize(("known", "can_list", "status", "words"), [c[1:] for c in HMAC_CASES],
                         ids=[c[0] for c in HMAC_CASES])
def test_an_hmac_key_is_checked_by_a_signed_bucket_listing(tmp_path: Path, google: g.FakeGoogle, known: str | None,
                                                          can_list: bool, status: str, words: str) -> None:
    access_id, secret = hmac_access_id(), hmac_secret()
    if known is not None:
        google.hmac_key(access_id, secret if known == "same" else hmac_secret(), can_list)
    (tmp_path / ".boto").write_text(f"[Credentials]\ngs_access_key_id = {access_id}\n"
                                    f"gs_secret_access_key = {secret}\n")
    verification = _verified(tmp_path, google)["gcs-hmac-key"]["verification"]
    assert isinstance(verification, dict)
    assert verification["status"] == status and words in str(verification["reason"]), verification
    [seen] = google.seen  # one read-only request
    assert seen.method == "GET" and seen.target == g.STORAGE and seen.body == b""
    assert f"Credential={access_id}/" in seen.headers["authorization"]
    sent = seen.target + "".join(f"{k}: {v}" for k, v in seen.headers.items())
    assert secret not in sent  # only the access id and the signature travel


def test_an_hmac_secret_without_its_access_id_is_not_sent() -> None:
    from scanner import verify
    from scanner.models import Finding

    planned = verify.plan(Finding("gcs-hmac-key", ".boto", 2, 1, hmac_secret(), "f" * 64, companion=""))
    assert isinstance(planned, verify.Verification) and planned.status == "unknown"
    assert "access id" in planned.reason


CHAT_CASES = [
    # (case, the token the space has: same, another, or no such space; status; words in the reason)
    ("the space's token", "same", "live", "nothing was posted"),
    ("another token", "other", "invalid", "HTTP 401"),
    ("the space is gone", None, "invalid", "HTTP 404"),
]


@pytest.mark.parametrize(("known", "status", "words"), [c[1:] for c in CHAT_CASES], ids=[c[0] for c in CHAT_CASES])
def test_a_chat_webhook_is_checked_by_an_empty_message_chat_refuses(tmp_path: Path, google: g.FakeGoogle,
                                                                   known: str | None, status: str, words: str) -> None:
    space, token = chat_space(), chat_token()
    if known is not None:
        google.chat_webhook(space, token if known == "same" else chat_token())
    (tmp_path / "notify.py").write_text(f'WEBHOOK = "{chat_url(token, space=space)}%3D"\n')
    proc = keysentry("scan", "--format", "json", "--verify", "--jobs", "1", cwd=tmp_path,
                     env={"KEYSENTRY_VERIFY_ENDPOINT": google.url})
    no_traceback(proc)
    [finding] = json.loads(proc.stdout)["findings"]
    verification = finding["verification"]
    assert verification["status"] == status and words in verification["reason"], verification
    [seen] = google.seen  # one request, at the webhook's own space
    assert seen.method == "POST" and seen.body == b"{}"
    assert seen.target.startswith(f"{g.CHAT_SPACES}{space}/messages?key=AIza")
    assert token.encode() not in proc.stdout + proc.stderr  # nowhere but that one request


def test_a_chat_token_whose_space_is_not_beside_it_is_not_sent(tmp_path: Path, google: g.FakeGoogle) -> None:
    url = chat_url(chat_token())
    before, after = url.split("key=")
    (tmp_path / "notify.py").write_text(f'URL = ("{before}"\n' + "# padding line\n" * 60 + f'       "key={after}")\n')
    found = _verified(tmp_path, google)
    verification = found["google-chat-webhook"]["verification"]
    assert isinstance(verification, dict)
    assert verification["status"] == "unknown" and "space was not found" in str(verification["reason"])
    assert google.seen == []
