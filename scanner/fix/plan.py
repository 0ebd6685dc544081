"""From a working-tree scan's findings to a plan: the files to change, the .env files to untrack,
the variables to keep in a local .env, and what is left for a person (with why).

Each place a secret sits at is sorted into one kind of fix:
- in a .env file: the file is taken out of git (a template keeps its names); a template holding a
  real value gets it blanked;
- in a committed shell start-up file (`export GEMINI_API_KEY=…` in .bashrc): the line goes, and the
  user is told where it belongs;
- in a key that ships with an app by design (a Firebase config, an Android resource, an iOS plist, a
  Maps JavaScript loader): nothing moves; the key is restricted (scanner.fix.restrict);
- in code: an environment lookup in the file's language (scanner.fix.code);
- anything else: a step for a person, never a guess.
"""
from __future__ import annotations

import json
import posixpath
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from scanner import gitcmd
from scanner.fix import code, dotenv, files, restrict
from scanner.fix.advice import PUBLIC_CONTEXTS
from scanner.errors import UsageError
from scanner.fix.code import Refused
from scanner.fix.languages import LANGUAGES, Language, is_rc_file, is_spring_properties, language_of
from scanner.fix.model import FileChange, Plan, Step, StepKind
from scanner.models import Finding
from scanner.rules import RULES_BY_ID
from scanner.rules.base import Rule
from scanner.rules.dotenv import DOTENV_FILE

ENV_FILE = ".env"
_DEFAULT_VARS = Rule.__dataclass_fields__["env_vars"].default
# key=value, key: value or key value, as java.util.Properties reads a line.
_PROPERTY = re.compile(r"^[ \t]*(?P<key>[^\s=:#!][^\s=:]*)(?:[ \t]*[=:][ \t]*|[ \t]+)(?P<value>.*)$")
_PLAIN_NAME = re.compile(r"[A-Za-z0-9._+@-]+")
_TEMPLATES = (".env.example", ".env.sample", ".env.template", ".env.dist")
_GENERIC_NAMES = frozenset({"", "KEY", "API_KEY", "APIKEY", "X_API_KEY", "X_GOOG_API_KEY", "GOOGLE_API_KEY"})
_MAPS = re.compile(r"maps", re.IGNORECASE)
# A shell start-up line that only sets the variable: `export NAME=…`, `NAME=…`.
_RC_LINE = re.compile(r"^[ \t]*(?:export[ \t]+)?(?P<name>[A-Za-z_]\w*)=\S*[ \t]*(?:#.*)?\r?$")


@dataclass(frozen=True)
class Place:
    path: str
    line: int
    column: int
    finding: Finding


def places(findings: Sequence[Finding]) -> list[Place]:
    """Every place each finding's secret sits at (a secret copied into 600 files is 600 places)."""
    seen: set[tuple[str, int, int, str]] = set()
    out = []
    for finding in findings:
        spots = [(finding.path, finding.line, finding.column)] + [(loc.path, loc.line, loc.column)
                                                                 for loc in finding.locations]
        for path, line, column in spots:
            key = (path, line, column, finding.rule_id)
            if key not in seen:
                seen.add(key)
                out.append(Place(path, line, column, finding))
    return out


def env_name(bound: str) -> str:
    """`apiKey` -> API_KEY, `stripe-api-key` -> STRIPE_API_KEY: the name a variable would have."""
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", bound)
    name = re.sub(r"[^A-Za-z0-9]+", "_", snake).strip("_").upper()
    return "_" + name if name[:1].isdigit() else name


def variable_for(rule_id: str, context: str, bound: str, nearby: str) -> str:
    """The variable a key moves to: a Gemini client's key GEMINI_API_KEY, a Maps key GOOGLE_MAPS_API_KEY,
    another the name it was bound to, upper-cased; failing all, the rule's own variable."""
    name = env_name(bound)
    if name not in _GENERIC_NAMES:
        return name
    if context == "gemini-client":
        return "GEMINI_API_KEY"
    if _MAPS.search(nearby):
        return "GOOGLE_MAPS_API_KEY"
    if name:
        return name
    rule = RULES_BY_ID.get(rule_id)
    if isinstance(rule, Rule) and rule.env_vars != _DEFAULT_VARS and rule.env_vars:
        return rule.env_vars[0]
    return "GOOGLE_API_KEY" if rule_id.startswith("google") else "API_KEY"


def _bound_by_rule(text: str, start: int, end: int) -> str:
    """The name hardcoded-api-key's own patterns bind to text[start:end] (`api_key` in `api_key = "…"`)."""
    from scanner.rules.generic import PATTERNS

    low = max(0, start - 400)
    window = text[low:min(len(text), end + 40)]
    for pattern in PATTERNS:
        for match in pattern.finditer(window):
            group = "secret" if match.groupdict().get("secret") is not None else "bare"
            if match.groupdict().get(group) is None:
                continue
            if match.start(group) + low == start and match.end(group) + low == end:
                return code._last_identifier(match.groupdict().get("name") or "")
    return ""


def _line_starts(text: str) -> list[int]:
    return [0] + [m.end() for m in re.finditer("\n", text)]


def _byte_offsets(text: str, offsets: list[int]) -> list[int]:
    """The UTF-8 byte offset of each of OFFSETS (ascending character offsets), in one pass over TEXT."""
    out = []
    done = size = 0
    for at in offsets:
        size += len(text[done:at].encode("utf-8", "surrogateescape"))
        done = at
        out.append(size)
    return out


def _offset(text: str, starts: list[int], line: int, column: int, secret: str) -> int:
    """Where SECRET starts in TEXT, from the scan's 1-based line and column (STARTS: where each line of
    TEXT starts); Refused if it is not there."""
    if not 0 < line <= len(starts):
        raise Refused("the file changed since the scan")
    at = starts[line - 1] + column - 1
    if text[at:at + len(secret)] == secret:
        return at
    line_end = starts[line] if line < len(starts) else len(text)
    hits = [m.start() for m in re.finditer(re.escape(secret), text[starts[line - 1]:line_end])]
    if len(hits) == 1:
        return starts[line - 1] + hits[0]
    raise Refused("the key is not written out here (it was found encoded, or the file changed since the scan): "
                  "remove it by hand")


class Planner:
    def __init__(self, root: Path, *, keep_values: bool, show_secrets: bool) -> None:
        self.root = root
        self.keep_values = keep_values
        self.show_secrets = show_secrets
        self.changes: dict[str, FileChange] = {}
        self.untrack: list[str] = []
        self.ignore: list[str] = []
        self.steps: list[Step] = []
        self.values: dict[str, str] = {}  # variable -> value, to keep in .env
        self.owner: dict[str, str] = {}  # variable -> the place that named it, for conflict messages
        self.secrets: set[str] = set()
        self.restricted: set[str] = set()
        self._env: tuple[bytes | None, dict[str, str]] | None = None

    def _env_file(self) -> tuple[bytes | None, dict[str, str]]:
        """The .env as it is now and what it sets, read when a value first needs it (a linked .env
        stops the run only if keys were to go into it)."""
        if self._env is None:
            try:
                existing = files.read(self.root, ENV_FILE)
            except Refused as exc:
                raise UsageError(f"cannot keep the keys' values in {ENV_FILE}: {exc} (or pass --no-keep-values)") \
                    from None
            self._env = existing, dotenv.values(existing.decode("utf-8", "replace")) if existing is not None else {}
        return self._env

    @property
    def env_values(self) -> dict[str, str]:
        return self._env_file()[1] if self.keep_values else {}

    # -- variables -------------------------------------------------------------------------------

    def claim(self, name: str, value: str, where: str) -> None:
        """VALUE is to be kept as NAME; Refused when NAME already holds another value."""
        if not self.keep_values:
            return
        held = self.values.get(name, self.env_values.get(name))
        if held is not None and held != value:
            origin = self.owner.get(name, ENV_FILE)
            raise Refused(f"{name} already holds another key (from {origin}): give this one its own variable by hand")
        if name not in self.env_values:
            self.values[name] = value
            self.owner.setdefault(name, where)

    # -- the kinds of fix ----------------------------------------------------------------------------

    def step(self, place: Place, kind: StepKind, text: str, commands: tuple[str, ...] = ()) -> None:
        self.steps.append(Step(kind, place.path, place.line, place.finding.rule_id, text, commands))

    def plan(self, findings: Sequence[Finding]) -> Plan:
        by_file: dict[str, list[Place]] = defaultdict(list)
        dotenv_files: list[Place] = []
        for place in places(findings):
            if place.finding.line:  # a whole-file finding's "secret" is a sample, not one to redact
                self.secrets.add(place.finding.secret)
            rule = RULES_BY_ID.get(place.finding.rule_id)
            if "!" in place.path:
                self.step(place, "by-hand", "the key is inside an archive: rebuild the archive without it")
            elif place.finding.rule_id == DOTENV_FILE.id:
                if not DOTENV_FILE.template.search(place.path):  # a template keeps its place in git
                    dotenv_files.append(place)
            elif DOTENV_FILE.path.search(place.path):
                if DOTENV_FILE.template.search(place.path):
                    by_file[place.path].append(place)  # a template: blank the value
                # else: the file itself is taken out of git by its dotenv-file finding
            elif place.finding.context in PUBLIC_CONTEXTS:
                self.restrict(place)
            elif isinstance(rule, Rule) and rule.fix:
                self.step(place, "by-hand", rule.fix[0].upper() + rule.fix[1:] + ".")
            else:
                by_file[place.path].append(place)
        for place in dotenv_files:
            self.committed_dotenv(place)
        for path, spots in sorted(by_file.items()):
            self.fix_file(path, spots)
        if self.values:
            self.keep()
        if self.ignore:
            self.add_ignores()
        return Plan(self.root, tuple(self.changes[p] for p in sorted(self.changes)), tuple(self.untrack),
                    tuple(self.values), tuple(self.steps), tuple(sorted(self.secrets)), len(findings))

    def restrict(self, place: Place) -> None:
        if place.finding.secret in self.restricted:
            return  # one key, one set of commands, however many files hold it
        self.restricted.add(place.finding.secret)
        text, commands = restrict.advice(self.root, place.path, place.finding, show_secrets=self.show_secrets)
        self.step(place, "restrict", text, commands)

    def committed_dotenv(self, place: Place) -> None:
        """A .env in the tree: out of git (`git rm --cached`), ignored, and a template of its names beside it."""
        path = place.path
        try:
            data = files.read(self.root, path)
        except Refused as exc:
            self.step(place, "skipped", str(exc))
            return
        if data is None:
            return
        ignored = _ignored(self.root, path)
        pattern = posixpath.basename(path)
        if not ignored and not _PLAIN_NAME.fullmatch(pattern):
            # A line break or glob in the name would add other rules to .gitignore (`.env.x\n*` ignores
            # everything): such a name is left to a person.
            self.step(place, "by-hand", "its name holds characters a .gitignore line cannot hold as they are: "
                                        "untrack and ignore it by hand")
            return
        if _tracked(self.root, path):
            self.untrack.append(path)
        if not ignored and pattern not in self.ignore:
            self.ignore.append(pattern)
        folder = posixpath.dirname(path)
        names = [posixpath.join(folder, n) if folder else n for n in _TEMPLATES]
        try:
            # The template the project already keeps (or this plan already writes), if any; else .env.example.
            example = next((n for n in names if n in self.changes or files.read(self.root, n) is not None), names[0])
            before = files.read(self.root, example)
            planned = self.changes[example].after if example in self.changes else before
            template = dotenv.template(data.decode("utf-8", "replace"),
                                       planned.decode("utf-8", "replace") if planned is not None else None)
        except Refused as exc:
            self.step(place, "skipped", f"{names[0]}: {exc}")
            return
        if template is not None:
            self.change(example, before, template.encode(), f"the names of {path}, with empty values")

    def change(self, path: str, before: bytes | None, after: bytes, why: str, *, private: bool = False) -> None:
        known = self.changes.get(path)
        if known is not None:
            self.changes[path] = FileChange(path, known.before, after, known.why + (why,), known.private or private)
        else:
            self.changes[path] = FileChange(path, before, after, (why,), private)

    def fix_file(self, path: str, spots: list[Place]) -> None:
        try:
            data = files.read(self.root, path)
            if data is None:
                raise Refused("the file is gone since the scan")
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            for place in spots:
                self.step(place, "by-hand", "the file is not UTF-8 text: remove the key by hand")
            return
        except Refused as exc:
            for place in spots:
                self.step(place, "skipped", str(exc))
            return
        if path.lower().endswith(".ipynb"):
            self.fix_notebook(path, data, text, spots)
        elif DOTENV_FILE.template.search(path):
            self.fix_template(path, data, text, spots)
        elif is_rc_file(path):
            self.fix_rc_file(path, data, text, spots)
        elif is_spring_properties(path):
            self.fix_properties(path, data, text, spots)
        else:
            language = language_of(path)
            if language is None:
                for place in spots:
                    name = variable_for(place.finding.rule_id, place.finding.context, "", "")
                    self.step(place, "by-hand", "keysentry does not rewrite this kind of file: replace the key with "
                                                f"a reference to an environment variable such as {name}, or a secret "
                                                "manager, by hand")
                return
            self.fix_code(path, data, text, spots, language)

    def fix_template(self, path: str, data: bytes, text: str, spots: list[Place]) -> None:
        for place in spots:
            try:
                text, name, value = dotenv.blank_value(text, place.line)
                if value:
                    self.claim(name, value, path)
            except Refused as exc:
                self.step(place, "by-hand", str(exc))
                continue
        if text.encode() != data:
            self.change(path, data, text.encode(), "a template holds names, not values: the real value is blanked")

    def fix_rc_file(self, path: str, data: bytes, text: str, spots: list[Place]) -> None:
        lines = text.splitlines(keepends=True)
        starts = _line_starts(text)
        drop: set[int] = set()
        for place in spots:
            try:
                at = _offset(text, starts, place.line, place.column, place.finding.secret)
                body = lines[place.line - 1]
                match = _RC_LINE.match(body.rstrip("\n"))
                if match is None:
                    raise Refused("the line does more than set the variable: remove the key by hand")
                name = match["name"]
                assert at >= 0
                self.claim(name, place.finding.secret, path)
            except Refused as exc:
                self.step(place, "by-hand", str(exc))
                continue
            drop.add(place.line - 1)
            self.step(place, "move-export",
                      f"`export {name}=…` belongs in your own, uncommitted ~/.bashrc or ~/.zshrc (or a secret "
                      f"manager), not in the repository" + (f"; its value is kept in {ENV_FILE}" if self.keep_values
                                                            else ""))
        if drop:
            after = "".join(line for i, line in enumerate(lines) if i not in drop)
            self.change(path, data, after.encode(), f"the export line{'s' * (len(drop) > 1)} removed")

    def fix_properties(self, path: str, data: bytes, text: str, spots: list[Place]) -> None:
        """Spring's application*.properties: the key becomes a ${NAME} placeholder, on a plain key=value line."""
        lines = text.splitlines(keepends=True)
        starts = _line_starts(text)
        cuts: list[tuple[int, int, int, str]] = []  # line index, column, length, variable
        whys: list[str] = []
        for place in sorted(spots, key=lambda p: (p.line, p.column)):
            secret = place.finding.secret
            try:
                at = _offset(text, starts, place.line, place.column, secret)
                body = lines[place.line - 1].rstrip("\r\n")
                match = _PROPERTY.match(body)
                continued = place.line > 1 and lines[place.line - 2].rstrip("\r\n").endswith("\\")
                column = at - starts[place.line - 1]
                if match is None or continued or body.endswith("\\") or column < match.start("value"):
                    raise Refused("the key is not the value of a plain key=value line: replace it by hand")
                variable = variable_for(place.finding.rule_id, place.finding.context, match["key"], body)
                self.claim(variable, secret, f"{path}:{place.line}")
            except Refused as exc:
                self.step(place, "by-hand", str(exc))
                continue
            cuts.append((place.line - 1, column, len(secret), variable))
            whys.append(f"line {place.line}: Spring reads {variable} from the environment")
        if not cuts:
            return
        for index, column, length, variable in sorted(cuts, reverse=True):
            line = lines[index]
            lines[index] = line[:column] + "${" + variable + "}" + line[column + length:]
        self.change(path, data, "".join(lines).encode(), "; ".join(whys))

    def fix_notebook(self, path: str, data: bytes, text: str, spots: list[Place]) -> None:
        """A Jupyter notebook: each code cell's key becomes a lookup, as in a Python file; a cell's outputs
        that show a key are cleared (the key stays in the file's JSON until they are)."""
        try:
            notebook = json.loads(text)
            cells = notebook["cells"]
            if not isinstance(cells, list) or not all(isinstance(c, dict) for c in cells):
                raise ValueError
        except (ValueError, KeyError, TypeError):
            for place in spots:
                self.step(place, "by-hand", "the notebook is not JSON keysentry can read: remove the key by hand")
            return
        kernel = notebook.get("metadata", {}).get("kernelspec", {}).get("language", "python")
        python = LANGUAGES["python"] if str(kernel).lower() == "python" else None
        by_secret = {place.finding.secret: place for place in spots}
        whys: list[str] = []
        for number, cell in enumerate(cells, 1):
            source = cell.get("source", "")
            joined = "".join(source) if isinstance(source, list) else str(source)
            if cell.get("cell_type") == "code":
                sites = [(place, m.start()) for secret, place in by_secret.items()
                         for m in re.finditer(re.escape(secret), joined)]
                if sites and python is None:
                    for place, _ in sites:
                        self.step(place, "by-hand",
                                  f"the notebook's kernel is {kernel}, not Python: edit the cell by hand")
                elif sites and python is not None:
                    after, done = self.rewrite_code(path, joined.encode(), joined, sites, python,
                                                    where=f"cell {number}")
                    if after is not None:
                        new = after.decode()
                        cell["source"] = new.splitlines(keepends=True) if isinstance(source, list) else new
                        whys += done
            outputs = cell.get("outputs")
            if outputs and any(secret in json.dumps(outputs, ensure_ascii=False) for secret in by_secret):
                cell["outputs"] = []
                if "execution_count" in cell:
                    cell["execution_count"] = None
                whys.append(f"cell {number}: the outputs showing the key cleared")
        indent = re.match(r"\{\r?\n( +)", text)
        after_text = json.dumps(notebook, indent=len(indent[1]) if indent else 1, ensure_ascii=False) + "\n"
        stepped = {(step.path, step.line) for step in self.steps}
        for secret, place in by_secret.items():
            if secret in after_text and (place.path, place.line) not in stepped:
                self.step(place, "by-hand", "the key is still in the notebook outside its code and outputs (a "
                                            "markdown cell or metadata): remove it by hand")
        if whys:
            self.change(path, data, after_text.encode(), "; ".join(whys))

    def fix_code(self, path: str, data: bytes, text: str, spots: list[Place], language: Language) -> None:
        starts = _line_starts(text)
        sites: list[tuple[Place, int]] = []
        for place in spots:
            try:
                sites.append((place, _offset(text, starts, place.line, place.column, place.finding.secret)))
            except Refused as exc:
                self.step(place, "by-hand", str(exc))
        after, whys = self.rewrite_code(path, data, text, sites, language)
        if after is not None:
            self.change(path, data, after, "; ".join(whys))

    def rewrite_code(self, path: str, data: bytes, text: str, sites: list[tuple[Place, int]], language: Language,
                     *, where: str = "line {line}") -> tuple[bytes | None, list[str]]:
        """DATA (decoded: TEXT) with the secret at each (place, character offset) of SITES made an environment
        lookup; None where nothing could be (each place that could not is a step, with why)."""
        if not sites:
            return None, []
        tree = code.parse(language, data)
        if tree.root_node.has_error:
            for place, _ in sites:
                self.step(place, "by-hand", f"the code does not parse as {language.name}, so keysentry will not edit "
                                            "it: replace the key with an environment lookup by hand")
            return None, []
        edits: list[code.Edit] = []
        whys: list[str] = []
        claimed: list[str] = []
        needs_import = False
        sites = sorted(sites, key=lambda site: site[1])
        for (place, at), start in zip(sites, _byte_offsets(text, [at for _, at in sites]), strict=True):
            secret = place.finding.secret
            end = start + len(secret.encode())
            try:
                bound = _bound_by_rule(text, at, at + len(secret)) or code.binding(language, tree, start, end)
                nearby = text[max(0, at - 200):at + len(secret) + 200]
                variable = variable_for(place.finding.rule_id, place.finding.context, bound, nearby)
                result = code.rewrite(language, data, tree, start, end, variable)
                if result.variable not in self.values and result.variable not in self.env_values:
                    claimed.append(result.variable)
                self.claim(result.variable, secret, f"{path}:{place.line}")
            except Refused as exc:
                self.step(place, "by-hand", str(exc))
                continue
            edits.extend(result.edits)
            if language.name == "workflow" and not any(st.path == path and result.variable in st.text
                                                       for st in self.steps):
                self.step(place, "by-hand", f"add {result.variable} to the repository's Actions secrets "
                                            f"(`gh secret set {result.variable}`, or Settings > Secrets and "
                                            "variables > Actions)" + (", with the value kept in .env"
                                                                       if self.keep_values else ""))
            needs_import = needs_import or result.needs_import
            whys.append(f"{where.format(line=place.line)}: {result.how}")
        if not edits:
            return None, []
        try:
            if needs_import:
                extra = code.import_edit(language, data, tree)
                if extra is not None:
                    edits.append(extra)
            after = code.apply_edits(data, edits)
            code.check_parses(language, data, after, path)
            if language.name == "go":
                after = code.gofmt(data, after)
        except Refused as exc:
            for place, _ in sites:
                self.step(place, "by-hand", str(exc))
            for variable in claimed:
                self.values.pop(variable, None)
            return None, []
        return after, whys

    # -- where the values go -----------------------------------------------------------------------

    def keep(self) -> None:
        """The values go into the repository's .env, which must be (or become) untracked and ignored."""
        if _tracked(self.root, ENV_FILE) and ENV_FILE not in self.untrack:
            raise Refused(f"{ENV_FILE} is tracked by git, so the keys cannot be kept there: take it out of git "
                          f"(git rm --cached {ENV_FILE}) first, or pass --no-keep-values")
        if not _ignored(self.root, ENV_FILE) and ENV_FILE not in self.ignore:
            self.ignore.insert(0, ENV_FILE)
        before = self._env_file()[0]
        after = dotenv.with_values(before.decode("utf-8", "replace") if before is not None else None, self.values)
        self.change(ENV_FILE, before, after.encode(), "keeps " + ", ".join(self.values) + " (git-ignored)",
                    private=before is None)

    def add_ignores(self) -> None:
        before = files.read(self.root, ".gitignore")
        after = dotenv.ignore_lines(before.decode("utf-8", "replace") if before is not None else None, self.ignore)
        self.change(".gitignore", before, after.encode(), "ignores " + ", ".join(self.ignore))


def _tracked(root: Path, path: str) -> bool:
    return bool(gitcmd.run(root, "ls-files", "-z", "--", f":(literal){path}").strip(b"\0"))


def _ignored(root: Path, path: str) -> bool:
    """Would git ignore PATH if it were untracked (--no-index: whether it is tracked does not matter)?"""
    return bool(gitcmd.run(root, "check-ignore", "--no-index", "--", path, ok=(0, 1)).strip())


def build(root: Path, findings: Sequence[Finding], *, keep_values: bool = True, show_secrets: bool = False) -> Plan:
    return Planner(root, keep_values=keep_values, show_secrets=show_secrets).plan(findings)
