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

from .. import fixes
from ..dataflow import Context
from ..diagnostic import Edit, Fix, Position
from ..render import Renderer
from ..scopes import (
    assignment_of, enclosing_scope, inside, mutated_in_place, name_use, parent_of, read_names, stable,
)
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
            report(node, self.message(value, act, site, report.render),
                   fix=self.fix(value, act, context, report.render))

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

    def fix(self, value: Value, act: Value, context: Context, render: Renderer) -> Fix | None:
        """The fix for a loss call fed ``act`` (none for ``compile``: that would edit the model)."""
        return None


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


# -- fixes: where to edit, and how ---------------------------------------------------------
#
# A loss-input fix rewrites the activation call (drops it, or swaps it for its log form) and,
# for SL302, the loss itself.  It edits only places that are unambiguous: the activation inside
# the loss call's own expression; or an assignment ``name = activation(...)`` whose name is bound
# once and read only by the loss (the variable then holds what the loss needs); or, when the
# variable is read elsewhere too, the loss's argument itself, rewritten to an expression that is
# safe to evaluate there (names bound at most once, no calls).  Anything else (a model, a
# function of the file, a value that went through a clamp or dropout) gets no fix.

# Ops between the activation and the loss that change values: the fix would move them
# to the other side of the activation.
VALUE_CHANGING = frozenset({*CLAMPS, "dropout"})


def placed(text: str, atomic: bool, parent: ast.AST | None, child: ast.AST, *, bracketed: bool = False) -> str:
    """``text`` as it must be written in place of ``child`` (parenthesised when the place needs it).

    ``bracketed``: the place is inside brackets already (a call's arguments), where lines may break.
    """
    if "\n" in text and not bracketed:
        return f"({text})"  # a line break is only allowed inside brackets
    if atomic:
        return text
    if isinstance(parent, ast.Call) and child is not parent.func and child in parent.args:
        return text
    if isinstance(parent, (ast.keyword, ast.Assign, ast.Return)) and not text.lstrip().startswith(("yield",)):
        return text
    return f"({text})"


def is_atomic(node: ast.AST | None) -> bool:
    return isinstance(node, fixes.ATOMIC) and not isinstance(node, ast.GeneratorExp)


def edit(render: Renderer, node: ast.AST, text: str) -> Edit:
    return Edit(render.source.start(node), render.source.end(node), text)


def activation_path(value: Value, act: Value, context: Context) -> list[Value] | None:
    """The values from the loss's input down to ``act``, when only layout and dtype ops lie between."""
    current = value.args.get("input")
    path: list[Value] = []
    while current is not None and len(path) < 64:
        path.append(current)
        if current is act:
            return path
        if current.kind == OP and context.analyzer.is_passthrough(current.op) and current.op not in VALUE_CHANGING \
                and "input" in current.args and current.node is not None:
            current = current.args["input"]
        else:
            return None  # a function of the file, a model, a clamp: the fix would have to edit them
    return None


@dataclass
class Replacement:
    """What the activation call becomes: its source text and whether that is atomic."""

    text: str
    atomic: bool
    source: ast.AST  # the syntax the text is made of (for the stability test)
    imports: tuple[tuple[str, str | None, str | None], ...] = ()


def activation_edits(value: Value, act: Value, context: Context, render: Renderer,
                     replacement: Replacement) -> tuple[Edit, ...] | None:
    """Edits that put ``replacement`` where the loss sees ``act``; None when no place is unambiguous."""
    path = activation_path(value, act, context)
    loss_node = value.node
    in_node = act.arg_nodes.get("input")
    if path is None or loss_node is None or not isinstance(act.node, ast.Call) or in_node is None \
            or in_node is act.node or not inside(in_node, act.node):
        return None  # an activation applied by a Sequential or a layer option has no call of its own
    module = context.analyzer.module
    if all(inside(v.node, loss_node) for v in path):  # in the loss call's own expression
        parent = parent_of(loss_node, act.node)
        text = placed(replacement.text, replacement.atomic, parent, act.node, bracketed=True)
        return (edit(render, act.node, text),)
    # through one variable: ``name = <...act...>`` ... ``loss(<...name...>)``
    split = next(i for i, v in enumerate(path) if not inside(v.node, loss_node))
    if split == 0:
        name = value.arg_nodes.get("input")
    else:
        name = path[split - 1].arg_nodes.get("input")
    if not isinstance(name, ast.Name) or not inside(name, loss_node):
        return None
    found = assignment_of(module, name)
    if found is None:
        return None
    assign, use = found
    if assign.value is not path[split].node or not all(inside(v.node, assign.value) for v in path[split:]):
        return None
    if len(use.loads) == 1 and use.loads[0] is name:
        # the variable feeds only this loss: change what it holds.  Without the activation it may
        # hold the activation's input itself, so that input must not change in place meanwhile.
        if replacement.source is not act.node \
                and mutated_in_place(enclosing_scope(module, assign), read_names(replacement.source)):
            return None
        parent = parent_of(assign, act.node)
        same_shape = replacement.source is act.node  # the call renamed: its line breaks stay valid
        text = placed(replacement.text, replacement.atomic, parent, act.node, bracketed=same_shape)
        return (edit(render, act.node, text),)
    # the variable is used elsewhere too (metrics, predictions): rewrite the loss's argument only
    if path[split] is not act or not stable(module, replacement.source, name, allow_call=_allowed(replacement, act)):
        return None
    parent = parent_of(loss_node, name)
    return (edit(render, name, placed(replacement.text, replacement.atomic, parent, name, bracketed=True)),)


def _allowed(replacement: Replacement, act: Value) -> ast.AST | None:
    return act.node if replacement.source is act.node else None


def dropped(act: Value, render: Renderer) -> Replacement | None:
    """The activation dropped: its input, as written."""
    node = act.arg_nodes.get("input")
    if node is None or isinstance(node, ast.Starred):
        return None
    spelling = act.spelling
    if spelling is not None and spelling.attr.endswith("_"):
        return None  # x.sigmoid_() also overwrites x: dropping it would change x's later uses
    extra = {name for name, arg in act.arg_nodes.items()
             if name not in ("input", "axis", "_stacklevel", "name") and not _is_none(arg)}
    if extra - {"dtype"}:
        return None  # jax.nn.softmax(x, where=mask): dropping it would let the masked entries back in
    if "dtype" in extra:
        # torch.softmax(x, dim, dtype=torch.float32) also casts: keep the cast, drop the softmax
        dtype = act.arg_nodes["dtype"]
        if not _dotted(dtype):
            return None  # a dtype variable: it might not read the same where the loss is
        return Replacement(f"{fixes.operand(render, node)}.to({render.segment(dtype)})", True, node)
    if isinstance(node, (ast.NamedExpr, ast.Lambda, ast.Yield, ast.YieldFrom, ast.GeneratorExp)):
        return Replacement(f"({render.segment(node)})", True, node)  # parenthesised wherever it goes
    return Replacement(render.segment(node), is_atomic(node), node)


def _is_none(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _dotted(node: ast.AST) -> bool:
    """``torch.float32``: an attribute of a module (a constant that reads the same anywhere)."""
    if not isinstance(node, ast.Attribute):
        return False
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name)


# -- fixes: renaming a callee, setting a keyword -------------------------------------------


def renamed(render: Renderer, module: ast.Module, func: ast.AST, new: str
            ) -> tuple[Edit, tuple[tuple[str, str | None, str | None], ...], tuple[Edit, ...]] | None:
    """An edit renaming the function or class ``func`` names (``F.softmax`` -> ``F.log_softmax``),
    the imports it needs, and any other edit it takes.

    For an attribute only its last name changes. A bare name imported with ``from m import name``
    becomes ``new`` from the same module: when this is the name's only use, the import itself is
    renamed (no unused import left behind); otherwise ``new`` is imported beside it.
    """
    if isinstance(func, ast.Attribute):
        end = render.source.end(func)
        start = Position(end.line, end.column - len(func.attr))
        if render.segment(func).endswith(func.attr):
            return Edit(start, end, new), (), ()
        return None
    if isinstance(func, ast.Name):
        origin = _imported_from(module, func.id)
        if origin is None:
            return None
        source_module, original, alias = origin
        if original != func.id:
            return None  # imported under an alias: no telling how the new name should be spelled
        use = name_use(module, func.id)
        if use.loads == [func] and not name_use(module, new).bindings and render.segment(alias) == original:
            return edit(render, func, new), (), (edit(render, alias, new),)
        return edit(render, func, new), ((source_module, new, None),), ()
    return None


def _imported_from(module: ast.Module, name: str) -> tuple[str, str, ast.alias] | None:
    """(module, name, alias node) of the ``from module import name`` that binds ``name`` at module level."""
    for stmt in module.body:
        if isinstance(stmt, ast.ImportFrom) and stmt.module and not stmt.level:
            for alias in stmt.names:
                if (alias.asname or alias.name) == name:
                    return stmt.module, alias.name, alias
    return None


def keyword_edit(render: Renderer, call: ast.Call, name: str, text: str, bound: ast.AST | None) -> Edit | None:
    """Set the argument ``name`` of ``call`` to ``text``: replace it where it is written
    (``bound``: the node passed for it, by position or keyword), else add ``name=text`` at the end."""
    if bound is not None:
        return edit(render, bound, text) if inside(bound, call) else None
    if any(k.arg is None for k in call.keywords) or any(isinstance(a, ast.Starred) for a in call.args):
        return None  # **kwargs / *args may already hold it
    written = [*call.args, *call.keywords]
    if written:
        last = max(written, key=lambda n: (n.end_lineno or 0, n.end_col_offset or 0))
        end = render.source.end(last)
        return Edit(end, end, f", {name}={text}")
    end = render.source.end(call)
    if not render.segment(call).endswith(")"):
        return None
    before = Position(end.line, end.column - 1)
    return Edit(before, before, f"{name}={text}")


def single_use_object(module: ast.Module, render: Renderer, applied: ast.Call, built: ast.AST) -> bool:
    """The loss object applied in ``applied`` is built at ``built`` (``criterion = nn.BCELoss()``,
    ``self.criterion = ...``) and applied nowhere else in the file."""
    func = applied.func
    if func is built:
        return True  # built and applied at once: nn.BCELoss()(p, y)
    if isinstance(func, ast.Name):
        found = assignment_of(module, func)
        if found is None:
            return False
        assign, use = found
        return assign.value is built and len(use.loads) == 1 and use.loads[0] is func
    if isinstance(func, ast.Attribute):
        # Every attribute of that name counts, whatever its receiver: ``head.criterion(p, y)`` in
        # another function may apply the same object.
        stores = loads = 0
        for node in ast.walk(module):
            if isinstance(node, ast.Attribute) and node.attr == func.attr:
                if isinstance(node.ctx, ast.Load):
                    loads += 1
                else:
                    stores += 1
                    holder = parent_of(module, node)
                    if not (isinstance(holder, ast.Assign) and holder.value is built and len(holder.targets) == 1):
                        return False
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in ("setattr", "getattr"):
                return False
            elif isinstance(node, ast.Constant) and node.value == func.attr:
                return False  # getattr(self, "criterion"), a registry key
        return stores == 1 and loads == 1
    return False


def built_loss(value: Value, module: ast.Module, render: Renderer, table) -> tuple[ast.Call, object] | None:
    """The call that built the loss object applied in ``value``, and its class spelling."""
    site = construction_site(value, module, render, table)
    if site is None:
        return None
    func = site.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    for spelling in table.by_op.get(value.op or "", ()):
        if spelling.kind == "class" and spelling.attr == name:
            return site, spelling
    return None


def bound_argument(call: ast.Call, positional: tuple[str, ...], keywords: dict, name: str) -> ast.AST | None:
    """The node ``call`` passes for the parameter ``name`` (by keyword or by position), or None."""
    for keyword in call.keywords:
        if keyword.arg is not None and (keyword.arg == name or keywords.get(keyword.arg) == name):
            return keyword.value
    if name in positional:
        index = positional.index(name)
        if index < len(call.args) and not any(isinstance(a, ast.Starred) for a in call.args[:index + 1]):
            return call.args[index]
    return None
