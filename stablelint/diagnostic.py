"""Diagnostics and fixes: the plain data every front end consumes.

Lines and columns are 1-based and columns count code points, the way
flake8 and ruff print them; the language server converts to its own units.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

# The rule that reports a file that cannot be decoded or parsed.
PARSE_RULE = "SL000"

Applicability = Literal["safe", "unsafe"]


@dataclass(frozen=True, slots=True)
class Position:
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace the text between two positions (end exclusive)."""

    start: Position
    end: Position
    replacement: str


@dataclass(frozen=True, slots=True)
class Fix:
    edits: tuple[Edit, ...]
    applicability: Applicability
    description: str = ""
    # imports the edits need, as (module, name or None, alias or None): ("math", None, None) is
    # ``import math``; they are added only when the file does not already have them
    imports: tuple[tuple[str, str | None, str | None], ...] = ()


@dataclass(slots=True)
class Diagnostic:
    code: str
    message: str
    path: str
    start: Position
    end: Position
    severity: str = "error"
    fix: Fix | None = None
    # For notebooks: the 1-based cell index the position is relative to.
    cell: int | None = None
    rule_name: str = ""

    @property
    def line(self) -> int:
        return self.start.line

    @property
    def column(self) -> int:
        return self.start.column

    def sort_key(self) -> tuple:
        return (self.path, self.cell or 0, self.start.line, self.start.column, self.code)


@dataclass(slots=True)
class FileError:
    """Something went wrong that is not a finding: exit status 2."""

    path: str
    message: str
    rule: str | None = None


@dataclass(slots=True)
class FileResult:
    path: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    # The source text, kept only when a front end needs it (full output, fixes).
    source: str | None = None
    # With --fix/--diff: the findings that were (or would be) fixed, and the unified diff.
    fixed: list[Diagnostic] = field(default_factory=list)
    diff: str | None = None
