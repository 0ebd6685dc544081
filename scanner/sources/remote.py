"""Repositories that are not here yet: bare clones of every branch and tag with GitPython, brought
up to date by a fetch when a clone from an earlier audit is still there.

Cloning runs a transport, which scanning never does (gitcmd.env() allows none), so it has its own
environment: the transports a person names in a URL and nothing a repository could choose
(`ext::`, `fd::`, GitPython refuses them too, as it refuses `--upload-pack` and `-c`), no prompt for
a password (an audit of 2,000 repositories must not stop at the first one needing one), and the
same config as scanning (no hooks, no fsmonitor) given through the environment, since GitPython
rightly refuses `-c` options on a clone."""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scanner import gitcmd
from scanner.errors import GitError

# Branches and tags, as a bare clone maps them: what `scan --history` covers in a clone.
REFSPECS = ("+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*")
_TRANSPORTS = "file:git:http:https:ssh"
_CONFIG = (
    ("core.hooksPath", os.devnull),
    ("core.fsmonitor", "false"),
    ("credential.interactive", "never"),
)
# https://, ssh://, git://, file:// and scp-like user@host:path (a colon before any slash).
# A transport named with `::` (ext::, fd::) is a URL too, so that GitPython refuses it by name.
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*(://|::)|^[^/:@]+@[^/:]+:")

_REFUSED = "its transport or options could run a program (https, ssh, git and file URLs are cloned)"

Report = Callable[[str, float, float], None]  # (what git is doing, done, total)


def is_url(source: str) -> bool:
    return bool(_URL.match(source))


def clone_env(extra: tuple[tuple[str, str], ...] = ()) -> dict[str, str]:
    config = (*_CONFIG, *extra)
    env = {**gitcmd.env(), "GIT_ALLOW_PROTOCOL": _TRANSPORTS, "GIT_PROTOCOL_FROM_USER": "1",
           "GIT_CONFIG_COUNT": str(len(config))}
    for i, (key, value) in enumerate(config):
        env[f"GIT_CONFIG_KEY_{i}"] = key
        env[f"GIT_CONFIG_VALUE_{i}"] = value
    # ssh would ask for a password or a host key on the terminal: fail instead (unless the user
    # chose their own ssh command, which they then answer for).
    env.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
    return env


def credentials_as_header(url: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """URL without the user name and password it carries, and the git config that sends them as an
    HTTP `Authorization` header instead (for http and https URLs holding a password, or a token as
    the user name). Every local user can read a command line (ps, /proc/PID/cmdline): the clone's,
    and that of the remote helper git starts for it; a process's environment, where this config
    goes, only its owner can. The header is scoped to the URL's host, as git matches `http.<url>.*`.
    Other URLs come back as they are, with no config."""
    import base64
    from urllib.parse import unquote, urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return url, ()
    if parts.scheme.lower() not in ("http", "https") or "@" not in parts.netloc:
        return url, ()
    userinfo, host = parts.netloc.rsplit("@", 1)
    user, colon, password = userinfo.partition(":")
    if not colon and _login(unquote(user)):
        return url, ()  # a login alone is no secret: git asks the user's credential helpers as ever
    basic = base64.b64encode(f"{unquote(user)}:{unquote(password)}".encode()).decode("ascii")
    bare = urlunsplit(parts._replace(netloc=host))
    return bare, ((f"http.{parts.scheme}://{host}/.extraHeader", f"Authorization: Basic {basic}"),)


def _progress(report: Report | None) -> Any:
    """A RemoteProgress relaying to REPORT; with a progress handler GitPython hands git's stderr
    to it, not to the exception, so it is also where a failure's message is found."""
    import git

    relay = report

    class _Relay(git.RemoteProgress):
        def update(self, op_code: int, cur_count: str | float, max_count: str | float | None = None,
                   message: str = "") -> None:
            stage = {self.COUNTING: "counting", self.COMPRESSING: "compressing", self.RECEIVING: "receiving",
                     self.RESOLVING: "resolving"}.get(op_code & self.OP_MASK, "cloning")
            if relay is not None:
                relay(stage, float(cur_count or 0), float(max_count or 0))

    return _Relay()


def fetch_or_clone(url: str, target: Path, report: Report | None = None) -> Path:
    """TARGET, a bare repository holding URL's branches and tags now: fetched if an earlier clone
    is there, else cloned. A clone is made beside TARGET and renamed into place, so an interrupted
    one never passes for a clone later."""
    import git

    bare, header = credentials_as_header(url)
    env = clone_env(header)
    progress = _progress(report)
    # A clone kept in --workdir names its origin without the URL's token. A token that git cannot
    # take as a header (one in the query) is in the repository's config only while a fetch runs (the
    # caller holds the clone's lock), never on a command line.
    shown = without_password(url)
    if (target / "HEAD").is_file() and (target / "objects").is_dir():
        try:
            repo = git.Repo(target)
            repo.git.update_environment(**env)
            origin = repo.remote("origin")
            _set_origin(repo, bare)
            try:
                origin.fetch(list(REFSPECS), progress=progress, prune=True)
            finally:
                _set_origin(repo, shown)
            return target
        except ValueError:
            pass  # no remote "origin": not ours, so cloned again below
        except git.GitCommandError as exc:
            raise GitError(_describe(exc, progress)) from None
        except (git.UnsafeProtocolError, git.UnsafeOptionError):
            raise GitError(_REFUSED) from None
        shutil.rmtree(target, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent))
    try:
        cloned = git.Repo.clone_from(bare, partial, progress=progress, env=env, bare=True)
        cloned.remote("origin").set_url(shown)
        cloned.close()
        if target.exists():
            shutil.rmtree(target)
        os.replace(partial, target)
    except git.GitCommandError as exc:
        raise GitError(_describe(exc, progress)) from None
    except (git.UnsafeProtocolError, git.UnsafeOptionError) :
        raise GitError(f"refusing to clone {shown}: {_REFUSED}") from None
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return target


def _set_origin(repo: Any, url: str) -> None:
    """REPO's origin URL set by writing its config file, not with `git remote set-url URL`, whose
    command line any local user could read while it runs."""
    with repo.config_writer() as config:
        config.set_value('remote "origin"', "url", url)


def _describe(exc: Any, progress: Any) -> str:
    """What git said went wrong, in one line. With a progress handler GitPython passes git's stderr
    to it, where a "fatal:" can follow a progress message on the same line."""
    stderr = exc.stderr if isinstance(exc.stderr, str) else str(exc.stderr or "")
    # GitPython quotes git's stderr as "stderr: '...'"; what git said is inside.
    stderr = stderr.split("stderr: '", 1)[1].rstrip().removesuffix("'") if "stderr: '" in stderr else stderr
    lines = [ln.strip() for ln in [*progress.error_lines, *progress.other_lines, *stderr.splitlines()] if ln.strip()]
    for word in ("fatal:", "error:"):
        for i, line in enumerate(lines):
            if word in line:
                text = line[line.index(word) + len(word):].strip()
                if text.endswith(":") and i + 1 < len(lines):  # "unable to connect to HOST:" + the reason
                    text += " " + lines[i + 1]
                return gitcmd.describe_failure(f"fatal: {text}".encode("utf-8", "replace"), ["clone"])
    return gitcmd.describe_failure("\n".join(lines).encode("utf-8", "replace"), ["clone"])


def ref_state(repo: gitcmd.Repo) -> tuple[str | None, str]:
    """HEAD's commit (None in a repository without one) and one digest of where every ref points:
    an audit's stored result stands for exactly that state."""
    refs = gitcmd.run(repo, "for-each-ref", "--format=%(objectname) %(refname)")
    head = gitcmd.run(repo, "rev-parse", "--verify", "--quiet", "HEAD^{commit}", ok=(0, 1)).strip()
    digest = hashlib.sha256(refs + b"\0" + head).hexdigest()
    return (head.decode("ascii") or None), digest


# A user name kept in a shown URL: an ordinary login (`git`, `alice`, `oauth2`, `x-access-token`).
# Anything else where a user name goes (`https://ghp_…@github.com`, `https://TOKEN:x-oauth-basic@…`,
# `ssh://TOKEN@…`) is taken for the token it usually is.
_LOGIN = re.compile(r"[A-Za-z][A-Za-z0-9._-]{0,19}")
_TOKEN_PREFIX = re.compile(r"(?i)^(gh[pousr]_|github_pat_|glpat-|gldt-|glptt-|glrt-|glcbt-|ya29\.|AIza|AQ\.)")
_SCP = re.compile(r"^(?P<user>[^/:@]+)@(?P<rest>[^/:]+:.*)$", re.DOTALL)
MASK = "***"


def _login(user: str) -> bool:
    # Sixteen characters or more with both letters and digits reads as a token, not a login.
    tokenish = len(user) >= 16 and any(c.isdigit() for c in user) and any(c.isalpha() for c in user)
    return bool(_LOGIN.fullmatch(user)) and not _TOKEN_PREFIX.match(user) and not tokenish


def _split(source: str) -> tuple[str, list[str]]:
    """SOURCE as shown, and the secret parts taken out of it (each as written and %-decoded)."""
    from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

    secrets: list[str] = []
    if "://" not in source:
        scp = _SCP.match(source)
        if scp is None or _login(scp["user"]):
            return source, secrets
        secrets.append(scp["user"])
        return f"{MASK}@{scp['rest']}", secrets
    try:
        parts = urlsplit(source)
    except ValueError:
        return source, secrets
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user, colon, password = userinfo.partition(":")
        if colon:
            secrets.append(password)
        if not _login(unquote(user)):
            secrets.append(user)
            user = MASK
        netloc = f"{user}{':' + MASK if colon else ''}@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        # Every value is masked where the URL is shown; in other text only those long enough to be
        # a token are (an error saying `ref=main` keeps its word "main").
        secrets += [value for _, value in pairs if len(value) >= 8]
        secrets += [v for v in query.replace(";", "&").split("&") if len(v) >= 8 and "=" not in v]  # a bare token
        query = urlencode([(name, MASK) for name, _ in pairs], safe="*") if pairs else MASK
    fragment = parts.fragment
    if fragment:
        secrets.append(fragment)
        fragment = MASK
    shown = urlunsplit(parts._replace(netloc=netloc, query=query, fragment=fragment))
    return shown, secrets


def without_password(source: str) -> str:
    """SOURCE as reports, progress lines, errors and stored results name it: a password or token in
    a URL replaced by `***` (`https://user:***@host/…`, `https://***@host/…` for a token given as
    the user name, `ssh://***@…`, `?private_token=***`), so none of them ever carries it."""
    return _split(source)[0]


def scrub(text: str, source: str) -> str:
    """TEXT (an error git or GitPython wrote, which may quote SOURCE whole or in part) with every
    secret part of SOURCE replaced by `***`."""
    from urllib.parse import unquote

    shown, secrets = _split(source)
    if source != shown:
        text = text.replace(source, shown)
    for secret in sorted({form for s in secrets for form in (s, unquote(s)) if len(form) >= 3}, key=len,
                         reverse=True):  # the longest first, so none is left half replaced
        text = text.replace(secret, MASK)
    return text
