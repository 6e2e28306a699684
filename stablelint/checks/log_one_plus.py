"""SL103: log(1 + x) loses every digit of a small x; log1p(x) keeps them."""

from __future__ import annotations

from .logexp_support import (
    RewriteCheck, argument_text, call_text, fix_call, may_be_small, only_arguments, operand_short,
    operand_text, receiver_text, built_fix, site,
)
from ..dataflow import Context
from ..diagnostic import Fix
from ..patterns import Match
from ..render import Renderer
from ..values import Value



class Check(RewriteCheck):
    patterns = (("log", "log(($S := 1 + $X))"),)

    def accept(self, variant: str, match: Match, value: Value, context: Context) -> bool:
        return may_be_small(match.bindings["X"], context)

    def message(self, variant: str, match: Match, value: Value, render: Renderer, context: Context) -> str:
        total = match.bindings["S"]
        x = match.bindings["X"]
        name = next((k for k, v in total.args.items() if v is x), "other")
        subject = operand_text(render, total.arg_nodes.get(name), 40, "")
        term, subject = subject or "the added term", subject or "x"
        found = render.call(value, operand_short(render, value, limit=30))
        use = call_text(render, "log1p", [value], subject)
        return (f"{found} loses precision when {term} is small: the sum rounds to 1 once it is below about 6e-8 in "
                f"float32 (1e-16 in float64), and the log of that is 0; use {use}")

    def fix(self, variant: str, match: Match, value: Value, render: Renderer, context: Context) -> Fix | None:
        """log(1 + x) -> log1p(x), in the log's own spelling (torch.log1p, x.log1p(), np.log1p, math.log1p)."""
        x = site(match, "X")
        if x is None or not only_arguments(value):
            return None
        built = fix_call(render, "log1p", [value], argument_text(render, x), receiver=receiver_text(render, x))
        return built_fix(render, value.node, built, self.rule.fix)
