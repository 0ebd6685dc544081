"""suppression-change findings: what a gated range changes in its own exemptions.

The gate applies the base's policy whatever the range does (scanner.policy), so a range that adds
`exclude = ["**"]` hides nothing; but a reviewer must still see that it tried, and a maintainer must
be able to accept it on purpose (by landing it on the base first). Each widening is one finding:
what changed (an `exclude`, `allow` or `disable` entry added, `max-file-size` raised, markers
allowed, baseline entries added, an inline marker added), the commit that changed it, and which of
the range's findings it would have hidden.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from scanner import config as config_file
from scanner import gitcmd
from scanner import policy as policies
from scanner.errors import KeysentryError
from scanner.models import Finding, fingerprint
from scanner.rules.policy import SUPPRESSION_CHANGE

RULE = SUPPRESSION_CHANGE.id
# How many hidden findings a change names; the count says how many in all.
_NAMED = 5


@dataclass(frozen=True)
class _Change:
    path: str  # the config or baseline file, or the file holding an inline marker
    key: str  # the config key (for its line), or "" (a baseline: the line of its first new entry)
    what: str
    hides: Callable[[Finding], bool]


def tip_of(revision_range: str, revisions: Sequence[str]) -> str | None:
    """The newest revision of a range as the user wrote it: B of A..B and A...B, else its one
    positive revision; None when it has several (no single tip to compare with)."""
    if ".." in revision_range and len(revision_range.split()) == 1:
        tip = revision_range.split("..", 1)[1].lstrip(".")
        return tip or "HEAD"
    positive = [r for r in revisions if not r.startswith("^")]
    return positive[0] if len(positive) == 1 else None


def findings(repo: gitcmd.Repo, base: policies.Policy, tip: str, config: Path | None, baseline: Path | None,
             reported: Sequence[Finding]) -> tuple[list[Finding], list[str]]:
    """suppression-change findings for what TIP's policy widens over BASE's (both read with the
    same --config / --baseline), and notes; REPORTED: the range's findings, for what each change
    would have hidden."""
    assert base.revision is not None
    try:
        at_tip = policies.at_revision(repo, tip, config, baseline)
    except KeysentryError as exc:
        return [], [f"the range's own policy could not be read to compare with the base's: {exc}"]
    changes = _config_changes(base, at_tip) + _baseline_changes(base, at_tip)
    out = []
    for change in changes:
        commit, author, date = _last_commit(repo, base.revision, at_tip.revision or tip, change.path)
        hidden = [f for f in reported if change.hides(f)]
        what = change.what
        if hidden:
            named = ", ".join(f"{f.rule_id} at {f.path}:{f.line}" for f in hidden[:_NAMED])
            what += f"; it would hide {len(hidden)} finding{'s' * (len(hidden) != 1)} of this change: {named}" \
                + (", …" if len(hidden) > _NAMED else "")
        line = _line_of(repo, at_tip.revision or tip, change.path, change.key)
        out.append(Finding(RULE, change.path, line, 1, what, fingerprint(RULE, change.path, change.what),
                           commit=commit, author=author, date=date, in_head=True,
                           severity=SUPPRESSION_CHANGE.severity))
    return out, []


def marker(finding: Finding) -> Finding:
    """The suppression-change for an inline marker a gated range added on FINDING's line."""
    what = (f"an inline allow marker added on line {finding.line} would hide {finding.rule_id} at "
            f"{finding.path}:{finding.line}")
    return Finding(RULE, finding.path, finding.line, 1, what,
                   fingerprint(RULE, finding.path, f"marker\0{finding.fingerprint}"),
                   commit=finding.commit, author=finding.author, date=finding.date, in_head=finding.in_head,
                   severity=SUPPRESSION_CHANGE.severity)


def _config_changes(base: policies.Policy, tip: policies.Policy) -> list[_Change]:
    old, new = base.config, tip.config
    path = tip.config_path or base.config_path or "config"
    changes = []
    for pattern in new.exclude:
        if pattern not in old.exclude:
            changes.append(_Change(path, "exclude", f"`exclude` adds {pattern!r}",
                                   _excluded_by(config_file.Config(exclude=(pattern,)))))
    known = {a.pattern for a in old.allow}
    for allow in new.allow:
        if allow.pattern not in known:
            changes.append(_Change(path, "allow", f"`allow` adds {allow.pattern!r}", _allowed_by(allow)))
    for rule_id in new.disable:
        if rule_id not in old.disable:
            changes.append(_Change(path, "disable", f"`disable` adds {rule_id!r}", _of_rule(rule_id)))
    if new.max_file_size > old.max_file_size:
        changes.append(_Change(path, "max-file-size",
                               f"`max-file-size` raised from {old.max_file_size} to {new.max_file_size} bytes",
                               lambda f: False))
    if old.archives and not new.archives:
        changes.append(_Change(path, "archives", "`archives` turned off (archive members are not read)",
                               lambda f: bool(f.archive)))
    elif old.archives:
        # Lower limits leave more of an archive unread.
        for key, before, after in (("archive-depth", old.archive_depth, new.archive_depth),
                                   ("archive-max-members", old.archive_max_members, new.archive_max_members),
                                   ("archive-max-ratio", old.archive_max_ratio, new.archive_max_ratio),
                                   # Set on its own: the default follows max-file-size, judged above.
                                   ("archive-max-bytes", old.archive_bytes(old.max_file_size),
                                    new.archive_max_bytes or old.archive_bytes(old.max_file_size))):
            if after < before:
                changes.append(_Change(path, key, f"`{key}` lowered from {before} to {after}", lambda f: False))
    if new.decode_depth < old.decode_depth:
        # Values encoded deeper than the new depth are no longer decoded (0: none is).
        depth = new.decode_depth
        changes.append(_Change(path, "decode-depth", f"`decode-depth` lowered from {old.decode_depth} to {depth}",
                               lambda f: len(f.decoded) > depth))
    if new.inline_allow and not old.inline_allow:
        changes.append(_Change(path, "inline-allow", "`inline-allow` turned on", lambda f: False))
    if new.inline_allow_in_changes == "notice" and old.inline_allow_in_changes != "notice":
        changes.append(_Change(path, "inline-allow-in-changes", "`inline-allow-in-changes` set to \"notice\"",
                               lambda f: False))
    return changes


def _excluded_by(cfg: config_file.Config) -> Callable[[Finding], bool]:
    return lambda f: cfg.is_excluded(f.path)


def _allowed_by(allow: config_file.AllowPattern) -> Callable[[Finding], bool]:
    return lambda f: bool(allow.search(f.secret))


def _of_rule(rule_id: str) -> Callable[[Finding], bool]:
    return lambda f: f.rule_id == rule_id


def _baseline_changes(base: policies.Policy, tip: policies.Policy) -> list[_Change]:
    added = tip.baseline - base.baseline
    if not added or tip.baseline_path is None:
        return []
    count = len(added)
    return [_Change(tip.baseline_path, "", f"the baseline adds {count} entr{'ies' if count != 1 else 'y'}",
                    lambda f: f.fingerprint in added)]


def _last_commit(repo: gitcmd.Repo, base: str, tip: str, path: str) -> tuple[str | None, str | None, str | None]:
    """The newest commit of base..tip that touched PATH: where the change was made."""
    out = gitcmd.run(repo, "log", "-1", "--format=%H%x00%an%x00%aI", "--no-renames", f"{base}..{tip}",
                     "--", f":(literal){path}", ok=(0, 128))
    parts = out.decode("utf-8", "replace").strip().split("\0")
    if len(parts) != 3 or not parts[0]:
        return None, None, None
    return parts[0], parts[1], parts[2]


def _line_of(repo: gitcmd.Repo, tip: str, path: str, key: str) -> int:
    """The line of PATH (at TIP) that sets KEY, else 1: where the annotation goes."""
    try:
        raw = policies.read_at(repo, policies.resolve(repo, tip), path)
    except KeysentryError:
        return 1
    if raw is None:
        return 1
    text = raw.decode("utf-8", "replace")
    if not key:
        return 1
    pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=", re.MULTILINE)
    found = pattern.search(text)
    return text.count("\n", 0, found.start()) + 1 if found else 1
