"""Regular expressions compiled the first time they are used.

The rules and filters declare about a hundred patterns. Compiling them all when the package is
imported cost a commit hook 17 ms of its 150, most of them for files that hold no keyword, where
no rule's pattern ever runs. `compile` returns a stand-in that compiles on first use and then
hands out the real pattern's own methods, so after that a call costs what it cost before.

To a type checker `compile` is `re.compile`: the stand-in answers every attribute a pattern has
(`pattern` and `flags` without compiling), pickles as the pattern it stands for, and compares and
hashes like it. What it cannot be is an instance of `re.Pattern`, so it is never handed to the
module-level functions of `re` (`re.sub(pattern, ...)`), which test for one.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, AnyStr, Generic

__all__ = ["compile"]


class _Lazy(Generic[AnyStr]):
    def __init__(self, pattern: AnyStr, flags: int = 0) -> None:
        self.pattern: AnyStr = pattern
        self._flags = flags

    def _compiled(self) -> re.Pattern[AnyStr]:
        compiled = re.compile(self.pattern, self._flags)
        # From now on every attribute is found on the instance, as the pattern's own.
        for name in dir(compiled):
            if not name.startswith("__"):
                self.__dict__[name] = getattr(compiled, name)
        return compiled

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        if name == "flags":  # what re.compile would report, with the flags it adds (UNICODE)
            return self._compiled().flags
        return getattr(self._compiled(), name)

    def __reduce__(self) -> tuple[Any, ...]:
        return re.compile, (self.pattern, self._flags)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _Lazy):
            return (self.pattern, self._flags) == (other.pattern, other._flags)
        if isinstance(other, re.Pattern):
            return bool(re.compile(self.pattern, self._flags) == other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.pattern, self._flags))

    def __repr__(self) -> str:
        return f"lazyre.compile({self.pattern!r}, {self._flags})"


if TYPE_CHECKING:
    from re import compile as compile
else:
    def compile(pattern, flags=0):  # the name re gives it
        return _Lazy(pattern, flags)
