"""SL504: a huge negative mask value (-1e9, -inf) on scores that go into a softmax."""

from __future__ import annotations

import math

from . import Checker, Report
from ..dataflow import Context
from ..values import CONST, OP, Value

FLOAT16_MAX = 65504.0
FILL_OPS = ("masked_fill", "where")
THROUGH_OPS = ("add", "sub", "mul", "div", "getitem", "float", "to", "type", "contiguous", "view", "reshape",
               "transpose", "permute", "cast", "masked_fill", "where")


class Check(Checker):
    ops = ("softmax", "log_softmax")

    def check(self, value: Value, context: Context, report: Report) -> None:
        scores = value.args.get("input")
        if scores is None:
            return
        found = context.analyzer.rule_state(self, dict)
        for literal in _mask_constants(scores):
            found.setdefault(id(literal.node), (literal, value))

    def finish(self, context: Context, report: Report) -> None:
        float16 = "float16" in context.analyzer.flags
        render = report.render
        for literal, softmax in context.analyzer.rule_state(self, dict).values():
            text = render.text(literal.node, 24)
            where = render.line(softmax.node)
            if literal.kind == OP or math.isinf(float(literal.const)):
                report(literal.node,
                       f"masking with {text} before the softmax on line {where} gives NaN for a row that is masked "
                       f"entirely (softmax of all -inf is 0/0); use torch.finfo(scores.dtype).min")
            elif float16:
                report(literal.node,
                       f"masking with {text} before the softmax on line {where} overflows to -inf in float16 "
                       f"(this file uses float16; its largest value is 65504) and gives NaN for fully masked rows; "
                       f"use torch.finfo(scores.dtype).min")


def _mask_constants(scores: Value, limit: int = 24):
    """Large negative constants written into ``scores`` by masked_fill/where/additive masks."""
    stack, seen = [scores], 0
    while stack and seen < limit:
        current = stack.pop()
        seen += 1
        if current.kind != OP:
            continue
        if current.op in FILL_OPS:
            for name in ("value", "other", "input"):
                arg = current.args.get(name)
                if arg is not None and _huge_negative(arg):
                    yield arg
        elif current.op == "mul":  # additive mask: (1 - mask) * -1e9
            for arg in (current.args.get("input"), current.args.get("other")):
                if arg is not None and _huge_negative(arg):
                    yield arg
        if current.op in THROUGH_OPS:
            stack.extend(current.args.values())


def _huge_negative(value: Value) -> bool:
    if value.kind == CONST and value.is_numeric_const:
        return float(value.const) <= -FLOAT16_MAX
    if value.kind == OP and value.op == "neg":
        inner = value.args.get("input")
        return inner is not None and inner.kind == OP and inner.op == "inf"
    return False
