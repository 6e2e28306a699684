"""SL102: log of a sigmoid output, or of one minus it; logsigmoid(x) / logsigmoid(-x) stay finite."""

from __future__ import annotations

from .logexp_support import (
    RewriteCheck, argument_text, call_text, fix_call, negated, negation_text, only_arguments, operand_short,
    operand_text, origin_note, built_fix, returned_by, site,
)
from ..dataflow import Context
from ..diagnostic import Fix
from ..patterns import Match
from ..render import Renderer
from ..values import Value


class Check(RewriteCheck):
    patterns = (
        ("sigmoid", "log(($S := sigmoid($X)))"),
        ("one_minus", "log(($D := 1 - ($S := sigmoid($X))))"),
        ("one_minus", "log1p(($D := -($S := sigmoid($X))))"),
    )

    def message(self, variant: str, match: Match, value: Value, render: Renderer, context: Context) -> str:
        sigmoid = match.bindings["S"]
        subject = operand_text(render, sigmoid.arg_nodes.get("input"))
        inside = returned_by(match.reached.values())
        hint = ""
        if inside is not None or sigmoid.arg_nodes.get("input") is None:
            subject = "logits"
            owner = f"{inside.qualname}()" if inside is not None else "the model"
            hint = f" on the logits (let {owner} return them before the sigmoid)"
        found = render.call(value, operand_short(render, value, limit=30))
        like = [value, sigmoid]
        if variant == "sigmoid":
            note = origin_note(render, value.arg_nodes.get("input"), value.args.get("input"), sigmoid)
            use = call_text(render, "logsigmoid", like, subject)
            return (f"{found} is -inf (NaN gradient) once the sigmoid rounds to 0 for large negative inputs{note}; "
                    f"use {use}{hint}, which is finite everywhere")
        difference = match.bindings["D"]
        note = origin_note(render, difference.arg_nodes.get("other", difference.arg_nodes.get("input")),
                           difference.args.get("other", difference.args.get("input")), sigmoid)
        use = call_text(render, "logsigmoid", like, negated(subject))
        return (f"{found} is -inf (NaN gradient) once the sigmoid rounds to 1, for inputs above about 17 in float32"
                f"{note}; log(1 - sigmoid(x)) is logsigmoid(-x): use {use}{hint}")

    def fix(self, variant: str, match: Match, value: Value, render: Renderer, context: Context) -> Fix | None:
        """log(sigmoid(x)) -> logsigmoid(x); log(1 - sigmoid(x)), log1p(-sigmoid(x)) -> logsigmoid(-x)."""
        x = site(match, "X")
        sigmoid = match.bindings["S"]
        if x is None or not only_arguments(value) or not only_arguments(sigmoid):
            return None
        subject = argument_text(render, x) if variant == "sigmoid" else negation_text(render, x)
        built = fix_call(render, "logsigmoid", [value, sigmoid], subject)
        return built_fix(render, value.node, built, self.rule.fix)
