"""Jupyter notebooks: lint the code cells as one module, report per cell, write fixes back.

A notebook's code cells are run top to bottom in one namespace, so they are
analysed together: the code cells are joined into one *virtual module*, each
preceded by a marker comment line naming its cell, and linted like a file.
Dataflow therefore follows a value from the cell that makes it to the cell
that uses it.  Positions are mapped back through the markers: a finding
carries ``cell`` (the 1-based index among *all* cells, markdown included) and
a line and column inside that cell.

IPython syntax that is not Python is kept out of the parser without moving
anything: a cell whose first line is a ``%%`` cell magic is skipped; a line
magic (``%matplotlib inline``), shell escape (``!pip install ...``) or help
line (``obj?``, ``?obj``) at the start of a logical line becomes ``pass`` (or
``name = ...`` for ``name = !cmd``) at the same indentation, so the line stays
a statement in an indented block and every other line and column keeps its
place; a backslash-continued magic masks its continuation lines too.  A cell
that still does not parse is reported on its own (SL000, as for a .py file
that does not parse) and left out of the module.  Notebooks whose
``language_info`` names another language than Python are skipped.

Fixes run on the virtual module like on a file (rounds, rollback of fixes
that break parsing).  A fix whose edits leave its cell is dropped; an import
a fix needs is added by the same code as for files, which puts it after the
existing top-of-module imports, that is into the cell holding them (or the
first code cell).  The fixed module is split at the markers, masked lines get
their original text back, and only the ``source`` values of the cells that
changed are replaced in the original JSON text: outputs, metadata, ids,
execution counts, key order, indentation and escaping stay byte for byte.  A
source written as a list of lines is written back as a list in the same
layout (lines that did not change keep their exact original spelling), a
string as a string.  The result is re-read and compared with what was
intended before anything is written.
"""

from __future__ import annotations

import copy
import difflib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .diagnostic import Diagnostic, Edit, FileError, FileResult, Fix, Position

SUFFIX = ".ipynb"
# Marker lines of the virtual module; the random tail keeps them apart from anything a user writes.
_CELL_MARK = "#@stablelint-cell-7f3a9c1e "
_MAGIC_MARK = "#@stablelint-magic-7f3a9c1e "
_CELL_LINE = re.compile(re.escape(_CELL_MARK) + r"(\d+)$")
_MAGIC_TAIL = re.compile(r"\s*" + re.escape(_MAGIC_MARK) + r"(\d+)$")
_NEWLINE = re.compile(r"\r\n?|\n")
_LINE_WITH_END = re.compile(r"[^\r\n]*(?:\r\n?|\n)|[^\r\n]+$")
_HELP = re.compile(r"\?\??.*|[A-Za-z_][\w.]*(?:\(\))?\?\??")
_ASSIGNED_MAGIC = re.compile(r"([A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*\s*=\s*)[%!].*")


def is_notebook(name: str) -> bool:
    return name.endswith(SUFFIX)


class NotebookProblem(Exception):
    """The file is not a notebook stablelint can read; ``line``/``column`` point into the file."""

    def __init__(self, message: str, line: int = 1, column: int = 1):
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


# -- reading ---------------------------------------------------------------------


@dataclass
class Cell:
    index: int  # 1-based among all cells
    kind: str
    source: str
    as_list: bool  # the JSON holds the source as a list of lines


@dataclass
class Notebook:
    text: str  # the file's JSON text
    bom: bool
    data: dict[str, Any]
    cells: list[Cell]

    @property
    def language(self) -> str:
        info = self.data.get("metadata", {}).get("language_info")
        name = info.get("name") if isinstance(info, dict) else None
        return name.lower() if isinstance(name, str) and name else "python"


def read(data: bytes) -> Notebook:
    """Parse and validate a notebook (nbformat 4); raises NotebookProblem with a clear message."""
    bom = data.startswith(b"\xef\xbb\xbf")
    try:
        text = data[3:].decode("utf-8") if bom else data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotebookProblem(f"notebook is not valid UTF-8: byte 0x{data[exc.start]:02x} cannot be decoded") from None
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookProblem(f"notebook is not valid JSON: {exc.msg}", exc.lineno, exc.colno) from None
    except RecursionError:
        raise NotebookProblem("notebook is not valid JSON: nested too deeply") from None
    if not isinstance(parsed, dict):
        raise NotebookProblem("not a Jupyter notebook: the JSON document is not an object")
    major = parsed.get("nbformat")
    if isinstance(major, int) and major < 4:
        raise NotebookProblem(f"nbformat {major} notebooks are not supported; convert the notebook to nbformat 4 "
                              f"(jupyter nbconvert --to notebook --nbformat 4)")
    if not isinstance(major, int) or "cells" not in parsed:
        raise NotebookProblem("not a Jupyter notebook: no 'nbformat' version or no 'cells'")
    _validate(text)
    cells = []
    for number, cell in enumerate(parsed["cells"], 1):
        source = cell.get("source", "")
        cells.append(Cell(number, cell.get("cell_type", ""), "".join(source) if isinstance(source, list) else source,
                          isinstance(source, list)))
    return Notebook(text, bom, parsed, cells)


def _validate(text: str) -> None:
    import warnings

    import nbformat

    copy_ = json.loads(text)  # validation may "repair" (e.g. add missing ids): never on the data we write
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nbformat.validate(copy_)
    except Exception as exc:  # noqa: BLE001 - jsonschema's and nbformat's errors, reported as they come
        where = "/".join(str(p) for p in getattr(exc, "absolute_path", ()) or ())
        message = str(getattr(exc, "message", None) or exc).splitlines()[0] if str(exc) else type(exc).__name__
        if len(message) > 160:
            message = message[:157] + "..."
        raise NotebookProblem(f"not a valid Jupyter notebook{f' (at {where})' if where else ''}: {message}") from None


def cell_sources(text: str) -> list[str] | None:
    """Every cell's source (all cells, by 1-based index - 1) of a notebook's JSON text, or None."""
    try:
        parsed = json.loads(text)
        return ["".join(s) if isinstance(s := cell.get("source", ""), list) else s for cell in parsed["cells"]]
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


# -- magics ----------------------------------------------------------------------


def is_cell_magic(source: str) -> bool:
    first = next((line for line in _NEWLINE.split(source) if line.strip()), "")
    return first.lstrip().startswith("%%")


def mask(source: str) -> str:
    """The cell with IPython-only lines replaced by placeholders on the same lines (see the module docs).

    Each placeholder ends with a marker comment naming the (0-based) line it stands for, so the
    original line can be put back after fixes have moved lines around.
    """
    lines = _LINE_WITH_END.findall(source)
    out: list[str] = []
    depth = 0
    quote: str | None = None  # the open string's quote, while a string spans lines
    continued = False  # the previous line ended with a backslash (outside a string)
    magic_continues = False
    for number, raw in enumerate(lines):
        body = raw.rstrip("\r\n")
        ending = raw[len(body):]
        if magic_continues:
            out.append(f"{_MAGIC_MARK}{number}{ending}")
            magic_continues = body.endswith("\\")
            continue
        if depth == 0 and quote is None and not continued:
            placeholder = _placeholder(body)
            if placeholder is not None:
                out.append(f"{placeholder}  {_MAGIC_MARK}{number}{ending}")
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


# -- the virtual module ----------------------------------------------------------


@dataclass
class LineMap:
    """For each line of a virtual module: the cell it belongs to and its line there (None: a marker)."""

    cells: list[int | None] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)

    @classmethod
    def of(cls, text: str) -> "LineMap":
        mapping = cls()
        cell: int | None = None
        line = 0
        for raw in _NEWLINE.split(text):
            found = _CELL_LINE.match(raw)
            if found:
                cell, line = int(found.group(1)), 0
                mapping.cells.append(None)
                mapping.lines.append(0)
                continue
            line += 1
            mapping.cells.append(cell)
            mapping.lines.append(line)
        return mapping

    def locate(self, position: Position) -> tuple[int | None, Position]:
        index = position.line - 1
        if not 0 <= index < len(self.cells):
            return None, position
        return self.cells[index], Position(self.lines[index], position.column)

    def cell_of(self, position: Position) -> int | None:
        return self.locate(position)[0]


def virtual_module(notebook: Notebook) -> tuple[str, list[Cell], list[Cell]]:
    """The code cells joined into one module, the cells in it, and the cells left out for not parsing.

    A cell's text in the module ends with a newline even when the cell's source does not.
    """
    from .source import SourceProblem, parse

    parts: list[str] = []
    included: list[Cell] = []
    broken: list[Cell] = []
    for cell in notebook.cells:
        if cell.kind != "code" or not cell.source.strip() or is_cell_magic(cell.source):
            continue
        masked = mask(cell.source)
        try:
            parse(masked)
        except SourceProblem:
            broken.append(cell)
            continue
        included.append(cell)
        parts.append(f"{_CELL_MARK}{cell.index}\n{masked}")
        if not masked.endswith(("\n", "\r")):
            parts.append("\n")
    return "".join(parts), included, broken


def split_module(text: str, notebook: Notebook) -> dict[int, str]:
    """Each cell's source (masked lines restored) from a (fixed) virtual module, by cell index.

    Raises ValueError when the markers are not all there, in order.
    """
    chunks: dict[int, list[str]] = {}
    current: list[str] | None = None
    order: list[int] = []
    for raw in _LINE_WITH_END.findall(text):
        found = _CELL_LINE.match(raw.rstrip("\r\n"))
        if found:
            current = chunks.setdefault(int(found.group(1)), [])
            order.append(int(found.group(1)))
            continue
        if current is None:
            raise ValueError("text before the first cell marker")
        current.append(raw)
    if len(set(order)) != len(order) or order != sorted(order):
        raise ValueError("cell markers out of order")
    by_index = {cell.index: cell for cell in notebook.cells}
    sources: dict[int, str] = {}
    for index, lines in chunks.items():
        original = by_index[index].source
        originals = _LINE_WITH_END.findall(original)
        restored = []
        for raw in lines:
            body = raw.rstrip("\r\n")
            found = _MAGIC_TAIL.search(body)
            if found:
                number = int(found.group(1))
                old = originals[number]
                restored.append(old.rstrip("\r\n") + raw[len(body):])
            else:
                restored.append(raw)
        source = "".join(restored)
        if not original.endswith(("\n", "\r")) and source.endswith("\n"):
            source = source[:-2] if source.endswith("\r\n") else source[:-1]
        sources[index] = source
    return sources


# -- positions -------------------------------------------------------------------


def to_cells(diagnostics: list[Diagnostic], mapping: LineMap, *, keep_unmapped: bool = False) -> list[Diagnostic]:
    """Diagnostics of the virtual module, with positions (and fix edits) relative to their cells."""
    mapped = []
    for diagnostic in diagnostics:
        cell, start = mapping.locate(diagnostic.start)
        end_cell, end = mapping.locate(diagnostic.end)
        if cell is None:
            if keep_unmapped:
                mapped.append(diagnostic)
            continue  # on a marker line: cannot happen for a node, and there is no cell to show it in
        if end_cell != cell:
            end = start
        diagnostic.start, diagnostic.end, diagnostic.cell = start, end, cell
        diagnostic.message = _LINE_IN_MESSAGE.sub(lambda found: _cell_line(found, mapping, cell), diagnostic.message)
        if diagnostic.fix is not None:
            fix = diagnostic.fix
            edits = tuple(Edit(mapping.locate(e.start)[1], mapping.locate(e.end)[1], e.replacement) for e in fix.edits)
            diagnostic.fix = Fix(edits, fix.applicability, fix.description, fix.imports)
        mapped.append(diagnostic)
    return mapped


_LINE_IN_MESSAGE = re.compile(r"\b(on|of|at) line (\d+)\b")


def _cell_line(found: re.Match, mapping: LineMap, cell: int) -> str:
    """A rule message's "on line 12" (a line of the virtual module) as a line of a cell."""
    where, position = mapping.locate(Position(int(found.group(2)), 1))
    if where is None:
        return found.group(0)
    return f"{found.group(1)} line {position.line}" + ("" if where == cell else f" of cell {where}")


def keep_fixes_in_cells(diagnostics: list[Diagnostic], mapping: LineMap) -> None:
    """Drop every fix with an edit outside the cell of its finding (fixes never span cells)."""
    for diagnostic in diagnostics:
        if diagnostic.fix is None:
            continue
        cell = mapping.cell_of(diagnostic.start)
        if cell is None or any(mapping.cell_of(e.start) != cell or mapping.cell_of(e.end) != cell
                               for e in diagnostic.fix.edits):
            diagnostic.fix = None


# -- writing ---------------------------------------------------------------------


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
    lines = _LINE_WITH_END.findall(source)
    if not lines:
        return "[]"
    rendered = [spelled.get(line) or json.dumps(line, ensure_ascii=ascii_only) for line in lines]
    return "[" + opening + separator.join(rendered) + closing + "]"


# -- diff --------------------------------------------------------------------------


def cells_diff(notebook: Notebook, sources: dict[int, str], display: str) -> str:
    """A unified diff of the changed cells' sources, one ``--- a/nb.ipynb:cell N`` section per cell."""
    old_prefix, new_prefix = ("", "") if display.startswith("/") else ("a/", "b/")
    parts = []
    for index in sorted(sources):
        before, after = notebook.cells[index - 1].source, sources[index]
        if before == after:
            continue
        for line in difflib.unified_diff(_with_newline(before).splitlines(keepends=True),
                                         _with_newline(after).splitlines(keepends=True),
                                         fromfile=f"{old_prefix}{display}:cell {index}",
                                         tofile=f"{new_prefix}{display}:cell {index}"):
            parts.append(line if line.endswith("\n") else line + "\n")
    return "".join(parts)


def _with_newline(text: str) -> str:
    return text if not text or text.endswith("\n") else text + "\n"


# -- linting -----------------------------------------------------------------------


Lint = Callable[[str], FileResult]


def lint_notebook(data: bytes, display: str, lint: Lint, *, mode: str = "check", policy=None,
                  path: Path | None = None, keep_source: bool = False,
                  problem: Callable[[NotebookProblem], FileResult]) -> FileResult:
    """Lint (or, with mode "fix"/"diff", fix) one notebook; ``lint`` lints a Python text."""
    from .fixer import ChangedOnDisk, fix_text, write_back

    try:
        notebook = read(data)
    except NotebookProblem as exc:
        return problem(exc)
    result = FileResult(display)
    if notebook.language != "python":
        result.source = notebook.text if keep_source else None
        return result
    text, _, broken = virtual_module(notebook)
    cell_findings: list[Diagnostic] = []
    for cell in broken:  # reported like a file that does not parse (SL000), by the same code
        for diagnostic in lint(mask(cell.source)).diagnostics:
            diagnostic.cell = cell.index
            diagnostic.fix = None
            cell_findings.append(diagnostic)
    if mode == "check":
        linted = lint(text)
        result.diagnostics = to_cells(linted.diagnostics, LineMap.of(text))
        result.errors = linted.errors
    else:
        def lint_in_cells(current: str) -> FileResult:
            linted = lint(current)
            keep_fixes_in_cells(linted.diagnostics, LineMap.of(current))
            return linted

        outcome = fix_text(text, lint_in_cells, policy, display)
        final = outcome.result or FileResult(display)
        result.diagnostics = to_cells(final.diagnostics, LineMap.of(outcome.text))
        result.errors = [*final.errors, *(_in_cells(error, LineMap.of(text)) for error in outcome.errors)]
        # later rounds' positions are in texts that earlier fixes changed: the cells are a best effort
        result.fixed = to_cells(outcome.applied, LineMap.of(text), keep_unmapped=True)
        new_text = notebook.text
        if outcome.changed:
            try:
                new_text = with_sources(notebook, split_module(outcome.text, notebook))
            except (ValueError, KeyError, IndexError) as exc:
                result.errors.append(FileError(display, f"the fixes could not be mapped back to the notebook's "
                                                        f"cells ({exc}); nothing was written"))
                result.fixed = []
        if path is None and mode == "fix":
            result.source = new_text  # stdin: the caller prints the (fixed) notebook
        elif new_text != notebook.text:
            if mode == "diff":
                result.diff = cells_diff(notebook, split_module(outcome.text, notebook), display)
            else:
                try:
                    assert path is not None  # only stdin comes without a path, and it is handled above
                    write_back(path, data, new_text, "utf-8", notebook.bom)
                except ChangedOnDisk as exc:
                    result.errors.append(FileError(display, str(exc)))
                    result.fixed = []
                except OSError as exc:
                    result.errors.append(FileError(display, f"cannot write the fixed file: {exc.strerror or exc}"))
                    result.fixed = []
    for diagnostic in result.diagnostics:
        diagnostic.path = display
    result.diagnostics = sorted([*cell_findings, *result.diagnostics], key=Diagnostic.sort_key)
    if keep_source and result.source is None:
        result.source = notebook.text
    return result


_AT_LINE = re.compile(r"\bat line (\d+)\b")


def _in_cells(error: FileError, mapping: LineMap) -> FileError:
    """A fixer message's virtual-module line as ``in cell N at line M``."""
    def replace(found: re.Match) -> str:
        cell, position = mapping.locate(Position(int(found.group(1)), 1))
        return f"in cell {cell} at line {position.line}" if cell is not None else found.group(0)

    return FileError(error.path, _AT_LINE.sub(replace, error.message), error.rule)
