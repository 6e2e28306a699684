"""SL104: exp(x) - 1 cancels to 0 for small x; expm1(x) keeps the digits."""

from __future__ import annotations

from .logexp_support import (
    RewriteCheck, call_text, expression_text, is_constant, is_integer, operand_text, origin_note,
)
from ..dataflow import Context
from ..patterns import Match
from ..render import Renderer
from ..values import CONST, Value


class Check(RewriteCheck):
    patterns = (
        ("sub", "($E := exp($X)) - 1"),
        ("add", "($E := exp($X)) + -1"),
    )

    def accept(self, variant: str, match: Match, value: Value, context: Context) -> bool:
        x = match.bindings["X"]
        return not is_constant(x, context) and not is_integer(x, context)

    def message(self, variant: str, match: Match, value: Value, render: Renderer, context: Context) -> str:
        exp = match.bindings["E"]
        subject = operand_text(render, exp.arg_nodes.get("input"), 40, "")
        term, subject = subject or "the exponent", subject or "x"
        found = expression_text(render, value.node)
        side = next((k for k, v in value.args.items() if v is not None and v.kind != CONST), "input")
        note = origin_note(render, value.arg_nodes.get(side), value.args.get(side), exp)
        use = call_text(render, "expm1", [exp], subject)
        return (f"{found} loses precision when {term} is small: exp({term}) rounds to 1 below about 6e-8 in float32 "
                f"(1e-16 in float64), so the difference is 0 or has only a few correct digits{note}; use {use}")
