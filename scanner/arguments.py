"""The command line's grammar: every command and option, the checks on their values (each a one-line
UsageError, exit 2), and what a parsed `scan`-like command asks the scan for. The CLI (scanner.cli)
and the GitHub Action (scanner.action) both read their arguments with it."""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from scanner import __version__
from scanner.domain import Mode
from scanner.errors import KeysentryError, UsageError
from scanner.report import FORMATS

if TYPE_CHECKING:
    from scanner.scan import Request

DEFAULT_BASELINE = ".keysentry-baseline.json"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse puts "argument --jobs: " before what a type check says, which names the option
        # itself ("--jobs must be at least 1"): say it once.
        option, sep, rest = message.partition(": ")
        if sep and option.startswith("argument ") and rest.startswith(option.removeprefix("argument ").split("/")[0]):
            message = rest
        raise UsageError(message)


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--jobs takes a whole number, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("--jobs must be at least 1")
    return value


def _size(text: str) -> int:
    from scanner.config import parse_size

    try:
        return parse_size(int(text) if text.isdigit() else text, "--max-file-size")
    except KeysentryError:
        raise argparse.ArgumentTypeError(f"--max-file-size takes a positive number of bytes or a size such as "
                                         f"500KB, 25MB or 1GiB, not {text!r}") from None


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--repo-timeout takes a number of seconds, not {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("--repo-timeout must be more than 0 seconds")
    return value


def _timeout(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--verify-timeout takes a number of seconds, not {text!r}") from None
    if not 0 < value <= 600:
        raise argparse.ArgumentTypeError("--verify-timeout must be more than 0 and at most 600 seconds")
    return value


def _max_requests(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--verify-max-requests takes a whole number, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("--verify-max-requests must be at least 1")
    return value


def _verification(p: argparse.ArgumentParser) -> None:
    """--verify for the commands a person runs (scan, audit); never the hooks'."""
    p.add_argument("--verify", action="store_true",
                   help="ask Google whether each Google key or token found is live (sends each one to Google once)")
    p.add_argument("--verify-timeout", type=_timeout, default=10.0, metavar="SECONDS",
                   help="how long each verification request may take in all (default 10)")


def _max_age(text: str) -> float:
    from scanner.verify_cache import parse_age

    try:
        return parse_age(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _scan_verification(p: argparse.ArgumentParser, per: str = "in this run") -> None:
    """The verification options of `scan` and `audit` (whose workers each verify a repository)."""
    p.add_argument("--verify-max-requests", type=_max_requests, default=None, metavar="N",
                   help=f"send at most N verification requests {per} (default 2000); "
                        "the keys left over are `unknown`")
    p.add_argument("--verify-cache", type=Path, metavar="FILE",
                   help="reuse verdicts kept in FILE (by SHA-256 of each secret, never the secret) and add new ones")
    p.add_argument("--verify-max-age", type=_max_age, default=None, metavar="AGE",
                   help="reuse a cached verdict only this long (default 24h; e.g. 90m, 2d, 0 = never)")
    p.add_argument("--verify-owner", action="store_true",
                   help="with your own Application Default Credentials, read each API key's real restrictions "
                        "(implies --verify)")


def _reporting(p: argparse.ArgumentParser, formats: Sequence[str], progress: str) -> None:
    """The options of the commands that report findings (scan, audit)."""
    # Any case: `--format SARIF` is what a user who read "SARIF" types.
    p.add_argument("--format", choices=formats, default="text", type=str.lower,
                   help="report format, in any case (default: text)")
    p.add_argument("--output", type=Path, metavar="FILE", help="write the report here (default: standard output)")
    p.add_argument("--baseline", type=Path, metavar="FILE", help="do not report findings recorded in FILE")
    p.add_argument("--show-secrets", action="store_true", help="print secrets in full (default: redacted)")
    p.add_argument("--quiet", "-q", action="store_true", help=progress)
    _verification(p)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, metavar="FILE",
                   help="config file (default: [tool.keysentry] in pyproject.toml, else .keysentry.toml)")
    p.add_argument("--jobs", type=_jobs, metavar="N", help="worker processes (default: the number of CPUs)")
    p.add_argument("--max-file-size", type=_size, metavar="SIZE",
                   help="skip files and blobs larger than this (default 1GB, or the config's max-file-size; "
                        "files past 64MB are read a piece at a time, in bounded memory)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="keysentry", description="Find leaked Google API keys and hardcoded api-key literals.")
    parser.add_argument("--version", action="version", version=f"keysentry {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    scan = sub.add_parser("scan", help="scan a working tree, the index, a commit range, the history or stdin",
                          description="Scan for secrets. Exit 0: nothing found, 1: findings, 2: error.")
    scan.add_argument("path", nargs="?", default=".", help='folder or file to scan (default "."); "-" reads stdin')
    mode = scan.add_mutually_exclusive_group()
    mode.add_argument("--history", action="store_true", help="every blob reachable from any ref, branch, tag or stash")
    scan.add_argument("--unreachable", action="store_true",
                      help="with --history: also commits only a reflog names and dangling objects (git fsck), "
                           "each finding marked as reachable from no ref")
    mode.add_argument("--staged", action="store_true", help="exactly what `git commit` would record now")
    mode.add_argument("--range", dest="revision_range", metavar="A..B",
                      help="the commits in a git revision range; the policy (config, baseline) is the base's (A)")
    scan.add_argument("--policy-from", metavar="REV",
                      help="read the policy (config, baseline, which inline markers count) from REV's tree, "
                           "never the working tree (CI: the target branch's commit)")
    scan.add_argument("--show-suppressed", action="store_true",
                      help="list the findings the policy silenced (baseline, config, inline marker), with the cause")
    scan.add_argument("--no-inline-allow", action="store_true",
                      help="no inline marker (keysentry:allow, gitleaks:allow, pragma: allowlist secret) "
                           "silences anything")
    _reporting(scan, tuple(FORMATS), progress="no progress bar")
    _scan_verification(scan)
    _common(scan)

    base = sub.add_parser("baseline", help="record today's findings so that later scans report only new ones",
                          description="Write the fingerprints of the current findings (no secrets, no line numbers).")
    base.add_argument("path", nargs="?", default=".",
                      help='the repository or folder whose findings to record (default "."); the baseline '
                           "is written in it unless --output says elsewhere")
    base.add_argument("--history", action="store_true", help="baseline the whole history instead of the working tree")
    base.add_argument("--unreachable", action="store_true",
                      help="with --history: also what only reflogs and dangling objects hold (scan --unreachable)")
    base.add_argument("--output", type=Path, metavar="FILE", help=f"baseline file (default: {DEFAULT_BASELINE})")
    _common(base)

    audit = sub.add_parser("audit", help="scan the whole history of many repositories, local or cloned",
                           description="Scan every history of many repositories (paths or clone URLs), here "
                                       "or on a Dask cluster. Exit 0: nothing found, 1: findings, "
                                       "2: a repository failed (or another error).")
    audit.add_argument("sources", nargs="*", metavar="SOURCE", help="a repository's path or a clone URL")
    audit.add_argument("--repos", type=Path, metavar="FILE", help="more sources, one a line (# comments)")
    audit.add_argument("--workdir", type=Path, metavar="DIR",
                       help="keep clones and each repository's result here, so a rerun resumes "
                            "(default: a temporary folder, removed afterwards)")
    audit.add_argument("--cluster", metavar="ADDRESS",
                       help="run one task per repository on this Dask scheduler (tcp://host:8786, tls://…)")
    audit.add_argument("--unreachable", action="store_true",
                       help="also scan commits only a reflog names and dangling objects (for copied repositories)")
    audit.add_argument("--repo-timeout", type=_seconds, metavar="S",
                       help="give up on a repository whose clone and scan take longer than S seconds")
    _reporting(audit, tuple(FORMATS), progress="no progress display")
    _scan_verification(audit, per="per repository")
    _common(audit)

    fix = sub.add_parser("fix", help="move found keys out of the code (a dry run unless --apply)",
                         description="Fix what a scan of the working tree finds: keys in code become environment "
                                     "lookups (values kept in a git-ignored .env), committed .env files are "
                                     "untracked, keys that ship with an app get restriction commands. Prints the "
                                     "changes as a diff unless --apply. Exit 0: nothing to fix, 1: changes made "
                                     "or proposed, 2: error.")
    fix.add_argument("path", nargs="?", default=".", help='the repository or a folder in it (default ".")')
    fix.add_argument("--apply", action="store_true", help="make the changes (default: show them)")
    fix.add_argument("--show-secrets", action="store_true", help="print secrets in full (default: redacted)")
    fix.add_argument("--no-keep-values", dest="keep_values", action="store_false",
                     help="do not write the keys' values to .env")
    fix.add_argument("--baseline", type=Path, metavar="FILE", help="do not fix findings recorded in FILE")
    fix.add_argument("--history", action="store_true",
                     help="plan the clean-up of the secrets in the git history (rotation, git filter-repo, push)")
    fix.add_argument("--mirror", type=Path, metavar="DIR",
                     help="with --history --apply: the new folder to rewrite a mirror clone in (never pushed)")
    _verification(fix)
    _common(fix)

    sub.add_parser("rules", help="list the rules",
                   description="List every rule: its id (what reports, baselines and `disable` name) and what it "
                               "finds, then the matching engine in use. Takes no arguments.")

    inst = sub.add_parser("install-hooks", help="install the git pre-commit and pre-push hooks (no framework needed), "
                                                "or a server's pre-receive hook (--server)",
                          description="Write keysentry's pre-commit and pre-push hooks into the repository's hooks "
                                      "folder (honouring core.hooksPath); with --server, the pre-receive hook into "
                                      "a bare repository; with --uninstall, remove them again. Exit 2 if a hook "
                                      "keysentry did not write is in the way and --force is not given.")
    inst.add_argument("path", nargs="?", default=".", help='the repository (default ".")')
    inst.add_argument("--force", action="store_true",
                      help="replace hooks keysentry did not write (each is kept as HOOK.keysentry-backup)")
    inst.add_argument("--server", action="store_true",
                      help="install the server's pre-receive hook into the bare repository PATH instead")
    inst.add_argument("--config", type=Path, metavar="FILE",
                      help="--server: the server's config file, the only policy the hook takes (never one "
                           "from the pushed commits)")
    inst.add_argument("--uninstall", action="store_true",
                      help="remove the hooks keysentry wrote (with --server: the pre-receive hook), putting back "
                           "any hook they replaced; hooks keysentry did not write are left alone")

    # What the hooks run; not a command for people, so it is left out of the help.
    hook = sub.add_parser("hook", description="What keysentry's git hooks run; install them with install-hooks "
                                              "(pre-push) or install-hooks --server (pre-receive), or through the "
                                              "pre-commit framework (pre-commit). pre-commit checks the files the "
                                              "framework names, pre-push the commits being pushed, pre-receive "
                                              "what a push brings to a server; each rejects the commit or push on "
                                              "a finding. Exit 0: nothing found, 1: findings (rejected), 2: error.")
    hook.add_argument("hook_name", choices=("pre-commit", "pre-push", "pre-receive"), metavar="HOOK",
                      help="pre-commit (the pre-commit framework's hook), pre-push (on the pusher's machine) or "
                           "pre-receive (on the server; reads 'old new ref' lines)")
    hook.add_argument("arguments", nargs="*", metavar="ARG",
                      help="pre-commit: the files to check, as the framework names them (those in the staged "
                           "change: what the commit adds to them; else their contents); pre-push: the remote's "
                           "name and URL, given by git (its input is then read); pre-receive: none")
    hook.add_argument("--baseline", type=Path, metavar="FILE", help="do not report findings recorded in FILE")
    # pre-receive: the server's own budget and failure mode (else its config's [pre-receive] table).
    hook.add_argument("--timeout", type=_budget, metavar="SECONDS",
                      help="pre-receive: the scan's time budget (default 5, or the server config's)")
    hook.add_argument("--fail", choices=("closed", "open"),
                      help="pre-receive: when the budget runs out, reject the push (closed, the default) or "
                           "accept it and log it (open)")
    hook.set_defaults(path=".")
    _common(hook)

    # The GitHub Action's step (scanner/action.py), configured by the runner's environment.
    sub.add_parser("github-action")
    return parser


def _budget(text: str) -> float:
    from scanner.receive import parse_timeout

    try:
        return parse_timeout(float(text), "--timeout")
    except (ValueError, KeysentryError) as exc:
        raise argparse.ArgumentTypeError(str(exc) if isinstance(exc, KeysentryError) else
                                         f"--timeout takes a number of seconds, not {text!r}") from None


def scan_request(args: argparse.Namespace, mode: Mode, baseline: Path | None) -> Request:
    from scanner import parallel
    from scanner.scan import Request

    progress = mode in ("history", "range") and not getattr(args, "quiet", False) and sys.stderr.isatty()
    return Request(
        mode=mode,
        path=Path(args.path),
        revision_range=getattr(args, "revision_range", None),
        config=args.config,
        baseline=baseline,
        jobs=args.jobs or parallel.default_jobs(),
        max_file_size=args.max_file_size,
        progress=progress,
        policy_from=getattr(args, "policy_from", None),
        # `scan --range` is a gate (CI on a change): the policy is the base's. The pre-push hook's
        # range is the developer's own push, with the working tree's policy.
        policy_base=mode == "range" and args.command == "scan",
        no_inline_allow=getattr(args, "no_inline_allow", False),
        unreachable=getattr(args, "unreachable", False),
    )


def scan_mode(args: argparse.Namespace) -> Mode:
    if getattr(args, "unreachable", False) and not args.history:
        raise UsageError("--unreachable adds to --history: scan --history --unreachable [PATH]")
    if args.path == "-":
        if args.history or args.staged or args.revision_range is not None:
            raise UsageError("standard input ('-') cannot be combined with --history, --staged or --range")
        return "stdin"
    if args.history:
        return "history"
    if args.staged:
        return "staged"
    if args.revision_range is not None:
        if not args.revision_range.strip():
            raise UsageError("--range needs a revision range such as origin/main..HEAD")
        return "range"
    return "worktree"


def parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """ARGV read by PARSER (build_parser()). The pre-commit framework puts a hook's `args:` (options)
    before the file names it passes, and argparse stops filling a list of positionals at the first
    option: the names after the options are the pre-commit hook's files too."""
    args, extra = parser.parse_known_args(argv)
    if extra and getattr(args, "hook_name", None) == "pre-commit" and not any(e.startswith("-") for e in extra):
        args.arguments = [*args.arguments, *extra]
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    return args
