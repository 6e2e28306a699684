"""SL201: division by a value that can be exactly zero (a std, a norm, a count, ...)."""

from __future__ import annotations

from . import Checker, Report
from .support import array_framework, is_where_guarded, mark_where_guarded
from .. import fixes
from ..dataflow import Context
from ..values import Value

DIVISION_OPS = ("div", "true_divide", "reciprocal", "rsqrt")
DIVISOR = {"div": "other", "true_divide": "other", "reciprocal": "input", "rsqrt": "input"}


class Check(Checker):
    ops = (*DIVISION_OPS, "where")

    def check(self, value: Value, context: Context, report: Report) -> None:
        if value.op == "where":  # where(d > 0, x / d, 0): the inf never reaches the result
            mark_where_guarded(self, value, context, DIVISOR)
            return
        name = DIVISOR[value.op or ""]
        divisor = value.args.get(name)
        if divisor is None or not divisor.facts.may_be_zero:
            return
        zero = divisor.facts.zero
        if zero is None or not zero.exact or not divisor.facts.range.reaches_zero(exact_only=True):
            return  # only underflow: that is SL107/SL111 territory
        if array_framework(divisor) in ("", "python"):
            return  # plain Python numbers (step counts): a ZeroDivisionError, not a silent NaN
        context.analyzer.rule_state(self, list).append((value, divisor))

    def finish(self, context: Context, report: Report) -> None:
        for value, divisor in context.analyzer.rule_state(self, list):
            if not is_where_guarded(self, value, context):
                self._report(value, divisor, report, fixes.epsilon(context.analyzer.flags))

    def _report(self, value: Value, divisor: Value, report: Report, eps: str) -> None:
        name = DIVISOR[value.op or ""]
        zero = divisor.facts.zero
        render = report.render
        node = value.arg_nodes.get(name)
        subject = render.short(node, divisor)
        origin = render.origin(node, divisor, render.source_of(divisor))
        detail = f"{zero.text} ({origin})" if origin else zero.text
        if value.op in ("div", "true_divide"):
            hint = f"({subject} + {eps})"
            what = f"division by '{subject}'"
        else:
            hint = f"{render.callee(value)}({subject} + {eps})"
            what = f"{render.call(value, subject)}"
        fix = None
        if divisor.facts.range.lo >= 0:  # + eps moves the pole of a divisor that can be negative; no cure
            fix = fixes.plus_epsilon(render, node, eps, f"add {eps} to the divisor", host=value.node)
        report(value.node,
               f"{what} gives inf/NaN where it is 0, which it can be: {detail}; "
               f"add an epsilon, e.g. {hint}",
               fix=fix)
