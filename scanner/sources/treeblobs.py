"""Which blob a commit's tree holds at a path, one question at a time: what attribution asks to
tell a copy (a parent still holds the secret at an earlier path) from a secret added again
(scanner.attribution.Attributor.settle_copies). Asked one by one because the first "yes" ends
the search for an arrival: a key copied into 400 files, one commit each, costs 400 questions,
not the 80,000 of asking every earlier path of every arrival."""
from __future__ import annotations

import subprocess
from types import TracebackType

from scanner import gitcmd
from scanner.errors import GitError


class TreeBlobs:
    """`git cat-file --batch-check` kept open; `ask` writes `COMMIT:PATH` and reads git's answer."""

    def __init__(self, repo: gitcmd.Repo) -> None:
        self._repo = repo
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> TreeBlobs:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def ask(self, commit: str, path: str) -> str | None:
        """The blob COMMIT holds at PATH, or None: no such path, a folder there, a commit missing
        from a shallow clone. A commit is 40 or 64 hex digits, so the first colon ends it; a path
        holding a newline cannot be asked so (that copy is not traced, nothing else changes)."""
        if "\n" in path or path.startswith(("./", "../")):
            return None  # git would read `./x` as `x` (relative to where it runs): another path
        proc = self._start()
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(f"{commit}:{path}\n".encode("utf-8", "surrogateescape"))
            proc.stdin.flush()
            line = proc.stdout.readline()
        except OSError as exc:
            raise GitError(f"git cat-file stopped answering: {exc.strerror or exc}") from None
        if not line:
            raise GitError("git cat-file stopped answering; is the repository corrupt?")
        oid, _, kind = line.rstrip(b"\n").rpartition(b" ")
        return oid.decode() if kind == b"blob" else None

    def _start(self) -> subprocess.Popen[bytes]:
        if self._proc is None:
            self._proc = subprocess.Popen(
                gitcmd.argv(self._repo, "cat-file", "--batch-check=%(objectname) %(objecttype)"),
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=gitcmd.env())
        return self._proc

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.close()
        except OSError:
            pass
        proc.stdout.close()
        proc.wait()
