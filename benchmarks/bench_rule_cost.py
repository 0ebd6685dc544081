#!/usr/bin/env python3
"""The api-key rule's cost on dense code: keysentry's time per MB on a work tree with thousands of
api-key mentions against one with none (issue 20: within 1.5x of each other).

    python benchmarks/bench_rule_cost.py [--dense langchain4j/langchain4j] [--plain neutral|OWNER/NAME]
                                         [--mirrors /work/.mirror] [--trees /tmp/keysentry-real-code]
                                         [--runs 5] [--jobs N] [--code REV] [--before REV] [--json FILE]

Both trees are HEAD of a snapshot in `<mirrors>/<owner>+<name>/repo`, written out as bench_real_code.py
does. The default "plain" tree is the dense tree itself with every mention rewritten to letters no rule
keys on, same length and case (`api_key` -> `bcy_xzz`, `ApiKey` -> `BcyXzz`): the same bytes, files
and languages, so the difference is the rule's work on the mentions alone. `--plain OWNER/NAME` takes
another project instead (a different code base: its size per file and line length differ too). Each is scanned as a folder (`scan TREE --format json`), the two alternating round by round after
one untimed warm-up each; the figure is the median wall time divided by the tree's size. The mentions
are counted with the regex `api[_-]?key` (any case) over the tree's text files: each is a place where the
hardcoded-api-key rule's prefilter fires and its slower steps (value, context, language) run.
`--before REV` times REV's scanner on both trees in the same rounds (an interleaved A/B on a shared
machine): its ratio is printed beside the one of the code under test, which alone decides the exit status.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib
from bench_real_code import checkout

MENTION = re.compile(rb"api[_-]?key", re.IGNORECASE)
NEUTRAL = bytes.maketrans(b"apikeyAPIKEY", b"bcyxzzBCYXZZ")  # a->b p->c i->y k->x e->z y->z, case kept


def neutralise(tree: Path, dest: Path) -> None:
    """DEST: a copy of TREE with every api-key mention rewritten (same length), made once."""
    stamp = dest / ".keysentry-bench-neutral"
    source_stamp = (tree / ".keysentry-bench-head").read_text()
    if stamp.is_file() and stamp.read_text() == source_stamp:
        return
    for root, dirs, names in os.walk(tree):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in names:
            data = (Path(root) / name).read_bytes()
            target = dest / Path(root).relative_to(tree) / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(MENTION.sub(lambda m: m.group(0).translate(NEUTRAL), data))
    stamp.write_text(source_stamp)


def measure_tree(tree: Path) -> tuple[float, int, int]:
    """(MB, files, api-key mentions) of TREE's files, as the scan reads them."""
    size = files = mentions = 0
    for root, dirs, names in os.walk(tree):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in names:
            data = (Path(root) / name).read_bytes()
            size += len(data)
            files += 1
            if b"\0" not in data[:8000]:
                mentions += len(MENTION.findall(data))
    return size / 1e6, files, mentions


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dense", default="langchain4j/langchain4j", help="a project with thousands of api-key mentions")
    parser.add_argument("--plain", default="neutral",
                        help="'neutral' (the dense tree with its mentions rewritten) or a project with none")
    parser.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"))
    parser.add_argument("--trees", type=Path, default=Path("/tmp/keysentry-real-code"))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--jobs", type=int, help="passed on to keysentry")
    parser.add_argument("--python", default=benchlib.keysentry_python())
    parser.add_argument("--code", metavar="REV", help="time the scanner as of REV (exported with git archive)")
    parser.add_argument("--before", metavar="REV", help="also time REV's scanner, interleaved, for a before/after")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)

    tools, sizes, trees = [], {}, {}
    source = benchlib.export_revision(args.code) if args.code else None
    for label, project in (("dense", args.dense), ("plain", args.plain)):
        if project == "neutral":
            tree = args.trees / (args.dense.replace("/", "+") + ".neutral")
            neutralise(args.trees / args.dense.replace("/", "+"), tree)
            project = f"{args.dense}, mentions rewritten"
        else:
            mirror = args.mirrors / project.replace("/", "+") / "repo"
            if not mirror.is_dir():
                raise SystemExit(f"no mirror of {project} at {mirror}")
            tree = args.trees / project.replace("/", "+")
            checkout(mirror, tree)
        sizes[label] = measure_tree(tree)
        trees[label] = (tree, project)
    codes: list[tuple[str, Path | None]] = [("", source)]
    if args.before:
        codes.insert(0, (f" at {args.before}", benchlib.export_revision(args.before)))
    keys = []
    for suffix, code in codes:  # the rounds alternate the trees and the codes: dense, plain, dense, plain
        for label, (tree, project) in trees.items():
            cmd = benchlib.keysentry_cmd("scan", str(tree), "--format", "json", "--quiet",
                                         *(["--jobs", str(args.jobs)] if args.jobs else []), python=args.python)
            env = None
            if code is not None:
                env = {**os.environ, "PYTHONPATH": str(code)}
                cmd = [args.python, "-P", *cmd[1:]]
            tools.append(benchlib.Tool(f"keysentry {label} ({project}){suffix}", cmd, ok_codes=(0, 1),
                                       keep_stdout=True, cwd=tempfile.gettempdir(), env=env,
                                       check=benchlib.check_keysentry_json))
            keys.append((label, suffix))
    print(benchlib.machine_note())
    benchlib.run_series(tools, args.runs)
    for t in tools:
        t.cleanup()
    rows, per_mb = [], {}
    for (label, suffix), t in zip(keys, tools, strict=True):
        mb, files, mentions = sizes[label]
        per_mb[label, suffix] = t.seconds / mb if t.ok else None
        rows.append([t.name, f"{mb:.1f}", files, mentions, f"{t.seconds:.2f}" if t.ok else "FAILED", t.spread,
                     benchlib.fmt(per_mb[label, suffix], ".3f")])
    print()
    print(benchlib.table(("tree", "MB", "files", "api-key mentions", "median s", "min–max s", "s per MB"), rows))
    checks = []
    for suffix, _code in codes:
        dense, plain = per_mb["dense", suffix], per_mb["plain", suffix]
        checks.append((f"s/MB dense / s/MB plain{suffix}", dense / plain if dense and plain else None, "<=", 1.5, "x"))
    ratio = checks[-1][1]
    print()
    print(benchlib.target_rows(checks))
    benchlib.print_failures(tools)
    if args.json:
        args.json.write_text(json.dumps(benchlib.as_json(tools, checks, sizes=sizes), indent=2) + "\n")
    return 0 if ratio is not None and ratio <= 1.5 else 1


if __name__ == "__main__":
    raise SystemExit(main())
