"""Where a secret sits and how urgent it is, judged offline (contract: `context`, `severity`).

Two steps, both pure: the content step reads the text around a match once per blob and names the
clues it sees (`clues`: a Gemini client call, a Firebase config object, a notebook output cell);
where a finding is made, its path and those clues give the context (`judge`), and the rule and the
context give the severity (`severity`). Google's Gemini key guide says any unrestricted API key of a
project with the Gemini API enabled can call it, so a Firebase or Maps key is never "harmless": its
advice is to restrict the key, not to move it to GEMINI_API_KEY (`CONTEXTS`).
"""
from __future__ import annotations

import bisect
import posixpath
import re
from dataclasses import dataclass

from scanner import lazyre
from scanner.domain import ContextName, Severity


@dataclass(frozen=True)
class Context:
    name: ContextName
    # How to fix a key found here, when moving the literal to an environment variable is not it
    # (a key that is meant to ship with a web page or an app); empty: the rule's own advice.
    fix: str = ""
    # Severity of a finding here, by rule id ("*": any rule); a rule not named keeps its default.
    severity: tuple[tuple[str, Severity], ...] = ()


_RESTRICT = (
    "this key ships with the {what} by design, so moving it out of the code does not help: restrict it in the "
    "Cloud console (APIs & Services > Credentials): API restrictions to only the APIs it serves, and application "
    "restrictions ({how}). An unrestricted key of a project with the Gemini API enabled can call Gemini and bill "
    "the project; if it was ever unrestricted, rotate it"
)

# A server's secret inside an app: everyone who installs the app holds it (an FCM server key sends
# pushes to every install).
_SERVER_SECRET_SHIPPED: tuple[tuple[str, Severity], ...] = (("firebase-cloud-messaging-server-key", "critical"),)

CONTEXTS: dict[ContextName, Context] = {c.name: c for c in (
    Context("gemini-client", severity=(("*", "critical"),)),
    Context("firebase-config", fix=_RESTRICT.format(
        what="web or mobile app (a Firebase config)",
        how="HTTP referrers for the web app's domains, Android package + SHA-1, iOS bundle id")),
    Context("maps-javascript", fix=_RESTRICT.format(
        what="web page (a Maps JavaScript loader)", how="HTTP referrers for your domains")),
    Context("android-resource", fix=_RESTRICT.format(
        what="Android app (a resource or manifest entry)", how="Android apps: package name + signing SHA-1"),
        severity=_SERVER_SECRET_SHIPPED),
    Context("ios-plist", fix=_RESTRICT.format(
        what="iOS app (GoogleService-Info.plist)", how="iOS apps: the bundle id"), severity=_SERVER_SECRET_SHIPPED),
    Context("service-config"),
    Context("notebook-output", severity=(("hardcoded-api-key", "high"),)),
    Context("test-fixture", severity=(("hardcoded-api-key", "medium"),)),
    Context("docs", severity=(("hardcoded-api-key", "medium"),)),
    Context("generic"),
)}

# --- clues in the text around a match (content step) -------------------------------------------

# How far around a match its clues are looked for: a config object or a client call spans a few
# lines, not a file.
REACH = 600
_CLUES: tuple[tuple[ContextName, re.Pattern[str]], ...] = (
    ("gemini-client", lazyre.compile(
        r"genai\.Client|GoogleGenAI|GoogleGenerativeAI|generativelanguage\.googleapis\.com|x-goog-api-key"
        r"|GEMINI_API_KEY|genai\.configure|GenerativeModel|ChatGoogleGenerativeAI|gemini-[\d.]+-(?:pro|flash)",
        re.IGNORECASE)),
    ("firebase-config", lazyre.compile(
        r"authDomain|firebaseio\.com|firebaseapp\.com|messagingSenderId|initializeApp\s*\(|storageBucket")),
    ("maps-javascript", lazyre.compile(r"maps\.googleapis\.com/maps/api/js|maps/api/js\?|@googlemaps/js-api-loader"
                                   r"|google\.maps\.|APIProvider", re.IGNORECASE)),
    ("android-resource", lazyre.compile(r"<meta-data\b|<string\s+name=|com\.google\.android\.geo\.API_KEY")),
)
_NOTEBOOK = lazyre.compile(r'"nbformat"\s*:')
_CELL_PART = lazyre.compile(r'"(outputs|source)"\s*:')


class Clues:
    """The clues of one text, found in one pass per kind and then looked up for each match (a
    bundle holding 20,000 keys is not searched 20,000 times)."""

    def __init__(self, text: str, spans: list[tuple[int, int]]) -> None:
        """SPANS: where the matches to look up are, ascending by start: only the text within REACH of
        them is searched (a 5 MB bundle with one key is not read whole)."""
        self._text = text
        self._spans = spans
        self._hits: list[tuple[ContextName, list[int]]] | None = None
        self._cells: tuple[list[int], list[str]] | None = None

    def _find(self) -> list[tuple[ContextName, list[int]]]:
        windows: list[tuple[int, int]] = []
        for start, end in self._spans:
            low, high = max(0, start - REACH - 200), min(len(self._text), end + REACH + 200)
            if windows and low <= windows[-1][1]:
                windows[-1] = (windows[-1][0], max(windows[-1][1], high))
            else:
                windows.append((low, high))
        return [(name, [m.start() for low, high in windows for m in pattern.finditer(self._text, low, high)])
                for name, pattern in _CLUES]

    def at(self, start: int, end: int) -> tuple[ContextName, ...]:
        """The contexts the text around text[start:end] suggests, most telling first."""
        if self._hits is None:
            self._hits = self._find()
        found: list[ContextName] = [name for name, hits in self._hits if _near(hits, start - REACH, end + REACH)]
        if self._in_notebook_output(start):
            found.insert(0, "notebook-output")
        return tuple(found)

    def _in_notebook_output(self, start: int) -> bool:
        """Is START inside a cell's `outputs` in a Jupyter notebook (JSON with `nbformat`)? The nearest
        "outputs" or "source" key before it says which part of a cell holds it."""
        if self._cells is None:
            text = self._text
            notebook = text.lstrip().startswith("{") and bool(
                _NOTEBOOK.search(text, 0, 4096) or _NOTEBOOK.search(text, max(0, len(text) - 4096)))
            parts = list(_CELL_PART.finditer(text)) if notebook else []
            self._cells = ([m.start() for m in parts], [m[1] for m in parts])
        at, kinds = self._cells
        i = bisect.bisect_left(at, start)
        return i > 0 and kinds[i - 1] == "outputs"


def _near(hits: list[int], low: int, high: int) -> bool:
    i = bisect.bisect_left(hits, low)
    return i < len(hits) and hits[i] <= high


def clues(text: str, start: int, end: int) -> tuple[ContextName, ...]:
    """The clues around one match of TEXT (see Clues, for many)."""
    return Clues(text, [(start, end)]).at(start, end)


# --- context from the path and the clues (where findings are made) -----------------------------

_TEST_PATH = lazyre.compile(
    r"(?:^|/)(?:tests?|__tests__|spec|specs|testing|testdata|test_data|fixtures?|__fixtures__|cassettes|mocks?)/"
    # A Gherkin `.feature` file is a test's specification (Cucumber, Behave, SpecFlow): its steps run as tests.
    r"|(?:^|/)(?:test_[^/]*|[^/]*_tests?\.[^/]+|[^/]*\.(?:test|spec)\.[^/]+|conftest\.py|[^/]*\.feature)$", re.IGNORECASE)
_DOCS_PATH = lazyre.compile(r"(?:^|/)(?:docs?|documentation|site|website|docs-website)/"
                        r"|\.(?:md|mdx|rst|adoc|txt)$|(?:^|/)readme[^/]*$", re.IGNORECASE)
_SERVICE_CONFIG = lazyre.compile(
    r"(?:^|/)(?:\.env(?:\.[^/]+)?|docker-compose[^/]*\.ya?ml|compose\.ya?ml|values[^/]*\.ya?ml|appsettings[^/]*\.json"
    r"|application[^/]*\.(?:ya?ml|properties)|settings\.py|config\.(?:json|ya?ml|toml|js|ts)|[^/]*\.(?:tf|tfvars|ini|cfg|conf))$"
    r"|(?:^|/)(?:config|conf|deploy|k8s|helm|charts)/", re.IGNORECASE)


def judge(path: str, found: tuple[ContextName, ...]) -> ContextName:
    """The contract's `context` of a secret at PATH, given the clues found around it."""
    name = posixpath.basename(path)
    if name == "google-services.json":
        return "firebase-config"
    if name == "GoogleService-Info.plist":
        return "ios-plist"
    if name in ("strings.xml", "AndroidManifest.xml") or (name.endswith(".xml") and "android-resource" in found):
        return "android-resource"
    for clue in found:
        if clue != "android-resource":
            return clue
    if _TEST_PATH.search(path):
        return "test-fixture"
    if _DOCS_PATH.search(path):
        return "docs"
    if _SERVICE_CONFIG.search(path):
        return "service-config"
    return "generic"


def severity(rule_id: str, default: Severity, context: ContextName) -> Severity:
    """The contract's `severity`: the context's word for the rule, else the rule's DEFAULT."""
    rules = dict(CONTEXTS[context].severity) if context in CONTEXTS else {}
    return rules.get(rule_id, rules.get("*", default))


def remediation(context: ContextName) -> str:
    """The context's own fix (a key meant to ship with an app: restrict it), or ""."""
    known = CONTEXTS.get(context)
    return known.fix if known else ""


def dotenv_severity(holds: tuple[str, ...], critical: frozenset[str]) -> Severity:
    """A committed .env: `low` with plain settings only, `high` holding a secret, `critical` holding one of
    the CRITICAL rules' secrets. HOLDS: the rule ids of the secrets found in it."""
    if any(rule in critical for rule in holds):
        return "critical"
    return "high" if holds else "low"
