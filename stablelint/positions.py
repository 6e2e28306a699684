"""Source positions and text of syntax nodes, for the few nodes that are reported.

CPython's ``ast`` records 1-based lines and 0-based columns counted in UTF-8
bytes; people (and flake8, ruff) count columns in characters.  ``SourceText``
converts on demand, line by line, and slices the source text of a node for
messages.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize

from .diagnostic import Position

_NEWLINE = re.compile(r"\r\n?|\n")


class SourceText:
    def __init__(self, text: str):
        self.text = text
        self.lines = _NEWLINE.split(text)
        self._ascii = text.isascii()

    def _column(self, line: int, byte_column: int) -> int:
        """0-based character column of a UTF-8 byte offset on a 1-based line."""
        if self._ascii or not 0 < line <= len(self.lines):
            return byte_column
        return len(self.lines[line - 1].encode("utf-8")[:byte_column].decode("utf-8", errors="replace"))

    def start(self, node: ast.AST) -> Position:
        line = getattr(node, "lineno", 1) or 1
        return Position(line, self._column(line, getattr(node, "col_offset", 0) or 0) + 1)

    def end(self, node: ast.AST) -> Position:
        line = getattr(node, "end_lineno", None) or getattr(node, "lineno", 1) or 1
        column = getattr(node, "end_col_offset", None)
        if column is None:
            return self.start(node)
        return Position(line, self._column(line, column) + 1)

    def enclosed(self, node: ast.AST) -> bool:
        """Whether a parenthesis opens right before ``node`` and closes right after it, on its lines."""
        if getattr(node, "lineno", None) is None:
            return False
        start, end = self.start(node), self.end(node)
        before = self.lines[start.line - 1][:start.column - 1].rstrip()
        after = self.lines[end.line - 1][end.column - 1:].lstrip()
        return before.endswith("(") and after.startswith(")")

    def segment(self, node: ast.AST) -> str:
        """The source text of ``node`` ("" when it has no position)."""
        if getattr(node, "lineno", None) is None:
            return ""
        return self.between(self.start(node), self.end(node))

    def between(self, start: Position, end: Position) -> str:
        """The text from ``start`` to ``end`` (exclusive), lines joined with "\\n"."""
        if start.line == end.line:
            return self.lines[start.line - 1][start.column - 1:end.column - 1]
        parts = [self.lines[start.line - 1][start.column - 1:]]
        parts.extend(self.lines[start.line:end.line - 1])
        parts.append(self.lines[end.line - 1][:end.column - 1])
        return "\n".join(parts)


def comments(text: str) -> list[tuple[int, int, str]] | None:
    """The comments in ``text`` (an expression or statements, possibly over several lines) as (0-based line,
    column, comment), or None when it cannot be tokenized (so comments cannot be told from strings)."""
    if "#" not in text:
        return []
    for wrapped, offset in ((f"(\n{text}\n)", 2), (text, 1)):  # an expression's lines may be indented
        try:
            tokens = list(tokenize.generate_tokens(io.StringIO(wrapped).readline))
        except (tokenize.TokenError, SyntaxError):
            continue
        return [(t.start[0] - offset, t.start[1], t.string) for t in tokens if t.type == tokenize.COMMENT]
    return None
