"""Writing cell sources back into a notebook's JSON text, changing nothing else.

Only the ``source`` values of the changed cells are replaced, found by walking the JSON text
itself: outputs, metadata, ids, execution counts, key order, indentation and escaping stay byte
for byte. A source written as a list of lines is written back as a list in the same layout
(lines that did not change keep their exact original spelling), a string as a string. The result
is re-read and compared with what was intended.
"""

from __future__ import annotations

import copy
import json
import re
from typing import TYPE_CHECKING, Callable

from .notebook_magics import LINE_WITH_END

if TYPE_CHECKING:
    from .notebook import Notebook


def with_sources(notebook: Notebook, sources: dict[int, str]) -> str:
    """The notebook's JSON text with the ``source`` of the given cells (1-based) replaced, nothing else."""
    changed = {index: source for index, source in sources.items() if notebook.cells[index - 1].source != source}
    if not changed:
        return notebook.text
    text = notebook.text
    spans = _source_spans(text)
    ascii_only = _writes_ascii(text)
    for index in sorted(changed, reverse=True):  # from the end: earlier offsets stay valid
        span = spans[index - 1]
        if span is None:
            raise ValueError(f"cell {index} has no source to replace")
        start, end = span
        text = text[:start] + _render_source(text, start, end, changed[index], ascii_only) + text[end:]
    expected = copy.deepcopy(notebook.data)
    for index, source in changed.items():
        cell = expected["cells"][index - 1]
        cell["source"] = source
    check = json.loads(text)
    for cell in check["cells"]:
        if isinstance(cell.get("source"), list):
            cell["source"] = "".join(cell["source"])
    for cell in expected["cells"]:
        if isinstance(cell.get("source"), list):
            cell["source"] = "".join(cell["source"])
    if check != expected:
        raise ValueError("the rewritten notebook does not read back as intended")
    return text


_WS = re.compile(r"[ \t\n\r]*")


def _source_spans(text: str) -> list[tuple[int, int] | None]:
    """Where each cell's ``source`` value lies in the (valid) JSON text: (start, end) offsets."""
    decoder = json.JSONDecoder()
    spans: list[tuple[int, int] | None] = []

    def ws(position: int) -> int:
        return _WS.match(text, position).end()  # type: ignore[union-attr]

    def members(position: int, on_value: Callable[[str, int], int]) -> int:
        """Walk the object starting at ``position`` ('{'); ``on_value(key, start)`` returns the value's end."""
        position = ws(position + 1)
        if text[position] == "}":
            return position + 1
        while True:
            key, position = json.decoder.scanstring(text, position + 1)  # type: ignore[attr-defined]
            position = ws(ws(position) + 1)  # past ':'
            position = ws(on_value(key, position))
            if text[position] == "}":
                return position + 1
            position = ws(position + 1)  # past ','

    def skip(position: int) -> int:
        return decoder.raw_decode(text, position)[1]

    def cell_member(holder: list, key: str, position: int) -> int:
        end = skip(position)
        if key == "source":
            holder[0] = (position, end)
        return end

    def top_member(key: str, position: int) -> int:
        if key != "cells":
            return skip(position)
        spans.clear()
        position = ws(position + 1)  # past '['
        if text[position] == "]":
            return position + 1
        while True:
            holder: list = [None]
            position = ws(members(position, lambda k, p: cell_member(holder, k, p)))
            spans.append(holder[0])
            if text[position] == "]":
                return position + 1
            position = ws(position + 1)

    members(ws(0), top_member)
    return spans


def _writes_ascii(text: str) -> bool:
    """Whether the file escapes non-ASCII characters (``\\u00e9``) instead of writing them."""
    if not text.isascii():
        return False
    return any(int(code, 16) > 0x7F for code in re.findall(r"\\u([0-9a-fA-F]{4})", text))


def _render_source(text: str, start: int, end: int, source: str, ascii_only: bool) -> str:
    old = text[start:end]
    if not old.startswith("["):
        return json.dumps(source, ensure_ascii=ascii_only)
    decoder = json.JSONDecoder()
    items: list[tuple[int, int]] = []
    position = _WS.match(text, start + 1).end()  # type: ignore[union-attr]
    while text[position] != "]":
        _, item_end = decoder.raw_decode(text, position)
        items.append((position, item_end))
        position = _WS.match(text, item_end).end()  # type: ignore[union-attr]
        if text[position] == ",":
            position = _WS.match(text, position + 1).end()  # type: ignore[union-attr]
    spelled: dict[str, str] = {}
    for item_start, item_end in items:
        spelled.setdefault(json.loads(text[item_start:item_end]), text[item_start:item_end])
    if items:
        opening = text[start + 1:items[0][0]]
        separator = text[items[0][1]:items[1][0]] if len(items) > 1 else "," + opening
        closing = text[items[-1][1]:end - 1]
    else:
        line_start = text.rfind("\n", 0, start) + 1
        key_indent = re.match(r"[ \t]*", text[line_start:start]).group(0)  # type: ignore[union-attr]
        opening, closing = f"\n{key_indent} ", f"\n{key_indent}"
        separator = "," + opening
    lines = LINE_WITH_END.findall(source)
    if not lines:
        return "[]"
    rendered = [spelled.get(line) or json.dumps(line, ensure_ascii=ascii_only) for line in lines]
    return "[" + opening + separator.join(rendered) + closing + "]"
