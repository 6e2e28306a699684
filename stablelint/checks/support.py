"""Helpers several checkers share: which framework computes a value, whether gradients flow."""

from __future__ import annotations

from ..dataflow import Context
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
            continue
        if current.spelling is not None and current.spelling.framework:
            return current.spelling.framework
        queue.extend(current.args.values())
    return ""


def gradient_flows(value: Value, context: Context, *, op_value: Value | None = None) -> bool:
    """Whether autodiff can run through ``value`` here: a tensor framework, not under no_grad."""
    if context.no_grad:
        return False
    framework = array_framework(op_value or value)
    if framework in NO_GRADIENT_FRAMEWORKS:
        return False
    if framework in GRADIENT_FRAMEWORKS:
        return True
    return any(f in context.analyzer.frameworks for f in GRADIENT_FRAMEWORKS)


def strip(value: Value, ops: tuple[str, ...]) -> Value:
    """Follow ``value`` through the given value-preserving ops and function results."""
    while True:
        if value.kind == RESULT and value.via is not None:
            value = value.via
        elif value.kind == OP and value.op in ops and "input" in value.args:
            value = value.args["input"]
        else:
            return value
