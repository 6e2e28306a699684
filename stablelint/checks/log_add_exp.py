"""SL106: log(exp(a) + exp(b)) overflows (and underflows to -inf); logaddexp(a, b) does not."""

from __future__ import annotations

from .logexp_support import (
    RewriteCheck, call_text, is_shifted, operand_short, operand_text, same_value, unwrap,
)
from ..dataflow import Context
from ..patterns import Match
from ..render import Renderer
from ..values import OP, Value


class Check(RewriteCheck):
    patterns = (("add", "log(($S := ($EA := exp($A)) + ($EB := exp($B))))"),)

    def accept(self, variant: str, match: Match, value: Value, context: Context) -> bool:
        a, b = match.bindings["A"], match.bindings["B"]
        if is_shifted(a, context) or is_shifted(b, context):
            return False
        # log(exp(a - m) + exp(b - m)) + m: shifted by hand with a common term
        a_op, b_op = unwrap(a, context), unwrap(b, context)
        if a_op is not None and b_op is not None and a_op.kind == OP and b_op.kind == OP \
                and a_op.op == b_op.op == "sub" and same_value(a_op.args.get("other"), b_op.args.get("other"), context):
            return False
        return True

    def message(self, variant: str, match: Match, value: Value, render: Renderer, context: Context) -> str:
        ea, eb = match.bindings["EA"], match.bindings["EB"]
        a = operand_text(render, ea.arg_nodes.get("input"), 40, "a")
        b = operand_text(render, eb.arg_nodes.get("input"), 40, "b")
        found = render.call(value, operand_short(render, value, limit=30))
        use = call_text(render, "logaddexp", [value, ea, eb], a, (b,))
        return (f"{found} overflows to inf once a or b exceeds about 88 (float32), and is -inf when both underflow; "
                f"use {use}")
