"""Jupyter notebooks: lint the code cells as one module, report per cell, write fixes back.

A notebook's code cells are run top to bottom in one namespace, so they are
analysed together: the code cells are joined into one *virtual module*, each
preceded by a marker comment line naming its cell, and linted like a file.
Dataflow therefore follows a value from the cell that makes it to the cell
that uses it.  Positions are mapped back through the markers: a finding
carries ``cell`` (the 1-based index among *all* cells, markdown included) and
a line and column inside that cell.

IPython syntax that is not Python is masked without moving anything
(``notebook_magics``); a cell starting with a ``%%`` cell magic is skipped. A
cell that still does not parse is reported on its own (SL000, as for a .py
file that does not parse) and left out of the module.  Notebooks whose
``language_info`` names another language than Python are skipped.

Fixes run on the virtual module like on a file (rounds, rollback of fixes
that break parsing).  A fix whose edits leave its cell is dropped; an import
a fix needs is added by the same code as for files, which puts it after the
existing top-of-module imports, that is into the cell holding them (or the
first code cell).  The fixed module is split at the markers, masked lines get
their original text back, and only the ``source`` values of the cells that
changed are replaced in the original JSON text (``notebook_json``).
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .diagnostic import Diagnostic, Edit, FileError, FileResult, Fix, Position
from .notebook_json import with_sources
from .notebook_magics import LINE_WITH_END, MAGIC_TAIL, NEWLINE, is_cell_magic, mask

SUFFIX = ".ipynb"
# Marker lines of the virtual module; the random tail keeps them apart from anything a user writes.
_CELL_MARK = "#@stablelint-cell-7f3a9c1e "
_CELL_LINE = re.compile(re.escape(_CELL_MARK) + r"(\d+)$")


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
        for raw in NEWLINE.split(text):
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
    for raw in LINE_WITH_END.findall(text):
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
        originals = LINE_WITH_END.findall(original)
        restored = []
        for raw in lines:
            body = raw.rstrip("\r\n")
            found = MAGIC_TAIL.search(body)
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
