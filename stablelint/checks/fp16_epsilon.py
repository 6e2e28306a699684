"""SL501: an epsilon that float16 rounds to 0, in code that runs in float16."""

from __future__ import annotations

from . import Checker, Report
from ..dataflow import Context
from ..values import CONST, OP, PARAM, Value

# float16's smallest subnormal is 2**-24 (5.96e-8); anything below rounds to 0 or loses all precision.
FLOAT16_TINY = 2.0 ** -24
EPS_KEYWORDS = ("eps", "epsilon", "smooth", "tiny")


class Check(Checker):
    ops = ("div", "true_divide", "clamp", "clamp_min", "maximum", "@call", "normalize", "cosine_similarity",
           "layer_norm", "batch_norm", "group_norm", "rms_norm")

    def check(self, value: Value, context: Context, report: Report) -> None:
        found = context.analyzer.rule_state(self, dict)
        for literal, where in self._candidates(value):
            found.setdefault(id(literal.node), (literal, where))

    def _candidates(self, value: Value):
        if value.op in ("div", "true_divide"):
            divisor = value.args.get("other")
            for addend in _addends(divisor):
                if _tiny(addend):
                    yield addend, "added to a denominator"
            return
        if value.op in ("clamp", "clamp_min", "maximum"):
            bound = value.args.get("min") or value.args.get("other")
            if bound is not None and _tiny(bound):
                yield bound, "used as a lower bound"
            return
        for name, arg in value.args.items():
            if name in EPS_KEYWORDS and _tiny(arg):
                yield arg, f"passed as {name}="

    def finish(self, context: Context, report: Report) -> None:
        if "float16" not in context.analyzer.flags:
            return
        render = report.render
        for literal, where in context.analyzer.rule_state(self, dict).values():
            constant = _constant(literal)
            report(constant.node,
                   f"{render.text(constant.node, 20)} is {where} in float16 code (this file uses "
                   f"float16), where it rounds to 0 and guards nothing: float16's smallest subnormal is 6e-08; "
                   f"use a larger epsilon (1e-4 to 1e-6) or torch.finfo(dtype).eps")


def _constant(value: Value) -> Value:
    if value.kind == PARAM and isinstance(value.ref, Value):
        return value.ref
    return value


def _tiny(value: Value) -> bool:
    constant = _constant(value)
    return constant.is_numeric_const and 0 < float(constant.const) < FLOAT16_TINY


def _addends(value: Value | None):
    """The terms of a sum (through nested additions)."""
    if value is None:
        return
    stack = [value]
    while stack:
        current = stack.pop()
        if current.kind == OP and current.op == "add":
            stack.extend(v for k, v in current.args.items() if k in ("input", "other"))
        elif current.kind in (CONST, PARAM):
            yield current
