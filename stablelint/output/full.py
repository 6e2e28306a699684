"""Full output: each finding with its source line, a caret underline, the rule name and fix help.

In a notebook the line shown is the line of the finding's cell (positions count within the cell).
"""

from __future__ import annotations

from typing import TextIO

from ..catalog import Rule
from ..diagnostic import Diagnostic
from .concise import RED, RESET, header, rule_name, summary


def source_lines(source: str) -> list[str]:
    """Split the way Python numbers lines: on \\r\\n, \\r and \\n only."""
    return source.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def snippet(diagnostic: Diagnostic, lines: list[str], name: str, *, color: bool) -> list[str]:
    """Gutter, source line and `^^^` under start..end, clamped to the first line."""
    start, end = diagnostic.start, diagnostic.end
    if not 1 <= start.line <= len(lines):
        return []
    text = lines[start.line - 1]
    first = min(max(start.column, 1), len(text) + 1)
    last = end.column if end.line == start.line else len(text) + 1
    width = max(1, min(last, len(text) + 1) - first)
    pad = "".join("\t" if ch == "\t" else " " for ch in text[: first - 1])  # keeps tabs aligned
    carets = "^" * width
    if color:
        carets = f"{RED}{carets}{RESET}"
    number = str(start.line)
    gutter = " " * len(number)
    return [
        f"{gutter} |",
        f"{number} | {text}",
        f"{gutter} | {pad}{carets} {name}".rstrip(),
        f"{gutter} |",
    ]


def _lines_of(source: str, cell: int | None) -> list[str]:
    """The lines the finding's positions count in: the file's, or (in a notebook) its cell's."""
    if cell is None:
        return source_lines(source)
    from ..notebook import cell_sources

    cells = cell_sources(source)
    return source_lines(cells[cell - 1]) if cells is not None and 0 < cell <= len(cells) else []


def write(pairs: list[tuple[Diagnostic, str | None]], rules: dict[str, Rule], out: TextIO, *,
          color: bool = False) -> None:
    """`pairs` holds each finding with its file's source text (None when unavailable)."""
    split: dict[tuple[int, int | None], list[str]] = {}
    for diagnostic, source in pairs:
        out.write(header(diagnostic, color=color) + "\n")
        if source is not None:
            key = (id(source), diagnostic.cell)
            if key not in split:
                split[key] = _lines_of(source, diagnostic.cell)
            lines = split[key]
            name = rule_name(diagnostic, rules) or diagnostic.code
            body = snippet(diagnostic, lines, name, color=color)
            if diagnostic.fix is not None:
                fix = diagnostic.fix
                help_text = fix.description or "a fix is available"
                if fix.applicability != "safe":
                    help_text += f" ({fix.applicability} fix)"
                body.append(f"{' ' * len(str(diagnostic.start.line))} = help: {help_text}")
            out.write("".join(line + "\n" for line in body))
        out.write("\n")
    out.write(summary([d for d, _ in pairs]) + "\n")
