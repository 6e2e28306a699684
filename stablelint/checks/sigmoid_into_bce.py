"""SL302: a binary cross-entropy computed from a sigmoid output instead of from the logits."""

from __future__ import annotations

import ast

from ..render import Renderer
from ..values import CONST, LAYER, SYMBOL, Value
from .losses import (
    Activation,
    LossInputCheck,
    compile_loss_text,
    flag,
    framework_of_loss,
    line_of,
    loss_call_text,
    model_layer_text,
    origin_phrase,
    sibling,
    spelled,
)

PROBABILITY_LOSSES = ("binary_cross_entropy", "binary_crossentropy", "binary_focal_crossentropy")
# compile(loss="...") names Keras resolves to a probability-based binary cross-entropy
COMPILE_NAMES = frozenset({"binary_crossentropy", "BinaryCrossentropy", "binary_focal_crossentropy",
                           "BinaryFocalCrossentropy"})
KERAS_CLASS = {"binary_crossentropy": "BinaryCrossentropy", "binary_focal_crossentropy": "BinaryFocalCrossentropy"}


class Check(LossInputCheck):
    loss_ops = PROBABILITY_LOSSES
    activation = "sigmoid"
    uses_compile = True

    def applies(self, value: Value) -> bool:
        spelling = value.spelling
        if spelling is not None and spelling.qualname.startswith("optax."):
            return False  # optax.sigmoid_focal_loss takes logits
        return flag(value, "from_logits") is False

    def compile_loss_applies(self, loss: Value) -> bool:
        if loss.kind == CONST:
            return isinstance(loss.const, str) and loss.const in COMPILE_NAMES
        if loss.kind == LAYER and loss.op in KERAS_CLASS:
            return flag(loss, "from_logits") is False
        return loss.kind == SYMBOL and loss.spelling is not None and loss.spelling.op in KERAS_CLASS \
            and loss.spelling.kind == "function"

    def message(self, value: Value, act: Value, site: ast.Call | None, render: Renderer) -> str:
        framework = framework_of_loss(value)
        origin = origin_phrase(render, value.arg_nodes.get("input"), value.args.get("input"), act)
        if framework == "keras":
            if site is not None and site is not value.node:
                found = f"{render.text(site, 60)}, applied on line {line_of(value, render)},"
            else:
                found = loss_call_text(value, None, render)
            return (f"{found} computes the loss from a sigmoid output{origin}: Keras clips the probability to "
                    f"[1e-7, 1 - 1e-7], so the loss saturates and the gradient vanishes for confident mistakes; "
                    f"drop the sigmoid and pass from_logits=True")
        found = loss_call_text(value, site, render)
        if site is not None:
            use = sibling(render, site, "BCEWithLogitsLoss", "torch.nn.BCEWithLogitsLoss") + "()"
        elif isinstance(value.node, ast.Call) and value.spelling is not None:
            use = sibling(render, value.node, "binary_cross_entropy_with_logits",
                          "torch.nn.functional.binary_cross_entropy_with_logits") + "(...)"
        else:
            use = spelled(render, "torch.nn.functional.binary_cross_entropy_with_logits") + "(...)"
        return (f"{found} computes the loss from a sigmoid output{origin}: the probability rounds to 0 or 1 "
                f"where the sigmoid saturates, the log is clamped at -100 and the gradient vanishes; use {use} "
                f"on the logits (drop the sigmoid), which is exact for any logit")

    def compile_message(self, value: Value, loss: Value, act: Activation, render: Renderer) -> str:
        name = KERAS_CLASS.get(loss.op or "", "BinaryCrossentropy") if loss.kind == LAYER else "BinaryCrossentropy"
        use = spelled(render, f"keras.losses.{name}")
        return (f"{compile_loss_text(loss, render)} on a model whose last layer applies a sigmoid "
                f"({model_layer_text(act, render)}): the loss is computed from probabilities clipped to "
                f"[1e-7, 1 - 1e-7], so it saturates and the gradient vanishes for confident mistakes; drop the "
                f"sigmoid from the last layer and use loss={use}(from_logits=True)")
