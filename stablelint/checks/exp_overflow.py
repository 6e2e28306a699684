"""SL110: exp of an argument that grows without bound, or clamped only afterwards."""

from __future__ import annotations

from . import Checker, Report
from ..dataflow import Context
from ..values import OP, Value

EXP_OPS = ("exp", "exp2")
CEILING_OPS = ("clamp", "clamp_max", "minimum", "min")


class Check(Checker):
    ops = (*EXP_OPS, *CEILING_OPS)

    def check(self, value: Value, context: Context, report: Report) -> None:
        render = report.render
        if value.op in CEILING_OPS:
            self._clamped_after(value, report)
            return
        argument = value.args.get("input")
        if argument is None or argument.facts.growth is None or argument.facts.bounded_above:
            return
        node = value.arg_nodes.get("input")
        subject = render.short(node, argument)
        origin = render.origin(node, argument, render.source_of(argument))
        why = f" ({origin})" if origin else ""
        report(value.node,
               f"{render.call(value, subject)} overflows to inf: its argument grows without bound, like "
               f"{argument.facts.growth.text}{why}, and exp overflows above 88 in float32; clamp the argument, "
               f"e.g. {render.ceiling(subject, [value])}, or work in log space")

    def _clamped_after(self, value: Value, report: Report) -> None:
        inner = value.args.get("input")
        has_ceiling = "max" in value.args or (value.op in ("minimum", "min") and "other" in value.args)
        if inner is None or not has_ceiling or inner.kind != OP or inner.op not in EXP_OPS:
            return
        argument = inner.args.get("input")
        if argument is None or argument.facts.bounded_above:
            return
        render = report.render
        node = inner.arg_nodes.get("input")
        subject = render.short(node, argument)
        exp_call = render.call(inner, subject)
        report(inner.node,
               f"{exp_call} is clamped only after exp is computed, but exp overflows to inf first "
               f"(float32 above 88) and inf * 0 gives NaN; clamp the argument instead: "
               f"{render.callee(inner)}({render.ceiling(subject, [inner], 'log(limit)')})")
