"""What a rule is: plain data the engine interprets."""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from scanner.domain import Severity

KEY_CHARS = "0-9A-Za-z_-"
# A fixed-format key starts a token: not preceded by a key character, unless that character ends
# an escape (`\n`, `\"`, `\u003d`, `\x00`), a percent-encoded byte (`key%3DAIza…`) or a shell
# default (`${GOOGLE_API_KEY:-AIza…}`).
_TOKEN_STARTS = (r"\\[nrt]", r"%[0-9A-Fa-f]{2}", r"\\u00[0-9A-Fa-f]{2}", r"\\x[0-9A-Fa-f]{2}", r":-")
TOKEN_END = rf"(?![{KEY_CHARS}])"


def fixed_token(prefix: str, body: str, edge: str = "") -> str:
    """A regex for `prefix` + `body` as a whole token, its text in group `secret`.

    The literal prefix comes first and the start-of-token test looks back from its end: a regex
    that opens with a lookbehind is tried at every position, one that opens with a literal lets
    the engine skip straight to it (25x faster on a 5 MB bundle). `prefix` must have a fixed width.
    EDGE: more characters that may not touch the token on either side (`+/` for a format that a
    base64 run holds by chance: `1//0` inside a `data:audio/x-wav;base64,…` payload).
    """
    starts = "|".join(f"(?<={before}{prefix})" for before in _TOKEN_STARTS)
    end = TOKEN_END if not edge else rf"(?![{edge}{KEY_CHARS}])"
    return rf"(?P<secret>{prefix}(?:(?<![{edge}{KEY_CHARS}]{prefix})|{starts}){body}){end}"


def binary_token(prefix: str, body: str, edge: str = "") -> str:
    """fixed_token for bytes of a compiled file. A body of fixed length ends there: in a `.pyc` the
    next marshal type byte is a letter (`N` for None), in an SQLite row the next column's text
    follows at once, so "no key character after it" would lose the key. To make up for the end
    it no longer checks, such a token must not open inside a base64 run either (a run of random
    bytes' base64 holds `AIza` and 35 more key characters once in some 17 million positions)."""
    import re._parser as parser  # type: ignore[import-not-found]

    low, high = parser.parse(body).getwidth()
    if low != high:
        return fixed_token(prefix, body, edge)
    edge = "".join(dict.fromkeys(edge + "+/"))
    starts = "|".join(f"(?<={before}{prefix})" for before in _TOKEN_STARTS)
    return rf"(?P<secret>{prefix}(?:(?<![{edge}{KEY_CHARS}]{prefix})|{starts}){body})"


# The consoles where Google keys are rotated (Rule.where).
AI_STUDIO = ("Google AI Studio: API keys", "https://aistudio.google.com/app/apikey")
CREDENTIALS = ("Cloud console: APIs & Services > Credentials", "https://console.cloud.google.com/apis/credentials")
RESTRICT_KEY = ("Restrict the new key in the Cloud console: API restrictions (only the APIs it calls, e.g. the "
                "Generative Language API) and an application restriction (HTTP referrers, IP addresses, or "
                "Android/iOS apps).")


@dataclass(frozen=True)
class Companion:
    """The public half that sits next to a secret: an OAuth client id beside its client secret, an
    HMAC access id beside its secret, a Maps client id beside its signing secret.

    It travels with the finding (reports show it; verification needs it) and never changes a
    fingerprint. For some secrets it is what makes them one: a 40-character base64 run is an HMAC
    secret only beside an access id (`required`).
    """

    pattern: re.Pattern[str]
    # A literal every match of `pattern` holds: a text without it holds none (no regex pass).
    marker: str
    # How far from the secret it is looked for: a key file or a .env keeps the two a line or a few
    # keys apart; much farther, it is more likely some other credential's.
    window: int = 2000
    # Must a candidate have one within `window` to be reported? Called with the text and the
    # candidate's span; None: never required.
    required: Callable[[str, int, int], bool] | None = None


@dataclass(frozen=True)
class Rule:
    id: str
    description: str
    level: str  # SARIF level "error" or "warning"
    remediation: str
    # Lower-case byte strings; the rule's regexes run only on content containing one of them.
    keywords: tuple[bytes, ...]
    # Each pattern names the value `secret` when quoted (the quote in group `q`) or `bare` when not.
    patterns: tuple[re.Pattern[str], ...]
    # Is a captured value a real secret? Called with (value, quoted).
    accept: Callable[[str, bool], bool]
    # Where two rules match overlapping text, the lower priority wins and the other is dropped
    # (contract: a secret is reported once, under its most specific rule). Unique per rule.
    priority: int
    # The contract's `severity` of a finding, unless the context it is found in says otherwise:
    # "critical", "high", "medium" or "low".
    severity: Severity = "high"
    # SARIF's `precision`: how often a finding is a real secret. A fixed format is "very-high"; a
    # value judged by its name and shape is less sure.
    precision: str = "very-high"
    # What to rotate and where, as the blocked-commit message says it after "it is leaked: ";
    # empty: the remediation is quoted instead.
    rotate: str = ""
    # Where the secret is rotated, as (label, address) links for reports (never fetched), and how
    # the new one is narrowed down; empty: the report says only `rotate`.
    where: tuple[tuple[str, str], ...] = ()
    restrict: str = ""
    # The environment variables to read the secret from instead (the first in code, the others
    # named as alternatives), when the fix is to move a literal out of the code.
    env_vars: tuple[str, ...] = ("GEMINI_API_KEY", "GOOGLE_API_KEY")
    # When moving the literal to a variable is not the fix (a key file, a token): what is.
    fix: str = ""
    # Fixed formats are also looked for in binary files (compiled libraries, APK assets).
    binary_patterns: tuple[re.Pattern[bytes], ...] = ()
    # The whole content must also match this for any pattern to count (e.g. a service-account JSON).
    requires: re.Pattern[str] | None = None
    # Is the captured name (group `name`) one that stores something other than a secret?
    reject_name: Callable[[str], bool] | None = None
    # Is a kept candidate a secret, judged from the text around it (the text, its start and end)?
    # For what the value alone cannot say: a `?key=` of a spreadsheet link, a call read as a CSV row.
    in_context: Callable[[str, int, int], bool] | None = None
    # Where to look: when set, every match contains a hit of one of the `anchors` (searched in the
    # lower-cased text; each opening with a literal, which the regex engine finds fast) and lies
    # within `reach` = (characters before, characters after) of it, so patterns run only in those
    # windows instead of over a whole minified bundle.
    anchors: tuple[re.Pattern[str], ...] = ()
    reach: tuple[int, int] = (0, 0)
    # With `anchors`: the characters of a name (a character class, `[\w$.-]`). A pattern that opens
    # with `(?<!NAME_RUN)` promises that its match starts where a run of them holding an anchor hit
    # starts (the name around the mention), so the engine tries it only there, once per mention,
    # instead of at every position of the windows (issue 20: the cost grows with the mentions).
    name_run: str = ""
    # Every match of every pattern opens with one of the `keywords` (in any case, as the prefilter
    # finds them): the engine then tries the patterns only where a keyword starts, not over the
    # whole text. Only for rules without `anchors`.
    opens_with_keyword: bool = False
    # The public half looked for next to each secret (see Companion).
    companion: Companion | None = None
    # A finding of this rule is a secret at a line, not a whole file (see FileRule).
    whole_file: ClassVar[bool] = False
