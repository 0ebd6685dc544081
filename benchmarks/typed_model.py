#!/usr/bin/env python3
"""The model of what people type that `hardcoded-api-key` judges a value's randomness by (issue 20).

    python benchmarks/typed_model.py build [--corpus DIR]...        # scanner/data/typed_text.json
    python benchmarks/typed_model.py calibrate [--mirrors /work/.mirror] [--trees DIR]... [--json FILE]
    python benchmarks/typed_model.py pronounceable [--mirrors /work/.mirror] [--trees DIR]...
    python benchmarks/typed_model.py keyboard [--mirrors /work/.mirror] [--trees DIR]...

build: counts the letter pairs of what people write in code, names and prose alike: the words of the
  identifiers (camelCase and snake_case split) and of the comments and docstrings of the .py and .pyi
  files under each --corpus folder (default: this Python's standard library; the data shipped was
  built from CPython 3.11's standard library and the site-packages of keysentry's test environment,
  typeshed's stubs of many SDKs among them; tests left out), with a start-of-word symbol `^`, and
  the words themselves (those seen five times or more). The counts go to
  scanner/data/typed_text.json; the threshold there is kept.
calibrate: sets the threshold 2 nats above the highest score (scanner.filters.typed_score) of 240,000
  random keys of six alphabets, 10 to 64 characters, some in parts (`xk-…`), that the rule would
  otherwise accept; then reports, masked, the fixture values of the peers' rule tests it rejects,
  read from their bare mirrors at run time (gitleaks' cmd/generate/config/rules/*.go: each rule's
  true positives; Kingfisher's data/rules/*.yml: what each rule's pattern captures in its
  `examples`): each must be one a person typed (`abcd1234…`, `password123`), none a random key;
  and how many of the values bound to secret-like names in the test code of the --trees folders
  (the benchmark's tuned half) it rejects. Figures to --json (default
  benchmarks/typed_calibration.json).
pronounceable: the figures behind scanner.filters.PRONOUNCEABLE_THRESHOLD (a one-case value strung of
  syllables): the highest pronounceable_score of 300,000 random hex and base36 keys (either case,
  10 to 64 characters; the threshold is 2 nats above it), and, masked, the peers' fixture values and
  the --trees test values it rejects (none of the fixtures may be a random key).
keyboard: the figures behind scanner.filters.KEYBOARD_THRESHOLD (a one-case value of keys mashed by
  hand): the highest keyboard_score of 1,200,000 random hex and base36 keys (either case, 10 to 64
  characters; the threshold is 2 nats above it), how many score within 2 and 4 nats of that
  highest (the tail), and, masked, the peers' fixture values and the --trees test values it rejects.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import string
import subprocess
import sys
import sysconfig
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MODEL = ROOT / "scanner" / "data" / "typed_text.json"
CALIBRATION = ROOT / "benchmarks" / "typed_calibration.json"
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+")


def _words(text: str) -> list[str]:
    return [w.lower() for ident in _IDENT.findall(text) for w in _WORD.findall(ident)]


def build(corpora: list[Path]) -> int:
    pairs: Counter[str] = Counter()
    words: Counter[str] = Counter()
    files = 0
    for corpus in corpora:
        for path in sorted(p for pattern in ("*.py", "*.pyi") for p in corpus.rglob(pattern)):
            if "test" in path.parts or "tests" in path.parts or (corpus.name != "site-packages" and "site-packages" in path.parts):
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            files += 1
            for word in _words(text):
                words[word] += 1
                prev = "^"
                for c in word:
                    pairs[prev + c] += 1
                    prev = c
    old = json.loads(MODEL.read_text(encoding="utf-8")) if MODEL.is_file() else {}
    model = {
        "about": ("Letter pairs and words of what people type (scanner.filters.typed_score): the words of "
                  "identifiers, comments and docstrings of %d .py/.pyi files (tests left out); '^' opens a "
                  "word. Made by benchmarks/typed_model.py build; threshold by its calibrate." % files),
        "threshold": old.get("threshold", 0.0),
        "pairs": dict(sorted(pairs.items())),
        # The words of two letters or more seen at least five times, with their counts.
        "words": {w: n for w, n in sorted(words.items()) if n >= 5 and len(w) >= 2},
    }
    MODEL.write_text(json.dumps(model, indent=0, sort_keys=False) + "\n", encoding="utf-8")
    print(f"{files} files, {sum(pairs.values())} pairs, {len(pairs)} distinct, {len(model['words'])} words"
          f" -> {MODEL.relative_to(ROOT)}")
    return 0


# --- calibration -------------------------------------------------------------------------------

_GO_STRING = re.compile(r'"((?:[^"\\\n]|\\.)*)"|`([^`]*)`')
_TOKEN = re.compile(r"[A-Za-z0-9_\-+/=.]{10,300}")


def _git(mirror: Path, *args: str) -> str:
    return subprocess.run(["git", f"--git-dir={mirror}", *args], check=True, capture_output=True,
                          text=True, errors="replace").stdout


def _tokens(literal: str) -> list[str]:
    """The key-shaped runs of a fixture's text (a whole config line holds a key among other words)."""
    return [t.strip(".=") for t in _TOKEN.findall(literal)]


def gitleaks_keys(mirror: Path) -> list[str]:
    """The secrets of each rule's true positives: the secret argument of GenerateSampleSecret(…), and
    the longest key-shaped run of each other literal of the list (a whole line of config, whose key is
    its longest run)."""
    out = []
    for path in _git(mirror, "ls-tree", "--name-only", "HEAD", "cmd/generate/config/rules/").split():
        if not path.endswith(".go"):
            continue
        source = _git(mirror, "show", f"HEAD:{path}")
        # The true-positive lists: from `tps :=` (or `tps = append(`) to the false ones or the validation.
        for block in re.findall(r"\btps\s*:?=(.*?)(?:\bfps\s*:?=|utils\.Validate|return\s)", source, re.S):
            samples = re.findall(r'GenerateSampleSecrets?\(\s*"[^"]*"\s*,\s*"((?:[^"\\]|\\.)+)"\s*\)', block)
            out += [t for sample in samples for t in _tokens(sample)]
            rest = re.sub(r"GenerateSampleSecrets?\([^()]*\)", "", block)
            for m in _GO_STRING.finditer(rest):
                literal = (m[1] if m[1] is not None else m[2]).replace('\\"', '"')
                tokens = _tokens(literal)
                if tokens:
                    out.append(max(tokens, key=len))
    return out


def kingfisher_keys(mirror: Path) -> list[str]:
    """What each rule's pattern captures in its `examples` (compiled with `regex`; a pattern it
    cannot compile is skipped)."""
    import regex
    import yaml

    out = []
    for path in _git(mirror, "ls-tree", "-r", "--name-only", "HEAD", "data/rules/").split():
        if not path.endswith((".yml", ".yaml")):
            continue
        try:
            data = yaml.safe_load(_git(mirror, "show", f"HEAD:{path}")) or {}
        except yaml.YAMLError:
            continue
        for rule in data.get("rules", []) if isinstance(data, dict) else []:
            try:
                pattern = regex.compile(str(rule.get("pattern", "")))
            except (regex.error, TypeError):
                continue
            for example in rule.get("examples") or []:
                if not isinstance(example, str):
                    continue
                for m in pattern.finditer(example, timeout=1.0):
                    out += [t for g in m.groups() if g and len(g) >= 10 for t in _tokens(g)]
    return out


_TEST_PATH = re.compile(r"(?:^|/)(?:tests?|__tests__|spec|specs|testing|testdata|fixtures?)/|(?:^|/)test_[^/]*$"
                        r"|_test\.[^/]+$|\.(?:test|spec)\.[^/]+$|Tests?\.[^/]+$", re.IGNORECASE)
_BOUND = re.compile(r"(?i)(?:key|token|secret|passw(?:or)?d|credential)[\w-]{0,30}[\"']?\s*(?:[:=,]|=>|\()\s*"
                    r"[\"']([^\"'\s]{10,120})[\"']")
_CODE = (".py", ".ts", ".js", ".go", ".java", ".kt", ".cs", ".rb", ".php", ".rs", ".swift", ".yaml", ".yml", ".json")


def test_values(trees: list[Path]) -> list[str]:
    out = []
    for tree in trees:
        for root, dirs, names in os.walk(tree):
            dirs[:] = [d for d in dirs if d not in (".git", "node_modules")]
            for name in names:
                path = Path(root, name)
                rel = path.relative_to(tree).as_posix()
                if not name.endswith(_CODE) or not _TEST_PATH.search(rel):
                    continue
                try:
                    if path.stat().st_size > 1 << 20:
                        continue
                    text = path.read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError):
                    continue
                out += _BOUND.findall(text)
    return out


def _mask(value: str) -> str:
    return value[:4] + "…" + value[-2:] if len(value) > 8 else "…"


def calibrate(mirrors: Path, trees: list[Path], report: Path) -> int:
    from scanner import filters

    def candidates(values: list[str]) -> list[str]:
        # What the rule would accept but for the typed test; each value once.
        return sorted({v for v in values if filters.plausible_literal(v, True, typed=False)})

    keys = candidates(gitleaks_keys(mirrors / "gitleaks+gitleaks" / "repo")
                      + kingfisher_keys(mirrors / "mongodb+kingfisher" / "repo"))
    tests = candidates(test_values(trees))
    # Random keys as providers make them: these alphabets, 10 to 64 characters, now and then in parts.
    rng = random.Random(20)
    alphabets = (string.ascii_letters + string.digits + "-_", string.ascii_letters + string.digits,
                 string.hexdigits.lower()[:16], string.ascii_lowercase + string.digits,
                 string.ascii_uppercase + string.digits, string.ascii_letters + string.digits + "+/")
    made = []
    for alphabet in alphabets:
        for _ in range(40000):
            value = "".join(rng.choice(alphabet) for _ in range(rng.randint(10, 64)))
            if rng.random() < 0.2:  # a prefix and parts: `xk-…-…`
                value = "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(2, 4))) + "-" + value
            made.append(value)
    randoms = candidates(made)
    random_scores = sorted(filters.typed_score(v) for v in randoms)
    # A margin of 2 nats over the highest random key: such a value is e^2 = 7 times likelier typed
    # than the likeliest random key of 240,000 is.
    threshold = math.ceil((random_scores[-1] + 2.0) * 10) / 10
    key_scores = sorted(((filters.typed_score(v), v) for v in keys), reverse=True)
    rejected_keys = [(s, v) for s, v in key_scores if s >= threshold]
    rejected_tests = [v for v in tests if filters.typed_score(v) >= threshold]
    model = json.loads(MODEL.read_text(encoding="utf-8"))
    model["threshold"] = threshold
    MODEL.write_text(json.dumps(model, indent=0) + "\n", encoding="utf-8")
    figures = {
        "threshold": threshold,
        "random_tokens": len(randoms), "random_highest": round(random_scores[-1], 2),
        "random_median": round(random_scores[len(random_scores) // 2], 2),
        "fixture_values": len(keys), "fixture_values_at_or_above": len(rejected_keys),
        # Each fixture value the test rejects, masked: values a person typed into the peers' tests
        # (`password123`-like), to be judged; a random one here is a key lost.
        "fixture_values_rejected": [[round(s, 1), _mask(v)] for s, v in rejected_keys],
        "fixture_highest_below": [[round(s, 1), _mask(v)] for s, v in key_scores[len(rejected_keys):][:5]],
        "test_values": len(tests), "test_values_rejected": len(rejected_tests),
        "test_values_rejected_sample": [_mask(v) for v in rejected_tests[:40]],
        "sources": {"fixtures": "gitleaks cmd/generate/config/rules/*.go true positives; kingfisher data/rules "
                                "examples (what each rule's pattern captures)",
                    "tests": [t.name for t in trees]},
    }
    report.write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in figures.items() if k != "sources"}, indent=1))
    return 0


def pronounceable(mirrors: Path, trees: list[Path]) -> int:
    from scanner import filters

    rng = random.Random(7)
    highest, top = -math.inf, ""
    for alphabet in ("0123456789abcdef", string.ascii_lowercase + string.digits, string.ascii_uppercase + string.digits):
        for _ in range(100000):
            value = "".join(rng.choices(alphabet, k=rng.randint(10, 64)))
            score = filters.pronounceable_score(value)
            if score > highest:
                highest, top = score, value
    keys = {v for v in gitleaks_keys(mirrors / "gitleaks+gitleaks" / "repo")
            + kingfisher_keys(mirrors / "mongodb+kingfisher" / "repo") if filters.plausible_literal(v, True, typed=False)}
    tests = {v for v in test_values(trees) if filters.plausible_literal(v, True, typed=False)}
    print(json.dumps({
        "threshold": filters.PRONOUNCEABLE_THRESHOLD, "random_keys": 300000, "random_highest": round(highest, 2),
        "random_highest_value": _mask(top),
        "fixture_values": len(keys), "fixture_values_rejected": sorted(_mask(v) for v in keys if filters.is_pronounceable(v)),
        "test_values": len(tests), "test_values_rejected": sorted(_mask(v) for v in tests if filters.is_pronounceable(v)),
    }, indent=1))
    return 0


def keyboard(mirrors: Path, trees: list[Path]) -> int:
    from scanner import filters

    rng = random.Random(11)
    scores: list[tuple[float, str]] = []
    for alphabet in ("0123456789abcdef", "0123456789ABCDEF", string.ascii_lowercase + string.digits,
                     string.ascii_uppercase + string.digits):
        for _ in range(300000):
            value = "".join(rng.choices(alphabet, k=rng.randint(10, 64)))
            scores.append((filters.keyboard_score(value), value))
    scores.sort(reverse=True)
    highest, top = scores[0]
    keys = {v for v in gitleaks_keys(mirrors / "gitleaks+gitleaks" / "repo")
            + kingfisher_keys(mirrors / "mongodb+kingfisher" / "repo") if filters.plausible_literal(v, True, typed=False)}
    tests = {v for v in test_values(trees) if filters.plausible_literal(v, True, typed=False)}
    print(json.dumps({
        "threshold": filters.KEYBOARD_THRESHOLD, "random_keys": len(scores), "random_highest": round(highest, 2),
        "random_highest_value": _mask(top),
        "random_within_2_nats_of_threshold": sum(s >= filters.KEYBOARD_THRESHOLD - 2 for s, _ in scores),
        "random_within_4_nats_of_threshold": sum(s >= filters.KEYBOARD_THRESHOLD - 4 for s, _ in scores),
        "fixture_values": len(keys), "fixture_values_rejected": sorted(_mask(v) for v in keys if filters.is_keyboard_mash(v)),
        "test_values": len(tests), "test_values_rejected": sorted(_mask(v) for v in tests if filters.is_keyboard_mash(v)),
    }, indent=1))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build")
    b.add_argument("--corpus", type=Path, action="append")
    c = sub.add_parser("calibrate")
    c.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"))
    c.add_argument("--trees", type=Path, action="append", default=[])
    c.add_argument("--json", type=Path, default=CALIBRATION)
    r = sub.add_parser("pronounceable")
    r.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"))
    r.add_argument("--trees", type=Path, action="append", default=[])
    k = sub.add_parser("keyboard")
    k.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"))
    k.add_argument("--trees", type=Path, action="append", default=[])
    args = parser.parse_args(argv)
    if args.command == "keyboard":
        return keyboard(args.mirrors, args.trees)
    if args.command == "pronounceable":
        return pronounceable(args.mirrors, args.trees)
    if args.command == "build":
        return build(args.corpus or [Path(sysconfig.get_paths()["stdlib"])])
    return calibrate(args.mirrors, args.trees, args.json)


if __name__ == "__main__":
    sys.exit(main())
