"""Concise output (one line per finding), the summary line and --statistics; shared text helpers."""

from __future__ import annotations

from collections import Counter
from typing import TextIO

from ..catalog import Rule
from ..diagnostic import Diagnostic

BOLD, RED, RESET = "\x1b[1m", "\x1b[1;31m", "\x1b[0m"


def rule_name(diagnostic: Diagnostic, rules: dict[str, Rule]) -> str:
    rule = rules.get(diagnostic.code)
    return rule.name if rule is not None else diagnostic.rule_name


def location(diagnostic: Diagnostic) -> str:
    """`path:line:col`, or `path:cell N:line:col` for a notebook cell."""
    cell = "" if diagnostic.cell is None else f"cell {diagnostic.cell}:"
    return f"{diagnostic.path}:{cell}{diagnostic.start.line}:{diagnostic.start.column}"


def header(diagnostic: Diagnostic, *, color: bool = False, unsafe_fixes: bool = False) -> str:
    """`path:line:col: CODE [*] message`; `[*]` marks a finding that `--fix` would fix
    (a safe fix, or an unsafe one when `--unsafe-fixes` is given)."""
    loc, code = location(diagnostic), diagnostic.code
    if color:
        loc, code = f"{BOLD}{loc}{RESET}", f"{RED}{code}{RESET}"
    fix = diagnostic.fix
    mark = " [*]" if fix is not None and (fix.applicability == "safe" or unsafe_fixes) else ""
    return f"{loc}: {code}{mark} {diagnostic.message}"


def summary(diagnostics: list[Diagnostic]) -> str:
    safe = sum(1 for d in diagnostics if d.fix is not None and d.fix.applicability == "safe")
    unsafe = sum(1 for d in diagnostics if d.fix is not None and d.fix.applicability != "safe")
    return summary_counts(len(diagnostics), safe, unsafe)


def summary_counts(count: int, safe: int, unsafe: int, *, unsafe_fixes: bool = False) -> str:
    """The last line: how many findings, and how many a fix run would fix."""
    if not count:
        return "All checks passed!"
    text = f"Found {count} finding{'' if count == 1 else 's'}."
    if unsafe_fixes and safe + unsafe:
        text += f" {safe + unsafe} fixable with --fix --unsafe-fixes."
        return text
    if safe:
        text += f" {safe} fixable with --fix."
    if unsafe:
        text += f" ({unsafe} {'more' if safe else 'fixable'} with --unsafe-fixes)"
    return text


def write(diagnostics: list[Diagnostic], out: TextIO, *, color: bool = False) -> None:
    for diagnostic in diagnostics:
        out.write(header(diagnostic, color=color) + "\n")
    out.write(("\n" if diagnostics else "") + summary(diagnostics) + "\n")


def write_statistics(diagnostics: list[Diagnostic], rules: dict[str, Rule], out: TextIO) -> None:
    """One line per rule, most frequent first: `count  CODE  [*]  name`."""
    write_counts(Counter(d.code for d in diagnostics), {d.code: d for d in diagnostics}, rules, out)


def write_counts(counts: Counter, examples: dict[str, Diagnostic], rules: dict[str, Rule], out: TextIO) -> None:
    """The statistics lines from counts per code (one example finding of each code, for its name)."""
    for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        rule = rules.get(code)
        fixable = rule.fixable if rule is not None else examples[code].fix is not None
        line = f"{count:>5}  {code}  {'[*]' if fixable else '   '}  {rule_name(examples[code], rules)}"
        out.write(line.rstrip() + "\n")
