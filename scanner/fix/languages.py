"""The languages `keysentry fix` rewrites, as data: which files, which tree-sitter grammar, how a
string literal looks in its syntax tree, and how the language reads an environment variable.

A literal is rewritten only through its syntax tree: the edit replaces exactly one string node, and
the file is parsed again afterwards (scanner.fix.code), so a fix never leaves a file that no longer
parses."""
from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import tree_sitter

LanguageName = Literal["python", "javascript", "typescript", "tsx", "go", "java", "kotlin", "csharp", "ruby",
                       "php", "shell", "compose", "workflow", "spring"]


@dataclass(frozen=True)
class Language:
    name: LanguageName
    # The grammar's module and the function of it that returns the language capsule.
    module: str
    function: str
    # Node types of a string literal, whose text is the literal with its quotes.
    strings: frozenset[str]
    # The expression that reads variable {name} from the environment.
    lookup: str
    # How two strings are joined, for a key inside a longer literal: "a" + lookup + "b".
    concat: str = " + "
    # Ancestors under which only a constant may stand (an annotation's argument, a `case` label, a
    # PHP property default): a lookup there would not compile, so such a literal is left to a person.
    constant_only: frozenset[str] = frozenset()
    # Ancestors that stop the search for constant_only (a function body inside a const initializer).
    scopes: frozenset[str] = frozenset()


_YAML_SCALARS = frozenset({"plain_scalar", "double_quote_scalar", "single_quote_scalar", "block_scalar"})
_FUNCTIONS = frozenset({
    "function_definition", "function_declaration", "method_declaration", "lambda", "arrow_function",
    "function_expression", "method_definition", "func_literal", "lambda_expression", "anonymous_function",
    "block", "statement_block", "compound_statement",
})

LANGUAGES: dict[LanguageName, Language] = {lang.name: lang for lang in (
    Language("python", "tree_sitter_python", "language", frozenset({"string"}), 'os.environ["{name}"]',
             constant_only=frozenset({"case_pattern", "type", "concatenated_string"}), scopes=_FUNCTIONS),
    Language("javascript", "tree_sitter_javascript", "language", frozenset({"string", "template_string"}),
             "process.env.{name}"),
    # TypeScript: `!` keeps the literal's type (string, not string | undefined), so typed code still checks.
    Language("typescript", "tree_sitter_typescript", "language_typescript", frozenset({"string", "template_string"}),
             "process.env.{name}!", constant_only=frozenset({"literal_type", "enum_body", "enum_assignment"})),
    Language("tsx", "tree_sitter_typescript", "language_tsx", frozenset({"string", "template_string"}),
             "process.env.{name}!", constant_only=frozenset({"literal_type", "enum_body", "enum_assignment"})),
    Language("go", "tree_sitter_go", "language", frozenset({"interpreted_string_literal", "raw_string_literal"}),
             'os.Getenv("{name}")', constant_only=frozenset({"import_spec", "field_declaration", "expression_case"}),
             scopes=_FUNCTIONS),
    Language("java", "tree_sitter_java", "language", frozenset({"string_literal"}), 'System.getenv("{name}")',
             constant_only=frozenset({"annotation", "marker_annotation", "annotation_argument_list", "switch_label",
                                      "element_value_pair"}), scopes=_FUNCTIONS),
    Language("kotlin", "tree_sitter_kotlin", "language", frozenset({"string_literal"}), 'System.getenv("{name}")',
             constant_only=frozenset({"annotation", "when_condition"}), scopes=_FUNCTIONS),
    Language("csharp", "tree_sitter_c_sharp", "language",
             frozenset({"string_literal", "verbatim_string_literal", "raw_string_literal",
                        "interpolated_string_expression"}),
             'Environment.GetEnvironmentVariable("{name}")',
             constant_only=frozenset({"attribute", "attribute_argument", "parameter", "case_switch_label",
                                      "constant_pattern", "enum_member_declaration"}), scopes=_FUNCTIONS),
    Language("ruby", "tree_sitter_ruby", "language", frozenset({"string"}), 'ENV.fetch("{name}")'),
    Language("php", "tree_sitter_php", "language_php", frozenset({"string", "encapsed_string"}), "getenv('{name}')",
             concat=" . ",
             # PHP allows only constant expressions in these: const, property and parameter defaults.
             constant_only=frozenset({"const_declaration", "property_declaration", "simple_parameter",
                                      "attribute", "case_statement", "enum_case"}), scopes=_FUNCTIONS),
    Language("shell", "tree_sitter_bash", "language", frozenset({"string", "raw_string", "word", "concatenation"}),
             '"${{{name}}}"'),
    # YAML read by a tool that substitutes variables itself: Docker Compose reads the .env beside the
    # compose file; GitHub Actions reads the repository's secrets.
    Language("compose", "tree_sitter_yaml", "language", _YAML_SCALARS, "${{{name}}}"),
    Language("workflow", "tree_sitter_yaml", "language", _YAML_SCALARS, "${{{{ secrets.{name} }}}}"),
    # Spring Boot resolves ${NAME} placeholders in its application*.yml from the environment.
    Language("spring", "tree_sitter_yaml", "language", _YAML_SCALARS, "${{{name}}}"),
)}

_COMPOSE = re.compile(r"(?:docker-)?compose(?:[.-][\w.-]+)?\.ya?ml")
_WORKFLOW = re.compile(r"\.github/workflows/[^/]+\.ya?ml")
# Spring Boot's configuration, where its standard layout puts it (an application.yml elsewhere may be
# another tool's, such as Rails' Figaro, which has no placeholders).
_SPRING = re.compile(r"(?:.*/)?src/(?:main|test)/resources/(?:config/)?application(?:-[\w.-]+)?\.(?P<kind>ya?ml|properties)")

_BY_SUFFIX: dict[str, LanguageName] = {
    ".py": "python", ".pyw": "python",
    ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript", ".jsx": "javascript",
    ".ts": "typescript", ".mts": "typescript", ".cts": "typescript", ".tsx": "tsx",
    ".go": "go", ".java": "java", ".kt": "kotlin", ".kts": "kotlin", ".cs": "csharp",
    ".rb": "ruby", ".rake": "ruby", ".php": "php",
    ".sh": "shell", ".bash": "shell", ".zsh": "shell", ".ksh": "shell",
}
_BY_NAME: dict[str, LanguageName] = {"Rakefile": "ruby", "Gemfile": "ruby"}

# Shell start-up files: an `export KEY=…` there belongs in the user's own, uncommitted copy (Google's
# guide: ~/.bashrc or ~/.zshrc), so the line is removed rather than rewritten.
RC_FILES = frozenset({".bashrc", ".bash_profile", ".bash_login", ".profile", ".zshrc", ".zshenv", ".zprofile",
                      ".zlogin", ".kshrc", ".envrc", "bashrc", "zshrc", "profile"})


def language_of(path: str) -> Language | None:
    """The language of the file at PATH ("/"-separated), judged by its name; None: not one we rewrite."""
    base = posixpath.basename(path)
    if _COMPOSE.fullmatch(path):  # at the top only: Compose reads the .env of the compose file's folder
        return LANGUAGES["compose"]
    if _WORKFLOW.fullmatch(path):
        return LANGUAGES["workflow"]
    spring = _SPRING.fullmatch(path)
    if spring and spring["kind"] != "properties":
        return LANGUAGES["spring"]
    if base in RC_FILES:
        return LANGUAGES["shell"]
    name = _BY_NAME.get(base)
    if name is None:
        name = _BY_SUFFIX.get(posixpath.splitext(base)[1].lower())
    return LANGUAGES[name] if name is not None else None


def is_spring_properties(path: str) -> bool:
    spring = _SPRING.fullmatch(path)
    return bool(spring) and spring is not None and spring["kind"] == "properties"


def is_rc_file(path: str) -> bool:
    return posixpath.basename(path) in RC_FILES


@cache
def parser(language: LanguageName) -> tree_sitter.Parser:
    """A parser for LANGUAGE (the grammar is loaded on first use: a scan never pays for it)."""
    import importlib

    import tree_sitter

    spec = LANGUAGES[language]
    capsule: Callable[[], object] = getattr(importlib.import_module(spec.module), spec.function)
    return tree_sitter.Parser(tree_sitter.Language(capsule()))
