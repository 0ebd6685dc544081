"""JSON reports written a finding at a time: a 50,000-finding SARIF held as one dict and one string
took 640 MB. The document around the findings is rendered once with a marker where the list of
findings goes, and each finding is rendered, indented as json.dumps would, when it is written:
the output is byte for byte what `json.dumps(document, indent=2, ensure_ascii=False)` gives."""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

# What stands for the list of findings in the document: no report value can be it (a NUL).
ITEMS: Any = ["\0keysentry-items\0"]
_MARKER = json.dumps(ITEMS[0])
# Findings rendered into one chunk: each chunk costs a write, each finding a dict while it is made.
_PER_CHUNK = 64


def dumps(document: object, items: Iterable[object]) -> Iterator[str]:
    """`json.dumps(DOCUMENT, indent=2, ensure_ascii=False) + "\\n"` in chunks, where the one list
    that is ITEMS in DOCUMENT holds ITEMS' elements instead (made one at a time)."""
    text = json.dumps(document, indent=2, ensure_ascii=False)
    at = text.index(_MARKER)
    line = text.rindex("\n", 0, at) + 1
    pad = text[line:at]
    opening = text.rindex("[", 0, line)  # the list's `[`, and the newline json.dumps put after it
    first = True
    chunk: list[str] = []
    for item in items:
        if first:
            yield text[:line]
        # JSON strings hold no raw newline: every newline here is json.dumps's own layout.
        chunk.append(("" if first else ",\n") + pad + json.dumps(item, indent=2, ensure_ascii=False)
                     .replace("\n", "\n" + pad))
        first = False
        if len(chunk) >= _PER_CHUNK:
            yield "".join(chunk)
            chunk = []
    if first:  # no items: json.dumps writes an empty list as `[]`
        yield text[:opening] + "[]" + text[at + len(_MARKER):].split("]", 1)[1] + "\n"
        return
    yield "".join(chunk) + text[at + len(_MARKER):] + "\n"
