"""What the loss-input rules (SL301 softmax into CE, SL302 sigmoid into BCE, SL304 NLL on probabilities) share.

Each of them looks at what a loss is fed: the op behind the loss's
prediction argument, seen through variables, the file's own functions and
models, layers and shape-only ops; for Keras also the last activation of a
model handed to ``compile(loss=...)``.  ``LossInputCheck`` does the walking
and the reporting (at the loss call; for a Keras loss object at its
construction, for ``compile`` at the ``loss=`` argument); a subclass says
which losses, which activation, and words the message.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

from ..dataflow import Context
from ..render import Renderer
from ..values import CONST, INSTANCE, LAYER, OP, RESULT, SYMBOL, Value
from . import Checker, Report

# Keras losses: applied as objects, they are reported where the object is built.
KERAS_LOSS_OPS = frozenset({
    "categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy",
    "binary_focal_crossentropy", "categorical_focal_crossentropy",
})
# Layers that only reshape or regularise: the activation before them is the model's last.
SHAPE_ONLY_LAYERS = frozenset({"dropout", "identity", "flatten"})
# Keras activation strings that are exactly these ops (hard_sigmoid is not a sigmoid).
ACTIVATION_NAMES = {"softmax": "softmax", "sigmoid": "sigmoid"}
MODEL_CALL_METHODS = ("call", "forward", "__call__")
CLAMPS = ("clamp", "clamp_min", "clamp_max")


def producer(value: Value | None, context: Context, limit: int = 64) -> Value | None:
    """The value behind ``value``: through calls of the file's functions, shape-only ops and clamps.

    A clamped probability (``sigmoid(x).clamp(eps, 1 - eps)``) is still a probability: the clamp
    hides the saturation from the loss, it does not give the logits back.
    """
    steps = 0
    while value is not None and steps < limit:
        steps += 1
        if value.kind == RESULT and value.via is not None:
            value = value.via
        elif value.kind == OP and (context.analyzer.is_passthrough(value.op) or value.op in CLAMPS) \
                and "input" in value.args:
            value = value.args["input"]
        else:
            return value
    return value


def activation_of(value: Value | None, context: Context, ops: tuple[str, ...] = ("softmax", "sigmoid"),
                  ) -> Value | None:
    """The softmax/sigmoid op whose output ``value`` is, or None."""
    found = producer(value, context)
    if found is not None and found.kind == OP and found.op in ops:
        return found
    return None


def flag(value: Value, name: str) -> bool | None:
    """A boolean keyword of a loss (``from_logits``): False when absent, None when not a literal."""
    arg = value.args.get(name)
    if arg is None:
        return False
    if arg.kind == CONST and isinstance(arg.const, (bool, int)):
        return bool(arg.const)
    return None


def applied_object(value: Value) -> bool:
    """The loss value comes from applying a loss object (``criterion(out, y)``), not a function."""
    return value.spelling is None and isinstance(value.node, ast.Call)


# -- the last activation of a model ----------------------------------------------------


@dataclass(frozen=True)
class Activation:
    op: str  # "softmax" | "sigmoid"
    node: ast.AST  # what to cite: the layer, or the op inside the model's call


def last_activation(model: Value | None, context: Context, depth: int = 0) -> Activation | None:
    """The activation a Keras/torch model applies last, if the file shows it."""
    if model is None or depth > 8:
        return None
    if model.kind == RESULT and model.via is not None:
        return last_activation(model.via, context, depth + 1)
    if model.kind == INSTANCE:
        return _instance_activation(model, context)
    if model.kind != LAYER:
        return None
    if model.op == "sequential":
        for item in reversed(model.items or ()):
            if item.kind == LAYER and item.op in SHAPE_ONLY_LAYERS:
                continue
            return last_activation(item, context, depth + 1)
        return None
    if model.op == "functional_model":
        return _applied(activation_of(model.args.get("outputs"), context))
    if model.op in ("softmax", "sigmoid"):
        return _activation(model.op, model.node)
    spec = model.args.get("activation")
    if spec is None and model.op == "activation_layer":
        spec = model.args.get("_0")
    return _activation(activation_name(spec), model.node)


def _activation(op: str | None, node: ast.AST | None) -> Activation | None:
    return Activation(op, node) if op is not None and node is not None else None


def _applied(act: Value | None) -> Activation | None:
    return _activation(act.op, act.node) if act is not None else None


def activation_name(spec: Value | None) -> str | None:
    if spec is None:
        return None
    if spec.kind == CONST and isinstance(spec.const, str):
        return ACTIVATION_NAMES.get(spec.const.lower())
    if spec.kind == SYMBOL and spec.spelling is not None and spec.spelling.kind == "function":
        return spec.spelling.op if spec.spelling.op in ACTIVATION_NAMES else None
    return None


def _instance_activation(model: Value, context: Context) -> Activation | None:
    cls = model.ref
    for name in MODEL_CALL_METHODS:
        method = cls.find_method(name)
        if method is None:
            continue
        if method.state != 2 or method.summary is None:
            return None
        return _applied(activation_of(method.summary, context))
    return None


# -- where a Keras loss object was built -------------------------------------------------


def construction_site(value: Value, module: ast.Module, render: Renderer, table) -> ast.Call | None:
    """The call that built the loss object applied in ``value`` (``loss_fn = BCELoss()``), if unique."""
    node = value.node
    if not isinstance(node, ast.Call):
        return None
    if isinstance(node.func, ast.Call):
        return node.func  # built and applied at once: BinaryCrossentropy()(y, p)
    if not isinstance(node.func, (ast.Name, ast.Attribute)):
        return None
    target = render.segment(node.func)
    classes = {s.attr for s in table.by_op.get(value.op or "", ()) if s.kind == "class"}
    found: list[ast.Call] = []
    for assigned, built in _assignments(module.body):
        if not isinstance(built, ast.Call) or render.segment(assigned) != target:
            continue
        func = built.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name in classes:
            found.append(built)
    return found[0] if len(found) == 1 else None


def _assignments(body: list[ast.stmt]) -> Iterator[tuple[ast.expr, ast.expr]]:
    """(target, value) of every assignment, descending into compound statements and definitions."""
    stack = list(body)
    while stack:
        stmt = stack.pop()
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                yield target, stmt.value
            continue
        if isinstance(stmt, ast.AnnAssign):
            if stmt.value is not None:
                yield stmt.target, stmt.value
            continue
        for name in ("body", "orelse", "finalbody"):
            inner = getattr(stmt, name, None)
            if isinstance(inner, list):
                stack.extend(inner)
        for handler in getattr(stmt, "handlers", ()):
            stack.extend(handler.body)


# -- spelling --------------------------------------------------------------------------


def spelled(render: Renderer, qualname: str) -> str:
    """``qualname`` as the file can write it: ``F.cross_entropy``, ``tf.nn.log_softmax``, ``optax.x``."""
    for name, bound in render.module_scope.vars.items():
        if bound.kind == SYMBOL and bound.qualname and render.table.normalize(bound.qualname) == qualname:
            return name
    owner, _, attr = qualname.rpartition(".")
    alias = render._alias_for(owner)
    if alias is not None:
        return f"{alias}.{attr}" if alias else attr
    if qualname.startswith("keras."):  # tf.keras in a file that imports only tensorflow
        tf = render._alias_for("tensorflow")
        if tf:
            return f"{tf}.{qualname}"
    return qualname


def sibling(render: Renderer, call: ast.AST | None, attr: str, fallback: str) -> str:
    """``attr`` from the module the call ``call`` spells its function with (``nn.BCELoss`` -> ``nn.X``)."""
    if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute):
        return f"{render.text(call.func.value, 60)}.{attr}"
    return spelled(render, fallback)


def origin_phrase(render: Renderer, arg_node: ast.AST | None, arg_value: Value | None, act: Value) -> str:
    """`` ('p' is the output of F.softmax(...) on line 3)``, or a note on the model that applies it."""
    clamped = False
    while arg_value is not None and arg_value.kind == OP and arg_value.op in CLAMPS and "input" in arg_value.arg_nodes:
        arg_node, arg_value, clamped = arg_value.arg_nodes["input"], arg_value.args.get("input"), True
    note = render.origin(arg_node, arg_value, act) if arg_node is not None and arg_value is not None else ""
    if act.spelling is None and act.node is not None:  # applied by a layer: nn.Sigmoid(), Dense(activation=...)
        note = f"{note}, which applies a {act.op}" if note else f"{render.text(act.node, 30)} ends in a {act.op}"
    if note and clamped:
        note += ", clamped"
    return f" ({note})" if note else ""


# -- the shared checker ----------------------------------------------------------------


class LossInputCheck(Checker):
    """A loss whose prediction argument is the output of the wrong activation."""

    loss_ops: tuple[str, ...] = ()
    activation: str = ""
    uses_compile = False  # also look at Keras compile(loss=...) on a model ending in the activation

    def __init__(self, rule, table):
        super().__init__(rule, table)
        self.ops = (*self.loss_ops, "@method:compile") if self.uses_compile else self.loss_ops

    def check(self, value: Value, context: Context, report: Report) -> None:
        if value.op == "@method:compile":
            context.analyzer.rule_state(self, list).append(value)
            return
        if not self.applies(value):
            return
        act = activation_of(value.args.get("input"), context, (self.activation,))
        if act is None:
            return
        site = construction_site(value, context.analyzer.module, report.render, self.table) \
            if applied_object(value) else None
        node = site if site is not None and value.op in KERAS_LOSS_OPS else value.node
        if node is not None:
            report(node, self.message(value, act, site, report.render))

    def finish(self, context: Context, report: Report) -> None:
        for value in context.analyzer.rule_state(self, list):
            loss = value.args.get("loss", value.args.get("_1"))
            if loss is None or not self.compile_loss_applies(loss):
                continue
            act = last_activation(value.args.get("self"), context)
            if act is None or act.op != self.activation:
                continue
            node = loss.node if loss.kind == LAYER and loss.node is not None else value.arg_nodes.get(
                "loss", value.arg_nodes.get("_1"))
            if node is not None:
                report(node, self.compile_message(value, loss, act, report.render))

    # -- for subclasses ----------------------------------------------------------------

    def applies(self, value: Value) -> bool:
        """This loss value, as written (its arguments and flags), is one the rule is about."""
        return True

    def compile_loss_applies(self, loss: Value) -> bool:
        return False

    def message(self, value: Value, act: Value, site: ast.Call | None, render: Renderer) -> str:
        raise NotImplementedError

    def compile_message(self, value: Value, loss: Value, act: Activation, render: Renderer) -> str:
        raise NotImplementedError


def loss_call_text(value: Value, site: ast.Call | None, render: Renderer) -> str:
    """``F.cross_entropy(preds, ...)``, or ``criterion(out, ...) (nn.BCELoss)`` for a loss object."""
    inner = render.short(value.arg_nodes.get("input"), value.args.get("input"), 24)
    node = value.node
    callee = render.callee(value)
    if not value.method and isinstance(node, ast.Call) and not isinstance(node.func, ast.Call):
        callee = render.text(node.func, 60)
    text = f"{callee}({inner}, ...)"
    if site is not None and site is not value.node and not (
            isinstance(value.node, ast.Call) and value.node.func is site):
        text += f" ({render.text(site.func, 40)})"
    return text


def line_of(value: Value, render: Renderer) -> str:
    """The line of ``value``'s syntax, for a message ('?' when it has none)."""
    return render.line(value.node) if value.node is not None else "?"


def compile_loss_text(loss: Value, render: Renderer) -> str:
    return f"loss={render.text(loss.node, 60)}"


def model_layer_text(act: Activation, render: Renderer) -> str:
    return f"{render.text(act.node, 50)} on line {render.line(act.node)}"


def framework_of_loss(value: Value) -> str:
    """'keras', 'torch', 'tensorflow', 'jax' for a loss value, from its spelling or its op."""
    spelling = value.spelling
    if spelling is not None:
        return "keras" if spelling.framework == "tensorflow" else spelling.framework
    return "keras" if (value.op or "") in KERAS_LOSS_OPS else "torch"
