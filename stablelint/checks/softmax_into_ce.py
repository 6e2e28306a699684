"""SL301: a softmax output passed to a loss that applies softmax itself (it expects logits)."""

from __future__ import annotations

import ast

from ..dataflow import Context
from ..diagnostic import Fix
from ..render import Renderer
from ..values import LAYER, Value
from .losses import (
    Activation,
    LossInputCheck,
    activation_edits,
    compile_loss_text,
    dropped,
    flag,
    line_of,
    loss_call_text,
    model_layer_text,
    origin_phrase,
)

# Losses that always take logits.
LOGIT_LOSSES = ("cross_entropy", "softmax_cross_entropy_with_logits", "sparse_softmax_cross_entropy_with_logits")
# Keras losses that take logits when from_logits=True.
FROM_LOGITS_LOSSES = ("categorical_crossentropy", "sparse_categorical_crossentropy",
                      "categorical_focal_crossentropy")


class Check(LossInputCheck):
    loss_ops = (*LOGIT_LOSSES, *FROM_LOGITS_LOSSES)
    activation = "softmax"
    uses_compile = True

    def applies(self, value: Value) -> bool:
        return value.op in LOGIT_LOSSES or flag(value, "from_logits") is True

    def compile_loss_applies(self, loss: Value) -> bool:
        return loss.kind == LAYER and loss.op in FROM_LOGITS_LOSSES and flag(loss, "from_logits") is True

    def message(self, value: Value, act: Value, site: ast.Call | None, render: Renderer) -> str:
        found = loss_call_text(value, site, render)
        if site is not None and site is not value.node and value.op in FROM_LOGITS_LOSSES:
            found = f"{render.text(site, 60)}, applied on line {line_of(value, render)},"
        origin = origin_phrase(render, value.arg_nodes.get("input"), value.args.get("input"), act)
        return (f"{found} expects logits but gets a softmax output{origin}: softmax is applied twice, which "
                f"squashes the probabilities toward uniform and flattens the gradients; pass the logits "
                f"(drop the softmax)")

    def compile_message(self, value: Value, loss: Value, act: Activation, render: Renderer) -> str:
        return (f"{compile_loss_text(loss, render)} expects logits, but the model's last layer already applies "
                f"softmax ({model_layer_text(act, render)}): softmax is applied twice, which flattens the "
                f"gradients; drop the softmax from the last layer (or use from_logits=False)")

    def fix(self, value: Value, act: Value, context: Context, render: Renderer) -> Fix | None:
        replacement = dropped(act, render)
        edits = activation_edits(value, act, context, render, replacement) if replacement is not None else None
        if edits is None:
            return None
        return Fix(edits, "unsafe", f"drop the softmax: pass {render.text(act.arg_nodes['input'], 30)}")
