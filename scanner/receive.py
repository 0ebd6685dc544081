"""`keysentry hook pre-receive`: the server's gate, for self-hosted git (plain bare repositories,
GitLab and Gitea/Forgejo server hooks) where no push protection runs.

git runs the hook in the receiving repository before any ref moves, with one `<old> <new> <ref>`
line per ref on standard input. The pushed objects wait in a quarantine folder (GIT_QUARANTINE_PATH):
git points GIT_OBJECT_DIRECTORY there and lists the repository's own objects in
GIT_ALTERNATE_OBJECT_DIRECTORIES. Every git keysentry starts inherits both, so it reads the pushed
objects where they are; if the hook's environment lost them, reading fails and the push is
rejected, never passed unscanned. Only what is new to the server is scanned: the commits no ref of
the server reaches yet (`--not --all`), and what a pushed tag of a blob or tree adds.

The policy is the server's alone: the config file its administrators name (`--config`, written
into the hook by `install-hooks --server --config FILE`) and no other. Nothing the push carries (a
`.keysentry.toml`, a `pyproject.toml`, a baseline) is read as policy. Its `[pre-receive]` table
holds what only a server has: the time budget, failing open or closed, whether a pusher may bypass
the gate with a reason, and the audit log each bypass (and each push let through unscanned) is
appended to.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import signal
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal, NamedTuple

from scanner import config as config_file
from scanner import gitcmd, scan
from scanner import policy as policies
from scanner.errors import ConfigError, GitError, UsageError
from scanner.hook import new_commits, object_id
from scanner.models import Finding, Result, Stats
from scanner.report import Options, display_path, printable
from scanner.sources import tagged

# GitHub Enterprise gives a pre-receive hook 5 seconds; so does keysentry, unless told otherwise.
DEFAULT_TIMEOUT = 5.0
MAX_TIMEOUT = 3600.0
# Where the audit log goes when the config names none: beside the repository's own config, where
# no push can write.
DEFAULT_LOG = "keysentry-audit.log"
BYPASS_OPTION = "keysentry.bypass"
NOTHING_NEW = "this push brings no commit the server does not have"
# A reason is for people reading the log: a paragraph, not a payload.
MAX_REASON = 500
Fail = Literal["closed", "open"]
_SERVER_KEYS = {"timeout", "fail", "allow-bypass", "audit-log", "baseline"}
# Who pushed, as each kind of server says it: GitLab, Gitea/Forgejo, git-http-backend, ssh.
_PUSHER_VARS = ("GL_USERNAME", "GITEA_PUSHER_NAME", "REMOTE_USER", "USER", "LOGNAME")
_RECORDED_VARS = ("GL_ID", "GL_USERNAME", "GL_PROJECT_PATH", "GL_PROTOCOL", "GITEA_PUSHER_NAME", "GITEA_PUSHER_EMAIL",
                  "GITEA_REPO_NAME", "REMOTE_USER", "REMOTE_ADDR", "SSH_CONNECTION", "USER")


@dataclass(frozen=True)
class ServerPolicy:
    """The server's config file: the scan's config (as in .keysentry.toml) and its [pre-receive] table."""

    scan: config_file.Config = field(default_factory=config_file.Config)
    baseline: Path | None = None
    timeout: float = DEFAULT_TIMEOUT
    fail: Fail = "closed"
    allow_bypass: bool = False
    audit_log: Path | None = None  # None: DEFAULT_LOG in the repository's git folder
    source: str = "built-in defaults"

    def policy(self) -> policies.Policy:
        """What the scan applies: this config and baseline, as a gate's (a marker the push adds
        suppresses nothing that the server's config does not let it)."""
        from scanner import baseline as baseline_file

        fingerprints = baseline_file.load(self.baseline) if self.baseline is not None else frozenset()
        origin = "the server's built-in defaults" if self.source == "built-in defaults" else f"the server's config {self.source}"
        return policies.Policy(self.scan, fingerprints, origin, None, True)


def load_policy(path: Path | None) -> ServerPolicy:
    """The server's policy from PATH (None: the defaults: no exclusions, no bypass, fail closed)."""
    if path is None:
        return ServerPolicy()
    data = config_file.read_toml(path)
    server = data.pop("pre-receive", {})
    where = f"{path} [pre-receive]"
    if not isinstance(server, dict):
        raise ConfigError(f"{where}: must be a table")
    unknown = sorted(set(server) - _SERVER_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(_SERVER_KEYS))})")
    folder = path.absolute().parent
    fail = server.get("fail", "closed")
    if fail not in ("closed", "open"):
        raise ConfigError(f"{where}: 'fail' must be \"closed\" (reject a push the scan could not finish) or "
                          f"\"open\" (accept it, and log it), not {fail!r}")
    allow = server.get("allow-bypass", False)
    if not isinstance(allow, bool):
        raise ConfigError(f"{where}: 'allow-bypass' must be true or false")
    return ServerPolicy(
        scan=config_file.from_table(data, str(path)),
        baseline=_file(server, "baseline", folder, where),
        timeout=parse_timeout(server["timeout"], where) if "timeout" in server else DEFAULT_TIMEOUT,
        fail=fail,
        allow_bypass=allow,
        audit_log=_file(server, "audit-log", folder, where),
        source=str(path),
    )


def _file(table: dict[str, Any], key: str, folder: Path, where: str) -> Path | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: '{key}' must be a file name")
    return folder / value  # a relative name is the config file's neighbour, wherever the hook runs


def parse_timeout(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= MAX_TIMEOUT \
            or math.isnan(value):
        raise ConfigError(f"{where}: timeout must be a number of seconds, more than 0 and at most {MAX_TIMEOUT:g}, "
                          f"not {value!r}")
    return float(value)


class Update(NamedTuple):
    """One line of git's pre-receive input: `<old> <new> <ref>`."""

    old: str
    new: str
    ref: str


def parse_updates(text: str, length: int | None = None) -> list[Update]:
    updates = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = line.split(" ", 2)  # a ref name holds no space
        if len(parts) != 3 or not parts[2]:
            raise UsageError(f"pre-receive: cannot read this line of git's input: {line!r}")
        old, new, ref = parts
        updates.append(Update(object_id(old, length, "pre-receive: old object"),
                              object_id(new, length, "pre-receive: new object"), ref))
    return updates


def bypass_reason(environ: Mapping[str, str]) -> str | None:
    """The reason given with `git push -o keysentry.bypass="…"` (git hands push options to the hook
    as GIT_PUSH_OPTION_COUNT and GIT_PUSH_OPTION_0…); None when the push asks for no bypass."""
    try:
        count = int(environ.get("GIT_PUSH_OPTION_COUNT", "0"))
    except ValueError:
        return None
    reason = None
    for n in range(max(0, min(count, 1000))):
        option = environ.get(f"GIT_PUSH_OPTION_{n}", "")
        name, _, value = option.partition("=")
        if name == BYPASS_OPTION:
            reason = value.strip()[:MAX_REASON]
    return reason


class _OutOfTime(BaseException):
    """The time budget ran out (raised from SIGALRM, like KeyboardInterrupt, so every `finally` runs:
    git processes killed, the worker pool ended)."""


@contextmanager
def _budget(seconds: float) -> Iterator[None]:
    """Raise _OutOfTime in this thread once SECONDS have passed. Worker processes forked meanwhile
    do not inherit the timer; the parent ends them on the way out."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield  # only the main thread gets signals: a caller from a thread has no budget
        return

    def ring(signum: int, frame: Any) -> None:
        raise _OutOfTime

    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass(frozen=True)
class Verdict:
    status: int  # the hook's exit status: 0 accepts the push, anything else rejects all of it
    message: str  # what the pusher reads (git prints it prefixed with "remote: ")


def scan_push(base: scan.Request, repo: gitcmd.Repo, updates: Sequence[Update], policy: ServerPolicy) -> Result:
    """Scan what UPDATES bring that the server has no ref to yet, under the server's POLICY alone."""
    pushed = [u for u in updates if not gitcmd.is_null_oid(u.new)]  # a deletion brings nothing
    revisions = new_commits(repo, [u.new for u in pushed], (), "--all")
    pointed = tagged.peel(repo, [(u.ref, u.new) for u in pushed])
    from scanner.sources.messages import pushed_tags  # an annotated tag brings its message

    tags = pushed_tags(repo, [u.new for u in pushed])
    if revisions is None and not pointed and not tags:
        return Result("range", (), Stats(), (NOTHING_NEW,))
    server = policy.policy()
    result = scan.run(dataclasses.replace(
        base, path=repo.root, mode="range", revision_range=revisions, pointed=tuple(pointed), published=("--all",),
        tags=tags, notes=tuple(u.new for u in pushed if u.ref.startswith("refs/notes/")),
        policy=server, config=None, baseline=None))
    if scan.RULE in server.config.disable:
        return result
    widened, notes = _widened(repo, pushed, result.findings)
    if not widened and not notes:
        return result
    return dataclasses.replace(result, findings=(*result.findings, *widened), notes=(*result.notes, *notes))


def _widened(repo: gitcmd.Repo, pushed: Sequence[Update],
             reported: Sequence[Finding]) -> tuple[list[Finding], list[str]]:
    """suppression-change findings for branches whose own policy (.keysentry.toml, [tool.keysentry])
    the push widens. The server's policy is not the repository's, but every `--range` gate and
    Action of this repository reads the policy of the branch it merges into: a push that widens
    it must be seen, as in a pull request. Against the branch's old tip; a new branch against the
    server's HEAD, where its changes would be merged."""
    from scanner import suppression
    from scanner.errors import KeysentryError

    found: dict[str, Finding] = {}
    notes: list[str] = []
    for update in pushed:
        if not update.ref.startswith("refs/heads/"):
            continue
        try:
            before = policies.at_revision(repo, "HEAD" if gitcmd.is_null_oid(update.old) else update.old)
        except KeysentryError:
            continue  # an empty server (no HEAD yet), a corrupt repository: nothing to compare with
        changes, more = suppression.findings(repo, before, update.new, None, None, reported)
        notes.extend(more)
        for change in changes:
            found.setdefault(change.fingerprint, change)
    return list(found.values()), notes


def receive(base: scan.Request, stdin_text: str, environ: Mapping[str, str], policy: ServerPolicy,
            options: Options) -> Verdict:
    """The whole hook: scan within the budget, then accept, reject, or let a logged bypass through."""
    from scanner.report import blocked

    started = time.monotonic()
    repo = gitcmd.find(base.path)
    if repo is None:
        raise GitError(f"pre-receive: not a git repository: {base.path}")
    updates = parse_updates(stdin_text, repo.hash_len)
    reason = bypass_reason(environ)
    result: Result | None = None
    try:
        with _budget(policy.timeout):
            result = scan_push(base, repo, updates, policy)
    except _OutOfTime:
        pass
    seconds = time.monotonic() - started
    if result is not None and not result.findings:
        unused = (f"keysentry: the push option {BYPASS_OPTION} was not needed (nothing was logged)\n"
                  if reason is not None else "")
        return Verdict(0, _clean(result, seconds) + unused)
    log = policy.audit_log or repo.git_dir / DEFAULT_LOG
    if reason is not None and policy.allow_bypass:
        if not reason:
            return Verdict(1, (blocked.render(result, options, action="receive", bypass=True) if result else "")
                           + 'keysentry: a bypass needs a reason: git push -o keysentry.bypass="why" ...\n')
        try:
            _append(log, _record("bypass", repo, updates, environ, reason, result, policy))
        except OSError as exc:
            return Verdict(1, f"keysentry: push rejected: the bypass could not be recorded in the server's audit log "
                              f"({exc.strerror or exc}); nothing was let through: tell the server's administrators\n")
        let = "its scan did not finish" if result is None else _count(result.findings)
        return Verdict(0, f"keysentry: push accepted with a bypass ({let}); your reason, your name and what was let "
                          f"through are recorded in the server's audit log: rotate any real key it holds\n")
    note = (f"keysentry: the push option {BYPASS_OPTION} was ignored: this server does not allow bypassing\n"
            if reason is not None else "")
    if result is None:
        budget = f"{policy.timeout:g} s"
        if policy.fail == "open":
            try:
                _append(log, _record("unscanned", repo, updates, environ, reason, None, policy))
                logged = "recorded in the server's audit log"
            except OSError as exc:
                logged = f"and the server's audit log could not record it: {exc.strerror or exc}"
            return Verdict(0, f"keysentry: warning: the secret scan did not finish within {budget}, the server's "
                              f"time budget: this server fails open, so the push was accepted unscanned, {logged}\n")
        return Verdict(2, note + f"keysentry: push rejected: the secret scan did not finish within {budget}, the "
                                 f"server's time budget, and this server fails closed: push fewer commits at a time, "
                                 f"or ask the server's administrators\n")
    return Verdict(1, blocked.render(result, options, action="receive", bypass=policy.allow_bypass) + note)


def _count(findings: Sequence[Finding]) -> str:
    return f"{len(findings)} finding{'s' * (len(findings) != 1)} let through"


def _clean(result: Result, seconds: float) -> str:
    if NOTHING_NEW in result.notes:
        return f"keysentry: {NOTHING_NEW}\n"
    commits, blobs = result.stats.commits, result.stats.blobs
    return (f"keysentry: no secrets in what this push brings: {commits} new commit{'s' * (commits != 1)}, "
            f"{blobs} blob{'s' * (blobs != 1)} ({seconds:.2f}s)\n")


def _record(event: str, repo: gitcmd.Repo, updates: Sequence[Update], environ: Mapping[str, str],
            reason: str | None, result: Result | None, policy: ServerPolicy) -> dict[str, object]:
    """One line of the audit log: who, when, which refs, why, and what was let through (never a
    secret: each finding by rule, place, commit and fingerprint)."""
    pusher = next((environ[v] for v in _PUSHER_VARS if environ.get(v)), "") or _account()
    return {
        "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "event": event,  # bypass: a pusher's reason let it through; unscanned: out of time, failing open
        "repository": os.fsdecode(repo.git_dir),
        "pusher": pusher,
        "environment": {v: environ[v] for v in _RECORDED_VARS if environ.get(v)},
        "reason": reason,
        "refs": [{"ref": u.ref, "old": u.old, "new": u.new} for u in updates],
        "scanned": result is not None,
        "policy": policy.source,
        "findings": [{"rule_id": f.rule_id, "path": display_path(f.path), "line": f.line, "commit": f.commit,
                      "fingerprint": f.fingerprint, "severity": f.severity}
                     for f in (result.findings if result else ())],
    }


def _account() -> str:
    """The account the hook runs as (a push over ssh or to a local path: the pusher's own)."""
    import pwd

    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return f"uid {os.getuid()}"


def _append(log: Path, record: dict[str, object]) -> None:
    """RECORD as one JSON line at the end of LOG, written whole under a lock (pushes run at once)."""
    import fcntl

    line = (json.dumps(record, ensure_ascii=True, sort_keys=True) + "\n").encode()
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        written = 0
        while written < len(line):
            written += os.write(fd, line[written:])
        os.fsync(fd)
    finally:
        os.close(fd)


def describe(policy: ServerPolicy) -> str:
    """One line for `install-hooks --server`: what the installed hook will do."""
    bypass = "a pusher may bypass it with a logged reason" if policy.allow_bypass else "no bypass"
    return (f"policy from {printable(policy.source)}; {policy.timeout:g} s budget, fails {policy.fail}; {bypass}")
