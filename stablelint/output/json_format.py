"""JSON output: a machine-readable array of findings.

The JSON output (``--output-format json``) is a single JSON array, pretty-printed
with two-space indentation and nothing else on stdout, holding one object per
finding sorted by file, notebook cell, line, column and code. Each object has:
``code`` (the rule id, e.g. ``"SL101"``), ``name`` (the rule's kebab-case name),
``message``, ``severity`` (``"error"`` or ``"warning"``), ``filename`` (the path as
displayed, relative to the working directory where possible), ``location`` and
``end_location`` (objects with 1-based ``row`` and ``column``, columns counting
Unicode code points, the end exclusive), ``cell`` (the 1-based notebook cell the
positions are relative to, or ``null`` for plain Python files), ``fix`` (``null``,
or an object with ``applicability`` — ``"safe"`` or ``"unsafe"`` — ``message``, the
fix description or ``null``, and ``edits``, a list of ``{"content", "location",
"end_location"}`` objects that replace the text between the two positions with
``content``) and ``url`` (reserved for a documentation link, currently ``null``).
A clean run prints ``[]``.
"""

from __future__ import annotations

import json
from typing import Any, TextIO

from ..catalog import Rule
from ..diagnostic import Diagnostic, Position
from .concise import rule_name


def _position(position: Position) -> dict[str, int]:
    return {"row": position.line, "column": position.column}


def finding(diagnostic: Diagnostic, rules: dict[str, Rule]) -> dict[str, Any]:
    fix = diagnostic.fix
    return {
        "code": diagnostic.code,
        "name": rule_name(diagnostic, rules),
        "message": diagnostic.message,
        "severity": diagnostic.severity,
        "filename": diagnostic.path,
        "location": _position(diagnostic.start),
        "end_location": _position(diagnostic.end),
        "cell": diagnostic.cell,
        "fix": None if fix is None else {
            "applicability": fix.applicability,
            "message": fix.description or None,
            "edits": [
                {"content": e.replacement, "location": _position(e.start), "end_location": _position(e.end)}
                for e in fix.edits
            ],
        },
        "url": None,
    }


def write(diagnostics: list[Diagnostic], rules: dict[str, Rule], out: TextIO) -> None:
    out.write(json.dumps([finding(d, rules) for d in diagnostics], indent=2) + "\n")
