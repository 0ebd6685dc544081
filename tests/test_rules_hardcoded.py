"""hardcoded-api-key: literal secrets bound to api-key-like names, in every language and format.

Each snippet holds the marker <<S>>, replaced at test time by a freshly generated secret.
"""
from __future__ import annotations

import random
import string
import uuid
from collections.abc import Callable

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from scanner.detect import Detector
from tests.conftest import detector_matches as _matches, located as _located, KEY_ALPHABET, google_key, hex_secret, random_chars

# Every test here runs on each engine: they must find the same secrets.
pytestmark = pytest.mark.usefixtures("engine")

S = "<<S>>"


def _secret() -> str:
    # A generated token shaped like most vendors' keys: letters, digits, - and _.
    return random_chars(32)


DETECTS = [
    # Python
    pytest.param('client = genai.Client(api_key="<<S>>")', id="python genai kwarg"),
    pytest.param("API_KEY = '<<S>>'", id="python constant"),
    pytest.param('api_key: str = "<<S>>"', id="python typed"),
    pytest.param('api_key: Optional[str] = "<<S>>"', id="python optional typed"),
    pytest.param('key = os.getenv("GEMINI_API_KEY", "<<S>>")', id="python getenv fallback"),
    pytest.param('key = os.environ.get("API_KEY", "<<S>>")', id="python environ.get fallback"),
    pytest.param('key = os.environ.get("API_KEY") or "<<S>>"', id="python or fallback"),
    pytest.param('os.environ["GEMINI_API_KEY"] = "<<S>>"', id="python environ assignment"),
    pytest.param('headers = {"x-api-key": "<<S>>"}', id="python header dict"),
    pytest.param("headers = {'x-goog-api-key': '<<S>>'}", id="python goog header dict"),
    pytest.param("self.api_key = '<<S>>'", id="python attribute"),
    pytest.param('openai.api_key = "<<S>>"', id="python module attribute"),
    pytest.param("settings = dict(apikey='<<S>>', debug=True)", id="python dict kwarg"),
    pytest.param('url = f"https://api.example.com/v1/data?key=<<S>>"', id="python url query"),
    # JavaScript / TypeScript
    pytest.param('const ai = new GoogleGenAI({ apiKey: "<<S>>" });', id="js genai object"),
    pytest.param("const apiKey = '<<S>>';", id="js const"),
    pytest.param("const API_KEY = `<<S>>`;", id="js template literal"),
    pytest.param('const key = process.env.API_KEY || "<<S>>";', id="js || fallback"),
    pytest.param("const key = process.env.GEMINI_API_KEY ?? '<<S>>';", id="js ?? fallback"),
    pytest.param("  private readonly apiKey: string = '<<S>>';", id="ts class field"),
    pytest.param("  apiKey?: string = '<<S>>';", id="ts optional field"),
    pytest.param('fetch(url, { headers: { "x-goog-api-key": "<<S>>" } });', id="js fetch header"),
    pytest.param("axios.defaults.headers.common['X-API-KEY'] = '<<S>>';", id="js subscript assignment"),
    pytest.param("fetch(`https://maps.googleapis.com/maps/api/geocode/json?address=x&key=<<S>>`)", id="js url &key"),
    pytest.param('<APIProvider apiKey="<<S>>">', id="jsx prop"),
    pytest.param("<APIProvider apiKey={'<<S>>'}>", id="jsx braced prop"),
    pytest.param('!function(){var e={apiKey:"<<S>>",authDomain:"x"}}();', id="minified object"),
    # Go
    pytest.param('client, _ := genai.NewClient(ctx, &genai.ClientConfig{APIKey: "<<S>>", Backend: genai.BackendGeminiAPI})',
                 id="go ClientConfig"),
    pytest.param('apiKey := "<<S>>"', id="go short declaration"),
    pytest.param('var apiKey string = "<<S>>"', id="go typed var"),
    pytest.param('const APIKey = "<<S>>"', id="go const"),
    pytest.param('req.Header.Set("x-goog-api-key", "<<S>>")', id="go header set"),
    pytest.param('os.Setenv("GEMINI_API_KEY", "<<S>>")', id="go setenv"),
    # Java / Kotlin / Android
    pytest.param('Client client = Client.builder().apiKey("<<S>>").build();', id="java builder"),
    pytest.param('private static final String API_KEY = "<<S>>";', id="java constant"),
    pytest.param('conn.setRequestProperty("X-Goog-Api-Key", "<<S>>");', id="java request property"),
    pytest.param('String key = System.getenv().getOrDefault("API_KEY", "<<S>>");', id="java getOrDefault"),
    pytest.param('val model = GenerativeModel(modelName = "gemini-pro", apiKey = "<<S>>")', id="kotlin named arg"),
    pytest.param('const val API_KEY: String = "<<S>>"', id="kotlin const val"),
    pytest.param('val key = System.getenv("API_KEY") ?: "<<S>>"', id="kotlin elvis fallback"),
    pytest.param('buildConfigField("String", "API_KEY", "\\"<<S>>\\"")', id="gradle buildConfigField"),
    pytest.param('<string name="maps_api_key"><<S>></string>', id="android strings.xml"),
    pytest.param('<meta-data android:name="com.google.android.geo.API_KEY" android:value="<<S>>" />',
                 id="android manifest meta-data"),
    # Swift
    pytest.param('let model = GenerativeModel(name: "gemini-pro", apiKey: "<<S>>")', id="swift argument label"),
    pytest.param('static let apiKey: String = "<<S>>"', id="swift typed let"),
    pytest.param("<key>API_KEY</key>\n<string><<S>></string>", id="plist key string"),
    # C#
    pytest.param('var client = new Client(apiKey: "<<S>>");', id="csharp named arg"),
    pytest.param('private const string ApiKey = "<<S>>";', id="csharp const"),
    pytest.param('client.DefaultRequestHeaders.Add("x-goog-api-key", "<<S>>");', id="csharp header add"),
    pytest.param('public string ApiKey { get; set; } = "<<S>>";', id="csharp property initializer"),
    pytest.param('<add key="ApiKey" value="<<S>>" />', id="dotnet appSettings"),
    pytest.param('<label for="apiKey">Key</label>\n<input id="apiKey" type="text" value="<<S>>" />', id="html input id"),
    pytest.param('<input type="hidden" name="api_key" value="<<S>>">', id="html input name"),
    # Ruby
    pytest.param('config.api_key = "<<S>>"', id="ruby config"),
    pytest.param("key = ENV.fetch('API_KEY', '<<S>>')", id="ruby ENV.fetch fallback"),
    pytest.param('key = ENV["API_KEY"] || "<<S>>"', id="ruby || fallback"),
    pytest.param('Client.new(api_key: "<<S>>")', id="ruby keyword arg"),
    pytest.param(':api_key => "<<S>>",', id="ruby hash rocket"),
    # PHP
    pytest.param('$apiKey = "<<S>>";', id="php variable"),
    pytest.param("define('API_KEY', '<<S>>');", id="php define"),
    pytest.param("    'api_key' => '<<S>>',", id="php array"),
    pytest.param("$key = getenv('API_KEY') ?: '<<S>>';", id="php ?: fallback"),
    # Rust
    pytest.param('const API_KEY: &str = "<<S>>";', id="rust const"),
    pytest.param("const API_KEY: &'static str = \"<<S>>\";", id="rust static str"),
    pytest.param('let api_key = "<<S>>";', id="rust let"),
    pytest.param('.header("x-goog-api-key", "<<S>>")', id="rust reqwest header"),
    pytest.param('let key = env::var("API_KEY").unwrap_or("<<S>>".to_string());', id="rust unwrap_or fallback"),
    # Shell, rc files, containers, CI
    pytest.param("export GEMINI_API_KEY=<<S>>", id="shell export bare"),
    pytest.param('export GOOGLE_API_KEY="<<S>>"', id="shell export quoted"),
    pytest.param("API_KEY='<<S>>' python app.py", id="shell inline env"),
    pytest.param('curl "https://generativelanguage.googleapis.com/v1beta/models/gemini:generateContent?key=<<S>>"',
                 id="curl ?key="),
    pytest.param('curl -H "x-goog-api-key: <<S>>" https://example.com', id="curl goog header"),
    pytest.param("curl -H 'X-API-Key: <<S>>' https://example.com", id="curl api-key header"),
    pytest.param("set -gx GEMINI_API_KEY <<S>>", id="fish set"),
    pytest.param("setenv API_KEY <<S>>", id="csh setenv"),
    pytest.param('$env:GEMINI_API_KEY = "<<S>>"', id="powershell env"),
    pytest.param("ENV API_KEY=<<S>>", id="dockerfile ENV"),
    pytest.param("ENV API_KEY <<S>>", id="dockerfile legacy ENV"),
    pytest.param("docker run -e API_KEY=<<S>> image", id="docker -e"),
    pytest.param('KEY="${API_KEY:-<<S>>}"', id="shell default expansion"),
    # Data and config formats
    pytest.param('{"apiKey": "<<S>>"}', id="json"),
    pytest.param('"{\\"apiKey\\":\\"<<S>>\\"}"', id="json escaped quotes"),
    pytest.param('"config": "{\\"api_key\\": \\"<<S>>\\"}"', id="json string holding json"),
    pytest.param("api_key: <<S>>", id="yaml bare"),
    pytest.param('  GEMINI_API_KEY: "<<S>>"', id="yaml quoted"),
    pytest.param("env:\n  - name: API_KEY\n    value: <<S>>", id="kubernetes env entry"),
    pytest.param('env:\n  - name: "GEMINI_API_KEY"\n    value: "<<S>>"', id="kubernetes quoted env entry"),
    pytest.param('"environment": [{"name": "API_KEY", "value": "<<S>>"}]', id="ecs name value pair"),
    pytest.param('[service]\napi_key = "<<S>>"', id="toml"),
    pytest.param("[service]\napi_key=<<S>>", id="ini"),
    pytest.param("google.maps.api.key=<<S>>", id="properties dotted"),
    pytest.param("maps.apiKey : <<S>>", id="properties colon"),
    pytest.param("<apiKey><<S>></apiKey>", id="xml element"),
    pytest.param('<div data-config="{&quot;apiKey&quot;:&quot;<<S>>&quot;}"></div>', id="html entity quoted json"),
    pytest.param('<script src="https://maps.googleapis.com/maps/api/js?key=<<S>>&callback=initMap"></script>',
                 id="html maps script"),
    pytest.param('<a href="https://example.com/?a=1&amp;api_key=<<S>>">x</a>', id="html &amp; query"),
    pytest.param("```bash\nexport GEMINI_API_KEY=<<S>>\n```", id="markdown fence"),
    pytest.param("Call `https://example.com/v1?key=<<S>>` to test.", id="markdown inline url"),
    pytest.param('"source": ["os.environ[\\"GEMINI_API_KEY\\"] = \\"<<S>>\\"\\n"]', id="notebook cell"),
    pytest.param('"source": ["genai.configure(api_key=\\"<<S>>\\")"]', id="notebook kwarg"),
    pytest.param("setting,value\napi_key,<<S>>\n", id="csv name value row"),
    pytest.param('{"sourcesContent":["const apiKey = \\"<<S>>\\";\\n"]}', id="source map"),
    pytest.param('terraform:\n  api_key = "<<S>>"', id="terraform"),
    pytest.param('api_key = "<<S>>"  # rotate monthly', id="trailing comment"),
    # Comparisons with a literal (peers find these)
    pytest.param('if (apikey == "<<S>>") {', id="compare =="),
    pytest.param("if api_key != '<<S>>':", id="compare !="),
    pytest.param("if (apiKey === '<<S>>') return true;", id="compare ==="),
    pytest.param('if (apiKey !== "<<S>>") throw new Error();', id="compare !=="),
    pytest.param('if (apiKey.equals("<<S>>")) {', id="java equals"),
    pytest.param('if (key.apiKey.equalsIgnoreCase("<<S>>")) {', id="java equalsIgnoreCase"),
    pytest.param('if (strcmp(api_key, "<<S>>") == 0) {', id="c strcmp"),
    pytest.param("if req.headers['x-api-key'] !== '<<S>>'", id="header compare"),
    # Names with a suffix or a prefix
    pytest.param('API_KEY_PROD = "<<S>>"', id="suffix _PROD"),
    pytest.param("GOOGLE_API_KEY_DEV=<<S>>", id="suffix _DEV"),
    pytest.param('MAPS_API_KEY_RELEASE: "<<S>>"', id="suffix _RELEASE"),
    pytest.param("apiKey2 = '<<S>>'", id="suffix digit"),
    pytest.param('apikey_myservice = "<<S>>"', id="suffix service"),
    pytest.param('prodApiKey: "<<S>>"', id="prefix prod"),
    # Groovy/Gradle: a single-quoted string holding the double-quoted value
    pytest.param("buildConfigField 'String', 'API_KEY', '\"<<S>>\"'", id="groovy buildConfigField"),
    # A two-column CSV row in a CSV-like text (a header row)
    pytest.param("name,value\nregion,eu\nAPI_KEY,<<S>>\n", id="csv row under a header"),
    # An unquoted value ends where a query parameter does
    pytest.param('curl "https://example.com/v1/items?api_key=<<S>>&include=fields"', id="query value ends at &"),
    pytest.param("API_KEY=<<S>>&region=eu", id="bare value ends at &"),
    # A function named for the key binds it, with a digit or as its credential
    pytest.param('var credential = new ApiKeyCredential("<<S>>");', id="credential constructor"),
    pytest.param('client.setApiKey2("<<S>>");', id="setter with a digit"),
]


@pytest.mark.parametrize("snippet", DETECTS)
def test_hardcoded_api_key_detects(snippet: str) -> None:
    secret = _secret()
    text = snippet.replace(S, secret)
    assert _matches(text) == [("hardcoded-api-key", *_located(text, secret), secret)]


@pytest.mark.parametrize("secret", [
    pytest.param(hex_secret(32), id="hex"),
    pytest.param("sk-" + random_chars(40), id="prefixed token"),
    pytest.param("123e4567-e89b-12d3-a456-426614174000", id="uuid"),
    pytest.param(random_chars(16), id="short random"),
    pytest.param(random_chars(18, string.ascii_letters + string.digits), id="mixed alnum"),
])
def test_hardcoded_api_key_detects_secret_shapes(secret: str) -> None:
    text = f'api_key = "{secret}"\n'
    assert _matches(text) == [("hardcoded-api-key", 1, 12, secret)]


IGNORES = [
    # The canonical documentation snippets with their placeholders
    pytest.param('client = genai.Client(api_key="YOUR_API_KEY")', id="python genai placeholder"),
    pytest.param('const ai = new GoogleGenAI({ apiKey: "YOUR_API_KEY" });', id="js genai placeholder"),
    pytest.param('client, _ := genai.NewClient(ctx, &genai.ClientConfig{APIKey: "YOUR_API_KEY"})', id="go placeholder"),
    pytest.param('Client client = Client.builder().apiKey("YOUR_API_KEY").build();', id="java placeholder"),
    pytest.param('curl "https://generativelanguage.googleapis.com/v1beta/models/gemini:generateContent?key=$API_KEY"',
                 id="curl $API_KEY"),
    pytest.param('curl -H "x-goog-api-key: ${API_KEY}" https://example.com', id="curl ${API_KEY} header"),
    pytest.param('curl -H "x-goog-api-key: $GEMINI_API_KEY" https://example.com', id="curl $GEMINI_API_KEY header"),
    pytest.param("export GEMINI_API_KEY=<YOUR_API_KEY_HERE>", id="shell angle placeholder"),
    # Placeholders
    pytest.param('api_key = "your_key_here"', id="your_key_here"),
    pytest.param('api_key = "your-api-key"', id="your-api-key"),
    pytest.param('apiKey: "<your api key>"', id="angle prose"),
    pytest.param('api_key = "xxxxxxxxxxxxxxxxxxxxxxxx"', id="xxx"),
    pytest.param('api_key = "sk-xxxxxxxxxxxxxxxxxxxxxxxx"', id="prefixed xxx"),
    pytest.param('api_key = "********************"', id="stars"),
    pytest.param('api_key = "changeme"', id="changeme"),
    pytest.param('API_KEY = "change-me-please"', id="change-me"),
    pytest.param('api_key = "dummy-key-for-tests"', id="dummy"),
    pytest.param('api_key = "example-api-key-123"', id="example"),
    pytest.param('api_key = "DEMO_KEY"', id="nasa demo key"),
    pytest.param("API_KEY=REPLACE_WITH_YOUR_KEY", id="replace"),
    pytest.param('api_key = "INSERT_KEY_HERE"', id="insert"),
    pytest.param('api_key = "<API_KEY>"', id="angle name"),
    pytest.param('api_key = "[YOUR_API_KEY]"', id="bracket placeholder"),
    pytest.param('api_key = "sk-..."', id="ellipsis"),
    pytest.param('api_key = "TODO"', id="todo"),
    pytest.param('api_key = "REDACTED"', id="redacted"),
    pytest.param('api_key = "fake-key-0123456789"', id="fake prefix"),
    pytest.param('API_KEY = "api_key"', id="its own name"),
    # Template references
    pytest.param('api_key = "${API_KEY}"', id="${VAR}"),
    pytest.param("API_KEY=$GEMINI_API_KEY", id="$VAR"),
    pytest.param("api_key: {{ .Values.apiKey }}", id="helm"),
    pytest.param("api_key: '{{ api_key }}'", id="jinja"),
    pytest.param('api_key = "%(api_key)s"', id="percent format"),
    pytest.param("GEMINI_API_KEY: ${{ secrets.GEMINI_API_KEY }}", id="github actions secret"),
    pytest.param('api_key = "#{ENV[\'API_KEY\']}"', id="ruby interpolation"),
    pytest.param('api_key = "{api_key}"', id="python format field"),
    pytest.param("f'api_key = \"{random_chars(30)}\"'", id="f-string field with a call"),
    pytest.param("f'api_key = \"{random_chars(32, \"0123456789abcdef\")}\"'", id="f-string call with a quoted argument"),
    pytest.param("api_key: <%= ENV['API_KEY'] %>", id="erb"),
    pytest.param("API_KEY=$(cat /run/secrets/api_key)", id="command substitution"),
    pytest.param("API_KEY=%API_KEY%", id="windows %VAR%"),
    pytest.param('api_key = "@api.key@"', id="maven filter"),
    pytest.param('KEY="${API_KEY:-}"', id="empty shell default"),
    # Variables and environment lookups, language by language
    pytest.param('api_key = os.environ["GEMINI_API_KEY"]', id="python environ"),
    pytest.param('api_key = os.getenv("GEMINI_API_KEY")', id="python getenv"),
    pytest.param("client = genai.Client(api_key=api_key)", id="python pass-through"),
    pytest.param("api_key = settings.GEMINI_API_KEY", id="python settings"),
    pytest.param("def f(api_key: str = DEFAULT_KEY): ...", id="python default name"),
    pytest.param("const ai = new GoogleGenAI({ apiKey: process.env.GEMINI_API_KEY });", id="js process.env"),
    pytest.param("const ai = new GoogleGenAI({ apiKey: process.env.GEMINI_API_KEY! });", id="ts non-null env"),
    pytest.param("const apiKey = import.meta.env.VITE_GEMINI_API_KEY;", id="vite env"),
    pytest.param('const apiKey = Deno.env.get("API_KEY");', id="deno env"),
    pytest.param("const { apiKey } = config;", id="js destructuring"),
    pytest.param("const ai = new GoogleGenAI({ apiKey });", id="js shorthand"),
    pytest.param('APIKey: os.Getenv("GEMINI_API_KEY"),', id="go getenv"),
    pytest.param('APIKey string `json:"api_key"`', id="go struct tag"),
    pytest.param('Client.builder().apiKey(System.getenv("GEMINI_API_KEY")).build();', id="java getenv"),
    pytest.param("val apiKey = BuildConfig.GEMINI_API_KEY", id="kotlin BuildConfig"),
    pytest.param('let apiKey = ProcessInfo.processInfo.environment["GEMINI_API_KEY"]', id="swift environment"),
    pytest.param('var apiKey = Environment.GetEnvironmentVariable("API_KEY");', id="csharp environment"),
    pytest.param('api_key = ENV["API_KEY"]', id="ruby ENV"),
    pytest.param('api_key = ENV.fetch("API_KEY")', id="ruby ENV.fetch"),
    pytest.param("api_key = Rails.application.credentials.api_key", id="rails credentials"),
    pytest.param("$apiKey = getenv('API_KEY');", id="php getenv"),
    pytest.param("$apiKey = $_ENV['API_KEY'];", id="php $_ENV"),
    pytest.param("'api_key' => env('API_KEY'),", id="laravel env"),
    pytest.param('let api_key = env::var("API_KEY")?;', id="rust env var"),
    pytest.param('let api_key = std::env::var("GEMINI_API_KEY").expect("set GEMINI_API_KEY");', id="rust expect"),
    pytest.param('export API_KEY="$API_KEY"', id="shell re-export"),
    pytest.param("env:\n  - name: API_KEY\n    valueFrom:\n      secretKeyRef:\n        name: api\n        key: key",
                 id="kubernetes secretKeyRef"),
    pytest.param("api_key:\n  secretKeyRef: googleApiKeyRef2", id="yaml nested mapping"),
    pytest.param('key = os.getenv("API_KEY", default_key)', id="fallback to a name"),
    pytest.param('const key = process.env.API_KEY || "";', id="empty fallback"),
    # Annotations and empty values
    pytest.param("api_key: str", id="python annotation"),
    pytest.param("api_key: Optional[str] = None", id="optional none"),
    pytest.param("  apiKey?: string;", id="ts optional annotation"),
    pytest.param("private String apiKey;", id="java field"),
    pytest.param("api_key = None", id="None"),
    pytest.param("apiKey: null", id="null"),
    pytest.param('api_key = ""', id="empty string"),
    pytest.param("API_KEY=", id="empty assignment"),
    pytest.param("api_key: ~", id="yaml tilde"),
    pytest.param("require_api_key = true", id="boolean"),
    # Things that are not secrets
    pytest.param('api_key = "https://example.com/keys/abc123"', id="url"),
    pytest.param('api_key = "X-Goog-Api-Key"', id="header name"),
    pytest.param('API_KEY_HEADER = "X-API-Key"', id="header constant"),
    pytest.param('api_key = "/etc/secrets/api_key.txt"', id="path"),
    pytest.param('api_key = "secrets/api_key.json"', id="relative path"),
    pytest.param('<img src="/thumb?key=uploads/2024/photo123.png">', id="storage key path"),
    pytest.param('api_key = r"AIza[0-9A-Za-z_-]{35}"', id="regex"),
    pytest.param('api_key_pattern = "[A-Za-z0-9]{32}"', id="regex constant"),
    pytest.param('"apiKey": "Enter your API key"', id="english label"),
    pytest.param('"apiKey": "Clé API Google"', id="french label"),
    pytest.param('"api_key": "API-Schlüssel"', id="german label"),
    pytest.param('"apiKey": "APIキーを入力してください"', id="japanese label"),
    pytest.param('"apiKey": "Ключ API"', id="russian label"),
    pytest.param('"apiKey": "ApiKeyAuthentication"', id="camel case word"),
    pytest.param('"api_key": "Api-Key-Settings-Label"', id="hyphenated words"),
    pytest.param('api_key = "aaaaaaaaaaaaaaaaaaaaaaaa"', id="single character run"),
    pytest.param('api_key = "abcabcabcabcabc"', id="repeating run"),
    pytest.param('api_key = "1234567890123456"', id="digits only"),
    pytest.param("?key=1700000000000", id="numeric query"),
    pytest.param("const API_KEY_LENGTH = 39;", id="length constant"),
    pytest.param("type: apiKey\nin: header\nname: X-API-KEY", id="openapi security scheme"),
    pytest.param("api_keys_enabled = True", id="longer name"),
    # Digests of keys are not keys
    pytest.param('api_key_hash = "<<H>>"', id="api_key_hash"),
    pytest.param('"hashed_api_key": "<<H>>"', id="hashed_api_key"),
    pytest.param("API_KEY_SHA256=<<H>>", id="api_key_sha256"),
    pytest.param('apiKeyDigest: "<<H>>"', id="apiKeyDigest"),
    pytest.param('api_key_fingerprint = "<<H>>"', id="api_key_fingerprint"),
    # A literal in a line that binds something else
    pytest.param('log.info("api_key rotated", extra={"user": "u-8f3a9c2e1b7d"})', id="log message"),
    pytest.param('password = "<<S>>"', id="another name"),
    # A call wrapped over two lines is no CSV row, in code or in API docs that copy signatures
    pytest.param('    api_key: Secret = Secret.from_env_var(\n        "AZURE_OPENAI_API_KEY", strict=False\n    ),',
                 id="wrapped call read as csv"),
    pytest.param('# Embedders\n\n```python\ndef __init__(\n    api_key: Secret | None = Secret.from_env_var(\n'
                 '        "AZURE_OPENAI_API_KEY", strict=False\n    ),\n)\n```\n', id="markdown signature read as csv"),
    pytest.param("Set it like this:\nOPENAI_API_KEY,<<S>>\n", id="csv-looking line in prose"),
    # Test and documentation values
    pytest.param('monkeypatch.setenv("OPENAI_API_KEY", "test-api-key-12345")', id="monkeypatch test value"),
    pytest.param("api_key = 'auth-token-TEST'", id="TEST word"),
    pytest.param('interceptor = AuthInterceptor(api_key="custom-key-123", org_id="org-456")', id="phrase and number"),
    pytest.param('"api_key": "sk-test123",', id="sk-test123"),
    pytest.param("api_client.api_key = 'auth_tokens/TEST_AUTH_TOKEN'", id="test token path"),
    pytest.param('mock_client.api_key = "mock-key-9f8e7d"', id="mock"),
    pytest.param('api_key = "invalid-key-for-testing"', id="invalid"),
    pytest.param('api_key = "sample_api_key_value"', id="sample"),
    pytest.param('API_KEY = "my-api-key-2"', id="my- prefix"),
    pytest.param("export OPENAI_API_KEY=sk-myrandomAPIkey32abc", id="docs visible pattern"),
    pytest.param('client = Client(api_key="fixture_key_3")', id="fixture"),
    # ?key= that is not an API key: a Sheets document id, cache, i18n and sort keys
    pytest.param('<a href="https://spreadsheets.google.com/ccc?key=0Ak<<S>>&hl=en">sheet</a>', id="sheets document id"),
    pytest.param('url = "https://docs.google.com/spreadsheet/pub?key=0Ak<<S>>&output=csv"', id="docs spreadsheet id"),
    pytest.param('fetch("/cache?key=user_123_profile")', id="cache key"),
    pytest.param('t("/i18n?key=home.title.main")', id="i18n key"),
    pytest.param('href="/items?sort=asc&key=created_at_2"', id="sort key"),
    pytest.param('href="/search?q=shoes&key=colorRedBlue42"', id="not key-shaped, no api"),
    # A value cut at a parenthesis is a fragment, never a key
    pytest.param('src="https://maps.googleapis.com/maps/api/js?key=AIzaSy(<<S>>)"', id="cut at ("),
    pytest.param("API_KEY=q7Rt5Ks9Lm3Xw1Np8Vb(2)", id="bare value cut at ("),
    pytest.param('<script src="https://maps.googleapis.com/maps/api/js?key=<YOUR_API_KEY_HERE>&callback=initMap">',
                 id="angle placeholder read as an element"),
    # Alphabet runs, keyboard rows, ascending digits
    pytest.param('api_key = "abcdefghijklmnopqrstuvwxyz123456"', id="alphabet run"),
    pytest.param('api_key = "AbCdEfGhIjKlMnOp77"', id="alternating case alphabet"),
    pytest.param('api_key = "qwertyuiopASDF9876"', id="keyboard row"),
    pytest.param('api_key = "k9X0123456789Ab"', id="ascending digits"),
    # Names that hold something about a key, not the key
    pytest.param('api_key_header = "<<S>>"', id="api_key_header"),
    pytest.param('api_key_name = "<<S>>"', id="api_key_name"),
    pytest.param('API_KEY_ENV = "<<S>>"', id="api_key_env"),
    pytest.param('api_key_path = "<<S>>"', id="api_key_path"),
    pytest.param('api_key_id = "<<S>>"', id="api_key_id"),
    pytest.param('api_key_url = "<<S>>"', id="api_key_url"),
    pytest.param('api_key_file = "<<S>>"', id="api_key_file"),
    pytest.param('apiKeyHeader: "<<S>>"', id="apiKeyHeader"),
    # A function whose name goes on past the api-key takes something about a key, not the key
    pytest.param('line = readApiKeyLine("<<S>>")', id="reader function"),
    pytest.param('ok = validateApiKeyFormat("<<S>>")', id="validator function"),
    pytest.param('const re = new ApiKeyPattern("<<S>>");', id="pattern constructor"),
    pytest.param('parser = api_key_parser("<<S>>")', id="snake_case parser"),
    pytest.param('env = getApiKeyEnv("<<S>>")', id="env getter"),
    pytest.param('apiKeyLine = "<<S>>"', id="line variable"),
    pytest.param('API_KEY_VALIDATOR = "<<S>>"', id="validator constant"),
    # A type declaration of an API dump (`.api` of Kotlin's binary-compatibility validator)
    pytest.param("public final class com/example/sdk/InvalidAPIKeyException : com/example/sdk/ServiceException {",
                 id="jvm class declaration"),
    # Values a person typed: words, short numbers, typed runs (judged by the model of what people type)
    pytest.param('someProviderApikey: "testKeyValue",', id="typed words camelCase"),
    pytest.param('client.setApiKey("fakeKey9876");', id="typed words and a digit run"),
    pytest.param("api_key = 'notARealKey7'", id="typed phrase"),
    pytest.param('apiKey = "localStagingServiceToken"', id="typed words"),
    pytest.param('API_KEY = "abcd1234ABCD5678efgh9012EFGH3456"', id="typed alphabet and digit runs"),
    pytest.param("export SERVICE_API_KEY=my-demo-access-token-2024", id="typed kebab words"),
    # A value cut at `&` to under the minimum length is nothing
    pytest.param('curl "https://example.com/v1/items?api_key=a1B2c&include=<<S>>"', id="query value cut short"),
    # A list of names binds no value
    pytest.param('token_type: Literal["apikey", "oauth2Token"]', id="literal list of names"),
    pytest.param('SCHEMES = {"api_key", "<<S>>"}', id="set of names"),
]


@pytest.mark.parametrize("make", [
    pytest.param(lambda: "AIzA" + random_chars(35), id="other case"),
    pytest.param(lambda: "AIza" + random_chars(30), id="too short"),
    pytest.param(lambda: "AIza" + random_chars(40), id="too long"),
    pytest.param(lambda: "aiza" + random_chars(35), id="lower case"),
])
def test_hardcoded_api_key_ignores_google_key_lookalikes(make: Callable[[], str]) -> None:
    assert _matches(f'api_key="{make()}"\n') == []


@pytest.mark.parametrize("snippet", IGNORES)
def test_hardcoded_api_key_ignores(snippet: str) -> None:
    text = snippet.replace(S, _secret()).replace("<<H>>", hex_secret(64))
    assert _matches(text) == []


@pytest.mark.parametrize("snippet", [
    pytest.param('client = genai.Client(api_key="<<S>>")', id="python kwarg"),
    pytest.param('const ai = new GoogleGenAI({ apiKey: "<<S>>" });', id="js object"),
    pytest.param('&genai.ClientConfig{APIKey: "<<S>>"}', id="go struct"),
    pytest.param('Client.builder().apiKey("<<S>>").build();', id="java builder"),
    pytest.param("export GEMINI_API_KEY=<<S>>", id="shell export"),
    pytest.param('curl "https://example.com/v1?key=<<S>>&alt=json"', id="query param"),
    pytest.param('-H "x-goog-api-key: <<S>>"', id="header"),
    pytest.param("<key>API_KEY</key>\n<string><<S>></string>", id="plist"),
])
def test_specific_google_rule_wins_over_hardcoded(snippet: str) -> None:
    key = google_key()
    text = snippet.replace(S, key)
    assert _matches(text) == [("google-api-key", *_located(text, key), key)]


@pytest.mark.parametrize("pragma", [
    pytest.param("  # keysentry:allow", id="hash comment"),
    pytest.param("  // gitleaks:allow", id="slash comment"),
    pytest.param("  /* pragma: allowlist secret */", id="block comment"),
    pytest.param("  <!-- keysentry:allow -->", id="html comment"),
    pytest.param("  -- keysentry:allow", id="sql comment"),
    pytest.param("  ; keysentry:allow", id="ini comment"),
])
def test_inline_pragma_silences_the_line(pragma: str) -> None:
    scanned = Detector().scan(f'api_key = "{_secret()}"{pragma}\n'.encode(), "app")
    assert scanned.matches == () and scanned.allowed == 1


def test_pragma_on_another_line_does_not_silence() -> None:
    secret = _secret()
    text = f'# keysentry:allow\napi_key = "{secret}"\n'
    assert _matches(text) == [("hardcoded-api-key", 2, 12, secret)]


TEMPLATES = [p.values[0] for p in DETECTS if "?key=" not in p.values[0] and "&key=" not in p.values[0]]


@settings(max_examples=200, deadline=None)
@given(template=st.sampled_from(TEMPLATES), seed=st.integers(0, 2**64))
def test_any_google_key_in_any_binding_is_found_once(template: str, seed: int) -> None:
    # The seed, not hypothesis, picks the characters: a key is random, never "AIzaSy000…".
    rng = random.Random(seed)
    key = "AIzaSy" + "".join(rng.choice(KEY_ALPHABET) for _ in range(33))
    text = template.replace(S, key)
    assert _matches(text) == [("google-api-key", *_located(text, key), key)]


HARDCODED_TEMPLATES = [p.values[0] for p in DETECTS]


@settings(max_examples=200, deadline=None)
@given(template=st.sampled_from(HARDCODED_TEMPLATES), seed=st.integers(0, 2**64), length=st.integers(20, 64))
# A random key whose mixed case splits into two-letter pieces of a code vocabulary (gb, lr, nfc): once
# judged a phrase of typed words, and missed.
@example(template='client = genai.Client(api_key="<<S>>")', seed=2_334_115_441, length=20)
def test_any_random_token_in_any_binding_is_found(template: str, seed: int, length: int) -> None:
    rng = random.Random(seed)
    secret = "".join(rng.choice(KEY_ALPHABET) for _ in range(length))
    text = template.replace(S, secret)
    assert _matches(text) == [("hardcoded-api-key", *_located(text, secret), secret)]


@settings(max_examples=200, deadline=None)
@given(template=st.sampled_from(HARDCODED_TEMPLATES),
       stand_in=st.sampled_from(["YOUR_API_KEY", "<YOUR_API_KEY_HERE>", "your_key_here", "${API_KEY}",
                                 "{{ api_key }}", "xxxxxxxxxxxxxxxx", "changeme", "DEMO_KEY", "%(key)s"]))
def test_no_binding_reports_a_stand_in(template: str, stand_in: str) -> None:
    assert _matches(template.replace(S, stand_in)) == []


def _notebook(cell_type: str, source: str, outputs: str = "") -> str:
    """A Jupyter notebook of one cell (keys sorted, as Jupyter writes them)."""
    lines = ", ".join('"' + line.replace('"', '\\"') + '\\n"' for line in source.split("\n"))
    out = f'"outputs": [{{"output_type": "stream", "text": ["{outputs}\\n"]}}], ' if outputs else '"outputs": [], '
    return ('{"cells": [{"cell_type": "' + cell_type + '", "metadata": {}, ' + (out if cell_type == "code" else "")
            + '"source": [' + lines + ']}], "metadata": {"kernelspec": {"language": "python", "name": "python3"}}, '
            '"nbformat": 4, "nbformat_minor": 5}\n')


# An unquoted value is a literal where the file's language reads it as text (configuration, shell,
# Dockerfiles, Makefiles, and the strings, comments and text of any language), and an expression in
# a programming language's code: `apiKey: providerSettings`, however random the name looks.
UNQUOTED_BY_LANGUAGE = [
    # Code: an identifier, a member, a subscript's object
    pytest.param("src/client.ts", "const cfg = {\n  apiKey: <<S>>,\n};\n", False, id="ts object value"),
    pytest.param("src/env.js", "process.env.SOME_API_KEY = <<S>>;\n", False, id="js env assignment"),
    pytest.param("lib/app.mjs", "export const apiKey = <<S>>.trim();\n", False, id="js member call"),
    pytest.param("src/App.tsx", "const apiKey = <<S>>!;\n", False, id="tsx non-null"),
    pytest.param("Config.cs", 'var apiKey = <<S>>["ApiKey"];\n', False, id="csharp subscript"),
    pytest.param("Config.cs", "new Options { ApiKey = <<S>>, Timeout = 5 };\n", False, id="csharp initializer"),
    pytest.param("app/client.py", "client = Client(api_key=<<S>>)\n", False, id="python kwarg variable"),
    pytest.param("main.go", "cfg := Config{APIKey: <<S>>, Debug: true}\n", False, id="go struct field"),
    pytest.param("Main.java", "String apiKey = <<S>>;\n", False, id="java variable"),
    pytest.param("Main.kt", "val apiKey = <<S>>\n", False, id="kotlin val"),
    pytest.param("config.rb", "config.api_key = <<S>>\n", False, id="ruby attribute"),
    pytest.param("index.php", "<?php\n$apiKey = <<S>>;\n", False, id="php variable"),
    pytest.param("src/main.rs", "let api_key = <<S>>;\n", False, id="rust let"),
    pytest.param("Sources/App.swift", "let apiKey = <<S>>\n", False, id="swift let"),
    pytest.param("bin/tool", "#!/usr/bin/env python3\napi_key = <<S>>\n", False, id="python shebang"),
    pytest.param("demo.ipynb", _notebook("code", "import os\napi_key = <<S>>"), False, id="notebook code cell"),
    # Text: configuration and shell read it as the value itself
    pytest.param("deploy/run.sh", "export API_KEY=<<S>>\n", True, id="shell"),
    pytest.param("bin/start", "#!/bin/sh\nAPI_KEY=<<S>> exec app\n", True, id="sh shebang"),
    pytest.param("config/app.ini", "[svc]\napi_key = <<S>>\n", True, id="ini"),
    pytest.param("values.yaml", "api_key: <<S>>\n", True, id="yaml"),
    pytest.param("application.properties", "maps.api.key=<<S>>\n", True, id="properties"),
    pytest.param("Dockerfile", "ENV API_KEY=<<S>>\n", True, id="dockerfile"),
    pytest.param("Makefile", "API_KEY=<<S>>\n", True, id="makefile"),
    pytest.param("notes.txt", "api_key: <<S>>\n", True, id="text"),
    # Text inside code: comments, strings, docstrings, heredocs, a page's HTML
    pytest.param("app/run.py", "# export API_KEY=<<S>>\n", True, id="python comment"),
    pytest.param("app/run.py", 'def main():\n    """Run with\n    API_KEY=<<S>> python run.py\n    """\n', True,
                 id="python docstring"),
    pytest.param("src/api.ts", "const url = `https://api.example.com/v1/items?key=<<S>>`;\n", True,
                 id="ts template text"),
    pytest.param("src/Api.java", "// apiKey=<<S>>\nclass Api {}\n", True, id="java comment"),
    pytest.param("main.go", "const usage = `\nAPI_KEY=<<S>> ./app\n`\n", True, id="go raw string"),
    pytest.param("setup.rb", "puts <<~EOS\n  API_KEY=<<S>>\nEOS\n", True, id="ruby heredoc"),
    pytest.param("page.php", "<p>API_KEY=<<S>></p>\n<?php echo 1; ?>\n", True, id="php html"),
    pytest.param("demo.ipynb", _notebook("markdown", "Set it:\nAPI_KEY=<<S>>"), True, id="notebook markdown"),
    pytest.param("demo.ipynb", _notebook("code", "!export API_KEY=<<S>>"), True, id="notebook shell escape"),
    pytest.param("demo.ipynb", _notebook("code", "%env API_KEY=<<S>>"), True, id="notebook env magic"),
    pytest.param("demo.ipynb", _notebook("code", "print(1)", outputs="API_KEY=<<S>>"), True, id="notebook output"),
]


@pytest.mark.parametrize(("path", "snippet", "literal"), UNQUOTED_BY_LANGUAGE)
def test_unquoted_value_is_a_literal_only_where_the_language_reads_it_as_text(path: str, snippet: str,
                                                                             literal: bool) -> None:
    # A letter first: a value of code is a name, whatever follows it.
    secret = "k" + random_chars(31, KEY_ALPHABET.replace("-", ""))
    text = snippet.replace(S, secret)
    found = [m for m in _matches(text, path) if m[0] == "hardcoded-api-key"]
    assert found == ([("hardcoded-api-key", *_located(text, secret), secret)] if literal else [])


@pytest.mark.parametrize("paths", [
    pytest.param(("src/client.ts", "deploy/client.env"), id="code and config"),
    pytest.param((), id="no path"),
])
def test_unquoted_value_is_a_literal_where_the_paths_do_not_agree(paths: tuple[str, ...]) -> None:
    secret = "k" + random_chars(31, KEY_ALPHABET.replace("-", ""))
    scanned = Detector().scan_content(f"apiKey: {secret}\n".encode(), paths)
    assert [m.secret for m in scanned.matches] == [secret]


def _syllable_value(rng: random.Random, length: int) -> str:
    """A lower-case value strung of syllables (a consonant, a vowel or two) and a few digits: made to be said."""
    out = ""
    while len(out) < length:
        out += rng.choice("bdfghklmnprstvz") + rng.choice(["a", "e", "i", "o", "u", "ae", "ie", "oo", "ee", "ia"])
        if rng.random() < 0.1:
            out += rng.choice(string.digits)
    return out[:length]


# An Ansible integration test's task: a value made up to be refused, in a YAML task list.
_TASK = '- name: request reload\n  community.general.some_module:\n    api_key: "<<S>>"\n  ignore_errors: true\n'


def test_value_made_to_be_pronounced_is_no_key() -> None:
    rng = random.Random(32)
    value = next(v for v in (_syllable_value(rng, 40) for _ in range(100)) if any(c.isdigit() for c in v))
    assert _matches(_TASK.replace(S, value)) == []


@pytest.mark.parametrize("alphabet", [string.ascii_lowercase + string.digits, "0123456789abcdef"], ids=["base36", "hex"])
def test_random_one_case_key_in_a_task_list_is_found(alphabet: str) -> None:
    secret = random_chars(31, alphabet) + random.choice(string.digits)
    text = _TASK.replace(S, secret)
    assert _matches(text) == [("hardcoded-api-key", *_located(text, secret), secret)]


def _mashed_value(rng: random.Random, length: int) -> str:
    """A value made up by mashing keys: home-row letters, one hand after the other, digits between."""
    hands, hand, out = ("asdfg", "hjkl"), rng.randrange(2), []
    while len(out) < length:
        out.append(rng.choice(string.digits) if rng.random() < 0.25 else rng.choice(hands[hand]))
        hand = 1 - hand if rng.random() < 0.7 else hand
    return "".join(out)


# Usage examples in documentation, commented out or in a docstring, and the same binding in code and
# config: a value there is judged by itself (a key committed in a comment is as leaked as one in code).
USAGE_EXAMPLES = [
    pytest.param("lib/geo/configuration.rb", '##\n# Set options:\n#\n#   Geo.configure(\n#     :api_key => "<<S>>",\n#   )\n#\n'
                 "def self.configure(options = nil)\nend\n", id="ruby doc comment"),
    pytest.param("lib/geo.rb", '=begin\n  Geo.configure(:api_key => "<<S>>")\n=end\n', id="ruby =begin block"),
    pytest.param("geo/client.py", 'def connect():\n    """Connect.\n\n    >>> connect(api_key="<<S>>")\n    """\n', id="python docstring"),
    pytest.param("src/geo.ts", '/**\n * @example\n * const geo = new Geo({ apiKey: "<<S>>" });\n */\nexport class Geo {}\n',
                 id="ts doc block"),
    pytest.param("src/lib.rs", '/// ```\n/// let geo = Geo::new().api_key("<<S>>");\n/// ```\npub struct Geo;\n', id="rust doc comment"),
    pytest.param("cmd/main.go", '// geo.New(geo.Config{APIKey: "<<S>>"})\nfunc main() {}\n', id="go comment"),
    pytest.param("config/settings.yaml", 'geo:\n  api_key: "<<S>>"\n', id="yaml"),
    pytest.param("App.java", 'Geo geo = Geo.builder().apiKey("<<S>>").build();\n', id="java code"),
]


@pytest.mark.parametrize(("path", "snippet"), USAGE_EXAMPLES)
def test_value_mashed_on_a_keyboard_is_no_key(path: str, snippet: str) -> None:
    rng = random.Random(sum(map(ord, path)))
    value = _mashed_value(rng, 24)
    assert [m for m in _matches(snippet.replace(S, value), path) if m[0] == "hardcoded-api-key"] == []


@pytest.mark.parametrize("alphabet", [string.ascii_lowercase + string.digits, "0123456789abcdef", KEY_ALPHABET],
                         ids=["base36", "hex", "base64url"])
@pytest.mark.parametrize(("path", "snippet"), USAGE_EXAMPLES)
def test_random_key_in_a_usage_example_is_found(path: str, snippet: str, alphabet: str) -> None:
    secret = random_chars(23, alphabet) + random.choice(string.digits)
    text = snippet.replace(S, secret)
    assert _matches(text, path) == [("hardcoded-api-key", *_located(text, secret), secret)]


def _comma_key() -> str:
    """A key that holds a comma, as legacy MapQuest keys do (`…|…,…=…`), built at test time."""
    b36 = string.ascii_lowercase + string.digits
    return "Fmjtd|lu" + random_chars(8, b36) + "," + random_chars(2, b36) + "=o5-" + random_chars(5, b36)


# Where a query parameter's value ends: at `&`, `#`, a blank, a quote or bracket; a comma inside is
# the value's, one that ends the URL (a blank, the end or a delimiter after it) is the text's.
QUERY_VALUES = [
    pytest.param('"mapUrl": "https://www.mapquestapi.com/staticmap/v4/getmap?size=600,400&key=<<S>>&rand=60451",',
                 _comma_key, id="comma inside, in a JSON string"),
    pytest.param("curl 'https://api.example.com/v1/geocode?api_key=<<S>>&location=x'", _comma_key, id="api_key, comma inside"),
    pytest.param("GET https://open.example.com/geocoding/v1/address?key=<<S>>#top", _comma_key, id="comma inside, then #"),
    pytest.param("<a href=\"https://api.example.com/v1/map?key=<<S>>\">map</a>", _comma_key, id="comma inside, in HTML"),
    pytest.param("See https://api.example.com/v1/map?key=<<S>>, then retry.", _secret, id="comma ending the URL"),
    pytest.param("https://api.example.com/v1/map?key=<<S>>,\nnext", _secret, id="comma at the line's end"),
    pytest.param("[map](https://api.example.com/v1/map?key=<<S>>) and more", _secret, id="markdown link's )"),
    pytest.param("https://api.example.com/v1/map?key=<<S>>;other=1", _secret, id="semicolon"),
    pytest.param('curl "https://example.com/v1/items?api_key=<<S>>&include=a,b"', _secret, id="& before a list"),
]


@pytest.mark.parametrize(("snippet", "make"), QUERY_VALUES)
def test_query_value_ends_where_the_query_does(snippet: str, make: Callable[[], str]) -> None:
    secret = make()
    text = snippet.replace(S, secret)
    assert _matches(text) == [("hardcoded-api-key", *_located(text, secret), secret)]


def test_bare_value_outside_a_query_ends_at_a_comma() -> None:
    # In configuration and code a comma separates values: `{api_key: …, region: eu}`.
    secret = _secret().replace("-", "")
    text = f"opts = {{api_key: {secret}, region: eu}}\n"
    assert _matches(text, "deploy/values.yaml") == [("hardcoded-api-key", *_located(text, secret), secret)]


# Runs a person types, letters and digits taking turns, behind a platform's prefix or alone: in a test's
# call, a commented-out config line, a docstring.
INTERLEAVED_RUNS = [
    pytest.param("Tests/ConfigurationTests.swift", 'expect(validateAndLog(apiKey: "<<S>>")).to(equal(.legacy))\n', "appl_",
                 id="swift test call, prefixed"),
    pytest.param("config/secrets.yml", "development:\n#   api_key: <<S>>\n  secret_key_base: x\n", "", id="yaml comment"),
    pytest.param("app/settings.py", 'API_KEY = "<<S>>"\n', "", id="python constant"),
    pytest.param("src/setup.ts", 'client.setApiKey("<<S>>");\n', "goog_", id="ts setter, prefixed"),
]


@pytest.mark.parametrize(("path", "snippet", "prefix"), INTERLEAVED_RUNS)
def test_interleaved_typed_runs_are_no_key(path: str, snippet: str, prefix: str) -> None:
    from tests.test_filters import interleaved_run
    rng = random.Random(sum(map(ord, path)))
    for slip in (False, True):
        text = snippet.replace(S, prefix + interleaved_run(rng, rng.choice([12, 14, 16]), 2, slip))
        assert [m for m in _matches(text, path) if m[0] == "hardcoded-api-key"] == [], text


@pytest.mark.parametrize(("path", "snippet", "prefix"), INTERLEAVED_RUNS)
def test_random_key_where_a_typed_run_is_refused_is_found(path: str, snippet: str, prefix: str) -> None:
    secret = prefix + random_chars(15, string.ascii_lowercase + string.digits) + random.choice(string.digits)
    text = snippet.replace(S, secret)
    assert _matches(text, path) == [("hardcoded-api-key", *_located(text, secret), secret)]


def _typed_twice(rng: random.Random) -> str:
    # A 64-hex key (seeded: the same for every xdist worker) with its first eight characters typed again.
    key = "".join(rng.choice("0123456789abcdef") for _ in range(64))
    return key[:8] + key


# held-out-7's hand-made values (issue 20), in the bindings they sat in: typed runs, a repeated block, a hex
# number, a secret backend's reference. The same bindings with a random key report it.
TYPED_SHAPES = [
    pytest.param("src/api.test.ts", "const fakeAppParams = { appId: 'x', apiKey: '<<S>>' };\n", "AAbbCCdd12345",
                 id="ts object, doubled letters and digits"),
    pytest.param("__tests__/events.test.ts", "\t\t\tapiKey: '<<S>>',\n", "da2-abcxyz321", id="ts, prefix then runs"),
    pytest.param("config/i18n-tasks.yml", '#   deepl_api_key: "<<S>>"\n', "48E92789-57A3-466A-9959-1A1A1A1A1A1A",
                 id="yaml comment, uuid ending in a repeated pair"),
    pytest.param("tests/auth.rs", 'server.use_api_key("<<S>>");\n', _typed_twice(random.Random(8)),
                 id="rust call, a key's first 8 characters typed twice"),
    pytest.param("src/sinks/tests.rs", 'let api_key = "<<S>>";\n', "0xDECAFBAD", id="rust let, hexspeak"),
    pytest.param("rfcs/secrets.md", 'default_api_key = "<<S>>"\n', "SECRET[prod_vault.dd_api_2022_02]",
                 id="toml in markdown, backend reference"),
]


@pytest.mark.parametrize(("path", "snippet", "value"), TYPED_SHAPES)
def test_typed_shapes_are_no_key(path: str, snippet: str, value: str) -> None:
    text = snippet.replace(S, value)
    assert [m for m in _matches(text, path) if m[0] == "hardcoded-api-key"] == [], text


@pytest.mark.parametrize(("path", "snippet", "value"), TYPED_SHAPES)
@pytest.mark.parametrize("alphabet", ["hex", "base62"])
def test_random_key_where_a_typed_shape_is_refused_is_found(path: str, snippet: str, value: str, alphabet: str) -> None:
    chars = "0123456789abcdef" if alphabet == "hex" else string.ascii_letters + string.digits
    for _ in range(10):
        secret = random_chars(32, chars)
        text = snippet.replace(S, secret)
        assert _matches(text, path) == [("hardcoded-api-key", *_located(text, secret), secret)], text


_BASE62 = string.ascii_letters + string.digits

# Hand-made copies of a key marked for their role: a random body with a capitalized role word glued on
# (a seeded sample's `…Test`, a plan's `…Free`, `Demo…`), in a C# constant, a PowerShell script, a
# YAML fixture, a TS test.
GLUED_ROLES = [
    pytest.param("src/Core/Utility/SampleDataService.cs", 'public const string TEST_API_KEY = "<<S>>";\n', "", "Test",
                 id="cs constant, …Test"),
    pytest.param("src/Core/Utility/SampleDataService.cs", 'public const string FREE_USER_API_KEY = "<<S>>";\n', "", "Free",
                 id="cs constant, …Free"),
    pytest.param("build/audit.ps1", '$apiKey = "<<S>>"\n', "", "Trial", id="powershell, …Trial"),
    pytest.param("config/demo.yaml", "api_key: <<S>>\n", "Dummy", "", id="yaml, Dummy…"),
    pytest.param("test/client.test.ts", 'client.setApiKey("<<S>>");\n', "", "Demo", id="ts setter, …Demo"),
]


@pytest.mark.parametrize(("path", "snippet", "head", "tail"), GLUED_ROLES)
def test_role_word_glued_to_a_random_body_is_no_key(path: str, snippet: str, head: str, tail: str) -> None:
    for digit in ("", "1"):  # `…271nTest`, `…271n1Free`; `Demo7…`, `DemoQ…` (a word ends where a capital or digit follows)
        value = head + (random.choice(string.ascii_uppercase + string.digits) if head else "") \
            + random_chars(35, _BASE62) + digit + tail
        text = snippet.replace(S, value)
        assert [m for m in _matches(text, path) if m[0] == "hardcoded-api-key"] == [], text


@pytest.mark.parametrize(("path", "snippet", "head", "tail"), GLUED_ROLES)
def test_random_key_where_a_role_word_is_refused_is_found(path: str, snippet: str, head: str, tail: str) -> None:
    # The same places, a random key: and one holding the word inside, or in lower case at its end.
    for secret in (random_chars(39, _BASE62) + "x",
                   random_chars(20, _BASE62) + "0" + (head or tail) + random_chars(15, _BASE62) + "7",
                   random_chars(35, string.ascii_lowercase + string.digits) + "1" + (head or tail).lower()):
        text = snippet.replace(S, secret)
        assert _matches(text, path) == [("hardcoded-api-key", *_located(text, secret), secret)], text


# Names that bind no working key: one that declares the value invalid, suspended, expired, revoked,
# wrong, fake (a test's rejected key); one whose last word is an identifier (the key's record id).
NOT_A_WORKING_KEY = [
    pytest.param("tests/Utility/TestConstants.cs", 'public const string SuspendedApiKey = "<<S>>";\n', id="cs Suspended"),
    pytest.param("tests/Utility/TestConstants.cs", 'public const string InvalidApiKey = "<<S>>";\n', id="cs Invalid"),
    pytest.param("spec/client_spec.rb", "EXPIRED_API_KEY = '<<S>>'\n", id="ruby EXPIRED_"),
    pytest.param("tests/test_auth.py", 'revoked_api_key = "<<S>>"\n', id="python revoked_"),
    pytest.param("src/auth.test.ts", 'const wrongApiKey = "<<S>>";\n', id="ts wrong"),
    pytest.param(".code-samples.yaml", 'get_key_1: |-\n  let api_key_uid = "<<S>>";\n', id="yaml sample, api_key_uid"),
    pytest.param("src/client.rs", '/// let api_key_uid = "<<S>>";\npub fn get_key() {}\n', id="rustdoc, api_key_uid"),
    pytest.param("app/models.py", 'API_KEY_GUID = "<<S>>"\n', id="python API_KEY_GUID"),
    pytest.param("src/keys.ts", "const apiKeyId = '<<S>>';\n", id="ts apiKeyId"),
    pytest.param("purchases/src/test/java/APIKeyValidatorTest.kt",
                 'assertThat(validator.redactApiKey("<<S>>")).isEqualTo("g9***")\n', id="kotlin redactApiKey(…)"),
    pytest.param("src/auth.test.ts", 'expect(isValidApiKey("<<S>>")).toBe(true);\n', id="ts isValidApiKey(…)"),
]


@pytest.mark.parametrize(("path", "snippet"), NOT_A_WORKING_KEY)
def test_a_name_that_binds_no_working_key_reports_nothing(path: str, snippet: str) -> None:
    text = snippet.replace(S, random_chars(36, _BASE62))
    assert [m for m in _matches(text, path) if m[0] == "hardcoded-api-key"] == []


@pytest.mark.parametrize(("path", "snippet"), [
    pytest.param("tests/Utility/TestConstants.cs", 'public const string UserApiKey = "<<S>>";\n', id="cs User"),
    pytest.param("spec/client_spec.rb", "VALID_API_KEY = '<<S>>'\n", id="ruby VALID_"),
    pytest.param("tests/test_auth.py", 'TEST_API_KEY = "<<S>>"\n', id="python TEST_ (a test's key may be real)"),
    pytest.param("src/auth.ts", 'const sandboxApiKey = "<<S>>";\n', id="ts sandbox (holds `bad`)"),
    pytest.param("src/client.rs", 'let api_key_value = "<<S>>";\n', id="rust api_key_value"),
    pytest.param("src/test/java/ClientTest.kt", 'client.setApiKey("<<S>>")\n', id="kotlin setApiKey(…)"),
    pytest.param("src/app.ts", "sdk.withApiKey('<<S>>');\n", id="ts withApiKey(…)"),
])
def test_a_name_that_binds_a_key_still_reports_it(path: str, snippet: str) -> None:
    secret = random_chars(36, _BASE62) + "1"
    text = snippet.replace(S, secret)
    assert _matches(text, path) == [("hardcoded-api-key", *_located(text, secret), secret)]


def test_a_published_example_copied_with_its_prefix_swapped_is_not_reported() -> None:
    # A vendor documents `setApiKey("test_<body>")`; an SDK's test copies the body as `live_<body>`.
    import hashlib

    body = random_chars(30, _BASE62)
    detector = Detector(known_public=frozenset({hashlib.sha256(body.encode()).hexdigest()}))
    for prefix in ("live_", "access_"):
        scanned = detector.scan(f"$this->client->setApiKey('{prefix}{body}');\n".encode(), "tests/Http/RequestTest.php")
        assert [m for m in scanned.matches if m.rule_id == "hardcoded-api-key"] == [] and scanned.allowed == 1
    other = random_chars(30, _BASE62)
    scanned = detector.scan(f"$this->client->setApiKey('live_{other}');\n".encode(), "tests/Http/RequestTest.php")
    assert [m.secret for m in scanned.matches] == ["live_" + other]


# A provider's prefix before a body shorter than the provider's keys (a mocked Stripe key of 14), and
# that body written bare beside it as the "old" key: one stand-in, twice. At the provider's length both
# are the key.
_SHORT_PREFIXED = (
    'def test_live_apikey(self, mocker):\n    mocker.patch("stripe.api_key", "sk_live_<<B>>")\n\n'
    'def test_old_apikey(self, mocker):\n    mocker.patch("stripe.api_key", "<<B>>")\n'
)


@pytest.mark.parametrize("prefix", ["sk_live_", "rk_live_"])
def test_a_prefixed_stand_in_shorter_than_the_providers_keys_is_no_key(prefix: str) -> None:
    text = _SHORT_PREFIXED.replace("sk_live_", prefix).replace("<<B>>", random_chars(13, _BASE62) + "7")
    assert [m for m in _matches(text, "tests/test_util.py") if m[0] == "hardcoded-api-key"] == [], text


def test_a_prefixed_key_of_the_providers_length_and_its_bare_copy_are_found() -> None:
    body = random_chars(23, _BASE62) + "7"
    text = _SHORT_PREFIXED.replace("<<B>>", body)
    assert [m[3] for m in _matches(text, "tests/test_util.py")] == ["sk_live_" + body, body]


def test_a_short_value_without_a_prefixed_copy_is_judged_alone() -> None:
    body, other = random_chars(13, _BASE62) + "7", random_chars(13, _BASE62) + "7"
    text = _SHORT_PREFIXED.replace('"sk_live_<<B>>"', f'"sk_live_{other}"').replace("<<B>>", body)
    assert [m[3] for m in _matches(text, "tests/test_util.py")] == [body]


# Base64 of a typed text (`id:api_key`) handed over as an encoded key, in a Rust test, a C# constant;
# base64 of a random id and key (an Elastic-style encoded key) is one.
ENCODED = [
    pytest.param("tests/auth.rs", '.auth(Credentials::EncodedApiKey("<<S>>".into()));\n', id="rust EncodedApiKey(…)"),
    # A Kubernetes Secret's data, filled with `echo … | base64` (the line end encoded too).
    pytest.param("charts/app/ci/values.yaml", "secret:\n  data:\n    api-key: <<S>>\n", id="helm Secret data"),
    pytest.param("tests/AuthTests.cs", 'const string EncodedApiKey = "<<S>>";\n', id="cs constant"),
]


@pytest.mark.parametrize(("path", "snippet"), ENCODED)
@pytest.mark.parametrize("plain", ["id:api_key", "user:password", "api_key"])
def test_base64_of_a_typed_text_is_no_key(path: str, snippet: str, plain: str) -> None:
    import base64
    for line_end in ("", "\n"):
        text = snippet.replace(S, base64.b64encode((plain + line_end).encode()).decode())
        assert [m for m in _matches(text, path) if m[0] == "hardcoded-api-key"] == [], text


@pytest.mark.parametrize(("path", "snippet"), ENCODED)
def test_base64_of_a_random_id_and_key_is_found(path: str, snippet: str) -> None:
    import base64
    secret = base64.b64encode((random_chars(20) + ":" + random_chars(22)).encode()).decode()
    text = snippet.replace(S, secret)
    assert _matches(text, path) == [("hardcoded-api-key", *_located(text, secret), secret)]


# Ascending runs framing a random body (`ABCD` + random + `EFGH`) in a mocked JSON response of a Go test.
_MOCKED = 'response := `{\n\t"label": "example-inference",\n\t"api_key": "<<S>>"\n}`\n'


@pytest.mark.parametrize(("head", "tail"), [("ABCD", "EFGH"), ("1234", "5678")])
def test_typed_runs_framing_a_random_body_are_no_key(head: str, tail: str) -> None:
    body = random_chars(27, string.ascii_uppercase + string.digits) + "7"
    text = _MOCKED.replace(S, head + body + tail)
    assert [m for m in _matches(text, "inference_test.go") if m[0] == "hardcoded-api-key"] == [], text


def test_random_key_where_framing_runs_are_refused_is_found() -> None:
    for secret in ("ABCD" + random_chars(31, string.ascii_uppercase + string.digits) + "7",
                   random_chars(31, string.ascii_uppercase + string.digits) + "7EFGH"):
        text = _MOCKED.replace(S, secret)
        assert _matches(text, "inference_test.go") == [("hardcoded-api-key", *_located(text, secret), secret)], text


# A `?key=` of a page's link, not an API's: a random token in the URL's path names the object and the
# `key` is its second per-object token (a mocked order's status page, a checkout's link).
_PAGE_LINKS = [
    pytest.param('"order_status_url" => "https://shop.example.com/5483/orders/<<T>>/authenticate?key=<<S>>",\n',
                 id="ruby hash, order status page"),
    pytest.param('{"web_url": "https://checkout.local/5483/checkouts/<<T>>?key=<<S>>"}\n', id="json, checkout link"),
]


@pytest.mark.parametrize("snippet", _PAGE_LINKS)
def test_key_of_a_page_link_beside_a_path_token_is_no_api_key(snippet: str) -> None:
    text = snippet.replace("<<T>>", hex_secret(32)).replace(S, hex_secret(32))
    assert [m for m in _matches(text, "test/rest/order_test.rb") if m[0] == "hardcoded-api-key"] == [], text


@pytest.mark.parametrize("snippet", [
    pytest.param('url = "https://tiles.example.com/styles/v1/<<T>>/tiles?key=<<S>>"\n', id="an API's path (/v1/)"),
    pytest.param('url = "https://example.com/widget/embed?key=<<S>>"\n', id="no token in the path"),
    pytest.param('url = "https://example.com/articles/a-long-readable-slug-here?key=<<S>>"\n', id="a slug, not a token"),
])
def test_key_of_a_url_without_a_path_token_is_still_found(snippet: str) -> None:
    secret = hex_secret(32)
    text = snippet.replace("<<T>>", hex_secret(32)).replace(S, secret)
    assert _matches(text, "app/config.py") == [("hardcoded-api-key", *_located(text, secret), secret)], text


def test_a_digest_of_a_word_in_a_recording_is_no_key() -> None:
    import hashlib
    text = 'response:\n  body: \'{"cname_api_key": "<<S>>", "status": "ok"}\'\n'
    for word in (b"test", b"secret"):
        value = hashlib.sha512(word).hexdigest()
        assert [m for m in _matches(text.replace(S, value), "test/data/recordings/Test.yaml")
                if m[0] == "hardcoded-api-key"] == []
    secret = hex_secret(128)
    assert [m[3] for m in _matches(text.replace(S, secret), "test/data/recordings/Test.yaml")] == [secret]


# tuned-7's value shapes, in every language: typed words with an ordinal behind a prefix, a letters-only mash
# with a typed camelCase word inside, a UUID or hex layout broken inside by letters past `h` (a hand edit), hex
# one character off a byte length (a docs value that lost a character). Each beside a random key found in the
# same place.
_PLACES = [
    pytest.param("src/views/APICodeDialog.jsx", 'const config = { "openAIApiKey": "<<S>>" };\n', id="jsx object"),
    pytest.param("app/settings.py", 'API_KEY = "<<S>>"\n', id="python constant"),
    pytest.param("src/Client.Test/Fixture.cs", 'var apiKey = "<<S>>";\n', id="csharp var"),
    pytest.param("spec/agent_spec.rb", '{ "api_key" => \'<<S>>\' }\n', id="ruby hash"),
    pytest.param("tests/logs/test-logs.php", "'api_key' => '<<S>>',\n", id="php array"),
    pytest.param("cmd/main.go", 'apiKey := "<<S>>"\n', id="go short declaration"),
    pytest.param("GETTING_STARTED.md", "```ruby\nAPI_KEY = '<<S>>'\n```\n", id="markdown code"),
]


def _hand_edited_uuid() -> str:
    value = list(str(uuid.uuid4()))
    value[random.choice([i for i in range(9, 27) if value[i] != "-"])] = random.choice("ijkmnpqrstuvwxyz")
    return "".join(value)


def _hand_edited_hex() -> str:
    value = list(hex_secret(random.choice([28, 32, 40])))
    for i in random.sample(range(9, len(value) - 9), 2):
        value[i] = random.choice("ijkmnpqrstuvwxyz")
    return "".join(value)


def _mash_around_a_word() -> str:
    home = "asdfghjklqwer"
    return random_chars(14, home) + "jacketmySecret" + random_chars(14, home)


STAND_IN_SHAPES = [
    pytest.param(lambda: "sk-my-openai-" + random.choice(["1st", "2nd", "3rd", "4th", "11th"]) + "-key", id="ordinal words"),
    pytest.param(lambda: "my_" + random.choice(["1st", "2nd", "22nd"]) + "_test_api_key", id="ordinal snake"),
    pytest.param(_mash_around_a_word, id="mash around a typed word"),
    pytest.param(_hand_edited_uuid, id="uuid edited"),
    pytest.param(_hand_edited_hex, id="hex edited"),
    pytest.param(lambda: hex_secret(random.choice([31, 33, 39, 41, 63])), id="hex one off"),
]

KEY_SHAPES = [
    pytest.param(lambda: "sk-" + random_chars(3, "0123456789") + "rd" + random_chars(32, _BASE62), id="ordinal-like in a key"),
    pytest.param(lambda: random_chars(38, string.ascii_letters), id="random letters"),
    pytest.param(lambda: str(uuid.uuid4()), id="uuid"),
    pytest.param(lambda: hex_secret(random.choice([32, 40, 64])), id="hex"),
    pytest.param(lambda: hex_secret(37), id="37 hex"),
    pytest.param(lambda: "SK" + hex_secret(32), id="prefix glued to hex"),
    pytest.param(lambda: hex_secret(32) + "-us18", id="hex and a suffix"),
    pytest.param(lambda: random_chars(32, string.ascii_lowercase + string.digits), id="base36"),
]


@pytest.mark.parametrize("make", STAND_IN_SHAPES)
@pytest.mark.parametrize(("path", "snippet"), _PLACES)
def test_typed_and_hand_edited_shapes_are_no_key(path: str, snippet: str, make: Callable[[], str]) -> None:
    for _ in range(5):
        text = snippet.replace(S, make())
        assert [m for m in _matches(text, path) if m[0] == "hardcoded-api-key"] == [], text


@pytest.mark.parametrize("make", KEY_SHAPES)
@pytest.mark.parametrize(("path", "snippet"), _PLACES)
def test_random_keys_where_those_shapes_are_refused_are_found(path: str, snippet: str, make: Callable[[], str]) -> None:
    for _ in range(5):
        secret = make()
        text = snippet.replace(S, secret)
        assert _matches(text, path) == [("hardcoded-api-key", *_located(text, secret), secret)], text
