"""Is an unquoted value a literal? It depends on the language of the file it is in.

In a .env, a shell script, YAML, TOML, INI, properties, a Dockerfile or a Makefile, `API_KEY=abc123`
binds the text `abc123`. In a programming language's source, `apiKey: providerSettings` or
`var apiKey = settings["ApiKey"]` binds an expression: a variable, a member, a call. Whether such a
value is code or text (inside a string literal, a comment, a docstring, a template's text) is the
language's syntax to say, so it is asked of the file's tree-sitter grammar, and only for the few
candidates that need it: the content step parses a file only when an unquoted value bound to an
api-key name has passed every other test (`Code.is_expression`).

The language comes from the paths a blob occurs at (extension, file name, a notebook's cells and
kernel), or from a shebang when the name says nothing. Paths that disagree, or a language without a
grammar here, leave the value a literal, as before: a finding too many rather than a key missed.
"""
from __future__ import annotations

import bisect
import json
import posixpath
import re
from collections.abc import Callable, Sequence
from functools import cache, cached_property
from typing import TYPE_CHECKING, Literal

from scanner import lazyre

if TYPE_CHECKING:
    import tree_sitter

Grammar = Literal["python", "javascript", "typescript", "tsx", "go", "java", "kotlin", "csharp", "ruby", "php",
                  "rust", "swift"]
# A blob's language as far as unquoted values go: a grammar, a Jupyter notebook (its cells say), or
# None: unquoted values there are literals (configuration, shell, prose) or the language is unknown.
Language = Grammar | Literal["notebook"]

# The grammar's module and the function of it that returns the language capsule.
_GRAMMARS: dict[Grammar, tuple[str, str]] = {
    "python": ("tree_sitter_python", "language"),
    "javascript": ("tree_sitter_javascript", "language"),
    "typescript": ("tree_sitter_typescript", "language_typescript"),
    "tsx": ("tree_sitter_typescript", "language_tsx"),
    "go": ("tree_sitter_go", "language"),
    "java": ("tree_sitter_java", "language"),
    "kotlin": ("tree_sitter_kotlin", "language"),
    "csharp": ("tree_sitter_c_sharp", "language"),
    "ruby": ("tree_sitter_ruby", "language"),
    "php": ("tree_sitter_php", "language_php"),
    "rust": ("tree_sitter_rust", "language"),
    "swift": ("tree_sitter_swift", "language"),
}

_BY_SUFFIX: dict[str, Language] = {
    ".py": "python", ".pyw": "python", ".pyi": "python",
    ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript", ".jsx": "javascript",
    ".ts": "typescript", ".mts": "typescript", ".cts": "typescript", ".tsx": "tsx",
    ".go": "go", ".java": "java", ".kt": "kotlin", ".kts": "kotlin", ".cs": "csharp",
    ".rb": "ruby", ".rake": "ruby", ".gemspec": "ruby", ".php": "php", ".rs": "rust", ".swift": "swift",
    ".ipynb": "notebook",
}
_BY_NAME: dict[str, Language] = {"Rakefile": "ruby", "Gemfile": "ruby", "Podfile": "ruby", "Fastfile": "ruby",
                                  "Appfile": "ruby", "Vagrantfile": "ruby"}
# `#!/usr/bin/env python3`, `#!/usr/bin/node`, `#!/usr/bin/env -S deno run`: the interpreter's name.
_SHEBANG = lazyre.compile(r"#![ \t]*(?:/[\w.-]+)*/([\w.-]+)(?:[ \t]+(?:-\S+[ \t]+)*([\w.-]+))?")
_INTERPRETERS: dict[str, Grammar] = {"python": "python", "node": "javascript", "nodejs": "javascript",
                                     "deno": "typescript", "bun": "typescript", "ts-node": "typescript",
                                     "tsx": "typescript", "ruby": "ruby", "php": "php"}
_VERSIONED = lazyre.compile(r"([a-z-]+?)[\d.]*")

# Larger files (generated or minified code) are left to the old reading, a literal: a parse costs
# 0.2 to 2 s a megabyte, and a source file people write is far smaller.
PARSE_LIMIT = 1 << 20


def _by_path(path: str) -> Language | None:
    base = posixpath.basename(path)
    known = _BY_NAME.get(base)
    if known is not None:
        return known
    return _BY_SUFFIX.get(posixpath.splitext(base)[1].lower())


def _by_shebang(text: str) -> Grammar | None:
    if not text.startswith("#!"):
        return None
    m = _SHEBANG.match(text, 0, min(len(text), 200))
    if m is None:
        return None
    program = m[2] if m[1] == "env" and m[2] else m[1]
    name = _VERSIONED.fullmatch(program)
    return _INTERPRETERS.get(name[1] if name else program)


def language_of(paths: Sequence[str], text: str) -> Language | None:
    """The language TEXT is in at PATHS: None when they disagree or name none that has a grammar here
    (a file without an extension is judged by its shebang)."""
    found: set[Language | None] = set()
    for path in paths:
        base = posixpath.basename(path)
        language = _by_path(path)
        if language is None and "." not in base.lstrip("."):
            language = _by_shebang(text)
        found.add(language)
        if len(found) > 1:
            return None
    return found.pop() if found else None


@cache
def parser(grammar: Grammar) -> tree_sitter.Parser | None:
    """A parser for GRAMMAR, loaded on first use (a scan that never needs one never pays for it);
    None when its grammar is not installed."""
    import importlib

    import tree_sitter

    module, function = _GRAMMARS[grammar]
    try:
        capsule: Callable[[], object] = getattr(importlib.import_module(module), function)
    except ImportError:
        return None
    return tree_sitter.Parser(tree_sitter.Language(capsule()))


# Node types whose text is text to the language, not code: string literals and their pieces,
# comments, heredocs, JSX text, a PHP file's HTML outside <?php … ?>. Matched on the type's words.
_TEXT_NODE = lazyre.compile(r"string|comment|heredoc|nowdoc|jsx_text|^text$|text_block|char_literal|str_text"
                            r"|^escape_sequence$|^(?:line|block)_comment$|^doc_comment$")
# Node types that open code again inside a string: `${…}`, `#{…}`, `{…}` of an f-string.
_CODE_IN_TEXT = lazyre.compile(r"substitution|interpolation|^interpolated_expression$")
# A number is a literal whatever the language (0x… constants).
_NUMBER = lazyre.compile(r"^(?:integer|float|number|decimal|hex|int|real|integer_literal|float_literal"
                         r"|decimal_integer_literal|hex_integer_literal|real_literal|int_literal)$")


def _is_code(tree: tree_sitter.Tree, offset: int) -> bool:
    """Is the byte at OFFSET of the parsed source part of an expression (not inside a string, a
    comment or a number)? A byte the parser could not place (inside an ERROR with no token) is not
    known to be code."""
    node: tree_sitter.Node | None = tree.root_node.descendant_for_byte_range(offset, offset + 1)
    if node is None:
        return False
    leaf = node
    while node is not None:
        kind = node.type
        if _CODE_IN_TEXT.search(kind):
            return True
        if _TEXT_NODE.search(kind) or _NUMBER.match(kind):
            return False
        node = node.parent
    return leaf.type != "ERROR" and leaf.parent is not None


# A module's string constant named for documentation: Ansible's DOCUMENTATION, EXAMPLES and RETURN, a
# command's USAGE, HELP or EPILOG, `__doc__`.
_DOC_NAME = lazyre.compile(r"__doc__|docs?|documentation|examples?|usage|help|epilog|readme|return", re.IGNORECASE)
# Comments written as documentation: JSDoc/Javadoc/Doxygen `/** */`, rustdoc and C# `///`, `//!`, Ruby's
# `=begin` block.
_DOC_COMMENT = (b"/**", b"///", b"//!", b"=begin")
# What documentation opens with: a docstring's triple quotes, a doc comment.
_DOC_OPENERS = ('"""', "'''", "/**", "///", "//!", "=begin")


def _in_documentation(tree: tree_sitter.Tree, offset: int) -> bool:
    """Is the byte at OFFSET of the parsed source in documentation: a docstring (a string that is a
    statement of its own), a module's string constant named for documentation (`EXAMPLES = r\'\'\'…`),
    or a documentation comment? Not a plain comment: a line of code commented out is code put aside."""
    node: tree_sitter.Node | None = tree.root_node.descendant_for_byte_range(offset, offset + 1)
    while node is not None:
        kind = node.type
        if kind == "doc_comment":
            return True
        if "comment" in kind:
            return (node.text or b"").lstrip().startswith(_DOC_COMMENT)
        if kind == "string":
            parent = node.parent
            if parent is None:
                return False
            if parent.type == "expression_statement":
                return True
            statement = parent.parent
            if parent.type != "assignment" or statement is None or statement.parent is None \
                    or statement.parent.type != "module":
                return False
            left = parent.child_by_field_name("left")
            return left is not None and left.type == "identifier" \
                and _DOC_NAME.fullmatch((left.text or b"").decode("utf-8", "replace")) is not None
        node = node.parent
    return False


class Code:
    """The parsed source of one text in LANGUAGE, asked where its unquoted values stand; parsed on
    the first question only."""

    def __init__(self, text: str, language: Language) -> None:
        self._text = text
        self._language = language
        self._ascii = text.isascii()
        self._notebook: _Notebook | None = None
        # The last character offset turned into a byte offset, and that byte offset: candidates come
        # in ascending order, so each is encoded from the one before, not from the start.
        self._at = (0, 0)

    def is_expression(self, start: int) -> bool:
        """Is the unquoted value at character START code (a name, a member, a call), not a literal?"""
        if len(self._text) > PARSE_LIMIT:
            return False
        if self._language == "notebook":
            if self._notebook is None:
                self._notebook = _Notebook(self._text)
            return self._notebook.is_expression(start)
        tree = self._tree
        return tree is not None and _is_code(tree, self._offset(start))

    def in_documentation(self, start: int) -> bool:
        """Is the text at character START documentation (a docstring, a documentation constant or
        comment: `_in_documentation`)? A notebook, or a file past the parse limit, is not asked."""
        if len(self._text) > PARSE_LIMIT or self._language == "notebook" or not self._documented:
            return False
        tree = self._tree
        return tree is not None and _in_documentation(tree, self._offset(start))

    @cached_property
    def _tree(self) -> tree_sitter.Tree | None:
        """The parsed source, on the first question that needs it (None: no grammar here)."""
        assert self._language != "notebook", "a notebook's cells are asked of _Notebook"
        return _parse(self._language, self._text)

    @cached_property
    def _documented(self) -> bool:
        # A text that opens no docstring or doc comment is not parsed for it (a file of many findings
        # and no documentation, a bundle, costs one pass over its text).
        return any(marker in self._text for marker in _DOC_OPENERS)

    def _offset(self, start: int) -> int:
        return start if self._ascii else self._byte_offset(start)

    def _byte_offset(self, start: int) -> int:
        char, byte = self._at if self._at[0] <= start else (0, 0)
        byte += len(self._text[char:start].encode("utf-8", "surrogatepass"))
        self._at = (start, byte)
        return byte


def _parse(grammar: Grammar, source: str) -> tree_sitter.Tree | None:
    parse = parser(grammar)
    return None if parse is None else parse.parse(source.encode("utf-8", "surrogatepass"))


# --- notebooks --------------------------------------------------------------------------------

# Jupyter writes a cell's keys sorted: "cell_type" comes before its "outputs" and "source".
_CELL_KEY = lazyre.compile(r'"(cell_type|outputs|source)"\s*:\s*(?:"(\w+)"|\[)')
_KERNEL_LANGUAGE = lazyre.compile(r'"(?:language_info"\s*:\s*\{[^{}]*?"name"|language)"\s*:\s*"([\w+#-]+)"')
# IPython's shell escapes and line magics (`!export API_KEY=…`, `%env API_KEY=…`), and cell magics
# that make the whole cell text for another program.
_SHELL_LINE = lazyre.compile(r"[ \t]*[!%]")
_TEXT_CELL_MAGIC = lazyre.compile(r"%%(?:bash|sh|script|writefile|file|html|markdown|latex|javascript|js|svg|capture)\b")


# A code cell: where its pieces' JSON strings start, each piece (JSON start, JSON end, character and
# byte offset in the source), the parsed source, and the source.
_Cell = tuple[list[int], list[tuple[int, int, int, int]], "tree_sitter.Tree | None", str]


class _Notebook:
    """A Jupyter notebook: a value is code only in a code cell's source, in the kernel's language
    (Python here), and not on a shell-escape or magic line."""

    def __init__(self, text: str) -> None:
        self._text = text
        keys = list(_CELL_KEY.finditer(text))
        self._at = [m.start() for m in keys]
        self._keys = keys
        # The cell type named last before each key (Jupyter writes it first in its cell).
        self._types: list[str] = []
        kind = "code"
        for m in keys:
            if m[1] == "cell_type":
                kind = m[2] or "code"
            self._types.append(kind)
        kernel = _KERNEL_LANGUAGE.search(text)
        self._python = kernel is None or kernel[1].lower() in ("python", "python3", "ipython")
        self._cells: dict[int, _Cell | None] = {}

    def is_expression(self, start: int) -> bool:
        i = bisect.bisect_left(self._at, start) - 1
        if not self._python or i < 0 or self._keys[i][1] != "source":
            return False  # an output, metadata, or no cell at all
        if self._types[i] != "code":
            return False
        cell = self._cell(self._keys[i].end() - 1)
        if cell is None:
            return False
        starts, pieces, tree, source = cell
        k = bisect.bisect_left(starts, start) - 1
        if k < 0:
            return False
        json_start, json_end, char_at, byte_at = pieces[k]
        if not json_start < start < json_end:
            return False
        try:
            before = json.loads(self._text[json_start:start] + '"')
        except ValueError:
            return False
        offset = char_at + len(before)
        line_start = source.rfind("\n", 0, offset) + 1
        if _SHELL_LINE.match(source, line_start) or _TEXT_CELL_MAGIC.match(source):
            return False
        return tree is not None and _is_code(tree, byte_at + len(before.encode("utf-8", "surrogatepass")))

    def _cell(self, bracket: int) -> _Cell | None:
        """The source array opening at BRACKET: where each piece's JSON string starts, each piece's
        (JSON start, JSON end, character and byte offset in the source), the parsed source, the source."""
        if bracket in self._cells:
            return self._cells[bracket]
        decoder = json.JSONDecoder()
        pieces: list[tuple[int, int, int, int]] = []
        texts: list[str] = []
        text = self._text
        i = bracket + 1
        chars = octets = 0
        while True:
            while i < len(text) and text[i] in " \t\r\n,":
                i += 1
            if i >= len(text) or text[i] != '"':
                break
            try:
                piece, end = decoder.raw_decode(text, i)
            except ValueError:
                piece = None
            if not isinstance(piece, str):
                self._cells[bracket] = None  # not asked again for each of its candidates
                return None
            pieces.append((i, end, chars, octets))
            texts.append(piece)
            chars += len(piece)
            octets += len(piece.encode("utf-8", "surrogatepass"))
            i = end
        source = "".join(texts)
        cell = ([p[0] for p in pieces], pieces, _parse("python", source), source)
        self._cells[bracket] = cell
        return cell
