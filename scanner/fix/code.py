"""A key in code becomes an environment lookup in the file's own language, edited through its syntax tree.

For each place a secret sits at, the string literal holding it is found in the tree-sitter tree and
replaced: whole (`"AIza…"` -> `os.environ["GEMINI_API_KEY"]`) or, when the key is part of a longer
string (a URL's `?key=`), by joining the rest of the string to the lookup. Where the SDK reads the
variable itself (`genai.Client(api_key="…")`) the argument is dropped; where the literal was a
lookup's fallback (`os.getenv("K", "…")`, `process.env.K || "…"`) the fallback goes. The whole file is
parsed again afterwards: an edit that would leave a syntax error is refused, never written.
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scanner.errors import KeysentryError
from scanner.fix.languages import LANGUAGES, Language, parser

if TYPE_CHECKING:
    import tree_sitter


class Refused(KeysentryError):
    """This place cannot be rewritten safely; the message says why, for a person to act on. Raised
    for the whole fix (not one place), it is the one line of an exit-2 error."""


@dataclass(frozen=True)
class Site:
    """One place to fix: the secret's span in the file's text (characters), and what the scan knew."""

    start: int
    end: int
    rule_id: str
    context: str
    # Where the value goes: the variable's name when the caller already decided it, else "".
    variable: str = ""


@dataclass(frozen=True)
class Edit:
    start: int  # byte offsets in the original file
    end: int
    text: bytes


@dataclass(frozen=True)
class Rewrite:
    """What one site becomes: its edits, the variable the code now reads, whether the lookup needs an import."""

    edits: tuple[Edit, ...]
    variable: str
    needs_import: bool
    how: str  # one phrase for the report: "reads GEMINI_API_KEY from the environment"


# Node types of code inside a string: a key split by one of these is not a literal we can cut.
_CODE_IN_STRING = frozenset({"interpolation", "template_substitution", "expansion", "simple_expansion",
                             "command_substitution", "variable_name", "escape_sequence"})
# Parents where a joined string needs no parentheses: it is a whole argument, value or element.
_WHOLE_VALUE = frozenset({"argument_list", "arguments", "assignment", "variable_declarator", "pair",
                          "keyword_argument", "expression_list", "literal_element", "assignment_expression",
                          "value_argument", "property_declaration", "return_statement", "argument", "array",
                          "list", "element_value_pair", "short_var_declaration", "var_spec", "const_spec",
                          "equals_value_clause", "initializer_expression", "array_element_initializer"})
_OPEN = re.compile(r'^([A-Za-z@$]*)("""|\'\'\'|"|\'|`)')
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)*")
_NAME_CHILDREN = frozenset({"identifier", "variable_declaration", "simple_identifier", "property_identifier",
                            "variable_name", "hash_key_symbol", "field_identifier", "name"})
_SDK_READS_ENV = re.compile(r"^(?:google\.)?genai\.Client$")
_GENAI_CLIENT_IMPORTED = re.compile(r"^\s*from\s+google\.genai\s+import\s[^\n]*\bClient\b", re.MULTILINE)
_ENV_CALLS = frozenset({"os.getenv", "os.environ.get", "environ.get", "getenv"})
_JS_ENV = re.compile(r"^process\.env(?:\.([A-Za-z_]\w*)|\[\s*[\"'`]([A-Za-z_]\w*)[\"'`]\s*\])$")


def parse(language: Language, source: bytes) -> tree_sitter.Tree:
    return parser(language.name).parse(source)


def rewrite(language: Language, source: bytes, tree: tree_sitter.Tree, start: int, end: int,
            variable: str) -> Rewrite:
    """The edits that make source[start:end] (byte offsets of a secret) an environment lookup of
    VARIABLE; Refused when that cannot be done safely."""
    literal = _literal(language, tree.root_node, start, end)
    if language.name == "shell":
        return _shell(source, literal, start, end, variable)
    if language.name in ("compose", "workflow", "spring"):
        return _yaml(language, literal, start, end, variable)
    text = source[literal.start_byte:literal.end_byte].decode("utf-8", "surrogateescape")
    opening = _OPEN.match(text)
    if opening is None or not text.endswith(opening[2]) or len(text) < len(opening[0]) + len(opening[2]):
        raise Refused(f"the key is in a {literal.type} whose quotes keysentry does not know")
    prefix, quote = opening[1], opening[2]
    if "b" in prefix.lower() and language.name == "python":
        raise Refused("the key is in a bytes literal: an environment lookup is text; edit it by hand")
    open_end = literal.start_byte + len(opening[0].encode())
    close_start = literal.end_byte - len(quote.encode())
    whole = open_end == start and close_start == end

    if literal.parent is not None and literal.parent.type == "expression_statement":
        raise Refused("the key is in a string that stands alone (a docstring, or prose): remove it by hand")
    special = _sdk_or_fallback(language, source, literal) if whole else None
    if special is not None:
        return special
    edits = list(_constant_context(language, source, literal))
    expr = language.lookup.format(name=variable)
    if whole:
        replacement = expr
        if literal.parent is not None and literal.parent.type == "jsx_attribute":
            replacement = "{" + expr + "}"  # <Map apiKey={process.env.NAME} />
    else:
        before = source[open_end:start]
        after = source[end:close_start]
        parts = []
        if before:
            parts.append(opening[0].encode() + before + quote.encode())
        parts.append(expr.encode())
        if after:
            parts.append(opening[0].encode() + after + quote.encode())
        joined = language.concat.encode().join(parts)
        parent = literal.parent
        replacement = joined.decode() if parent is not None and parent.type in _WHOLE_VALUE else f"({joined.decode()})"
    edits.append(Edit(literal.start_byte, literal.end_byte, replacement.encode()))
    return Rewrite(tuple(edits), variable, needs_import=language.name in ("python", "go", "csharp"),
                   how=f"reads {variable} from the environment")


def _literal(language: Language, root: tree_sitter.Node, start: int, end: int) -> tree_sitter.Node:
    node: tree_sitter.Node | None = root.descendant_for_byte_range(start, end)
    while node is not None and node.type not in language.strings:
        node = node.parent
    if node is None:
        raise Refused("the key is not inside a string literal of the code (a comment, or code keysentry cannot "
                      "follow): remove it by hand")
    for child in _descendants(node):
        if child.type in _CODE_IN_STRING and child.start_byte < end and start < child.end_byte:
            raise Refused("the key is split by code inside the string (an interpolation or escape): edit it by hand")
    return node


def _descendants(node: tree_sitter.Node) -> list[tree_sitter.Node]:
    found: list[tree_sitter.Node] = []
    stack = list(node.children)
    while stack:
        child = stack.pop()
        found.append(child)
        stack.extend(child.children)
    return found


def _sdk_or_fallback(language: Language, source: bytes, literal: tree_sitter.Node) -> Rewrite | None:
    """Where the literal can simply go: an SDK that reads the variable itself, or a lookup's fallback."""
    parent = literal.parent
    if parent is None:
        return None
    if language.name == "python":
        if parent.type == "keyword_argument" and _text(parent.child_by_field_name("name")) == "api_key":
            call = parent.parent.parent if parent.parent is not None else None
            if call is not None and call.type == "call":
                function = _text(call.child_by_field_name("function"))
                if _SDK_READS_ENV.match(function) or (
                        function == "Client" and _GENAI_CLIENT_IMPORTED.search(source.decode("utf-8", "replace"))):
                    return Rewrite((_drop_argument(parent),), "GEMINI_API_KEY", needs_import=False,
                                   how="google-genai reads GEMINI_API_KEY (or GOOGLE_API_KEY) itself: the argument "
                                       "is dropped")
        if parent.type == "argument_list" and parent.parent is not None and parent.parent.type == "call":
            function = _text(parent.parent.child_by_field_name("function"))
            args = [c for c in parent.named_children if c.type != "comment"]
            if function in _ENV_CALLS and len(args) == 2 and args[1] == literal and args[0].type == "string":
                name = _string_content(args[0])
                if name and _IDENTIFIER.fullmatch(name):
                    return Rewrite((_drop_argument(literal),), name, needs_import=False,
                                   how=f"reads {name} from the environment with no fallback")
    if language.name in ("javascript", "typescript", "tsx") and parent.type == "binary_expression":
        operator = _text(parent.child_by_field_name("operator"))
        left = parent.child_by_field_name("left")
        if operator in ("||", "??") and parent.child_by_field_name("right") == literal and left is not None:
            env = _JS_ENV.match(_text(left))
            if env:
                name = env[1] or env[2]
                return Rewrite((Edit(parent.start_byte, parent.end_byte, source[left.start_byte:left.end_byte]),),
                               name, needs_import=False, how=f"reads {name} from the environment with no fallback")
    return None


def _drop_argument(node: tree_sitter.Node) -> Edit:
    """Remove NODE from its argument list, with the comma that separated it."""
    assert node.parent is not None
    args = [c for c in node.parent.named_children if c.type != "comment"]
    i = next(k for k, c in enumerate(args) if c == node)
    if len(args) == 1:
        return Edit(node.start_byte, node.end_byte, b"")
    if i + 1 < len(args):
        return Edit(node.start_byte, args[i + 1].start_byte, b"")
    return Edit(args[i - 1].end_byte, node.end_byte, b"")


def _constant_context(language: Language, source: bytes, literal: tree_sitter.Node) -> list[Edit]:
    """Refuse a literal where only a constant may stand; turn a declared constant into a variable
    where the language allows (Go `const` -> `var`, Kotlin `const val` -> `val`, C# `const` ->
    `static readonly`): the edits that takes."""
    node = literal.parent
    while node is not None and node.type not in language.scopes:
        if node.type in language.constant_only:
            raise Refused(f"the key sits where {language.name} allows only a constant ({node.type.replace('_', ' ')}): "
                          "move the value to a variable read from the environment by hand")
        if language.name == "go" and node.type == "const_declaration":
            specs = [c for c in node.named_children if c.type == "const_spec"]
            if len(specs) != 1 or node.parent is None or node.parent.type != "source_file":
                raise Refused("the key is in a Go const block: a lookup is not a constant; make it a var by hand")
            keyword = node.children[0]
            return [Edit(keyword.start_byte, keyword.end_byte, b"var")]
        if language.name == "kotlin" and node.type == "property_declaration":
            for child in _descendants(node):
                if child.type == "property_modifier" and _text(child) == "const":
                    return [Edit(child.start_byte, _skip_spaces(source, child.end_byte), b"")]
            return []
        if language.name == "csharp" and node.type in ("field_declaration", "local_declaration_statement"):
            for child in node.children:
                if child.type == "modifier" and _text(child) == "const":
                    new = b"static readonly" if node.type == "field_declaration" else b""
                    return [Edit(child.start_byte, child.end_byte if new else _skip_spaces(source, child.end_byte),
                                 new)]
            return []
        node = node.parent
    return []


def _skip_spaces(source: bytes, at: int) -> int:
    while at < len(source) and source[at:at + 1] in (b" ", b"\t"):
        at += 1
    return at


def _shell(source: bytes, literal: tree_sitter.Node, start: int, end: int, variable: str) -> Rewrite:
    """Shell: the key becomes ${NAME}, inside the quoting it had: in "…" as is, in '…' by closing the
    single quotes around a double-quoted "${NAME}", in a bare word as "${NAME}"."""
    reference = f"${{{variable}}}".encode()
    how = f"reads ${variable} from the environment"
    if literal.type == "string":
        return Rewrite((Edit(start, end, reference),), variable, False, how)
    if literal.type == "raw_string":
        before = source[literal.start_byte + 1:start]
        after = source[end:literal.end_byte - 1]
        quoted = b'"' + reference + b'"'
        text = (b"'" + before + b"'" if before else b"") + quoted + (b"'" + after + b"'" if after else b"")
        return Rewrite((Edit(literal.start_byte, literal.end_byte, text),), variable, False, how)
    if literal.type in ("word", "concatenation"):
        return Rewrite((Edit(start, end, b'"' + reference + b'"'),), variable, False, how)
    raise Refused(f"the key is in a shell {literal.type} keysentry does not rewrite: edit it by hand")


def _yaml(language: Language, literal: tree_sitter.Node, start: int, end: int, variable: str) -> Rewrite:
    """YAML whose tool substitutes the reference itself: the key becomes ${NAME} (Compose) or
    ${{ secrets.NAME }} (GitHub Actions), in place, in any kind of scalar but a plain one inside a flow
    collection, where `{` would end it."""
    node = literal.parent
    while node is not None:
        if literal.type == "plain_scalar" and node.type in ("flow_mapping", "flow_sequence"):
            raise Refused("the key is a bare value inside [...] or {...}: quote it, or replace it by hand")
        node = node.parent
    reference = language.lookup.format(name=variable)
    how = {"compose": f"reads {variable} from the .env that Docker Compose loads",
           "spring": f"Spring reads {variable} from the environment"}.get(language.name,
                                                                           f"reads the Actions secret {variable}")
    return Rewrite((Edit(start, end, reference.encode()),), variable, False, how)


def binding(language: Language, tree: tree_sitter.Tree, start: int, end: int) -> str:
    """The name the literal at START..END is bound to (`apiKey` in `const apiKey = "…"`), or ""."""
    try:
        node: tree_sitter.Node | None = _literal(language, tree.root_node, start, end)
    except Refused:
        return ""
    assert node is not None
    for _ in range(4):
        inner = node
        node = node.parent if node is not None else None
        if node is None:
            return ""
        for field in ("name", "left", "key"):
            child = node.child_by_field_name(field)
            if child is not None and not _contains(child, inner):
                return _last_identifier(_text(child))
        if node.type in ("keyed_element", "pair", "variable_declarator", "property_declaration", "variable_assignment",
                         "const_element", "property_element", "array_element_initializer"):
            for child in node.named_children:
                if _contains(child, inner):
                    break
                if child.type in _NAME_CHILDREN or child.type in ("literal_element", "string", "encapsed_string"):
                    return _last_identifier(_text(child))
    return ""


def _contains(outer: tree_sitter.Node, inner: tree_sitter.Node) -> bool:
    return outer.start_byte <= inner.start_byte and inner.end_byte <= outer.end_byte


def _last_identifier(text: str) -> str:
    found = _IDENTIFIER.findall(text)
    return found[-1] if found else ""


def _text(node: tree_sitter.Node | None) -> str:
    return node.text.decode("utf-8", "replace") if node is not None and node.text is not None else ""


def _string_content(node: tree_sitter.Node) -> str:
    text = _text(node)
    opening = _OPEN.match(text)
    if opening is None or not text.endswith(opening[2]):
        return ""
    return text[len(opening[0]):len(text) - len(opening[2])]


# --- imports ----------------------------------------------------------------------------------------

def import_edit(language: Language, source: bytes, tree: tree_sitter.Tree) -> Edit | None:
    """What makes the lookup's module available, when the file lacks it: Python `import os`, Go the
    "os" import (sorted into the block, as gofmt keeps it), C# `using System;`."""
    root = tree.root_node
    if language.name == "python":
        return _python_import(source, root)
    if language.name == "go":
        return _go_import(source, root)
    if language.name == "csharp":
        usings = [c for c in root.children if c.type == "using_directive"]
        if any(re.fullmatch(r"(?:global\s+)?using\s+System\s*;", _text(c)) for c in usings):
            return None
        at = usings[0].start_byte if usings else 0
        return Edit(at, at, b"using System;\n" if usings else b"using System;\n\n")
    return None


def _python_import(source: bytes, root: tree_sitter.Node) -> Edit | None:
    children = list(root.children)
    for child in children:
        if child.type == "import_statement" and any(
                c.type == "dotted_name" and _text(c) == "os" for c in child.named_children):
            return None
    after = 0  # after a docstring and `from __future__` imports; before the first other import
    for i, child in enumerate(children):
        if child.type == "comment":
            if child.start_point[1] == 0 and after == child.start_byte:
                after = _line_end(source, child.end_byte)
            continue
        first = all(c.type == "comment" for c in children[:i])
        docstring = (first and child.type == "expression_statement" and bool(child.named_children)
                     and child.named_children[0].type == "string")
        if child.type == "future_import_statement" or docstring:
            after = _line_end(source, child.end_byte)
            continue
        if child.type in ("import_statement", "import_from_statement"):
            return Edit(child.start_byte, child.start_byte, b"import os\n")
        break
    if after and not source[:after].endswith(b"\n"):
        return Edit(after, after, b"\nimport os\n")
    return Edit(after, after, b"import os\n")


def _line_end(source: bytes, at: int) -> int:
    newline = source.find(b"\n", at)
    return len(source) if newline < 0 else newline + 1


def _go_import(source: bytes, root: tree_sitter.Node) -> Edit | None:
    declarations = [c for c in root.children if c.type == "import_declaration"]
    specs = [s for d in declarations for s in _descendants(d) if s.type == "import_spec"]
    for spec in specs:
        path = spec.child_by_field_name("path")
        if _text(path) == '"os"' and spec.child_by_field_name("name") is None:
            return None
    if not declarations:
        package = next((c for c in root.children if c.type == "package_clause"), None)
        if package is None:
            raise Refused("the Go file has no package clause")
        return Edit(package.end_byte, package.end_byte, b'\n\nimport "os"')
    # cgo's `import "C"` must stay on its own, right after its comment.
    plain = [d for d in declarations if _text(d).replace(" ", "").replace("\t", "") != 'import"C"']
    if not plain:
        return Edit(declarations[-1].end_byte, declarations[-1].end_byte, b'\n\nimport "os"')
    first = plain[0]
    block = next((c for c in first.children if c.type == "import_spec_list"), None)
    if block is None:  # import "fmt"  ->  import (\n\t"fmt"\n\t"os"\n)
        spec = next(c for c in first.children if c.type == "import_spec")
        lines = sorted([_text(spec), '"os"'], key=lambda s: s.split()[-1])
        block_text = "import (\n" + "".join(f"\t{x}\n" for x in lines) + ")"
        return Edit(first.start_byte, first.end_byte, block_text.encode())
    group = [c for c in block.children if c.type == "import_spec"]
    if not group:
        at = _line_end(source, block.start_byte)
        return Edit(at, at, b'\t"os"\n')
    # The first group (up to a blank line), where gofmt keeps the standard library sorted.
    leading = [group[0]]
    for spec in group[1:]:
        if spec.start_point[0] > leading[-1].end_point[0] + 1:
            break
        leading.append(spec)
    for spec in leading:
        if _text(spec.child_by_field_name("path")) > '"os"':
            at = _line_start(source, spec.start_byte)
            return Edit(at, at, b'\t"os"\n')
    at = _line_end(source, leading[-1].end_byte)
    return Edit(at, at, b'\t"os"\n')


def _line_start(source: bytes, at: int) -> int:
    return source.rfind(b"\n", 0, at) + 1


def apply_edits(source: bytes, edits: list[Edit]) -> bytes:
    """SOURCE with EDITS made (they must not overlap; Refused if they do)."""
    ordered = sorted(set(edits), key=lambda e: (e.start, e.end))
    for a, b in itertools.pairwise(ordered):
        if b.start < a.end:
            raise Refused("two fixes in this file overlap: fix it by hand")
    out = bytearray(source)
    for edit in reversed(ordered):
        out[edit.start:edit.end] = edit.text
    return bytes(out)


def check_parses(language: Language, before: bytes, after: bytes, path: str) -> None:
    """Refused unless AFTER parses wherever BEFORE did (Python: compiles)."""
    if parse(language, after).root_node.has_error:
        raise Refused(f"the fixed file would not parse as {language.name}: fix it by hand")
    if language.name == "python":
        try:
            compile(after, path, "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as exc:
            raise Refused(f"the fixed file would not compile ({exc.msg if isinstance(exc, SyntaxError) else exc}): "
                          "fix it by hand") from None


def gofmt_command(*options: str) -> list[str]:
    """gofmt from PATH, reading the file on standard input: it runs in no folder of the repository and
    reads no configuration of it."""
    return ["gofmt", *options]


def gofmt(before: bytes, after: bytes) -> bytes:
    """AFTER laid out by gofmt, where gofmt is installed and BEFORE was already gofmt-clean: a longer
    value shifts the aligned comments of a struct literal, which gofmt puts back. Otherwise AFTER."""
    import shutil
    import subprocess

    if shutil.which("gofmt") is None:
        return after
    try:
        listed = subprocess.run(gofmt_command("-l"), input=before, capture_output=True, timeout=60, check=False)
        if listed.returncode != 0 or listed.stdout.strip():
            return after  # not ours to reformat a file its authors keep otherwise
        formatted = subprocess.run(gofmt_command(), input=after, capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return after
    return formatted.stdout if formatted.returncode == 0 and formatted.stdout else after


def source_parses(language: Language, source: bytes) -> bool:
    return not parse(language, source).root_node.has_error


__all__ = ["LANGUAGES", "Edit", "Refused", "Rewrite", "Site", "apply_edits", "binding", "check_parses",
           "import_edit", "parse", "rewrite", "source_parses"]
