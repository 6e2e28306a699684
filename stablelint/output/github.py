"""GitHub Actions output: one `::error`/`::warning` workflow command per finding."""

from __future__ import annotations

from typing import TextIO

from ..catalog import Rule
from ..diagnostic import Diagnostic
from .concise import location, rule_name


def escape_data(text: str) -> str:
    """Escape a command's message (the part after `::`)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a property value (`file=...,title=...`)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(diagnostic: Diagnostic, rules: dict[str, Rule]) -> str:
    name = rule_name(diagnostic, rules)
    title = f"{diagnostic.code} ({name})" if name else diagnostic.code
    props: list[tuple[str, object]] = [("file", diagnostic.path)]
    if diagnostic.cell is None:
        start, end = diagnostic.start, diagnostic.end
        props += [("line", start.line), ("col", start.column), ("endLine", end.line), ("endColumn", end.column)]
    else:
        # Cell-relative positions would point at the wrong lines of the .ipynb file: name them in the title.
        title = f"{location(diagnostic)}: {title}"
    props.append(("title", title))
    level = "warning" if diagnostic.severity == "warning" else "error"
    joined = ",".join(f"{key}={escape_property(str(value))}" for key, value in props)
    return f"::{level} {joined}::{escape_data(diagnostic.message)}"


def write(diagnostics: list[Diagnostic], rules: dict[str, Rule], out: TextIO) -> None:
    for diagnostic in diagnostics:
        out.write(command(diagnostic, rules) + "\n")
