"""SL109: log(1 + exp(x)) is softplus written by hand; exp(x) overflows for large x."""

from __future__ import annotations

from .logexp_support import (
    RewriteCheck, call_text, framework_of, function_name, is_constant, is_python_scalar_code, operand_leading_to,
    operand_text, origin_note,
)
from ..dataflow import Context
from ..patterns import Match
from ..render import Renderer
from ..values import Value


class Check(RewriteCheck):
    patterns = (
        ("log", "log(($S := 1 + ($E := exp($X))))"),
        ("log1p", "log1p(($E := exp($X)))"),
    )

    def accept(self, variant: str, match: Match, value: Value, context: Context) -> bool:
        x = match.bindings["X"]
        # log1p(exp(-abs(x))) is the stable softplus written by hand: its exp cannot overflow
        return not is_constant(x, context) and not x.facts.bounded_above

    def message(self, variant: str, match: Match, value: Value, render: Renderer, context: Context) -> str:
        exp = match.bindings["E"]
        like = [value, exp]
        subject = operand_text(render, exp.arg_nodes.get("input"), 40, "")
        term, subject = subject or "the exponent", subject or "x"
        framework = framework_of(render, like)
        found = render.call(value, render.short(value.arg_nodes.get("input"), value.args.get("input"), 30))
        container = match.bindings.get("S", value)
        note = origin_note(render, *operand_leading_to(container, exp, context), exp)
        if framework == "numpy":
            if is_python_scalar_code(like) and render._alias_for("numpy") is None:
                log1p = function_name(render, "log1p", like, framework)
                use = f"max({subject}, 0) + {log1p}({render.callee(exp)}(-abs({subject})))"
            else:
                use = f"{function_name(render, 'logaddexp', like, framework)}(0, {subject})"
            return (f"{found} overflows for {term} above about 709 in float64 (88 in float32), where the result is "
                    f"just {term}{note}; NumPy has no softplus: use {use}")
        use = call_text(render, "softplus", like, subject, (), framework)
        return (f"{found} overflows to inf for {term} above about 88 in float32 (11 in float16), where the result is "
                f"just {term}{note}; use {use}")
