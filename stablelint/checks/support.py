"""Helpers several checkers share: which framework computes a value, whether gradients flow."""

from __future__ import annotations

from typing import Iterator

from ..dataflow import Context
from ..transfer import same_source
from ..values import OP, RESULT, Value

NO_GRADIENT_FRAMEWORKS = ("numpy", "python")
GRADIENT_FRAMEWORKS = ("torch", "tensorflow", "jax")


def array_framework(value: Value, limit: int = 12) -> str:
    """The framework of the nearest op that computed ``value`` ('' when none is known)."""
    queue = [value]
    seen = 0
    while queue and seen < limit:
        current = queue.pop(0)
        seen += 1
        while current.kind == RESULT and current.via is not None:
            current = current.via
        if current.kind != OP:
            queue.extend(current.items or ())  # the alternatives of a value joined after a branch
            continue
        if current.spelling is not None and current.spelling.framework:
            return current.spelling.framework
        queue.extend(current.args.values())
    return ""


def gradient_flows(value: Value, context: Context, *, op_value: Value | None = None) -> bool:
    """Whether autodiff can run through ``value`` here.

    Needs a tensor framework and code that is not under no_grad.  A method of a plain class
    (a feature extractor, a scheduler, a metric) in a file with no sign of training (a model, an
    optimizer, a loss, autodiff calls) never sees a gradient either.
    """
    if context.no_grad:
        return False
    function = context.function
    if (function is not None and function.cls is not None and not function.cls.is_framework_module
            and "autodiff" not in context.analyzer.flags):
        return False
    framework = array_framework(op_value or value)
    if framework in NO_GRADIENT_FRAMEWORKS:
        return False
    if framework in GRADIENT_FRAMEWORKS:
        return True
    return any(f in context.analyzer.frameworks for f in GRADIENT_FRAMEWORKS)


def strip(value: Value, ops: tuple[str, ...], limit: int = 64) -> Value:
    """Follow ``value`` through the given value-preserving ops and function results."""
    for value in made_from(value, ops, limit):
        pass
    return value


def made_from(value: Value, ops: tuple[str, ...], limit: int = 64) -> Iterator[Value]:
    """``value``, then what it was made from through the value-preserving ``ops`` and function
    results, step by step (at most ``limit`` values)."""
    for _ in range(limit):
        yield value
        if value.kind == RESULT and value.via is not None:
            value = value.via
        elif value.kind == OP and value.op in ops and "input" in value.args:
            value = value.args["input"]
        else:
            return


COMPARISONS = ("gt", "ge", "lt", "le", "ne")


def compared_values(condition: Value | None) -> list[tuple[Value, object]]:
    """The non-constant side of a comparison with a constant (``p > 0``, ``0 < p``, ``d != 0``)."""
    if condition is None or condition.kind != OP or condition.op not in COMPARISONS:
        return []
    left, right = condition.args.get("input"), condition.args.get("other")
    if left is None or right is None:
        return []
    if right.is_numeric_const and not left.is_numeric_const:
        return [(left, condition.arg_nodes.get("input"))]
    if left.is_numeric_const and not right.is_numeric_const:
        return [(right, condition.arg_nodes.get("other"))]
    return []


def ops_within(value: Value, through: tuple[str, ...], limit: int = 16) -> Iterator[Value]:
    """Op values reachable from ``value`` through the ``through`` ops (a where() branch's body)."""
    stack, seen = [value], 0
    while stack and seen < limit:
        current = stack.pop()
        seen += 1
        if current.kind != OP:
            continue
        yield current
        if current.op in through:
            stack.extend(current.args.values())


def guarded_by(operand: Value, node: object, guarded: list[tuple[Value, object]]) -> bool:
    return any(same_source(operand, value, node, where) for value, where in guarded)


# Ops a where() branch is built from, between the where and the op it protects.
BRANCH_OPS = ("add", "sub", "mul", "div", "true_divide", "neg", "getitem", "sum", "mean", "float")


def mark_where_guarded(owner: object, where: Value, context: Context, operands: dict[str, str]) -> None:
    """Remember the ops inside ``where(cond, ...)`` whose operand the condition excludes.

    ``operands`` maps an op to the argument that matters (``{"log": "input", "div": "other"}``):
    in ``where(d > 0, x / d, 0)`` the division's value never reaches the result where d is 0.
    Marks are kept per file under ``owner``; ``is_where_guarded`` reads them.
    """
    guarded = compared_values(where.args.get("condition"))
    if not guarded:
        return
    marks = context.analyzer.rule_state(owner, set)
    for branch in (where.args.get("input"), where.args.get("other")):
        for inner in ops_within(branch, BRANCH_OPS) if branch is not None else ():
            name = operands.get(inner.op or "")
            operand = inner.args.get(name) if name else None
            if operand is not None and guarded_by(operand, inner.arg_nodes.get(name), guarded):
                marks.add(id(inner))


def is_where_guarded(owner: object, value: Value, context: Context) -> bool:
    return id(value) in context.analyzer.rule_state(owner, set)
