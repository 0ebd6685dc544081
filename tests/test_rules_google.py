"""The Google credential family: fixed formats found wherever they sit, and only as whole tokens.

Snippets hold the marker <<K>>, replaced at test time by a freshly generated credential.
"""
from __future__ import annotations

import base64
import json
import os
import random
import secrets
import string
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.detect import Detector
from scanner.filters import plausible_fixed_format
from tests.conftest import detector_matches as _matches, located as _located, KEY_ALPHABET, google_key, random_chars

# Every test here runs on each engine: they must find the same secrets.
pytestmark = pytest.mark.usefixtures("engine")

K = "<<K>>"


def gemini_key() -> str:
    return "AQ.Ab" + random_chars(48)


def client_secret() -> str:
    return "GOCSPX-" + random_chars(28)


def access_token() -> str:
    return "ya29." + random_chars(150)


def refresh_token() -> str:
    return "1//0" + random_chars(99)


def pem_private_key() -> str:
    """A PEM block around random base64, escaped the way a JSON key file stores it; never a real key."""
    body = base64.b64encode(os.urandom(1190)).decode()
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN PRIVATE KEY-----\n" + "\n".join(lines) + "\n-----END PRIVATE KEY-----\n"


def service_account_json(private_key: str | None = None) -> str:
    return json.dumps({
        "type": "service_account",
        "project_id": "demo-project",
        "private_key_id": random_chars(40, "0123456789abcdef"),
        "private_key": private_key if private_key is not None else pem_private_key(),
        "client_email": "deployer@demo-project.iam.gserviceaccount.com",
        "client_id": "1" + random_chars(20, "0123456789"),
        "token_uri": "https://oauth2.googleapis.com/token",
    }, indent=2)


# Where Google API keys are found in the wild, with every character that may end one.
API_KEY_CONTEXTS = [
    pytest.param('client = genai.Client(api_key="<<K>>")', id="python"),
    pytest.param("genai.configure(api_key='<<K>>')", id="python single quotes"),
    pytest.param("const ai = new GoogleGenAI({ apiKey: `<<K>>` });", id="js template literal"),
    pytest.param('const firebaseConfig = {\n  apiKey: "<<K>>",\n  authDomain: "demo.firebaseapp.com",\n};',
                 id="firebase config"),
    pytest.param('&genai.ClientConfig{APIKey: "<<K>>"}', id="go"),
    pytest.param('String key = "<<K>>";', id="java"),
    pytest.param('val key = "<<K>>"', id="kotlin"),
    pytest.param('let key = "<<K>>"', id="swift"),
    pytest.param('var key = "<<K>>";', id="csharp"),
    pytest.param("KEY = '<<K>>'.freeze", id="ruby"),
    pytest.param("$key = '<<K>>';", id="php"),
    pytest.param('let key = "<<K>>".to_string();', id="rust"),
    pytest.param("export MAPS=<<K>>", id="shell"),
    pytest.param("key=<<K>>\r\nother=1\r\n", id="crlf"),
    pytest.param('{"key": "<<K>>"}', id="json"),
    pytest.param('"{\\"key\\":\\"<<K>>\\"}"', id="json escaped quote"),
    pytest.param('"text": "first line\\n<<K>>"', id="after json \\n escape"),
    pytest.param('"url": "https://x.test/?key\\u003d<<K>>\\u0026cb=1"', id="after json \\u003d escape"),
    pytest.param("s = b'\\x00<<K>>'", id="after \\x escape"),
    pytest.param("maps:\n  key: <<K>>\n", id="yaml"),
    pytest.param('[maps]\nkey = "<<K>>"\n', id="toml"),
    pytest.param("[maps]\nkey=<<K>>\n", id="ini"),
    pytest.param("maps.key=<<K>>", id="properties"),
    pytest.param('<string name="google_maps_key" templateMergeStrategy="preserve" translatable="false"><<K>></string>',
                 id="google_maps_api.xml"),
    pytest.param("<key>API_KEY</key>\n\t<string><<K>></string>", id="GoogleService-Info.plist"),
    pytest.param('<script src="https://maps.googleapis.com/maps/api/js?key=<<K>>&callback=initMap"></script>',
                 id="html script followed by &"),
    pytest.param('<script async src="https://maps.googleapis.com/maps/api/js?key=<<K>>"></script>',
                 id="followed by double quote"),
    pytest.param("src='https://maps.googleapis.com/maps/api/js?key=<<K>>'", id="followed by single quote"),
    pytest.param("<td><<K>></td>", id="followed by <"),
    pytest.param("keys = [<<K>>, other]", id="followed by comma"),
    pytest.param("load(<<K>>)", id="followed by )"),
    pytest.param("KEY=<<K>>; export KEY", id="followed by ;"),
    pytest.param("key <<K>> here", id="followed by space"),
    pytest.param("key\t<<K>>\tvalue", id="followed by tab"),
    pytest.param("<<K>>", id="alone at end of file"),
    pytest.param("key: <<K>>\n", id="end of line"),
    pytest.param("Use `<<K>>` for the demo.", id="markdown inline code"),
    pytest.param("| env | key |\n|---|---|\n| prod | <<K>> |", id="markdown table"),
    pytest.param("name,key,owner\nmaps,<<K>>,ada\n", id="csv"),
    pytest.param('"source": ["genai.configure(api_key=\\"<<K>>\\")\\n"]', id="notebook"),
    pytest.param('!function(e){var t={apiKey:"<<K>>",projectId:"p"};e.init(t)}(window);', id="minified"),
    pytest.param('{"version":3,"sourcesContent":["const key = \\"<<K>>\\";\\n"],"mappings":"AAAA"}',
                 id="source map"),
    pytest.param("https://www.googleapis.com/youtube/v3/search?part=snippet&key%3D<<K>>", id="url encoded"),
    pytest.param('KEY="${GOOGLE_API_KEY:-<<K>>}"', id="shell default"),
    pytest.param("# Maps key: <<K>>.", id="comment followed by period"),
]


@pytest.mark.parametrize("snippet", API_KEY_CONTEXTS)
def test_google_api_key_detects(snippet: str) -> None:
    key = google_key()
    text = snippet.replace(K, key)
    assert _matches(text) == [("google-api-key", *_located(text, key), key)]


@pytest.mark.parametrize("snippet", [
    pytest.param("x<<K>>", id="letter before"),
    pytest.param("<<K>>x", id="letter after"),
    pytest.param("9<<K>>", id="digit before"),
    pytest.param("<<K>>0", id="digit after"),
    pytest.param("_<<K>>", id="underscore before"),
    pytest.param("<<K>>-tail", id="dash after"),
    pytest.param("prefix-<<K>>", id="dash before"),
    pytest.param('"token": "eyJhbGciOi<<K>>Qssw5c"', id="inside a jwt-like token"),
    pytest.param("data:image/png;base64,iVBORw0KGgo<<K>>AAAAElFTkSuQmCC", id="inside base64"),
])
def test_google_api_key_ignores_key_inside_longer_token(snippet: str) -> None:
    assert _matches(snippet.replace(K, google_key())) == []


@pytest.mark.parametrize("value", [
    pytest.param("AIza" + "X" * 35, id="xxx"),
    pytest.param("AIzaSyXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", id="documentation xxx"),
    pytest.param("AIzaSy" + "A" * 33, id="single character run"),
    pytest.param("AIzaSy" + "0123456789" * 3 + "012", id="counting run"),
    pytest.param("AIzaSyYOUR_API_KEY_GOES_HERE_1234567890"[:39], id="your api key"),
    pytest.param("AIzaSyExampleKeyExampleKeyExampleKey123"[:39], id="example"),
    pytest.param("AIzaSyD-REDACTED-REDACTED-REDACTED-1234"[:39], id="redacted"),
    pytest.param("AIza" + "Sy" + "a1" * 16 + "b", id="two-character pattern"),
])
def test_google_api_key_ignores_stand_ins(value: str) -> None:
    assert len(value) == 39
    assert _matches(f'api_key = "{value}"\n') == []


@pytest.mark.parametrize("value", [
    pytest.param(lambda: "AIzaSy" + random_chars(32), id="one short"),
    pytest.param(lambda: "AIzaSy" + random_chars(34), id="one long"),
    pytest.param(lambda: "AIzb" + random_chars(35), id="wrong prefix"),
    pytest.param(lambda: "aiza" + random_chars(35), id="lower-case prefix"),
])
def test_google_api_key_ignores_wrong_shapes(value: Callable[[], str]) -> None:
    assert [m for m in _matches(f"k = {value()}\n") if m[0] == "google-api-key"] == []


# The other fixed formats, each in a few real-world homes.
FIXED_FORMATS = [
    pytest.param("google-gemini-key", gemini_key, 'client = genai.Client(api_key="<<K>>")', id="gemini python"),
    pytest.param("google-gemini-key", gemini_key, "export GEMINI_API_KEY=<<K>>", id="gemini shell"),
    pytest.param("google-gemini-key", gemini_key, '-H "x-goog-api-key: <<K>>"', id="gemini header"),
    pytest.param("google-gemini-key", gemini_key, "GEMINI_API_KEY=<<K>>\r\n", id="gemini crlf"),
    pytest.param("google-gemini-key", gemini_key, "curl 'https://g.test/v1?key=<<K>>&alt=sse'", id="gemini query"),
    pytest.param("google-oauth-client-secret", client_secret,
                 '{"installed":{"client_id":"1-abc.apps.googleusercontent.com","client_secret":"<<K>>"}}',
                 id="client_secret.json"),
    pytest.param("google-oauth-client-secret", client_secret, "GOOGLE_CLIENT_SECRET=<<K>>", id="client secret env"),
    pytest.param("google-oauth-client-secret", client_secret, "clientSecret: '<<K>>',", id="client secret js"),
    pytest.param("google-oauth-token", access_token, 'Authorization: Bearer <<K>>', id="access token header"),
    pytest.param("google-oauth-token", access_token, '{"access_token": "<<K>>", "expires_in": 3599}',
                 id="access token json"),
    pytest.param("google-oauth-token", refresh_token, 'REFRESH_TOKEN="<<K>>"', id="refresh token"),
    pytest.param("google-oauth-token", refresh_token, '"refresh_token":"<<K>>"', id="refresh token json"),
]


@pytest.mark.parametrize(("rule_id", "make", "snippet"), FIXED_FORMATS)
def test_google_fixed_formats_detect(rule_id: str, make: Callable[[], str], snippet: str) -> None:
    secret = make()
    text = snippet.replace(K, secret)
    assert _matches(text) == [(rule_id, *_located(text, secret), secret)]


@pytest.mark.parametrize("text", [
    pytest.param("AQ.Ab" + "x" * 48, id="gemini xxx"),
    pytest.param("AQ.Ab<YOUR_KEY>", id="gemini angle placeholder"),
    pytest.param("AQ.Ab12345", id="gemini too short"),
    pytest.param("GOCSPX-" + "X" * 28, id="client secret xxx"),
    pytest.param("GOCSPX-<client-secret>", id="client secret placeholder"),
    pytest.param("GOCSPX-" + "aB3dE5" * 5, id="client secret too long"),
    pytest.param("ya29.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", id="access token xxx"),
    pytest.param("ya29.a0Af...", id="access token elided"),
    # A recorded HTTP cassette's scrubbed stand-in: words a person typed, not a token.
    pytest.param('"access_token": "ya29.FILTERED_ACCESS_TOKEN_XXX"', id="access token scrubbed stand-in"),
    pytest.param('"refresh_token": "1//0REDACTED_REFRESH_TOKEN_FOR_TESTS"', id="refresh token scrubbed stand-in"),
    pytest.param("ya29.<ACCESS_TOKEN>", id="access token placeholder"),
    pytest.param("1//0xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", id="refresh token xxx"),
    pytest.param("see https://host/1//0abc", id="refresh token too short"),
])
def test_google_fixed_formats_ignore(text: str) -> None:
    assert _matches(text) == []


@pytest.mark.parametrize("make", [
    pytest.param(lambda: "AIzaSy" + string.ascii_lowercase + "1234567", id="api key alphabet"),
    pytest.param(lambda: "AIzaSy" + random_chars(10) + "AbCdEfGhIjKlMnOpQrStUvW", id="api key alternating alphabet"),
    pytest.param(lambda: "AQ.Ab8RN6" + "AbCdEfGhIjKlMnOpQrStUvWxYz" + "0123456789_-" + random_chars(6),
                 id="gemini alphabet and digits"),
    pytest.param(lambda: "GOCSPX-" + "qwertyuiop" + random_chars(18), id="client secret keyboard row"),
    pytest.param(lambda: "AIzaSyDummyKeyForTestingPurposesOnly1234", id="api key made of words"),
    pytest.param(lambda: "GOCSPX-" + "FakeClientSecretForUnitTests1", id="client secret made of words"),
    pytest.param(lambda: "AQ.Ab" + "ThisIsNotARealGeminiKeyItIsForTestsOnlyOk1234", id="gemini key made of words"),
    pytest.param(lambda: "ya29." + "test_access_token_for_unit_tests", id="access token made of words"),
    pytest.param(lambda: "1//0" + "refreshTokenForTheIntegrationTests", id="refresh token made of words"),
])
def test_google_fixed_formats_ignore_typed_runs(make: Callable[[], str]) -> None:
    assert _matches(f'api_key = "{make()}"\n') == []


@pytest.mark.parametrize("make", [refresh_token, access_token], ids=["refresh token", "access token"])
@pytest.mark.parametrize("ellipsis", ["...", "…"])
def test_oauth_token_cut_short_by_an_ellipsis_is_an_illustration(make: Callable[[], str], ellipsis: str) -> None:
    # Docs and comments show the start of a token and elide the rest: long enough to match, not a token.
    assert _matches(f'# BEARER_TOKEN = "{make()[:44]}{ellipsis}"\n') == []


@pytest.mark.parametrize("make", [refresh_token, access_token], ids=["refresh token", "access token"])
@pytest.mark.parametrize("joint", ["+", "/"])
def test_oauth_token_start_inside_a_base64_run_is_no_token(make: Callable[[], str], joint: str) -> None:
    # A notebook's `data:audio/x-wav;base64,…` output holds `1//0` and `ya29.` by chance.
    payload = base64.b64encode(os.urandom(300)).decode()
    text = f'"audio": "data:audio/x-wav;base64,{payload[:100]}{joint}{make()}{joint}{payload[100:]}"'
    assert [m for m in _matches(text) if m[0] == "google-oauth-token"] == []


@pytest.mark.parametrize("make", [refresh_token, access_token], ids=["refresh token", "access token"])
def test_oauth_token_after_a_base64_run_separator_is_still_found(make: Callable[[], str]) -> None:
    token = make()
    text = f'{{"payload": "{base64.b64encode(os.urandom(30)).decode()}", "token": "{token}"}}'
    assert _matches(text) == [("google-oauth-token", *_located(text, token), token)]


@pytest.mark.parametrize(("rule_id", "make"), [
    pytest.param("google-gemini-key", gemini_key, id="gemini"),
    pytest.param("google-oauth-client-secret", client_secret, id="client secret"),
    pytest.param("google-oauth-token", access_token, id="access token"),
    pytest.param("google-oauth-token", refresh_token, id="refresh token"),
])
def test_google_fixed_formats_ignore_longer_tokens(rule_id: str, make: Callable[[], str]) -> None:
    assert _matches("x" + make()) == []


def test_service_account_json_is_found_at_its_private_key() -> None:
    text = service_account_json()
    private_key = json.loads(text)["private_key"]
    escaped = json.dumps(private_key)[1:-1].removesuffix("\\n")
    assert _matches(text, "deploy/sa.json") == [("gcp-service-account-key", *_located(text, escaped), escaped)]


def test_service_account_found_once_even_with_api_key_names() -> None:
    text = service_account_json().replace('"type"', '"api_key": "unused",\n  "type"', 1)
    assert [m[0] for m in _matches(text)] == ["gcp-service-account-key"]


def test_authorized_user_credential_is_found_at_its_refresh_token() -> None:
    token = refresh_token()
    text = json.dumps({"type": "authorized_user", "client_id": "1.apps.googleusercontent.com",
                       "client_secret": "d-" + random_chars(22), "refresh_token": token})
    assert _matches(text) == [("gcp-service-account-key", *_located(text, token), token)]


def test_service_account_in_streamlit_secrets_toml() -> None:
    pem = pem_private_key()
    text = ('[gcp_service_account]\ntype = "service_account"\nproject_id = "demo"\n'
            f'private_key = """{pem}"""\nclient_email = "x@demo.iam.gserviceaccount.com"\n')
    assert _matches(text, ".streamlit/secrets.toml") == [
        ("gcp-service-account-key", *_located(text, pem.rstrip("\n")), pem.rstrip("\n"))]


def test_service_account_as_python_dict() -> None:
    pem = json.dumps(pem_private_key())[1:-1].removesuffix("\\n")
    text = f"INFO = {{'type': 'service_account', 'private_key': '{pem}', 'client_email': 'a@b.iam.gserviceaccount.com'}}"
    assert _matches(text) == [("gcp-service-account-key", *_located(text, pem), pem)]


@pytest.mark.parametrize("private_key", [
    pytest.param("-----BEGIN PRIVATE KEY-----\nMIIEv...\n-----END PRIVATE KEY-----\n", id="elided"),
    pytest.param("-----BEGIN PRIVATE KEY-----\nYOUR_PRIVATE_KEY_GOES_HERE_PLEASE_REPLACE_IT\n-----END PRIVATE KEY-----\n",
                 id="placeholder"),
    pytest.param("", id="empty"),
    pytest.param("-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n", id="no body"),
])
def test_service_account_ignores_stand_ins(private_key: str) -> None:
    assert _matches(service_account_json(private_key)) == []


def _yaml_block(pem: str) -> str:
    return "private_key: |\n" + "".join(f"  {line}\n" for line in pem.splitlines())


def test_service_account_in_yaml_block_is_found_after_unclosed_blocks() -> None:
    # Unclosed blocks once made each `private_key` hit scan on to the next quote: a quote-less
    # YAML file took ~50 s at 512 KB (tests/test_linear_cost.py measures it).
    pem = pem_private_key()
    unclosed = _yaml_block(pem.split("-----END")[0])
    text = "type: service_account\n" + unclosed * 200 + _yaml_block(pem)
    secret = "\n".join(f"  {line}" for line in pem.splitlines()).strip()
    assert _matches(text, "k8s/sa.yaml") == [("gcp-service-account-key", *_located(text, secret), secret)]


@pytest.mark.parametrize("kind", ["RSA ", "EC ", "ENCRYPTED "])
def test_service_account_key_of_any_kind(kind: str) -> None:
    pem = json.dumps(pem_private_key().replace(" PRIVATE KEY", f" {kind}PRIVATE KEY"))[1:-1].removesuffix("\\n")
    text = json.dumps({"type": "service_account"})[:-1] + f', "private_key": "{pem}"}}'
    assert _matches(text) == [("gcp-service-account-key", *_located(text, pem), pem)]


def test_service_account_json_escaped_inside_a_json_string_is_found() -> None:
    # As pasted into a CI variable export or a Slack dump: the key file is a string in other JSON.
    inner = service_account_json()
    text = json.dumps({"name": "GCP_SA_KEY", "value": inner})
    found = _matches(text, "ci-variables.json")
    assert [m[0] for m in found] == ["gcp-service-account-key"]
    assert found[0][3].startswith("-----BEGIN PRIVATE KEY-----\\\\n")


def _one_line_pem() -> str:
    return pem_private_key().rstrip("\n").replace("\n", "\\n")


PEM_OUTSIDE_JSON = [
    pytest.param(lambda pem: f'GOOGLE_PRIVATE_KEY="{pem}"\n', ".env", id="dotenv GOOGLE_PRIVATE_KEY"),
    pytest.param(lambda pem: f"FIREBASE_PRIVATE_KEY={pem}\n", ".env.production", id="dotenv FIREBASE_PRIVATE_KEY bare"),
    pytest.param(lambda pem: f"const GCP_PRIVATE_KEY = '{pem}';\n", "src/admin.js", id="js constant"),
    pytest.param(lambda pem: f'  firebase_private_key: "{pem}"\n', "config.yaml", id="yaml key"),
]


@pytest.mark.parametrize(("make", "path"), PEM_OUTSIDE_JSON)
def test_google_private_key_outside_its_json_is_found(make: Callable[[str], str], path: str) -> None:
    pem = _one_line_pem()
    text = make(pem)
    found = [m for m in _matches(text, path) if m[0] != "dotenv-file"]
    assert found == [("gcp-service-account-key", *_located(text, pem), pem)]


def test_google_private_key_in_a_dotenv_file_is_reported_with_the_file() -> None:
    pem = _one_line_pem()
    assert sorted(m[0] for m in _matches(f'GOOGLE_PRIVATE_KEY="{pem}"\n', ".env")) == [
        "dotenv-file", "gcp-service-account-key"]


def test_private_key_yaml_block_under_a_google_mapping_is_found() -> None:
    pem = pem_private_key()
    text = "gcp:\n  project_id: demo\n" + "".join("  " + line + "\n" for line in _yaml_block(pem).splitlines())
    secret = "\n".join(f"    {line}" for line in pem.splitlines()).strip()
    assert _matches(text, "values.yaml") == [("gcp-service-account-key", *_located(text, secret), secret)]


@pytest.mark.parametrize("text", [
    pytest.param("refresh_token = auth_response.oauth2.refresh_token  # service_account", id="bare attribute chain"),
    pytest.param('{"type": "authorized_user", "refresh_token": "cached_refresh_token"}', id="test name stand-in"),
    # Tests' hand-made tokens: words joined by dashes, words run together, a password's marks.
    pytest.param('{"type": "authorized_user", "refresh_token": "test-refresh-token-user-code"}', id="dashed words"),
    pytest.param('{"type": "authorized_user", "refresh_token": "default-cached-token"}', id="three words"),
    pytest.param('{"type": "authorized_user", "refresh_token": "cached-encrypted-token"}', id="three rarer words"),
    pytest.param("type: authorized_user\nrefresh_token: 'invalidrefreshtoken!!!'", id="words run together and marks"),
    pytest.param('{"type": "authorized_user", "refresh_token": "my_refresh_token_for_tests_v2"}', id="snake words"),
    pytest.param('{"type": "authorized_user", "refresh_token": "refreshtokenvaluefortests"}', id="one lower run"),
    # Not words, yet typed: filler text joined by dashes; one case and no digit (no random token's shape).
    pytest.param('{"type": "authorized_user", "refresh_token": "lorem-ipsum-dolor-sit-amet"}', id="filler phrase"),
    pytest.param('{"type": "authorized_user", "refresh_token": "zvqkwrefreshzvqkwtoken"}', id="one case no digit"),
])
def test_refresh_token_stand_ins_are_no_credential(text: str) -> None:
    assert _matches(text) == []


def _random_with_a_digit(alphabet: str, length: int) -> str:
    """A random value of ALPHABET holding a digit (a token, not a name)."""
    return random_chars(length - 1, alphabet) + random.choice(string.digits)


@pytest.mark.parametrize("make", [
    pytest.param(refresh_token, id="google 1//0"),
    pytest.param(lambda: "1/" + random_chars(43), id="google older 1/"),
    pytest.param(lambda: _random_with_a_digit(string.ascii_letters + string.digits + "-_", 120), id="sts base64url"),
    pytest.param(lambda: _random_with_a_digit(string.ascii_lowercase + string.digits, 40), id="lower and digits"),
    pytest.param(lambda: random_chars(60, string.ascii_letters), id="mixed case letters"),
])
@pytest.mark.parametrize("kind", ["authorized_user", "external_account_authorized_user"])
def test_random_refresh_token_of_an_authorized_user_is_found(make: Callable[[], str], kind: str) -> None:
    token = make()
    text = json.dumps({"type": kind, "refresh_token": token, "client_id": "1.apps.googleusercontent.com"})
    assert [m for m in _matches(text) if m[0] == "gcp-service-account-key"] == [
        ("gcp-service-account-key", *_located(text, token), token)]


def test_private_key_outside_a_google_credential_is_not_this_rule() -> None:
    text = json.dumps({"name": "tls", "private_key": pem_private_key()})
    assert _matches(text) == []


def test_specific_rule_reports_a_key_once_under_its_own_id() -> None:
    key = google_key()
    text = f'GOOGLE_API_KEY = "{key}"\napi_key = GOOGLE_API_KEY\n'
    assert _matches(text) == [("google-api-key", 1, 19, key)]


def test_every_key_on_a_line_is_found_at_its_own_column() -> None:
    first, second = google_key(), google_key()
    text = f"keys = ['{first}', '{second}']"
    assert _matches(text) == [("google-api-key", 1, 10, first), ("google-api-key", 1, 10 + 39 + 4, second)]


# Binaries: compiled libraries, APK assets, .NET assemblies; matched on bytes, never decoded.
@pytest.mark.parametrize(("before", "after"), [
    pytest.param(b"\x00", b"\x00", id="nul terminated"),
    pytest.param(b"\x00\x27", b"\x00\x01", id="length prefixed"),
    pytest.param(b"\xff\xfe\x10", b"\x8f", id="high bytes around"),
    pytest.param(b"\n", b"\n", id="newlines around"),
])
def test_google_api_key_in_binary(before: bytes, after: bytes) -> None:
    key = google_key()
    data = b"\x7fELF\x02\x01\x01" + os.urandom(3000).replace(b"AIza", b"....") + before + key.encode() + after + b"\0" * 64
    scanned = Detector().scan(data, "lib/arm64/libnative.so")
    assert scanned.binary
    assert [(m.rule_id, m.secret) for m in scanned.matches] == [("google-api-key", key)]


@pytest.mark.parametrize("make", [
    pytest.param(gemini_key, id="gemini"), pytest.param(client_secret, id="client secret"),
    pytest.param(access_token, id="access token"), pytest.param(refresh_token, id="refresh token"),
])
def test_other_fixed_formats_in_binary(make: Callable[[], str]) -> None:
    secret = make()
    data = b"\0\0\x01\x02" + b"\0" + secret.encode() + b"\0" + bytes(range(256))
    assert [m.secret for m in Detector().scan(data, "assets/blob.bin").matches] == [secret]


def test_utf16_key_in_binary_like_a_dotnet_assembly() -> None:
    key = google_key()
    data = b"MZ\x90\x00" + b"\0" * 100 + b"\x4f" + key.encode("utf-16-le") + b"\0\0" + bytes(range(256))
    assert [(m.rule_id, m.secret) for m in Detector().scan(data, "bin/App.dll").matches] == [("google-api-key", key)]


def test_binary_is_never_matched_as_text() -> None:
    secret = random_chars(32)
    data = b"\0\x01" + f'api_key = "{secret}"\n'.encode() + b"\0" * 16
    scanned = Detector().scan(data, "blob.bin")
    assert scanned.binary and scanned.matches == ()


def test_key_inside_longer_token_in_binary_is_not_a_key() -> None:
    data = b"\0" + ("Q" + google_key()).encode() + b"\0" + bytes(range(256))
    assert Detector().scan(data, "lib.so").matches == ()


# Properties: hypothesis picks the surroundings and a seed; the seed picks the key's characters.
_BOUNDARIES = ['"', "'", "`", " ", "\t", "\n", "=", ":", "(", ")", ",", ";", "<", ">", "&", "?", "/", "[", "]", "{", "}", "|"]


@settings(max_examples=300, deadline=None)
@given(before=st.sampled_from(_BOUNDARIES), after=st.sampled_from(_BOUNDARIES + [""]),
       prefix=st.text(alphabet="ab =\n\"':", max_size=20), seed=st.integers(0, 2**64))
def test_any_google_key_between_token_boundaries_is_found(before: str, after: str, prefix: str, seed: int) -> None:
    rng = random.Random(seed)
    key = "AIzaSy" + "".join(rng.choice(KEY_ALPHABET) for _ in range(33))
    text = prefix + before + key + after
    assert ("google-api-key", *_located(text, key), key) in _matches(text)


@settings(max_examples=300, deadline=None)
@given(head=st.text(alphabet=KEY_ALPHABET, max_size=8), tail=st.text(alphabet=KEY_ALPHABET, max_size=8),
       seed=st.integers(0, 2**64))
def test_a_key_inside_any_longer_token_is_not_a_key(head: str, tail: str, seed: int) -> None:
    rng = random.Random(seed)
    key = "AIzaSy" + "".join(rng.choice(KEY_ALPHABET) for _ in range(33))
    if not head and not tail:
        head = "z"
    assert [m for m in _matches(f'"{head}{key}{tail}"') if m[0] == "google-api-key"] == []


def test_random_keys_are_plausible() -> None:
    # The stand-in filter must not drop real keys: across many random bodies it drops none.
    assert all(plausible_fixed_format(google_key()) for _ in range(2000))
    assert all(plausible_fixed_format("AQ.Ab" + secrets.token_urlsafe(36)) for _ in range(2000))
