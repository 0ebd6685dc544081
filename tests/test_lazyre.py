"""Patterns compiled on first use (scanner.lazyre): they behave as re.compile's, and importing the
scanner compiles none of the rules' and filters' own."""
from __future__ import annotations

import pickle
import re
import subprocess
import sys

from scanner import lazyre


def test_a_lazy_pattern_matches_as_the_compiled_one() -> None:
    text = "api_key = 'abc'\nAPI_KEY='def'\n"
    lazy = lazyre.compile(r"(?P<name>api_key)\s*=\s*'(?P<v>\w+)'", re.IGNORECASE)
    real = re.compile(r"(?P<name>api_key)\s*=\s*'(?P<v>\w+)'", re.IGNORECASE)
    assert lazy.pattern == real.pattern  # known before compiling
    assert [m.span() for m in lazy.finditer(text)] == [m.span() for m in real.finditer(text)]
    found = lazy.search(text, 5)
    assert found is not None and found.group("v") == "def"
    assert lazy.sub("X", text) == real.sub("X", text)
    assert (lazy.groupindex, lazy.groups, lazy.flags) == (real.groupindex, real.groups, real.flags)


def test_a_lazy_pattern_pickles_compares_and_hashes_as_its_pattern() -> None:
    lazy = lazyre.compile(rb"AIza[0-9A-Za-z_-]{35}")
    restored = pickle.loads(pickle.dumps(lazy))
    assert isinstance(restored, re.Pattern) and restored.pattern == lazy.pattern
    twin = lazyre.compile(rb"AIza[0-9A-Za-z_-]{35}")
    assert lazy == twin and hash(lazy) == hash(twin) and lazy == re.compile(rb"AIza[0-9A-Za-z_-]{35}")
    assert lazy != lazyre.compile(rb"AIza")


def test_importing_the_scanner_compiles_none_of_its_own_patterns() -> None:
    # What a commit hook pays before it reads a byte: the rules' and filters' hundred patterns
    # are compiled only when a file gives one of them something to match.
    probe = (
        "import re, sys\n"
        "seen = []\n"
        "real = re.compile\n"
        "def counting(pattern, flags=0):\n"
        "    caller = sys._getframe(1).f_code.co_filename\n"
        "    if '/scanner/' in caller: seen.append(caller)\n"
        "    return real(pattern, flags)\n"
        "re.compile = counting\n"
        "import scanner.cli, scanner.scan, scanner.detect, scanner.rules, scanner.filters, scanner.context\n"
        "print(len(seen))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert int(out) <= 12  # the few module-level ones left in modules that are not rules or filters
