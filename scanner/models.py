"""Immutable records that flow between the stages: sources -> engine -> filters -> reporters."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from scanner import context
from scanner.domain import ContextName, Mode, Severity, Status
from scanner.rules import RULES_BY_ID


@dataclass(frozen=True)
class Match:
    """A secret the engine found in one piece of content, before provenance is attached."""

    rule_id: str
    secret: str
    line: int  # 1-based; 0 for a whole-file finding
    column: int  # 1-based, in characters; 0 for a whole-file finding
    # What the fingerprint is keyed on: the secret itself, or "" for whole-file findings so that
    # editing a .env file does not make its finding new again.
    identity: str
    # What the text around it suggests about where it sits (scanner.context.clues), and a severity
    # the content step judged itself (a .env file's, by what it holds); "": judged from the context.
    clues: tuple[ContextName, ...] = ()
    severity: Severity | Literal[""] = ""
    # The public half its check needs (scanner.companion: a client secret's client id, an HMAC
    # secret's access id, a Chat webhook token's space and key), or "".
    companion: str = ""
    # Why the policy silences it: "" (it is reported), "inline" (an allow marker in a comment on
    # its line) or "config" (an `allow` regex). Silenced matches still go through attribution,
    # so a gate can tell a marker the change adds, and --show-suppressed can list them.
    suppressed: SuppressedBy = ""
    # Found in decoded text (scanner.decode): the decodings, outermost first ("base64", "hex", …);
    # line and column are where its encoded form starts.
    decoded: tuple[str, ...] = ()


# Why a finding is not reported: "" (it is), an inline marker, the config (`allow`), the baseline.
SuppressedBy = Literal["", "inline", "config", "baseline"]
CAUSES: tuple[SuppressedBy, ...] = ("baseline", "config", "inline")


def secret_key(match: Match) -> tuple[str, str]:
    """What tells two matches apart for attribution: the rule and identity, and whether the policy
    silences it (a marker added to a secret, or taken off one, changes what is reported)."""
    rule = f"{match.rule_id}\0{match.suppressed}" if match.suppressed else match.rule_id
    return rule, match.identity


@dataclass(frozen=True)
class Blob:
    """One piece of content and every place it occurs at: the one record every source yields.

    The scan loop reads it (through the source's reader, or `data` when already in hand), runs
    the content step once, and the path step for each path: what a rule or `exclude` says can
    differ between two paths holding the same bytes (a `web/.env` and an `api/settings.env`)."""

    paths: tuple[str, ...]  # "/"-separated; history: every path any commit holds it at
    oid: str | None = None  # git's object id; None for a work-tree file or standard input
    size: int | None = None  # when known before reading (git objects), so a large one is never read
    data: bytes | None = None  # standard input: read already
    # False for a blob read only to judge another (the version of a staged path in HEAD): it is
    # not part of what the scan covers, so the stats leave it out.
    counted: bool = True


@dataclass(frozen=True)
class Location:
    """One place a secret sits at."""

    path: str
    line: int
    column: int


@dataclass(frozen=True)
class Restrictions:
    """What an API key's owner can read of it (`--verify-owner`, the API Keys API), or why not."""

    known: bool
    reason: str  # a one-line summary, or why the restrictions could not be read
    key: str = ""  # its resource name, projects/…/locations/global/keys/…
    api_targets: tuple[str, ...] = ()  # the APIs it may call; empty: every API enabled in its project
    referrers: tuple[str, ...] = ()
    ips: tuple[str, ...] = ()
    android_apps: tuple[tuple[str, str], ...] = ()  # (package name, SHA-1 fingerprint)
    ios_bundle_ids: tuple[str, ...] = ()
    fix: str = ""  # for an unrestricted key: the gcloud command that restricts it

    @property
    def unrestricted(self) -> bool:
        """Any API of its project, from anywhere."""
        return self.known and not (self.api_targets or self.referrers or self.ips or self.android_apps
                                   or self.ios_bundle_ids)

    @property
    def gemini_allowed(self) -> bool:
        return self.known and (not self.api_targets or "generativelanguage.googleapis.com" in self.api_targets)


@dataclass(frozen=True)
class Verification:
    """What asking the key's issuer said (contract: `verification`)."""

    status: Status
    reason: str
    # What a live Gemini key can list ("files", "cached-contents", "tuned-models"), and which API
    # accepted it ("generative-language" | "vertex-ai"); empty / None when not known.
    exposes: tuple[str, ...] = ()
    surface: str | None = None
    restrictions: Restrictions | None = None  # --verify-owner, API keys only


@dataclass(frozen=True)
class Finding:
    rule_id: str
    path: str
    line: int
    column: int
    secret: str
    fingerprint: str
    commit: str | None = None
    author: str | None = None
    date: str | None = None
    in_head: bool | None = None
    # history/range: where the secret lives in HEAD now, when it moved away from `path`
    head_paths: tuple[str, ...] = ()
    # staged: the work-tree file no longer holds it, so the fix is made but not staged (`git add`)
    unstaged_fix: bool = False
    # The contract's fields: how urgent (the rule's default until the context is judged), where the
    # secret sits, every place holding the same secret (empty: only this one), what --verify said.
    severity: Severity = "high"
    context: ContextName = "generic"
    locations: tuple[Location, ...] = ()
    verification: Verification | None = None
    # The public half found next to it (a client secret's OAuth client id, an HMAC access id, a Chat
    # webhook's space and key; never part of the fingerprint).
    companion: str = ""
    # Why the policy does not report it (listed with --show-suppressed), or "": reported.
    suppressed: SuppressedBy = ""
    # Found in decoded text: the chain of decodings, outermost first (Match.decoded).
    decoded: tuple[str, ...] = ()


def fingerprint(rule_id: str, path: str, identity: str) -> str:
    """Content-keyed: never a line number or a commit, so edits elsewhere never make it new."""
    import hashlib  # here: loading OpenSSL costs a commit hook 3 ms that finds nothing

    secret_hash = hashlib.sha256(identity.encode("utf-8", "surrogateescape")).hexdigest()
    return hashlib.sha256(f"{rule_id}\0{path}\0{secret_hash}".encode("utf-8", "surrogateescape")).hexdigest()[:40]


def make_finding(match: Match, path: str, *, commit: str | None = None, author: str | None = None,
                 date: str | None = None, in_head: bool | None = None, head_paths: tuple[str, ...] = (),
                 unstaged_fix: bool = False, locations: tuple[Location, ...] = ()) -> Finding:
    """A finding for MATCH at PATH, with the history's provenance when there is one."""
    where = context.judge(path, match.clues)
    return Finding(
        severity=match.severity or context.severity(match.rule_id, RULES_BY_ID[match.rule_id].severity, where),
        context=where,
        rule_id=match.rule_id,
        path=path,
        line=match.line,
        column=match.column,
        secret=match.secret,
        fingerprint=fingerprint(match.rule_id, path, match.identity),
        commit=commit,
        author=author,
        date=date,
        in_head=in_head,
        head_paths=head_paths,
        unstaged_fix=unstaged_fix,
        locations=locations,
        companion=match.companion,
        suppressed=match.suppressed,
        decoded=match.decoded,
    )


# A piece of content holding more secrets than this is a dump, not code: its first MAX_MATCHES are
# listed and the rest is said as a count (scanner.detect.Scanned.crowded_line, Stats.crowded), so
# that one file of 430,000 keys costs what a file of a thousand does instead of gigabytes (a finding
# is some hundreds of bytes).
MAX_MATCHES = 1000

# How many skipped paths a summary names; the count says how many there were in all.
SKIPPED_PATHS_KEPT = 5


@dataclass
class Stats:
    """Counters a scan accumulates (the scan loop adds up what its workers report)."""

    files: int = 0
    blobs: int = 0
    commits: int = 0
    bytes: int = 0
    seconds: float = 0.0
    skipped_large: int = 0
    skipped_lfs: int = 0
    skipped_symlinks: int = 0
    # The first few files skipped as too large, so the summary can name them (a "no secrets
    # found" that silently left out the one big file would mislead).
    skipped_large_paths: list[str] = field(default_factory=list)
    # Folders with their own .git inside the scanned tree (not submodules): never entered.
    nested_repos: int = 0
    unreadable: int = 0
    allowed: int = 0
    baselined: int = 0
    excluded: int = 0
    # Blobs holding more secrets than the engine lists for one (scanner.detect.MAX_MATCHES): their
    # first ones are findings, and a warning names each with how much was left unread.
    crowded: int = 0
    # Findings the policy silenced, by cause ("baseline", "config", "inline"): a report shows what
    # is being hidden, not only what is found.
    suppressed: dict[str, int] = field(default_factory=dict)
    shallow: bool = False
    warnings: list[str] = field(default_factory=list)
    # Objects git could not read (missing from a partial clone or an old mirror, or corrupt): the
    # scan went on without them, so it is incomplete and never exits 0.
    missing_objects: list[str] = field(default_factory=list)

    def note_large(self, path: str) -> None:
        """Remember the path of a file skipped for its size, if it is among the first few (skipped_large
        holds the count)."""
        if len(self.skipped_large_paths) < SKIPPED_PATHS_KEPT and path not in self.skipped_large_paths:
            self.skipped_large_paths.append(path)

    def as_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            "files": self.files, "blobs": self.blobs, "commits": self.commits,
            "bytes": self.bytes, "seconds": round(self.seconds, 3),
            "skipped_large": self.skipped_large,
            "skipped_large_paths": list(self.skipped_large_paths),
            "skipped_lfs": self.skipped_lfs, "skipped_symlinks": self.skipped_symlinks,
            "nested_repos": self.nested_repos,
            "unreadable": self.unreadable, "allowed": self.allowed,
            "baselined": self.baselined, "excluded": self.excluded,
            "crowded": self.crowded,
            "suppressed": {cause: self.suppressed.get(cause, 0) for cause in CAUSES},
            "missing_objects": sorted(self.missing_objects),
        }
        if self.shallow:
            data["shallow"] = True
        return data


@dataclass(frozen=True)
class Result:
    mode: Mode
    findings: tuple[Finding, ...]
    stats: Stats
    notes: tuple[str, ...] = ()  # things the report should say (e.g. shallow history)
    # What was scanned, for a report's heading: the folder, and the revisions (history: all refs).
    target: str = ""
    revisions: str = ""
    # Findings the policy silenced, each with its cause (Finding.suppressed), for --show-suppressed.
    suppressed: tuple[Finding, ...] = ()
    # A gate's files skipped for their size (the first few; stats.skipped_large counts them all):
    # the scan could not vouch for them, so it does not exit 0 (scanner.cli.gate_status).
    unscanned: tuple[str, ...] = ()
