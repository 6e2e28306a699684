"""Applying fixes: rounds until nothing changes, never leaving code that does not parse.

A round lints the current text, takes the fixes that apply (safe ones, and
unsafe ones when asked, after the ``fixable``/``unfixable`` settings), drops
any whose edits overlap an edit already taken, applies the rest from the end
of the file backwards and checks that the result still parses; a fix that
breaks parsing is rolled back and reported.  Imports a fix needs are added
with libcst's ``AddImportsVisitor`` (only for files that need one), which
keeps the rest of the file exactly as it was.  Writing keeps the file's
encoding, BOM, line endings and permissions, goes through a temporary file
and a rename, and is skipped if the file changed on disk meanwhile.
"""

from __future__ import annotations

import ast
import codecs
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .atomic import atomic_write
from .diagnostic import Diagnostic, Edit, FileError, FileResult, Fix, Position
from .positions import SourceText

MAX_ROUNDS = 10


@dataclass(frozen=True)
class FixPolicy:
    """Which fixes to apply: by applicability, and by the fixable/unfixable/extend-* settings."""

    unsafe: bool = False
    fixable: tuple[str, ...] | None = None  # None: every code
    unfixable: tuple[str, ...] = ()
    extend_safe: tuple[str, ...] = ()
    extend_unsafe: tuple[str, ...] = ()

    def applicability(self, diagnostic: Diagnostic) -> str | None:
        """'safe' or 'unsafe' after the extend-* settings, or None when the finding has no fix."""
        fix = diagnostic.fix
        if fix is None or not _allowed(diagnostic.code, self.fixable, self.unfixable):
            return None
        if fix.applicability == "unsafe" and _matches(diagnostic.code, self.extend_safe):
            return "safe"
        if fix.applicability == "safe" and _matches(diagnostic.code, self.extend_unsafe):
            return "unsafe"
        return fix.applicability

    def applies(self, diagnostic: Diagnostic) -> bool:
        kind = self.applicability(diagnostic)
        return kind == "safe" or (kind == "unsafe" and self.unsafe)


def _matches(code: str, codes: tuple[str, ...]) -> bool:
    return any(code.startswith(c) or c == "ALL" for c in codes)


def _allowed(code: str, fixable: tuple[str, ...] | None, unfixable: tuple[str, ...]) -> bool:
    return (fixable is None or _matches(code, fixable)) and not _matches(code, unfixable)


@dataclass
class FixOutcome:
    """What fixing one file did."""

    text: str  # the fixed text (the original when nothing applied)
    original: str
    applied: list[Diagnostic] = field(default_factory=list)  # the findings that were fixed
    result: FileResult | None = None  # the findings left after fixing
    errors: list[FileError] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.text != self.original


Lint = Callable[[str], FileResult]


def fix_text(text: str, lint: Lint, policy: FixPolicy, path: str, rounds: int = MAX_ROUNDS) -> FixOutcome:
    """Fix ``text`` in rounds; ``lint`` lints a text and returns its findings (with fixes)."""
    outcome = FixOutcome(text=text, original=text)
    result = lint(text)
    for _ in range(rounds):
        chosen = _non_overlapping([d for d in result.diagnostics if policy.applies(d)])
        if not chosen:
            break
        new_text, applied, broken = _apply_checked(outcome.text, chosen)
        for diagnostic in broken:
            message = (f"the fix for {diagnostic.code} at line {diagnostic.start.line} would leave code that does "
                       f"not parse; it was not applied")
            if all(error.message != message for error in outcome.errors):  # every round tries it again
                outcome.errors.append(FileError(path, message, rule=None))
        if not applied:
            for diagnostic in broken:
                diagnostic.fix = None  # reported without a fix: nothing would apply it
            break
        outcome.text = new_text
        outcome.applied.extend(applied)
        result = lint(outcome.text)
    outcome.result = result
    return outcome


def _non_overlapping(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    taken: list[Diagnostic] = []
    spans: list[tuple[Position, Position]] = []
    for diagnostic in sorted(diagnostics, key=lambda d: (d.start.line, d.start.column, d.code)):
        edits = diagnostic.fix.edits if diagnostic.fix else ()
        if any(_overlaps(edit.start, edit.end, start, end) for edit in edits for start, end in spans):
            continue  # the next round sees it again, on the text this round produces
        taken.append(diagnostic)
        spans.extend((edit.start, edit.end) for edit in edits)
    return taken


def _overlaps(a_start: Position, a_end: Position, b_start: Position, b_end: Position) -> bool:
    a0, a1, b0, b1 = _key(a_start), _key(a_end), _key(b_start), _key(b_end)
    if a0 == a1 and b0 == b1:
        return a0 == b0  # two insertions at one place: their order would be arbitrary
    return a0 < b1 and b0 < a1 or (a0 == a1 and b0 <= a0 < b1) or (b0 == b1 and a0 <= b0 < a1)


def _key(position: Position) -> tuple[int, int]:
    return position.line, position.column


def _apply_checked(text: str, chosen: list[Diagnostic]) -> tuple[str, list[Diagnostic], list[Diagnostic]]:
    """Apply all chosen fixes; if the result does not parse, find and drop the fixes that break it."""
    new_text = apply_fixes(text, [d.fix for d in chosen if d.fix])
    if parses(new_text):
        return new_text, chosen, []
    applied: list[Diagnostic] = []
    broken: list[Diagnostic] = []
    current = text
    for diagnostic in reversed(chosen):  # from the end: earlier positions stay valid
        candidate = apply_fixes(current, [diagnostic.fix])
        if parses(candidate):
            current = candidate
            applied.append(diagnostic)
        else:
            broken.append(diagnostic)
    return current, list(reversed(applied)), broken


def apply_fixes(text: str, fixes: list[Fix]) -> str:
    """Apply the fixes' edits (which must not overlap) and add the imports they need."""
    source = SourceText(text)
    offsets = _line_offsets(source)
    edits = sorted((edit for fix in fixes for edit in fix.edits), key=lambda e: (_key(e.start), _key(e.end)),
                   reverse=True)
    for edit in edits:
        start = offsets[edit.start.line - 1] + edit.start.column - 1
        end = offsets[edit.end.line - 1] + edit.end.column - 1
        text = text[:start] + edit.replacement + text[end:]
    imports = sorted({needed for fix in fixes for needed in fix.imports})
    if imports:
        text = add_imports(text, imports)
    return text


def _line_offsets(source: SourceText) -> list[int]:
    offsets = [0]
    position = 0
    text = source.text
    for line in source.lines[:-1]:
        position += len(line)
        if text.startswith("\r\n", position):
            position += 2
        else:
            position += 1
        offsets.append(position)
    return offsets


def add_imports(text: str, imports: list[tuple[str, str | None, str | None]]) -> str:
    """Add ``import module [as alias]`` / ``from module import name`` with libcst's codemod."""
    import libcst as cst
    from libcst.codemod import CodemodContext
    from libcst.codemod.visitors import AddImportsVisitor, ImportItem

    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError:
        return text
    context = CodemodContext()
    for module_name, name, alias in imports:
        AddImportsVisitor.add_needed_import(context, module_name, name, alias)
    return AddImportsVisitor(context, [ImportItem(m, n, a) for m, n, a in imports]).transform_module(module).code


def parses(text: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text[1:] if text.startswith("\ufeff") else text)
        return True
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False


# -- writing ---------------------------------------------------------------------


class ChangedOnDisk(Exception):
    pass


def write_back(path: Path, original: bytes, text: str, encoding: str, bom: bool) -> None:
    """Write ``text`` over ``path`` atomically, as long as the file still holds ``original``."""
    if path.read_bytes() != original:
        raise ChangedOnDisk(f"{path}: changed on disk while stablelint was fixing it; not overwritten")
    codec = "utf-8" if encoding in ("utf-8-sig", "utf-8") else encoding
    data = (codecs.BOM_UTF8 if bom else b"") + text.encode(codec)
    atomic_write(path, data, prefix=f".{path.name}.", suffix=".stablelint-tmp", mode=path.stat().st_mode)


def edit_for(source: SourceText, node: ast.AST, replacement: str) -> Edit:
    """An edit replacing the source text of ``node``."""
    return Edit(source.start(node), source.end(node), replacement)
