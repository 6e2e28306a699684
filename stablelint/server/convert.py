"""Positions and edits between stablelint and the Language Server Protocol.

stablelint counts 1-based lines and 1-based columns in code points; LSP counts 0-based lines and
0-based characters in the code units of the negotiated position encoding (UTF-16 unless the client
offers UTF-8 or UTF-32).  A character outside the Basic Multilingual Plane (an emoji) is one code
point, two UTF-16 units and four UTF-8 bytes, so columns after one differ by encoding.
Lines end at ``\\r\\n``, ``\\r`` or ``\\n`` on both sides.
"""

from __future__ import annotations

import difflib
import re

from lsprotocol import types

from ..diagnostic import Position

UTF8, UTF16, UTF32 = "utf-8", "utf-16", "utf-32"
_NEWLINE = re.compile(r"\r\n|\r|\n")
_LINE_WITH_END = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def split_lines(text: str) -> list[str]:
    """The document's lines without their line ends (as many as LSP counts)."""
    return _NEWLINE.split(text)


def units(text: str, encoding: str) -> int:
    """The length of ``text`` in the code units of ``encoding``."""
    if encoding == UTF32:
        return len(text)
    if encoding == UTF8:
        return len(text.encode("utf-8", errors="surrogatepass"))
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def to_lsp(lines: list[str], position: Position, encoding: str) -> types.Position:
    """A stablelint position (1-based, code points) as an LSP position."""
    line = min(max(position.line - 1, 0), len(lines) - 1)
    text = lines[line]
    column = min(max(position.column - 1, 0), len(text))
    return types.Position(line=line, character=units(text[:column], encoding))


def from_lsp(lines: list[str], position: types.Position, encoding: str) -> Position:
    """An LSP position as a stablelint position (clamped to the document)."""
    if position.line >= len(lines):
        return Position(len(lines), len(lines[-1]) + 1)
    text = lines[position.line]
    counted = column = 0
    for char in text:
        if counted >= position.character:
            break
        counted += units(char, encoding)
        column += 1
    return Position(position.line + 1, column + 1)


def to_lsp_range(lines: list[str], start: Position, end: Position, encoding: str) -> types.Range:
    return types.Range(start=to_lsp(lines, start, encoding), end=to_lsp(lines, end, encoding))


def contains(start: Position, end: Position, position: Position) -> bool:
    """Whether ``position`` lies within [start, end] (a zero-width range contains its point)."""
    key = (position.line, position.column)
    return (start.line, start.column) <= key <= (end.line, end.column)


def overlaps(start: Position, end: Position, other_start: Position, other_end: Position) -> bool:
    """Whether two ranges share a point (touching counts: a cursor at a finding's edge is on it)."""
    return (start.line, start.column) <= (other_end.line, other_end.column) and \
        (other_start.line, other_start.column) <= (end.line, end.column)


def text_edits(old: str, new: str, encoding: str) -> list[types.TextEdit]:
    """Edits that turn ``old`` into ``new``, one per run of changed lines."""
    old_lines = _LINE_WITH_END.findall(old)
    new_lines = _LINE_WITH_END.findall(new)
    bare = split_lines(old)
    edits = []
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        edits.append(types.TextEdit(range=types.Range(start=_line_start(i1, old_lines, bare, encoding),
                                                      end=_line_start(i2, old_lines, bare, encoding)),
                                    new_text="".join(new_lines[j1:j2])))
    return edits


def _line_start(index: int, old_lines: list[str], bare: list[str], encoding: str) -> types.Position:
    """Where line ``index`` starts; past the last line: the end of the document."""
    if index < len(old_lines) or not old_lines:
        return types.Position(line=index, character=0)
    last = old_lines[-1]
    if last.endswith(("\n", "\r")):
        return types.Position(line=len(old_lines), character=0)
    return types.Position(line=len(old_lines) - 1, character=units(bare[len(old_lines) - 1], encoding))
