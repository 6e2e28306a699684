"""SL108: 1 / (1 + exp(-x)) is a sigmoid written by hand; exp(-x) overflows for large negative x."""

from __future__ import annotations

from .logexp_support import RewriteCheck, call_text, expression_text, is_constant, negated, operand_text
from ..dataflow import Context
from ..patterns import Match
from ..render import Renderer
from ..values import Value


class Check(RewriteCheck):
    # ($N := ...) is the argument of exp: it is what must not overflow
    patterns = (
        ("neg", "1 / (1 + ($E := exp(($N := -$X))))"),
        ("pos", "1 / (1 + ($E := exp(($N := $X))))"),
        ("neg", "reciprocal(1 + ($E := exp(($N := -$X))))"),
        ("pos", "reciprocal(1 + ($E := exp(($N := $X))))"),
        ("neg", "(1 + ($E := exp(($N := -$X)))) ** -1"),
        ("ratio", "($E := exp(($N := $X))) / (1 + exp($X))"),
    )

    def accept(self, variant: str, match: Match, value: Value, context: Context) -> bool:
        argument = match.bindings["N"]
        # exp(-clip(x, -500, 500)) or exp(-relu(x)) cannot overflow
        return not is_constant(match.bindings["X"], context) and not argument.facts.bounded_above

    def message(self, variant: str, match: Match, value: Value, render: Renderer, context: Context) -> str:
        exp, argument = match.bindings["E"], match.bindings["N"]
        exponent = operand_text(render, exp.arg_nodes.get("input"), 40, "")
        if variant == "neg":
            subject = operand_text(render, argument.arg_nodes.get("input"), 40)
        else:
            subject = (negated(exponent) if variant == "pos" else exponent) if exponent else "x"
        found = expression_text(render, value.node)
        use = call_text(render, "sigmoid", [exp], subject)
        argument_text = exponent or "its argument"
        call = f"exp({exponent or '...'})"
        if exp.spelling is not None and exp.spelling.qualname == "math.exp":
            why = f"math.{call} raises OverflowError once {argument_text} exceeds about 709"
        else:
            nan = " (and inf / inf is NaN)" if variant == "ratio" else ""
            why = (f"{call} overflows to inf once {argument_text} exceeds about 88 in float32 (11 in float16){nan}, "
                   f"and the gradient becomes NaN")
        return f"{found} is a sigmoid written by hand: {why}; use {use}"
