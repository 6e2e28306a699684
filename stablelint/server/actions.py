"""Code actions: a quick fix per finding, "Disable SLxxx on this line", and "Fix all".

Each finding's fix is the engine's own edits; a fix that needs an import becomes the line edits
between the text and the text with the fix and the import applied (``fixer.apply_fixes``).
"""

from __future__ import annotations

import re
from typing import Callable

from lsprotocol import types

from ..diagnostic import Diagnostic, Position
from ..diagnostic import PARSE_RULE
from ..fixer import apply_fixes, parses
from ..suppression import LineSuppressions
from .convert import overlaps, split_lines, text_edits, to_lsp_range
from .findings import lsp_diagnostic
from .linting import Linted

FIX_ALL_KIND = "source.fixAll.stablelint"
FIX_ALL_SAFE = "Fix all safe stablelint findings"
FIX_ALL_UNSAFE = "Fix all stablelint findings (unsafe fixes included)"
# A noqa comment with codes, as suppression.py reads it: the codes are extended in place.
_NOQA_CODES = re.compile(r"#\s*noqa:\s*[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*", re.IGNORECASE)

MakeEdit = Callable[[list[types.TextEdit]], types.WorkspaceEdit]


def wanted(kind: str, only: list[str] | None) -> bool:
    """Whether the client asked for actions of ``kind`` (kinds are hierarchical: "source" covers it)."""
    return not only or any(kind == o or kind.startswith(o + ".") for o in only)


def quick_fixes(linted: Linted, start: Position, end: Position, encoding: str,
                make_edit: MakeEdit) -> list[types.CodeAction]:
    """The fix and the noqa action of each finding that touches [start, end]."""
    text = linted.snapshot.text
    lines = split_lines(text)
    fixes: list[types.CodeAction] = []
    disables: list[types.CodeAction] = []
    seen_disables: set[tuple[str, int]] = set()
    for finding in linted.result.diagnostics:
        if not overlaps(finding.start, finding.end, start, end):
            continue
        diagnostic = lsp_diagnostic(finding, lines, encoding, linted.snapshot.version)
        fix = finding.fix
        if fix is not None:
            unsafe = fix.applicability == "unsafe"
            title = f"Fix {finding.code}: {fix.description or finding.rule_name}" + (" (unsafe)" if unsafe else "")
            fixes.append(types.CodeAction(title=title, kind=types.CodeActionKind.QuickFix, diagnostics=[diagnostic],
                                          edit=make_edit(_fix_edits(text, lines, finding, encoding)),
                                          is_preferred=not unsafe))
        key = (finding.code, finding.start.line)
        if key not in seen_disables and finding.code != PARSE_RULE:  # a syntax error cannot be silenced
            seen_disables.add(key)
            new_text = disable_on_line(text, finding.code, finding.start.line)
            if new_text is not None:
                disables.append(types.CodeAction(title=f"Disable {finding.code} on this line",
                                                 kind=types.CodeActionKind.QuickFix, diagnostics=[diagnostic],
                                                 edit=make_edit(text_edits(text, new_text, encoding))))
    return fixes + disables


def _fix_edits(text: str, lines: list[str], finding: Diagnostic, encoding: str) -> list[types.TextEdit]:
    fix = finding.fix
    assert fix is not None
    if fix.imports:
        return text_edits(text, apply_fixes(text, [fix]), encoding)
    return [types.TextEdit(range=to_lsp_range(lines, edit.start, edit.end, encoding), new_text=edit.replacement)
            for edit in fix.edits]


def disable_on_line(text: str, code: str, line: int) -> str | None:
    """``text`` with ``# noqa: code`` on ``line`` (an existing noqa list is extended), or None where
    a comment cannot go (the line ends inside a string or with a backslash)."""
    pieces = re.split(r"(\r\n|\r|\n)", text)  # lines at even indexes, their ends at odd ones
    index = 2 * (line - 1)
    if not 0 <= index < len(pieces):
        return None
    old = pieces[index]
    match = None
    for match in _NOQA_CODES.finditer(old):
        pass
    if match is not None:
        new = f"{old[:match.end()]}, {code}{old[match.end():]}"
    else:
        new = f"{old.rstrip()}  # noqa: {code}"
    if not LineSuppressions([new]).suppressed(code, 1):
        return None
    pieces[index] = new
    fixed = "".join(pieces)
    if parses(text) and not parses(fixed):
        return None
    return fixed


def fix_all(linted: Linted, fixed: Linted, encoding: str, unsafe: bool, make_edit: MakeEdit) -> types.CodeAction | None:
    """The "Fix all" source action from a fix-mode lint of the same text (None: nothing to fix)."""
    after = fixed.result.source
    if after is None or after == linted.snapshot.text:
        return None
    return types.CodeAction(title=FIX_ALL_UNSAFE if unsafe else FIX_ALL_SAFE, kind=FIX_ALL_KIND,
                            edit=make_edit(text_edits(linted.snapshot.text, after, encoding)))


def has_applicable_fix(linted: Linted, unsafe: bool) -> bool:
    return any(d.fix is not None and (unsafe or d.fix.applicability == "safe") for d in linted.result.diagnostics)
