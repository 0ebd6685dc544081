"""Immutable records that flow between the stages: sources -> engine -> filters -> reporters."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from scanner import context
from scanner.archives import REASONS, Tally
from scanner.domain import ContextName, Mode, Place, Severity, Status
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
    # Inside an archive: the member's path, outermost archive first (scanner.archives); the
    # finding's path is then `BLOB!MEMBER` (member_path). Empty: the blob itself.
    member: tuple[str, ...] = ()
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
    if match.member:
        rule += "\0!" + "!".join(match.member)  # the same key in two members of an archive is two
    return rule, match.identity


# What a compressed file's unnamed content is called: its own name minus the suffix.
_COMPRESSED_SUFFIXES = ((".tgz", ".tar"), (".tbz2", ".tar"), (".tbz", ".tar"), (".txz", ".tar"), (".gz", ""),
                        (".bz2", ""), (".xz", ""), (".z", ""))


def member_path(path: str, member: tuple[str, ...]) -> str:
    """The contract's path of a secret inside an archive: `ARCHIVE!MEMBER`, nested `a.zip!b.jar!c.xml`.
    A member named "" (a compressed stream that does not name its content) is called after the
    file holding it, minus its suffix (`notes.txt.gz!notes.txt`)."""
    if not member:
        return path
    parts = [path]
    for name in member:
        if not name:
            outer = parts[-1].rsplit("/", 1)[-1].rsplit("!", 1)[-1]
            lowered = outer.lower()
            name = next((outer[:-len(s)] + t for s, t in _COMPRESSED_SUFFIXES if lowered.endswith(s) and len(outer) > len(s)),
                        outer)
        parts.append(name)
    return "!".join(parts)


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
class Hit:
    """A blob that holds something at one of its paths (its bytes dropped): what the scan loop
    hands a source's provenance step."""

    blob: Blob
    content: tuple[Match, ...]  # the content step's matches: the same at every path
    at: tuple[tuple[str, tuple[Match, ...]], ...]  # (path, content and path-step matches) where any


@dataclass(frozen=True)
class Location:
    """One place a secret sits at."""

    path: str
    line: int
    column: int


@dataclass(frozen=True)
class Moved:
    """A later path a secret was carried to by a rename or a copy, and the commit that did it
    (the contract's `moved_to` entries; scanner.attribution says what counts)."""

    path: str
    commit: str


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
    # A file, or git metadata: then `path` is `commit-message:SHA` / `tag-message:ID`, no file's path.
    place: Place = "file"
    # history/range: every later path the secret was carried to (renames, copies), oldest first.
    moved_to: tuple[Moved, ...] = ()
    # --unreachable: False for a secret only commits no ref leads to (reflog entries) or dangling
    # objects hold, True for the others; None when the scan did not look (the contract's `reachable`).
    reachable: bool | None = None
    # Inside an archive: the file that holds it (the outermost archive, what git and the file system
    # know: removing it from history removes the secret), and `path` is `ARCHIVE!MEMBER`; else "".
    archive: str = ""

    def archives(self) -> tuple[str, ...]:
        """The files to take out of history for this finding inside an archive: its archive, and
        the archives holding it in HEAD (head_paths, renamed or copied); () when not in one."""
        if not self.archive:
            return ()
        inner = self.path[len(self.archive):]  # "!MEMBER…", the same wherever the archive went
        return tuple(dict.fromkeys([self.archive, *(p[:-len(inner)] for p in self.head_paths if p.endswith(inner))]))
    # Found in decoded text: the chain of decodings, outermost first (Match.decoded).
    decoded: tuple[str, ...] = ()


def fingerprint(rule_id: str, path: str, identity: str) -> str:
    """Content-keyed: never a line number or a commit, so edits elsewhere never make it new."""
    import hashlib  # here: loading OpenSSL costs a commit hook 3 ms that finds nothing

    secret_hash = hashlib.sha256(identity.encode("utf-8", "surrogateescape")).hexdigest()
    return hashlib.sha256(f"{rule_id}\0{path}\0{secret_hash}".encode("utf-8", "surrogateescape")).hexdigest()[:40]


def make_finding(match: Match, path: str, *, commit: str | None = None, author: str | None = None,
                 date: str | None = None, in_head: bool | None = None, head_paths: tuple[str, ...] = (),
                 unstaged_fix: bool = False, locations: tuple[Location, ...] = (),
                 moved_to: tuple[Moved, ...] = (), place: Place = "file") -> Finding:
    """A finding for MATCH at PATH, with the history's provenance when there is one."""
    archive = path if match.member else ""
    if match.member:
        path = member_path(path, match.member)
        # A member's context is its own path's (an .apk's res/values/strings.xml), the archive's
        # folders still count (a zip under tests/).
        where = context.judge(path.replace("!", "/"), match.clues)
    else:
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
        moved_to=moved_to,
        archive=archive,
        place=place,
        decoded=match.decoded,
    )


# A piece of content holding more secrets than this is a dump, not code: its first MAX_MATCHES are
# listed and the rest is said as a count (scanner.detect.Scanned.crowded_line, Stats.crowded), so
# that one file of 430,000 keys costs what a file of a thousand does instead of gigabytes (a finding
# is some hundreds of bytes).
MAX_MATCHES = 1000

# Why members of archives went unread (stats.archives.skipped); a member named with ".." or an
# absolute path is read all the same (stats.archives.unsafe_names).
SKIP_REASONS = tuple(r for r in REASONS if r != "unsafe-name")

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
    # --unreachable: what no ref leads to, as counted ({"commits", "trees", "blobs"}); None: not asked.
    unreachable: dict[str, int] | None = None
    # Archives whose members were read (scanner.archives), the members read, and the members each
    # limit left unread, by reason ("depth", "bytes", "members", "ratio", "encrypted", "corrupt",
    # "large"); members named with ".." or an absolute path (read, never written anywhere).
    archives: int = 0
    archive_members: int = 0
    archive_skipped: dict[str, int] = field(default_factory=dict)
    archive_unsafe_names: int = 0
    archives_named: int = 0  # archives a warning named (the first few; the counts cover all)

    def note_archive(self, tally: Tally) -> None:
        """Add what reading one blob's archive met."""
        self.archives += tally.archives
        self.archive_members += tally.members
        for reason, count in tally.skipped:
            if reason == "unsafe-name":
                self.archive_unsafe_names += count
            else:
                self.archive_skipped[reason] = self.archive_skipped.get(reason, 0) + count

    def note_missing(self, oids: Iterable[str]) -> None:
        """Add the objects git could not read (OIDS) that are not listed yet, in order."""
        self.missing_objects.extend(sorted(set(oids) - set(self.missing_objects)))

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
            "archives": {"read": self.archives, "members": self.archive_members,
                         "skipped": {reason: self.archive_skipped.get(reason, 0) for reason in SKIP_REASONS},
                         "unsafe_names": self.archive_unsafe_names},
        }
        if self.shallow:
            data["shallow"] = True
        if self.unreachable is not None:
            data["unreachable"] = dict(self.unreachable)
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
    # the scan could not vouch for them, so it does not exit 0 (scanner.exitcodes.gate_status).
    unscanned: tuple[str, ...] = ()
