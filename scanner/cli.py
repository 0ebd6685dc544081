"""Command line: argument parsing and exit codes, nothing else (the grammar is scanner.arguments,
what is said and written scanner.console).

Exit status: 0 nothing found, 1 findings reported, 2 usage or runtime error, 130 interrupted
(Ctrl-C), 128 + N for another terminating signal N (143: SIGTERM, 129: SIGHUP, 138: SIGUSR1), 141
when the reader of standard output went away before a scan had a status of its own.
"""
from __future__ import annotations

import argparse
import io
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scanner import PROJECT_URL, __version__
from scanner.arguments import DEFAULT_BASELINE, build_parser, parse, scan_mode, scan_request
from scanner.console import drop, emit, is_utf8, say, tree_of
from scanner.errors import KeysentryError, UsageError
from scanner.exitcodes import Exit, gate_status

if TYPE_CHECKING:
    from scanner.report import Options
    from scanner.verify import Client
    from scanner.verify_cache import Cache as VerifyCache


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
    mode = scan_mode(args)
    result = scan.run(scan_request(args, mode, args.baseline))
    if client is not None:
        from scanner import verify

        result = verify.verify_result(result, client, cache, owner)
        if cache is not None:
            try:
                cache.save()
            except OSError as exc:  # the verdicts stand; only the next run will ask again
                say(f"keysentry: warning: cannot write --verify-cache {args.verify_cache}: {exc.strerror or exc}")
    for warning in result.stats.warnings:
        say(f"keysentry: warning: {warning}")
    options = _report_options(args)
    tree = tree_of(args.path) if args.output is not None else None
    emit(report.stream(result, args.format, options), args.output, tree, utf8=args.format != "text")
    if args.output is not None and result.findings:
        # A failing CI job whose report went to a file would otherwise say nothing in its log.
        count = len(result.findings)
        say(f"keysentry: {count} finding{'s' * (count != 1)} written to {args.output}")
    return gate_status(result)


def _cmd_baseline(args: argparse.Namespace) -> int:
    from scanner import baseline, scan

    if args.unreachable and not args.history:
        raise UsageError("--unreachable adds to --history: baseline --history --unreachable [PATH]")
    result = scan.run(scan_request(args, "history" if args.history else "worktree", None))
    folder = Path(args.path) if Path(args.path).is_dir() else Path(args.path).parent
    target = args.output or folder / DEFAULT_BASELINE
    count = baseline.write(target, result.findings, tree=tree_of(args.path))
    say(f"keysentry: wrote {count} fingerprint{'s' * (count != 1)} to {target}")
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

    trees = tuple(tree_of(s) for s in sources if not is_url(s) and os.path.isdir(s)) if args.output else ()
    emit(audit_report.render(result, args.format, options), args.output, trees, utf8=args.format != "text")
    if args.output is not None:
        # A job whose report went to a file would otherwise say nothing in its log.
        say(f"keysentry: {audit_report.summary(result)}; report written to {args.output}")
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

    if args.hook_name == "pre-commit":
        return _cmd_pre_commit(args)
    if args.hook_name == "pre-receive":
        return _cmd_pre_receive(args)
    if len(args.arguments) > 2:
        raise UsageError("pre-push takes the remote's name and URL, as git gives them, and nothing else")
    remote = args.arguments[0] if args.arguments else None

    # git gives a plain hook the remote as arguments and the refs on stdin; the pre-commit
    # framework gives none and describes the push in the environment.
    # Ref names are bytes to git, not always UTF-8: read them whatever the locale says.
    stdin_text = sys.stdin.buffer.read().decode("utf-8", "surrogateescape") if remote else None
    result = hook.pre_push(scan_request(args, "range", args.baseline), remote, stdin_text, os.environ)
    options = _hook_options()
    if result.findings:
        from scanner.report.blocked import render

        emit(render(result, options, action="push"), None)
        return gate_status(result)
    emit(report.render(result, "text", options), None)
    return gate_status(result)


def _hook_options() -> Options:
    from scanner.report import Options

    color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
    return Options(color=color, width=os.get_terminal_size(sys.stdout.fileno()).columns if color else 100)


def _cmd_pre_commit(args: argparse.Namespace) -> int:
    from scanner import hook, report

    result = hook.pre_commit(scan_request(args, "staged", args.baseline), args.arguments)
    # A staged check prints the blocked message (or nothing to see); a check of the files'
    # contents (`pre-commit run --all-files`) the report of what they hold.
    emit(report.stream(result, "text", _hook_options()), None)
    return gate_status(result)


def _cmd_pre_receive(args: argparse.Namespace) -> int:
    import dataclasses

    from scanner import receive, report

    if args.arguments:
        raise UsageError("pre-receive takes no arguments: git gives it the pushed refs on standard input")
    policy = receive.load_policy(args.config)
    policy = dataclasses.replace(policy, timeout=args.timeout or policy.timeout, fail=args.fail or policy.fail,
                                 baseline=args.baseline or policy.baseline)
    stdin_text = sys.stdin.buffer.read().decode("utf-8", "surrogateescape")
    verdict = receive.receive(scan_request(args, "range", None), stdin_text, os.environ, policy, report.Options())
    emit(verdict.message, None)
    return verdict.status


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
        say(f"keysentry: warning: {warning}")
    outcome = None
    if args.apply and not plan.empty:
        from scanner.fix.apply import apply

        outcome = apply(plan)
    emit(render(plan, outcome, _fix_options(args)), None)
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
    emit(render_history(plan, outcome, _fix_options(args)), None)
    if outcome is not None and outcome.remaining:
        say(f"keysentry: error: {len(outcome.remaining)} planned secret(s) are still in the rewritten clone "
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


def _tolerant_streams() -> None:
    """On a terminal or pipe that is not UTF-8 (LANG=C, PYTHONIOENCODING=ascii), a character it
    cannot encode (the `…` of a redacted secret, a file name) is written as an escape, not fatal.
    A stream closed before we started (`keysentry scan . >&-`) is None: it becomes /dev/null."""
    if sys.stdout is None:
        sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - lives as long as the process
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper) and stream.errors == "strict" and not is_utf8(stream):
            stream.reconfigure(errors="backslashreplace")


def main(argv: Sequence[str] | None = None) -> int:
    _tolerant_streams()
    with _sigterm_raises():
        status = _main(argv)
        try:
            sys.stdout.flush()  # now, not at interpreter exit, where a broken pipe becomes status 120
        except BrokenPipeError:
            drop(sys.stdout)
        return status


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    try:
        args = parse(parser, argv)
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
        say(f"keysentry: error: {exc}")
        return Exit.ERROR
    except KeyboardInterrupt:
        say("keysentry: interrupted")
        return Exit.INTERRUPTED
    except BlockingIOError as exc:  # fork refused (EAGAIN) when starting git: a process limit
        say(f"keysentry: error: cannot start a process: {exc.strerror or exc} (a process limit?)")
        return Exit.ERROR
    except _Terminated as stop:
        # Asked to stop, by a person or a supervisor: quietly, as the signal's status (128 + N).
        return Exit.TERMINATED if stop.signum == signal.SIGTERM else 128 + stop.signum
    except BrokenPipeError:
        # The reader went away (`keysentry rules | head -1`) before there was a status to keep.
        drop(sys.stdout)
        drop(sys.stderr)
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
    say(f"keysentry: internal error: {type(exc).__name__}{': ' if reason else ''}{reason} "
         f"(keysentry {__version__}); {hint} at {PROJECT_URL}/issues")
    return Exit.ERROR


if __name__ == "__main__":
    raise SystemExit(main())
