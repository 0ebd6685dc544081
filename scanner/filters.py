"""Small pure predicates that decide whether a candidate is a real secret.

Each answers one question about a value or a line, so the rules can name the ones they need and
the tests can prove each on its own.
"""
from __future__ import annotations

import functools
import itertools
import json
import math
import re
from collections import Counter
from dataclasses import dataclass
from importlib import resources

from scanner import lazyre

ALLOW_PRAGMAS = ("keysentry:allow", "gitleaks:allow", "pragma: allowlist secret")

def _one_case(*words: str) -> str:
    """WORDS as `dummy`, `DUMMY` or `Dummy`, never `dUmMy`: random mixed case spells every short
    word now and then, while a stand-in is written in one case."""
    return "(?-i:" + "|".join(v for w in words for v in (w, w.upper(), w.capitalize())) + ")"


# Words that mark a value as something to be filled in, or as a test or documentation value. Short
# words must stand apart from the rest of the value, between separators (or a closing number:
# `sk-test123`) and in one case: inside a random token they occur by chance (about one 32-character
# key in 30,000 contains "your" in some case; one in 200,000 holds `-Todo5`), and a real key must
# not be dropped for it. Longer words are rare enough by chance in one case anywhere.
_SEP = r"[-_./:\s]"
_PLACEHOLDER_WORDS = lazyre.compile(
    rf"(?:^|{_SEP})" + _one_case("your", "todo", "fake", "enter", "test", "tests", "testing", "mock", "mocked",
                                  "stub", "bogus", "invalid", "sample", "fixture", "dummy", "fixme", "insert")
    + rf"(?:{_SEP}|\d{{1,8}}$|$)"
    + r"|^(?-i:YOUR|[Yy]our)(?=(?-i:[-_. A-Z])|$)|your[_\- ]?(?:own|api|key|secret|token|goog|gemini|project|app)"
    r"|^my[-_](?:api|key|secret|token|app|project|service|own)"
    r"|xxxxxx|\*\*\*|changeme|change[_-]me|api[_-]?key|" + _one_case("random")
    + r"|example|sample|placeholder|demo[_-]?key|replace|redacted|<[^<>]{0,300}>|\.\.\.|…"
    r"|secret[_-]?here|key[_-]?here|token[_-]?here|[_-]here$"
    r"|^none$|^null$|^nil$|^undefined$|^true$|^false$|^not[_-]?set$|^empty$",
    re.IGNORECASE,
)

# References to something else: shell/CI/templating variables, format strings.
_TEMPLATE = lazyre.compile(
    r"\$\{|\$\(|\{\{|\}\}|%\(|#\{|<%|%>|\{[A-Za-z_][^{}]*\}|^\$[A-Za-z_]|^%[A-Za-z_]+%$|^@[\w.]+@$"
    r"|^%s$|^\{\d*\}$|\$[A-Z_][A-Z0-9_]*$|^ENC\[|^vault:|^!|^arn:aws:secretsmanager|^projects/[^/]+/secrets/"
    # A secret backend's reference, NAME[where]: Vector's `SECRET[backend.name]`, the Datadog Agent's and sops'
    # `ENC[…]`. A key holds no brackets.
    r"|^[A-Z][A-Z0-9_]{1,30}\[[^\[\]\s]{1,200}\]$"
    # An f-string field calling something with a quoted argument, cut at that argument's quote:
    # f'api_key = "{make_key(32, "abc")}"' captures `{make_key(32, `.
    r"|^\{[A-Za-z_][\w.]*\("
)

_IDENTIFIER_CHAIN = lazyre.compile(r"^[A-Za-z_$][\w$]*(?:(?:\.|::|->|\?\.)[A-Za-z_$][\w$]*)*(?:\(\)|\[[^\]]*\])?[!?]?$")
_FILE_LIKE = lazyre.compile(r"\.(?:json|txt|pem|key|env|ya?ml|toml|ini|cfg|conf|properties|p12|crt|xml|py|js)$", re.IGNORECASE)
_REGEX_LIKE = lazyre.compile(r"\\[dwsbDWS]|\[[^\]]*-[^\]]*\]\{?|\{\d+(?:,\d*)?\}|^\^|\(\?[:=!P<]|\.\*|\.\+")
_PATH_OR_URL = lazyre.compile(r"://|^\.{0,2}/|^~/|^[A-Za-z]:\\")
# `uploads/2024/photo1.png`: a slash-separated name ending in a file extension. Keys in base64 may
# hold slashes but never a dot.
_RELATIVE_FILE = lazyre.compile(r"^[\w.@-]+(?:/[\w.@-]+)+\.[A-Za-z][A-Za-z0-9]{0,5}$")
# A label or header name: words joined by separators, no digits (`X-Goog-Api-Key`, `Api-Key-Label`).
_WORD_LIST = lazyre.compile(r"^(?:[A-Z]?[a-z]+|[A-Z]+)(?:[-_. ](?:[A-Z]?[a-z]+|[A-Z]+))+$")
_WORDS = lazyre.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+")
_VOWEL = lazyre.compile(r"[aeiouy]", re.IGNORECASE)
_CONSONANTS = lazyre.compile(r"[b-df-hj-np-tv-z]{5}", re.IGNORECASE)
_FOUR_CONSONANTS = lazyre.compile(r"[b-df-hj-np-tv-xz]{4,}")
_USUAL_CLUSTER = lazyre.compile(r"ngth|tch|sch|ght|str|scr|spr|spl|thr|chr|nst|rst|nds|nts|rts|cts|pts|rks|lls|mpl|ntr|ndl")
_THREE_VOWELS = lazyre.compile(r"[aeiou]{3,}")
_USUAL_VOWELS = frozenset({"iou", "eau", "ueue", "uee", "oei", "aie", "uou", "eou", "iea", "oau"})
_Q_WITHOUT_U = lazyre.compile(r"q(?!u)|j(?![aeiouy])")
_DIGEST_NAME = lazyre.compile(r"hash|digest|sha\d*|md5|fingerprint|checksum|salt|prefix|suffix|last4|hint|masked", re.IGNORECASE)


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


@functools.cache
def _name_pairs() -> frozenset[str]:
    text = resources.files("scanner").joinpath("data/name_bigrams.txt").read_text(encoding="utf-8")
    return frozenset(pair for line in text.splitlines() if not line.startswith("#") for pair in line.split())


def _rare_pairs(words: list[str]) -> int:
    """How many letter pairs inside WORDS (of three letters or more) names seldom hold
    (scanner/data/name_bigrams.txt): random letters hold many, a name at most one (`jpeg`)."""
    common = _name_pairs()
    return sum(w[i:i + 2] not in common for w in (w.lower() for w in words if len(w) >= 3) for i in range(len(w) - 1))


def _pronounceable(word: str) -> bool:
    """Could WORD be an English-like word of a name? Random letters soon break one of these: a
    five-consonant run, `q` without `u`, four consonants or three vowels in a row outside the
    clusters real words have (`length`, `queue`, `previous`)."""
    lower = word.lower()
    if _CONSONANTS.search(lower) or not _VOWEL.search(lower) or _Q_WITHOUT_U.search(lower):
        return False
    for run in _FOUR_CONSONANTS.findall(lower):
        if not _USUAL_CLUSTER.search(run):
            return False
    return all(run in _USUAL_VOWELS for run in _THREE_VOWELS.findall(lower))


def _reads_as_words(value: str) -> bool:
    """`apiKeyFromSettings`, `GEMINI_API_KEY`, `myHTTPClient` read as words; `IcTySNHqVWWytzOA` does not.

    Random mixed case splits into many one- and two-letter "words" and consonant runs; names do not.
    """
    if sum(c.isdigit() for c in value) > 2:
        return False
    letters = [c for c in value if c.isalpha()]
    if all(c.isupper() for c in letters) or all(c.islower() for c in letters):
        # snake_case or SCREAMING_CASE, a version number only at the end
        return bool(re.fullmatch(r"[_$]?[A-Za-z]+(?:[_-][A-Za-z]+)*(?:[_-]?[vV]?\d{1,2})?", value)) \
            and _rare_pairs(re.split(r"[_$-]", value)) <= 1
    # camelCase: one run of letters, optionally a leading _/$, one digit between words (`oauth2Token`)
    # and a version number at the end.
    body = re.fullmatch(r"[_$]?([A-Za-z]+(?:\d[A-Za-z]+)?)\d{0,2}", value)
    if body is None:
        return False
    words = _WORDS.findall(re.sub(r"\d", "", body[1]))
    if _rare_pairs(words) > 1:
        return False
    acronyms = [w for w in words if w.isupper() and len(w) > 1]
    plain = [w for w in words if not w.isupper()]
    short = [w for w in words if len(w) <= 2 and w not in acronyms]
    if len(acronyms) > 1 or any(len(w) > 5 for w in acronyms) or len(short) > 1:
        return False
    if any(not _pronounceable(w) for w in plain if len(w) >= 3):
        return False
    lower = "".join(plain).lower()
    return not lower or sum(c in "aeiou" for c in lower) / len(lower) >= 0.25


def is_repetitive(value: str) -> bool:
    """'0123456789012…', 'a1a1a1…': few distinct three-character windows, unlike a random key."""
    windows = len(value) - 2
    return windows >= 8 and len({value[i:i + 3] for i in range(windows)}) < windows * 0.6


def is_identifier(value: str) -> bool:
    """A variable, attribute chain or call: `settings.API_KEY`, `config.get_key()`, `env.KEY!`."""
    if not _IDENTIFIER_CHAIN.match(value):
        return False
    parts = [p for p in re.split(r"\.|::|->|\?\.|[()\[\]!?]", value) if p]
    if len(parts) > 1:
        # A chain: random keys hold no dots, so plain or wordy segments are enough.
        return all(re.fullmatch(r"[A-Za-z_$]+\d{0,2}", p) or _reads_as_words(p) for p in parts)
    # One token: a key is random; a name reads as words (snake_case, camelCase, SCREAMING_CASE).
    return bool(parts) and _reads_as_words(parts[0])


def is_natural_language(value: str) -> bool:
    """Prose in any language: spaces between words, or letters outside ASCII."""
    return bool(re.search(r"\s", value.strip())) or any(ord(c) > 127 for c in value)


def is_word_list(value: str) -> bool:
    """Words joined by separators, without digits: a header name or a label, not a key."""
    return bool(_WORD_LIST.match(value))


def is_path_or_url(value: str) -> bool:
    return bool(_PATH_OR_URL.search(value) or _FILE_LIKE.search(value) or _RELATIVE_FILE.match(value)) \
        or is_name_path(value)


_NAME_SEGMENT = lazyre.compile(r"[A-Za-z_$][\w$.-]{0,80}")


def is_name_path(value: str) -> bool:
    """`com/google/ai/client/InvalidApiKeyException`, `io.modelcontextprotocol/clientInfo`: names joined
    by slashes (a JVM type, a module path, a resource name); a key holding slashes (base64) has random
    segments."""
    segments = value.split("/")
    return len(segments) > 1 and all(
        _NAME_SEGMENT.fullmatch(seg) and (is_identifier(seg) or (seg.isalpha() and seg.islower() and len(seg) <= 16))
        for seg in segments)


def is_regex(value: str) -> bool:
    return bool(_REGEX_LIKE.search(value))


def is_digest_name(name: str) -> bool:
    """`api_key_hash`, `hashed_api_key`: the name stores something derived from a key, not the key."""
    return bool(_DIGEST_NAME.search(name))


def has_allow_pragma(line: str) -> bool:
    """Does LINE name an allow marker anywhere? Only a quick first look: whether a marker counts
    for a secret is `marker_allows`'s question."""
    lowered = line.lower()
    return any(pragma in lowered for pragma in ALLOW_PRAGMAS)


# How far from the secret a marker may sit: the end of an ordinary line, not the far end of a
# minified one, where `/*gitleaks:allow*/` 160 KB away would otherwise silence every key before it.
MARKER_REACH = 200
# How many times an unclosed quote (an apostrophe in prose) is set aside and the line read again.
_QUOTE_RETRIES = 8


def marker_spans(line: str) -> list[tuple[int, int]]:
    """Where LINE names an allow marker (any case): (start, end) of each."""
    lowered = line.lower()
    spans = []
    for pragma in ALLOW_PRAGMAS:
        at = lowered.find(pragma)
        while at >= 0:
            spans.append((at, at + len(pragma)))
            at = lowered.find(pragma, at + 1)
    return sorted(spans)


def comment_spans(line: str) -> list[tuple[int, int]]:
    """The parts of LINE that are comments in a common syntax (`#`, `//`, `/* */`, `<!-- -->`,
    `--`, `;`, `%`, `REM`), read outside string literals ('…', "…", `…`, with backslash escapes).
    `--`, `;` and `%` open a comment only at the line's start or after a blank (else they are
    operators and separators); `//` not after `:` (a URL's `https://`). A quote that is never
    closed (an apostrophe in prose) is taken as a plain character and the line read again."""
    stripped = line.lstrip()
    if stripped[:3].lower() == "rem" and stripped[3:4] in ("", " ", "\t"):
        return [(len(line) - len(stripped), len(line))]
    plain: set[int] = set()
    for _ in range(_QUOTE_RETRIES):
        spans, unclosed = _comments(line, plain)
        if unclosed is None:
            return spans
        plain.add(unclosed)
    return []


def _comments(line: str, plain: set[int]) -> tuple[list[tuple[int, int]], int | None]:
    spans: list[tuple[int, int]] = []
    n = len(line)
    i = 0
    quote = ""
    opened = 0
    while i < n:
        c = line[i]
        if quote:
            if c == "\\":
                i += 2
                continue
            if c == quote:
                quote = ""
            i += 1
            continue
        if c in "\"'`" and i not in plain:
            quote, opened = c, i
            i += 1
            continue
        for opener, closer in (("/*", "*/"), ("<!--", "-->")):
            if line.startswith(opener, i):
                end = line.find(closer, i + len(opener))
                end = n if end < 0 else end + len(closer)
                spans.append((i, end))
                i = end
                break
        else:
            after_blank = i == 0 or line[i - 1] in " \t"
            if c == "#" or (line.startswith("//", i) and (i == 0 or line[i - 1] != ":")) \
                    or (after_blank and (c in ";%" or line.startswith("--", i))):
                spans.append((i, n))
                return spans, None
            i += 1
    return spans, (opened if quote else None)


def marker_allows(line: str, start: int, end: int, markers: list[tuple[int, int]],
                  comments: list[tuple[int, int]]) -> bool:
    """Does a marker of MARKERS (spans in LINE) silence the secret at LINE[START:END]: one inside a
    comment of COMMENTS, within MARKER_REACH characters of the secret?"""
    for m_start, m_end in markers:
        gap = m_start - end if m_start >= end else start - m_end
        if gap > MARKER_REACH:
            continue
        if any(c_start <= m_start and m_end <= c_end for c_start, c_end in comments):
            return True
    return False


# Runs a person types for a stand-in: the alphabet, digits, keyboard rows (either way). Eight in a
# row happen by chance in about one random 64-character key in 10^10.
_RUNS = ("abcdefghijklmnopqrstuvwxyz", "0123456789", "qwertyuiop", "asdfghjkl", "zxcvbnm")
_SEQUENCE_LENGTH = 8


def is_sequential(value: str) -> bool:
    """`abcdefghijklmnopqrstuvwxyz1234567`, `AbCdEfGhIj`, `0123456789`, `qwertyuiop`: a typed run."""
    lower = value.lower()
    for run in _RUNS:
        for seq in (run, run[::-1]):
            for i in range(len(seq) - _SEQUENCE_LENGTH + 1):
                if seq[i:i + _SEQUENCE_LENGTH] in lower:
                    return True
    return False


# Runs a person types, interleaved: `a1b2c3d4e5f6`, `A1b2C3d4E5f6`, `appl_1a2b3c4d5e6f7h`: the characters
# at every place (or every second place) count up or down by one, letters and digits each, but for one
# slip. A random key's next character is one up or down about once in 18 (base36) or 8 (hex): a part of
# 12 characters with all steps but one such, about once in 10^7 hex parts, far rarer for longer ones.
_INTERLEAVED_LENGTH = 12


def is_interleaved_run(value: str) -> bool:
    """`a1b2c3d4e5f6`, `1a2b3c4d5e6f7h`: a part of letters and digits (12 characters or more) in which
    each character is one up or down from the one one or two places before it (digits as the keyboard's
    row goes on: `…8, 9, 0, 1…`), but for one slip: a character off the run (`…f7h`, `…c4x5e…`)."""
    for part in _PARTS.findall(value):
        if len(part) < _INTERLEAVED_LENGTH or part.isdigit() or part.isalpha():
            continue
        lower = part.lower()
        for stride in (1, 2):
            broken = [i for i in range(stride, len(lower)) if not _next_in_run(lower[i - stride], lower[i], 1)]
            if len(broken) <= 1:
                return True
            # One character off the run breaks the steps into it and out of it; around it the run goes on.
            if len(broken) == 2 and broken[1] - broken[0] == stride \
                    and _next_in_run(lower[broken[0] - stride], lower[broken[1]], 2):
                return True
    return False


# Runs a person types, stepped: `AAbbCCdd12345`, `abcxyz321`: every character of a part is in a run of three
# or more whose characters stay or go one up (or stay or go one down), letters and digits each, case aside.
# A random key's next character stays or steps one way about once in 8 (hex) or 18 (base36): a 9-character
# part all in runs about once in 10^5 hex parts, a 13-character one once in 10^7, so only parts of NINE or
# more (the whole value past a vendor's short mark: `da2-`) count.
_STEPPED_RUN = 3
_STEPPED_PART = 9


def is_stepped_runs(value: str) -> bool:
    """`AAbbCCdd12345`, `da2-abcxyz321`: the value's parts, but for a short first one (a vendor's mark), are
    runs a person types: each character the same as the one before or one up (or the same or one down),
    case aside, in runs of three or more, nine characters or more in all."""
    parts = _ALNUM_PARTS.findall(value)
    if len(parts) > 1 and len(parts[0]) <= 4:
        parts = parts[1:]
    return sum(map(len, parts)) >= _STEPPED_PART and all(_all_in_runs(part.lower()) for part in parts)


def _all_in_runs(part: str) -> bool:
    start = 0
    while start < len(part):
        end, direction = start + 1, 0
        while end < len(part) and part[end].isdigit() == part[start].isdigit():
            step = ord(part[end]) - ord(part[end - 1])
            if step not in (0, 1, -1) or (step and direction and step != direction):
                break
            direction = direction or step
            end += 1
        if end - start < _STEPPED_RUN:
            return False
        start = end
    return True


# A block repeated (`1A1A1A1A1A1A`, `abcabcabcab`, a docs key with its first eight characters typed twice:
# `d0552b41d0552b41…`): eight characters in a row or more that each equal the one 1 to 16 places before.
# In a random key a character equals a given earlier one once in 16 (hex) or more: eight in a row once in
# 4*10^9 per place and period, about once in 4*10^6 64-character hex keys over the 16 periods.
_PERIOD = 16
_PERIODIC_REPEATS = 8


def is_periodic(value: str) -> bool:
    """`48E9…-1A1A1A1A1A1A`, `d0552b41d0552b41…`: a block of 1 to 16 characters repeated over eight more."""
    for period in range(1, _PERIOD + 1):
        same = 0
        for i in range(period, len(value)):
            same = same + 1 if value[i] == value[i - period] else 0
            if same >= _PERIODIC_REPEATS:
                return True
    return False


# `0xDECAFBAD`, `0x1F2E3D4C`: a number in C's hex notation of at most 64 bits: a constant or a magic word (hexspeak).
# No key the rule looks for is as short as 64 bits; a key written `0x…` (a 256-bit private key) is longer.
_HEX_NUMBER = lazyre.compile(r"0[xX][0-9A-Fa-f]{1,16}")


def is_hex_number(value: str) -> bool:
    """`0xDECAFBAD`: a hex number of at most 16 digits, not a key."""
    return _HEX_NUMBER.fullmatch(value) is not None


def _next_in_run(a: str, b: str, steps: int) -> bool:
    """Is B STEPS places up or down from A in a run people type: the alphabet, or the digits going round
    (`0123…`, and the keyboard's row `…789012…`)?"""
    if a.isdigit() != b.isdigit():
        return False
    if a.isdigit():
        return (ord(b) - ord(a)) % 10 in (steps, 10 - steps)
    return abs(ord(b) - ord(a)) == steps


_SEGMENT = lazyre.compile(r"([A-Za-z]*)(\d{0,8})")
# An ordinal as people write it: digits, then the suffix English gives that number (`1st`, `2nd`, `3rd`,
# `11th`, `22nd`), in one case.
_ORDINAL = lazyre.compile(r"(\d{1,8})((?-i:st|nd|rd|th|ST|ND|RD|TH))")


def ordinal_suffix(number: str) -> str:
    """The suffix English writes after NUMBER (`1` -> `st`, `12` -> `th`, `23` -> `rd`)."""
    n = int(number)
    if n % 100 in (11, 12, 13):
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


def is_ordinal(part: str) -> bool:
    """`1st`, `2ND`, `3rd`, `11th`: a number with its own ordinal suffix, as typed (`1nd` is none)."""
    m = _ORDINAL.fullmatch(part)
    return m is not None and m[2].lower() == ordinal_suffix(m[1])


def is_phrase(value: str) -> bool:
    """`custom-key-123`, `auth-token-TEST`, `sk-test123`: words and short numbers joined by separators,
    which a person wrote; a random key's segments do not read as words."""
    parts = [p for p in re.split(r"[-_./:]+", value) if p]
    if len(parts) < 2:
        return False
    for part in parts:
        if is_ordinal(part):  # `sk-my-openai-1st-key`: an ordinal between words is a word
            continue
        m = _SEGMENT.fullmatch(part)
        if m is None:
            return False
        letters = m[1]
        # A short word is typed in one case or capitalized (`sk`, `API`, `Key`), never `wGi` or `INy`.
        if len(letters) <= 3 and not (letters.islower() or letters.isupper() or letters.istitle() or not letters):
            return False
        if len(letters) > 3 and not _in_vocabulary(letters) \
                and not (_reads_as_words(letters) and all(_pronounceable(w) for w in _WORDS.findall(letters) if len(w) >= 3)):
            return False
    return True


def _in_vocabulary(letters: str) -> bool:
    """Is each word of LETTERS (camelCase split) a word of the typed model's vocabulary, of code and prose
    alike (`bashrc`, `oauth`, `json`): what the pronounceable test calls no word, a person still types."""
    vocabulary = _typed_model().words
    words = _WORDS.findall(letters)
    # Words of three letters or more: a random key's mixed case splits into two-letter pieces
    # (`gbLrNfc`: gb, lr, nfc), and a vocabulary of code holds most of those.
    return all(len(w) >= 3 and w.lower() in vocabulary for w in words)


# Fixed formats a specific rule judges: a value opening like one but failing it (`AIzA…`, too short
# or too long) is a broken or made-up key, not a generic one. `AIza` in the cases people type it:
# a random token opens with `aIZa` now and then.
_FIXED_LOOKALIKE = lazyre.compile(r"^(?:(?-i:AI[zZ][aA]|aiza)|aq\.ab|gocspx-|ya29\.|1//0)", re.IGNORECASE)


@dataclass(frozen=True)
class _TypedModel:
    """What people type (scanner/data/typed_text.json, made by benchmarks/typed_model.py): log P(letter |
    the letter before, or `^` at a word's start), the log-frequencies of the words of names and prose,
    and the threshold calibrated on the peers' real key fixtures."""

    pairs: dict[str, float]
    words: dict[str, float]
    threshold: float


@functools.cache
def _typed_model() -> _TypedModel:
    data = json.loads(resources.files("scanner").joinpath("data/typed_text.json").read_text(encoding="utf-8"))
    counts: dict[str, int] = data["pairs"]
    letters = "abcdefghijklmnopqrstuvwxyz"
    totals: Counter[str] = Counter()
    for pair, n in counts.items():
        totals[pair[0]] += n

    def p(a: str, b: str) -> float:  # add-one smoothed
        return (counts.get(a + b, 0) + 1) / (totals[a] + 26)

    # Inside a word, a new word may start unmarked (`mysecretkey`): a tenth of the time.
    pairs = {a + b: math.log(0.9 * p(a, b) + 0.1 * p("^", b)) for a in letters for b in letters}
    pairs.update({"^" + b: math.log(p("^", b)) for b in letters})
    words: dict[str, int] = data["words"]
    total = sum(words.values())
    return _TypedModel(pairs, {w: math.log(n / total) for w, n in words.items()}, float(data["threshold"]))


# A value's pieces: a word (camelCase, snake_case, UPPER split), a run of digits, a run of anything else.
# An ordinal (`1st`, `2nd`) is one piece: a number and the suffix it takes, when no letters of its case go on.
_PIECES = lazyre.compile(r"[0-9]{1,8}(?:st|nd|rd|th)(?![a-z])|[0-9]{1,8}(?:ST|ND|RD|TH)(?![A-Za-z])"
                         r"|[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+|[^A-Za-z0-9]+")
# The smallest alphabet a random key of these characters is drawn from, and its size.
_ALPHABETS = tuple((lazyre.compile(p), n) for p, n in (
    (r"[0-9a-f]+", 16), (r"[0-9A-F]+", 16), (r"[0-9a-z]+", 36), (r"[0-9A-Z]+", 36), (r"[0-9A-Za-z]+", 62),
    (r"[^A-Za-z0-9]", 8)))
# The parts of a value between separators, and the separators (one character each, of 8 usual ones).
_PARTS = lazyre.compile(r"[A-Za-z0-9]+|[^A-Za-z0-9]")
_ALNUM_PARTS = lazyre.compile(r"[A-Za-z0-9]+")
_LONGEST_WORD = 20
_LOG = {name: math.log(p) for name, p in (
    ("piece", 1 / 4),  # a new piece
    ("case", 1 / 3),  # a word's case: lower, Capitalized or UPPER
    ("vocabulary", 1 / 2),  # a word of the vocabulary, or letters after letters
    ("end", 1 / 4),  # letters end here
    ("boundary", 0.3),  # one more word in a run of letters
    ("digit", 1 / 10),
    ("long digits", 1 / 10),  # each digit of a run past four: people type 7, 42, 2024, not 20361230
    ("separator", 1 / 4),
    ("ordinal", 1 / 4),  # a number written as an ordinal (`1st`), its suffix the one English gives it
)}


@functools.lru_cache(maxsize=1 << 16)
def _letters_cost(word: str) -> float:
    """log P(WORD) as one or more words run together (`notarealkey`): the best split into words of
    the vocabulary or runs of letters, by dynamic programming over where each ends. (Cached: the
    short pieces random keys split into come back again and again.)

    A run of letters from j to i costs its opening at j plus its letter pairs, a difference of
    prefix sums: so the best run ending at i is the best opening among the last _LONGEST_WORD
    places (one `max` over a slice) plus the pairs up to i. A word of the vocabulary opening at j
    is pushed forward to where it ends once the best up to j is known. (Every split is weighed as
    before, a fifth of the time: this runs for each candidate of the api-key rule.)"""
    n = len(word)
    if not n:
        return 0.0
    model = _typed_model()
    pairs, vocabulary = model.pairs, model.words
    opening, end, boundary = _LOG["vocabulary"], _LOG["end"], _LOG["boundary"]
    # inner[k]: log P of the letter pairs word[0..k] inside one run (a prefix sum over pairs).
    inner = [0.0] * n
    for k in range(1, n):
        inner[k] = inner[k - 1] + pairs[word[k - 1:k + 1]]
    # opened[j]: the best split up to j, a run of letters opening at j, less the pairs before j.
    opened = [0.0] * n
    # known[i]: the best split ending at i with a word of the vocabulary.
    known = [-math.inf] * (n + 1)
    best = 0.0
    for i in range(n + 1):
        if i:
            run = max(opened[max(0, i - _LONGEST_WORD):i]) + inner[i - 1] + end
            best = run if run > known[i] else known[i]
            if i == n:
                break
        before = best + (boundary if i else 0.0) + opening
        opened[i] = before + pairs["^" + word[i]] - inner[i]
        for k in range(i + 1, min(n, i + _LONGEST_WORD) + 1):
            got = vocabulary.get(word[i:k])
            if got is not None and before + got > known[k]:
                known[k] = before + got
    return best


def _digits_cost(run: str) -> float:
    """log P(RUN of digits) as typed: any digits (past four, seldom), or half the time a run people
    type: counting up or down (`123`, `9876`), one digit over (`0000`), a year (`2024`)."""
    n = len(run)
    uniform = n * _LOG["digit"] + max(0, n - 4) * _LOG["long digits"]
    if n == 4 and run[:2] in ("19", "20"):  # a year
        return math.log(0.5 * math.exp(uniform) + 0.5 / 200)
    if n < 2 or n > 10:
        return uniform
    steps = {int(b) - int(a) for a, b in itertools.pairwise(run)}
    if len(steps) != 1 or steps.pop() not in (-1, 0, 1):
        return math.log(0.5) + uniform
    patterned = 2 * (10 - n + 1) + 10  # up, down, one digit
    return math.log(0.5 * math.exp(uniform) + 0.5 / patterned)


def typed_score(value: str) -> float:
    """How much likelier VALUE is as something a person typed than as a random key: the log-likelihood
    ratio (nats) of a model of typed values (words of names and prose, from a vocabulary or spelt by
    letter pairs, in one case each; short runs of digits; a few separators) against characters drawn
    uniformly from the smallest usual key alphabet holding them (hex, base36, base62, base64…).
    `testKeyValue`, `fakeKey9876` and `notARealKey7` score far above zero, a random key far below."""
    return _typed(value, -math.inf)


def _typed(value: str, floor: float) -> float:
    """typed_score, or anything below FLOOR once it is sure to end below it (each piece only lowers
    it: a random key is given up on after a few)."""
    # A key is often made of parts (`xoxb-…-…`, `sk-proj-…`, a UUID): each part drawn from its own alphabet.
    randomly = 0.0
    for part in _PARTS.findall(value):
        size = next((n for pattern, n in _ALPHABETS if pattern.fullmatch(part)), 95)
        randomly += len(part) * math.log(size)
    typed = 0.0
    for piece in _PIECES.findall(value):
        if typed + randomly < floor:
            break
        first = piece[0]
        if first.isascii() and first.isalpha():
            typed += _LOG["piece"] + _LOG["case"] + _letters_cost(piece.lower())
        elif first.isdigit():
            number = piece.rstrip("stndrhSTNDRH")
            typed += _LOG["piece"] + _digits_cost(number)
            if number != piece:  # `1st`: its suffix is typed with it; `1nd` is a number and letters
                typed += _LOG["ordinal"] if is_ordinal(piece) else \
                    _LOG["piece"] + _LOG["case"] + _letters_cost(piece[len(number):].lower())
        else:  # what joins words: `-`, `_`, `.`, a space
            typed += len(piece) * _LOG["separator"]
    return typed + randomly


def is_typed(value: str) -> bool:
    """Is VALUE made of words a person typed rather than random (typed_score at or above the threshold
    calibrated on the peers' real key fixtures: benchmarks/typed_model.py)?"""
    threshold = _typed_model().threshold
    return len(value) <= 300 and _typed(value, threshold) >= threshold


# A one-case key's alphabet (hex, base36) and how many of its characters are vowels.
_ONE_CASE_ALPHABETS = tuple((lazyre.compile(p), size, vowels) for p, size, vowels in (
    (r"[0-9a-f]+", 16, 2), (r"[0-9A-F]+", 16, 2), (r"[0-9a-z]+", 36, 5), (r"[0-9A-Z]+", 36, 5)))
_VOWELS = frozenset("aeiouAEIOU")
# A value made to be said strings syllables: after a consonant a vowel 9 times in 10, after a vowel
# another 4 in 10 (`ae`, `oo`), a digit now and then (1 in 10), each letter any of its class.
_NEXT_VOWEL = {"start": 0.5, "consonant": 0.9, "vowel": 0.4, "digit": 0.5}
_SYLLABLE_DIGIT = 0.1
# 2 nats above the highest score of 300,000 random keys of hex and base36 (either case), 10 to 64
# characters (12.1): such a value is e^2 = 7 times likelier said than the likeliest random key.
PRONOUNCEABLE_THRESHOLD = 14.0


def pronounceable_score(value: str) -> float:
    """How much likelier VALUE, written in one case, is as syllables strung together to be said (by a
    person or a password generator: `kaebo4oodie…`) than as characters drawn uniformly from its alphabet
    (hex, base36): a log-likelihood ratio in nats; -inf for mixed case, which is never judged so
    (base64 of binary data holds runs of `A`, JWTs open with `eyJ`, neither of them chance)."""
    chars = "".join(c for c in value if c.isascii() and c.isalnum())
    found = next(((size, vowels) for pattern, size, vowels in _ONE_CASE_ALPHABETS if pattern.fullmatch(chars)), None)
    if found is None:
        return -math.inf
    size, vowels = found
    consonants = size - 10 - vowels
    score, before = 0.0, "start"
    for c in chars:
        if c.isdigit():
            score += math.log(_SYLLABLE_DIGIT / 10 * size)
            before = "digit"
        elif c in _VOWELS:
            score += math.log((1 - _SYLLABLE_DIGIT) * _NEXT_VOWEL[before] / vowels * size)
            before = "vowel"
        else:
            score += math.log((1 - _SYLLABLE_DIGIT) * (1 - _NEXT_VOWEL[before]) / consonants * size)
            before = "consonant"
    return score


def is_pronounceable(value: str) -> bool:
    """Is VALUE made to be pronounced rather than random (pronounceable_score at or above the threshold)?"""
    return pronounceable_score(value) >= PRONOUNCEABLE_THRESHOLD


# The letter rows of a QWERTY keyboard. Hands mashing keys for a made-up value rest on the home row,
# reach the top row now and then and the bottom row seldom; they stay on a row for a while and
# come back to the letter pairs they just typed (`fj`, `as`, `sd`).
_KEY_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_ROW_OF = {c: i for i, row in enumerate(_KEY_ROWS) for c in row}
# P(a letter's row): top, home, bottom; then how often the next letter stays on the row of the one
# before, and how often it repeats what followed that letter before.
_ROW_SHARE = (0.2, 0.7, 0.1)
_SAME_ROW = 0.5
_REPEAT_PAIR = 0.3
# 2 nats above the highest score (10.14) of 1,200,000 random keys of hex and base36 (either case, 10 to 64
# characters): benchmarks/typed_model.py keyboard.
KEYBOARD_THRESHOLD = 12.2


def keyboard_score(value: str) -> float:
    """How much likelier VALUE, written in one case, is as keys mashed on a keyboard (`2a9fjaslfj8…`:
    runs of home-row letters, the same pairs again, digits between) than as characters drawn uniformly
    from its alphabet: a log-likelihood ratio in nats over its letters (digits are as likely either
    way), each part between separators on its own (`v1.0-…-…`: a hex part is drawn from hex, whose six
    letters repeat their pairs by chance); -inf for mixed case, which nobody mashes, or no letters. A hex
    number's `0x` is notation, not a letter of the value: `0x<64 hex>` is drawn from hex."""
    if value[:2] in ("0x", "0X"):
        value = value[2:]
    chars = "".join(c for c in value if c.isascii() and c.isalnum())
    if next((True for pattern, _, _ in _ONE_CASE_ALPHABETS if pattern.fullmatch(chars)), None) is None:
        return -math.inf
    parts = [[c for c in part.lower() if c.isalpha()] for part in _PARTS.findall(value)]
    if not any(parts):
        return -math.inf
    return sum(_mashed(letters) for letters in parts if letters)


def _mashed(letters: list[str]) -> float:
    # Uniformly, a letter is one of its alphabet's: 6 (hex) or 26.
    size = 6 if all(c in "abcdef" for c in letters) else 26
    score, before = 0.0, ""
    # What followed each letter so far: how often each follower, and in all.
    followers: dict[str, Counter[str]] = {}
    for c in letters:
        row = _ROW_OF[c]
        p = _ROW_SHARE[row] / len(_KEY_ROWS[row])
        if before:
            p = (1 - _SAME_ROW) * p + (_SAME_ROW / len(_KEY_ROWS[row]) if _ROW_OF[before] == row else 0.0)
            seen = followers.setdefault(before, Counter())
            total = seen.total()
            if total:
                p = (1 - _REPEAT_PAIR) * p + _REPEAT_PAIR * seen[c] / total
            seen[c] += 1
        score += math.log(p * size)
        before = c
    return score


def is_keyboard_mash(value: str) -> bool:
    """Is VALUE keys mashed by hand rather than random (keyboard_score at or above the threshold)?"""
    return keyboard_score(value) >= KEYBOARD_THRESHOLD


# Words that give a hand-made value its role (a test's, a plan's, a demo's, a stand-in's), glued by hand
# onto a random body without a separator: `…x271nTest`, `…CH4LTFree`, `Sample7Qx…`. Capitalized, as a
# word opens in camelCase, so only a mixed-case value can hold one (hex and base36 have one case). A
# random base62 key ends in a given capitalized four-letter word once in 62^4 = 1.5e7 keys, in a given
# five-letter one once in 9.2e8: with the three short words at the end only and the longer ones at
# either end, about one random key in 4.5 million.
_SHORT_ROLE_WORDS = ("Test", "Free", "Demo")
_ROLE_WORDS = ("Tests", "Testing", "Trial", "Sample", "Example", "Dummy", "Bogus", "Invalid", "Expired", "Revoked",
               "Placeholder")
_GLUED_ROLE = lazyre.compile(r"(?-i:(?<=[A-Za-z0-9])(?:" + "|".join(_SHORT_ROLE_WORDS + _ROLE_WORDS) + r")$"
                             r"|^(?:" + "|".join(_ROLE_WORDS) + r")(?=[A-Z0-9]))")
# The random body a role word is glued to: shorter, it could be a name (`apiKeyTest`).
_GLUED_BODY = 12


def has_glued_role_word(value: str) -> bool:
    """`LhhP…x271nTest`, `5f8a…CH4LTFree`: a random body of 12 characters or more with a capitalized role
    word (Test, Free, Demo, Sample, Invalid…) glued to its end (or a longer one to its start), a
    hand-made copy of a key marked for its role; an issued key does not end in an English word."""
    m = _GLUED_ROLE.search(value)
    return m is not None and len(value) - len(m[0]) >= _GLUED_BODY


# A provider's prefix fixes how long the random body behind it is: a body shorter than the provider
# issues is a stand-in someone typed (`sk_live_` + 14 characters), whatever its characters. Minimums as
# the peers' detectors match them (a key below one is none of the provider's), not a list of values.
@dataclass(frozen=True)
class ProviderPrefix:
    prefix: str
    minimum: int  # the fewest characters of the random body
    source: str


PROVIDER_PREFIXES = tuple(ProviderPrefix(f"{kind}_{mode}_", 20, "TruffleHog's Stripe detector, "
                                         "`[rs]k_live_[a-zA-Z0-9]{20,30}`; Stripe's documented keys carry 24 or more")
                          for kind in ("sk", "rk", "pk") for mode in ("live", "test"))
_PROVIDER_PREFIX = lazyre.compile(r"(?-i:(?<![A-Za-z0-9])(" + "|".join(re.escape(p.prefix) for p in PROVIDER_PREFIXES)
                                  + r"))")
_MINIMUM = {p.prefix: p.minimum for p in PROVIDER_PREFIXES}
_KEY_BODY = lazyre.compile(r"[A-Za-z0-9_-]{1,300}")


def short_for_its_prefix(value: str) -> bool:
    """`sk_live_axwI…` with 14 characters after Stripe's prefix: a body shorter than any key the prefix's
    provider issues (PROVIDER_PREFIXES) is a hand-made stand-in."""
    m = _PROVIDER_PREFIX.match(value)
    # The whole rest counts as the body: what a provider's alphabet would cut short is still no stand-in.
    return m is not None and len(value) - m.end() < _MINIMUM[m[1]]


@functools.lru_cache(maxsize=2)
def bodies_behind_prefixes(text: str) -> dict[str, str]:
    """The bodies a known provider prefix opens in TEXT, each with its prefix (one pass over the text,
    kept for the text's other candidates): the same body written without its prefix is the same value."""
    found: dict[str, str] = {}
    for m in _PROVIDER_PREFIX.finditer(text):
        body = _KEY_BODY.match(text, m.end())
        if body is not None:
            found.setdefault(body[0], m[1])
    return found


# Base64 (standard or URL-safe, padded to whole quads) of at most 300 characters. One alphabet per value:
# quads that either alphabet matches, as alternatives, made a value that is no base64 (a length past a whole
# quad) try every way of choosing between them, 2^75 of them for 300 characters.
_BASE64 = lazyre.compile(r"(?:[A-Za-z0-9+/]{4}){2,75}(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?"
                         r"|(?:[A-Za-z0-9_-]{4}){2,75}(?:[A-Za-z0-9_-]{2}==|[A-Za-z0-9_-]{3}=)?")
_PRINTABLE = lazyre.compile(r"[ -~]+")


def encodes_typed_text(value: str) -> bool:
    """`aWQ6YXBpX2tleQ==` (base64 of `id:api_key`): a base64 value whose decoding is printable text and
    whose every part (split at `:`, as an id:key pair is joined) reads as typed rather than random: an
    encoded stand-in. A real encoded key decodes to random parts (`<random id>:<random key>`), and a
    random key decodes to random bytes, printable once in (256/95)^12 for 16 characters."""
    import base64  # most values never get here
    import binascii

    if _BASE64.fullmatch(value) is None:
        return False
    try:
        decoded = base64.b64decode(value.replace("-", "+").replace("_", "/"), validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        return False
    # `echo "test-api-key" | base64`, as a Kubernetes Secret's `data:` is often filled, encodes the
    # line end too.
    decoded = decoded.removesuffix("\n").removesuffix("\r")
    if _PRINTABLE.fullmatch(decoded) is None or not any(c.isalpha() for c in decoded):
        return False
    # A part of a few letters (`id`, `foo`) is a word; a longer one reads as typed by the model of what
    # people type, which scores a random part far below zero.
    return all((part.isalpha() and len(part) <= 4) or typed_score(part) > 0 or is_phrase(part)
               for part in decoded.split(":"))


# An ascending run people type (`ABCD`, `abcd`, `1234`) at both ends of a value, around a random body:
# `ABCD` + random + `EFGH`. A random key opens with such a run once in 16^3 (hex) to 62^3 (base62) and
# ends with one as rarely: both, about once in 25 million hex keys, far less often for other alphabets.
_FRAME_RUN = 4


def is_framed_by_runs(value: str) -> bool:
    """`ABCD7PQS…EFGH`: a value opening and ending with an ascending run of 4 letters of one case or
    digits, a random body framed by hand."""
    if len(value) < 3 * _FRAME_RUN:
        return False
    return _ascending(value[:_FRAME_RUN]) and _ascending(value[-_FRAME_RUN:])


def _ascending(run: str) -> bool:
    classes = {("digit" if c.isdigit() else "lower" if c.islower() else "upper" if c.isupper() else c) for c in run}
    return len(classes) == 1 and all(c.isascii() and c.isalnum() for c in run) \
        and all(ord(b) - ord(a) == 1 for a, b in itertools.pairwise(run))


# A recorder's sanitizer or a test writes a digest of a word where a key was (`sha512("test")`): hex of a
# digest's length that hashes a word people type is no key. The words are the typed model's vocabulary
# (and the empty text); each digest is kept by its first 8 bytes, which a random key matches once in 2^64
# per word.
_DIGESTS = {32: "md5", 40: "sha1", 64: "sha256", 128: "sha512"}
_HEX = lazyre.compile(r"[0-9a-f]+|[0-9A-F]+")


@functools.cache
def _word_digests() -> frozenset[tuple[int, bytes]]:
    import hashlib  # built once, for the first hex value of a digest's length

    words = [w.encode() for w in (*_typed_model().words, "")]
    return frozenset((size, hashlib.new(name, w).digest()[:8]) for size, name in _DIGESTS.items() for w in words)


def is_digest_of_a_word(value: str) -> bool:
    """`ee26b0dd…` (128 hex) = SHA-512 of `test`: hex of an MD5, SHA-1, SHA-256 or SHA-512 digest's length
    that is the digest of a word of the typed model's vocabulary (or of nothing): a stand-in."""
    if len(value) not in _DIGESTS or _HEX.fullmatch(value) is None:
        return False
    return (len(value), bytes.fromhex(value[:16])) in _word_digests()


def _at_most(n: int, k: int, p: float) -> float:
    """P(X <= K) for X ~ Binomial(N, P): how often N characters drawn with chance P each hold K or fewer."""
    return sum(math.comb(n, i) * p ** i * (1 - p) ** (n - i) for i in range(k + 1))


# A random key's capitals are about half its letters (base62, base64, mixed-case hex): one with a capital or
# two among thirty letters comes once in 10^8. Such a value's case is typed (`…jacketmySecretsdf…`: a
# camelCase word inside a run of small letters), so it is judged as the one-case value it is.
_DRAWN_CASE = 1e-6


def case_is_typed(value: str) -> bool:
    """`flwjiefewklfjacketmySecretsdfldskjfsdlk`: a mixed-case value whose capitals (or small letters) are far
    fewer than drawing each letter's case at random gives (below one value in a million): its case was
    typed, a capital opening a word, and it reads as one case."""
    letters = [c for c in value if c.isascii() and c.isalpha()]
    upper = sum(c.isupper() for c in letters)
    fewer = min(upper, len(letters) - upper)
    return fewer > 0 and _at_most(len(letters), fewer, 0.5) < _DRAWN_CASE


# A fixed layout of hex (a UUID's 8-4-4-4-12, a long hex key) broken by a few letters past `f` inside it: a
# hand edit (`…-j999c1973cc9`, `…352k3bg46…`; the peers' fixtures hold such copies too: a Trello key with `nn`,
# a curl token with `l`). Drawn from a key alphabet, a value is this hex-like almost never: half the characters
# of the most hex-like one (Crockford's base32) lie past `f`, 20 of base36's 36, 46 of base62's 62; so 1 of 32
# characters past `f` happens once in 10^8 for it, and 2 of 28 once in 10^7 for base36. A vendor's marks sit
# at the ends of a hex key, not inside it: a prefix or suffix (`SK…`, `dapi…`, `rdme_xn8s9h…`, `s-s4t2ud-…`,
# `…-us18`) lies within the first or last 8 characters, and parts of letters only at either end (`pk_live_…`,
# `key-…`, `…-X`) are left out. The peers' rules name a `[a-h0-9]` alphabet (Flutterwave, Mailgun): `g` and `h` alone are no edit.
_EDITED_HEX_LEAST = 20
_EDITED_HEX_BOUND = 1e-5
_MARK_REACH = 8
_PAST_H = lazyre.compile(r"[i-zI-Z]")


def is_edited_hex(value: str) -> bool:
    """`800deeaf-e285-9d62-bc90-j999c1973cc9`, `b8062c469b938352k3bg4656999ed`: a one-case value at least 90%
    hex digits, with a letter past `h` more than 8 characters from either end, where drawing from a key
    alphabet gives so few non-hex characters less than once in 10^5 (for the most hex-like alphabet)."""
    parts = [p for p in _PARTS.findall(value) if p.isalnum()]
    while parts and parts[0].isalpha():  # a word before the layout (`pk_live_`, `key-`), or after it (`-X`)
        parts.pop(0)
    while parts and parts[-1].isalpha():
        parts.pop()
    body = "".join(parts)
    n = len(body)
    if n < _EDITED_HEX_LEAST or not (body == body.lower() or body == body.upper()) \
            or _PAST_H.search(body, _MARK_REACH, n - _MARK_REACH) is None:
        return False
    off = sum(c not in "0123456789abcdefABCDEF" for c in body)
    return off * 10 <= n and _at_most(n, off, 0.5) < _EDITED_HEX_BOUND


# Hex-encoded random bytes have an even length, and keys are most often 16, 20, 32 or 64 bytes. A whole value
# of hex one character off such a length (31, 33, 39, 41, 63, 65, 127, 129) cannot be those bytes: a copy
# that lost or gained a character, as a docs example typed by hand (gitleaks' Sentry rule tests 63 and 65 hex
# as no key). Odd length alone is no sign: Cloudflare's Global API Key is 37 hex, written bare; Lob's keys
# (31, 35) and New Relic's browser tokens (19) are odd but never whole values, behind `test_pub_`, `live_`,
# `NRJS-` (the peers' rules and fixtures hold no other odd-length hex key).
_BYTE_HEX_LENGTHS = frozenset({32, 40, 64, 128})


def is_hex_one_off(value: str) -> bool:
    """`83749879bbde395b5fe0cc1a5abf8e5` (31): hex one character short or long of a byte length keys come
    in: no hex-encoded key."""
    return len(value) % 2 == 1 and bool({len(value) - 1, len(value) + 1} & _BYTE_HEX_LENGTHS) \
        and _HEX.fullmatch(value) is not None


def plausible_literal(value: str, quoted: bool, typed: bool = True) -> bool:
    """Is a value bound to an api-key-like name a real secret rather than a stand-in?

    Unquoted values (shell, .env, YAML, INI) must look like a token; quoted ones may be shorter.
    TYPED: also reject a value made of typed words (is_typed); off only to calibrate that test.
    """
    value = value.strip()
    if len(value) < (10 if quoted else 12) or len(value) > 300 or value.isdigit():
        return False
    if is_template(value) or is_placeholder(value) or is_natural_language(value):
        return False
    if is_path_or_url(value) or is_regex(value) or is_identifier(value) or is_word_list(value):
        return False
    if is_low_entropy(value, 2.8 if quoted else 3.0) or is_repetitive(value) or is_sequential(value) \
            or is_interleaved_run(value) or is_stepped_runs(value) or is_periodic(value) or is_hex_number(value):
        return False
    # A key never holds parentheses (`?key=AIzaSy(…`: a fragment), quotes or angle brackets (markup
    # around it), nor reads as a phrase.
    if any(c in value for c in "()\"'`<>") or is_phrase(value) or _FIXED_LOOKALIKE.match(value):
        return False
    # A token has at least one digit or mixes cases; words_joined_by_underscores do neither, nor does a run
    # of small letters with a typed capital or two (case_is_typed).
    case_typed = case_is_typed(value)
    if not any(c.isdigit() for c in value) and (value == value.lower() or value == value.upper() or case_typed):
        return False
    if short_for_its_prefix(value) or is_edited_hex(value) or is_hex_one_off(value):
        return False
    if not typed:
        return True
    # Case makes no words random: `tEsTkEyVaLuE123`, `FAKEkeyVALUEforTESTS` are typed words in a case
    # nobody types in. A random key in lower case is as random as one of base36, which the threshold
    # was set above (0 of 180,000 random mixed-case keys rejected so).
    lowered = value.lower()
    return not (is_typed(value) or is_pronounceable(value) or is_keyboard_mash(value)
                or (lowered != value and is_typed(lowered)) or has_glued_role_word(value)
                or (case_typed and (is_pronounceable(lowered) or is_keyboard_mash(lowered)))
                or is_framed_by_runs(value) or encodes_typed_text(value) or is_digest_of_a_word(value))


# Narrower than _PLACEHOLDER_WORDS and made of long words: a random 35-character key body must
# practically never trip it by chance (a 4-letter word would, once in ~30,000 keys).
_FIXED_PLACEHOLDER = lazyre.compile(
    r"x{6,}|0{8,}|(?-i:YOUR|[Yy]our)[_-]?(?-i:API|[Aa]pi|KEY|[Kk]ey|GOOGLE|[Gg]oogle|GEMINI|[Gg]emini|OWN|[Oo]wn"
    r"|SECRET|[Ss]ecret|TOKEN|[Tt]oken|CLIENT|[Cc]lient|PROJECT|[Pp]roject)"
    r"|example|placeholder|redacted|dummy[_-]|replace|insert[_-]|\*|\.\.\.|<|>",
    re.IGNORECASE,
)


def plausible_fixed_format(value: str) -> bool:
    """A fixed-format credential (AIza…, GOCSPX-…): rule out documentation stand-ins."""
    body = re.sub(r"^(?:AIza(?:Sy)?|GOCSPX-|ya29\.|1//0|AQ\.Ab)", "", value)
    # Last, and only for what passed the rest: a body of typed words (`FILTERED_ACCESS_TOKEN_XXX`, a
    # cassette's scrubbed stand-in) is no credential; the model calls no random body typed.
    return not _FIXED_PLACEHOLDER.search(body) and not is_low_entropy(body, 3.0) and not is_repetitive(body) \
        and not is_sequential(body) and not is_typed(body)


@functools.cache
def known_public() -> frozenset[str]:
    """The SHA-256 digests of values published on purpose that scanners allowlist
    (scanner/data/known_public.json: firebase-android-sdk's sample keys, Yarn's public Algolia key)."""
    data = json.loads(resources.files("scanner").joinpath("data/known_public.json").read_text(encoding="utf-8"))
    return frozenset(str(row["sha256"]) for row in data["values"])


# A provider's mode prefix before a key's random body: `test_`, `live_`, `sk_test_`, `access_`.
_MODE_PREFIX = lazyre.compile(r"(?:[a-z]{2,10}_){1,2}(?=[A-Za-z0-9]{16})")


def is_known_public(value: str, digests: frozenset[str] | None = None) -> bool:
    """Is VALUE one of DIGESTS (default: the shipped list), matched by its SHA-256, or its body after a
    mode prefix (`live_…` copied from a vendor's documented `test_…` example: an issued key's random
    body is never another key's)?"""
    import hashlib  # here, as in models.fingerprint: most scans never get this far

    known = known_public() if digests is None else digests
    if hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest() in known:
        return True
    prefix = _MODE_PREFIX.match(value)
    return prefix is not None and hashlib.sha256(
        value[prefix.end():].encode("utf-8", "surrogateescape")).hexdigest() in known


# --- judged from the text around a candidate -------------------------------------------------

_API_URL = lazyre.compile(r"googleapis\.com|maps|/api/|/v\d+(?:beta\d*|alpha\d*)?\b|\bapi[.-]|/rest/|graphql", re.IGNORECASE)
# Documents, caches, translations and sort orders keyed by `key=`, never an API key.
_NOT_AN_API_URL = lazyre.compile(r"spreadsheets?\.google\.com|docs\.google\.com|/spreadsheets?/|/cache|/i18n|/locale"
                             r"|/translations?|[?&](?:sort|order)(?:_?by)?=", re.IGNORECASE)
_KEY_SHAPE = lazyre.compile(r"[A-Za-z0-9_-]{20,}")
_URL_START = lazyre.compile(r"[\s\"'`(<>]")
_URL_HOST = lazyre.compile(r"^[A-Za-z][A-Za-z0-9+.-]{0,20}://[^/?#]{0,300}")
_PATH_SEGMENT = lazyre.compile(r"(?<=/)[A-Za-z0-9_-]{16,300}(?=[/?#]|$)")


def query_key_is_api_key(text: str, start: int, secret: str) -> bool:
    """A `?key=` / `&key=` value at START: an API key where the URL is an API's (googleapis.com, maps,
    `/api/`, `/v1/`) or the value has a key's shape, but never a spreadsheet id, a cache or i18n key."""
    # Within 2,000 characters: a minified line of many URLs is not read back to its start for each.
    line_start = max(text.rfind("\n", max(0, start - 2000), start) + 1, start - 2000, 0)
    before = text[line_start:start]
    # The URL holding the query: back to the last space, quote or bracket before it.
    cut = max((m.end() for m in _URL_START.finditer(before)), default=0)
    url = before[cut:]
    if _NOT_AN_API_URL.search(url):
        return False
    if _API_URL.search(url):
        return True
    # A page's link, not an API's: a random token in the path names the object (`/orders/<token>/
    # authenticate?key=…`, `/checkouts/<token>?key=…`), and the `key` beside it is that link's second
    # per-object token, not a credential to an API.
    if any(len(segment) >= 16 and plausible_literal(segment, quoted=True)
           for segment in _PATH_SEGMENT.findall(_URL_HOST.sub("", url).split("?", 1)[0])):
        return False
    # A key's shape: 20 or more key characters with a digit or both cases, not a name.
    mixed = any(c.isdigit() for c in secret) or secret.lower() != secret != secret.upper()
    shaped = bool(_KEY_SHAPE.fullmatch(secret)) and mixed
    return shaped and not is_identifier(secret)


_CSV_HEADER = lazyre.compile(r"^\ufeff?[^(){}=;<>]*[,\t][^(){}=;<>]*$")
_OPENS_A_CALL = lazyre.compile(r"[(\[{,]\s*$")


def csv_row_is_code(text: str, start: int) -> bool:
    """Is the `name,value` line at START a piece of code or prose rather than a CSV row: a call
    wrapped over lines (`Secret.from_env_var(` then `"API_KEY", strict=False)`), or a file whose
    first line is no CSV header?"""
    line_start = text.rfind("\n", max(0, start - 400), start) + 1
    prev_end = line_start - 1
    for _ in range(20):  # the nearest non-blank line among the few before
        if prev_end <= 0:
            break
        prev_start = max(text.rfind("\n", max(0, prev_end - 4096), prev_end) + 1, prev_end - 4096, 0)
        previous = text[prev_start:prev_end].strip()
        if previous:
            if _OPENS_A_CALL.search(previous):
                return True
            break
        prev_end = prev_start - 1
    first_end = text.find("\n", 0, 4096)
    first = text[:first_end if first_end >= 0 else 4096].strip()
    return not _CSV_HEADER.match(first)


def is_csv_row(text: str, start: int, end: int) -> bool:
    """Does the candidate text[start:end] stand as the second column of a short `name,value` line?
    Looked for within a few hundred characters only: a CSV row's name is short, and a long line of a
    minified bundle holding many candidates must not be read again for each."""
    line_start = text.rfind("\n", max(0, start - 400), start) + 1
    if line_start == 0 and start > 400:
        return False
    line_end = text.find("\n", end, end + 40)
    tail = text[end:line_end if line_end >= 0 else min(len(text), end + 40)]
    if line_end < 0 and end + 40 < len(text):
        return False
    before = text[line_start:start]
    return before.count(",") == 1 and "," not in tail and before.rstrip(' \t"').endswith(",") \
        and not any(c in before for c in "=:(") and tail.strip(' \t"\r') == ""


def fragment_follows(text: str, end: int) -> bool:
    """Does `(` follow the value, so that what was captured is a fragment (`?key=AIzaSy(…`)?"""
    return text[end:end + 1] == "("


_NOT_A_SECRET_SUFFIX = lazyre.compile(
    r"api[_.-]?key[_.-]?(?:hash|header|headers|name|names|env|env_?var|var|variable|path|id|ids|url|uri|file|filename"
    r"|type|len|length|size|param|parameter|field|label|location|placement|source|prefix|suffix|mode|scheme"
    r"|format|pattern|regex|required|enabled|set|present|missing|exists|valid|ref|label|title|help|hint|count"
    r"|index|setting|option|query|in|description|desc|line|lines|parser|parse|validator|validation|formatter"
    r"|regexp|reader|loader|getter|setter|resolver|matcher|checker|extractor|error|errors|message|msg|text"
    r"|placeholder|column|widget|dialog|button|form|view)$", re.IGNORECASE)


# `<YOUR_API_KEY_HERE>` read as an XML element of that name: a stand-in, not a name.
_STAND_IN_NAME = lazyre.compile(r"(?:^|[^a-z])your|[_-]here$", re.IGNORECASE)


# The last word of a longer name after its api-key: `apiKeyErrorMessage`, `API_KEY_INPUT_FIELD`.
_AFTER_KEY = lazyre.compile(r"api[_.-]?key([\w.-]+)$", re.IGNORECASE)
_ABOUT_A_KEY = frozenset(
    "hash header headers name names env var variable path url uri file filename type len length size param parameter"
    " field label location placement source prefix suffix mode scheme format pattern regex required enabled present"
    " missing exists valid ref title help hint count index setting option query description desc line lines parser"
    " validator validation formatter regexp reader loader getter setter resolver matcher checker extractor error"
    " errors message msg placeholder column widget dialog button form view exception exceptions class interface"
    " handler listener callback"
    # An identifier of a key (`api_key_uid`, `apiKeyId`, `API_KEY_GUID`): the key's record, not its secret.
    " id ids uid uids uuid uuids guid identifier".split())

# The word before the api-key in a longer name, when it declares the value no working key:
# `InvalidApiKey`, `SUSPENDED_API_KEY`, `expiredApiKey`, `revoked_api_key`, `wrongApiKey`, `fakeApiKey`.
# (Not `test`, `demo` or `sample`: a test's or a demo's key is often a real one.)
_BEFORE_KEY = lazyre.compile(r"([A-Za-z]{1,40})[_.-]?api[_.-]?key", re.IGNORECASE)
_NOT_WORKING = frozenset(
    "invalid suspended expired revoked disabled deactivated deleted inactive wrong bad incorrect malformed bogus"
    " fake dummy nonexistent unknown unauthorized forbidden blocked banned".split())
# The verb a function's name opens with, when it transforms or tests a key rather than taking one to use:
# `redactApiKey("…")`, `maskApiKey`, `validateApiKey`, `isValidApiKey`, `hashApiKey`: its argument is a
# test's input, its result something about the key. (`setApiKey`, `withApiKey`, `useApiKey` bind one.)
_SEGMENT_BEFORE_KEY = lazyre.compile(r"([A-Za-z0-9_]{0,60}?)api[_.-]?key", re.IGNORECASE)
_ABOUT_A_KEY_VERBS = frozenset(
    "redact mask obfuscate censor scrub sanitize anonymize truncate hash encrypt decrypt encode decode validate"
    " verify check parse format normalize is has".split())


def is_not_secret_name(name: str) -> bool:
    """`api_key_hash`, `api_key_header`, `apiKeyName`, `API_KEY_ENV`, `apiKeyErrorMessage`, `api_key_uid`: the
    name holds something about a key (its digest, header, variable, file, id, a message about it), not the
    key; `InvalidApiKey`, `expired_api_key`: it declares the value no working key; `redactApiKey`,
    `isValidApiKey`: a function that transforms or tests a key."""
    if is_digest_name(name) or _NOT_A_SECRET_SUFFIX.search(name) or _STAND_IN_NAME.search(name):
        return True
    after = _AFTER_KEY.search(name)
    words = _WORDS.findall(after[1]) if after else []
    if words and words[-1].lower() in _ABOUT_A_KEY:
        return True
    before = _BEFORE_KEY.search(name)
    words = _WORDS.findall(before[1]) if before else []
    if words and words[-1].lower() in _NOT_WORKING:
        return True
    # The words of the name's last part before its api-key (`validator.redactApiKey`: `redact`), in a
    # function's case: a constant (`VERIFY_API_KEY`) may be a key of a service named so.
    head = _SEGMENT_BEFORE_KEY.search(name)
    words = _WORDS.findall(head[1]) if head and not head[1].isupper() else []
    return bool(words) and words[0].lower() in _ABOUT_A_KEY_VERBS



# --- the name a value is bound to ----------------------------------------------------------------

# What stands between a name and its value, read backwards from the value (the text before it,
# reversed, so that one anchored match costs the length of the name, however long the line): an
# opening quote (C#'s @"), a JSX brace, an operator (=, :, =>, :=, ==, a call's comma or bracket, a
# fallback || or ??, an XML element's >, or only spaces: `ENV NAME value`, `--flag value`), the
# name's closing quote or subscript bracket, and the name.
_BOUND_REVERSED = lazyre.compile(
    r"(?:[\"'`][@\\]?)?(?:[ \t]{0,20}\{)?[ \t]{0,20}"
    r"(?P<op>>=|=:|==|=|:|,|\(|>|\|\||\?\?|(?<=[ \t]))"
    r"[ \t]{0,20}\]?(?:[\"'`]\\?)?(?P<name>[\w$.@-]{1,100})")
# The name an XML element's `value` attribute belongs to: <add key="NAME" value="…"/>.
_ATTRIBUTE_NAME = lazyre.compile(r"""(?:key|name)\s{0,20}=\s{0,20}["']([\w$.@:-]{1,100})["'][^<>]{0,200}$""")


def bound_name(text: str, start: int) -> tuple[str, str]:
    """(name, operator) a value starting at START is bound to on its line, ("", "") when none:
    `RECAPTCHA_SECRET = "…"` gives ("RECAPTCHA_SECRET", "="), `?secret=…` ("secret", "="),
    `define('X_SECRET', '…')` ("X_SECRET", ","), `<add key="X_SECRET" value="…"/>` ("X_SECRET", "=")."""
    line = text.rfind("\n", max(0, start - 300), start) + 1
    before = text[max(line, start - 300):start]
    m = _BOUND_REVERSED.match(before[::-1])
    if m is None:
        return "", ""
    name, op = m["name"][::-1], m["op"][::-1]
    if name.lower() == "value" and op == "=":
        attribute = _ATTRIBUTE_NAME.search(before, 0, len(before) - m.end())
        if attribute is not None:
            return attribute[1], op
    return name, op
