"""SL108: 1 / (1 + exp(-x)) is a sigmoid written by hand; exp(-x) overflows for large negative x."""

from __future__ import annotations

import ast

from .logexp_support import (
    EXP_LIMIT, RewriteCheck, argument_text, call_text, cannot_overflow_exp, expression_text, fix_call, framework_of,
    is_constant, negated, negation_text, only_arguments, operand_text, receiver_text, built_fix, site,
    value_at_defaults,
)
from ..dataflow import Context
from ..diagnostic import Fix
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
        argument, exp = match.bindings["N"], match.bindings["E"]
        # exp(-clip(x, -500, 500)) or exp(-relu(x)) cannot overflow
        if is_constant(match.bindings["X"], context) or argument.facts.bounded_above:
            return False
        python_floats = _is_python_math(exp)
        # exp(-0.5 * log(y)) cannot overflow either: a log is at most about 745 in magnitude (103 in float32)
        if cannot_overflow_exp(argument, context, ("float64",) if python_floats else tuple(EXP_LIMIT)):
            return False
        # 1 / (1 + exp(0.5 * logsnr_max)) with logsnr_max=18.0: configuration arithmetic, far from overflow
        at_defaults = value_at_defaults(argument, context)
        if at_defaults is not None:
            float64 = python_floats or (exp.spelling is not None and exp.spelling.framework == "numpy")
            return abs(at_defaults) >= EXP_LIMIT["float64" if float64 else "float32"] / 4
        return True

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
        if _is_python_math(exp):
            why = f"math.{call} raises OverflowError once {argument_text} exceeds about 709"
        elif framework_of(render, [exp]) == "numpy" and variant != "ratio":
            # no autograd in NumPy: the value still rounds to 0, the overflow shows as a RuntimeWarning
            why = (f"{call} overflows to inf once {argument_text} exceeds about 709 in float64 (88 in float32); "
                   f"the result still rounds to 0, but with a RuntimeWarning (overflow encountered in exp)")
        else:
            nan = " (and inf / inf is NaN)" if variant == "ratio" else ""
            why = (f"{call} overflows to inf once {argument_text} exceeds about 88 in float32 (11 in float16){nan}, "
                   f"and the gradient becomes NaN")
        return f"{found} is a sigmoid written by hand: {why}; use {use}"

    def fix(self, variant: str, match: Match, value: Value, render: Renderer, context: Context) -> Fix | None:
        """1 / (1 + exp(-x)) -> sigmoid(x); 1 / (1 + exp(x)) -> sigmoid(-x); exp(x) / (1 + exp(x)) -> sigmoid(x).

        Not for Python's math module, which has no sigmoid.
        """
        exp = match.bindings["E"]
        if _is_python_math(exp) or not only_arguments(exp) or not only_arguments(value, ("input", "other", "exponent")):
            return None
        x = site(match, "X")
        if x is None:
            return None
        if variant == "pos":
            subject = negation_text(render, x)
            negative = isinstance(x, ast.UnaryOp) and isinstance(x.op, ast.USub)
            receiver = receiver_text(render, x.operand) if negative else f"({subject})"
        else:
            subject, receiver = argument_text(render, x), receiver_text(render, x)
        built = fix_call(render, "sigmoid", [exp], subject, (), receiver=receiver if exp.method else None)
        return built_fix(render, value.node, built, self.rule.fix)


def _is_python_math(exp: Value) -> bool:
    return exp.spelling is not None and exp.spelling.qualname.startswith("math.")
