"""SL104: exp(x) - 1 cancels to 0 for small x; expm1(x) keeps the digits.

Not reported: a constant or whole-number exponent, configuration arithmetic
that is not small at the parameters' defaults (``exp(1 - min_derivative) - 1``
with ``min_derivative=1e-3``), and a difference that is rounded to a whole
number right away (``round(exp(log_d) - 1)``): the digits the cancellation
loses are far below the rounding step.
"""

from __future__ import annotations

from . import Report
from .logexp_support import (
    RewriteCheck, argument_text, call_text, expression_text, fix_call, may_be_small, only_arguments,
    operand_text, origin_note, receiver_text, built_fix, site, unwrap,
)
from ..dataflow import Context
from ..diagnostic import Fix
from ..patterns import Match
from ..render import Renderer
from ..values import CONST, Value

ROUNDING_OPS = ("round", "floor", "ceil", "trunc", "rint")


class Check(RewriteCheck):
    patterns = (
        ("sub", "($E := exp($X)) - 1"),
        ("add", "($E := exp($X)) + -1"),
    )

    def __init__(self, rule, table):
        super().__init__(rule, table)
        self.ops = (*self.ops, *ROUNDING_OPS)

    def check(self, value: Value, context: Context, report: Report) -> None:
        state = context.analyzer.rule_state(self, _State)
        if value.op in ROUNDING_OPS:
            inner = unwrap(value.args.get("input"), context)
            if inner is not None and inner.node is not None:
                state.rounded.add(id(inner.node))
            return
        super().check(value, context, Report(lambda node, message, fix: state.pending.append((node, message, fix)),
                                             report.render))

    def finish(self, context: Context, report: Report) -> None:
        state = context.analyzer.rule_state(self, _State)
        for node, message, fix in state.pending:
            if id(node) not in state.rounded:
                report(node, message, fix=fix)

    def accept(self, variant: str, match: Match, value: Value, context: Context) -> bool:
        return may_be_small(match.bindings["X"], context)

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

    def fix(self, variant: str, match: Match, value: Value, render: Renderer, context: Context) -> Fix | None:
        """exp(x) - 1 -> expm1(x), in the exp's own spelling (torch.expm1, x.expm1(), np.expm1, math.expm1)."""
        x = site(match, "X")
        exp = match.bindings["E"]
        if x is None or not only_arguments(exp):
            return None
        built = fix_call(render, "expm1", [exp], argument_text(render, x), receiver=receiver_text(render, x))
        return built_fix(render, value.node, built, self.rule.fix)


class _State:
    def __init__(self) -> None:
        self.pending: list[tuple[object, str, Fix | None]] = []
        self.rounded: set[int] = set()
