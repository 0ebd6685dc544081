"""Reporters turn a scan result into text. Redaction happens here and nowhere else: `present` makes
each finding display-ready once (secret redacted, keys in names masked) and every reporter, text,
JSON, SARIF and the blocked-commit message, renders only that."""
from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scanner.domain import ContextName, Severity
    from scanner.models import Finding, Result, Stats, Verification
    from scanner.rules import FileRule, Rule


def redact(secret: str) -> str:
    """At most the first 4 and the last 2 characters; less of a short secret."""
    if len(secret) >= 12:
        return f"{secret[:4]}…{secret[-2:]}"
    if len(secret) >= 6:
        return f"{secret[:2]}…"
    return "…"


def decoded_words(f: "Shown") -> str:
    """How a secret found in decoded text was encoded, as the text and markdown reports say it
    after the secret: " (decoded: base64 > hex)"; "" for one found as it is."""
    return f" (decoded: {' > '.join(f.decoded)})" if f.decoded else ""


def display_path(path: str) -> str:
    """A path as git stores it: bytes that are not UTF-8 are shown as \\x escapes, not dropped."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


# C0 controls (ESC, BEL, CR, LF…), DEL, C1 controls; every Unicode format character (category Cf,
# Unicode 14: zero-width spaces and joiners, the bidirectional marks and overrides that make text
# display in another order than it reads, the soft hyphen, the byte-order mark, word joiners, tag
# characters); every space but the plain one and the line/paragraph separators (Z*); and the
# letters that draw nothing (Hangul fillers, the combining grapheme joiner, Khmer's invisible
# vowels, the blank Braille pattern). Two names that differ only in those look the same on screen.
_UNPRINTABLE = re.compile(
    "[\x00-\x1f\x7f-\xa0\xad\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u115f\u1160"
    "\u1680\u17b4\u17b5\u180e\u2000-\u200f\u2028-\u202f\u205f-\u2064\u2066-\u206f\u2800\u3000\u3164"
    "\ufeff\uffa0\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U00013438\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]")


def printable(text: str) -> str:
    """TEXT as it is safe to show a person: a control character becomes a visible escape (\\x1b,
    \\n), so a file or author name can neither drive the terminal nor forge a report line."""
    return _UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def verification_fields(v: "Verification") -> dict[str, object]:
    """The contract's `verification` object: status and reason, and exposes / surface where known."""
    fields: dict[str, object] = {"status": v.status, "reason": v.reason}
    if v.exposes:
        fields["exposes"] = list(v.exposes)
    if v.surface:
        fields["surface"] = v.surface
    r = v.restrictions
    if r is not None:  # --verify-owner
        fields["restrictions"] = {"known": r.known, "reason": r.reason} if not r.known else {
            "known": True, "reason": r.reason, "key": r.key, "unrestricted": r.unrestricted,
            "gemini_allowed": r.gemini_allowed, "api_targets": list(r.api_targets), "referrers": list(r.referrers),
            "ips": list(r.ips), "android_apps": [{"package": p, "sha1": s} for p, s in r.android_apps],
            "ios_bundle_ids": list(r.ios_bundle_ids), **({"fix": r.fix} if r.fix else {})}
    return fields


def exposure_words(v: "Verification") -> str:
    """What a verdict adds beyond status and reason, for one line of prose ("" when nothing):
    "exposes files, cached-contents; accepted by generative-language"."""
    said = []
    if v.exposes:
        said.append("exposes " + ", ".join(v.exposes))
    if v.surface:
        said.append(f"accepted by {v.surface}")
    if v.restrictions is not None:  # --verify-owner
        said.append(f"restrictions: {v.restrictions.reason}" if v.restrictions.known
                    else f"restrictions not known: {v.restrictions.reason}")
        if v.restrictions.fix:
            said.append(f"restrict it: {v.restrictions.fix}")
    return "; ".join(said)


def shell_word(path: str) -> str:
    """PATH as one shell word that reads back as exactly its bytes, on one printable line: shlex
    quoting when that is enough, else bash/zsh $'...' with \\xNN escapes (a newline inside '...'
    would break the line shown, and printable()'s escapes would name another file)."""
    if not _UNPRINTABLE.search(path) and not any("\udc80" <= c <= "\udcff" for c in path):
        return shlex.quote(path)
    out = []
    for char in path:
        if "\udc80" <= char <= "\udcff":  # a byte that is not UTF-8, kept by surrogateescape
            out.append(f"\\x{ord(char) - 0xDC00:02x}")
        elif _UNPRINTABLE.match(char):
            out.extend(f"\\x{byte:02x}" for byte in char.encode("utf-8"))
        elif char in "\\'":
            out.append("\\" + char)
        else:
            out.append(char)
    return "$'" + "".join(out) + "'"


# Keys recognisable without a name around them, so that a key in a file or author name is redacted
# even where no finding's secret is that key. Looser than the rules: over-redacting a name is harmless.
_KEY_SHAPES = re.compile(r"AIza[0-9A-Za-z_-]{35}|AQ\.Ab[0-9A-Za-z_-]{44,64}|GOCSPX-[0-9A-Za-z_-]{28}"
                         r"|ya29\.[0-9A-Za-z_.-]{20,}|1//0[0-9A-Za-z_-]{38,}")
# A secret this short, or a .env finding's sample value, would redact ordinary words in names.
_MIN_SECRET_IN_NAME = 8


class NameMasker:
    """Redacts every finding's secret (and every key-shaped token) inside a name shown to people, a
    path or an author: a key in `config-AIza….json` must not be printed in full either."""

    def __init__(self, findings: Iterable["Finding"], show_secrets: bool = False) -> None:
        self._enabled = not show_secrets
        self._secrets = {f.secret for f in findings
                         if f.line and len(f.secret) >= _MIN_SECRET_IN_NAME} if self._enabled else set()
        self._prefixes = {s[:_MIN_SECRET_IN_NAME] for s in self._secrets}
        self._lengths = sorted({len(s) for s in self._secrets}, reverse=True)
        self._cache: dict[str, str] = {}

    def __call__(self, text: str | None) -> str:
        if not self._enabled or not text:
            return text or ""
        masked = self._cache.get(text)
        if masked is None:
            masked = _KEY_SHAPES.sub(lambda m: redact(m.group()), self._mask_secrets(text))
            self._cache[text] = masked
        return masked

    def _mask_secrets(self, text: str) -> str:
        # One prefix lookup per position, then the few secret lengths: linear in the name, whatever
        # the number of secrets (a regex alternation of 40k secrets would try each at each position).
        pieces: list[str] = []
        start = i = 0
        end = len(text) - _MIN_SECRET_IN_NAME + 1
        while i < end:
            if text[i:i + _MIN_SECRET_IN_NAME] in self._prefixes:
                hit = next((n for n in self._lengths if text[i:i + n] in self._secrets), 0)
                if hit:
                    pieces += [text[start:i], redact(text[i:i + hit])]
                    i = start = i + hit
                    continue
            i += 1
        return "".join(pieces) + text[start:] if pieces else text


@dataclass(frozen=True)
class Options:
    show_secrets: bool = False
    color: bool = False
    width: int = 100
    show_suppressed: bool = False  # --show-suppressed: list what the policy silenced, with the cause


@dataclass(frozen=True)
class ShownLocation:
    path: str  # masked, as Shown.path
    line: int
    column: int


@dataclass(frozen=True)
class ShownMove:
    """A later path the secret was carried to (the contract's `moved_to`), masked as Shown.path."""

    path: str
    commit: str


# What every report says of a finding no ref leads to (--unreachable).
UNREACHABLE = ("not reachable from any ref (a commit only a reflog names, or a dangling object): it survives "
               "in this copy of the repository until git gc prunes it, and in every copy made before")


# How many of a finding's later paths a one-line report names; the rest is a count.
MOVES_NAMED = 3


def moved_words(moves: Sequence[ShownMove], name: Callable[[str], str]) -> str:
    """"b.py (1a2b3c4d5e6f), c.py (…) and 2 more paths": the paths a secret was carried to, for a
    report that says them in words; NAME shows a path."""
    named = ", ".join(f"{name(m.path)} ({m.commit[:12]})" for m in moves[:MOVES_NAMED])
    rest = len(moves) - MOVES_NAMED
    return named + (f" and {rest} more path{'s' * (rest != 1)}" if rest > 0 else "")


@dataclass(frozen=True)
class Shown:
    """One finding as the reports may show it: no full secret unless the user asked for it."""

    rule: "Rule | FileRule"
    path: str  # as git stores it (surrogateescape), a key in it masked
    line: int
    column: int
    secret: str  # redacted unless --show-secrets
    secret_length: int  # of the real secret, in characters (SARIF's endColumn)
    secret_id: int  # one number per distinct secret, so that counting them needs no secret
    fingerprint: str
    commit: str | None
    author: str | None  # masked
    date: str | None
    in_head: bool | None
    head_paths: tuple[str, ...]  # masked
    head_elsewhere: tuple[str, ...]  # those of head_paths that are not the finding's own path
    unstaged_fix: bool
    severity: Severity
    context: ContextName
    # Every place holding the same secret, this one first; names masked like `path`.
    locations: tuple[ShownLocation, ...]
    verification: "Verification | None"
    companion: str = ""  # a client secret's OAuth client id: public, so never masked
    suppressed: str = ""  # why the policy silences it ("baseline", "config", "inline"), or "": reported
    # history/range: each later path a rename or copy carried the secret to, oldest first
    moved_to: tuple[ShownMove, ...] = ()
    reachable: bool | None = None  # --unreachable: False when no ref leads to it
    # Inside an archive: the files holding it (Finding.archives), masked; git can only drop those whole.
    archives: tuple[str, ...] = ()
    place: str = "file"  # or git metadata: "commit-message", "tag-message" (then `path` names the object)
    decoded: tuple[str, ...] = ()  # found in decoded text: the decodings, outermost first

    @property
    def rule_id(self) -> str:
        return self.rule.id

    @property
    def message(self) -> str:
        """What the finding is, in words: its rule's description, or what a whole-file rule says of a
        file found holding no secret (a .env of plain settings and placeholders, severity low)."""
        quiet = getattr(self.rule, "no_secret", "")
        return quiet if quiet and self.severity == "low" else self.rule.description

    @property
    def name(self) -> str:
        """The path for a person: \\x escapes for bytes that are not UTF-8, control characters escaped."""
        return printable(display_path(self.path))

    @property
    def word(self) -> str:
        """The path as one shell word."""
        return shell_word(self.path)


@dataclass(frozen=True)
class View:
    """A scan result with every finding made display-ready; the only thing reporters see."""

    mode: str
    findings: tuple[Shown, ...]
    stats: "Stats"
    notes: tuple[str, ...]
    skipped_large_paths: tuple[str, ...]  # masked like the findings' paths
    target: str = ""  # what was scanned (a folder, "-"), masked
    revisions: str = ""  # history/range: which revisions
    # --show-suppressed: the findings the policy silenced, each with its cause; else empty (the
    # counts by cause are in the stats either way).
    suppressed: tuple[Shown, ...] = ()

    def stats_dict(self) -> dict[str, object]:
        """The stats as JSON and SARIF give them: the skipped files' names shown like the findings' paths."""
        data = self.stats.as_dict()
        data["skipped_large_paths"] = [display_path(p) for p in self.skipped_large_paths]
        return data


def present(result: "Result", options: Options,
            rules: "Mapping[str, Rule | FileRule] | None" = None) -> View:
    """RESULT as the reports show it: the one place that redacts. RULES defaults to the registry."""
    if rules is None:
        from scanner.rules import RULES_BY_ID

        rules = RULES_BY_ID
    listed = result.suppressed if options.show_suppressed else ()
    # A plain rule's "secret" is a description (rules.policy), not a secret to mask in names.
    mask = NameMasker([f for f in (*result.findings, *listed) if not getattr(rules[f.rule_id], "plain", False)],
                      options.show_secrets)
    ids: dict[str, int] = {}

    def show(f: "Finding") -> Shown:
        return Shown(
            rule=rules[f.rule_id],
            path=mask(f.path),
            line=f.line,
            column=f.column,
            # A plain rule's "secret" says what changed: shown, with any key in it masked.
            secret=f.secret if options.show_secrets else mask(f.secret) if getattr(rules[f.rule_id], "plain", False)
            else redact(f.secret),
            secret_length=len(f.secret),
            secret_id=ids.setdefault(f.secret, len(ids)),
            fingerprint=f.fingerprint,
            commit=f.commit,
            author=mask(f.author) if f.author is not None else None,
            date=f.date,
            in_head=f.in_head,
            head_paths=tuple(mask(p) for p in f.head_paths),
            head_elsewhere=tuple(mask(p) for p in f.head_paths if p != f.path),
            unstaged_fix=f.unstaged_fix,
            severity=f.severity,
            context=f.context,
            locations=tuple(ShownLocation(mask(loc.path), loc.line, loc.column) for loc in f.locations)
            or (ShownLocation(mask(f.path), f.line, f.column),),
            verification=f.verification,
            companion=f.companion,
            suppressed=f.suppressed,
            moved_to=tuple(ShownMove(mask(m.path), m.commit) for m in f.moved_to),
            reachable=f.reachable,
            archives=tuple(mask(p) for p in f.archives()),
            place=f.place,
            decoded=f.decoded,
        )

    shown = tuple(show(f) for f in result.findings)
    return View(result.mode, shown, result.stats, result.notes,
                tuple(mask(p) for p in result.stats.skipped_large_paths), mask(result.target), mask(result.revisions),
                tuple(show(f) for f in listed))


# How each cause of suppression is named in a summary.
CAUSE_NAMES = {"baseline": "the baseline", "config": "config (allow)", "inline": "inline markers"}


def suppressed_summary(stats: "Stats") -> str:
    """"suppressed: 2 by the baseline, 1 by inline markers", or "" when nothing was: the one
    wording every report's summary uses for what the policy hides."""
    parts = [f"{n} by {CAUSE_NAMES[cause]}" for cause, n in sorted(stats.suppressed.items()) if n]
    return "suppressed: " + ", ".join(parts) if parts else ""


# --format NAME -> the module whose `render(view: View) -> str` makes it; imported only when used,
# so that the hook path never loads a reporter it does not print. "text" is rendered below.
FORMATS: dict[str, str] = {
    "text": "",
    "json": "scanner.report.json_report",
    "sarif": "scanner.report.sarif",
    "html": "scanner.report.html",
    "markdown": "scanner.report.markdown",
    "gitlab": "scanner.report.gitlab",
    "github": "scanner.report.github",
}


def stream(result: "Result", fmt: str, options: Options) -> "Iterator[str]":
    """RESULT in FMT, in chunks: the JSON formats make each finding's part only when it is written
    (their module's `stream`), so a report of 50,000 findings is never held whole."""
    view = present(result, options)
    module_name = FORMATS[fmt]
    if module_name:
        import importlib

        module = importlib.import_module(module_name)
        if hasattr(module, "stream"):
            chunks: Iterator[str] = module.stream(view)
            return chunks
    return iter((_render_view(view, fmt, options),))


def render(result: "Result", fmt: str, options: Options) -> str:
    return _render_view(present(result, options), fmt, options)


def _render_view(view: View, fmt: str, options: Options) -> str:
    if FORMATS[fmt]:
        import importlib

        module = importlib.import_module(FORMATS[fmt])
        text: str = module.render(view)
        return text
    if view.mode == "staged":
        # The pre-commit hook's output: per finding what to do, then once how to bypass.
        from scanner.report import blocked

        return blocked.message(view, options, action="commit") if view.findings else blocked.render_clean(view)
    from scanner.report.text import render as render_text

    return render_text(view, options)
