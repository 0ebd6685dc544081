"""hardcoded-api-key: a literal bound to an api-key-like name, in the ways code and config bind them."""
from __future__ import annotations

import re

from scanner.filters import plausible_literal
from scanner.rules.base import Rule

# An api-key-like name that ends the token: `api_key`, `apiKey`, `GEMINI_API_KEY`, `x-goog-api-key`,
# `config.api_key`, `$apiKey` — but not `api_key_hash` or `apiKeyHeader`, which name something else.
NAME = r"(?<![\w$.-])(?P<name>[\w$.-]*?api[_.-]?key)(?![\w-])"
# The quote that may close the name when it is a dict key / header name: ", ', `, or an escaped \".
NAME_END = r"(?:\\?[\"'`])?"
QUOTED = r"(?P<q>\\?[\"'`])(?P<secret>[^\"'`\\\r\n]{1,300})(?P=q)"
UNQUOTED = r"(?P<bare>[^\s\"'`,;<>(){}\[\]\\|]+)"
VALUE = rf"(?:{QUOTED}|{UNQUOTED})"
# `: str =`, `: string =`, `: &'static str =`, `: Optional[str] =` — a typed declaration.
TYPED = r":\s*[A-Za-z_&'][\w.\[\]<>|,?&' ]{0,40}?\s*=(?!=)"
ASSIGN = rf"\s*(?:{TYPED}|:=|=>|=(?![=~])|:(?![:=]))\s*"

_F = re.IGNORECASE

PATTERNS = (
    # api_key = "…", apiKey: '…', API_KEY=…, export GEMINI_API_KEY=…, "apiKey": "…", APIKey: "…",
    # api_key: str = "…", private readonly apiKey: string = '…', api_key := "…", 'api_key' => '…'
    re.compile(rf"{NAME}{NAME_END}{ASSIGN}{VALUE}", _F),
    # Builder and setter calls: .apiKey("…"), setApiKey('…'), withApiKey("…"), ApiKey("…")
    re.compile(rf"{NAME}\s*\(\s*{QUOTED}", _F),
    # A literal next to the name as a call argument or default: os.getenv("API_KEY", "…"),
    # define('API_KEY', '…'), headers.put("x-api-key", "…")
    re.compile(rf"[\"']{NAME}[\"']\s*,\s*{QUOTED}", _F),
    # Fallbacks: process.env.API_KEY || "…", os.environ.get("API_KEY") or "…", ENV["API_KEY"] ?? '…'
    re.compile(rf"{NAME}{NAME_END}\s*[\])]*\s*(?:\|\||\?\?|\bor\b|\?:)\s*{QUOTED}", _F),
    # Shell defaults: ${API_KEY:-…}, ${API_KEY:=…}
    re.compile(rf"\$\{{{NAME}:?[-=](?P<secret>[^}}\s]+)\}}", _F),
    # Name and value on adjacent lines or attributes: a Kubernetes env entry, an ECS/JSON name/value
    # pair, a plist <key>/<string>, .NET <add key= value=>, Android <string name=>, <apiKey>…</apiKey>
    re.compile(rf"name\s*:\s*[\"']?{NAME}[\"']?\s*\r?\n\s*-?\s*value\s*:\s*{VALUE}", _F),
    re.compile(rf"\\?\"name\\?\"\s*:\s*\\?\"{NAME}\\?\"\s*,\s*\\?\"value\\?\"\s*:\s*{QUOTED}", _F),
    re.compile(rf"<key>\s*{NAME}\s*</key>\s*<string>\s*(?P<secret>[^<\s]+)\s*</string>", _F),
    re.compile(rf"key\s*=\s*[\"']{NAME}[\"']\s+value\s*=\s*{QUOTED}", _F),
    re.compile(rf"name\s*=\s*[\"']{NAME}[\"'][^>]*>\s*(?P<secret>[^<\s]+)\s*<", _F),
    re.compile(rf"<{NAME}(?:\s[^>]*)?>\s*(?P<secret>[^<\s]+)\s*</", _F),
    # A key in a URL query string: ?key=…, &key=…, &amp;api_key=…
    re.compile(r"[?&](?:amp;)?(?P<name>key|api[_-]?key)=(?P<secret>[^&\"'<>\s,;)#\\]+)", _F),
)

HARDCODED_API_KEY = Rule(
    id="hardcoded-api-key",
    description="Hardcoded API key literal",
    severity="error",
    remediation=(
        "Remove the literal and read the key from the environment (GEMINI_API_KEY / GOOGLE_API_KEY or the "
        "service's own variable) or a secret manager. Revoke or rotate it with its provider (a Google key: "
        "Google AI Studio or the Cloud console Credentials page): a key that was ever pushed is compromised."
    ),
    keywords=(b"api_key", b"apikey", b"api-key", b"api.key", b"?key=", b"&key=", b"&amp;key="),
    patterns=PATTERNS,
    accept=plausible_literal,
    specific=False,
)
