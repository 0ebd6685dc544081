"""Small pure predicates that decide whether a candidate is a real secret.

Each answers one question about a value or a line, so the rules can name the ones they need and
the tests can prove each on its own.
"""
from __future__ import annotations

import math
import re
from collections import Counter

ALLOW_PRAGMAS = ("keysentry:allow", "gitleaks:allow", "pragma: allowlist secret")

# Words that mark a value as something to be filled in, in any case.
_PLACEHOLDER_WORDS = re.compile(
    r"your|xxxx|\*\*\*|changeme|change[_-]me|dummy|example|sample|placeholder|demo[_-]?key"
    r"|insert|replace|redacted|fixme|todo|<[^>]*>|\.\.\.|…|secret[_-]?here|key[_-]?here|_here\b|here$"
    r"|^fake|^none$|^null$|^nil$|^undefined$|^true$|^false$|^not[_-]?set$|^empty$|^api[_-]?key$",
    re.IGNORECASE,
)

# References to something else: shell/CI/templating variables, format strings.
_TEMPLATE = re.compile(
    r"\$\{|\$\(|\{\{|\}\}|%\(|#\{|<%|%>|\{[A-Za-z_][\w.]*\}|^\$[A-Za-z_]|^%[A-Za-z_]+%$|^@[\w.]+@$"
    r"|^%s$|^\{\d*\}$|\$[A-Z_][A-Z0-9_]*$|^ENC\[|^vault:|^!|^arn:aws:secretsmanager|^projects/[^/]+/secrets/"
)

_IDENTIFIER_CHAIN = re.compile(r"^[A-Za-z_$][\w$]*(?:(?:\.|::|->|\?\.)[A-Za-z_$][\w$]*)*(?:\(\)|\[[^\]]*\])?$")
_FILE_LIKE = re.compile(r"\.(?:json|txt|pem|key|env|ya?ml|toml|ini|cfg|conf|properties|p12|crt|xml|py|js)$", re.IGNORECASE)
_REGEX_LIKE = re.compile(r"\\[dwsbDWS]|\[[^\]]*-[^\]]*\]\{?|\{\d+(?:,\d*)?\}|^\^|\(\?[:=!P<]|\.\*|\.\+")
_PATH_OR_URL = re.compile(r"://|^\.{0,2}/|^~/|^[A-Za-z]:\\")


def shannon_entropy(value: str) -> float:
    if not value:
        return 0.0
    counts = Counter(value)
    total = len(value)
    return -sum(n / total * math.log2(n / total) for n in counts.values())


def is_placeholder(value: str) -> bool:
    return bool(_PLACEHOLDER_WORDS.search(value))


def is_template(value: str) -> bool:
    return bool(_TEMPLATE.search(value))


def is_low_entropy(value: str, threshold: float = 3.0) -> bool:
    """Runs like 'aaaaaaaa', '12341234' or 'abcabcabc' carry too little information to be keys."""
    return len(set(value)) < 6 or shannon_entropy(value) < threshold


def is_identifier(value: str) -> bool:
    """A variable, attribute chain or call: `settings.API_KEY`, `config.get_key()`, `KEY_NAME`."""
    if not _IDENTIFIER_CHAIN.match(value):
        return False
    # A mixed-case run with digits (`aB3dE5...`) matches the identifier shape but reads as a key.
    has_digit = any(c.isdigit() for c in value)
    words = re.split(r"[._$:>\-\[\]()]+", value)
    wordy = all(re.fullmatch(r"[A-Z0-9_]*|[a-z0-9_]*|[A-Z]?[a-z]+(?:[A-Z][a-z0-9]*)*", w or "") for w in words)
    return not has_digit or (wordy and ("." in value or "(" in value or "[" in value))


def is_natural_language(value: str) -> bool:
    """Prose in any language: spaces between words, or letters outside ASCII."""
    return bool(re.search(r"\s", value.strip())) or any(ord(c) > 127 for c in value)


def is_path_or_url(value: str) -> bool:
    return bool(_PATH_OR_URL.search(value)) or bool(_FILE_LIKE.search(value))


def is_regex(value: str) -> bool:
    return bool(_REGEX_LIKE.search(value))


def has_allow_pragma(line: str) -> bool:
    return any(pragma in line for pragma in ALLOW_PRAGMAS)


def plausible_literal(value: str, quoted: bool) -> bool:
    """Is a value bound to an api-key-like name a real secret rather than a stand-in?

    Unquoted values (shell, .env, YAML, INI) must look like a token; quoted ones may be shorter.
    """
    value = value.strip()
    if len(value) < (10 if quoted else 12) or len(value) > 300:
        return False
    if is_template(value) or is_placeholder(value) or is_natural_language(value):
        return False
    if is_path_or_url(value) or is_regex(value) or is_identifier(value):
        return False
    if is_low_entropy(value, 2.8 if quoted else 3.0):
        return False
    # A token has at least one digit or mixes cases; words_joined_by_underscores do neither.
    return any(c.isdigit() for c in value) or (value != value.lower() and value != value.upper())


# Narrower than _PLACEHOLDER_WORDS: a random key body must almost never trip it by chance.
_FIXED_PLACEHOLDER = re.compile(r"xxxx|your|example|placeholder|redacted|dummy|\*\*\*|\.\.\.|<|>", re.IGNORECASE)


def plausible_fixed_format(value: str) -> bool:
    """A fixed-format credential (AIza…, GOCSPX-…): rule out documentation stand-ins."""
    body = re.sub(r"^(?:AIza|GOCSPX-|ya29\.|1//0|AQ\.)", "", value)
    return not _FIXED_PLACEHOLDER.search(body) and not is_low_entropy(body, 3.0)
