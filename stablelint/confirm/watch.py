"""Watching the flagged expression itself while the probe runs the function.

The probe imports the module from a copy of its source in which the finding's expression
``EXPR`` reads ``__stablelint_seen__(EXPR)`` (compiled under the module's own path, so
``__file__`` and tracebacks are unchanged). ``Seen`` returns the value untouched and notes
whether it held a NaN or Inf: a witness can then say that the flagged expression itself
went non-finite, not just something in the function.
"""

from __future__ import annotations

import ast
from typing import Any

NAME = "__stablelint_seen__"


class Seen:
    def __init__(self) -> None:
        self.backend = None  # set once the backend exists; None: not watching
        self.reset()

    def reset(self) -> None:
        self.found: str | None = None  # 'NaN', 'inf' or '-inf' seen at the expression since the last reset
        self.read = False  # whether a value of the expression was read since then (a traced one cannot be)

    def __call__(self, value: Any) -> Any:
        if self.backend is not None and self.found is None:
            try:
                self.found = self.backend.non_finite(value)
                self.read = True
            except Exception:  # noqa: BLE001 - a traced value (jax.grad, tf.function) cannot be read: not seen
                pass
        return value

    def elsewhere(self, where: str) -> bool:
        """Whether a non-finite ``where`` ('output', 'gradient of x', ...) came from elsewhere in the function:
        the output went non-finite while the expression was read and stayed finite. (A gradient or an
        intermediate cannot be traced back to the expression this way, so they never count as elsewhere.)"""
        return self.backend is not None and where == "output" and self.read and self.found is None


def instrument(text: str, start: tuple[int, int], end: tuple[int, int]) -> str | None:
    """``text`` with the expression between two 1-based (line, column) positions wrapped in the watch (an
    in-place update ``a /= b`` is followed by a look at ``a``), or None when that span is neither (a keyword
    argument, another statement) or the result does not parse."""
    lines = text.splitlines(keepends=True)
    try:
        first = sum(len(line) for line in lines[:start[0] - 1]) + start[1] - 1
        last = sum(len(line) for line in lines[:end[0] - 1]) + end[1] - 1
    except (IndexError, TypeError):
        return None
    span = text[first:last]
    if not span.strip() or first < 0 or last > len(text):
        return None
    try:
        ast.parse(f"({span})", mode="eval")
        wrapped = f"{text[:first]}{NAME}({span}){text[last:]}"
    except SyntaxError:
        wrapped = _after_update(text, first, last, span)
    if wrapped is None:
        return None
    try:
        ast.parse(wrapped)
    except SyntaxError:
        return None
    return wrapped


def _after_update(text: str, first: int, last: int, span: str) -> str | None:
    """For an in-place update of a name (``a /= a.sum()``), the statement followed by a look at the name's new
    value, on the same line (so line numbers stay); None for anything else."""
    try:
        body = ast.parse(span).body
    except SyntaxError:
        return None
    if len(body) != 1 or not isinstance(body[0], ast.AugAssign) or not isinstance(body[0].target, ast.Name):
        return None
    return f"{text[:first]}{span}; {NAME}({body[0].target.id}){text[last:]}"
