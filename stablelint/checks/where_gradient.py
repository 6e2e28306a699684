"""SL601: where(cond, f(x), other) with f unsafe exactly where cond excludes: NaN gradients."""

from __future__ import annotations

from . import Checker, Report
from .support import gradient_flows
from ..dataflow import Context
from ..transfer import same_source
from ..values import OP, Value

COMPARISONS = ("gt", "ge", "lt", "le", "ne")
UNSAFE = {"log": "input", "log2": "input", "log10": "input", "sqrt": "input", "rsqrt": "input",
          "reciprocal": "input", "acos": "input", "asin": "input", "div": "other", "true_divide": "other",
          "pow": "input"}
THROUGH = ("add", "sub", "mul", "div", "true_divide", "neg", "getitem", "float", "sum", "mean")


class Check(Checker):
    ops = ("where",)

    def check(self, value: Value, context: Context, report: Report) -> None:
        condition = value.args.get("condition")
        if condition is None or condition.kind != OP or condition.op not in COMPARISONS:
            return
        guarded = _compared_values(condition)
        if not guarded or not gradient_flows(value, context, op_value=value):
            return
        for branch_name in ("input", "other"):
            branch = value.args.get(branch_name)
            if branch is None:
                continue
            unsafe = _unsafe_use(branch, guarded)
            if unsafe is not None:
                self._report(value, unsafe, report)
                return

    def _report(self, where: Value, unsafe: tuple[Value, Value], report: Report) -> None:
        op_value, operand = unsafe
        render = report.render
        operand_text = render.short(op_value.arg_nodes.get(UNSAFE[op_value.op]), operand)
        unsafe_text = render.call(op_value, operand_text) if op_value.spelling is not None else render.text(
            op_value.node, 40)
        where_name = render.callee(where)
        report(where.node,
               f"{where_name}(...) hides the value of {unsafe_text} where '{operand_text}' is excluded, but not "
               f"its gradient: both branches are differentiated, and inf * 0 is NaN; make the input safe inside "
               f"the branch too (double where): {where_name}(cond, {operand_text}, 1.0) before "
               f"{render.callee(op_value)}")


def _compared_values(condition: Value) -> list[tuple[Value, object]]:
    """The non-constant side(s) of a comparison with a constant (``p > 0``, ``0 < p``, ``d != 0``)."""
    left, right = condition.args.get("input"), condition.args.get("other")
    if left is None or right is None:
        return []
    if right.is_numeric_const and not left.is_numeric_const:
        return [(left, condition.arg_nodes.get("input"))]
    if left.is_numeric_const and not right.is_numeric_const:
        return [(right, condition.arg_nodes.get("other"))]
    return []


def _unsafe_use(branch: Value, guarded: list[tuple[Value, object]], limit: int = 16) -> tuple[Value, Value] | None:
    """An unsafe op inside ``branch`` applied to a value the condition guards, left unguarded."""
    stack, seen = [branch], 0
    while stack and seen < limit:
        current = stack.pop()
        seen += 1
        if current.kind != OP:
            continue
        name = UNSAFE.get(current.op or "")
        if name is not None:
            operand = current.args.get(name)
            if current.op == "pow":
                exponent = current.args.get("exponent")
                if exponent is None or not exponent.is_numeric_const or float(exponent.const) >= 1:
                    operand = None
            if operand is not None and not operand.facts.range.excludes_zero():
                node = current.arg_nodes.get(name)
                if any(same_source(operand, value, node, where) for value, where in guarded):
                    return current, operand
        if current.op in THROUGH or current.op in UNSAFE:
            stack.extend(current.args.values())
    return None
