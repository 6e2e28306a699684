"""Findings as the editor sees them: LSP diagnostics, and hover text with the rule's documentation."""

from __future__ import annotations

from lsprotocol import types

from ..diagnostic import Diagnostic
from ..docs import rule_text
from .convert import contains, from_lsp, split_lines, to_lsp_range
from .linting import Linted

SOURCE = "stablelint"
_SEVERITY = {"error": types.DiagnosticSeverity.Error, "warning": types.DiagnosticSeverity.Warning}


def lsp_diagnostics(linted: Linted, encoding: str) -> list[types.Diagnostic]:
    lines = split_lines(linted.snapshot.text)
    return [lsp_diagnostic(d, lines, encoding, linted.snapshot.version) for d in linted.result.diagnostics]


def lsp_diagnostic(finding: Diagnostic, lines: list[str], encoding: str, version: int | None) -> types.Diagnostic:
    fix = finding.fix
    return types.Diagnostic(
        range=to_lsp_range(lines, finding.start, finding.end, encoding),
        message=finding.message,
        severity=_SEVERITY.get(finding.severity, types.DiagnosticSeverity.Warning),
        code=finding.code,
        source=SOURCE,
        # what a code action needs to find this finding again, and whether it has a fix to offer
        data={"version": version, "rule": finding.rule_name,
              "fix": None if fix is None else {"applicability": fix.applicability, "description": fix.description}},
    )


def hover(linted: Linted, position: types.Position, encoding: str) -> types.Hover | None:
    """The documentation of the rules whose findings cover ``position``."""
    lines = split_lines(linted.snapshot.text)
    point = from_lsp(lines, position, encoding)
    # a zero-width finding (SL000 marks a point) shows on its whole line
    under = [d for d in linted.result.diagnostics
             if contains(d.start, d.end, point) or (d.start == d.end and d.start.line == point.line)]
    if not under:
        return None
    parts, seen = [], set()
    for finding in under:
        if finding.code in seen:
            continue
        seen.add(finding.code)
        rule = linted.catalog.get(finding.code)
        doc = rule_text(rule) if rule is not None else ""
        parts.append(f"**{finding.code}** {_escape(finding.message)}\n\n{doc}".rstrip())
    first = under[0]
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value="\n\n---\n\n".join(parts)),
                       range=to_lsp_range(lines, first.start, first.end, encoding))


def _escape(text: str) -> str:
    return "".join("\\" + c if c in "\\`*_[]<>" else c for c in text)
