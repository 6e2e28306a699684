"""SL204: a fractional power of a value that can be negative (a difference)."""

from __future__ import annotations

from . import Checker, Report
from ..dataflow import Context
from ..values import OP, Value

SIGNED_SOURCES = ("sub", "neg", "tanh", "sin", "cos", "cosine_similarity", "randn", "normal", "erf")


class Check(Checker):
    ops = ("pow",)

    def check(self, value: Value, context: Context, report: Report) -> None:
        base, exponent = value.args.get("input"), value.args.get("exponent")
        if base is None or exponent is None or not exponent.is_numeric_const:
            return
        p = float(exponent.const)
        if p == int(p):
            return
        if base.facts.range.lo >= 0 or not _signed(base):
            return
        render = report.render
        node = value.arg_nodes.get("input")
        subject = render.short(node, base)
        origin = render.origin(node, base, render.source_of(base))
        what = "a difference" if base.kind == OP and base.op == "sub" else "a signed value"
        detail = f"{what} ({origin})" if origin else what
        report(value.node,
               f"{render.text(value.node, 40)} is NaN where '{subject}' is negative, and it can be: it is {detail}; "
               f"take the power of its absolute value (sign(x) * abs(x) ** {exponent.const}) or clamp it at 0 first")


def _signed(value: Value) -> bool:
    return value.kind == OP and value.op in SIGNED_SOURCES
