"""The rest of the Google credential family (issue 19): each rule's true- and false-positive table,
its context and severity, its advice. Every credential is built at test time; snippets hold the
marker <<K>>, replaced by a fresh one.
"""
from __future__ import annotations

import base64
import json
import os
import string
from collections.abc import Callable

import pytest

from scanner.cli import main
from scanner.detect import Detector
from scanner.models import make_finding
from scanner.rules import RULES_BY_ID, Rule
from tests.conftest import detector_matches as _matches, google_key, located as _located, random_chars

# Every test here runs on each engine: they must find the same secrets.
pytestmark = pytest.mark.usefixtures("engine")

K = "<<K>>"


def _found(text: str, path: str = "snippet") -> list[tuple[str, int, int, str]]:
    """What the engine reports at PATH, without the whole-file dotenv-file finding."""
    return [m for m in _matches(text, path) if m[0] != "dotenv-file"]


def _one(rule_id: str, text: str, secret: str, path: str = "snippet") -> None:
    assert _found(text, path) == [(rule_id, *_located(text, secret), secret)]


def _context(text: str, path: str) -> tuple[str, str, str]:
    """(rule id, context, severity) of the one finding in TEXT at PATH."""
    [match] = [m for m in Detector().scan(text.encode(), path).matches if m.rule_id != "dotenv-file"]
    finding = make_finding(match, path)
    return finding.rule_id, finding.context, finding.severity


# --- google-chat-webhook ------------------------------------------------------------------------------

def chat_token() -> str:
    return random_chars(43)


def chat_space() -> str:
    return "AAAA" + random_chars(7)


def chat_url(token: str, key: str | None = None, space: str | None = None) -> str:
    return (f"https://chat.googleapis.com/v1/spaces/{space or chat_space()}/messages"
            f"?key={key or google_key()}&token={token}")


CHAT_FOUND = [
    pytest.param(lambda t: f'WEBHOOK = "{chat_url(t)}%3D"\n', "notify.py", id="python, percent-encoded padding"),
    pytest.param(lambda t: f"GOOGLE_CHAT_WEBHOOK_URL={chat_url(t)}=\n", ".env", id="dotenv, plain padding"),
    pytest.param(lambda t: f"const url = '{chat_url(t)}';\n", "alert.js", id="js, no padding"),
    pytest.param(lambda t: f"curl -X POST -H 'Content-Type: application/json' '{chat_url(t)}%3D' -d @msg.json\n",
                 "notify.sh", id="curl"),
    pytest.param(lambda t: f"      webhook: {chat_url(t)}%3D\n", ".github/workflows/ci.yml", id="workflow yaml"),
    pytest.param(lambda t: '{"url": "' + chat_url(t).replace("&", "\\u0026") + '"}', "config.json",
                 id="json \\u0026 separator"),
    pytest.param(lambda t: f'<a href="{chat_url(t).replace("&", "&amp;")}">chat</a>', "page.html", id="html &amp;"),
    pytest.param(lambda t: f"u = {chat_url(t)}&threadKey=deploys&messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD\n",
                 "n.py", id="parameters after the token"),
    pytest.param(lambda t: (f"u = https://chat.googleapis.com/v1/spaces/{chat_space()}/messages?threadKey=ci&key="
                            f"{google_key()}&token={t}\n"), "n.py", id="parameters before the key"),
    pytest.param(lambda t: (f'webhook_url = ("https://chat.googleapis.com/v1/spaces/{chat_space()}/messages?"\n'
                            f'               "key={google_key()}&token={t}")\n'), "n.py", id="split across two strings"),
]


@pytest.mark.parametrize(("make", "path"), CHAT_FOUND)
def test_chat_webhook_is_reported_for_its_token(make: Callable[[str], str], path: str) -> None:
    token = chat_token()
    _one("google-chat-webhook", make(token), token, path)


@pytest.mark.parametrize("text", [
    pytest.param("https://chat.googleapis.com/v1/spaces/AAAAhWiyzzE/messages?key=YOUR_API_KEY&token=YOUR_TOKEN",
                 id="placeholders"),
    pytest.param("https://chat.googleapis.com/v1/spaces/AAAA1234/messages?key=<key>&token=<token>", id="angle stand-ins"),
    pytest.param("https://chat.googleapis.com/v1/spaces/AAAA1234/messages?key=...&token=...", id="ellipses"),
    pytest.param("https://chat.googleapis.com/v1/spaces/AAAA1234/messages?key=x&token=abcdEFGH1234", id="short token"),
    pytest.param("https://chat.googleapis.com/v1/spaces/AAAA1234/messages?token=" + "x" * 43, id="xxx token"),
    pytest.param("https://chat.googleapis.com/v1/spaces/AAAA1234/messages?token=${CHAT_TOKEN}", id="template"),
    pytest.param("https://chat.googleapis.com/v1/spaces/S/messages", id="no query"),
    pytest.param("placeholder='https://chat.googleapis.com/v1/spaces/...'", id="elided"),
])
def test_chat_webhook_stand_ins_are_quiet(text: str) -> None:
    assert _found(text) == []


def test_a_token_longer_than_a_chat_token_is_not_one() -> None:
    url = chat_url(random_chars(60))
    assert _found(f"u = '{url}'\n") == []


@pytest.mark.parametrize("make", [
    pytest.param(lambda k: f"u = https://chat.googleapis.com/v1/spaces/AAAA1234/messages?key={k}&token=YOUR_TOKEN\n",
                 id="url with a stand-in token"),
    pytest.param(lambda k: f"u = https://chat.googleapis.com/v1/spaces/AAAA1234/messages?key={k}\n", id="url without token"),
    pytest.param(lambda k: f'p = "key={k}&token=" + token\n', id="before a token parameter"),
])
def test_a_chat_webhooks_key_is_never_a_google_api_key(make: Callable[[str], str]) -> None:
    # Whatever its value: in that place it is the one public key every Chat webhook carries.
    assert _found(make(google_key())) == []


def test_the_public_chat_key_is_known_wherever_it_stands() -> None:
    chat_key = "AIza" + "SyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI"  # public: the same in every Chat webhook URL
    scanned = Detector().scan(f'CHAT_KEY = "{chat_key}"\n'.encode(), "settings.py")
    assert (scanned.matches, scanned.allowed) == ((), 1)


def test_a_chat_webhook_beside_a_real_api_key_reports_both_apart() -> None:
    token, key = chat_token(), google_key()
    text = f'CHAT = "{chat_url(token)}"\nMAPS_KEY = "{key}"\n'
    assert _found(text) == [("google-chat-webhook", *_located(text, token), token),
                            ("google-api-key", *_located(text, key), key)]


def test_a_chat_key_stays_quiet_when_the_api_key_rule_is_off() -> None:
    token = chat_token()
    text = f'CHAT = "{chat_url(token)}"\n'
    found = Detector.configured(disabled=["google-api-key"]).scan(text.encode(), "a.py").matches
    assert [(m.rule_id, m.secret) for m in found] == [("google-chat-webhook", token)]


def test_a_chat_webhook_in_a_binary_is_found() -> None:
    token = chat_token()
    data = b"\x7fELF\0\0" + chat_url(token).encode() + b"\0" + bytes(range(256))
    assert [(m.rule_id, m.secret) for m in Detector().scan(data, "bin/notifier").matches] == [
        ("google-chat-webhook", token)]


# --- firebase-cloud-messaging-server-key -----------------------------------------------------------

def fcm_key(tail: int = 134) -> str:
    return "AAAA" + random_chars(7) + ":APA91b" + random_chars(tail)


FCM_FOUND = [
    pytest.param('<string name="fcm_server_key"><<K>></string>', "app/src/main/res/values/strings.xml",
                 id="android resource"),
    pytest.param("define('FIREBASE_SERVER_KEY', '<<K>>');", "config.php", id="php define"),
    pytest.param("headers = {'Authorization': 'key=<<K>>', 'Content-Type': 'application/json'}", "push.py",
                 id="legacy send header"),
    pytest.param("curl -H \"Authorization: key=<<K>>\" https://fcm.googleapis.com/fcm/send", "push.sh", id="curl"),
    pytest.param('{"serverKey": "<<K>>"}', "firebase.json", id="json"),
    pytest.param("FCM_SERVER_KEY=<<K>>\n", ".env", id="dotenv"),
]


@pytest.mark.parametrize(("snippet", "path"), FCM_FOUND)
def test_fcm_server_key_is_found(snippet: str, path: str) -> None:
    key = fcm_key()
    _one("firebase-cloud-messaging-server-key", snippet.replace(K, key), key, path)


@pytest.mark.parametrize("tail", [120, 152, 180])
def test_fcm_server_keys_of_every_length_are_found(tail: int) -> None:
    key = fcm_key(tail)
    _one("firebase-cloud-messaging-server-key", f'k = "{key}"', key)


@pytest.mark.parametrize("make", [
    pytest.param(lambda: "dQw4" + random_chars(7) + ":APA91b" + random_chars(134), id="device registration token"),
    pytest.param(lambda: fcm_key(60), id="too short"),
    pytest.param(lambda: fcm_key(200), id="too long"),
    pytest.param(lambda: "AAAA" + random_chars(7) + ":APA91b" + "x" * 134, id="xxx body"),
    pytest.param(lambda: "AAAA" + random_chars(7) + ":APA91b" + "<YOUR_SERVER_KEY>", id="placeholder"),
    pytest.param(lambda: "x" + fcm_key(), id="inside a longer token"),
])
def test_fcm_lookalikes_are_quiet(make: Callable[[], str]) -> None:
    assert _found(f'k = "{make()}"') == []


def test_fcm_server_key_in_an_apk_is_found() -> None:
    key = fcm_key()
    data = b"dex\n035\0" + bytes(range(256)) + b"\0\x98" + key.encode() + b"\0" + bytes(range(256))
    assert [(m.rule_id, m.secret) for m in Detector().scan(data, "classes.dex").matches] == [
        ("firebase-cloud-messaging-server-key", key)]


def test_fcm_server_key_shipped_in_an_app_is_critical() -> None:
    text = f'<string name="gcm_server_key">{fcm_key()}</string>'
    assert _context(text, "app/src/main/res/values/strings.xml") == (
        "firebase-cloud-messaging-server-key", "android-resource", "critical")
    assert _context(f'FCM_SERVER_KEY = "{fcm_key()}"\n', "server/push.py") == (
        "firebase-cloud-messaging-server-key", "generic", "high")


# --- google-oauth-client-secret: the legacy 24-character secret ------------------------------------

def client_id() -> str:
    return (random_chars(12, string.digits) + "-" + random_chars(32, string.ascii_lowercase + string.digits)
            + ".apps.googleusercontent.com")


def legacy_secret() -> str:
    while True:  # random, as Google made them: a digit or both cases (a 24-character draw lacks both ~never)
        value = random_chars(24)
        if any(c.isdigit() for c in value) or value.lower() != value != value.upper():
            return value


def _client_secret_json(kind: str, cid: str, secret: str) -> str:
    return json.dumps({kind: {"client_id": cid, "project_id": "demo-123", "auth_uri": "https://accounts.google.com/"
                              "o/oauth2/auth", "token_uri": "https://oauth2.googleapis.com/token",
                              "client_secret": secret, "redirect_uris": ["urn:ietf:wg:oauth:2.0:oob"]}}, indent=2)


LEGACY_FOUND = [
    pytest.param(lambda c, s: _client_secret_json("installed", c, s), "client_secret.json", id="client_secret.json installed"),
    pytest.param(lambda c, s: _client_secret_json("web", c, s), "client_secret_123.json", id="client_secret.json web"),
    pytest.param(lambda c, s: f"const CLIENT_ID = '{c}';\nconst CLIENT_SECRET = '{s}';\n", "auth.js", id="js pair"),
    pytest.param(lambda c, s: f"GOOGLE_CLIENT_ID={c}\nGOOGLE_CLIENT_SECRET={s}\n", ".env", id="dotenv pair"),
    pytest.param(lambda c, s: f"flow = OAuth2WebServerFlow(client_id='{c}',\n    client_secret='{s}',\n    scope=SCOPE)",
                 "oauth.py", id="python kwargs"),
    pytest.param(lambda c, s: f"google:\n  clientId: {c}\n  clientSecret: {s}\n", "application.yml", id="yaml"),
    pytest.param(lambda c, s: f"<client_id>{c}</client_id>\n<client_secret>{s}</client_secret>", "oauth.xml", id="xml"),
    pytest.param(lambda c, s: f"gcloud auth application-default login --client-id={c} --client-secret {s}", "setup.sh",
                 id="cli flags"),
    pytest.param(lambda c, s: f"$google_client_secret = '{s}';\n", "config.php", id="google name, no client id"),
    pytest.param(lambda c, s: f"GOOGLE_OAUTH2_CLIENT_SECRET = \"{s}\"\n", "settings.py", id="google oauth2 name"),
]


@pytest.mark.parametrize(("make", "path"), LEGACY_FOUND)
def test_legacy_client_secret_is_found(make: Callable[[str, str], str], path: str) -> None:
    secret = legacy_secret()
    _one("google-oauth-client-secret", make(client_id(), secret), secret, path)


def test_legacy_client_secret_carries_its_client_id() -> None:
    cid, secret = client_id(), legacy_secret()
    [match] = Detector().scan(_client_secret_json("installed", cid, secret).encode(), "client_secret.json").matches
    assert (match.rule_id, match.secret, match.companion) == ("google-oauth-client-secret", secret, cid)


@pytest.mark.parametrize("make", [
    pytest.param(lambda c: f"clientSecret: '{legacy_secret()}'\n", id="no client id, no google name"),
    pytest.param(lambda c: f"FACEBOOK_CLIENT_SECRET={legacy_secret()}\n", id="another provider's name"),
    pytest.param(lambda c: f"client_id={c}\nclient_secret='GOOGLE_CLIENT_SECRET_KEY'\n", id="a name as the value"),
    pytest.param(lambda c: f"client_id={c}\nclient_secret='aaaaaaaaaaaaaaaaaaaaaaa-'\n", id="low entropy"),
    pytest.param(lambda c: f"client_id={c}\nclient_secret='xxxxxxxxxxxxxxxxxxxxxxxx'\n", id="xxx"),
    pytest.param(lambda c: f"client_id={c}\nclient_secret='abcdefghijklmnopqrstuvwx'\n", id="alphabet run"),
    pytest.param(lambda c: f"client_id={c}\nclient_secret='{legacy_secret()}x'\n", id="25 characters"),
    pytest.param(lambda c: f"client_id={c}\nclient_secret='{legacy_secret()[:-1]}'\n", id="23 characters"),
    pytest.param(lambda c: f"client_id={c}\nclient_secrets_file='{legacy_secret()}'\n", id="another name"),
    pytest.param(lambda c: f"client_id={c}\nclient_secret=os.environ['GOOGLE_CLIENT_SECRET']\n", id="lookup"),
    pytest.param(lambda c: f"client_id={c}\n" + "\n" * 2100 + f"client_secret='{legacy_secret()}'\n",
                 id="client id too far"),
])
def test_legacy_client_secret_lookalikes_are_quiet(make: Callable[[str], str]) -> None:
    assert _found(make(client_id())) == []


def test_the_cloud_sdks_published_client_secrets_are_known() -> None:
    # Installed apps cannot keep a secret: gcloud ships these, and writes the first into every
    # application_default_credentials.json (`gcloud auth application-default login`).
    adc = "764086051850-6qr4p6gpi6hn506pt8ejuq83di341hur.apps.googleusercontent.com"
    for secret in ("d-FL95Q19q7" + "MQmFpd7hHD0Ty", "ZmssLNjJy2998" + "hD4CTg2ejr2"):
        text = json.dumps({"client_id": adc, "client_secret": secret, "type": "authorized_user"})
        scanned = Detector().scan(text.encode(), "application_default_credentials.json")
        assert (scanned.matches, scanned.allowed) == ((), 1)


def test_gocspx_secret_needs_no_client_id() -> None:
    secret = "GOCSPX-" + random_chars(28)
    _one("google-oauth-client-secret", f"clientSecret: '{secret}'\n", secret)


# --- gcs-hmac-key ----------------------------------------------------------------------------------

def hmac_access_id(user: bool = False) -> str:
    alphabet = string.ascii_uppercase + string.digits
    return "GOOG" + random_chars(20, alphabet) if user else "GOOG1E" + random_chars(55, alphabet)


def hmac_secret() -> str:
    while True:  # 30 random bytes in base64, as Google makes them (mixed case all but ~never fails)
        value = base64.b64encode(os.urandom(30)).decode()
        if value.lower() != value != value.upper():
            return value


HMAC_FOUND = [
    pytest.param(lambda a, s: f"[Credentials]\ngs_access_key_id = {a}\ngs_secret_access_key = {s}\n", ".boto",
                 id="boto config"),
    pytest.param(lambda a, s: f"[gcs]\ntype = s3\nprovider = GCS\naccess_key_id = {a}\nsecret_access_key = {s}\n"
                              "endpoint = https://storage.googleapis.com\n", "rclone.conf", id="rclone"),
    pytest.param(lambda a, s: f"GCS_ACCESS_KEY_ID={a}\nGCS_SECRET_ACCESS_KEY={s}\n", ".env", id="dotenv"),
    pytest.param(lambda a, s: json.dumps({"metadata": {"accessId": a, "state": "ACTIVE"}, "secret": s}, indent=2),
                 "hmac.json", id="gcloud storage hmac create --format=json"),
    pytest.param(lambda a, s: (f's3 = boto3.client("s3", endpoint_url="https://storage.googleapis.com",\n'
                               f'                  aws_access_key_id="{a}",\n                  aws_secret_access_key="{s}")\n'),
                 "sync.py", id="boto3 against storage.googleapis.com"),
    pytest.param(lambda a, s: f'secret: "{s}"\naccess_id: "{a}"\n', "values.yaml", id="secret before its id"),
    pytest.param(lambda a, s: f"{a}:{s}", "creds.txt", id="id:secret"),
]


@pytest.mark.parametrize(("make", "path"), HMAC_FOUND)
@pytest.mark.parametrize("user", [False, True], ids=["service account", "user account"])
def test_gcs_hmac_key_is_found_at_its_secret_with_its_access_id(make: Callable[[str, str], str], path: str,
                                                                 user: bool) -> None:
    access_id, secret = hmac_access_id(user), hmac_secret()
    text = make(access_id, secret)
    _one("gcs-hmac-key", text, secret, path)
    [match] = [m for m in Detector().scan(text.encode(), path).matches if m.rule_id == "gcs-hmac-key"]
    assert match.companion == access_id


@pytest.mark.parametrize("make", [
    pytest.param(lambda a: f"gs_access_key_id = {a}\n", id="access id alone"),
    pytest.param(lambda a: f"gs_secret_access_key = {hmac_secret()}\n", id="secret alone"),
    pytest.param(lambda a: f"aws_access_key_id = AKIA{random_chars(16, string.ascii_uppercase)}\n"
                           f"aws_secret_access_key = {hmac_secret()}\n", id="an AWS key pair"),
    pytest.param(lambda a: f"access_id = {a}\ncommit = {random_chars(40, '0123456789abcdef')}\n", id="a git sha"),
    pytest.param(lambda a: f"access_id = {a}\nsecret = {'x' * 40}\n", id="xxx secret"),
    pytest.param(lambda a: f"access_id = {a}\nsecret = <YOUR_HMAC_SECRET_GOES_HERE_0123456789>\n", id="placeholder"),
    pytest.param(lambda a: f"access_id = {a}\npath = src/main/java/com/example/project/Util\n", id="a path"),
    pytest.param(lambda a: f"access_id = {a}\nblob = {base64.b64encode(os.urandom(300)).decode()}\n",
                 id="inside a longer base64 run"),
    pytest.param(lambda a: f"access_id = {a}\n" + "# filler line\n" * 200 + f"secret = {hmac_secret()}\n",
                 id="secret too far from the id"),
    pytest.param(lambda a: f"access_id = {a.lower()}\nsecret = {hmac_secret()}\n", id="lower-case id"),
    pytest.param(lambda a: f"access_id = {a[:-3]}\nsecret = {hmac_secret()}\n", id="id of the wrong length"),
])
def test_gcs_hmac_lookalikes_are_quiet(make: Callable[[str], str]) -> None:
    assert _found(make(hmac_access_id())) == []


# --- recaptcha-secret-key --------------------------------------------------------------------------

def recaptcha_key() -> str:
    return "6L" + random_chars(1, "cdef") + random_chars(37)


RECAPTCHA_FOUND = [
    pytest.param("RECAPTCHA_SECRET_KEY=<<K>>\n", ".env", id="dotenv"),
    pytest.param("RECAPTCHA_PUBLIC_KEY = '<<S>>'\nRECAPTCHA_PRIVATE_KEY = '<<K>>'\n", "settings.py", id="django pair"),
    pytest.param("recaptcha_site_key: <<S>>\nrecaptcha_secret_key: <<K>>\n", "config.yml", id="yaml pair"),
    pytest.param("recaptcha:\n  public_key: <<S>>\n  private_key: <<K>>\n", "config.yml", id="yaml block"),
    pytest.param('{"recaptcha": {"public_key": "<<S>>", "secret_key": "<<K>>"}}', "config.json", id="inline json"),
    pytest.param('{\\n  \\"recaptcha\\": {\\"secret_key\\": \\"<<K>>\\"}}', "dump.txt", id="escaped json"),
    pytest.param("recaptchaSecret <<K>>\n", "app.conf", id="space between"),
    pytest.param('recaptchaV3Secret := "<<K>>"\n', "main.go", id="go"),
    pytest.param('<add key="reCaptchaSecret" value="<<K>>"/>', "Web.config", id="appSettings"),
    pytest.param("captchaenterprise.googleapis.com/?secret=<<K>>", "notes.txt", id="url"),
    pytest.param("define('RECAPTCHA_SECRET', '<<K>>');", "config.php", id="php define"),
    pytest.param("$recaptcha = new \\ReCaptcha\\ReCaptcha('<<K>>');", "form.php", id="php library constructor"),
    pytest.param("$data['recaptcha_v2_secret_key'] = '<<K>>';", "form.php", id="php array"),
    pytest.param("const secret = process.env.RECAPTCHA_SECRET_KEY || '<<K>>';", "verify.js", id="js fallback"),
    pytest.param('private static string CAPTCHA_SECRET_KEY = @"<<K>>";', "ReCaptcha.cs", id="csharp verbatim"),
    pytest.param("data = {'secret': '<<K>>', 'response': token}", "views.py", id="siteverify form"),
]


@pytest.mark.parametrize(("snippet", "path"), RECAPTCHA_FOUND)
def test_recaptcha_secret_key_is_found_and_its_site_key_is_not(snippet: str, path: str) -> None:
    secret = recaptcha_key()
    _one("recaptcha-secret-key", snippet.replace(K, secret).replace("<<S>>", recaptcha_key()), secret, path)


@pytest.mark.parametrize("snippet", [
    pytest.param("RECAPTCHA_SITE_KEY=<<K>>\n", id="site key"),
    pytest.param('<div class="g-recaptcha" data-sitekey="<<K>>"></div>', id="widget"),
    pytest.param("grecaptcha.execute('<<K>>', {action: 'submit'})", id="v3 execute"),
    pytest.param('<script src="https://www.google.com/recaptcha/api.js?render=<<K>>"></script>', id="v3 loader"),
    pytest.param("RECAPTCHA_KEY = '<<K>>'\n", id="ambiguous name"),
    pytest.param("recaptcha_secret = '6L<<K>>'\n", id="too long"),
    pytest.param("NOT_A_KEY = \"6LeD4a3XAAAAA-INVALID-1234567890\"\n", id="too short"),
    pytest.param("RECAPTCHA_SECRET_KEY=6Lxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n", id="xxx"),
])
def test_recaptcha_lookalikes_and_site_keys_are_quiet(snippet: str) -> None:
    assert _found(snippet.replace(K, recaptcha_key())) == []


def test_googles_published_recaptcha_test_secret_is_known() -> None:
    test_secret = "6LeIxAcT" + "AAAAAGG-vFI1TnRWxMZNFuojJ4WifJWe"  # reCAPTCHA FAQ: passes every check, by design
    scanned = Detector().scan(f"RECAPTCHA_PRIVATE_KEY = '{test_secret}'\n".encode(), "settings.py")
    assert (scanned.matches, scanned.allowed) == ((), 1)


# --- google-maps-signing-secret ---------------------------------------------------------------------

def maps_secret() -> str:
    return random_chars(27) + "="


MAPS_FOUND = [
    pytest.param('gmaps = googlemaps.Client(client_id="gme-acme", client_secret="<<K>>")', "geo.py",
                 id="python client: gme- client id"),
    pytest.param("GOOGLE_MAPS_URL_SIGNING_SECRET=<<K>>\n", ".env", id="signing secret name"),
    pytest.param("maps:\n  client: gme-acme\n  secret: <<K>>\n", "config.yml", id="yaml beside the client id"),
    pytest.param("urlSigningSecret: '<<K>>',", "maps.js", id="js signing name"),
    pytest.param("const signed = signUrl(url, '<<K>>');", "maps.js", id="signing call argument"),
    pytest.param("crypto_key: <<K>>\n", "gmaps.yml", id="premium plan crypto key"),
    pytest.param("MAPS_PRIVATE_KEY = '<<K>>'\n", "settings.py", id="maps private key"),
    pytest.param("SECRET = '<<K>>'\nurl += '&signature=' + sign(url, SECRET)\n", "sign.py", id="beside signature="),
]


@pytest.mark.parametrize(("snippet", "path"), MAPS_FOUND)
def test_maps_signing_secret_is_found(snippet: str, path: str) -> None:
    secret = maps_secret()
    _one("google-maps-signing-secret", snippet.replace(K, secret), secret, path)


def test_maps_signing_secret_carries_its_client_id() -> None:
    text = f'googlemaps.Client(client_id="gme-acme-corp", client_secret="{maps_secret()}")'
    [match] = Detector().scan(text.encode(), "geo.py").matches
    assert match.companion == "gme-acme-corp"


@pytest.mark.parametrize("snippet", [
    pytest.param("https://maps.googleapis.com/maps/api/staticmap?center=a&client=gme-acme&signature=<<K>>",
                 id="a signed url's signature"),
    pytest.param("sig = '<<K>>'  # maps", id="a signature's name"),
    pytest.param("SECRET = '<<K>>'\n", id="generic secret, no client id"),
    pytest.param("maps_etag = '<<K>>'\n", id="not a secret's name"),
    pytest.param("client_secret = '<<K>>'  # maps\n", id="client secret without gme- client id"),
    pytest.param("GOOGLE_MAPS_URL_SIGNING_SECRET=<<K>>x\n", id="longer than a secret"),
    pytest.param("GOOGLE_MAPS_URL_SIGNING_SECRET=abc+<<K>>\n", id="inside standard base64"),
    pytest.param("GOOGLE_MAPS_URL_SIGNING_SECRET=xxxxxxxxxxxxxxxxxxxxxxxxxxx=\n", id="xxx"),
])
def test_maps_signing_lookalikes_are_quiet(snippet: str) -> None:
    assert _found(snippet.replace(K, maps_secret())) == []


# --- every new rule: its advice is its own ---------------------------------------------------------

NEW_RULES = {
    "google-chat-webhook": ("Webhooks", "chat.google.com"),
    "firebase-cloud-messaging-server-key": ("Cloud Messaging", "console.firebase.google.com"),
    "gcs-hmac-key": ("Interoperability", "console.cloud.google.com/storage/settings"),
    "recaptcha-secret-key": ("reCAPTCHA admin console", "google.com/recaptcha/admin"),
    "google-maps-signing-secret": ("Google Maps Platform > Credentials", "console.cloud.google.com/google/maps-apis"),
}


@pytest.mark.parametrize("rule_id", sorted(NEW_RULES))
def test_each_new_rule_says_where_its_secret_is_revoked(rule_id: str) -> None:
    rule = RULES_BY_ID[rule_id]
    assert isinstance(rule, Rule)
    console, address = NEW_RULES[rule_id]
    assert console in rule.rotate and console in rule.remediation
    assert any(address in link for _, link in rule.where)
    # Its own fix, never the API-key advice a context gives (restrict the key, read GEMINI_API_KEY).
    assert rule.fix and "AI Studio" not in rule.remediation + rule.rotate + rule.fix
    assert "GEMINI_API_KEY" not in rule.env_vars


# --- every new rule: listed, and judged where it sits ------------------------------------------------

def test_keysentry_rules_lists_every_new_rule_in_one_column(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules"]) == 0
    lines = capsys.readouterr().out.splitlines()
    listed = {line.split()[0]: line for line in lines if line and not line.startswith("engine")}
    assert set(NEW_RULES) <= set(listed)
    assert len({line.index(line.split()[1]) for line in listed.values()}) == 1  # descriptions aligned


# (rule id, a line holding its secret, the severity it has by default)
_HOMES: list[tuple[str, Callable[[], str], str]] = [
    ("google-chat-webhook", lambda: f"CHAT_URL={chat_url(chat_token())}\n", "medium"),
    ("firebase-cloud-messaging-server-key", lambda: f"FCM_SERVER_KEY={fcm_key()}\n", "high"),
    ("gcs-hmac-key", lambda: f"GCS_ID={hmac_access_id()}\nGCS_SECRET={hmac_secret()}\n", "high"),
    ("recaptcha-secret-key", lambda: f"RECAPTCHA_SECRET_KEY={recaptcha_key()}\n", "medium"),
    ("google-maps-signing-secret", lambda: f"MAPS_SIGNING_SECRET={maps_secret()}\n", "high"),
    ("google-oauth-client-secret", lambda: f"GOOGLE_CLIENT_SECRET={legacy_secret()}\n", "high"),
]


@pytest.mark.parametrize(("rule_id", "make", "severity"), _HOMES, ids=[h[0] for h in _HOMES])
@pytest.mark.parametrize(("path", "context"), [
    ("deploy/prod.env", "service-config"), ("tests/fixtures/creds.txt", "test-fixture"),
    ("docs/setup.md", "docs"), ("src/notify.py", "generic"),
])
def test_each_new_rule_has_its_context_and_severity(rule_id: str, make: Callable[[], str], severity: str,
                                                    path: str, context: str) -> None:
    assert _context(make(), path) == (rule_id, context, severity)
