"""SL105: log(sum(exp(x))) overflows (and underflows to -inf); logsumexp(x) does not."""

from __future__ import annotations

from .logexp_support import (
    RewriteCheck, argument_text, axis_arguments, call_text, fix_call, framework_of, is_shifted, only_arguments,
    operand_short, operand_text, origin_note, parenthesize, receiver_text, reduction_args, built_fix, site,
)
from ..dataflow import Context
from ..diagnostic import Fix
from ..patterns import Match
from ..render import Renderer
from ..values import Value


class Check(RewriteCheck):
    patterns = (("sum", "log(($S := sum(($E := exp($X)), ...)))"),)

    def accept(self, variant: str, match: Match, value: Value, context: Context) -> bool:
        # log(sum(exp(x - max))) + max is the stable form written by hand
        return not is_shifted(match.bindings["X"], context)

    def message(self, variant: str, match: Match, value: Value, render: Renderer, context: Context) -> str:
        total, exp = match.bindings["S"], match.bindings["E"]
        like = [value, total, exp]
        framework = framework_of(render, like)
        subject = operand_text(render, exp.arg_nodes.get("input"), 40, "...")
        rest = reduction_args(render, total, framework)
        if not rest and framework == "torch":
            subject, rest = f"{parenthesize(subject)}.flatten()", ("0",)  # torch.logsumexp needs a dim
        found = render.call(value, operand_short(render, value, limit=30))
        note = origin_note(render, value.arg_nodes.get("input"), value.args.get("input"), total)
        use = call_text(render, "logsumexp", like, subject, rest, framework)
        return (f"{found} overflows to inf once an element exceeds about 88 (float32), and is -inf when they all "
                f"underflow{note}; use {use}, which subtracts the max for you")

    def fix(self, variant: str, match: Match, value: Value, render: Renderer, context: Context) -> Fix | None:
        """log(sum(exp(x), d)) -> logsumexp(x, d), the axis and keepdim carried over."""
        x = site(match, "X")
        total, exp = match.bindings["S"], match.bindings["E"]
        if x is None or not only_arguments(value) or not only_arguments(exp):
            return None
        like = [value, total, exp]
        framework = framework_of(render, like)
        rest = axis_arguments(render, total, framework)
        if rest is None or _spelling_framework(total) not in ("", framework):
            return None
        # x.exp().sum(-1).log() -> x.logsumexp(-1); torch.log(torch.exp(x).sum(-1)) -> torch.logsumexp(x, -1)
        subject, receiver = argument_text(render, x), receiver_text(render, x) if exp.method else None
        if total.arg_nodes.get("axis") is None and framework == "torch":
            # torch.logsumexp needs a dim: a sum over every element is the logsumexp of the flattened tensor
            if total.arg_nodes.get("keepdim") is not None:
                return None
            subject = f"{receiver_text(render, x)}.flatten()"
            receiver = subject if receiver is not None else None
            rest = ["0"]
        built = fix_call(render, "logsumexp", like, subject, rest, framework, receiver=receiver)
        return built_fix(render, value.node, built, self.rule.fix)


def _spelling_framework(value: Value) -> str:
    return value.spelling.framework if value.spelling is not None else ""
