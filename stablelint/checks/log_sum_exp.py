"""SL105: log(sum(exp(x))) overflows (and underflows to -inf); logsumexp(x) does not."""

from __future__ import annotations

from .logexp_support import (
    RewriteCheck, call_text, framework_of, is_shifted, operand_short, operand_text, origin_note,
    parenthesize, reduction_args,
)
from ..dataflow import Context
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
