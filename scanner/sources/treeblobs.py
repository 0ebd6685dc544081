"""Which blob a commit's tree holds at a path, for many (commit, path) pairs in one git call:
what attribution asks to tell a copy (a parent still holds the secret at its old path) from a
secret added again (scanner.attribution.Attributor.copy_questions)."""
from __future__ import annotations

from collections.abc import Sequence

from scanner import gitcmd


def blobs_at(repo: gitcmd.Repo, questions: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """For each (commit, path) of QUESTIONS, the blob the commit holds at the path; a pair where it
    holds none (no such path, a folder there, a commit missing from a shallow clone) is left out.

    One `cat-file --batch-check` reads them all, each as `COMMIT:PATH` on a line of its own (a
    commit is 40 or 64 hex digits, so the first colon ends it). A path holding a newline cannot be
    asked so and is left out: that copy is not traced, nothing else changes."""
    asked = [(commit, path) for commit, path in questions if "\n" not in path and "\r" not in path]
    if not asked:
        return {}
    text = "".join(f"{commit}:{path}\n" for commit, path in asked).encode("utf-8", "surrogateescape")
    out = gitcmd.run(repo, "cat-file", "--batch-check=%(objectname) %(objecttype)", input=text)
    answers = out.split(b"\n")
    found: dict[tuple[str, str], str] = {}
    for pair, line in zip(asked, answers, strict=False):
        oid, _, kind = line.partition(b" ")
        if kind == b"blob":
            found[pair] = oid.decode()
    return found
