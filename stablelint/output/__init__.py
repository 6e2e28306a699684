"""Report writers: render lint results as concise, full, JSON, SARIF or GitHub output."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from ..catalog import Rule
from ..diagnostic import Diagnostic, FileResult
from . import concise, full, github, json_format, sarif

FORMATS = ("concise", "full", "json", "sarif", "github")


def write_report(fmt: str, results: list[FileResult], rules: dict[str, Rule], out: TextIO, *,
                 root: Path, statistics: bool = False, color: bool = False,
                 version: str = "0.1.0") -> None:
    """Write the findings of `results` (already filtered, noqa applied) in format `fmt` to `out`."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown output format {fmt!r} (expected one of {', '.join(FORMATS)})")
    pairs = sorted(((d, r.source) for r in results for d in r.diagnostics), key=lambda p: p[0].sort_key())
    diagnostics: list[Diagnostic] = [d for d, _ in pairs]
    if statistics and fmt in ("concise", "full"):
        concise.write_statistics(diagnostics, rules, out)
    elif fmt == "concise":
        concise.write(diagnostics, out, color=color)
    elif fmt == "full":
        full.write(pairs, rules, out, color=color)
    elif fmt == "json":
        json_format.write(diagnostics, rules, out)
    elif fmt == "sarif":
        sarif.write(diagnostics, rules, out, root=root, version=version)
    else:
        github.write(diagnostics, rules, out)
