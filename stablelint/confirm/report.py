"""Printing verdicts: one concise line per finding, or a JSON list."""

from __future__ import annotations

import json

from .verdict import Verdict


def concise(verdict: Verdict) -> str:
    cell = "" if verdict.cell is None else f"cell {verdict.cell}:"  # as `stablelint check` shows a notebook's
    line = f"{verdict.path}:{cell}{verdict.line}:{verdict.column}: {verdict.code} {verdict.verdict}: {verdict.reason}"
    if verdict.fix is not None:
        line += f" [{verdict.fix.summary}: {verdict.fix.detail}]"
    return line


def as_json(verdicts: list[Verdict]) -> str:
    return json.dumps([v.as_json() for v in verdicts], indent=2)


def summary(verdicts: list[Verdict]) -> str:
    counts: dict[str, int] = {}
    for verdict in verdicts:
        counts[verdict.verdict] = counts.get(verdict.verdict, 0) + 1
    if not counts:
        return "No findings to confirm."
    return ", ".join(f"{count} {name.lower()}" for name, count in counts.items()) + "."
