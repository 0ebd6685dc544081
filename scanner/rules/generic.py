"""hardcoded-api-key: a literal bound to an api-key-like name, in the ways code and config bind them."""
from __future__ import annotations

import re

from scanner import lazyre
from scanner.filters import (
    PROVIDER_PREFIXES,
    bodies_behind_prefixes,
    csv_row_is_code,
    fragment_follows,
    is_csv_row,
    is_not_secret_name,
    plausible_literal,
    query_key_is_api_key,
    short_for_its_prefix,
)
from scanner.rules.base import AI_STUDIO, CREDENTIALS, RESTRICT_KEY, Rule
from scanner.rules.google import in_chat_webhook

# Every quantifier is bounded, so that each match lies within REACH of its api-key anchor and the
# engine can run these patterns only in windows around the anchors (see Rule.anchor).
#
# An api-key-like name that ends the token: `api_key`, `apiKey`, `GEMINI_API_KEY`, `x-goog-api-key`,
# `config.api_key`, `$apiKey`, with one suffix (`API_KEY_PROD`, `apiKey2`, `apikey_myservice`); a
# suffix that names something else (`api_key_hash`, `apiKeyHeader`) is rejected by `reject_name`.
# A pattern opening with NAME starts where the run of NAME_RUN characters around its mention starts.
NAME_RUN = r"[\w$.-]"
NAME = "(?<!" + NAME_RUN + r")(?P<name>[\w$.-]{0,120}?api[_.-]?key(?:[_.-]?[A-Za-z0-9]{1,30})?)(?![\w-])"
# A function binds a key only when it is named for one: `apiKey(…)`, `setApiKey(…)`, `withApiKey(…)`,
# `ApiKeyCredential(…)`. One whose name goes on past the api-key (`readApiKeyLine`, `apiKeyParser`,
# `validateApiKeyFormat`) takes something about a key, not the key.
CALL_NAME = ("(?<!" + NAME_RUN + r")(?P<name>[\w$.-]{0,120}?api[_.-]?key(?:[_.-]?(?:\d{1,3}|credentials?|auth"
             r"|authentication))?)(?![\w-])")
# What may close the name: a TS `?`/`!`, the quote of a dict key or header name (", ', `, an
# escaped \" in JSON-in-JSON or a notebook) and the `]` of a subscript: `os.environ["API_KEY"] =`.
NAME_END = r"(?:[?!]|\\?[\"'`]\]?|\])?"
QUOTED = r"(?P<q>\\?[\"'`])(?P<secret>[^\"'`\\\r\n]{1,300})(?P=q)"
# `&` ends an unquoted value as it ends a query parameter: `?api_key=…&include=…`.
_BARE_CHAR = r"[^\s\"'`,;<>(){}\[\]\\|&]"
# No lookahead after the value: a failing one would make the engine back off 300 times at every
# `api_key=` of a 5 MB run. A longer value is captured whole (up to 1000) and rejected by length.
UNQUOTED = rf"(?P<bare>{_BARE_CHAR}{{1,1000}})"
# A JSX expression container may wrap the literal: apiKey={"…"}.
VALUE = rf"(?:(?:\{{[ \t]{{0,20}})?{QUOTED}|{UNQUOTED})"
# `: str =`, `: string =`, `: &'static str =`, `: Optional[str] =` — a typed declaration; Go puts
# the type after a space: `var apiKey string = "…"`.
TYPED = r":[ \t]{0,20}[A-Za-z_&'][\w.\[\]<>|?&' ]{0,40}?[ \t]{0,20}=(?![=>])|[ \t]{1,20}(?:string|\[\]byte)[ \t]{0,20}=(?!=)"
# The operator never reaches across a line end: `api_key:` opening a YAML mapping binds nothing.
# A comparison with a literal is as good as an assignment: apikey == "…", api_key !== '…'.
ASSIGN = rf"[ \t]{{0,20}}(?:{TYPED}|:=|=>|=(?![=~>])|:(?![:=-])|===?|!==?)[ \t]{{0,20}}"
FALLBACK = r"(?:\|\||\?\?|\bor\b|\?:|\.(?:unwrap_or(?:_else)?|getOrElse|orElse|or)\((?:\|\w{0,20}\|)?)"
# A query parameter's value runs to the next `&`, `#`, blank, quote or bracket. A comma is the
# value's own (RFC 3986 allows it in a query, and keys hold it: a legacy MapQuest key is
# `…|…,…=…`), unless it ends the URL: one followed by a blank, the end or another delimiter is the
# text's (`see ?key=…, then`). `;` and `)` end it as they end a URL in prose: no key holds them.
_QUERY_CHAR = r"[^&\"'`<>\s,;)#\\]"
_QUERY_VALUE = rf"{_QUERY_CHAR}{{1,1000}}(?:,{_QUERY_CHAR}{{1,100}}){{0,8}}"
_SP = r"[ \t]{0,20}"
_WS = r"\s{0,40}"
_TEXT = r"(?P<secret>[^<\s]{1,300})"

_F = re.IGNORECASE

PATTERNS = (
    # A key in a URL query string: ?key=…, &key=…, &amp;api_key=…; first, so that where `?api_key=…`
    # is also read as a bare `api_key=…` (a value cut at `,` or `|`), the query's reading wins.
    lazyre.compile(rf"[?&](?:amp;)?(?P<name>key|api[_-]?key)=(?P<secret>{_QUERY_VALUE})", _F),
    # api_key = "…", apiKey: '…', API_KEY=…, export GEMINI_API_KEY=…, "apiKey": "…", APIKey: "…",
    # api_key: str = "…", private readonly apiKey: string = '…', api_key := "…", 'api_key' => '…'
    lazyre.compile(rf"{NAME}{NAME_END}{ASSIGN}{VALUE}", _F),
    # Builder and setter calls: .apiKey("…"), setApiKey('…'), withApiKey("…"), ApiKey("…"); a comparison
    # apiKey.equals("…")
    lazyre.compile(rf"{CALL_NAME}{_SP}(?:\.equals(?:IgnoreCase)?)?\({_SP}{QUOTED}", _F),
    # A literal next to the name as a call argument or default: os.getenv("API_KEY", "…"),
    # define('API_KEY', '…'), headers.put("x-api-key", "…"), buildConfigField("String", "API_KEY", "\"…\""),
    # Groovy's buildConfigField 'String', 'API_KEY', '"…"'
    lazyre.compile(rf"[\"']{NAME}[\"']{_SP},{_SP}['\"]?{QUOTED}", _F),
    # strcmp(api_key, "…"); the other comparisons are in ASSIGN
    lazyre.compile(rf"\bstr(?:n|case|ncase)?cmp{_SP}\({_SP}{NAME}{_SP},{_SP}{QUOTED}", _F),
    # Fallbacks: process.env.API_KEY || "…", os.environ.get("API_KEY") or "…", ENV["API_KEY"] ?? '…',
    # getenv('API_KEY') ?: '…', env::var("API_KEY").unwrap_or("…")
    lazyre.compile(rf"{NAME}{NAME_END}{_SP}[\])]{{0,3}}{_SP}{FALLBACK}{_SP}{QUOTED}", _F),
    # Shell defaults: ${API_KEY:-…}, ${API_KEY:=…}
    lazyre.compile(rf"\$\{{{NAME}:?[-=](?P<secret>[^}}\s]{{1,300}})\}}", _F),
    # Name and value separated by a space: fish `set -gx`, csh `setenv`, Dockerfile `ENV NAME value`
    lazyre.compile(rf"(?:\bsetenv|\bset[ \t]{{1,20}}-[a-z]{{1,4}}|\bENV)[ \t]{{1,20}}{NAME}[ \t]{{1,20}}{VALUE}", _F),
    # C# auto-property initializer: public string ApiKey { get; set; } = "…";
    lazyre.compile(rf"{NAME}{_SP}\{{[^{{}}\r\n]{{0,60}}\}}{_SP}={_SP}{QUOTED}", _F),
    # Name and value on adjacent lines or attributes: a Kubernetes env entry, an ECS/JSON name/value
    # pair, a plist <key>/<string>, .NET <add key= value=>, an Android <meta-data name= value=>, an HTML
    # form's <input id= (or name=) value=>, Android <string name=>, <apiKey>…</apiKey>
    lazyre.compile(rf"name{_SP}:{_SP}[\"']?{NAME}[\"']?{_SP}\r?\n{_WS}-?{_SP}value{_SP}:{_SP}{VALUE}", _F),
    lazyre.compile(rf"\\?\"name\\?\"{_WS}:{_WS}\\?\"{NAME}\\?\"{_WS},{_WS}\\?\"value\\?\"{_WS}:{_WS}{QUOTED}", _F),
    lazyre.compile(rf"<key>{_WS}{NAME}{_WS}</key>{_WS}<string>{_WS}{_TEXT}{_WS}</string>", _F),
    lazyre.compile(rf"(?:key|name|\bid){_WS}={_WS}[\"']{NAME}[\"']\s{{1,40}}"
               rf"(?:[\w:.-]{{1,60}}{_WS}={_WS}[\"'][^\"'<>]{{0,200}}[\"']\s{{1,40}}){{0,3}}"
               rf"[\w.-]{{0,60}}:?value{_WS}={_WS}{QUOTED}", _F),
    lazyre.compile(rf"name{_WS}={_WS}[\"']{NAME}[\"'][^>]{{0,200}}>{_WS}{_TEXT}{_WS}<", _F),
    lazyre.compile(rf"<{NAME}(?:\s[^>]{{0,200}})?>{_WS}{_TEXT}{_WS}</", _F),
    # JSON inside an HTML attribute: data-config="{&quot;apiKey&quot;:&quot;…&quot;}"
    lazyre.compile(rf"{NAME}&quot;{_SP}:{_SP}&quot;(?P<secret>[^&\"'<>\s]{{1,300}})&quot;", _F),
    # A two-column CSV row: api_key,…
    lazyre.compile(rf"^{_SP}\"?{NAME}\"?{_SP},{_SP}\"?(?P<secret>[^\s,\"]{{1,300}})\"?{_SP}\r?$", _F | re.MULTILINE),
)

_QUERY_NAME = lazyre.compile(r"[?&](?:amp;)?key=$", re.IGNORECASE)
# The name as the first item of a list, set or subscript, not a call's argument: a list of names
# (`Literal["apikey", "oauth2Token"]`, `{"api_key", "token"}`) binds no value to it.
_NAME_IN_A_LIST = lazyre.compile(r"[\[{][ \t]{0,20}[\"'][\w$.-]{0,120}api[_.-]?key[\w.-]{0,30}[\"'][ \t]{0,20},[ \t]{0,20}['\"]?$",
                             re.IGNORECASE)


# Only a body shorter than some provider's minimum can be a short prefixed stand-in written bare.
_LONGEST_MINIMUM = max(p.minimum for p in PROVIDER_PREFIXES)


def in_context(text: str, start: int, end: int) -> bool:
    """What the value alone cannot tell: a fragment cut at `(`, a provider's short stand-in written
    without its prefix too, a `?key=` that keys no API (or is a Chat
    webhook's public key), a list of names,
    a wrapped call read as a two-column CSV row (an unquoted value: a quoted one is a call argument's literal)."""
    if fragment_follows(text, end):
        return False
    if end - start < _LONGEST_MINIMUM:
        # The same body written elsewhere in the text behind a provider's prefix is that key, judged so:
        # `"axwI…"` beside `"sk_live_axwI…"`, a stand-in shorter than the provider's keys, twice.
        prefix = bodies_behind_prefixes(text).get(text[start:end])
        if prefix is not None and short_for_its_prefix(prefix + text[start:end]):
            return False
    if _QUERY_NAME.search(text, max(0, start - 8), start):
        # A Chat webhook's `key` is public, the same in every one (its token is google-chat-webhook's).
        return query_key_is_api_key(text, start, text[start:end]) and not in_chat_webhook(text, start, end)
    if _NAME_IN_A_LIST.search(text, max(0, start - 250), start):
        return False
    if text[start - 1:start] not in ("\"", "'") and is_csv_row(text, start, end):
        return not csv_row_is_code(text, start)
    return True


HARDCODED_API_KEY = Rule(
    id="hardcoded-api-key",
    description="Hardcoded API key literal",
    level="error",
    precision="medium",
    remediation=(
        "Remove the literal and read the key from the environment (GEMINI_API_KEY / GOOGLE_API_KEY or the "
        "service's own variable) or a secret manager. Revoke or rotate it with its provider (a Google key: "
        "Google AI Studio or the Cloud console Credentials page): a key that was ever pushed is compromised."
    ),
    keywords=(b"api_key", b"apikey", b"api-key", b"api.key", b"?key=", b"&key=", b"&amp;key="),
    patterns=PATTERNS,
    accept=plausible_literal,
    # Last: a fixed-format key bound to an api-key name is reported under its own rule.
    priority=20,
    where=(AI_STUDIO, CREDENTIALS),
    restrict=RESTRICT_KEY,
    rotate="rotate it with its provider (a Google key: Google AI Studio or the Cloud console Credentials page)",
    reject_name=is_not_secret_name,
    in_context=in_context,
    anchors=(lazyre.compile(r"api[_.-]?key"), lazyre.compile(r"[?&](?:amp;)?key=")),
    # Before the anchor: a long dotted name and what opens a name/value pair; after it: the
    # operator, up to three XML attributes of 200 characters and a 300-character value.
    reach=(400, 2000),
    name_run=NAME_RUN,
)
