"""Who decides what is suppressed: the policy (config, baseline, which inline markers count) and
where it is read from.

On a developer's own machine (work tree, `--staged`, pre-push) it is the working tree's files. Where
one person's change is checked for everyone (`--range`, pre-receive, the GitHub Action) it is read
from a trusted revision's git objects, never from the working tree or from the commits being
checked: a change that adds `exclude = ["**"]` or a baseline entry for its own key cannot approve
itself. A `--config` / `--baseline` file outside the repository is trusted as given (the CI job or
the server's admin chose it); one inside the repository is read at the trusted revision.

`at_revision` is the one entry point for a gate: the pre-receive hook gives it the server's own
config file (outside any repository) and the pushed ref's old tip.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from scanner import baseline as baseline_file
from scanner import config as config_file
from scanner import gitcmd
from scanner.errors import ConfigError, GitError

CONFIG_NAMES = ("pyproject.toml", ".keysentry.toml")


@dataclass(frozen=True)
class Policy:
    """The suppression in force for one scan."""

    config: config_file.Config
    baseline: frozenset[str]
    # Where it came from, for the report: "the working tree", "base revision 1a2b3c4d5e6f", …
    origin: str
    # The commit it was read at, or None (the working tree, or built-in defaults). Set for a gate:
    # then an inline marker that the scanned change adds suppresses nothing (unless the config
    # says inline-allow-in-changes = "notice").
    revision: str | None = None
    gated: bool = False
    notes: tuple[str, ...] = ()
    # Where in the revision's tree the config and baseline were read ("/"-separated), or None: not
    # from the tree (a file outside the repository, or none). scanner.suppression compares them.
    config_path: str | None = None
    baseline_path: str | None = None


def from_worktree(root: Path, config: Path | None = None, baseline: Path | None = None) -> Policy:
    """The developer's own policy: ROOT's config files (or CONFIG), BASELINE as given."""
    fingerprints = baseline_file.load(baseline) if baseline is not None else frozenset()
    return Policy(config_file.load(root, config), fingerprints, "the working tree")


def defaults(why: str) -> Policy:
    """A gate with no trusted revision to read a policy from (a range with no base): nothing is
    suppressed but what the built-in rules leave out."""
    return Policy(config_file.Config(), frozenset(), "built-in defaults", None, True, (why,))


def at_revision(repo: gitcmd.Repo, revision: str, config: Path | None = None,
                baseline: Path | None = None) -> Policy:
    """The policy of REVISION (a commit), read from git objects: the config it holds (or CONFIG:
    outside the repository as given, inside it read at REVISION), the BASELINE likewise.

    A file named explicitly that REVISION does not hold yet gives no suppression, with a note: a
    policy change applies once it has landed in the trusted revision, never in the change itself."""
    commit = resolve(repo, revision)
    short = commit[:12]
    notes: list[str] = []
    cfg = config_file.Config()
    config_path = baseline_path = None
    if config is not None and _outside(repo, config):
        cfg = config_file.load(repo.root, config)
    elif config is not None:
        config_path = _inside(repo, config)
        raw = read_at(repo, commit, config_path)
        if raw is None:
            notes.append(f"the config {config_path} is not in the base revision {short}: no config applies")
        else:
            cfg = config_file.from_bytes(raw, PurePosixPath(config_path).name, f"{short}:{config_path}",
                                         explicit=True)
    else:
        cfg, config_path = _found_config(repo, commit, short)
    fingerprints: frozenset[str] = frozenset()
    if baseline is not None and _outside(repo, baseline):
        fingerprints = baseline_file.load(baseline)
    elif baseline is not None:
        baseline_path = _inside(repo, baseline)
        raw = read_at(repo, commit, baseline_path)
        if raw is None:
            notes.append(f"the baseline {baseline_path} is not in the base revision {short}: no finding is baselined")
        else:
            fingerprints = baseline_file.parse(raw, f"{short}:{baseline_path}")
    return Policy(cfg, fingerprints, f"base revision {short}", commit, True, tuple(notes), config_path, baseline_path)


def _found_config(repo: gitcmd.Repo, commit: str, short: str) -> tuple[config_file.Config, str | None]:
    """As config.load looks in a folder: [tool.keysentry] of pyproject.toml, else .keysentry.toml;
    with the file it came from (None: no config)."""
    for name in CONFIG_NAMES:
        raw = read_at(repo, commit, name)
        if raw is None:
            continue
        cfg = config_file.from_bytes(raw, name, f"{short}:{name}")
        if name == "pyproject.toml" and cfg.source is None:
            continue  # a pyproject.toml without [tool.keysentry]
        return cfg, name
    return config_file.Config(), None


def base_of(revisions: Sequence[str]) -> str | None:
    """The trusted base of a range that git expanded (scanner.sources.history.range_revisions):
    its one excluded revision (A of A..B; the merge base of A...B). None when there is none (a
    range of every commit of B) or several (then no single revision is the base)."""
    excluded = [r[1:] for r in revisions if r.startswith("^")]
    return excluded[0] if len(excluded) == 1 else None


def resolve(repo: gitcmd.Repo, revision: str) -> str:
    """REVISION's commit id; an error naming it when the repository has no such commit."""
    if not revision or revision.startswith("-") or any(c in revision for c in "\n\0"):
        raise GitError(f"not a revision: {revision!r}")
    out = gitcmd.run(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{revision}^{{commit}}",
                     ok=(0, 1))
    commit = out.decode("utf-8", "replace").strip()
    if len(commit) != repo.hash_len or commit.strip("0123456789abcdef"):
        raise GitError(f"git: bad revision {revision!r}: this repository has no such commit"
                       f"{gitcmd.shallow_hint(repo)}")
    return commit


def read_at(repo: gitcmd.Repo, commit: str, path: str) -> bytes | None:
    """The bytes of the regular file PATH (relative to the top folder) in COMMIT's tree, or None
    when COMMIT holds no such file. Bounded: a policy file is small."""
    if any(c in path for c in "\n\0"):
        return None
    out = gitcmd.run(repo, "ls-tree", "-z", "--full-tree", commit, "--", path)
    meta, _, _name = out.partition(b"\t")
    parts = meta.split()
    if len(parts) != 3 or parts[1] != b"blob":
        return None
    if parts[0] not in (b"100644", b"100755"):
        raise ConfigError(f"{commit[:12]}:{path} is not a regular file (a symbolic link?)")
    oid = parts[2].decode()
    limit = max(config_file.MAX_BYTES, baseline_file.MAX_BYTES)
    size = int(gitcmd.run(repo, "cat-file", "-s", oid).strip() or b"0")
    if size > limit:
        raise ConfigError(f"{commit[:12]}:{path} is larger than {limit} bytes")
    return gitcmd.run(repo, "cat-file", "blob", oid)


def _outside(repo: gitcmd.Repo, path: Path) -> bool:
    if repo.bare:
        return True  # a bare repository has no files of its own besides git's
    return _relative(repo, path) is None


def _inside(repo: gitcmd.Repo, path: Path) -> str:
    rel = _relative(repo, path)
    assert rel is not None
    return rel


def _relative(repo: gitcmd.Repo, path: Path) -> str | None:
    """PATH relative to the work tree's top folder, "/"-separated, or None when it lies outside.
    Decided on the path as written (made absolute, `..` folded), not through symbolic links: a
    link inside the tree is the tree's own, and its target there is what the base holds."""
    absolute = Path(os.path.normpath(os.path.abspath(path)))
    root = Path(os.path.normpath(os.path.abspath(repo.root)))
    real_root = Path(os.path.realpath(repo.root))
    for top in (root, real_root):
        try:
            rel = absolute.relative_to(top)
        except ValueError:
            continue
        return rel.as_posix()
    return None
