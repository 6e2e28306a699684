"""SL203: acos/asin of a cosine that is not kept strictly inside (-1, 1)."""

from __future__ import annotations

import ast

from . import Checker, Report
from .. import fixes
from .support import gradient_flows, strip
from ..dataflow import Context
from ..facts import CLOSED
from ..values import Value


def _cosine(value: Value | None) -> bool:
    """What a clamp holds is itself known to lie in [-1, 1] (a cosine similarity, a dot product of unit vectors)."""
    if value is None:
        return False
    r = value.facts.range
    return r.lo >= -1.0 and r.hi <= 1.0


class Check(Checker):
    ops = ("acos", "asin")

    def check(self, value: Value, context: Context, report: Report) -> None:
        argument = value.args.get("input")
        if argument is None:
            return
        r = argument.facts.range
        within = r.lo >= -1.0 and r.hi <= 1.0
        # a cosine reaches +-1 exactly (parallel vectors); tanh & co. only saturate there: not cosines
        touches = (r.lo == -1.0 and r.lo_kind == CLOSED) or (r.hi == 1.0 and r.hi_kind == CLOSED)
        if not (within and touches):
            return
        inner = strip(argument, ("getitem",))
        clamped = inner.op in ("clamp", "clamp_min", "clamp_max")
        if clamped:
            if not gradient_flows(argument, context, op_value=value):
                return  # clamp(-1, 1) does prevent the NaN; only the gradient at +-1 remains, and none flows
            if not _cosine(inner.args.get("input")):
                return  # asin((x / y).clamp(-1, 1)): a clamp is no evidence that the value is a cosine
        render = report.render
        node = value.arg_nodes.get("input")
        subject = render.short(node, argument)
        origin = render.origin(node, argument, render.source_of(argument))
        what = f" ({origin})" if origin else ""
        # 1 - 1e-7 is the float32 number below 1; float16's is 1 - 4.9e-4
        eps = "1e-3" if "float16" in context.analyzer.flags else "1e-7"
        low, high = f"-1 + {eps}", f"1 - {eps}"
        inside = render.clamp_between(subject, [value], low, high)
        fix = None
        if node is not None and not isinstance(node, ast.Starred):
            held = inner.arg_nodes.get("input") if clamped and inner.node is node else node  # clamp(-1, 1): retighten
            fix = fixes.clamp_into(render, node, held, [value], low, high, f"clamp into [{low}, {high}]")
        report(value.node,
               f"{render.call(value, subject)}: '{subject}' is a cosine that can reach +-1{what}, where "
               f"{render.callee(value).lstrip('.')} has an infinite gradient, and rounding can push it past 1 "
               f"(NaN); clamp it strictly inside: {inside}", fix=fix)
