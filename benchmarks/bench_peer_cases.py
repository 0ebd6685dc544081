#!/usr/bin/env python3
"""The peers' own published test cases for the Google family, run through keysentry (issue 19).

    python benchmarks/bench_peer_cases.py [--mirrors /work/.mirror] [--json FILE]

Reads, at run time, from bare mirrors of the peers (`<mirrors>/<owner>+<name>/repo`, e.g. made with
the `fetch` tool; nothing of them is copied into this repository, and no case is kept here):
  mongodb/kingfisher  data/rules/*.yml: each rule's `examples` (true) and `negative_examples`
                      (false), for the rules that find a kind keysentry has a rule for;
  google/osv-scalibr  veles/secrets/<detector>/detector_test.go: each table row's `input` and the
                      secrets it `want`s (none: a false case). Rows whose input is a Go expression
                      (`"a" + strings.Repeat(…)`) are not literal text and are skipped, counted.
Each case is scanned with both engines; a true case passes when keysentry reports the peer's
secret (Veles names it; Kingfisher only says the example holds one) under the mapped rule, a false
case when keysentry reports nothing under it. Disagreements are printed, masked, for the note to
judge: keysentry may be right where a peer's label is not (a stand-in like `aaaa…` labelled true).
"""
from __future__ import annotations

import argparse
import codecs
import json
import os
import re
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import yaml

from scanner.detect import Detector

# Kingfisher rule id -> the keysentry rule that finds that kind.
KINGFISHER = {
    "kingfisher.google.2": "google-oauth-client-secret",
    "kingfisher.google.3": "google-oauth-client-secret",
    "kingfisher.google.4": "google-oauth-token",
    "kingfisher.google.6": "google-oauth-client-secret",
    "kingfisher.google.oauth2.1": "google-oauth-token",
    "kingfisher.recaptcha.1": "recaptcha-secret-key",
}
# Veles detector folder -> the keysentry rule.
VELES = {
    "gcshmackey": "gcs-hmac-key",
    "recaptchakey": "recaptcha-secret-key",
    "gcpoauth2client": "google-oauth-client-secret",
}


@dataclass(frozen=True)
class Case:
    peer: str
    name: str
    rule: str
    text: str
    expected: tuple[str, ...]  # the secrets the peer expects; () for a false case
    positive: bool


@dataclass(frozen=True)
class Outcome:
    peer: str
    name: str
    rule: str
    positive: bool
    agrees: bool
    engines_agree: bool
    found: tuple[str, ...]  # masked


def _git_show(mirror: Path, path: str) -> str:
    return subprocess.run(["git", f"--git-dir={mirror}", "show", f"HEAD:{path}"], check=True,
                          capture_output=True, text=True).stdout


def _git_ls(mirror: Path, under: str) -> list[str]:
    out = subprocess.run(["git", f"--git-dir={mirror}", "ls-tree", "-r", "--name-only", "HEAD", under], check=True,
                         capture_output=True, text=True).stdout
    return out.split()


def kingfisher_cases(mirror: Path) -> list[Case]:
    cases = []
    for path in _git_ls(mirror, "data/rules"):
        if not path.endswith(".yml"):
            continue
        for rule in (yaml.safe_load(_git_show(mirror, path)) or {}).get("rules", []):
            ours = KINGFISHER.get(rule.get("id", ""))
            if ours is None:
                continue
            for i, example in enumerate(rule.get("examples") or []):
                cases.append(Case("kingfisher", f"{rule['id']} example {i + 1}", ours, example, (), True))
            for i, example in enumerate(rule.get("negative_examples") or []):
                cases.append(Case("kingfisher", f"{rule['id']} negative {i + 1}", ours, example, (), False))
    return cases


_GO_STRING = re.compile(r'`([^`]*)`|"((?:[^"\\]|\\.)*)"', re.S)
_ROW = re.compile(r'\bname:\s*"((?:[^"\\]|\\.)*)",\s*input:\s*', re.S)
_WANT = re.compile(r"\bwant:\s*(nil|\[\]veles\.Secret\{)")
_SECRET_FIELD = re.compile(r'\bSecret:\s*"((?:[^"\\]|\\.)*)"')


def _go_literal(m: re.Match[str]) -> str:
    raw, quoted = m.group(1), m.group(2)
    return raw if raw is not None else codecs.decode(quoted.encode("latin-1", "backslashreplace"), "unicode_escape")


def veles_cases(mirror: Path) -> tuple[list[Case], int]:
    cases: list[Case] = []
    skipped = 0
    for folder, ours in VELES.items():
        source = _git_show(mirror, f"veles/secrets/{folder}/detector_test.go")
        rows = list(_ROW.finditer(source))
        for n, row in enumerate(rows):
            end = rows[n + 1].start() if n + 1 < len(rows) else len(source)
            literal = _GO_STRING.match(source, row.end())
            after = source[literal.end():end].lstrip() if literal else ""
            want = _WANT.search(source, row.end(), end)
            if literal is None or not after.startswith(",") or want is None:
                skipped += 1  # the input is a Go expression, or the row is not a plain table row
                continue
            expected = tuple(_SECRET_FIELD.findall(source, want.end(), end)) if want[1] != "nil" else ()
            cases.append(Case("veles", f"{folder}: {row[1]}", ours, _go_literal(literal), expected, bool(expected)))
    return cases, skipped


def _mask(secret: str) -> str:
    return secret[:4] + "…" + secret[-4:] if len(secret) > 12 else "…"


def run(case: Case) -> Outcome:
    found = []
    for engine in ("hyperscan", "python"):
        matches = Detector(engine_name=engine).scan(case.text.encode("utf-8", "surrogateescape"), "snippet").matches
        found.append(tuple(sorted(m.secret for m in matches if m.rule_id == case.rule)))
    ours = found[0]
    if case.positive:
        agrees = bool(ours) and all(secret in ours for secret in case.expected)
    else:
        agrees = not ours
    return Outcome(case.peer, case.name, case.rule, case.positive, agrees, found[0] == found[1],
                   tuple(_mask(s) for s in ours))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirrors", type=Path, default=Path(os.environ.get("KEYSENTRY_MIRRORS", "/work/.mirror")))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    cases: list[Case] = []
    skipped = 0
    kingfisher = args.mirrors / "mongodb+kingfisher" / "repo"
    veles = args.mirrors / "google+osv-scalibr" / "repo"
    if kingfisher.is_dir():
        cases += kingfisher_cases(kingfisher)
    else:
        print(f"no mirror at {kingfisher}: kingfisher's cases left out", file=sys.stderr)
    if veles.is_dir():
        more, skipped = veles_cases(veles)
        cases += more
    else:
        print(f"no mirror at {veles}: Veles' cases left out", file=sys.stderr)
    outcomes = [run(case) for case in cases]
    print(f"{'peer':10} {'rule':28} {'label':5} {'ok':3} case")
    for o in outcomes:
        print(f"{o.peer:10} {o.rule:28} {'true' if o.positive else 'false':5} {'yes' if o.agrees else 'NO':3} {o.name}"
              + ("" if o.agrees else f"   keysentry found: {', '.join(o.found) or 'nothing'}")
              + ("" if o.engines_agree else "   ENGINES DIFFER"))
    agreed = sum(o.agrees for o in outcomes)
    print(f"\n{agreed}/{len(outcomes)} cases agree with the peer's label; {skipped} Veles rows skipped (Go "
          f"expressions); engines {'agree on every case' if all(o.engines_agree for o in outcomes) else 'DIFFER'}")
    if args.json:
        args.json.write_text(json.dumps([asdict(o) for o in outcomes], indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
