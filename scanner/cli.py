"""Command line: argument parsing and exit codes, nothing else.

Exit status: 0 nothing found, 1 findings reported, 2 usage or runtime error, 130 interrupted
(Ctrl-C), 128 + N for another terminating signal N (143: SIGTERM, 129: SIGHUP, 138: SIGUSR1), 141
when the reader of standard output went away before a scan had a status of its own.
"""
from __future__ import annotations

import argparse
import codecs
import io
import os
import signal
import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from scanner import PROJECT_URL, __version__
from scanner.domain import Mode
from scanner.errors import KeysentryError, UsageError
from scanner.exitcodes import Exit, found
from scanner.report import FORMATS

if TYPE_CHECKING:
    from scanner.models import Result
    from scanner.report import Options
    from scanner.scan import Request
    from scanner.verify import Client
    from scanner.verify_cache import Cache as VerifyCache

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
                                              "(pre-push) or install-hooks --server (pre-receive). pre-push scans "
                                              "the commits being pushed, pre-receive what a push brings to a server; "
                                              "either rejects the push on a finding. Exit 0: nothing found, "
                                              "1: findings (the push is rejected), 2: error.")
    hook.add_argument("hook_name", choices=("pre-push", "pre-receive"), metavar="HOOK",
                      help="pre-push (on the pusher's machine) or pre-receive (on the server; reads "
                           "'old new ref' lines)")
    hook.add_argument("remote", nargs="?", help="given by git: the remote's name (its input is then read)")
    hook.add_argument("url", nargs="?", help="given by git: the remote's URL")
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


def _request(args: argparse.Namespace, mode: Mode, baseline: Path | None) -> Request:
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


def _mode(args: argparse.Namespace) -> Mode:
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


def _tree(path: str) -> Path:
    """The repository holding PATH (its top folder), else PATH's folder: the tree whose symlinks
    were chosen by whoever wrote it, so that no report or baseline is written through them."""
    named = Path.cwd() if path == "-" else Path(os.path.abspath(path))
    folder = named if named.is_dir() else named.parent
    for candidate in (folder, *folder.parents):
        if os.path.lexists(candidate / ".git"):
            return candidate
    return folder


def _emit(text: str | Iterable[str], output: Path | None, tree: Path | Sequence[Path] | None = None, *,
          utf8: bool = False) -> None:
    """TEXT (one string, or chunks made as they are written) to OUTPUT (TREE: the scanned tree, see
    write_atomic) or standard output. UTF8: a JSON or SARIF report, which is UTF-8 by definition
    (RFC 8259), whatever the locale says."""
    chunks = (text,) if isinstance(text, str) else text
    if output is None:
        try:
            if utf8 and not _is_utf8(sys.stdout) and hasattr(sys.stdout, "buffer"):
                sys.stdout.flush()
                for chunk in chunks:
                    sys.stdout.buffer.write(chunk.encode("utf-8"))
                sys.stdout.buffer.flush()
            else:
                for chunk in chunks:
                    sys.stdout.write(chunk)
                sys.stdout.flush()
        except BrokenPipeError:
            # `keysentry scan . | head -0`: the reader went away, which changes nothing about what
            # the scan found, so its status stands.
            _drop(sys.stdout)
    else:
        from scanner.output import write_atomic

        write_atomic(output, text, tree=tree)


def _drop(stream: TextIO) -> None:
    """Point STREAM at /dev/null: what is still buffered in it then goes nowhere at exit instead
    of raising BrokenPipeError again (the Python documentation's advice on SIGPIPE)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError, io.UnsupportedOperation):
        pass


def _say(line: str) -> None:
    """One line for a person on standard error, control characters escaped (a file name can hold ESC)."""
    from scanner.report import printable

    try:
        print(printable(line), file=sys.stderr, flush=True)
    except BrokenPipeError:
        _drop(sys.stderr)


def _verifier(args: argparse.Namespace) -> Client | None:
    if not args.verify:
        return None
    from scanner import verify

    limit = getattr(args, "verify_max_requests", None) or verify.DEFAULT_MAX_REQUESTS
    return verify.Client(args.verify_timeout, verify.endpoint_override(os.environ), max_requests=limit)


def _verify_cache(args: argparse.Namespace) -> VerifyCache | None:
    if args.verify_cache is None:
        return None
    from scanner.verify_cache import DEFAULT_MAX_AGE, Cache

    return Cache(args.verify_cache, DEFAULT_MAX_AGE if args.verify_max_age is None else args.verify_max_age)


def _report_options(args: argparse.Namespace) -> Options:
    """Colour and width for a report a person reads on this terminal; plain, 100 wide, elsewhere."""
    from scanner.report import Options

    to_terminal = args.output is None and sys.stdout.isatty()
    color = to_terminal and args.format == "text" and not os.environ.get("NO_COLOR")
    width = os.get_terminal_size(sys.stdout.fileno()).columns if to_terminal else 100
    return Options(show_secrets=args.show_secrets, color=color, width=width,
                   show_suppressed=getattr(args, "show_suppressed", False))


def _cmd_scan(args: argparse.Namespace) -> int:
    from scanner import report, scan

    # Made first: a bad KEYSENTRY_VERIFY_ENDPOINT, cache file or missing credentials are an error
    # before the scan, not after it.
    args.verify = args.verify or args.verify_owner
    client = _verifier(args)
    cache = _verify_cache(args) if client is not None else None
    owner = None
    if client is not None and args.verify_owner:
        from scanner import verify_owner

        owner = verify_owner.credentials(client)
    mode = _mode(args)
    result = scan.run(_request(args, mode, args.baseline))
    if mode == "staged" and result.stats.files == 0 and not result.findings and os.environ.get("PRE_COMMIT") == "1":
        # The pre-commit framework runs its hooks only when files match, and a commit with nothing
        # staged has none: nothing staged here means `pre-commit run --all-files` (or --files), which
        # asks for the files' contents. A staged-only check would say "Passed" on a repository
        # full of committed keys.
        result = scan.run(_request(args, "worktree", args.baseline))
    if client is not None:
        from scanner import verify

        result = verify.verify_result(result, client, cache, owner)
        if cache is not None:
            try:
                cache.save()
            except OSError as exc:  # the verdicts stand; only the next run will ask again
                _say(f"keysentry: warning: cannot write --verify-cache {args.verify_cache}: {exc.strerror or exc}")
    for warning in result.stats.warnings:
        _say(f"keysentry: warning: {warning}")
    options = _report_options(args)
    tree = _tree(args.path) if args.output is not None else None
    _emit(report.stream(result, args.format, options), args.output, tree, utf8=args.format != "text")
    if args.output is not None and result.findings:
        # A failing CI job whose report went to a file would otherwise say nothing in its log.
        count = len(result.findings)
        _say(f"keysentry: {count} finding{'s' * (count != 1)} written to {args.output}")
    return gate_status(result)


def gate_status(result: "Result") -> Exit:
    """1 with findings; else 2 when git could not read an object, or a gate skipped a file for its size (said on standard error, by
    name: a gate that passed a file unread would let a padded key through); else 0."""
    if result.unscanned:
        from scanner.report import display_path, printable

        count = result.stats.skipped_large
        named = ", ".join(printable(display_path(p)) for p in result.unscanned)
        named += ", …" if count > len(result.unscanned) else ""
        _say(f"keysentry: {'warning' if result.findings else 'error'}: {count} file{'s' * (count != 1)} not scanned, "
             f"larger than --max-file-size: {named} (raise --max-file-size, or set max-file-size in the base's config)")
    # A scan that could not read everything is never clean (missing git objects, a skipped file).
    return found(bool(result.findings), complete=not result.unscanned and not result.stats.missing_objects)


def _cmd_baseline(args: argparse.Namespace) -> int:
    from scanner import baseline, scan

    result = scan.run(_request(args, "history" if args.history else "worktree", None))
    folder = Path(args.path) if Path(args.path).is_dir() else Path(args.path).parent
    target = args.output or folder / DEFAULT_BASELINE
    count = baseline.write(target, result.findings, tree=_tree(args.path))
    _say(f"keysentry: wrote {count} fingerprint{'s' * (count != 1)} to {target}")
    return Exit.CLEAN


def _cmd_audit(args: argparse.Namespace) -> int:
    from scanner import audit, parallel
    from scanner.report import audit as audit_report
    from scanner.report.audit_progress import AuditProgress

    # A bad KEYSENTRY_VERIFY_ENDPOINT, cache file or missing credentials are an error now, not in
    # every repository.
    args.verify = args.verify or args.verify_owner
    client = _verifier(args)
    if client is not None:
        _verify_cache(args)
        if args.verify_owner:
            from scanner import verify_owner

            verify_owner.credentials(client)
    sources = audit.read_sources(args.sources, args.repos)
    request = audit.AuditRequest(
        sources=sources, workdir=args.workdir, cluster=args.cluster, jobs=args.jobs or parallel.default_jobs(),
        repo_timeout=args.repo_timeout, show_secrets=args.show_secrets, config=args.config,
        max_file_size=args.max_file_size, baseline=args.baseline,
        verify_timeout=args.verify_timeout if args.verify else None, verify_max_requests=args.verify_max_requests,
        verify_cache=args.verify_cache if args.verify else None, verify_max_age=args.verify_max_age,
        verify_owner=args.verify_owner, unreachable=args.unreachable,
    )
    with AuditProgress(not args.quiet and sys.stderr.isatty(), len(sources)) as shown:
        result = audit.run(request, shown.working, shown.finished)
    options = _report_options(args)
    # Each local repository's symlinks were chosen by whoever wrote it, as a scanned tree's are.
    from scanner.sources.remote import is_url

    trees = tuple(_tree(s) for s in sources if not is_url(s) and os.path.isdir(s)) if args.output else ()
    _emit(audit_report.render(result, args.format, options), args.output, trees, utf8=args.format != "text")
    if args.output is not None:
        # A job whose report went to a file would otherwise say nothing in its log.
        _say(f"keysentry: {audit_report.summary(result)}; report written to {args.output}")
    if any(r.view is not None and r.view.findings for r in result.repos):
        return Exit.FINDINGS
    incomplete = any(r.error is not None or (r.view is not None and r.view.stats.missing_objects) for r in result.repos)
    return Exit.ERROR if incomplete else Exit.CLEAN


def _cmd_install_hooks(args: argparse.Namespace) -> int:
    from scanner import install

    if args.uninstall:
        if args.config is not None:
            raise UsageError("--config is for installing a server hook, not for --uninstall")
        folder, done = install.uninstall(Path(args.path), server=args.server, force=args.force)
    elif args.server:
        folder, done = install.install_server(Path(args.path), args.config, force=args.force)
    elif args.config is not None:
        raise UsageError("--config is for --server: the client hooks take the policy from the working tree")
    else:
        folder, done = install.install(Path(args.path), force=args.force)
    print(f"keysentry: hooks in {folder}: " + "; ".join(done))
    return Exit.CLEAN


def _cmd_hook(args: argparse.Namespace) -> int:
    from scanner import hook, report

    if args.hook_name == "pre-receive":
        return _cmd_pre_receive(args)

    # git gives a plain hook the remote as arguments and the refs on stdin; the pre-commit
    # framework gives none and describes the push in the environment.
    # Ref names are bytes to git, not always UTF-8: read them whatever the locale says.
    stdin_text = sys.stdin.buffer.read().decode("utf-8", "surrogateescape") if args.remote else None
    result = hook.pre_push(_request(args, "range", args.baseline), args.remote, stdin_text, os.environ)
    color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
    options = report.Options(color=color, width=os.get_terminal_size(sys.stdout.fileno()).columns if color else 100)
    if result.findings:
        from scanner.report.blocked import render

        _emit(render(result, options, action="push"), None)
        return gate_status(result)
    _emit(report.render(result, "text", options), None)
    return gate_status(result)


def _cmd_pre_receive(args: argparse.Namespace) -> int:
    import dataclasses

    from scanner import receive, report

    if args.remote is not None:
        raise UsageError("pre-receive takes no arguments: git gives it the pushed refs on standard input")
    policy = receive.load_policy(args.config)
    policy = dataclasses.replace(policy, timeout=args.timeout or policy.timeout, fail=args.fail or policy.fail,
                                 baseline=args.baseline or policy.baseline)
    stdin_text = sys.stdin.buffer.read().decode("utf-8", "surrogateescape")
    verdict = receive.receive(_request(args, "range", None), stdin_text, os.environ, policy, report.Options())
    _emit(verdict.message, None)
    return verdict.status


def _budget(text: str) -> float:
    from scanner.receive import parse_timeout

    try:
        return parse_timeout(float(text), "--timeout")
    except (ValueError, KeysentryError) as exc:
        raise argparse.ArgumentTypeError(str(exc) if isinstance(exc, KeysentryError) else
                                         f"--timeout takes a number of seconds, not {text!r}") from None


def _cmd_fix(args: argparse.Namespace) -> int:
    from scanner.fix import plan_worktree
    from scanner.report.fix import render

    if args.history:
        return _cmd_fix_history(args)
    if args.mirror is not None or args.verify:
        raise UsageError(f"{'--mirror' if args.mirror is not None else '--verify'} is for --history")
    plan = plan_worktree(Path(args.path), config=args.config, baseline=args.baseline, jobs=args.jobs,
                         max_file_size=args.max_file_size, keep_values=args.keep_values,
                         show_secrets=args.show_secrets)
    for warning in plan.warnings:  # what the scan could not read, it cannot fix either
        _say(f"keysentry: warning: {warning}")
    outcome = None
    if args.apply and not plan.empty:
        from scanner.fix.apply import apply

        outcome = apply(plan)
    _emit(render(plan, outcome, _fix_options(args)), None)
    # Changes made or proposed, or steps left: FINDINGS; nothing found, nothing to fix: CLEAN.
    return Exit.FINDINGS if plan.findings else Exit.CLEAN


def _fix_options(args: argparse.Namespace) -> Options:
    """`keysentry fix` writes to standard output only: coloured when that is a terminal."""
    from scanner.report import Options

    color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    width = os.get_terminal_size(sys.stdout.fileno()).columns if color else 100
    return Options(show_secrets=args.show_secrets, color=color, width=width)


def _cmd_fix_history(args: argparse.Namespace) -> int:
    from scanner.fix import history, plan_history
    from scanner.report.fix import render_history

    if args.apply and args.mirror is None:
        raise UsageError("--history --apply needs --mirror DIR: a new folder for the rewritten mirror clone")
    client = _verifier(args)
    plan = plan_history(Path(args.path), config=args.config, baseline=args.baseline, jobs=args.jobs,
                        max_file_size=args.max_file_size, verifier=client)
    outcome = None
    if args.apply and (plan.rotate or plan.remove_paths):
        from scanner import parallel

        outcome = history.run(plan, args.mirror, config=args.config, jobs=args.jobs or parallel.default_jobs())
    _emit(render_history(plan, outcome, _fix_options(args)), None)
    if outcome is not None and outcome.remaining:
        _say(f"keysentry: error: {len(outcome.remaining)} planned secret(s) are still in the rewritten clone "
             f"{args.mirror}; do not push it")
        return Exit.ERROR
    return Exit.FINDINGS if plan.rotate or plan.remove_paths else Exit.CLEAN


def _cmd_rules() -> int:
    from scanner.prefilter import describe
    from scanner.rules import ALL_RULES, CONTENT_RULES

    width = max(len(rule.id) for rule in ALL_RULES) + 1
    for rule in ALL_RULES:
        print(f"{rule.id:{width}} {rule.description}")
    print(f"\nengine: {describe(CONTENT_RULES)}")
    return Exit.CLEAN


class _Terminated(BaseException):
    """A terminating signal (SIGTERM, SIGHUP, SIGUSR1…), raised like KeyboardInterrupt so that
    every `finally` runs: the worker pool is ended and a half-written report's temporary file is
    removed. Python's default for these is to die on the spot and leave both behind."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextmanager
def _sigterm_raises() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread (main() called from a thread)
        return

    from scanner.parallel import TERMINATING

    def raise_terminated(signum: int, frame: Any) -> None:
        raise _Terminated(signum)

    previous = {signum: signal.signal(signum, raise_terminated) for signum in TERMINATING}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _is_utf8(stream: TextIO) -> bool:
    try:
        return codecs.lookup(stream.encoding or "ascii").name == "utf-8"
    except LookupError:
        return False


def _tolerant_streams() -> None:
    """On a terminal or pipe that is not UTF-8 (LANG=C, PYTHONIOENCODING=ascii), a character it
    cannot encode (the `…` of a redacted secret, a file name) is written as an escape, not fatal.
    A stream closed before we started (`keysentry scan . >&-`) is None: it becomes /dev/null."""
    if sys.stdout is None:
        sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - lives as long as the process
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper) and stream.errors == "strict" and not _is_utf8(stream):
            stream.reconfigure(errors="backslashreplace")


def main(argv: Sequence[str] | None = None) -> int:
    _tolerant_streams()
    with _sigterm_raises():
        status = _main(argv)
        try:
            sys.stdout.flush()  # now, not at interpreter exit, where a broken pipe becomes status 120
        except BrokenPipeError:
            _drop(sys.stdout)
        return status


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command == "scan":
            return _cmd_scan(args)
        if args.command == "baseline":
            return _cmd_baseline(args)
        if args.command == "audit":
            return _cmd_audit(args)
        if args.command == "fix":
            return _cmd_fix(args)
        if args.command == "rules":
            return _cmd_rules()
        if args.command == "install-hooks":
            return _cmd_install_hooks(args)
        if args.command == "hook":
            return _cmd_hook(args)
        if args.command == "github-action":
            from scanner import action

            return action.run(os.environ)
        parser.print_help()
        return Exit.ERROR
    except KeysentryError as exc:
        _say(f"keysentry: error: {exc}")
        return Exit.ERROR
    except KeyboardInterrupt:
        _say("keysentry: interrupted")
        return Exit.INTERRUPTED
    except BlockingIOError as exc:  # fork refused (EAGAIN) when starting git: a process limit
        _say(f"keysentry: error: cannot start a process: {exc.strerror or exc} (a process limit?)")
        return Exit.ERROR
    except _Terminated as stop:
        # Asked to stop, by a person or a supervisor: quietly, as the signal's status (128 + N).
        return Exit.TERMINATED if stop.signum == signal.SIGTERM else 128 + stop.signum
    except BrokenPipeError:
        # The reader went away (`keysentry rules | head -1`) before there was a status to keep.
        _drop(sys.stdout)
        _drop(sys.stderr)
        return Exit.BROKEN_PIPE
    except Exception as exc:
        # A bug, or a failure nobody foresaw: never status 1, which says "findings reported", and
        # never a traceback the user has to read; one line that says what to do with it.
        return _crashed(exc)


def _crashed(exc: Exception) -> Exit:
    if os.environ.get("KEYSENTRY_DEBUG"):
        import traceback

        traceback.print_exception(exc, file=sys.stderr)
        hint = "please report it, with the traceback above,"
    else:
        hint = "run again with KEYSENTRY_DEBUG=1 to see the traceback, and please report it"
    reason = " ".join(str(exc).split())[:300]
    _say(f"keysentry: internal error: {type(exc).__name__}{': ' if reason else ''}{reason} "
         f"(keysentry {__version__}); {hint} at {PROJECT_URL}/issues")
    return Exit.ERROR


if __name__ == "__main__":
    raise SystemExit(main())
