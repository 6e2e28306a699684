"""SL601: where(cond, f(x), other) with f unsafe exactly where cond excludes: NaN gradients."""

from __future__ import annotations

from . import Checker, Report
from .. import fixes
from .support import compared_values, gradient_flows, guarded_by, ops_within
from ..dataflow import Context
from ..values import Value
UNSAFE = {"log": "input", "log2": "input", "log10": "input", "sqrt": "input", "rsqrt": "input",
          "reciprocal": "input", "acos": "input", "asin": "input", "div": "other", "true_divide": "other",
          "pow": "input"}
THROUGH = ("add", "sub", "mul", "div", "true_divide", "neg", "getitem", "float", "sum", "mean")


class Check(Checker):
    ops = ("where",)

    def check(self, value: Value, context: Context, report: Report) -> None:
        guarded = compared_values(value.args.get("condition"))
        if not guarded or not gradient_flows(value, context, op_value=value):
            return
        for branch_name in ("input", "other"):
            branch = value.args.get(branch_name)
            if branch is None:
                continue
            unsafe = _unsafe_use(branch, guarded)
            if unsafe is not None:
                self._report(value, unsafe, branch_name, report)
                return

    def _report(self, where: Value, unsafe: tuple[Value, Value], branch: str, report: Report) -> None:
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
               f"{render.callee(op_value)}",
               fix=_double_where(render, where, op_value, branch))


def _double_where(render, where: Value, op_value: Value, branch: str):
    """``where(c, log(x), 0)`` -> ``where(c, log(where(c, x, 1.0)), 0)``: the excluded entries get a safe input.

    Offered where the condition can be written twice (no calls) and the unsafe input sits inside the where.
    """
    condition = where.arg_nodes.get("condition")
    node = op_value.arg_nodes.get(UNSAFE[op_value.op])
    if where.method or not fixes.pure(condition) or not fixes.contains(where.node, node) or node is None:
        return None
    found = fixes.spelled(render, "where", [where])
    if found is None:
        return None
    callee, imports = found
    one = op_value.op not in ("acos", "asin")  # acos/asin are safe at 0, log/sqrt/division at 1
    if render.framework([where]) == "tensorflow":  # tf.where takes no Python scalar of another dtype
        like = fixes.spelled(render, "ones_like" if one else "zeros_like", [where])
        if like is None:
            return None
        safe = f"{like[0]}({render.segment(node)})"
    else:
        safe = "1.0" if one else "0.0"
    inner = render.segment(node)
    pair = f"{inner}, {safe}" if branch == "input" else f"{safe}, {inner}"
    text = f"{callee}({render.segment(condition)}, {pair})"
    return fixes.replace(render, node, text, "unsafe", "make the input safe where the condition excludes it",
                         imports)


def _no_gradient(op_value: Value) -> bool:
    """Every operand of the unsafe op is discrete (a count, a mask) or a constant: nothing to differentiate.

    For a division both sides matter: d(a/b)/da = 1/b is infinite at b = 0 too.
    """
    operands = [v for k, v in op_value.args.items() if k in ("input", "other")]
    return bool(operands) and all(v.facts.discrete or v.is_numeric_const for v in operands)


def _unsafe_use(branch: Value, guarded: list[tuple[Value, object]]) -> tuple[Value, Value] | None:
    """An unsafe op inside ``branch`` applied to a value the condition guards, left unguarded."""
    for current in ops_within(branch, THROUGH + tuple(UNSAFE)):
        name = UNSAFE.get(current.op or "")
        if name is None:
            continue
        operand = current.args.get(name)
        if current.op == "pow":
            exponent = current.args.get("exponent")
            if exponent is None or not exponent.is_numeric_const or float(exponent.const) >= 1:
                continue
        if operand is None or _no_gradient(current):
            continue
        if not operand.facts.range.excludes_zero() and guarded_by(
                operand, current.arg_nodes.get(name), guarded):
            return current, operand
    return None
