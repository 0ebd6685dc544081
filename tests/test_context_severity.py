"""Every finding's `context` and `severity` (contract), judged offline from its path and the text around it."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from scanner.detect import Detector
from scanner.models import Finding, make_finding
from tests.conftest import google_key, random_chars

K = "<<K>>"


def _findings(text: str, path: str) -> list[Finding]:
    return [make_finding(m, path) for m in Detector().scan(text.encode(), path).matches]


def _one(text: str, path: str, rule_id: str) -> Finding:
    found = [f for f in _findings(text, path) if f.rule_id == rule_id]
    assert len(found) == 1, found
    return found[0]


GOOGLE_KEY_CONTEXTS = [
    pytest.param("app.py", 'client = genai.Client(api_key="<<K>>")', "gemini-client", "critical", id="genai client"),
    pytest.param("web/ai.ts", 'const ai = new GoogleGenAI({ apiKey: "<<K>>" });', "gemini-client", "critical",
                 id="GoogleGenAI"),
    pytest.param("call.sh", 'curl "https://generativelanguage.googleapis.com/v1beta/models/x:generateContent?key=<<K>>"',
                 "gemini-client", "critical", id="generativelanguage url"),
    pytest.param("req.go", 'req.Header.Set("x-goog-api-key", "<<K>>")', "gemini-client", "critical",
                 id="x-goog-api-key header"),
    pytest.param(".env.local", "GEMINI_API_KEY=<<K>>\n", "gemini-client", "critical", id="GEMINI_API_KEY"),
    pytest.param("src/firebase.js",
                 'const firebaseConfig = {\n  apiKey: "<<K>>",\n  authDomain: "demo.firebaseapp.com",\n};',
                 "firebase-config", "high", id="firebase web config"),
    pytest.param("app/google-services.json", '{"api_key": [{"current_key": "<<K>>"}]}', "firebase-config", "high",
                 id="google-services.json"),
    pytest.param("ios/GoogleService-Info.plist", "<key>API_KEY</key>\n<string><<K>></string>", "ios-plist", "high",
                 id="GoogleService-Info.plist"),
    pytest.param("app/src/main/res/values/strings.xml", '<string name="maps_key"><<K>></string>',
                 "android-resource", "high", id="strings.xml"),
    pytest.param("app/src/main/AndroidManifest.xml",
                 '<meta-data android:name="com.google.android.geo.API_KEY" android:value="<<K>>" />',
                 "android-resource", "high", id="manifest meta-data"),
    pytest.param("index.html", '<script src="https://maps.googleapis.com/maps/api/js?key=<<K>>&callback=initMap">',
                 "maps-javascript", "high", id="maps loader"),
    pytest.param("demo.ipynb",
                 '{"cells": [{"cell_type": "code", "source": ["print(key)"], "outputs": [{"text": ["<<K>>\\n"]}]}],'
                 ' "nbformat": 4}', "notebook-output", "high", id="notebook output"),
    pytest.param("tests/test_client.py", 'KEY = "<<K>>"', "test-fixture", "high", id="test fixture keeps severity"),
    pytest.param("docs/setup.md", "Use the key `<<K>>` here.", "docs", "high", id="docs keeps severity"),
    pytest.param("deploy/values.yaml", "maps:\n  key: <<K>>\n", "service-config", "high", id="service config"),
    pytest.param("src/util.py", 'KEY = "<<K>>"', "generic", "high", id="generic"),
]


@pytest.mark.parametrize(("path", "snippet", "context", "severity"), GOOGLE_KEY_CONTEXTS)
def test_google_key_context_and_severity(path: str, snippet: str, context: str, severity: str) -> None:
    finding = _one(snippet.replace(K, google_key()), path, "google-api-key")
    assert (finding.context, finding.severity) == (context, severity)


def test_notebook_source_cell_is_not_output() -> None:
    text = ('{"cells": [{"cell_type": "code", "outputs": [], "source": ["KEY = \\"' + google_key() + '\\""]}],'
            ' "nbformat": 4}')
    assert _one(text, "demo.ipynb", "google-api-key").context == "generic"


@pytest.mark.parametrize(("path", "context", "severity"), [
    pytest.param("tests/test_api.py", "test-fixture", "medium", id="test fixture"),
    pytest.param("src/__tests__/api.test.ts", "test-fixture", "medium", id="jest test"),
    pytest.param("docs/quickstart.md", "docs", "medium", id="docs"),
    pytest.param("src/api.py", "generic", "high", id="code"),
])
def test_generic_key_severity_follows_its_context(path: str, context: str, severity: str) -> None:
    finding = _one(f'api_key = "{random_chars(32)}"\n', path, "hardcoded-api-key")
    assert (finding.context, finding.severity) == (context, severity)


def test_service_account_key_is_critical() -> None:
    from tests.test_rules_google import service_account_json
    assert _one(service_account_json(), "deploy/sa.json", "gcp-service-account-key").severity == "critical"


@pytest.mark.parametrize(("text", "severity"), [
    pytest.param("APP_ENV=dev\nDEBUG=1\nPORT=8080\n", "low", id="plain settings"),
    pytest.param("APP_ENV=dev\nDATABASE_PASSWORD=<<R>>\n", "high", id="a password"),
    pytest.param("APP_ENV=dev\nSTRIPE_API_KEY=<<R>>\n", "high", id="an api key"),
    pytest.param("APP_ENV=dev\nGEMINI_KEY=AQ.Ab<<R48>>\n", "critical", id="a gemini key"),
])
def test_dotenv_file_severity_is_what_it_holds(text: str, severity: str) -> None:
    body = text.replace("<<R48>>", random_chars(48)).replace("<<R>>", random_chars(24))
    assert _one(body, ".env", "dotenv-file").severity == severity


def test_json_report_carries_context_and_severity(tmp_path: Path) -> None:
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "firebase.js").write_text(
        f'export const firebaseConfig = {{\n  apiKey: "{google_key()}",\n  authDomain: "demo.firebaseapp.com",\n}};\n')
    (tmp_path / "ai.py").write_text(f'client = genai.Client(api_key="{google_key()}")\n')
    proc = subprocess.run([sys.executable, "-m", "scanner", "scan", str(tmp_path), "--format", "json"],
                          capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    found = {f["path"]: (f["context"], f["severity"]) for f in json.loads(proc.stdout)["findings"]}
    assert found == {"ai.py": ("gemini-client", "critical"), "web/firebase.js": ("firebase-config", "high")}


def _ec_key() -> str:
    """An EC private key's PEM block around random base64 (a TLS certificate's key), never a real key."""
    import base64
    import os
    body = base64.b64encode(os.urandom(121)).decode()
    return "-----BEGIN EC PRIVATE KEY-----\n" + "\n".join(body[i:i + 64] for i in range(0, len(body), 64)) \
        + "\n-----END EC PRIVATE KEY-----"


# A module's usage examples, in its docstrings, documentation constants and doc comments: `docs`,
# wherever the file is; a line of code commented out is not documentation.
_ANSIBLE_EXAMPLES = ('DOCUMENTATION = """\nmodule: gcp_compute_ssl_certificate\n"""\n\nEXAMPLES = r"""\n'
                     "- name: create a SSL certificate\n  google.cloud.gcp_compute_ssl_certificate:\n"
                     "    name: cert\n    private_key: |-\n<<PEM>>\n"
                     '    auth_kind: serviceaccount\n    service_account_file: "/tmp/auth.pem"\n"""\n')
DOCUMENTATION_CONTEXTS = [
    pytest.param("plugins/modules/gcp_compute_ssl_certificate.py", _ANSIBLE_EXAMPLES, "gcp-service-account-key", "docs",
                 id="ansible EXAMPLES constant"),
    pytest.param("geo/client.py", 'def connect():\n    """Connect.\n\n    >>> connect(api_key="<<K>>")\n    """\n',
                 "hardcoded-api-key", "docs", id="python docstring"),
    pytest.param("src/geo.ts", '/**\n * @example\n * new Geo({ apiKey: "<<K>>" });\n */\nexport class Geo {}\n',
                 "hardcoded-api-key", "docs", id="jsdoc"),
    pytest.param("src/lib.rs", '/// ```\n/// let geo = Geo::new().api_key("<<K>>");\n/// ```\npub struct Geo;\n',
                 "hardcoded-api-key", "docs", id="rustdoc"),
    pytest.param("lib/geo.rb", '=begin\n  Geo.configure(:api_key => "<<K>>")\n=end\n', "hardcoded-api-key", "docs",
                 id="ruby =begin"),
    # Not documentation: code, a string constant of another name, a line commented out.
    pytest.param("src/app.py", 'CONFIG = """\napi_key = "<<K>>"\n"""\n', "hardcoded-api-key", "generic", id="config constant"),
    pytest.param("src/app.py", '# api_key = "<<K>>"\n', "hardcoded-api-key", "generic", id="commented-out line"),
    pytest.param("src/app.ts", '// const apiKey = "<<K>>";\n', "hardcoded-api-key", "generic", id="ts commented-out line"),
    pytest.param("src/app.py", 'api_key = "<<K>>"\n', "hardcoded-api-key", "generic", id="code"),
    pytest.param("tests/test_app.py", 'api_key = "<<K>>"\n', "hardcoded-api-key", "test-fixture", id="test code"),
]


@pytest.mark.parametrize(("path", "snippet", "rule_id", "context"), DOCUMENTATION_CONTEXTS)
def test_usage_example_in_documentation_is_docs(path: str, snippet: str, rule_id: str, context: str) -> None:
    pem = "\n".join("      " + line for line in _ec_key().split("\n"))
    text = snippet.replace(K, random_chars(31) + "7").replace("<<PEM>>", pem)
    assert _one(text, path, rule_id).context == context
