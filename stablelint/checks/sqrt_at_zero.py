"""SL202: sqrt (or ** 0.5) of a value that can be exactly 0 where a gradient flows."""

from __future__ import annotations

from . import Checker, Report
from .. import fixes
from .support import gradient_flows
from ..dataflow import Context
from ..values import OP, Value

# Turning a value into a Python number or a NumPy array ends autodiff there.
DETACHING = ("item", "tolist", "numpy")
ARITHMETIC = ("add", "sub", "mul", "div", "true_divide", "neg", "getitem", "mean", "sum", "detach", "cpu",
              "float", "to", "squeeze", "view", "reshape", "flatten")

# PyTorch defines the gradient of its norms at 0 as 0; JAX's and TF's norm are sqrt(sum(x**2)).
AUTODIFF_NORM_FRAMEWORKS = ("jax", "tensorflow")


class Check(Checker):
    ops = ("sqrt", "pow", "norm", *DETACHING, "float")

    def check(self, value: Value, context: Context, report: Report) -> None:
        if value.op in DETACHING or value.op == "float":
            if value.op != "float" or (value.spelling is not None and value.spelling.qualname == "builtins.float"):
                self._note_detached(value.args.get("input"), context)
            return
        argument = value.args.get("input")
        if argument is None or argument.facts.discrete:
            return  # a count or a mask has no gradient
        if argument.facts.zero is not None and argument.facts.zero.discrete:
            return  # its zero comes from a count (scaled: count * w): no gradient reaches it there
        if value.op == "pow":
            exponent = value.args.get("exponent")
            if exponent is None or not exponent.is_numeric_const or float(exponent.const) != 0.5:
                return
        if value.op == "norm":
            self._norm(value, argument, context, report)
            return
        if not argument.facts.may_be_zero or not gradient_flows(argument, context, op_value=value):
            return
        context.analyzer.rule_state(self, list).append((value, argument))

    def _note_detached(self, value: Value | None, context: Context) -> None:
        """Mark the square roots a .item()/.numpy()/float() result is computed from."""
        stack, seen = [value], 0
        marks = context.analyzer.rule_state(self, set)
        while stack and seen < 12:
            current = stack.pop()
            seen += 1
            if current is None or current.kind != OP:
                continue
            marks.add(id(current))
            if current.op in ARITHMETIC or current.op in ("sqrt", "pow"):
                stack.extend(current.args.values())

    def finish(self, context: Context, report: Report) -> None:
        detached = context.analyzer.rule_state(self, set)
        # sqrt(1e-12) = 1e-6 keeps the gradient finite; float16 cannot hold 1e-12
        eps = fixes.epsilon(context.analyzer.flags, small="1e-12")
        for value, argument in context.analyzer.rule_state(self, list):
            if id(value) not in detached:
                self._report(value, argument, report, eps)

    def _report(self, value: Value, argument: Value, report: Report, eps: str) -> None:
        render = report.render
        node = value.arg_nodes.get("input")
        subject = render.short(node, argument)
        why = argument.facts.zero.text if argument.facts.zero else "possibly 0"
        origin = render.origin(node, argument, render.source_of(argument))
        detail = f"{why} ({origin})" if origin else why
        sqrt = (render.suggest("sqrt", [value, render.source_of(argument)]) if value.op == "pow"
                else render.callee(value))
        hint = f"{sqrt}({subject} + {eps})" if not sqrt.startswith(".") else f"({subject} + {eps}){sqrt}()"
        report(value.node,
               f"{render.call(value, subject) if value.op != 'pow' else render.text(value.node, 40)} has an "
               f"infinite gradient where '{subject}' is 0, which it can be: {detail}; the NaN reaches every "
               f"weight through backprop. Add an epsilon inside: {hint}",
               fix=fixes.plus_epsilon(render, node, eps, f"add {eps} inside the square root", host=value.node))

    def _norm(self, value: Value, argument: Value, context: Context, report: Report) -> None:
        spelling = value.spelling
        if spelling is None or spelling.framework not in AUTODIFF_NORM_FRAMEWORKS or context.no_grad:
            return
        difference = argument.kind == OP and argument.op == "sub"
        if not (difference or argument.facts.may_be_zero):
            return
        render = report.render
        node = value.arg_nodes.get("input")
        subject = render.short(node, argument)
        why = "a difference, 0 when both sides are equal" if difference else argument.facts.zero.text
        report(value.node,
               f"{render.call(value, subject)} has a NaN gradient where '{subject}' is the zero vector, which it "
               f"can be ({why}): {spelling.framework}'s norm is sqrt(sum(x**2)) under autodiff; use "
               f"sqrt(sum({subject}**2) + eps) or a safe-norm with a double where")
