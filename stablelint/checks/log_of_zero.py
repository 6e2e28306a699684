"""SL111: log of a value that the facts say can be exactly zero.

The fix floors the argument where the log reads it, so it is always local, whatever the value
came through: ``torch.log(torch.clamp(p, min=1e-7))``, ``p.clamp(min=1e-7).log()``,
``tf.math.log(tf.maximum(p, 1e-7))``, ``np.log(np.maximum(p, 1e-12))``, ``math.log(max(n, 1e-12))``.
The floor is 1e-7 for float32 frameworks (Keras's epsilon: log(1e-7) is about -16, far from
-inf, and the largest gradient 1/x is 1e7), 1e-12 for NumPy and Python floats (float64), and
1e-6 in files that compute in float16, where 1e-7 is a subnormal that some hardware flushes to 0.
The log of an elementwise 0/1 mask gets no fix: its -inf is an additive mask, which a floor breaks.
"""

from __future__ import annotations

import ast

from . import Checker, Report
from .logexp_support import (
    callee, framework_of, insertion, is_in_place, operand_short, receiver_end, replace_fix,
)
from .support import is_where_guarded, mark_where_guarded
from ..dataflow import Context
from ..diagnostic import Fix
from ..render import Renderer
from ..values import OP, Value

LOG_OPS = ("log", "log2", "log10")
# A log whose result is immediately clamped from below is deliberate: the
# -inf is turned into a finite floor (e.g. masking with log(mask)).
FLOOR_OPS = ("clamp", "clamp_min", "maximum", "max")
# Non-decreasing ops that keep -inf at -inf, so a floor after them still removes it:
# maximum(shift, log2(v).ceil().max()) is as safe as maximum(shift, log2(v)).
MONOTONE_OPS = ("ceil", "floor", "round", "max", "amax", "min", "amin", "sum", "mean")


# The facts' word for an elementwise 0/1 mask (stablelint/transfer.py): its log is 0 or -inf on
# purpose, an additive mask, and a floor of 1e-7 would turn the -inf into -16, which does not mask.
MASK = "a 0/1 mask"

# where(p > 0, p * log(p), 0): the -inf never reaches the result (SL601 covers the gradient).
WHERE_OPERANDS = {op: "input" for op in LOG_OPS}


class Check(Checker):
    ops = (*LOG_OPS, *FLOOR_OPS, "where")

    def check(self, value: Value, context: Context, report: Report) -> None:
        if value.op in FLOOR_OPS:
            self._note_floor(value, context)
            return
        if value.op == "where":
            mark_where_guarded(self, value, context, WHERE_OPERANDS)
            return
        argument = value.args.get("input")
        if argument is None or not argument.facts.may_be_zero:
            return
        pending = context.analyzer.rule_state(self, list)
        pending.append((value, argument))

    def _note_floor(self, value: Value, context: Context) -> None:
        if "min" in value.args:  # clamp(x, min=c), clamp_min(x, c)
            floored = [value.args.get("input")]
        elif value.op in ("maximum", "max") and "other" in value.args:  # maximum(x, c): either side
            floored = [value.args.get("input"), value.args.get("other")]
        elif value.op == "max" and "axis" in value.args:
            # torch.max(a, b) with a tensor b is the element-wise maximum, bound as max(input, dim): an
            # "axis" computed from a log is that b (a real axis never leads to a log)
            floored = [value.args.get("axis")]
        else:
            return
        marks = context.analyzer.rule_state(self, set)  # read by is_where_guarded too
        for inner in floored:
            log = _log_below(inner, context)
            if log is not None:
                marks.add(id(log))

    def finish(self, context: Context, report: Report) -> None:
        render = report.render
        for value, argument in context.analyzer.rule_state(self, list):
            if is_where_guarded(self, value, context):  # or floored: both marks share one set
                continue
            node = value.arg_nodes.get("input")
            subject = operand_short(render, value)
            why = argument.facts.zero.text if argument.facts.zero else "possibly 0"
            origin = render.origin(node, argument, render.source_of(argument))
            detail = f"{why} ({origin})" if origin else why
            fix = None
            if self.rule.fix != "none" and not (argument.facts.zero and argument.facts.zero.text == MASK):
                fix = _floor_fix(value, render, context)
            report(value.node,
                   f"{render.call(value, subject)} is -inf (NaN gradient) where '{subject}' is 0, which it can be: "
                   f"it is {detail}; clamp it first, e.g. {render.floor(subject, [value])}, or stay in log space",
                   fix=fix)


def floor_value(value: Value, context: Context) -> str:
    """The floor for SL111's fix: see the module docstring."""
    if "float16" in context.analyzer.flags:
        return "1e-6"
    spelling = value.spelling
    if spelling is not None and (spelling.framework in ("numpy", "python") or spelling.qualname.startswith("math.")):
        return "1e-12"
    return "1e-7"


def _floor_fix(value: Value, render: Renderer, context: Context) -> Fix | None:
    """log(x) -> log(clamp(x, min=eps)), written where the log reads x."""
    node = value.arg_nodes.get("input")
    call = value.node
    spelling = value.spelling
    if (node is None or not isinstance(call, ast.Call) or spelling is None
            or spelling.kind not in ("function", "method") or isinstance(node, ast.Starred) or is_in_place(value)):
        return None
    eps = floor_value(value, context)
    description = f"clamp the argument of the log at {eps}"
    if value.method:  # p.log() -> p.clamp(min=eps).log(): insert after the receiver and its parentheses
        if not (isinstance(call.func, ast.Attribute) and call.func.value is node):
            return None
        end = receiver_end(render, call.func)
        if end is None or framework_of(render, [value]) != "torch":
            return None
        return insertion(end, f".clamp(min={eps})", "unsafe", description)
    if not any(node is argument for argument in (*call.args, *(k.value for k in call.keywords))):
        return None
    text = render.segment(node)
    if spelling.qualname.startswith("math."):
        floored = f"max({text}, {eps})"  # Python floats: the builtin
        if "max" in render.module_scope.vars:
            return None  # max means something else in this file
        return replace_fix(render, node, floored, "unsafe")
    framework = framework_of(render, [value])
    op = "clamp" if framework == "torch" else "maximum"
    spelled_as = callee(render, op, [value], framework)
    if spelled_as is None:
        return None
    floored = f"{spelled_as[0]}({text}, min={eps})" if op == "clamp" else f"{spelled_as[0]}({text}, {eps})"
    return replace_fix(render, node, floored, "unsafe", spelled_as[1])


def _log_below(value: Value | None, context: Context, depth: int = 0) -> Value | None:
    """The log that ``value`` is, or that it reaches through non-decreasing steps (ceil, a max, + c, * c > 0)."""
    while value is not None and depth < 12:
        depth += 1
        if value.kind != OP:
            return None
        if value.op in LOG_OPS:
            return value
        if context.analyzer.is_passthrough(value.op) or (value.op in MONOTONE_OPS and "other" not in value.args):
            value = value.args.get("input")
            continue
        left, right = value.args.get("input"), value.args.get("other")
        if value.op in ("add", "sub", "mul", "div", "true_divide") and left is not None and right is not None:
            positive = value.op in ("add", "sub") or right.facts.range.lo > 0
            if right.is_numeric_const and positive:
                value = left
                continue
            if value.op in ("add", "mul") and left.is_numeric_const and (value.op == "add" or left.const > 0):
                value = right
                continue
        return None
    return None
