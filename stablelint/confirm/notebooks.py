"""Notebooks for ``stablelint confirm``: the code cells as one temporary module, findings located in it.

The module is ``notebook.virtual_module``'s text, the very text ``stablelint check`` lints (code
cells joined, magics masked, cells that do not parse left out), written to a temporary ``.py``
file that is probed like any module. It is linted here as Python so that each finding has its
position, and its fix's edits, in the module's lines; ``notebook.to_cells`` then gives the
position ``check`` shows (cell, line and column), by which the notebook's findings are paired
with the module's.
"""

from __future__ import annotations

import copy
import dataclasses
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ..diagnostic import Diagnostic
from ..notebook import LineMap, NotebookProblem, keep_fixes_in_cells, read, to_cells, virtual_module
from ..runner import Task, lint_bytes

_Place = tuple[int | None, int, int, str]


@dataclass
class NotebookModule:
    path: Path  # the temporary .py file holding the code cells
    text: str
    findings: dict[_Place, list[Diagnostic]]  # the module's findings, by the place check shows them at

    def locate(self, shown: Diagnostic) -> Diagnostic | None:
        """The module's finding (positions in the module's lines) for a finding of the notebook."""
        found = self.findings.get(_place(shown))
        return found.pop(0) if found else None


def _place(diagnostic: Diagnostic) -> _Place:
    return diagnostic.cell, diagnostic.start.line, diagnostic.start.column, diagnostic.code


@contextmanager
def notebook_module(data: bytes, task: Task, notebook: Path) -> Iterator[NotebookModule | None]:
    """The notebook's code cells as a temporary module (removed on exit); None for no Python notebook."""
    try:
        parsed = read(data)
    except NotebookProblem:
        yield None
        return
    if parsed.language != "python":
        yield None
        return
    text, _, _ = virtual_module(parsed)
    with tempfile.TemporaryDirectory(prefix="stablelint-notebook-") as folder:
        path = Path(folder) / f"{notebook.stem}.py"
        path.write_text(text, encoding="utf-8")
        linted = lint_bytes(text.encode("utf-8"), dataclasses.replace(task, path=str(path), display=str(path)))
        mapping = LineMap.of(text)
        keep_fixes_in_cells(linted.diagnostics, mapping)  # as `stablelint fix` does on a notebook
        findings: dict[_Place, list[Diagnostic]] = {}
        for diagnostic in linted.diagnostics:
            for shown in to_cells([copy.copy(diagnostic)], mapping):  # to_cells rewrites what it is given
                findings.setdefault(_place(shown), []).append(diagnostic)
        yield NotebookModule(path, text, findings)
