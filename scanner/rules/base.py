"""What a rule is: plain data the engine interprets."""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

KEY_CHARS = "0-9A-Za-z_-"
# A fixed-format key starts a token: not preceded by a key character, unless that character ends
# an escape (`\n`, `\"`) or a percent-encoded byte (`key%3DAIza…`).
TOKEN_START = rf"(?:(?<![{KEY_CHARS}])|(?<=\\[nrt])|(?<=%[0-9A-Fa-f]{{2}}))"
TOKEN_END = rf"(?![{KEY_CHARS}])"


@dataclass(frozen=True)
class Rule:
    id: str
    description: str
    severity: str  # SARIF level "error" or "warning"
    remediation: str
    # Lower-case byte strings; the rule's regexes run only on content containing one of them.
    keywords: tuple[bytes, ...]
    # Each pattern names the value `secret` when quoted (the quote in group `q`) or `bare` when not.
    patterns: tuple[re.Pattern[str], ...]
    # Is a captured value a real secret? Called with (value, quoted).
    accept: Callable[[str, bool], bool]
    # Specific rules win over the generic one on the same secret (contract: reported once).
    specific: bool = True
    # Fixed formats are also looked for in binary files (compiled libraries, APK assets).
    binary_patterns: tuple[re.Pattern[bytes], ...] = ()
    # The whole content must also match this for any pattern to count (e.g. a service-account JSON).
    requires: re.Pattern[str] | None = None
