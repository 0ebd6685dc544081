"""The GitHub Action's one step (action.yml runs `keysentry github-action`): pick what to scan from
the event that started the workflow, scan it once, and hand GitHub each of its reports.

- `pull_request` (and `pull_request_target`, `merge_group`): the pull request's commits, base..head;
- `push`: the pushed commits, before..after; for a new branch, or a force push whose old tip the
  clone no longer has, the commits of `after` that no other branch of the remote holds;
- anything else (`schedule`, `workflow_dispatch`, …): the whole history.

It writes SARIF to the `sarif-file` input's path, prints one `::error` annotation per finding
(--format github), appends the Markdown summary to $GITHUB_STEP_SUMMARY, and sets the `sarif-file`,
`findings` and `mode` outputs in $GITHUB_OUTPUT. Inputs arrive as INPUT_* variables (action.yml
sets them from `with:`), as they would for any action.
"""
from __future__ import annotations

import json
import secrets
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from scanner import gitcmd
from scanner.errors import UsageError
from scanner.exitcodes import Exit

SHALLOW = ("this checkout is shallow, so the commits to scan are not all there: give actions/checkout "
           "`fetch-depth: 0` (`with: fetch-depth: 0`)")
_PR_EVENTS = ("pull_request", "pull_request_target")


@dataclass(frozen=True)
class Target:
    """What one run scans: a `--range` (or None for `--history`), and why, for the summary."""

    revision_range: str | None
    reason: str
    # The trusted revision whose policy applies (the pull request's base, the push's old tip, the
    # default branch for a new branch's push), or None: for a range, built-in defaults (no revision
    # to trust); for the whole history (a scheduled or manual run), the work tree's.
    policy: str | None = None


def _event(environ: Mapping[str, str]) -> dict[str, object]:
    path = environ.get("GITHUB_EVENT_PATH")
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read the event file {path} (GITHUB_EVENT_PATH): {exc}") from None
    if not isinstance(data, dict):
        raise UsageError(f"the event file {path} (GITHUB_EVENT_PATH) does not hold a JSON object")
    return data


def _field(data: object, *keys: str) -> str:
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, str) else ""


def _oid(repo: gitcmd.Repo, text: str, what: str) -> str:
    """TEXT when it is an object id of this repository's hash: the only thing from the event that
    reaches git's command line (an event is data anyone opening a pull request shapes)."""
    if len(text) != repo.hash_len or text.strip("0123456789abcdef"):
        raise UsageError(f"the event's {what} {text[:80]!r} is not an object id")
    return text


def _has_commit(repo: gitcmd.Repo, oid: str) -> bool:
    out = gitcmd.run(repo, "cat-file", "--batch-check=%(objecttype)", input=f"{oid}^{{commit}}\n".encode())
    return out.strip() == b"commit"


def _other_branches(repo: gitcmd.Repo, ref: str) -> list[str]:
    """The remote-tracking branches (what actions/checkout fetched) other than the pushed REF's
    own; symbolic ones (origin/HEAD) are left out, as they name a branch already listed."""
    branch = ref.removeprefix("refs/heads/")
    out = gitcmd.run(repo, "for-each-ref", "--format=%(refname)%00%(symref)", "refs/remotes/")
    names = []
    for line in out.decode("utf-8", "surrogateescape").splitlines():
        name, _, symref = line.partition("\0")
        remote_branch = name.removeprefix("refs/remotes/").partition("/")[2]
        if not symref and remote_branch != branch:
            names.append(name)
    return names


def _new_commits(repo: gitcmd.Repo, after: str, ref: str, why: str, default_branch: str) -> Target:
    others = _other_branches(repo, ref)
    policy = _default_branch(repo, default_branch, others)
    if not others:
        return Target(after, f"{why}: every commit of {after[:12]}, as no other branch exists", policy)
    return Target(" ".join([after, *(f"^{name}" for name in others)]),
                  f"{why}: the commits of {after[:12]} that no other branch holds", policy)


def _default_branch(repo: gitcmd.Repo, name: str, others: Sequence[str]) -> str | None:
    """The repository's default branch as fetched (refs/remotes/origin/main), where the policy of a
    push that has no old tip comes from; None when the clone lacks it."""
    for ref in others:
        if name and ref.removeprefix("refs/remotes/").partition("/")[2] == name:
            out = gitcmd.run(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}",
                             ok=(0, 1))
            oid = out.decode("ascii", "replace").strip()
            return oid or None
    return None


def target(repo: gitcmd.Repo, event_name: str, event: Mapping[str, object]) -> Target | None:
    """What to scan for EVENT_NAME's EVENT; None when the event sends no commit (a deleted branch)."""
    if event_name in _PR_EVENTS:
        base = _oid(repo, _field(event, "pull_request", "base", "sha"), "pull_request.base.sha")
        head = _oid(repo, _field(event, "pull_request", "head", "sha"), "pull_request.head.sha")
        return Target(f"{base}..{head}", f"pull request: its commits, {base[:12]}..{head[:12]}", base)
    if event_name == "merge_group":
        base = _oid(repo, _field(event, "merge_group", "base_sha"), "merge_group.base_sha")
        head = _oid(repo, _field(event, "merge_group", "head_sha"), "merge_group.head_sha")
        return Target(f"{base}..{head}", f"merge queue: {base[:12]}..{head[:12]}", base)
    if event_name == "push":
        before = _oid(repo, _field(event, "before"), "before")
        after = _oid(repo, _field(event, "after"), "after")
        ref = _field(event, "ref")
        default_branch = _field(event, "repository", "default_branch")
        if gitcmd.is_null_oid(after):
            return None
        if gitcmd.is_null_oid(before):
            return _new_commits(repo, after, ref, "push of a new branch", default_branch)
        if not _has_commit(repo, before):
            # A force push: the old tip was rewritten away and the clone never fetched it.
            return _new_commits(repo, after, ref, "force push", default_branch)
        return Target(f"{before}..{after}", f"push: the pushed commits, {before[:12]}..{after[:12]}", before)
    return Target(None, f"{event_name or 'manual run'}: the whole history")


def _inputs(environ: Mapping[str, str], name: str, default: str = "") -> str:
    return environ.get(f"INPUT_{name.upper().replace('-', '_')}", "").strip() or default


def _append(path: str | None, text: str) -> None:
    if not path:
        return
    try:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


def _output(name: str, value: str) -> str:
    """One `name<<DELIMITER` entry of $GITHUB_OUTPUT: a value may hold any character, even a newline."""
    delimiter = f"keysentry_{secrets.token_hex(8)}"
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


def run(environ: Mapping[str, str]) -> int:
    from scanner import report, scan
    from scanner.arguments import build_parser, scan_mode, scan_request
    from scanner.console import emit, say, tree_of
    from scanner.exitcodes import gate_status

    workspace = Path(environ.get("GITHUB_WORKSPACE") or ".")
    path = workspace / _inputs(environ, "path", ".")
    repo = gitcmd.find(path)
    if repo is None:
        raise UsageError(f"not a git repository: {path} (check the repository out with actions/checkout first)")
    if gitcmd.run(repo, "rev-parse", "--is-shallow-repository").strip() == b"true":
        raise UsageError(SHALLOW)
    sarif_file = workspace / _inputs(environ, "sarif-file", "keysentry.sarif")
    event_name = environ.get("GITHUB_EVENT_NAME", "")
    chosen = target(repo, event_name, _event(environ))
    if chosen is None:
        say("keysentry: this push deletes a branch: no commits to scan")
        _append(environ.get("GITHUB_OUTPUT"), _output("findings", "0") + _output("mode", "none"))
        return Exit.CLEAN

    argv = ["scan", str(path), "--quiet", *(["--range", chosen.revision_range] if chosen.revision_range
                                            else ["--history"])]
    for option in ("baseline", "config"):
        if _inputs(environ, option):
            argv += [f"--{option}", str(workspace / _inputs(environ, option))]
    if chosen.policy is not None:
        # The trusted revision's policy, never the checked-out merge commit's (the change's own).
        argv += ["--policy-from", chosen.policy]
    argv += shlex.split(_inputs(environ, "args"))
    args = build_parser().parse_args(argv)
    if args.format != "text" or args.output is not None:
        raise UsageError("the action writes its own reports: leave --format and --output out of `args`")
    say(f"keysentry: {chosen.reason}")
    mode = scan_mode(args)
    result = scan.run(scan_request(args, mode, args.baseline))
    for warning in result.stats.warnings:
        say(f"keysentry: warning: {warning}")
    options = report.Options(show_secrets=args.show_secrets, show_suppressed=args.show_suppressed)
    emit(report.render(result, "sarif", options), sarif_file, tree_of(str(path)), utf8=True)
    emit(report.render(result, "github", options), None)
    summary = report.render(result, "markdown", options)
    _append(environ.get("GITHUB_STEP_SUMMARY"), f"{summary}\n_{chosen.reason}_\n")
    _append(environ.get("GITHUB_OUTPUT"), _output("sarif-file", str(sarif_file))
            + _output("findings", str(len(result.findings))) + _output("mode", mode))
    count = len(result.findings)
    say(f"keysentry: {count} finding{'s' * (count != 1)}; SARIF written to {sarif_file}")
    fail = _inputs(environ, "fail-on-findings", "true").lower() not in ("false", "no", "0", "off")
    status = gate_status(result)
    return status if status == Exit.ERROR or (status == Exit.FINDINGS and fail) else Exit.CLEAN
