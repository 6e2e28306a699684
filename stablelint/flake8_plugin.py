"""The flake8 plugin: stablelint's findings as flake8 ``SL`` errors.

flake8 finds ``Plugin`` through the ``flake8.extension`` entry point ``SL``
and calls it once per file with the lines it read (from disk, stdin or an
editor's buffer).  The file is checked exactly as ``stablelint check`` checks
it: the same ``settings.task_for`` and ``runner.lint_bytes``, under the
file's own stablelint configuration (select, ignore, per-file-ignores, user
rule folders).  flake8's ``--select``/``--ignore``/``--extend-ignore`` and its
``# noqa`` handling then filter on top; stablelint's own ``# noqa`` and
``# stablelint: disable=`` comments have already removed what they suppress,
so a finding suppressed by either does not show.

A file that does not parse never reaches the plugin: flake8 reports E999 itself.
Notebooks are left to ``stablelint check``: flake8 reads an ``.ipynb`` as Python
source, so its line numbers cannot point into a cell.
A broken configuration raises from the constructor, which flake8 turns into a
one-line "failed during execution" message rather than a traceback.
"""

from __future__ import annotations

import ast
import io
import sys
import tokenize
from pathlib import Path
from typing import Iterator

from . import __version__
from .config import ConfigFinder
from .runner import Task, lint_bytes
from .settings import RuleSelector, config_for, task_for


class Plugin:
    name = "stablelint"
    version = __version__

    # One per process: configurations and the rule catalog are read once, not once per file.
    _finder: ConfigFinder | None = None
    _selector: RuleSelector | None = None

    def __init__(self, tree: ast.AST, lines: list[str], filename: str) -> None:
        # ``tree`` is what makes flake8 run this once per file; the engine parses the text itself.
        del tree
        self.lines = lines
        self.filename = filename
        if Plugin._finder is None or Plugin._selector is None:
            Plugin._finder, Plugin._selector = ConfigFinder(), RuleSelector()
        path = Path(filename)
        self.task: Task = task_for(path, filename, config_for(Plugin._finder, path, Path.cwd()), Plugin._selector,
                                   read_from="-")

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        result = lint_bytes(_as_bytes(self.lines), self.task)
        for error in result.errors:
            where = f"internal error in rule {error.rule}: " if error.rule else ""
            print(f"stablelint: error: {error.path}: {where}{error.message}", file=sys.stderr)
        for diagnostic in result.diagnostics:
            if diagnostic.cell is not None:
                continue  # a notebook: flake8 reads its JSON as Python, so a cell's lines are not flake8's
            # flake8 counts columns from 0 and prints them plus one, as stablelint prints its own.
            message = f"{diagnostic.code} {diagnostic.message}"
            yield diagnostic.start.line, diagnostic.start.column - 1, message, type(self)


def _as_bytes(lines: list[str]) -> bytes:
    """The file's bytes again, in the encoding its coding declaration names (flake8 hands over text).

    Encoding back the way the file was decoded keeps ``lint_bytes`` reading what flake8 read.
    """
    text = "".join(lines)
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO("".join(lines[:2]).encode("utf-8")).readline)
        return text.encode(encoding)
    except (SyntaxError, LookupError, UnicodeError):
        return text.encode("utf-8", "surrogatepass")
