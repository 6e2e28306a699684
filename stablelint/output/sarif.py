"""SARIF 2.1.0 output for code-scanning tools (GitHub code scanning, IDE viewers)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote

from ..catalog import Rule
from ..diagnostic import Diagnostic

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/stablelint/stablelint"
SECTIONS = (  # (docs key, heading, shown as a Python code block)
    ("what_it_does", "What it does", False),
    ("why_is_this_bad", "Why is this bad?", False),
    ("example", "Example", True),
    ("use_instead", "Use instead", True),
    ("fix_safety", "Fix safety", False),
    ("references", "References", False),
)


def _level(severity: str) -> str:
    return "warning" if severity == "warning" else "error"


def _section_text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "\n".join(f"- {item}" for item in value)
    return str(value or "").strip()


def help_texts(rule: Rule) -> tuple[str, str]:
    """The rule's docs as plain text and as Markdown."""
    text, markdown = [], []
    for key, heading, is_code in SECTIONS:
        body = _section_text(rule.docs.get(key))
        if not body:
            continue
        text.append(f"{heading}\n{body}")
        if is_code and "```" not in body:
            body = f"```python\n{body}\n```"
        markdown.append(f"## {heading}\n\n{body}")
    return "\n\n".join(text) or rule.summary, "\n\n".join(markdown) or rule.summary


def descriptor(code: str, rule: Rule | None) -> dict[str, Any]:
    if rule is None:  # a code the catalog does not know (e.g. an internal error): keep it minimal
        return {"id": code}
    text, markdown = help_texts(rule)
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": _section_text(rule.docs.get("what_it_does")) or rule.summary},
        "help": {"text": text, "markdown": markdown},
        "defaultConfiguration": {"level": _level(rule.severity)},
        "properties": {"fixApplicability": rule.fix},
    }


def artifact_location(path: str, root: Path) -> dict[str, str]:
    """Repo-relative URI under %SRCROOT%, or an absolute file:// URI outside the root."""
    absolute = Path(os.path.abspath(path))
    for base, target in ((Path(os.path.abspath(root)), absolute), (root.resolve(), absolute.resolve())):
        try:
            relative = target.relative_to(base)
        except ValueError:
            continue
        return {"uri": quote(relative.as_posix(), safe="/"), "uriBaseId": "%SRCROOT%"}
    return {"uri": absolute.as_uri()}


def result(diagnostic: Diagnostic, index: int, root: Path) -> dict[str, Any]:
    region: dict[str, Any] = {
        "startLine": max(diagnostic.start.line, 1),
        "startColumn": max(diagnostic.start.column, 1),
        "endLine": max(diagnostic.end.line, diagnostic.start.line, 1),
        "endColumn": max(diagnostic.end.column, 1),
    }
    message = diagnostic.message
    if diagnostic.cell is not None:  # positions are relative to a notebook cell
        region["properties"] = {"cell": diagnostic.cell}
        message = f"cell {diagnostic.cell}: {message}"
    return {
        "ruleId": diagnostic.code,
        "ruleIndex": index,
        "level": _level(diagnostic.severity),
        "message": {"text": message},
        "locations": [{"physicalLocation": {
            "artifactLocation": artifact_location(diagnostic.path, root),
            "region": region,
        }}],
    }


def report(diagnostics: list[Diagnostic], rules: dict[str, Rule], *, root: Path, version: str) -> dict[str, Any]:
    codes = sorted({d.code for d in diagnostics})
    index = {code: i for i, code in enumerate(codes)}
    root_uri = Path(os.path.abspath(root)).as_uri()
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "stablelint",
                "version": version,
                "informationUri": INFORMATION_URI,
                "rules": [descriptor(code, rules.get(code)) for code in codes],
            }},
            "originalUriBaseIds": {"%SRCROOT%": {"uri": root_uri if root_uri.endswith("/") else root_uri + "/"}},
            "columnKind": "unicodeCodePoints",
            "results": [result(d, index[d.code], root) for d in diagnostics],
        }],
    }


def write(diagnostics: list[Diagnostic], rules: dict[str, Rule], out: TextIO, *, root: Path, version: str) -> None:
    out.write(json.dumps(report(diagnostics, rules, root=root, version=version), indent=2) + "\n")
