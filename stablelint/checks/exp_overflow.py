"""SL110: exp of an argument that grows without bound, or clamped only afterwards.

The growth evidence must be in the data: ``exp((1 + tau ** 2) * lam)`` grows
like ``lam`` does (the square is a coefficient at least 1 that scales it), and
``lam`` carries no evidence, so it is not reported; ``exp(x ** 2 * y)`` is.
"""

from __future__ import annotations

from . import Checker, Report
from .logexp_support import operand_short, unwrap
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
        if not _grows_in_data(argument, context):
            return
        node = value.arg_nodes.get("input")
        subject = operand_short(render, value)
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
        subject = operand_short(render, inner)
        exp_call = render.call(inner, subject)
        report(inner.node,
               f"{exp_call} is clamped only after exp is computed, but exp overflows to inf first "
               f"(float32 above 88) and inf * 0 gives NaN; clamp the argument instead: "
               f"{render.callee(inner)}({render.ceiling(subject, [inner], 'log(limit)')})")


def _grows_in_data(value: Value | None, context: Context, depth: int = 0) -> bool:
    """The growth evidence of ``value`` is somewhere else than in a ``c + p ** 2`` coefficient scaling a factor."""
    value = unwrap(value, context)
    if value is None or value.facts.growth is None:
        return False
    if depth > 12 or value.kind != OP:
        return True
    left, right = value.args.get("input"), value.args.get("other")
    if value.op == "mul" and left is not None and right is not None:
        if left.facts.growth is None and right.facts.growth is None:
            return True  # x * x: the square is made here
        factors = [f for f, other in ((left, right), (right, left))
                   if not (_is_square_coefficient(f, context) and other.facts.growth is None)]
        return any(_grows_in_data(f, context, depth + 1) for f in factors)
    if value.op in ("add", "sub") and left is not None and right is not None:
        return any(_grows_in_data(part, context, depth + 1) for part in (left, right))
    if value.op in ("div", "true_divide") and left is not None:
        return _grows_in_data(left, context, depth + 1)
    return True


def _is_square_coefficient(value: Value | None, context: Context) -> bool:
    """``1 + tau ** 2``, ``c + s * s`` with c > 0: a scale factor of at least c, not a growing datum."""
    value = unwrap(value, context)
    if value is None or value.kind != OP or value.op != "add":
        return False
    parts = [unwrap(value.args.get(k), context) for k in ("input", "other")]
    if any(p is None for p in parts):
        return False
    constants = [p for p in parts if p.is_numeric_const and p.const > 0]
    growing = [p for p in parts if p.facts.growth is not None and p.facts.range.lo >= 0]
    return len(constants) == 1 and len(growing) == 1 and constants[0] is not growing[0]
