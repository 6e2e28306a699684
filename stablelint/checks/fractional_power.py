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
        # ** 0.5 is a square root: code writes sqrt of differences that are non-negative by
        # construction (1 - alpha_cumprod, sigma_to**2 - sigma_up**2) and sqrt(x) is not flagged either.
        if p == int(p) or abs(p) == 0.5:
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
    if value.kind != OP or value.op not in SIGNED_SOURCES:
        return False
    if value.op == "sub":
        # 1 - p, n - 1: a complement or an offset count, non-negative in practice; a difference
        # of two arrays (pred - target) is what goes negative.
        return not any(arg.kind == "const" for arg in value.args.values())
    return True
