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

Report = Callable[[str, float, float], None]  # (what git is doing, done, total)


def is_url(source: str) -> bool:
    return bool(_URL.match(source))


def clone_env() -> dict[str, str]:
    env = {**gitcmd.env(), "GIT_ALLOW_PROTOCOL": _TRANSPORTS, "GIT_PROTOCOL_FROM_USER": "1",
           "GIT_CONFIG_COUNT": str(len(_CONFIG))}
    for i, (key, value) in enumerate(_CONFIG):
        env[f"GIT_CONFIG_KEY_{i}"] = key
        env[f"GIT_CONFIG_VALUE_{i}"] = value
    # ssh would ask for a password or a host key on the terminal: fail instead (unless the user
    # chose their own ssh command, which they then answer for).
    env.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
    return env


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

    env = clone_env()
    progress = _progress(report)
    if (target / "HEAD").is_file() and (target / "objects").is_dir():
        try:
            repo = git.Repo(target)
            repo.git.update_environment(**env)
            repo.remote("origin").fetch(list(REFSPECS), progress=progress, prune=True)
            return target
        except ValueError:
            pass  # no remote "origin": not ours, so cloned again below
        except git.GitCommandError as exc:
            raise GitError(_describe(exc, progress)) from None
        shutil.rmtree(target, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent))
    try:
        git.Repo.clone_from(url, partial, progress=progress, env=env, bare=True)
        if target.exists():
            shutil.rmtree(target)
        os.replace(partial, target)
    except git.GitCommandError as exc:
        raise GitError(_describe(exc, progress)) from None
    except (git.UnsafeProtocolError, git.UnsafeOptionError):
        raise GitError(f"refusing to clone {url}: its transport or options could run a program "
                       "(https, ssh, git and file URLs are cloned)") from None
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return target


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


def without_password(source: str) -> str:
    """SOURCE as reports may name it: a password or token in a URL (`https://user:TOKEN@host/…`)
    replaced, so neither the report nor the progress lines carry it."""
    from urllib.parse import urlsplit, urlunsplit

    if "://" not in source:
        return source
    try:
        parts = urlsplit(source)
        if parts.password is None:
            return source
        host = parts.hostname or ""
        netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))
    except ValueError:
        return source
