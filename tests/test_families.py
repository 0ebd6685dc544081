"""Hand-edited copies of one test key (scanner.families): a family of near-copies in test fixtures is
no key; random keys, however many, never make one. Values are made at test time."""
from __future__ import annotations

import random
import string
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner import families
from scanner.models import Finding
from tests.conftest import KEY_ALPHABET, git
from tests.test_history import run_scan

_ALPHABETS = {"hex": "0123456789abcdef", "HEX": "0123456789ABCDEF", "base36": string.ascii_lowercase + string.digits,
              "BASE36": string.ascii_uppercase + string.digits, "base62": string.ascii_letters + string.digits,
              "base64url": KEY_ALPHABET}
_PREFIXES = ["", "sk-", "sk_live_", "phc_", "key-", "xk-", "SG."]


def _edited(rng: random.Random, value: str, places: int, alphabet: str) -> str:
    out = list(value)
    for i in rng.sample(range(len(value)), places):
        out[i] = rng.choice([c for c in alphabet if c != out[i]])
    return "".join(out)


@settings(max_examples=200, deadline=None)
@given(alphabet=st.sampled_from(sorted(_ALPHABETS)), length=st.integers(16, 64), prefix=st.sampled_from(_PREFIXES),
       seed=st.integers(0, 2**64))
def test_random_keys_never_make_a_family(alphabet: str, length: int, prefix: str, seed: int) -> None:
    # Fifty random keys of one length, alphabet and provider prefix: two independent keys never agree in
    # two thirds of their places (hex, 16 characters: once in 5 * 10^9 pairs).
    rng = random.Random(seed)
    chars = _ALPHABETS[alphabet]
    keys = [prefix + "".join(rng.choices(chars, k=length)) for _ in range(50)]
    assert families.near_copies(keys) == frozenset()


@pytest.mark.parametrize("alphabet", sorted(_ALPHABETS))
@pytest.mark.parametrize("length", [16, 24, 32, 40, 64])
def test_copies_edited_in_up_to_a_third_of_their_places_are_a_family(alphabet: str, length: int) -> None:
    rng = random.Random(length)
    chars = _ALPHABETS[alphabet]
    for places in range(1, length // 3 + 1):
        base = "".join(rng.choices(chars, k=length))
        copy = _edited(rng, base, places, chars)
        lone = "".join(rng.choices(chars, k=length))
        assert families.near_copies([base, lone, copy]) == {base, copy}, places


@pytest.mark.parametrize(("values", "why"), [
    pytest.param(lambda rng, k: [k, k], "the same key twice is one key, copied", id="identical"),
    pytest.param(lambda rng, k: [k, k[:-1]], "lengths differ", id="one character shorter"),
    pytest.param(lambda rng, k: [k, _edited(rng, k, 11, "0123456789abcdef")], "over a third differ", id="11 of 32 edited"),
    pytest.param(lambda rng, k: ["eyJhbGciOiJIUzI1NiJ9." + k, "eyJhbGciOiJIUzI1NiJ9." + _edited(rng, k, 2, "abc")],
                 "a token of parts (a JWT's header) shares them by design", id="dotted tokens"),
    pytest.param(lambda rng, k: [k[:12], _edited(rng, k[:12], 1, "abc")], "under 16 characters: chance", id="short"),
])
def test_not_a_family(values: object, why: str) -> None:
    rng = random.Random(7)
    key = "".join(rng.choices("0123456789abcdef", k=32))
    assert families.near_copies(values(rng, key)) == frozenset(), why  # type: ignore[operator]


def _finding(secret: str, path: str, context: str, rule: str = "hardcoded-api-key") -> Finding:
    return Finding(rule, path, 1, 1, secret, "fp-" + path, context=context)  # type: ignore[arg-type]


def test_only_test_fixtures_hardcoded_literals_leave() -> None:
    # A module's docs may show one key and, in a sibling module, that key with a digit changed: both
    # stay (no evidence the first is made up); as do another rule's findings.
    rng = random.Random(3)
    base = "".join(rng.choices("0123456789abcdef", k=32))
    copy, shown = _edited(rng, base, 3, "0123456789abcdef"), "".join(rng.choices("0123456789abcdef", k=32))
    findings = [_finding(base, "spec/a_spec.rb", "test-fixture"), _finding(copy, "spec/b_spec.rb", "test-fixture"),
                _finding(shown, "plugins/modules/a.py", "docs"),
                _finding(_edited(rng, shown, 1, "0123456789abcdef"), "plugins/modules/b.py", "docs"),
                _finding(base, "src/client.rb", "generic"),
                _finding(copy, "spec/c_spec.rb", "test-fixture", rule="other-rule")]
    kept, dropped = families.without_near_copies(findings)
    assert dropped == 2 and kept == findings[2:]


def test_a_key_scrubbed_by_editing_it_is_still_found_in_history(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A real key committed in a test, then "scrubbed" by changing a few characters: the history still
    # reports the key (only copies still in HEAD make a family), and the work tree its edited copy.
    rng = random.Random(11)
    key = "".join(rng.choices("0123456789abcdef", k=32))
    scrubbed = _edited(rng, key, 4, "0123456789abcdef")
    for value in (key, scrubbed):
        (repo / "spec").mkdir(exist_ok=True)
        (repo / "spec" / "client_spec.rb").write_text(f"config.api_key = '{value}'\n")
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "spec")
    _, history = run_scan(capsys, "--history", "--show-secrets", str(repo))
    assert sorted(f["secret"] for f in history["findings"]) == sorted([key, scrubbed])
    _, tree = run_scan(capsys, "--show-secrets", str(repo))
    assert [f["secret"] for f in tree["findings"]] == [scrubbed]


def test_a_family_edited_away_from_head_is_judged_by_what_stands() -> None:
    rng = random.Random(5)
    base = "".join(rng.choices("0123456789abcdef", k=32))
    copy = _edited(rng, base, 2, "0123456789abcdef")
    gone = Finding("hardcoded-api-key", "spec/a_spec.rb", 1, 1, base, "a", context="test-fixture", in_head=False)
    kept = Finding("hardcoded-api-key", "spec/b_spec.rb", 1, 1, copy, "b", context="test-fixture", in_head=True)
    assert families.without_near_copies([gone, kept]) == ([gone, kept], 0)
