"""Report writers: render lint results as concise, full, JSON, SARIF or GitHub output."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Callable, TextIO

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


STREAMED = ("concise", "github", "json")


class ReportStream:
    """Writes findings as results arrive, holding only counts, for the formats that allow it.

    Results must come in path order (the runner yields them so), each file's findings already
    sorted; the output is then the same as ``write_report``'s, without keeping every finding in
    memory. ``full`` and ``sarif`` (and ``--statistics``, which needs counts only) are handled too:
    the first two collect, the last counts.
    """

    def __init__(self, fmt: str, rules: Callable[[str], Rule | None], out: TextIO, *, root: Path,
                 statistics: bool = False, version: str = "0.1.0", all_rules: Callable[[], dict[str, Rule]],
                 unsafe_fixes: bool = False):
        self.fmt, self.out, self.root, self.version = fmt, out, root, version
        self.unsafe_fixes = unsafe_fixes
        self.fixed = 0  # findings fixed by --fix, for the summary
        self.statistics = statistics and fmt in ("concise", "full")
        self.rule = rules
        self.all_rules = all_rules
        self.count = 0
        self.safe = 0
        self.unsafe = 0
        self.by_code: Counter = Counter()
        self.examples: dict[str, Diagnostic] = {}
        self.collected: list[FileResult] = []
        self._json_first = True

    def add(self, result: FileResult) -> None:
        self.fixed += len(result.fixed)
        for d in result.diagnostics:
            self.count += 1
            if d.fix is not None:
                if d.fix.applicability == "safe":
                    self.safe += 1
                else:
                    self.unsafe += 1
            self.by_code[d.code] += 1
            self.examples.setdefault(d.code, d)
        if self.statistics:
            return
        if self.fmt not in STREAMED:
            if result.diagnostics:
                self.collected.append(result)
            return
        rules = {d.code: r for d in result.diagnostics if (r := self.rule(d.code)) is not None}
        for d in result.diagnostics:
            if self.fmt == "concise":
                self.out.write(concise.header(d, unsafe_fixes=self.unsafe_fixes) + "\n")
            elif self.fmt == "github":
                self.out.write(github.command(d, rules) + "\n")
            else:
                text = json.dumps(json_format.finding(d, rules), indent=2)
                self.out.write(("[\n" if self._json_first else ",\n") + "  " + text.replace("\n", "\n  "))
                self._json_first = False

    def close(self) -> None:
        if self.statistics:
            concise.write_counts(self.by_code, self.examples, self.all_rules(), self.out)
        elif self.fmt == "concise":
            fixed = f"Fixed {self.fixed} finding{'' if self.fixed == 1 else 's'}. " if self.fixed else ""
            self.out.write(("\n" if self.count else "") + fixed
                           + concise.summary_counts(self.count, self.safe, self.unsafe, unsafe_fixes=self.unsafe_fixes)
                           + "\n")
        elif self.fmt == "json":
            self.out.write("[]\n" if self._json_first else "\n]\n")
        elif self.fmt not in STREAMED:
            write_report(self.fmt, self.collected, self.all_rules(), self.out, root=self.root, version=self.version)
