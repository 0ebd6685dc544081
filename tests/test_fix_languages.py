"""`keysentry fix --apply` per language and per form, on real git repositories: a key in code becomes an
environment lookup in the file's own language, the file still parses (Python compiles, JavaScript passes
`node --check`, shell `bash -n`, Go `gofmt -l`), the value is kept in the git-ignored
.env, and a scan afterwards no longer finds it. Placeholders, lookups and variables are left alone."""
from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from scanner.cli import main
from scanner.fix import code
from scanner.fix.languages import language_of
from tests.conftest import git, google_key, random_chars


def generic_secret() -> str:
    return "sk" + random_chars(30, "abcdefghijklmnopqrstuvwxyz0123456789")


@dataclass(frozen=True)
class Case:
    name: str
    path: str
    source: str  # {K}: a Google API key, {S}: a generic secret, both made at test time
    expected: str  # a line of the fixed file
    variable: str  # the variable whose value .env now holds
    value: str = "K"


CASES = [
    Case("python-genai-client-drops-the-argument", "app.py",
         'from google import genai\n\nclient = genai.Client(api_key="{K}")\n', "client = genai.Client()",
         "GEMINI_API_KEY"),
    Case("python-genai-client-among-other-arguments", "app.py",
         'from google import genai\n\nclient = genai.Client(api_key="{K}", http_options=None)\n',
         "client = genai.Client(http_options=None)", "GEMINI_API_KEY"),
    Case("python-genai-client-imported-by-name", "chat.py",
         'from google.genai import Client, types\n\nclient = Client(api_key="{K}")\n', "client = Client()",
         "GEMINI_API_KEY"),
    Case("python-another-sdks-client-keeps-its-argument", "pay.py",
         'from payments import Client\n\nclient = Client(api_key="{S}")\n',
         'client = Client(api_key=os.environ["API_KEY"])', "API_KEY", "S"),
    Case("python-assignment-adds-import-os", "settings.py",
         '"""Settings."""\nimport sys\n\nstripe_api_key = "{S}"\n', 'stripe_api_key = os.environ["STRIPE_API_KEY"]',
         "STRIPE_API_KEY", "S"),
    Case("python-key-in-a-url", "maps.py",
         'import os\nURL = "https://maps.googleapis.com/maps/api/geocode/json?key={K}&address=x"\n',
         'URL = "https://maps.googleapis.com/maps/api/geocode/json?key=" + os.environ["GOOGLE_MAPS_API_KEY"] + '
         '"&address=x"', "GOOGLE_MAPS_API_KEY"),
    Case("python-getenv-fallback-dropped", "conf.py",
         'import os\nkey = os.getenv("SERVICE_API_KEY", "{S}")\n', 'key = os.getenv("SERVICE_API_KEY")',
         "SERVICE_API_KEY", "S"),
    Case("python-keyword-argument", "client.py",
         'import requests\nrequests.get("https://x.example", params=dict(api_key="{S}"))\n',
         'requests.get("https://x.example", params=dict(api_key=os.environ["API_KEY"]))', "API_KEY", "S"),
    Case("javascript-const", "app.js", 'const apiKey = "{S}";\nconsole.log(apiKey);\n',
         "const apiKey = process.env.API_KEY;", "API_KEY", "S"),
    Case("javascript-fallback-dropped", "app.js", 'const k = process.env.PAYMENTS_API_KEY || "{S}";\n',
         "const k = process.env.PAYMENTS_API_KEY;", "PAYMENTS_API_KEY", "S"),
    Case("javascript-object-property", "client.mjs", 'export const config = {{ apiKey: "{S}", retries: 3 }};\n',
         "export const config = { apiKey: process.env.API_KEY, retries: 3 };", "API_KEY", "S"),
    Case("javascript-template-url", "fetch.js",
         'fetch(`https://generativelanguage.googleapis.com/v1beta/models?key={K}`);\n',
         "fetch(`https://generativelanguage.googleapis.com/v1beta/models?key=` + process.env.GEMINI_API_KEY);",
         "GEMINI_API_KEY"),
    Case("jsx-attribute-gets-braces", "Map.jsx",
         'export const M = () => <MapView apiKey="{S}" zoom={{3}} />;\n',
         "export const M = () => <MapView apiKey={process.env.API_KEY} zoom={3} />;", "API_KEY", "S"),
    Case("typescript-typed-const", "api.ts", 'export const apiKey: string = "{S}";\n',
         "export const apiKey: string = process.env.API_KEY!;", "API_KEY", "S"),
    Case("go-const-becomes-var-with-import", "main.go",
         'package main\n\nimport "fmt"\n\nconst apiKey = "{S}"\n\nfunc main() {{ fmt.Println(apiKey) }}\n',
         'var apiKey = os.Getenv("API_KEY")', "API_KEY", "S"),
    Case("go-struct-field-import-sorted-in-block", "client.go",
         'package client\n\nimport (\n\t"fmt"\n\t"net/http"\n)\n\nvar _ = fmt.Sprint\nvar _ = http.Get\n\n'
         'type Config struct{{ APIKey string }}\n\nvar cfg = Config{{APIKey: "{S}"}}\n',
         'var cfg = Config{APIKey: os.Getenv("API_KEY")}', "API_KEY", "S"),
    Case("go-cgo-import-stays-alone", "cgo.go",
         'package main\n\n// #include <stdio.h>\nimport "C"\n\nvar apiKey = "{S}"\n',
         'var apiKey = os.Getenv("API_KEY")', "API_KEY", "S"),
    Case("go-key-in-a-url", "url.go",
         'package main\n\nimport "net/http"\n\nfunc get() {{\n\thttp.Get("https://generativelanguage.googleapis.com/v1beta/models?key={K}")\n}}\n',
         '\thttp.Get("https://generativelanguage.googleapis.com/v1beta/models?key=" + os.Getenv("GEMINI_API_KEY"))',
         "GEMINI_API_KEY"),
    Case("go-aligned-comments-stay-aligned", "cfg.go",
         'package main\n\ntype Config struct {{\n\tAPIKey  string\n\tTimeout int\n}}\n\nvar c = Config{{\n'
         # gofmt-clean as written: the comments aligned past the 32-character secret.
         '\tAPIKey:  "{S}", // the key\n\tTimeout: 5,' + ' ' * 34 + '// seconds\n}}\n',
         '\tAPIKey:  os.Getenv("API_KEY"), // the key', "API_KEY", "S"),
    Case("java-key-in-a-url", "Url.java",
         'class Url {{\n    String u = "https://generativelanguage.googleapis.com/v1beta/models?key={K}&alt=json";\n}}\n',
         '    String u = "https://generativelanguage.googleapis.com/v1beta/models?key=" + System.getenv("GEMINI_API_KEY") + "&alt=json";', "GEMINI_API_KEY"),
    Case("kotlin-key-in-a-url", "Url.kt", 'val u = "https://generativelanguage.googleapis.com/v1beta/models?key={K}"\n',
         'val u = "https://generativelanguage.googleapis.com/v1beta/models?key=" + System.getenv("GEMINI_API_KEY")', "GEMINI_API_KEY"),
    Case("csharp-key-in-a-url", "Url.cs",
         'class Url {{\n    string u = "https://generativelanguage.googleapis.com/v1beta/models?key={K}";\n}}\n',
         '    string u = "https://generativelanguage.googleapis.com/v1beta/models?key=" + Environment.GetEnvironmentVariable("GEMINI_API_KEY");', "GEMINI_API_KEY"),
    Case("ruby-hash-pair", "conf.rb", 'CONFIG = {{ api_key: "{S}", retries: 3 }}\n',
         'CONFIG = { api_key: ENV.fetch("API_KEY"), retries: 3 }', "API_KEY", "S"),
    Case("php-key-in-a-url", "url.php", "<?php\n$u = 'https://generativelanguage.googleapis.com/v1beta/models?key={K}';\n",
         "$u = 'https://generativelanguage.googleapis.com/v1beta/models?key=' . getenv('GEMINI_API_KEY');", "GEMINI_API_KEY"),
    Case("java-static-final", "Main.java",
         'class Main {{\n    private static final String API_KEY = "{S}";\n}}\n',
         '    private static final String API_KEY = System.getenv("API_KEY");', "API_KEY", "S"),
    Case("kotlin-const-val", "Config.kt", 'const val API_KEY = "{S}"\n', 'val API_KEY = System.getenv("API_KEY")',
         "API_KEY", "S"),
    Case("csharp-const-field", "Client.cs",
         'namespace App {{\n    class Client {{\n        const string ApiKey = "{S}";\n    }}\n}}\n',
         '        static readonly string ApiKey = Environment.GetEnvironmentVariable("API_KEY");', "API_KEY", "S"),
    Case("ruby-constant", "client.rb", 'API_KEY = "{S}"\nputs API_KEY\n', 'API_KEY = ENV.fetch("API_KEY")',
         "API_KEY", "S"),
    Case("php-variable", "index.php", "<?php\n$apiKey = '{S}';\necho $apiKey;\n", "$apiKey = getenv('API_KEY');",
         "API_KEY", "S"),
    Case("shell-curl-query-parameter", "run.sh",
         'curl "https://generativelanguage.googleapis.com/v1beta/models?key={K}"\n',
         'curl "https://generativelanguage.googleapis.com/v1beta/models?key=${GEMINI_API_KEY}"', "GEMINI_API_KEY"),
    Case("shell-single-quoted-header", "call.sh",
         "curl -H 'x-goog-api-key: {K}' https://generativelanguage.googleapis.com/v1beta/models\n",
         "curl -H 'x-goog-api-key: '\"${GEMINI_API_KEY}\" https://generativelanguage.googleapis.com/v1beta/models",
         "GEMINI_API_KEY"),
    Case("shell-export-in-a-script", "deploy.sh", 'export PAYMENTS_API_KEY="{S}"\n./deploy\n',
         'export PAYMENTS_API_KEY="${PAYMENTS_API_KEY}"', "PAYMENTS_API_KEY", "S"),
    Case("compose-environment-mapping", "docker-compose.yml",
         "services:\n  app:\n    image: app\n    environment:\n      GEMINI_API_KEY: {K}\n",
         "      GEMINI_API_KEY: ${GEMINI_API_KEY}", "GEMINI_API_KEY"),
    Case("compose-environment-list", "compose.yaml",
         'services:\n  app:\n    image: app\n    environment:\n      - "PAYMENTS_API_KEY={S}"\n',
         '      - "PAYMENTS_API_KEY=${PAYMENTS_API_KEY}"', "PAYMENTS_API_KEY", "S"),
    Case("spring-application-yml", "src/main/resources/application.yml",
         "google:\n  maps:\n    api-key: {K}\nserver:\n  port: 8080\n",
         "    api-key: ${GOOGLE_MAPS_API_KEY}", "GOOGLE_MAPS_API_KEY"),
    Case("spring-application-properties", "src/main/resources/application-prod.properties",
         "server.port=8080\npayments.api-key={S}\n", "payments.api-key=${PAYMENTS_API_KEY}", "PAYMENTS_API_KEY", "S"),
    Case("github-workflow-secret", ".github/workflows/ci.yml",
         "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n"
         '      - run: curl "https://generativelanguage.googleapis.com/v1beta/models?key={K}"\n',
         '      - run: curl "https://generativelanguage.googleapis.com/v1beta/models?key=${{ secrets.GEMINI_API_KEY }}"',
         "GEMINI_API_KEY"),
]


def _repo(tmp_path: Path, path: str, text: str) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    target = repo / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "start")
    return repo


def _fix(repo: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    status = main(["fix", str(repo), "--jobs", "1", *extra])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return status, out + err


def _scan(repo: Path, capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    main(["scan", str(repo), "--format", "json", "--jobs", "1"])
    findings: list[dict[str, object]] = json.loads(capsys.readouterr().out)["findings"]
    return findings


def assert_still_valid(path: Path, rel: str) -> None:
    """The fixed file still parses, by the language's own tool where this machine has it."""
    if rel.endswith(".properties"):
        return  # java.util.Properties reads any line; the rescan and the expected line are the check
    language = language_of(rel)
    assert language is not None
    data = path.read_bytes()
    assert not code.parse(language, data).root_node.has_error, data.decode()
    if language.name == "python":
        compile(data, str(path), "exec")
    elif language.name == "javascript" and path.suffix != ".jsx":  # node has no JSX; the grammar checked it
        node = shutil.which("node")
        assert node is not None, "the image has Node.js; tests rely on it"
        check = subprocess.run([node, "--check", str(path)], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
    elif language.name == "shell":
        check = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
    elif language.name in ("compose", "workflow", "spring"):
        import yaml

        yaml.safe_load(data)
    elif language.name == "go":
        gofmt = shutil.which("gofmt")
        assert gofmt is not None, ".ci/run installs Debian's golang-go for gofmt"
        check = subprocess.run([gofmt, "-l", str(path)], capture_output=True, text=True)
        assert check.returncode == 0 and check.stdout == "", check.stdout + check.stderr


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_key_in_code_becomes_an_environment_lookup(case: Case, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    secrets = {"K": google_key(), "S": generic_secret()}
    repo = _repo(tmp_path, case.path, case.source.format(**secrets))
    before = (repo / case.path).read_text()

    status, dry = _fix(repo, capsys)
    assert status == 1
    assert (repo / case.path).read_text() == before, "a dry run writes nothing"
    assert not (repo / ".env").exists()
    assert secrets[case.value] not in dry, "the diff redacts the key"

    status, out = _fix(repo, capsys, "--apply")
    assert status == 1, out
    fixed = (repo / case.path).read_text()
    assert case.expected in fixed.splitlines(), fixed
    assert secrets[case.value] not in fixed
    assert_still_valid(repo / case.path, case.path)
    env = (repo / ".env").read_text()
    assert f"{case.variable}={secrets[case.value]}" in env.splitlines()
    assert git(repo, "check-ignore", ".env") == ".env"
    assert _scan(repo, capsys) == []
    status, out = _fix(repo, capsys)
    assert status == 0 and "nothing to fix" in out


@dataclass(frozen=True)
class Untouched:
    name: str
    path: str
    source: str


UNTOUCHED = [
    Untouched("python-placeholder", "app.py", 'api_key = "YOUR_API_KEY_HERE"\n'),
    Untouched("python-env-lookup", "app.py", 'import os\napi_key = os.environ["GEMINI_API_KEY"]\n'),
    Untouched("python-variable", "app.py", "def make(key):\n    api_key = key\n    return api_key\n"),
    Untouched("javascript-env-lookup", "app.js", "const apiKey = process.env.GEMINI_API_KEY;\n"),
    Untouched("go-getenv", "main.go", 'package main\n\nimport "os"\n\nvar apiKey = os.Getenv("API_KEY")\n'),
    Untouched("shell-reference", "run.sh", 'curl "https://x.example/v1?key=${GEMINI_API_KEY}"\n'),
]


@pytest.mark.parametrize("case", UNTOUCHED, ids=[c.name for c in UNTOUCHED])
def test_placeholders_lookups_and_variables_are_left_alone(case: Untouched, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    repo = _repo(tmp_path, case.path, case.source)
    status, out = _fix(repo, capsys, "--apply")
    assert status == 0, out
    assert (repo / case.path).read_text() == case.source
    assert not (repo / ".env").exists() and not (repo / ".gitignore").exists()


REFUSED = [
    ("php-class-constant", "Config.php", "<?php\nclass Config {{\n    const API_KEY = '{S}';\n}}\n", "only a constant"),
    ("go-const-block", "keys.go", 'package keys\n\nconst (\n\tapiKey = "{S}"\n\tother = 1\n)\n', "const block"),
    ("java-annotation-argument", "Api.java", '@Client(apiKey = "{S}")\nclass Api {{}}\n', "only a constant"),
    ("python-docstring", "doc.py", '"""Call it with api_key = \'{S}\'."""\nimport os\n', "stands alone"),
    ("yaml-config", "config.yaml", "service:\n  api_key: {S}\n", "does not rewrite this kind of file"),
    ("figaro-application-yml-is-not-spring", "config/application.yml", "GEMINI_API_KEY: {S}\n",
     "does not rewrite this kind of file"),
    ("python-that-does-not-parse", "broken.py", 'api_key = "{S}"\ndef (:\n', "does not parse"),
]


@pytest.mark.parametrize(("name", "path", "source", "why"), REFUSED, ids=[r[0] for r in REFUSED])
def test_what_cannot_be_fixed_safely_is_a_step_with_the_reason(name: str, path: str, source: str, why: str,
                                                                 tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    text = source.format(S=generic_secret())
    repo = _repo(tmp_path, path, text)
    status, out = _fix(repo, capsys, "--apply")
    assert status == 1
    assert "By hand" in out and why in out, out
    assert (repo / path).read_text() == text
    assert not (repo / ".env").exists()
