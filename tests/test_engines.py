"""The engine's two steps and its implementations: content alone, then what the path adds."""
from __future__ import annotations

import codecs
import importlib
import multiprocessing
import pickle
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner import content, prefilter
from scanner.cli import main
from scanner.detect import Detector, Scanned
from tests.conftest import KEY_ALPHABET, google_key, hex_secret, random_chars
from tests.hostile import expect_error, keysentry


def test_content_step_depends_on_the_bytes_only() -> None:
    key = google_key()
    data = f"GEMINI_API_KEY={key}\nDATABASE_URL=postgres://app:{hex_secret(16)}@db/app\n".encode()
    scanned = Detector().scan_content(data)
    assert [(m.rule_id, m.secret) for m in scanned.matches] == [("google-api-key", key)]
    assert Detector().path_matches("src/settings.txt", data, scanned) == ()


def test_path_step_adds_the_whole_file_rule_for_each_path() -> None:
    key = google_key()
    data = f"GEMINI_API_KEY={key}\n".encode()
    detector = Detector()
    scanned = detector.scan_content(data)
    env = detector.path_matches("web/.env", data, scanned)
    template = detector.path_matches("web/.env.example", data, scanned)
    assert [(m.rule_id, m.secret, m.line) for m in env] == [("dotenv-file", key, 0)]
    assert [(m.rule_id, m.secret, m.line) for m in template] == [("dotenv-file", key, 0)]
    assert detector.scan(data, "web/.env").matches == scanned.matches + env


def test_path_step_of_a_template_without_a_secret_and_of_a_binary_adds_nothing() -> None:
    detector = Detector()
    text = b"DATABASE_URL=postgres://app:x@db/app\n"
    assert detector.path_matches(".env.example", text, detector.scan_content(text)) == ()
    binary = b"\x7fELF\0\0API_KEY=" + hex_secret(24).encode()
    assert detector.path_matches(".env", binary, detector.scan_content(binary)) == ()


# --- the engines find the same secrets ---------------------------------------------------------------

_ALLOW = (re.compile("ALLOWED"),)
HYPERSCAN = Detector(engine_name="hyperscan", allow=_ALLOW)
PYTHON = Detector(engine_name="python", allow=_ALLOW)


def _both(data: bytes, path: str = "snippet") -> Scanned:
    """What both engines find in DATA, asserted equal (and equal to the default Detector's)."""
    found = PYTHON.scan(data, path)
    assert HYPERSCAN.scan(data, path) == found
    return found


def _secrets(scanned: Scanned) -> list[tuple[str, int, int, str]]:
    return [(m.rule_id, m.line, m.column, m.secret) for m in scanned.matches]


def test_the_engines_are_what_they_say() -> None:
    assert (HYPERSCAN.engine, PYTHON.engine) == ("hyperscan", "python")


# Text around the keys that moves byte offsets away from character offsets, or that the Python
# engine's lower-casing treats specially: the Hyperscan engine must locate the same windows.
_NON_ASCII = [
    pytest.param("é", id="latin letter"),
    pytest.param("中文注释", id="cjk"),
    pytest.param("🔑", id="emoji"),
    pytest.param("\u212a", id="kelvin sign"),
    pytest.param("\u0130", id="dotted capital i"),
]


@pytest.mark.parametrize("other", _NON_ASCII)
def test_keys_after_non_ascii_text_are_found_at_their_columns(other: str) -> None:
    key, token = google_key(), random_chars(24)
    text = f"# {other} {other}\nlabel = '{other}'; api_key = \"{token}\"  k = \"{key}\"\n"
    found = _secrets(_both(text.encode()))
    line, column = 2, text.split("\n")[1].index(token) + 1
    assert found == [("hardcoded-api-key", line, column, token),
                     ("google-api-key", 2, text.split("\n")[1].index(key) + 1, key)]


def test_a_utf8_bom_does_not_shift_columns() -> None:
    key = google_key()
    data = codecs.BOM_UTF8 + f"é = 1\nk = \"{key}\"\n".encode()
    assert _secrets(_both(data)) == [("google-api-key", 2, 6, key)]


def test_latin1_text_is_located_a_byte_a_character() -> None:
    token = random_chars(24)
    data = b"caf\xe9 \xe9t\xe9\napi_key = '" + token.encode() + b"'\n"  # not UTF-8
    assert _secrets(_both(data)) == [("hardcoded-api-key", 2, 12, token)]


def test_an_anchor_spelled_with_a_kelvin_sign_is_found_alike() -> None:
    # The Python engine lower-cases the text before looking for anchors: the Kelvin sign becomes
    # `k`, and a nearby anchor's window reaches this one. Hyperscan must not locate differently.
    token = random_chars(24)
    far = "#" * 3000  # past the first anchor's reach: only the Kelvin one's window holds the value
    data = f"api_key_name = 1\n{far}\napi_\u212aey = '{token}'\n".encode()
    assert _secrets(_both(data)) == [("hardcoded-api-key", 3, 12, token)]


@pytest.mark.parametrize(("surprise", "looked"), [("", False), ("\u212a", True), ("\u0130", True), ("\u0100", False),
                                                  ("\u0100\u0130", True), ("\u0130\u0100", True)],
                         ids=["none", "kelvin sign", "dotted capital i", "same lead byte only",
                              "dotted i after the lead byte", "dotted i before it"])
def test_a_keyword_without_its_anchor_is_looked_at_only_beside_a_lower_case_surprise(surprise: str,
                                                                                     looked: bool) -> None:
    # `goog` with no HMAC-shaped run after it: Hyperscan drops the rule, unless a character whose
    # lower case is ASCII is anywhere in the text (the pass itself reports one, or _located finds
    # the dotted capital I's two bytes: its lead byte \xc4 is in Ā, \u0100, too): then the detector
    # looks for the anchor in the lower-cased text, as the Python engine does.
    rule = next(i for i, r in enumerate(HYPERSCAN.rules) if r.id == "gcs-hmac-key")
    data = f"import google  # {'x' * 5000} {surprise}\n".encode()
    engine = prefilter.build(HYPERSCAN.rules, "hyperscan")
    plain, hits = engine.plain_text(data)
    assert plain
    assert (hits is not None and rule in hits.active) == looked
    _both(data)


@pytest.mark.parametrize("before", [b"", b"\0", b"x", b"X", b"6", b"l", b"\n", b"\xff", "\u0130".encode()],
                         ids=["start", "nul", "letter", "capital", "six", "ell", "newline", "high byte", "dotted i"])
def test_a_two_letter_keyword_is_located_wherever_it_stands(before: bytes) -> None:
    # reCAPTCHA's `6l` is given to Hyperscan as every byte before it and it (a literal of two bytes
    # slows the whole database down): each place must still be reported, the very start, after
    # any byte and the very end too, in either case.
    rule = next(i for i, r in enumerate(HYPERSCAN.rules) if r.id == "recaptcha-secret-key")
    data = before + b"6Lc" + random_chars(38).encode() + b" 6l6L " + before + b"6l"
    hits = prefilter.build(HYPERSCAN.rules, "hyperscan").text(data)
    assert hits is not None and hits.starts is not None
    assert hits.starts[rule] == [m.start() for m in re.finditer(rb"(?i)6l", data)]
    _both(data)


def test_a_token_inside_a_rejected_one_is_not_found_alike() -> None:
    # `finditer` resumes after a match, accepted or not: the inner `ya29.` starts no match of its own.
    data = f"t = ya29.example{random_chars(20)}.ya29.{random_chars(30)}\n".encode()
    assert _secrets(_both(data)) == []


@pytest.mark.parametrize("unit", [b"AIza", b"api_key=", b"?key=", b"ya29."])
def test_content_with_too_many_hits_to_locate_is_scanned_alike(unit: bytes) -> None:
    key, token = google_key(), random_chars(24)
    data = unit * 20_000 + f"\nk = \"{key}\"\napi_key = \"{token}\"\n".encode()
    found = _secrets(_both(data))
    assert ("google-api-key", 2, 6, key) in found and ("hardcoded-api-key", 3, 12, token) in found


def test_binary_and_utf16_content_is_scanned_alike() -> None:
    key = google_key()
    binary = b"\x7fELF\x02\x01\0\0" + key.encode() + b"\0" + f"api_key {key[:-1]}Z".encode("utf-16-le") * 2
    assert _secrets(_both(binary))[0][3] == key
    utf16 = f"api_key = \"{random_chars(24)}\"\nk = {key}\n".encode("utf-16")
    assert len(_both(utf16).matches) == 2


def _padded(at: int, byte: bytes, key: str) -> bytes:
    line = f"k = {key}\n".encode()
    return b"x" * at + byte + b"\n" + line


# (content, whether the Hyperscan pass alone may call it plain text): each row on one side of a
# line sniff() draws. Called plain, sniff() must agree it is NARROW; and both engines find the same.
_PLAIN_EDGES = [
    pytest.param(lambda k: f"k = {k}\n".encode(), True, id="ascii"),
    pytest.param(lambda k: _padded(8191, b"\x01", k), False, id="a control byte at the sniffed end"),
    pytest.param(lambda k: _padded(8192, b"\x01", k), True, id="a control byte past it"),
    pytest.param(lambda k: _padded(8191, b"\x1b\x0c\x1a", k), True, id="escape, form feed and ctrl-z are text"),
    pytest.param(lambda k: _padded(100_000, b"\0", k), False, id="a NUL far into the file"),
    pytest.param(lambda k: b"\x01\x02" * 400 + _padded(0, b"", k), False, id="control noise"),
    pytest.param(lambda k: codecs.BOM_UTF8 + _padded(0, b"", k), True, id="utf-8 bom"),
    pytest.param(lambda k: f"k = {k}\n".encode("utf-16"), False, id="utf-16 bom"),
    pytest.param(lambda k: b"\x1f\x8b" + _padded(10, b"", k), False, id="gzip magic"),
]


@pytest.mark.parametrize(("make", "plain"), _PLAIN_EDGES)
def test_the_plain_text_shortcut_agrees_with_sniffing(make: Callable[[str], bytes], plain: bool) -> None:
    key = google_key()
    data = make(key)
    said, _ = prefilter.build(HYPERSCAN.rules, "hyperscan").plain_text(data)
    assert said is plain
    if said:
        assert content.sniff(data) == content.NARROW
    assert key in [m.secret for m in _both(data).matches]


# Pieces random text is made of: rule keywords and anchors in both cases, operators, quotes, line
# ends, non-ASCII characters, pragmas and the start of a service-account file.
_PIECES = ["api_key", "API_KEY", "apiKey", "api.key", "x-goog-api-key", "?key=", "&key=", "&amp;key=", "?amp;key=",
           "AIza", "AQ.Ab", "GOCSPX-", "ya29.", "1//0", "private_key", "refresh_token", "service_account",
           " = ", "=", ": ", ":-", "${", "}", "\"", "'", "`", "(", ")", ",", "\n", "\r\n", " ", "\t", "\\n",
           "é", "中", "\u212a", "\u0130", "<key>", "</key>", "# keysentry:allow", "ALLOWED", "-----BEGIN PRIVATE KEY-----",
           ".", "example",
           # the rest of the family (issue 19): Chat webhooks, FCM server keys
           "https://chat.googleapis.com/v1/spaces/AAAA1234/messages?", "key=", "&token=", "&amp;", ":APA91b", "AAAA",
           "GOOG1E" + "A7" * 27 + "Q", "GOOGQ7" + "B2" * 9, "+", "/", "eLOHz+jNKMrNqNvycOdHAu",
           "RECAPTCHA_SECRET_KEY=", "RECAPTCHA_SITE_KEY=", "6Lc", "client_secret=", "client_id=", "gme-acme",
           "signing_secret=", "signature=", "=",
           "\n" + "#" * 2100 + "\n"]  # the last: past an anchor's reach


@st.composite
def _planted(draw: st.DrawFn) -> str:
    """A key of each family, made of drawn characters (never a literal in the repository)."""
    body = st.text(alphabet=KEY_ALPHABET, min_size=1, max_size=70)
    prefix = draw(st.sampled_from(["AIzaSy", "AQ.Ab", "GOCSPX-", "ya29.", "1//0", 'api_key = "', "?key=", "&token=",
                                   "AAAA", ":APA91b", "6Lc", "GOOG1E", "secret=\""]))
    return prefix + draw(body)


_TEXT = st.lists(st.one_of(st.sampled_from(_PIECES), _planted(), st.text(max_size=8)), max_size=40).map("".join)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_TEXT, encoding=st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "utf-16-le", "utf-16", "utf-32",
                                             "binary", "nul"]),
       path=st.sampled_from(["app.py", ".env", ".env.example"]))
def test_both_engines_agree_on_random_text_with_planted_keys(text: str, encoding: str, path: str) -> None:
    if encoding == "binary":
        data = b"\x7fELF" + text.encode("utf-8") + text.encode("utf-16-le")
    elif encoding == "nul":
        data = b"x\0" + text.encode("utf-8")
    else:
        data = text.encode(encoding, "replace")
    _both(data, path)


# --- choosing the engine -----------------------------------------------------------------------------

def test_keysentry_rules_names_the_engine(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(prefilter.ENGINE_VARIABLE, raising=False)
    assert main(["rules"]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("engine: hyperscan 0.9.1; python for a scan's first")
    monkeypatch.setenv(prefilter.ENGINE_VARIABLE, "python")
    assert main(["rules"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "engine: python"


def test_a_bad_engine_name_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    line = expect_error(keysentry("scan", ".", env={"KEYSENTRY_ENGINE": "fast"}, cwd=tmp_path), "KEYSENTRY_ENGINE")
    assert "hyperscan or python" in line


def test_the_automatic_engine_starts_in_python_and_moves_to_hyperscan_for_big_scans() -> None:
    auto = prefilter.AutoPrefilter(Detector().rules)
    assert auto._for(1000).name == "python"  # a hook's few files: no Hyperscan import or compile
    assert auto._for(prefilter.STARTUP_BYTES).name == "hyperscan"
    assert auto._for(10).name == "hyperscan"


def _scan_in_child(data: bytes) -> Scanned:
    return HYPERSCAN.scan(data, "a.py")


def test_a_forked_worker_scans_with_the_database_its_parent_compiled() -> None:
    key = google_key()
    data = f"k = '{key}'\n".encode()
    assert _secrets(HYPERSCAN.scan(data)) == [("google-api-key", 1, 6, key)]  # compiled here, before the fork
    with multiprocessing.get_context("fork").Pool(2) as pool:
        assert pool.map(_scan_in_child, [data] * 4) == [HYPERSCAN.scan(data, "a.py")] * 4


def test_detectors_pickle_for_spawned_workers() -> None:
    data = f"k = '{google_key()}'\n".encode()
    HYPERSCAN.scan(data)
    copy = pickle.loads(pickle.dumps(HYPERSCAN))
    assert copy.engine == "hyperscan" and copy.scan(data) == HYPERSCAN.scan(data)


def test_rules_that_open_with_a_keyword_do() -> None:
    # The Hyperscan engine tries such a rule's patterns only where a keyword starts: a pattern
    # that could match elsewhere would lose findings there. Each must open with a keyword's text.
    sre_parse = getattr(re, "_parser", None) or importlib.import_module("sre_parse")  # re._parser from 3.11
    sre_constants = getattr(re, "_constants", None) or importlib.import_module("sre_constants")
    for rule in Detector().rules:
        if not rule.opens_with_keyword:
            continue
        assert not rule.anchors, rule.id
        for pattern in rule.patterns:
            parsed = list(sre_parse.parse(pattern.pattern))
            while parsed and parsed[0][0] == sre_constants.SUBPATTERN:  # the (?P<secret>…) group
                parsed = list(parsed[0][1][-1]) + parsed[1:]
            opening = ""
            for op, value in parsed:
                if op != sre_constants.LITERAL:
                    break
                opening += chr(value)
            assert any(opening.lower().startswith(k.decode()) for k in rule.keywords), (rule.id, pattern.pattern)


def test_a_client_secrets_client_id_is_found_alike() -> None:
    # The client id is looked for in the text around the kept match (scanner.companion): both
    # engines hand the same text and span to it, even after non-ASCII text and in a utf-16 file.
    digits = random_chars(12, "0123456789")
    client_id = f"{digits}-{random_chars(32, 'abcdefghijklmnopqrstuvwxyz0123456789')}.apps.googleusercontent.com"
    secret = "GOCSPX-" + random_chars(28)
    text = f"# é 中文\nGOOGLE_CLIENT_ID={client_id}\nGOOGLE_CLIENT_SECRET={secret}\n"
    for data in (text.encode(), text.encode("utf-16")):
        [match] = _both(data).matches
        assert (match.secret, match.companion) == (secret, client_id)


# The pieces of names and bindings a rule's name-opening patterns (Rule.name_run) meet: runs of name
# characters holding one mention or several, a mention at the very start, query keys, non-ASCII.
_NAME_PIECES = st.sampled_from(["api_key", "API-KEY", "apiKey", "x.api.key", "$apiKey", "GEMINI_", "my_", "-",
                                ".", "$", " ", "\n", "=", ":", " = ", '"', "'", "(", ")", "setApiKey(", "?key=",
                                "&amp;key=", "name: ", "value: ", "setenv ", "ENV ", "set -gx ", "strcmp(", "${", "<key>", "<",
                                "</key><string>", "name=", "key = '", '\\"name\\": \\"', ",", "\u0131", "\u212a", "\xe9", "_KEY2", "abc",
                                "\u0130", "\xa0", "\u2028", "\u4e2d", "{", "&quot;", "||", " or "])
_NAME_TEXT = st.lists(st.one_of(_NAME_PIECES, st.text(alphabet=KEY_ALPHABET, min_size=1, max_size=45)),
                      max_size=30).map("".join)


_NAME_TABLE = [
    "setenv    GEMINI_API_KEY abcdefgh12345678\n",
    "x = strcmp(  api_key, \"abcdefgh12345678\")",
    "<key>  apiKey</key><string>abcdefgh12345678</string>",
    "- name: \"GEMINI_API_KEY\"\n  value: abcdefgh12345678\n",
    "  \"api_key\",abcdefgh12345678\n",
    'env: [{\\"name\\":  \\"API_KEY\\", \\"value\\": \\"abcdefgh12345678\\"}]',
    '<add key  =  "ApiKey" value="abcdefgh12345678" />',
    "ENV\tOPENAI_API_KEY=1 set -gx   my.api.key abcdefgh12345678",
    # Non-ASCII text: a Unicode letter in the name's run, a no-break space where `\\s` is allowed.
    "# caf\xe9\nm\xfcnchenApiKey = \"abcdefgh12345678\"",
    "<key>apiKey</key>\xa0<string>abcdefgh12345678</string>",
    "\u4e2d\u6587 config.api_key.value || 'abcdefgh12345678'",
]


@pytest.mark.parametrize("text", _NAME_TABLE)
def test_name_opening_patterns_find_each_binding_alike(text: str) -> None:
    assert _same_at_names(text, 0.0, len(text))  # a binding each pattern form is meant to find


@settings(max_examples=300, deadline=None)
@given(text=_NAME_TEXT, cut=st.floats(0, 1), length=st.integers(1, 200))
def test_name_opening_patterns_tried_only_at_the_names_find_what_a_search_of_the_windows_finds(
        text: str, cut: float, length: int) -> None:
    # Issue 20 (cost): such a pattern is tried once per mention, at the start of the name around it
    # (or where its bounded prefix ends there), not at every position of the windows; over the whole
    # text or a region of it, it finds the same.
    _same_at_names(text, cut, length)


def _same_at_names(text: str, cut: float, length: int) -> int:
    """How many windows a name-opening pattern matches in; asserts both ways find the same."""
    from scanner import detect

    tried = 0
    for rule in Detector().rules:
        if not rule.name_run:
            continue
        found = detect._anchor_hits(rule, text, text.lower())
        if found is None:
            continue
        spans = detect._merge_windows(found, rule.reach, len(text))
        names = detect._name_starts(rule, text, found)
        assert names is not None or any(c in text for c in detect._NAME_SURPRISES)
        for index, pattern in enumerate(rule.patterns) if names is not None else ():
            prefix = detect._prefixes(rule).get(index)
            if index not in detect._opening_with_name(rule) and prefix is None:
                continue
            for s, e in spans:
                at = [n for n in names if s <= n < e]
                tried += bool(list(pattern.finditer(text, s, e)))
                starts = at if prefix is None else detect._before(prefix, text, at, s)
                assert ([m.span() for m in detect._matches_at(pattern, text, starts, e)]
                        == [m.span() for m in pattern.finditer(text, s, e)])
        assert list(detect._text_candidates(rule, text, spans, names)) == list(detect._text_candidates(rule, text, spans))
        start = int(cut * len(text))
        end = min(len(text), start + length)
        assert (list(detect._Plan(rule, spans, names=names).candidates(text, start, end))
                == list(detect._Plan(rule, spans).candidates(text, start, end)))
    return tried


_SPACES = frozenset(c for c in map(chr, range(128)) if re.fullmatch(r"\s", c))


def test_a_pattern_is_tried_only_at_names_followed_by_what_its_rest_opens_with() -> None:
    # Issue 20 (cost): after its name, the assignment needs an operator (or a quote, a bracket, a
    # blank), the call an opening parenthesis; a name followed by neither is not tried for them.
    from scanner import detect
    from scanner.rules.generic import HARDCODED_API_KEY as rule

    first = detect._after_name(rule)
    assignment, call = first[1], first[2]
    assert {"=", ":", " ", "\t", '"', "]"} <= assignment and "(" not in assignment and "," not in assignment
    assert {"(", ".", " "} <= call and "=" not in call
    assert detect._NOT_ASCII in assignment and detect._NOT_ASCII in call  # `\\s` matches past ASCII too
    text = "x.apiKey(k); apiKey = k; apiKey, api.key$x\xa0"
    names = detect._name_starts(rule, text, detect._anchor_hits(rule, text, text.lower()) or [])
    assert names == [0, 13, 25, 33]
    assert [detect._followed_by(rule, text, name) for name in names] == ["(.", " ", ",", detect._NOT_ASCII + ".$"]
    tried = detect._tried_at(rule, text, names)
    assert (tried[1], tried[2]) == ([13, 33], [0, 13, 33])



@pytest.mark.parametrize(("prefix", "flags", "last"), [
    pytest.param(r"[\"']", 0, frozenset("\"'"), id="a quote"),
    pytest.param(r"name[ \t]{0,20}:[ \t]{0,20}[\"']?", re.I, frozenset(" \t:\"'"), id="optional tail"),
    pytest.param(r"<key>\s{0,40}", re.I, _SPACES | {">"}, id="a category"),
    pytest.param(r"(?:key|nAme)", re.I, frozenset("yYeE"), id="branches, either case"),
    pytest.param(r"(?:key|namE)", 0, frozenset("yE"), id="branches, as written"),
    pytest.param(r"x[^a-z]", re.I, frozenset(map(chr, range(128))) - frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"),
                 id="a negated class"),
    pytest.param(r"ab\b", 0, frozenset("b"), id="an assertion at the end"),
    pytest.param(r"^[ \t]{0,20}\"?", re.M, None, id="can be empty"),
    pytest.param(r"a.", 0, None, id="any character"),
])
def test_a_names_prefix_is_searched_only_after_a_character_it_can_end_with(
        prefix: str, flags: int, last: frozenset[str] | None) -> None:
    # _before skips a name whose character before it no match of the prefix can end with: the set
    # must hold every such character (or be None), or a key after that prefix would be missed.
    from scanner import detect

    parsed = detect._sre_parse.parse(prefix, flags)
    got, empty = detect._last_chars(list(parsed), flags)
    assert (None if empty else got) == last
    ending = re.compile(f"(?:{prefix})\\Z", flags)
    for c in map(chr, range(128)):
        for before in ("", "name  :", "<key>", "x", "nAm", "ke", "a"):
            if ending.search(before + c) is not None and last is not None:
                assert c in last, (prefix, before + c)


@pytest.mark.parametrize(("other", "located"), [("é", True), ("中文", True), ("\u212a", False), ("\u0130", False),
                                               ("é \u212a", False), ("中 \u0130", False)],
                         ids=["latin letter", "cjk", "kelvin sign", "dotted capital i", "latin and kelvin",
                              "cjk and dotted i"])
def test_hits_in_non_ascii_text_are_located_only_without_a_lower_case_surprise(other: str, located: bool) -> None:
    # Byte offsets become character offsets (the text's), unless the text holds a character whose
    # lower case is ASCII or two characters: there the Python engine's lower-cased search may see
    # anchors the bytes do not hold, and the detector searches as it does. Hyperscan's pass tells
    # the Kelvin sign itself; the text is looked at for the dotted capital I, and, with the Python
    # engine's hits, for both.
    from scanner import detect

    data = f"# {other}\n{'x' * 4000}\napi_key = \"{random_chars(24)}\"\n".encode()
    text = content.decode(data)
    hyperscan_hits = prefilter.build(HYPERSCAN.rules, "hyperscan").text(data)
    assert hyperscan_hits is not None and hyperscan_hits.kelvin == ("\u212a" in other)
    assert (detect._in_text(hyperscan_hits, data, text) is not None) is located
    unknown = hyperscan_hits._replace(kelvin=None)  # as another engine's hits: the text is looked at
    assert (detect._in_text(unknown, data, text) is not None) is located
    _both(data)


def _keys_text(rng_lines: int, one_line: int) -> str:
    """Past one region (64 KB): lines binding keys several ways, some silenced, some Google keys bound
    to api-key names (two rules' candidates over one span), then a minified line of ONE_LINE keys."""
    lines = []
    for i in range(rng_lines):
        kind = i % 5
        if kind == 0:
            lines.append(f'api_key = "{google_key()}"\n')
        elif kind == 1:
            lines.append(f'apiKey: "{random_chars(24)}",  // keysentry:allow\n')
        elif kind == 2:
            lines.append(f"export GEMINI_API_KEY={random_chars(32)}\n")
        elif kind == 3:
            lines.append(f'client.setApiKey("{random_chars(20)}"); url = "https://x.example/v1?key={random_chars(30)}"\n')
        else:
            lines.append(f"# {'filler ' * 40}\n")
    minified = ",".join(f'"apiKey{i % 7}":"{random_chars(24)}","k":"{google_key()}"' for i in range(one_line))
    return "".join(lines) + "var c={" + minified + "};\n"


@pytest.mark.parametrize(("lines", "one_line"), [(600, 150), (400, 3000)], ids=["listed whole", "past the cap"])
def test_a_region_judged_in_batches_lists_what_it_lists_judged_whole(
        monkeypatch: pytest.MonkeyPatch, lines: int, one_line: int) -> None:
    # Issue 20 (cost): a region's matches are judged a batch at a time, cut where no candidate reaches
    # across, until MAX_MATCHES are listed. Batches of one match each list the same as one batch of
    # all: the same findings, silenced ones and counts; past the cap the same first 1,000 findings.
    from scanner import detect

    data = _keys_text(lines, one_line).encode()
    scanned = {}
    for batch in (1, 7, 1 << 30):
        monkeypatch.setattr(detect, "_BATCH", batch)
        scanned[batch] = Detector().scan(data, "config.js")
    whole = scanned[1 << 30]
    assert len(whole.matches) > 500 and whole.suppressed
    for batch in (1, 7):
        assert scanned[batch].matches == whole.matches
        assert scanned[batch].crowded_line == whole.crowded_line
        if not whole.crowded_line:
            assert (scanned[batch].allowed, scanned[batch].suppressed) == (whole.allowed, whole.suppressed)
