"""SL111: log of a value that the facts say can be exactly zero."""

from __future__ import annotations

from . import Checker, Report
from .support import is_where_guarded, mark_where_guarded
from ..dataflow import Context
from ..values import OP, Value

LOG_OPS = ("log", "log2", "log10")
# A log whose result is immediately clamped from below is deliberate: the
# -inf is turned into a finite floor (e.g. masking with log(mask)).
FLOOR_OPS = ("clamp", "clamp_min", "maximum", "max")


# where(p > 0, p * log(p), 0): the -inf never reaches the result (SL601 covers the gradient).
WHERE_OPERANDS = {op: "input" for op in LOG_OPS}


class Check(Checker):
    ops = (*LOG_OPS, *FLOOR_OPS, "where")

    def check(self, value: Value, context: Context, report: Report) -> None:
        if value.op in FLOOR_OPS:
            self._note_floor(value, context)
            return
        if value.op == "where":
            mark_where_guarded(self, value, context, WHERE_OPERANDS)
            return
        argument = value.args.get("input")
        if argument is None or not argument.facts.may_be_zero:
            return
        pending = context.analyzer.rule_state(self, list)
        pending.append((value, argument))

    def _note_floor(self, value: Value, context: Context) -> None:
        inner = value.args.get("input")
        has_floor = "min" in value.args or (value.op in ("maximum", "max") and "other" in value.args)
        if inner is not None and has_floor and inner.kind == OP and inner.op in LOG_OPS:
            context.analyzer.rule_state(self, set).add(id(inner))  # read by is_where_guarded too

    def finish(self, context: Context, report: Report) -> None:
        render = report.render
        for value, argument in context.analyzer.rule_state(self, list):
            if is_where_guarded(self, value, context):  # or floored: both marks share one set
                continue
            node = value.arg_nodes.get("input")
            subject = render.short(node, argument)
            why = argument.facts.zero.text if argument.facts.zero else "possibly 0"
            origin = render.origin(node, argument, render.source_of(argument))
            detail = f"{why} ({origin})" if origin else why
            report(value.node,
                   f"{render.call(value, subject)} is -inf (NaN gradient) where '{subject}' is 0, which it can be: "
                   f"it is {detail}; clamp it first, e.g. {render.floor(subject, [value])}, or stay in log space")
