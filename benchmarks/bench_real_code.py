#!/usr/bin/env python3
"""Real-code precision: hardcoded-api-key (and Google-rule) findings on the working trees of public projects.

    python benchmarks/bench_real_code.py [--half tuned|held-out|...|tuned-7|held-out-7[,...]|all] [--mirrors /work/.mirror]
                                         [--trees /tmp/keysentry-real-code] [--rev REV] [--source DIR]
                                         [--peers /tmp/yardstick] [--no-peers] [--unjudged] [--json FILE]
                                         [--recount FILE]

The projects and their split into a tuned and a held-out half are data: benchmarks/real_code_projects.json
(the split was fixed before any finding of the new projects was looked at; the rule that made it is
recomputed at every run, and a file that no longer follows it is refused). A second group of projects,
added later, is split by its own rule into tuned-2 and held-out-2, a third group by the same rule into
tuned-3 and held-out-3, a fourth into tuned-4 and held-out-4,
and a fifth into tuned-5 and held-out-5, a sixth into tuned-6 and held-out-6, a seventh into tuned-7 and held-out-7 (each recomputed at every run). Each project's HEAD tree is
written out of its bare mirror (`<mirrors>/<owner>+<name>/repo`) into `<trees>/<owner>+<name>` blob by
blob (nothing is written into the mirror; blobs the snapshot lacks are skipped). Then, per project, in
the same run:
  keysentry     python -P -m scanner scan TREE --format json --show-secrets (this checkout, or the
                scanner of --source DIR; with --rev REV also that revision, exported with git archive:
                the "before")
  gitleaks      gitleaks dir TREE --no-banner --exit-code 0 -f json -r TMP   (its generic-api-key rule)
  betterleaks   betterleaks TREE -s --no-banner --exit-code 0 -o TMP.json   (`auto`: a folder is scanned as files)
The peers' counts depend only on the tree, so they are kept in `<trees>/.peer-counts.json` by project,
HEAD and binary (--rescan-peers forgets them).
Every keysentry `hardcoded-api-key` finding, and every finding of a Google rule, is looked up in
benchmarks/real_code_verdicts.json: the hand-checked verdicts (masked secret, path, line, verdict, why),
keyed by rule, project, path and a SHA-256 of the secret, so the file holds no secret. A verdict is
"real" (a literal secret), "false", or for a Google rule "reported" (a stand-in the rule reports
knowingly: the format alone is the finding). Findings without a verdict are listed for checking
(`--unjudged`, the "before"'s too), with the code around them. `--json` keeps every finding (masked,
with its digest) and `--recount` counts them again with the verdicts written since, scanning nothing:
a held-out half is scanned once, then judged. Per half it prints findings, real, false, precision and the
peers' counts. Goals (issues 9 and 20): at least 9 in 10 hardcoded-api-key findings real on each half,
every Google-rule finding real or knowingly reported, no finding judged real in the "before" lost.
Secrets are only held in memory and printed masked.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib
from bench_real_history import find_peer

RULE = "hardcoded-api-key"
NOT_GOOGLE = frozenset({RULE, "dotenv-file"})  # every other rule of keysentry is of the Google family
PEER_RULE = "generic-api-key"
HERE = Path(__file__).resolve().parent
VERDICTS = HERE / "real_code_verdicts.json"
PROJECTS = HERE / "real_code_projects.json"
HALVES = ("tuned", "held-out", "tuned-2", "held-out-2", "tuned-3", "held-out-3", "tuned-4", "held-out-4",
          "tuned-5", "held-out-5", "tuned-6", "held-out-6", "tuned-7", "held-out-7")
GROUPS = (1, 2, 3, 4, 5, 6, 7)


def split(projects: list[dict[str, object]]) -> dict[str, str]:
    """The halves by the rules written in real_code_projects.json.

    Group 1: projects tuned on before go to the tuned half; the others, per language, in order of
    SHA-256 of 'owner/name', alternately held-out, tuned. Group 2 ("group": 2, added later, split on
    its own before any scan): languages in alphabetical order, within each the projects in order of
    SHA-256 of 'owner/name', one alternation over the whole sequence: held-out-2, tuned-2, ...
    Group 3 ("group": 3, added later still, split before any scan) by group 2's rule, on its own:
    held-out-3, tuned-3, ... Group 4 ("group": 4, fifty more, split before any scan) likewise: held-out-4,
    tuned-4, ...; groups 5, 6 and 7 ("group": 5, 6 and 7, chosen for literal keys, each split before any scan) likewise."""
    def by_digest(name: str) -> str:
        return hashlib.sha256(name.encode("utf-8")).hexdigest()

    first = [p for p in projects if p.get("group", 1) == 1]
    halves = {str(p["project"]): "tuned" for p in first if p["tuned_before"]}
    groups: dict[str, list[str]] = {}
    for p in first:
        if not p["tuned_before"]:
            groups.setdefault(str(p["language"]), []).append(str(p["project"]))
    for names in groups.values():
        names.sort(key=by_digest)
        halves.update({n: HALVES[(i + 1) % 2] for i, n in enumerate(names)})
    for group in GROUPS[1:]:
        members = [p for p in projects if p.get("group", 1) == group]
        sequence = [str(p["project"]) for p in sorted(members, key=lambda p: (str(p["language"]), by_digest(str(p["project"]))))]
        halves.update({n: (f"held-out-{group}", f"tuned-{group}")[i % 2] for i, n in enumerate(sequence)})
    return halves


def halves_arg(text: str) -> tuple[str, ...]:
    """--half's value: one half, several comma-separated, or `all`."""
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    wrong = [n for n in names if n not in (*HALVES, "all")]
    if not names or wrong:
        raise argparse.ArgumentTypeError(f"not a half: {', '.join(wrong) or text!r} (choose from {', '.join(HALVES)}, all)")
    return names


def load_projects() -> list[dict[str, object]]:
    projects: list[dict[str, object]] = json.loads(PROJECTS.read_text(encoding="utf-8"))["projects"]
    groups = {p.get("group", 1) for p in projects}
    if not groups <= set(GROUPS):
        raise SystemExit(f"{PROJECTS.name}: unknown project groups {sorted(map(str, groups - set(GROUPS)))}")
    names = [str(p["project"]) for p in projects]
    if len(set(names)) != len(names):
        raise SystemExit(f"{PROJECTS.name}: a project is listed twice")
    expected = split(projects)
    wrong = [str(p["project"]) for p in projects if p["half"] != expected[str(p["project"])]]
    if wrong:
        raise SystemExit(f"{PROJECTS.name}: the halves of {', '.join(wrong)} do not follow the split's rule")
    return projects


def git_dir(mirror: Path) -> Path:
    return mirror / ".git" if (mirror / ".git").is_dir() else mirror


def checkout(mirror: Path, dest: Path) -> str:
    """HEAD's tree of the bare MIRROR written into DEST (once); returns HEAD's sha.

    Blob by blob through `cat-file --batch`: the snapshots leave their largest files out, which
    `checkout-index` and `git archive` refuse; a missing blob is skipped (and counted)."""
    git = ["git", f"--git-dir={git_dir(mirror)}"]
    head = subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()
    stamp = dest / ".keysentry-bench-head"
    if stamp.is_file() and stamp.read_text() == head:
        return head
    listing = subprocess.run([*git, "ls-tree", "-r", "-z", "HEAD"], check=True, capture_output=True).stdout
    files = []
    for entry in listing.split(b"\0"):
        if entry:
            meta, raw_name = entry.split(b"\t", 1)
            mode, kind, oid = meta.split()
            if kind == b"blob" and mode in (b"100644", b"100755"):
                files.append((oid, raw_name.decode("utf-8", "surrogateescape")))
    batch = subprocess.run([*git, "cat-file", "--batch"], input=b"".join(oid + b"\n" for oid, _ in files),
                           check=True, capture_output=True).stdout
    at = missing = 0
    for _oid, name in files:
        header_end = batch.index(b"\n", at)
        header = batch[at:header_end].split()
        at = header_end + 1
        if header[-1] == b"missing":
            missing += 1
            continue
        size = int(header[2])
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(batch[at:at + size])
        at += size + 1
    if missing:
        print(f"{mirror.parent.name}: {missing} blobs absent from the snapshot, skipped", file=sys.stderr)
    stamp.write_text(head)
    return head


def mask(secret: str) -> str:
    return secret[:4] + "…" + secret[-2:] if len(secret) > 8 else "…"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogateescape")).hexdigest()


def keysentry(tree: Path, python: str, source: Path | None, label: str) -> list[dict[str, object]]:
    env = dict(os.environ)
    if source is not None:
        env["PYTHONPATH"] = str(source)
    report = benchlib.scratch_report(f"ks-{tree.name}-{label}.json")
    proc = subprocess.run([python, "-P", "-m", "scanner", "scan", str(tree), "--format", "json", "--show-secrets",
                           "--output", report, "--quiet"], env=env, cwd=tempfile.gettempdir(),
                          capture_output=True, text=True)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"keysentry failed on {tree}: {proc.stderr.strip()[-400:]}")
    data = json.loads(Path(report).read_text(encoding="utf-8"))
    os.unlink(report)
    return list(data["findings"])


def peer(name: str, binary: str, tree: Path) -> int | None:
    """The peer's generic-api-key findings on TREE (gitleaks and betterleaks take different flags)."""
    report = benchlib.scratch_report(f"{name}-{tree.name}.json")
    if name == "betterleaks":
        cmd = [binary, str(tree), "-s", "--no-banner", "--exit-code", "0", "-o", report]  # its `auto` command
    else:
        cmd = [binary, "dir", str(tree), "--no-banner", "--exit-code", "0", "-f", "json", "-r", report]
    subprocess.run(cmd, capture_output=True, text=True, cwd=tempfile.gettempdir())
    try:
        data = json.loads(Path(report).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    os.unlink(report)
    items = data if isinstance(data, list) else data.get("findings", []) if isinstance(data, dict) else []
    return sum(1 for item in items if PEER_RULE in (item.get("RuleID"), item.get("rule_id"), item.get("ruleId")))


class PeerCounts:
    """Peer counts kept by project, HEAD and binary: the peers do not change between runs, the tree neither."""

    def __init__(self, path: Path, forget: bool) -> None:
        self.path = path
        self.data: dict[str, int | None] = {}
        if path.is_file() and not forget:
            self.data = json.loads(path.read_text(encoding="utf-8"))

    def get(self, name: str, binary: str, project: str, head: str, tree: Path) -> int | None:
        slot = f"{project}@{head} {name} {binary}"
        if slot not in self.data:
            self.data[slot] = peer(name, binary, tree)
            self.path.write_text(json.dumps(self.data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        return self.data[slot]


def record(f: dict[str, object]) -> dict[str, object]:
    """A finding as kept: its place, its secret masked and digested (never the secret itself)."""
    return {"rule_id": f["rule_id"], "path": f["path"], "line": f["line"], "column": f["column"],
            "masked": mask(str(f["secret"])), "sha256": digest(str(f["secret"]))}


def key(project: str, f: dict[str, object]) -> str:
    return f"{f['rule_id']}\0{project}\0{f['path']}\0{f['sha256']}"


def load_verdicts() -> dict[str, dict[str, object]]:
    if not VERDICTS.exists():
        return {}
    rows = json.loads(VERDICTS.read_text(encoding="utf-8"))["verdicts"]
    return {f"{r.get('rule', RULE)}\0{r['project']}\0{r['path']}\0{r['sha256']}": r for r in rows}


def around(tree: Path, path: str, line: int, reach: int = 3) -> str:
    try:
        lines = (tree / path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    lo, hi = max(0, line - 1 - reach), min(len(lines), line + reach)
    return "\n".join(f"    {n + 1:>6}| {lines[n][:220]}" for n in range(lo, hi))


def judged(findings: list[dict[str, object]], project: str, verdicts: dict[str, dict[str, object]]) -> dict[str, int]:
    """Counts of FINDINGS by verdict: real, false, reported (Google stand-ins), unjudged."""
    counts = Counter(str(verdicts.get(key(project, f), {}).get("verdict", "unjudged")) for f in findings)
    return {"findings": len(findings), "real": counts["real"], "false": counts["false"],
            "reported": counts["reported"], "unjudged": counts["unjudged"]}


def tally(project: str, half: str, found: dict[str, list[dict[str, object]]], row: dict[str, object], tree: Path,
          verdicts: dict[str, dict[str, object]], totals: dict[str, Counter[str]],
          unjudged: list[tuple[str, Path, dict[str, object], str]], lost: list[str]) -> None:
    """One project's findings (FOUND, by side) judged: counts into ROW and TOTALS, the unjudged and the
    real ones the after lost listed."""
    listed: set[str] = set()
    for side, findings in found.items():
        mine = [f for f in findings if f["rule_id"] == RULE]
        google = [f for f in findings if f["rule_id"] not in NOT_GOOGLE]
        row[side] = {**judged(mine, project, verdicts), "google": judged(google, project, verdicts),
                     "all_rules": len(findings)}
        for k, v in judged(mine, project, verdicts).items():
            totals[half][f"{side}_{k}"] += v
        for k, v in judged(google, project, verdicts).items():
            totals[half][f"{side}_google_{k}"] += v
        for f in mine + google:  # the before's findings too, so that both sides are judged from one run
            if key(project, f) not in verdicts and key(project, f) not in listed:
                listed.add(key(project, f))
                unjudged.append((project, tree, f, side))
    if "before" in found:
        now = {key(project, f) for f in found["after"]}
        lost += [f"{project}: {f['rule_id']} {f['path']}:{f['line']} {f['masked']}"
                 for f in found["before"] if verdicts.get(key(project, f), {}).get("verdict") in ("real", "reported")
                 and key(project, f) not in now]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--half", type=halves_arg, default=("all",),
                        help="scan only these halves, comma-separated (a held-out half is looked at only at the end)")
    parser.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"))
    parser.add_argument("--trees", type=Path, default=Path("/tmp/keysentry-real-code"))
    parser.add_argument("--rev", help="also scan with the project as of REV (the 'before')")
    parser.add_argument("--source", type=Path,
                        help="scan with the scanner package in DIR (another checkout) instead of this one")
    parser.add_argument("--peers", type=Path, default=Path(os.environ.get("YARDSTICK", "/tmp/yardstick")))
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--rescan-peers", action="store_true", help="forget the kept peer counts")
    parser.add_argument("--prepare", action="store_true",
                        help="only write the trees and count the peers' findings (keysentry is not run)")
    parser.add_argument("--projects", help="comma-separated owner/name subset")
    parser.add_argument("--unjudged", action="store_true", help="print every finding without a verdict, in context")
    parser.add_argument("--python", default=benchlib.keysentry_python())
    parser.add_argument("--json", type=Path, help="also write the figures here (with every finding, masked)")
    parser.add_argument("--recount", type=Path, metavar="JSON",
                        help="scan nothing: count again the findings a --json of an earlier run kept, with today's "
                             "verdicts (a held-out half is scanned once, then judged)")
    args = parser.parse_args(argv)

    projects = [p for p in load_projects() if ("all" in args.half or p["half"] in args.half)
                and (not args.projects or p["project"] in args.projects.split(","))]
    saved: dict[str, dict[str, object]] = {}
    if args.recount:
        try:
            saved = {str(r["project"]): r for r in json.loads(args.recount.read_text(encoding="utf-8"))["projects"]}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise SystemExit(f"--recount {args.recount}: not a --json report of this benchmark ({exc})") from None
        projects = [p for p in projects if p["project"] in saved]
        args.rev = args.source = None
        args.no_peers = True
    before_src = benchlib.export_revision(args.rev) if args.rev else None
    after_src = args.source.resolve() if args.source else None
    if after_src is not None and not (after_src / "scanner" / "__init__.py").is_file():
        raise SystemExit(f"--source {args.source}: no scanner package there")
    peers = {} if args.no_peers else {n: find_peer(n, args.peers) for n in ("gitleaks", "betterleaks")}
    args.trees.mkdir(parents=True, exist_ok=True)
    kept = PeerCounts(args.trees / ".peer-counts.json", args.rescan_peers)
    verdicts = load_verdicts()
    figures: list[dict[str, object]] = []
    totals: dict[str, Counter[str]] = {h: Counter() for h in HALVES}
    unjudged: list[tuple[str, Path, dict[str, object], str]] = []
    lost: list[str] = []
    for p in projects:
        project, half = str(p["project"]), str(p["half"])
        mirror = args.mirrors / project.replace("/", "+") / "repo"
        if not mirror.is_dir():
            print(f"skipped {project}: no mirror at {mirror}", file=sys.stderr)
            continue
        tree = args.trees / project.replace("/", "+")
        if project in saved:
            row = saved[project]
            found: dict[str, list[dict[str, object]]] = row["found"]  # type: ignore[assignment]
            for name in ("gitleaks", "betterleaks"):
                if name in row:
                    totals[half][name] += row[name] or 0  # type: ignore[operator]
            tally(project, half, found, row, tree, verdicts, totals, unjudged, lost)
            figures.append(row)
            continue
        head = checkout(mirror, tree)
        if args.prepare:
            for name, binary in peers.items():
                if binary:
                    kept.get(name, binary, project, head, tree)
            print(f"prepared {project} ({half})", file=sys.stderr)
            continue
        found = {"after": [record(f) for f in keysentry(tree, args.python, after_src, "after")]}
        if before_src is not None:
            found["before"] = [record(f) for f in keysentry(tree, args.python, before_src, "before")]
        row = {"project": project, "half": half, "language": p["language"], "head": head, "found": found}
        tally(project, half, found, row, tree, verdicts, totals, unjudged, lost)
        for name, binary in peers.items():
            row[name] = kept.get(name, binary, project, head, tree) if binary else None
            totals[half][name] += row[name] or 0  # type: ignore[operator]
        figures.append(row)

    if args.prepare:
        return 0
    has_before = any("before" in r for r in figures)
    shown = [n for n in ("gitleaks", "betterleaks") if any(n in r for r in figures)]

    def cell(s: object) -> str:
        if not isinstance(s, dict):
            return "-"
        text = f"{s['findings']}" + (f" ({s['real']} real, {s['false']} false" if s["findings"] else "")
        text += (f", {s['reported']} stand-in" if s.get("reported") else "")
        text += (f", {s['unjudged']} ?" if s["unjudged"] else "") + (")" if s["findings"] else "")
        return text

    for half in HALVES:
        rows = [[r["project"], r["language"], *([cell(r.get("before"))] if has_before else []), cell(r.get("after")),
                 cell(r["after"]["google"]),  # type: ignore[index]
                 *(r.get(n, "-") for n in shown)] for r in figures if r["half"] == half]
        if not rows:
            continue
        print(f"\n{half} half ({len(rows)} projects)")
        print(benchlib.table(["project", "language", *([f"{RULE} before"] if has_before else []), RULE,
                              "Google rules", *(f"{n} {PEER_RULE}" for n in shown)], rows))
    print()
    ok = not lost
    for half in HALVES:
        t = totals[half]
        if not any(r["half"] == half for r in figures):
            continue
        for side in ("before", "after") if has_before else ("after",):
            n = t[f"{side}_findings"]
            judged_n = t[f"{side}_real"] + t[f"{side}_false"]
            share = t[f"{side}_real"] / judged_n if judged_n else 1.0
            print(f"{half:>8} {side:>6}: {n} {RULE} findings, {t[f'{side}_real']} real, {t[f'{side}_false']} false, "
                  f"{t[f'{side}_unjudged']} unjudged: precision {share:.0%}; Google rules: "
                  f"{t[f'{side}_google_findings']} findings, {t[f'{side}_google_real']} real, "
                  f"{t[f'{side}_google_reported']} stand-ins reported, {t[f'{side}_google_false']} false, "
                  f"{t[f'{side}_google_unjudged']} unjudged")
            if side == "after":
                ok = ok and share >= 0.9 and not t["after_unjudged"] and not t["after_google_false"] \
                    and not t["after_google_unjudged"]
        if shown:
            print(f"{'':>8} peers: " + ", ".join(f"{n} {PEER_RULE} {t[n]}" for n in shown))
    print(f"targets: >= 90% of {RULE} findings real on each half, every Google-rule finding real or a "
          f"knowing stand-in, nothing unjudged: {'PASS' if ok and not lost else 'FAIL'}; "
          f"real findings lost: {len(lost) if has_before else 'n/a (no --rev)'}")
    for item in lost:
        print(f"  lost: {item}")
    if args.unjudged:
        for project, tree, f, side in unjudged:
            print(f"\n{project} {f['rule_id']} {f['path']}:{f['line']}:{f['column']} {f['masked']} "
                  f"sha256={f['sha256']}" + ("" if side == "after" else " (the before's only)"))
            print(around(tree, str(f["path"]), int(f["line"])))  # type: ignore[call-overload]
    if args.json:
        args.json.write_text(json.dumps({"projects": figures, "totals": {h: dict(t) for h, t in totals.items()}},
                                        indent=2) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
