"""SL401: an element-wise op between an (N, 1) and an (N,) array, which broadcasts to (N, N)."""

from __future__ import annotations

from . import Checker, Report
from .shapes_common import (
    SYMBOLS,
    as_column,
    column_is_the_layout,
    column_pair,
    describe_pair,
    operand,
    root,
    shape_fix,
    squeezed,
    with_why,
)
from ..dataflow import Context
from ..render import Renderer
from ..shapes import BROADCAST, DATA, GRID, LAYOUT, Shape, shape_of
from ..values import Value

ELEMENTWISE = ("sub", "add", "mul", "div")


class Check(Checker):
    ops = ELEMENTWISE

    def check(self, value: Value, context: Context, report: Report) -> None:
        left, right = value.args.get("input"), value.args.get("other")
        if left is None or right is None:
            return
        left_shape, right_shape = shape_of(left), shape_of(right)
        if column_pair(left_shape, right_shape):
            column_side, vector_side = "input", "other"
        elif column_pair(right_shape, left_shape):
            column_side, vector_side = "other", "input"
        else:
            return
        column: Shape = shape_of(value.args[column_side])  # type: ignore[assignment]
        vector: Shape = shape_of(value.args[vector_side])  # type: ignore[assignment]
        if not _accidental(value, column, vector):
            return
        if root(value.args[column_side]) is root(value.args[vector_side]):
            return  # x[:, None] - x, x.reshape(-1, 1) - x: all pairwise differences, on purpose
        render = report.render
        report(value.node, _message(value, column_side, vector_side, column, vector, render),
               fix=shape_fix(render, value, column_side, vector_side, column))


def _accidental(value: Value, column: Shape, vector: Shape) -> bool:
    """Whether the (N, 1) x (N,) pairing looks like a mistake rather than an outer op."""
    if vector.rank != 1 or column.known_rank != 2:
        return False  # (C, 1, 1) against (H, W) and the like: per-channel parameters, made to broadcast
    if column.origin in (BROADCAST, DATA) or vector.origin == GRID:
        # x[:, None] - centres, np.array([[3], [11]]) * dfd, t * grid: an outer op written on purpose
        return False
    if value.op == "add" and column.origin == LAYOUT:
        return False  # sq_x.reshape(-1, 1) + sq_y: the pairwise-distance expansion
    rows = column.dims[-2] if len(column.dims) >= 2 else None
    return rows is None or vector.last is None or rows == vector.last


def _message(value: Value, column_side: str, vector_side: str, column: Shape, vector: Shape,
             render: Renderer) -> str:
    col_text, vec_text = operand(render, value, column_side), operand(render, value, vector_side)
    col_shape, vec_shape, result = describe_pair(column, vector)
    left, right = (col_text, vec_text) if column_side == "input" else (vec_text, col_text)
    expression = f"{left} {SYMBOLS[value.op or 'sub']} {right}"
    effect = f"broadcasts to {result}, pairing every element of `{col_text}` with every element of `{vec_text}`"
    if column_is_the_layout(column, value, render):
        fix = f"{as_column(vec_text, render, value)}"
    else:
        fix = squeezed(col_text, render, value, value.args.get(column_side))
    col_node, vec_node = value.arg_nodes.get(column_side), value.arg_nodes.get(vector_side)
    return (f"`{col_text}` is {with_why(render, column, col_shape, col_node)} and `{vec_text}` is "
            f"{with_why(render, vector, vec_shape, vec_node)}: `{expression}` {effect}; make the shapes match, e.g. "
            f"`{fix}`")
