"""Encoded values (issue 18 §3): a key base64-, hex-, percent- or escape-encoded is found in what
it decodes to, at the place its encoded form starts, with the chain of decodings; the gate keeps
decoding off the common case, and a decoded value is judged by the same rules and filters.

Each row of CASES is one way a secret is encoded in the wild, built at test time (keys are random,
never committed), scanned by both engines, which must agree.
"""
from __future__ import annotations

import base64
import codecs
import html
import json
import os
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner import decode, prefilter
from scanner.detect import Detector, Scanned
from scanner.models import make_finding
from scanner.rules import CONTENT_RULES
from tests.conftest import git, google_key
from tests.test_history import run_scan
from tests.test_rules_google import client_secret, gemini_key, service_account_json

HYPERSCAN = Detector(engine_name="hyperscan")
PYTHON = Detector(engine_name="python")


def _both(data: bytes) -> Scanned:
    """What both engines find in DATA, asserted equal."""
    found = PYTHON.scan_content(data)
    assert HYPERSCAN.scan_content(data) == found
    return found


def b64(text: str | bytes) -> str:
    return base64.b64encode(text.encode() if isinstance(text, str) else text).decode()


def b64url(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def wrapped(encoded: str, width: int, indent: str = "") -> str:
    return "\n".join(indent + encoded[i:i + width] for i in range(0, len(encoded), width))


def sa_secret(sa: str) -> str:
    """The secret the rule reports in key file SA as it is (its private key as the JSON writes it)."""
    m, = Detector().scan_content(sa.encode()).matches
    return m.secret


def escaped(text: str, form: str) -> str:
    return "".join(form % ord(c) for c in text)


@dataclass(frozen=True)
class Case:
    id: str
    # () -> (file content, the secret, its rule, the decoding chain, (line, column) of the encoded run's start)
    build: Callable[[], tuple[str, str, str, tuple[str, ...], tuple[int, int]]]


def _k8s_secret() -> tuple[str, str, str, tuple[str, ...], tuple[int, int]]:
    key = google_key()
    value = b64(f"GEMINI_API_KEY={key}\n")
    text = f"apiVersion: v1\nkind: Secret\ndata:\n  app.env: {value}\n"
    return text, key, "google-api-key", ("base64",), (4, 12)


def _ci_variable_service_account() -> tuple[str, str, str, tuple[str, ...], tuple[int, int]]:
    sa = service_account_json()
    secret = sa_secret(sa)
    return f"GCP_SA_KEY_B64={b64(sa)}\n", secret, "gcp-service-account-key", ("base64",), (1, 16)


def _terraform_state() -> tuple[str, str, str, tuple[str, ...], tuple[int, int]]:
    sa = service_account_json()
    state = json.dumps({"resources": [{"type": "google_service_account_key", "instances": [
        {"attributes": {"private_key": b64(sa), "public_key_type": "TYPE_X509_PEM_FILE"}}]}]}, indent=2)
    line = next(i for i, ln in enumerate(state.splitlines(), 1) if '"private_key"' in ln)
    column = state.splitlines()[line - 1].index(b64(sa)[:8]) + 1
    return state, sa_secret(sa), "gcp-service-account-key", ("base64",), (line, column)


def _gnu_base64_wrapped() -> tuple[str, str, str, tuple[str, ...], tuple[int, int]]:
    # `base64 key.json` wraps at 76 columns.
    sa = service_account_json()
    return (f"export GOOGLE_CREDENTIALS_B64='\n{wrapped(b64(sa), 76)}\n'\n", sa_secret(sa),
            "gcp-service-account-key", ("base64",), (2, 1))


def _yaml_block_scalar() -> tuple[str, str, str, tuple[str, ...], tuple[int, int]]:
    key = google_key()
    body = wrapped(b64(f'{{"maps": {{"api_key": "{key}", "region": "europe-west1", "retries": 3}}}}'), 64, "    ")
    return f"config:\n  settings.json: |\n{body}\n  other: 1\n", key, "google-api-key", ("base64",), (3, 5)


def _base64url_unpadded() -> tuple[str, str, str, tuple[str, ...], tuple[int, int]]:
    key = client_secret()
    # `~~~` encodes to `fn5-`: a run without `-` or `_` would be base64 as well.
    return f"state={b64url('~~~client_secret=' + key + '&x=1')}\n", key, "google-oauth-client-secret", \
        ("base64url",), (1, 7)


def _hex() -> tuple[str, str, str, tuple[str, ...], tuple[int, int]]:
    key = gemini_key()
    return f"const blob = \"{('k=' + key).encode().hex()}\";\n", key, "google-gemini-key", ("hex",), (1, 15)


def _hex_upper() -> tuple[str, str, str, tuple[str, ...], tuple[int, int]]:
    key = google_key()
    return f"KEY_HEX={key.encode().hex().upper()}\n", key, "google-api-key", ("hex",), (1, 9)


def _percent() -> tuple[str, str, str, tuple[str, ...], tuple[int, int]]:
    key = google_key()
    return f"url = \"https://example.com/?q={escaped(key, '%%%02X')}\"\n", key, "google-api-key", \
        ("percent",), (1, 31)


def _backslash_u() -> tuple[str, str, str, tuple[str, ...], tuple[int, int]]:
    key = google_key()
    return f'String k = "{escaped(key, chr(92) + "u%04x")}";\n', key, "google-api-key", ("escape",), (1, 13)


def _backslash_x() -> tuple[str, str, str, tuple[str, ...], tuple[int, int]]:
    key = google_key()
    return f'static const char *k = "{escaped(key, chr(92) + "x%02x")}";\n', key, "google-api-key", \
        ("escape",), (1, 25)


def _html_entities() -> tuple[str, str, str, tuple[str, ...], tuple[int, int]]:
    key = google_key()
    return f'<meta name="k" content="{escaped(key, "&#%d;")}">\n', key, "google-api-key", ("html",), (1, 25)


def _html_escaped_service_account() -> tuple[str, str, str, tuple[str, ...], tuple[int, int]]:
    # A key file shown in an HTML page or a notebook's HTML output: its quotes are `&quot;`.
    sa = service_account_json()
    page = f"<html><body><pre>\n{html.escape(sa)}\n</pre></body></html>\n"
    line = next(i for i, ln in enumerate(page.splitlines(), 1) if "-----BEGIN" in ln)
    column = page.splitlines()[line - 1].index("-----BEGIN") + 1
    return page, sa_secret(sa), "gcp-service-account-key", ("html",), (line, column)


def _form_encoded_service_account() -> tuple[str, str, str, tuple[str, ...], tuple[int, int]]:
    # A key file posted as a form field, recorded in a test cassette.
    sa = json.dumps(json.loads(service_account_json()))
    body = "credentials=" + urllib.parse.quote_plus(sa)
    column = body.index("-----BEGIN") + 1
    return f"body: {body}\n", sa_secret(sa), "gcp-service-account-key", ("percent",), (1, column + 6)


def _double_base64() -> tuple[str, str, str, tuple[str, ...], tuple[int, int]]:
    # A base64 key file put in a Kubernetes Secret's `data:`, which base64-encodes it again.
    sa = service_account_json()
    return (f"data:\n  GCP_SA_KEY_B64: {b64(b64(sa))}\n", sa_secret(sa), "gcp-service-account-key",
            ("base64", "base64"), (2, 19))


def _base64_of_html_escaped_key_file() -> tuple[str, str, str, tuple[str, ...], tuple[int, int]]:
    # What a decoding holds is gated again: here by the marker it holds as it is (`private_key`).
    sa = service_account_json()
    return f"page: {b64(html.escape(sa))}\n", sa_secret(sa), "gcp-service-account-key", ("base64", "html"), (1, 7)


def _powershell_encoded_command() -> tuple[str, str, str, tuple[str, ...], tuple[int, int]]:
    # `powershell -EncodedCommand` takes the base64 of the command's UTF-16LE text.
    key = google_key()
    command = f'$env:GOOGLE_API_KEY = "{key}"; ./deploy.ps1'
    return (f"powershell -NoProfile -EncodedCommand {b64(command.encode('utf-16-le'))}\n", key, "google-api-key",
            ("base64",), (1, 39))


CASES = [
    Case("kubernetes secret data", _k8s_secret),
    Case("powershell encoded command", _powershell_encoded_command),
    Case("ci variable holding a key file", _ci_variable_service_account),
    Case("terraform state private_key", _terraform_state),
    Case("base64 wrapped at 76 columns", _gnu_base64_wrapped),
    Case("yaml block scalar", _yaml_block_scalar),
    Case("base64url without padding", _base64url_unpadded),
    Case("hex", _hex),
    Case("hex in capitals", _hex_upper),
    Case("percent-encoded", _percent),
    Case("\\u escapes", _backslash_u),
    Case("\\x escapes", _backslash_x),
    Case("html character references", _html_entities),
    Case("html-escaped key file", _html_escaped_service_account),
    Case("form-encoded key file", _form_encoded_service_account),
    Case("base64 of base64", _double_base64),
    Case("base64 of an html-escaped key file", _base64_of_html_escaped_key_file),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_an_encoded_secret_is_found_where_its_encoding_starts(case: Case) -> None:
    text, secret, rule, chain, (line, column) = case.build()
    found = _both(text.encode())
    assert [(m.rule_id, m.secret, m.decoded) for m in found.matches] == [(rule, secret, chain)]
    m = found.matches[0]
    # The place is where the encoded form of the secret starts: on its run's line, in its run.
    run_line = text.splitlines()[m.line - 1]
    assert m.line >= line and (m.line > line or m.column >= column), (m.line, m.column)
    assert run_line[m.column - 1:].strip(), "the column points into the encoded run"


def test_a_base64_run_points_at_the_group_holding_the_secret() -> None:
    key = google_key()
    plain = "x" * 300 + f" key={key}"
    value = b64(plain)
    m, = _both(f"v: {value}\n".encode()).matches
    start = plain.index(key)
    assert (m.line, m.column) == (1, 4 + start // 3 * 4)


# --- wrapped over lines: a line break anywhere in a marker's encoding ------------------------------

# How a wrapped block breaks its lines: LF or CRLF, with the next line's indentation (a YAML block
# scalar, a Kubernetes Secret's `data: |`) or none (PEM, `base64`, MIME).
_BREAKS = [pytest.param("", "\n", id="lf"), pytest.param("  ", "\n", id="yaml indent"),
           pytest.param("\t", "\r\n", id="tab crlf"), pytest.param("    ", "\r\n", id="indent crlf")]


def _block(encoded: str, width: int, indent: str, newline: str) -> bytes:
    lines = (indent + encoded[i:i + width] for i in range(0, len(encoded), width))
    return ("data: |" + newline + newline.join(lines) + newline + "other: 1" + newline).encode()


@pytest.mark.parametrize(("indent", "newline"), _BREAKS)
def test_every_break_in_every_alignment_of_every_marker_reaches_the_decoder(indent: str, newline: str) -> None:
    # The marker's encoding slides across the first line break one character at a time, at each of
    # the three byte alignments: every break position inside (and around) every needle.
    rules = CONTENT_RULES
    table, markers = decode.needles(rules), decode.markers(rules)
    width = 32
    for marker in markers:
        for before in range(0, width * 3 // 4 + 3):
            data = _block(b64(b"x" * before + marker + b"y" * 30), width, indent, newline)
            gates = {}
            for engine in ("hyperscan", "python"):
                hits = prefilter.build(rules, engine).text(data)
                gates[engine] = set(hits.encoded) if hits is not None else set()
                hit = [table[i] for i in gates[engine]]
                runs = decode.runs(data, decode.gate(hit, data, markers), hit, markers, decode.Budget(len(data)))
                assert any(marker in run.data for run in runs), (marker, before, engine)
            # Hyperscan may report a needle wholly on the short last line, which the decoder skips.
            assert gates["python"] <= gates["hyperscan"]


@pytest.mark.parametrize(("indent", "newline"), _BREAKS)
@pytest.mark.parametrize("width", [64, 76])
def test_a_google_key_wrapped_inside_its_prefix_is_found_where_its_group_starts(indent: str, newline: str,
                                                                               width: int) -> None:
    key = google_key()
    # "AIza" starts at encoded character ~4/3 * (before + 1): across the first break, each alignment.
    for before in range(width * 3 // 4 - 7, width * 3 // 4 + 3):
        data = _block(b64("x" * before + " " + key + "\n" + "y" * 40), width, indent, newline)
        found = _both(data)
        assert [(m.rule_id, m.secret, m.decoded) for m in found.matches] == \
            [("google-api-key", key, ("base64",))], before
        group = (before + 1) // 3 * 4  # the encoded group holding the key's first byte
        assert (found.matches[0].line, found.matches[0].column) == (2 + group // width, len(indent) + group % width + 1)


def _split_placeholder() -> str:
    # A placeholder key's base64, its prefix cut by the break: the gate opens, the rules say no.
    encoded = b64("x" * 44 + " " + "AIza" + "X" * 35 + "\n")
    return _block(encoded, 60, "  ", "\n").decode()


def _split_needle_then_prose() -> str:
    # A line that ends with a needle's first part, the next with prose: no needle, nothing decoded.
    return "  " + b64(os.urandom(42))[:56] + "QUl\n  is not the rest of it\n"


# --- text stored as UTF-16 or UTF-32 --------------------------------------------------------------

# How text is stored two or four bytes a character: with a BOM (Windows PowerShell, .reg exports,
# Visual Studio's .cs/.resx), or without one, known by its NULs every other byte.
_WIDE = [pytest.param(lambda t: t.encode("utf-16"), id="utf-16le bom"),
         pytest.param(lambda t: codecs.BOM_UTF16_BE + t.encode("utf-16-be"), id="utf-16be bom"),
         pytest.param(lambda t: t.encode("utf-16-le"), id="utf-16le"),
         pytest.param(lambda t: t.encode("utf-16-be"), id="utf-16be"),
         pytest.param(lambda t: t.encode("utf-32"), id="utf-32")]


@pytest.mark.parametrize("store", _WIDE)
@pytest.mark.parametrize("case", [c for c in CASES if c.id in (
    "kubernetes secret data", "ci variable holding a key file", "yaml block scalar", "hex", "\\u escapes",
    "html character references", "base64 of base64")], ids=lambda c: c.id)
def test_an_encoded_secret_in_utf16_text_is_found_at_its_line_and_column(case: Case,
                                                                         store: Callable[[str], bytes]) -> None:
    text, secret, rule, chain, _ = case.build()
    text = text.replace("\n", "\r\n")  # as Windows writes it
    expected = _both(text.encode())
    found = _both(store(text))
    assert [(m.rule_id, m.secret, m.decoded) for m in found.matches] == [(rule, secret, chain)]
    # The same place as in the same text stored as UTF-8: lines and columns count characters.
    assert [(m.line, m.column) for m in found.matches] == [(m.line, m.column) for m in expected.matches]


@pytest.mark.parametrize("store", _WIDE)
def test_utf16_text_keeps_its_plain_keys_and_stays_quiet_on_placeholders(store: Callable[[str], bytes]) -> None:
    key = google_key()
    plain = f'Windows Registry Editor Version 5.00\r\n\r\n[HKEY_CURRENT_USER\\Software\\App]\r\n"ApiKey"="{key}"\r\n'
    assert [(m.secret, m.line, m.column, m.decoded) for m in _both(store(plain)).matches] == [(key, 4, 11, ())]
    for quiet in (f'$k = "{b64("GOOGLE_API_KEY=AIza" + "X" * 35)}"\r\n',
                  "blob: " + b64(os.urandom(3000)) + "\r\n", f'"ApiKey"="{escaped("AIza", chr(92) + "u%04x")}"\r\n'):
        assert _both(store(quiet)).matches == ()


@pytest.mark.parametrize("before", range(3))
def test_a_key_in_base64_of_utf16_text_is_at_the_group_holding_its_first_byte(before: int) -> None:
    key = google_key()
    command = "x" * before + f'$k = "{key}"'
    m, = _both(f"run -enc {b64(command.encode('utf-16-le'))}\n".encode()).matches
    first = (before + 6) * 2  # the key's first byte in the UTF-16LE text
    assert (m.secret, m.line, m.column) == (key, 1, 10 + first // 3 * 4)


def test_an_encoded_secret_in_text_with_utf16_stretches_or_nuls_is_found() -> None:
    # A build log: an ASCII header, then what a Windows tool wrote in UTF-16; a file with a stray NUL.
    key, other = google_key(), google_key()
    log = b"Build started 12:00\r\n" + f'set APP_CONFIG={b64("GOOGLE_API_KEY=" + key)}\r\n'.encode("utf-16-le")
    stray = f"header\0\nk: {b64('k=' + other)}\n".encode()
    for data, secret, line in ((log, key, 2), (stray, other, 2)):
        assert [(m.secret, m.line, m.decoded) for m in _both(data).matches] == [(secret, line, ("base64",))]


def test_little_numbers_with_nuls_between_are_no_utf16_text() -> None:
    # An array of 16-bit integers has a NUL every other byte too; its low bytes are no text.
    data = bytes(b for i in range(4000) for b in (i % 7 + 1, 0))
    assert _both(data).matches == ()


# --- what must stay quiet -------------------------------------------------------------------------


def _nested(key: str, depth: int) -> str:
    value = "k=" + key
    for _ in range(depth):
        value = b64(value)
    return value


def _fp_rows() -> list[Any]:
    placeholder = "AIza" + "X" * 35
    return [
        pytest.param(b64(f"GEMINI_API_KEY={placeholder}\n"), id="a placeholder, encoded"),
        pytest.param(b64("Use a key that starts with AIza from the console: " + "x" * 40), id="prose naming the prefix"),
        pytest.param("\n".join(b64(os.urandom(3000))[i:i + 76] for i in range(0, 4000, 76)), id="random base64 blob"),
        pytest.param(os.urandom(2000).hex(), id="random hex"),
        pytest.param("sha256:" + os.urandom(32).hex() + "\n" + "md5: " + os.urandom(16).hex(), id="digests"),
        pytest.param(b64(b64(b64("k=" + google_key()))), id="three encodings deep: past the depth"),
        pytest.param(_nested(google_key(), 10), id="ten encodings deep: past the depth, within the budget"),
        pytest.param(escaped("AIza", "%%%02x") + " is how the prefix reads percent-encoded", id="an encoded prefix alone"),
        pytest.param(html.escape('{"private_key": "not a key", "type": "x"}'), id="escaped json without a key"),
        pytest.param(_split_placeholder(), id="a placeholder, wrapped inside its prefix"),
        pytest.param(_split_needle_then_prose(), id="a needle's first part ends a line of prose"),
    ]


@pytest.mark.parametrize("text", _fp_rows())
def test_what_decodes_to_no_secret_is_not_reported(text: str) -> None:
    assert _both(text.encode()).matches == ()


def test_a_secret_found_as_it_is_is_not_found_again_in_its_encoding() -> None:
    key = google_key()
    found = _both(f"KEY={key}\nKEY_B64={b64('KEY=' + key)}\n".encode())
    assert [(m.line, m.decoded) for m in found.matches] == [(1, ())]


def test_the_depth_is_a_setting_and_zero_turns_decoding_off() -> None:
    key = google_key()
    once, twice = f"v={b64('k=' + key)}\n".encode(), f"v={b64(b64('k=' + key))}\n".encode()
    assert [m.decoded for m in Detector(decode_depth=1).scan_content(once).matches] == [("base64",)]
    assert Detector(decode_depth=1).scan_content(twice).matches == ()
    assert Detector(decode_depth=0).scan_content(once).matches == ()


def test_an_inline_marker_on_the_encoded_line_silences_it() -> None:
    key = google_key()
    found = _both(f"v: {b64('k=' + key)}  # keysentry:allow\n".encode())
    assert found.matches == () and [(m.suppressed, m.decoded) for m in found.suppressed] == [("inline", ("base64",))]


def test_an_allow_regex_applies_to_the_decoded_secret() -> None:
    import re

    key = google_key()
    found = Detector(allow=(re.compile(re.escape(key)),)).scan_content(f"v: {b64('k=' + key)}\n".encode())
    assert found.matches == () and [m.suppressed for m in found.suppressed] == ["config"]


def test_a_decoded_secret_keeps_the_fingerprint_of_the_secret() -> None:
    key = google_key()
    plain, = Detector().scan_content(f"k={key}\n".encode()).matches
    encoded, = Detector().scan_content(f"k={b64('k=' + key)}\n".encode()).matches
    assert make_finding(encoded, "a.yaml").fingerprint == make_finding(plain, "a.yaml").fingerprint
    assert make_finding(encoded, "a.yaml").decoded == ("base64",)


# --- the gate --------------------------------------------------------------------------------------


def test_the_markers_come_from_the_rules() -> None:
    found = decode.markers(CONTENT_RULES)
    for marker in (b"AIza", b"AQ.Ab", b"GOCSPX-", b"ya29.", b"1//0", b"private_key", b"PRIVATE_KEY"):
        assert marker in found
    assert b"key=AIza" not in found  # holds AIza: redundant
    # A rule turned off takes its markers with it.
    assert b"AIza" not in decode.markers(tuple(r for r in CONTENT_RULES if r.id not in
                                                 ("google-api-key", "google-chat-webhook")))


@settings(max_examples=200, deadline=None)
@given(before=st.binary(max_size=12), after=st.binary(min_size=3, max_size=12),
       marker=st.sampled_from(decode.markers(CONTENT_RULES)))
def test_every_base64_encoding_of_a_marker_holds_a_needle(before: bytes, after: bytes, marker: bytes) -> None:
    table = [n for n in decode.needles(CONTENT_RULES) if n.kind == "base64"]
    encoded = base64.b64encode(before + marker + after)
    hits = [n for n in table if n.text in encoded]
    assert hits
    # ... and the needle's offset puts a group boundary where the encoding has one.
    assert any((encoded.find(n.text) - n.offset) % 4 == 0 for n in hits)


def test_the_engines_see_the_same_gate_in_runs_and_escapes() -> None:
    key = google_key()
    rules = CONTENT_RULES
    table = decode.needles(rules)
    data = (f"a {b64('k=' + key)}\nb {('k=' + key).encode().hex()}\nc {escaped(key, '&#%d;')}\n"
            "short QUl6Y\n").encode()
    python = prefilter.build(rules, "python").text(data)
    hyper = prefilter.build(rules, "hyperscan").text(data)
    assert python is not None and hyper is not None
    # The Python engine looks for base64 and hex needles only inside runs long enough to matter;
    # Hyperscan reports the short one too, and the decoder skips it.
    assert set(python.encoded) <= set(hyper.encoded)
    extra = [table[i].text for i in set(hyper.encoded) - set(python.encoded)]
    assert extra == [b"QUl6Y"]


_ESCAPED_QUOTE_ROWS = [
    pytest.param(b"&quot;x&quot; Kaizaki private_KEY xPrivate_Keyy \n", id="markers in other cases, html"),
    pytest.param(b"%22 aizaiza AIZA 1//0 1//01//0\n", id="overlapping and repeated markers, percent"),
    pytest.param(b"\\u0022 \\x22 &#34; &#x22; nothing marked here\n", id="escaped quotes without a marker"),
    pytest.param(b"PRIVATE_KEY private_key\n", id="markers without an escaped quote"),
]


@pytest.mark.parametrize("data", _ESCAPED_QUOTE_ROWS)
def test_hyperscan_reports_the_markers_the_escaped_quotes_gate_needs_where_lowering_finds_them(data: bytes) -> None:
    # The gate of an escaped quote needs a marker as it is, in any case, and its runs start at each
    # one: Hyperscan's one pass says where they are, and gate and runs then do no search of their own.
    rules = CONTENT_RULES
    table, markers = decode.needles(rules), decode.markers(rules)
    data = data * 3 + b"filler " * 200 + data
    hits = prefilter.build(rules, "hyperscan").text(data)
    assert hits is not None and hits.markers is not None
    lowered = data.lower()
    assert hits.markers == {m: found for m in decode.lower_markers(markers)
                            if (found := [i for i in range(len(data)) if lowered.startswith(m, i)])}
    hit = [table[i] for i in hits.encoded]
    assert decode.gate(hit, data, markers, hits.markers) == decode.gate(hit, data, markers)
    kinds = decode.gate(hit, data, markers)
    assert [(r.kind, r.data) for r in decode.runs(data, kinds, hit, markers, decode.Budget(len(data)), hits.markers)] \
        == [(r.kind, r.data) for r in decode.runs(data, kinds, hit, markers, decode.Budget(len(data)))]
    _both(data)


def test_the_long_runs_are_what_the_regex_finds() -> None:
    import re

    data = (b"ab " + b"x" * 23 + b" " + b"A/+_-" * 10 + b"\n" + os.urandom(3000) + b"y" * 24 + b"\n"
            + b"z" * (decode.RUN_MAX + 1) + b"\n" + b"w" * decode.RUN_MAX)
    assert decode.long_runs(data) == [run for run in re.findall(rb"[A-Za-z0-9+/_-]{24,}", data)
                                      if len(run) <= decode.RUN_MAX]


def test_a_key_in_a_run_too_long_for_a_value_is_not_decoded_by_either_engine() -> None:
    # An image inlined as base64 (a notebook's plot): its runs are not values anyone wrote.
    key = google_key()
    image = b64(os.urandom(decode.RUN_MAX - decode.RUN_MAX % 3))  # no padding: one run with the key's
    assert _both(f"png: {image}{b64('k=' + key + ' ')}\n".encode()).matches == ()
    assert [m.decoded for m in _both(f"png: {image}\nk: {b64('k=' + key)}\n".encode()).matches] == [("base64",)]


@pytest.mark.parametrize("module", ["scanner/detect.py", "scanner/prefilter.py", "scanner/report/html.py",
                                    "scanner/report/templates/report.js", "tests/conftest.py"])
def test_plain_code_never_reaches_the_decoder(module: str) -> None:
    source = (Path(__file__).parent.parent / module).read_bytes()
    table, markers = decode.needles(CONTENT_RULES), decode.markers(CONTENT_RULES)
    for engine in ("hyperscan", "python"):
        hits = prefilter.build(CONTENT_RULES, engine).text(source)
        hit = [table[i] for i in hits.encoded] if hits is not None else []
        kinds = decode.gate(hit, source, markers)
        assert list(decode.runs(source, kinds, hit, markers, decode.Budget(len(source)))) == []


# --- every mode, every report ----------------------------------------------------------------------


def test_every_mode_reports_the_decoding_chain(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = google_key()
    body = f"apiVersion: v1\nkind: Secret\ndata:\n  app.env: {b64('GEMINI_API_KEY=' + key)}\n"
    (repo / "secret.yaml").write_text(body)
    # Another key, its base64 wrapped at 64 columns with the break inside the encoding of `AIza`.
    other = google_key()
    (repo / "wrapped.yaml").write_bytes(_block(b64("x" * 45 + " " + other + "\n"), 64, "  ", "\n"))
    git(repo, "add", "-A")
    reports = {}
    _, reports["staged"] = run_scan(capsys, "--staged", str(repo))
    git(repo, "commit", "-q", "-m", "a secret")
    _, reports["worktree"] = run_scan(capsys, str(repo))
    _, reports["history"] = run_scan(capsys, "--history", str(repo))
    for mode, data in reports.items():
        assert [(f["rule_id"], f["path"], f["line"], f.get("decoded")) for f in data["findings"]] == \
            [("google-api-key", "secret.yaml", 4, ["base64"]), ("google-api-key", "wrapped.yaml", 2, ["base64"])], mode
        assert key not in json.dumps(data) and other not in json.dumps(data)
    assert len({data["findings"][0]["fingerprint"] for data in reports.values()}) == 1
    assert len({data["findings"][1]["fingerprint"] for data in reports.values()}) == 1


def test_standard_input_and_the_reports_say_it_was_decoded(monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    import io
    import sys

    from scanner.cli import main

    key = google_key()
    payload = f"token: {(b64(b64('k=' + key)))}\n".encode()
    outputs = {}
    for fmt in ("json", "text", "markdown", "sarif", "github", "gitlab"):
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(payload)))
        capsys.readouterr()
        assert main(["scan", "-", "--format", fmt]) == 1
        outputs[fmt] = capsys.readouterr().out
        assert key not in outputs[fmt]
    assert json.loads(outputs["json"])["findings"][0]["decoded"] == ["base64", "base64"]
    assert "(decoded: base64 > base64)" in outputs["text"]
    assert "decoded: base64 &gt; base64" in outputs["markdown"]
    result, = json.loads(outputs["sarif"])["runs"][0]["results"]
    assert result["properties"]["decoded"] == ["base64", "base64"]
    assert "endColumn" not in result["locations"][0]["physicalLocation"]["region"]
    assert "(decoded: base64 &gt; base64)" in outputs["github"] or "(decoded: base64 > base64)" in outputs["github"]
    assert "(decoded: base64 > base64)" in json.loads(outputs["gitlab"])["vulnerabilities"][0]["description"]


def test_the_html_report_names_the_decoding(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from scanner.cli import main

    (tmp_path / "k.yaml").write_text(f"v: {b64('k=' + google_key())}\n")
    out = tmp_path / "report.html"
    assert main(["scan", str(tmp_path), "--format", "html", "--output", str(out)]) == 1
    assert 'class="decoded">decoded: base64</small>' in out.read_text()


@pytest.mark.parametrize(("text", "said"), [
    ("decode-depth = 0\n", "`decode-depth` lowered from 2 to 0"),
    ("decode-depth = 1\n", "`decode-depth` lowered from 2 to 1"),
])
def test_a_range_that_decodes_less_is_a_suppression_change(repo: Path, capsys: pytest.CaptureFixture[str],
                                                           text: str, said: str) -> None:
    from scanner.cli import main
    from tests.test_policy import commit_file

    base = commit_file(repo, "README.md", "hi\n")
    (repo / "secret.yaml").write_text(f"data:\n  k: {b64(b64('k=' + google_key()))}\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "a secret")
    commit_file(repo, ".keysentry.toml", text, "quietly")
    capsys.readouterr()
    code = main(["scan", "--format", "json", "--range", f"{base}..HEAD", str(repo)])
    data = json.loads(capsys.readouterr().out)
    [change] = [f for f in data["findings"] if f["rule_id"] == "suppression-change"]
    assert code == 1 and said in change["secret"]
    assert "would hide 1 finding of this change: google-api-key at secret.yaml" in change["secret"]
    # The base's policy still decodes it.
    assert [f["decoded"] for f in data["findings"] if f["rule_id"] == "google-api-key"] == [["base64", "base64"]]


def test_a_config_sets_the_depth(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = google_key()
    (tmp_path / "k.yaml").write_text(f"v: {b64(b64('k=' + key))}\n")
    code, data = run_scan(capsys, str(tmp_path))
    assert code == 1 and data["findings"][0]["decoded"] == ["base64", "base64"]
    (tmp_path / ".keysentry.toml").write_text("decode-depth = 1\n")
    assert run_scan(capsys, str(tmp_path))[0] == 0
    (tmp_path / ".keysentry.toml").write_text("decode-depth = 9\n")
    capsys.readouterr()
    from scanner.cli import main

    assert main(["scan", str(tmp_path)]) == 2
    assert "decode-depth" in capsys.readouterr().err


# --- compiled files (issue 18 §3b) -----------------------------------------------------------------


def pyc(source: str) -> bytes:
    """SOURCE compiled as `py_compile` writes it (the running Python's magic number)."""
    import importlib.util
    import marshal

    return importlib.util.MAGIC_NUMBER + b"\0" * 12 + marshal.dumps(compile(source, "settings.py", "exec"))


def sqlite_db(*rows: tuple[str, str, str]) -> bytes:
    """A database file (made in memory) holding ROWS of three text columns."""
    import sqlite3

    con = sqlite3.connect(":memory:")
    con.execute("create table config (name text, value text, note text)")
    con.executemany("insert into config values (?, ?, ?)", rows)
    con.commit()
    return con.serialize()


def _compiled_rows() -> list[Any]:
    key, other, sa = google_key(), google_key(), service_account_json()
    return [
        # The key's next byte is marshal's `N` (None): a text pattern's end test lost it.
        pytest.param(lambda: (pyc(f"KEY = '{key}'\nX = None\n"), [("google-api-key", key)]), id="pyc constant before None"),
        pytest.param(lambda: (pyc(f"SA = {sa!r}\n"), [("gcp-service-account-key", sa_secret(sa))]), id="pyc key file constant"),
        # The key runs into the next column's text, after the previous column's.
        pytest.param(lambda: (sqlite_db(("maps", key, "production"), ("geo", other, "staging")),
                              [("google-api-key", key), ("google-api-key", other)]), id="sqlite text cells"),
        pytest.param(lambda: (sqlite_db(("sa", sa, "deploy")), [("gcp-service-account-key", sa_secret(sa))]),
                     id="sqlite key file cell"),
        pytest.param(lambda: (sqlite_db(("cfg", b64("k=" + key), "encoded")), [("google-api-key", key)]),
                     id="sqlite base64 cell"),
        # A value longer than a page: its end is on overflow pages.
        pytest.param(lambda: (sqlite_db(("cache", "x " * 9000 + key + " tail", "n")), [("google-api-key", key)]),
                     id="sqlite cell on overflow pages"),
        pytest.param(lambda: (b"\x7fELF\x02\x01\x01" + b"\0" * 20 + key.encode() + b"Next", [("google-api-key", key)]),
                     id="fixed-length token in any binary"),
        # ... what must stay quiet.
        pytest.param(lambda: (sqlite_db(*((f"n{i}", b64(os.urandom(60)), "x") for i in range(200))), []),
                     id="sqlite random base64 cells"),
        pytest.param(lambda: (pyc("import os\nNAME = 'settings for the application server'\n" * 20), []),
                     id="pyc without secrets"),
        pytest.param(lambda: (b"\x7fELF" + b"\0" * 20 + b64(os.urandom(3000)).encode(), []),
                     id="base64 run in a binary"),
    ]


@pytest.mark.parametrize("build", _compiled_rows())
def test_a_key_in_a_compiled_file_is_found_whatever_follows_it(build: Callable[[], tuple[bytes, list[tuple[str, str]]]]) -> None:
    data, expected = build()
    found = _both(data)
    assert found.binary
    assert sorted((m.rule_id, m.secret) for m in found.matches) == sorted(expected)
    for m in found.matches:  # each at its place in the file (a binary's lines are its newline bytes)
        at = [i for i in range(len(data)) if data.startswith(m.secret.encode()[:20], i)]
        assert any(data.count(b"\n", 0, i) + 1 == m.line for i in at) or m.decoded


@pytest.mark.parametrize("hostile", [
    pytest.param(lambda db: db[:600], id="truncated after the first page"),
    pytest.param(lambda db: db[:16] + b"\x00\x03" + db[18:], id="page size not a power of two"),
    pytest.param(lambda db: db[:4096 + 3] + b"\xff\xff" + db[4096 + 5:], id="cell count past the page"),
    pytest.param(lambda db: db[:4096 + 8] + b"\x0f\xf0" * 2000 + db[4096 + 8 + 4000:], id="every pointer at one cell"),
    pytest.param(lambda db: db[:4096] + b"\x0d" + b"\xff" * 4095 + db[8192:], id="varints of 0xff"),
    pytest.param(lambda db: db[:4096] + (b"\x0d\x00\x00\x00\x01\x00\x00\x00\x00\x10"
                                         + b"\x00" * 6 + b"\x86\xff\xff\xff\x7f\x01\x02"
                                         + b"\x00" * 4054 + b"\x00\x00\x00\x02").ljust(4096, b"\0")
                 + db[8192:], id="an overflow chain that points at itself"),
])
def test_a_hostile_database_is_read_within_bounds(hostile: Callable[[bytes], bytes]) -> None:
    from scanner import compiled

    db = sqlite_db(*((f"n{i}", "x" * 40, "y") for i in range(50)))
    data = hostile(db)
    values = compiled.strings(data)
    assert sum(len(v) for _, v in values) <= compiled.STRINGS_BUDGET * len(data) + 4096
    _both(data)  # and scanning it ends, without an error


def test_a_pyc_with_lengths_past_its_end_is_read_within_bounds() -> None:
    from scanner import compiled

    data = pyc("X = 1\n")[:17] + b"a\xff\xff\xff\x7fz\xffu\x10\x00\x00\x00" * 1000
    assert compiled.strings(data) == []
    assert _both(data).matches == ()


def test_compiled_files_are_found_in_every_mode(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key, other = google_key(), google_key()
    (repo / "__pycache__").mkdir()
    (repo / "__pycache__" / "settings.cpython-311.pyc").write_bytes(pyc(f"KEY = '{key}'\nX = None\n"))
    (repo / "app.db").write_bytes(sqlite_db(("maps", other, "production")))
    git(repo, "add", "-A")
    reports = {}
    _, reports["staged"] = run_scan(capsys, "--staged", str(repo))
    git(repo, "commit", "-q", "-m", "compiled files")
    _, reports["worktree"] = run_scan(capsys, str(repo))
    _, reports["history"] = run_scan(capsys, "--history", str(repo))
    for mode, data in reports.items():
        assert sorted((f["rule_id"], f["path"]) for f in data["findings"]) == \
            [("google-api-key", "__pycache__/settings.cpython-311.pyc"), ("google-api-key", "app.db")], mode


def test_a_decoded_finding_survives_the_audit_record() -> None:
    # An audit's HTML report is made from records a child process wrote: the chain must come back.
    from scanner import audit_record
    from scanner.models import Result, Stats
    from scanner.report import Options, present

    scanned = Detector().scan_content(f"v: {b64(b64('k=' + google_key()))}\n".encode())
    view = present(Result("history", tuple(make_finding(m, "k.yaml", commit="0" * 40) for m in scanned.matches),
                          Stats()), Options())
    record = audit_record.RepoResult("https://example.invalid/repo.git", None, None, None, view)
    back = audit_record.decode(json.loads(json.dumps(audit_record.encode(record))))
    assert back.view == view and [f.decoded for f in back.view.findings] == [("base64", "base64")]


def test_a_compiled_file_on_standard_input_is_read_by_its_format(monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    import io
    import sys

    from scanner.cli import main

    key = google_key()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(sqlite_db(("maps", key, "production")))))
    capsys.readouterr()
    assert main(["scan", "-", "--format", "json"]) == 1
    assert [(f["rule_id"], f["path"]) for f in json.loads(capsys.readouterr().out)["findings"]] == \
        [("google-api-key", "-")]
