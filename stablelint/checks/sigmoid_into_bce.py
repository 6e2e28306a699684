"""SL302: a binary cross-entropy computed from a sigmoid output instead of from the logits."""

from __future__ import annotations

import ast

from ..dataflow import Context
from ..diagnostic import Edit, Fix
from ..render import Renderer
from ..values import CONST, LAYER, SYMBOL, Value
from .losses import (
    Activation,
    LossInputCheck,
    activation_edits,
    applied_object,
    bound_argument,
    built_loss,
    compile_loss_text,
    dropped,
    flag,
    framework_of_loss,
    line_of,
    loss_call_text,
    model_layer_text,
    origin_phrase,
    keyword_edit,
    renamed,
    sibling,
    single_use_object,
    spelled,
)

PROBABILITY_LOSSES = ("binary_cross_entropy", "binary_crossentropy", "binary_focal_crossentropy")
# compile(loss="...") names Keras resolves to a probability-based binary cross-entropy
COMPILE_NAMES = frozenset({"binary_crossentropy", "BinaryCrossentropy", "binary_focal_crossentropy",
                           "BinaryFocalCrossentropy"})
# The torch with-logits loss for each probability loss, spelled as its last name.
WITH_LOGITS = {"binary_cross_entropy": "binary_cross_entropy_with_logits", "BCELoss": "BCEWithLogitsLoss"}
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

    def fix(self, value: Value, act: Value, context: Context, render: Renderer) -> Fix | None:
        """Drop the sigmoid and compute the loss from the logits: the with-logits loss (torch) or
        from_logits=True (Keras), on the loss call or on the loss object's one construction."""
        replacement = dropped(act, render)
        edits = activation_edits(value, act, context, render, replacement) if replacement is not None else None
        if edits is None:
            return None
        loss = self._loss_edit(value, context, render)
        if loss is None:
            return None
        loss_edits, imports, use = loss
        return Fix((*edits, *loss_edits), "safe", f"use {use} on the logits", imports)

    def _loss_edit(self, value: Value, context: Context, render: Renderer
                   ) -> tuple[tuple[Edit, ...], tuple[tuple[str, str | None, str | None], ...], str] | None:
        node = value.node
        if not isinstance(node, ast.Call):
            return None
        module = context.analyzer.module
        if applied_object(value):
            built = built_loss(value, module, render, self.table)
            if built is None or not single_use_object(module, render, node, built[0]):
                return None  # the loss object is built elsewhere, or also applied to something else
            call, spelling = built
            from_logits = bound_argument(call, spelling.init_positional, spelling.init_keywords, "from_logits")
            params = (*spelling.init_positional, *spelling.init_keywords.values())
        else:
            call, spelling, from_logits = node, value.spelling, value.arg_nodes.get("from_logits")
            params = (*spelling.positional, *spelling.keywords.values()) if spelling is not None else ()
        if spelling is None:
            return None
        if framework_of_loss(value) == "keras":
            if "from_logits" not in params:
                return None  # tf.losses.log_loss has no logits form
            keyword = keyword_edit(render, call, "from_logits", "True", from_logits)
            return ((keyword,), (), "from_logits=True") if keyword is not None else None
        new = WITH_LOGITS.get(spelling.attr)
        func = call.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
        if new is None or name != spelling.attr:
            return None
        found = renamed(render, module, func, new)
        if found is None:
            return None
        rename, imports, more = found
        return (rename, *more), imports, new
