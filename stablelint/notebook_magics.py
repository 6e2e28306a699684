"""IPython-only lines in a notebook's code cells, masked so the cell parses as Python.

A line magic (``%matplotlib inline``), shell escape (``!pip install ...``) or help line (``obj?``,
``?obj``) at the start of a logical line becomes ``pass`` (or ``name = ...`` for ``name = !cmd``)
at the same indentation, followed by a marker comment naming the line it stands for, so every
other line and column keeps its place and the original line can be put back after fixing; a
backslash-continued magic masks its continuation lines too. A cell starting with a ``%%`` cell
magic is not Python at all (``is_cell_magic``).
"""

from __future__ import annotations

import re

# Marker of a masked line; the random tail keeps it apart from anything a user writes.
MAGIC_MARK = "#@stablelint-magic-7f3a9c1e "
MAGIC_TAIL = re.compile(r"\s*" + re.escape(MAGIC_MARK) + r"(\d+)$")
NEWLINE = re.compile(r"\r\n?|\n")
LINE_WITH_END = re.compile(r"[^\r\n]*(?:\r\n?|\n)|[^\r\n]+$")
_HELP = re.compile(r"\?\??.*|[A-Za-z_][\w.]*(?:\(\))?\?\??")
_ASSIGNED_MAGIC = re.compile(r"([A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*\s*=\s*)[%!].*")


def is_cell_magic(source: str) -> bool:
    first = next((line for line in NEWLINE.split(source) if line.strip()), "")
    return first.lstrip().startswith("%%")


def mask(source: str) -> str:
    """The cell with IPython-only lines replaced by placeholders on the same lines (see the module docs).

    Each placeholder ends with a marker comment naming the (0-based) line it stands for, so the
    original line can be put back after fixes have moved lines around.
    """
    lines = LINE_WITH_END.findall(source)
    out: list[str] = []
    depth = 0
    quote: str | None = None  # the open string's quote, while a string spans lines
    continued = False  # the previous line ended with a backslash (outside a string)
    magic_continues = False
    for number, raw in enumerate(lines):
        body = raw.rstrip("\r\n")
        ending = raw[len(body):]
        if magic_continues:
            out.append(f"{MAGIC_MARK}{number}{ending}")
            magic_continues = body.endswith("\\")
            continue
        if depth == 0 and quote is None and not continued:
            placeholder = _placeholder(body)
            if placeholder is not None:
                out.append(f"{placeholder}  {MAGIC_MARK}{number}{ending}")
                magic_continues = body.endswith("\\")
                continue
        out.append(raw)
        depth, quote, continued = _scan(body, depth, quote)
    return "".join(out)


def _placeholder(line: str) -> str | None:
    stripped = line.lstrip()
    indent = line[: len(line) - len(stripped)]
    stripped = stripped.rstrip()
    if stripped[:1] in ("%", "!") or _HELP.fullmatch(stripped):
        return f"{indent}pass"
    assigned = _ASSIGNED_MAGIC.fullmatch(stripped)
    if assigned:
        return f"{indent}{assigned.group(1)}..."
    return None


def _scan(line: str, depth: int, quote: str | None) -> tuple[int, str | None, bool]:
    """Bracket depth, open multi-line string and backslash continuation after ``line``."""
    i, n = 0, len(line)
    comment = False
    while i < n:
        char = line[i]
        if quote is not None:
            if char == "\\":
                i += 2
            elif line.startswith(quote, i):
                i += len(quote)
                quote = None
            else:
                i += 1
            continue
        if char == "#":
            comment = True
            break
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth = max(0, depth - 1)
        elif char in "'\"":
            quote = char * 3 if line.startswith(char * 3, i) else char
            i += len(quote)
            continue
        i += 1
    escaped_end = line.endswith("\\") and not comment
    if quote is not None and len(quote) == 1 and not escaped_end:
        quote = None  # an unterminated one-line string ends with the line
    return depth, quote, escaped_end and quote is None
