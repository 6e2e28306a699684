"""SL403: a regression loss called with a prediction and a target of different known shapes."""

from __future__ import annotations

from . import Checker, Report
from .shapes_common import column_pair, describe_pair, display, operand, squeezed, text, with_why
from ..dataflow import Context
from ..render import Renderer
from ..shapes import Shape, broadcast, shape_of
from ..values import Value

LOSSES = ("mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss")


class Check(Checker):
    ops = LOSSES

    def check(self, value: Value, context: Context, report: Report) -> None:
        prediction, target = shape_of(value.args.get("input")), shape_of(value.args.get("target"))
        if prediction is None or target is None:
            return
        render = report.render
        if column_pair(prediction, target) or column_pair(target, prediction):
            if value.spelling is None and "tensorflow" in context.analyzer.frameworks:
                return  # a Keras Loss object squeezes a trailing size-1 axis before comparing
            report(value.node, _column_message(value, prediction, target, render))
        elif _stretched(prediction, target):
            report(value.node, _stretch_message(value, prediction, target, render))


def _stretched(a: Shape, b: Shape) -> bool:
    """Same rank, and a size-1 axis of one faces a literal size above 1 in the other: (N, 1) and (N, 3)."""
    if a.rank is None or a.rank != b.rank:
        return False
    return any(1 in (x, y) and isinstance(x, int) and isinstance(y, int) and max(x, y) > 1
               for x, y in zip(a.dims, b.dims))


def _column_message(value: Value, prediction: Shape, target: Shape, render: Renderer) -> str:
    pred_is_column = column_pair(prediction, target)
    column, vector = (prediction, target) if pred_is_column else (target, prediction)
    col_shape, vec_shape, result = describe_pair(column, vector)
    pred_text, target_text = operand(render, value, "input"), operand(render, value, "target")
    shown_pred = with_why(render, prediction, col_shape if pred_is_column else vec_shape, value.arg_nodes.get("input"))
    shown_target = with_why(render, target, vec_shape if pred_is_column else col_shape, value.arg_nodes.get("target"))
    framework = value.spelling.framework if value.spelling is not None else ""
    grows = f"they broadcast to {result}" if result.startswith("(") else "broadcasting pairs the wrong axes"
    if framework == "tensorflow":
        effect = (f"in tf.keras 2.x {grows} and the loss averages every prediction against every target "
                  f"(Keras 3 squeezes the size-1 axis first)")
    else:
        effect = f"{grows} and the loss averages every prediction against every target"
    column_side = "input" if pred_is_column else "target"
    fix = squeezed(pred_text if pred_is_column else target_text, render, value, value.args.get(column_side))
    return (f"`{render.callee(value)}` gets the prediction `{pred_text}` {shown_pred} and the target "
            f"`{target_text}` {shown_target}: {effect}; give both the same shape, e.g. `{fix}`")


def _stretch_message(value: Value, prediction: Shape, target: Shape, render: Renderer) -> str:
    pred_text, target_text = operand(render, value, "input"), operand(render, value, "target")
    shown_pred = with_why(render, prediction, text(display(prediction)), value.arg_nodes.get("input"))
    shown_target = with_why(render, target, text(display(target)), value.arg_nodes.get("target"))
    result = broadcast(prediction, target)
    grown = f" to {text(display(result))}" if result is not None else ""
    return (f"`{render.callee(value)}` gets the prediction `{pred_text}` {shown_pred} and the target "
            f"`{target_text}` {shown_target}: broadcasting stretches the size-1 axis{grown} and the loss "
            f"compares values that do not belong together; give both the same shape")
