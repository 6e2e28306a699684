"""Source positions of a few nodes, computed only when they are needed.

libcst's ``PositionProvider`` records a range for every node of the module
and costs more than parsing it; a linter needs positions only for the
handful of nodes that become diagnostics.  This module runs libcst's code
generator once with a state that tracks a character offset and records
ranges only for the requested nodes (with the same "syntactic" rules as
``PositionProvider``: no surrounding whitespace, and compound statements
end at their last child), then turns offsets into 1-based lines and
columns.
"""

from __future__ import annotations

import bisect
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterable, Iterator

import libcst as cst
from libcst._nodes.internal import CodegenState

from .diagnostic import Position

_NEWLINE = re.compile(r"\r\n?|\n")


@dataclass(frozen=False)
class _OffsetState(CodegenState):
    targets: set = field(default_factory=set)
    offset: int = 0
    starts: list = field(default_factory=list)
    found: dict = field(default_factory=dict)

    def add_indent_tokens(self) -> None:
        for token in self.indent_tokens:
            self.tokens.append(token)
            self.offset += len(token)

    def add_token(self, value: str) -> None:
        self.tokens.append(value)
        self.offset += len(value)

    def before_codegen(self, node: cst.CSTNode) -> None:
        if node in self.targets:
            self.starts.append(self.offset)

    def after_codegen(self, node: cst.CSTNode) -> None:
        if node in self.targets:
            start = self.starts.pop()
            self.found.setdefault(node, (start, self.offset))

    def pop_trailing_newline(self) -> None:
        if self.tokens:
            self.offset -= len(self.tokens.pop())

    @contextmanager
    def record_syntactic_position(self, node: cst.CSTNode, *, start_node: cst.CSTNode | None = None,
                                  end_node: cst.CSTNode | None = None) -> Iterator[None]:
        if node not in self.targets:
            yield
            return
        for extra in (start_node, end_node):
            if extra is not None:
                self.targets.add(extra)
        start = self.offset
        yield
        end = self.offset
        if start_node is not None and start_node in self.found:
            start = self.found[start_node][0]
        if end_node is not None and end_node in self.found:
            end = self.found[end_node][1]
        self.found[node] = (start, end)


class LineIndex:
    """Offsets to 1-based (line, column) in code points."""

    def __init__(self, text: str):
        self.starts = [0] + [m.end() for m in _NEWLINE.finditer(text)]

    def position(self, offset: int) -> Position:
        line = bisect.bisect_right(self.starts, offset) - 1
        return Position(line + 1, offset - self.starts[line] + 1)


def node_ranges(module: cst.Module, nodes: Iterable[cst.CSTNode], index: LineIndex
                ) -> dict[cst.CSTNode, tuple[Position, Position]]:
    targets = set(nodes)
    if not targets:
        return {}
    state = _OffsetState(default_indent=module.default_indent, default_newline=module.default_newline,
                         targets=set(targets))
    module._codegen(state)
    return {node: (index.position(start), index.position(end)) for node, (start, end) in state.found.items()
            if node in targets}
