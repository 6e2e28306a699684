"""SL106: log(exp(a) + exp(b)) overflows (and underflows to -inf); logaddexp(a, b) does not."""

from __future__ import annotations

from .logexp_support import (
    RewriteCheck, argument_text, call_text, fix_call, framework_of, is_python_scalar_code, is_shifted,
    only_arguments, operand_short, operand_text, receiver_text, built_fix, same_value, site, unwrap,
)
from ..dataflow import Context
from ..diagnostic import Fix
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

    def fix(self, variant: str, match: Match, value: Value, render: Renderer, context: Context) -> Fix | None:
        """log(exp(a) + exp(b)) -> logaddexp(a, b)."""
        a, b = site(match, "A"), site(match, "B")
        ea, eb = match.bindings["EA"], match.bindings["EB"]
        if a is None or b is None or not all(only_arguments(v) for v in (value, ea, eb)):
            return None
        like = [value, ea, eb]
        framework = framework_of(render, like)
        if {v.spelling.framework for v in like if v.spelling is not None} - {framework}:
            return None  # torch.log(torch.exp(a) + math.exp(b)): logaddexp wants two arrays of one framework
        if is_python_scalar_code(like) and render._alias_for("numpy") is None:
            return None  # math.log(math.exp(a) + math.exp(b)): no NumPy in the file to take it from
        # (a.exp() + b.exp()).log() -> a.logaddexp(b); torch.log(...) -> torch.logaddexp(a, b)
        receiver = receiver_text(render, a) if value.method else None
        built = fix_call(render, "logaddexp", like, argument_text(render, a), [argument_text(render, b)], framework,
                         receiver=receiver)
        return built_fix(render, value.node, built, self.rule.fix)
