"""SL310: a loss that returns (or back-propagates) a per-sample or element-wise tensor, never reduced.

A function is a loss when its name says so (``dice_loss``, ``compute_loss``,
``SoftDiceLoss.forward``), when its result is back-propagated
(``.backward()``, TensorFlow's ``tape.gradient``), differentiated
(``jax.grad``), returned by a Lightning ``training_step``, or passed to Keras
``compile(loss=...)``.  Once the whole file has been analysed, the rule
reads the sizes of its returns (``reduction_size``) and reports at the
``return``; an unreduced value built in place and back-propagated is
reported at the ``.backward()`` / ``gradient`` call.  Quiet when unsure:
unknown values, a ``reduction`` parameter (the function lets its caller
decide), decorators that may wrap the result, a function named like a loss
that the file uses elsewhere without back-propagating it (its callers may
reduce or weight it), Keras ``Loss`` subclasses (their ``call`` returns
per-sample values by contract), Keras compile losses that return one value
per sample (the documented contract), and ``tape.gradient`` of a model's
output (input gradients for a gradient penalty or a saliency map).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from .. import fixes
from ..dataflow import ClassInfo, Context, FunctionInfo
from ..diagnostic import Edit, Fix, Position
from ..render import Renderer
from ..values import CONST, FUNCTION, OP, PARAM, RESULT, TUPLE, Value
from ..words import occurrences
from . import Checker, Report
from .reduction_size import ELEMENTWISE, PER_SAMPLE, SCALAR, Size, Sizer, is_reduction
from .support import NO_GRADIENT_FRAMEWORKS, array_framework

LOSS_TOKENS = ("loss", "criterion")
FN_TOKENS = ("fn", "func", "function", "impl", "fwd", "forward")
# A name saying the function returns unreduced values on purpose.
UNREDUCED_TOKENS = frozenset({"per", "elementwise", "pointwise", "pixelwise", "samplewise", "unreduced", "raw",
                              "individual", "losses", "vector", "map", "none"})
REDUCTION_PARAMS = frozenset({"reduction", "reduce", "size_average", "reduction_type", "average", "aggregate"})
CALL_METHODS = ("forward", "__call__", "call")
# Decorators that leave a function's result as it is; any other may wrap it (mmdet's @weighted_loss).
HARMLESS_DECORATORS = frozenset({"staticmethod", "classmethod", "property", "function", "jit", "script", "compile",
                                 "no_grad", "enable_grad", "inference_mode", "autocast", "custom_fwd", "custom_bwd",
                                 "override", "abstractmethod", "cache", "lru_cache"})
KERAS_LOSS_BASES = ("keras.losses.Loss", "keras.losses.LossFunctionWrapper")
TORCH_LOSS_BASES = ("torch.nn._Loss", "torch.nn._WeightedLoss", "torch.nn.loss._Loss",
                    "torch.nn.loss._WeightedLoss")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z]|\d|$)|[A-Z]?[a-z]+|\d+")


@dataclass(eq=False)
class Use:
    """Why a function counts as a loss, with the node that shows it (for the message)."""

    how: str  # "named" | "backward" | "grad" | "compile" | "step"
    node: ast.AST | None = None


@dataclass
class State:
    returns: dict[FunctionInfo, list[tuple[ast.AST, Value]]] = field(default_factory=dict)
    backprops: list[tuple[Value, Value, str]] = field(default_factory=list)  # (event, target, "backward"|"gradient")
    uses: dict[FunctionInfo, list[Use]] = field(default_factory=dict)
    has_aux: set[int] = field(default_factory=set)
    batched: set[int] = field(default_factory=set)  # functions mapped over examples (jax.vmap)
    code: str | None = None  # the module's source, generated once when a name must be looked up


class Check(Checker):
    ops = ("@return", "@method:backward", "@method:gradient", "@method:compile", "grad_of", "vmap_of")

    def check(self, value: Value, context: Context, report: Report) -> None:
        state: State = context.analyzer.rule_state(self, State)
        op = value.op
        if op == "@return":
            if context.function is not None and value.node is not None:
                returned = value.args.get("input", Value(CONST, value.node, const=None))
                state.returns.setdefault(context.function, []).append((value.node, returned))
        elif op == "@method:backward":
            if not any(k in value.args for k in ("_0", "gradient")):
                state.backprops.append((value, value.args["self"], "backward"))
        elif op == "@method:gradient":
            target = value.args.get("_0", value.args.get("target"))
            if target is not None and "tensorflow" in context.analyzer.frameworks and not any(
                    k in value.args for k in ("_2", "output_gradients")):
                state.backprops.append((value, target, "gradient"))
        elif op == "grad_of":
            fun = value.args.get("fun")
            if fun is not None and fun.kind == FUNCTION:
                state.uses.setdefault(fun.ref, []).append(Use("grad", value.node))
                aux = value.args.get("has_aux")
                if aux is not None and aux.kind == CONST and aux.const is True:
                    state.has_aux.add(id(fun.ref))
        elif op == "vmap_of":
            fun = value.args.get("fun")
            if fun is not None and fun.kind == FUNCTION:
                state.batched.add(id(fun.ref))
        elif op == "@method:compile":
            loss = value.args.get("loss", value.args.get("_1"))
            if loss is not None and loss.kind == FUNCTION:
                state.uses.setdefault(loss.ref, []).append(Use("compile", value.node))

    # -- deciding ---------------------------------------------------------------------

    def finish(self, context: Context, report: Report) -> None:
        state: State = context.analyzer.rule_state(self, State)
        if not state.returns and not state.backprops:
            return
        if not context.analyzer.frameworks & {"torch", "tensorflow", "jax"}:
            return  # nothing here computes gradients
        sizer = Sizer(self.table, context.analyzer.is_passthrough, lambda info: self._returned(info, state))
        for info in state.returns:
            if _named_like_loss(info):
                state.uses.setdefault(info, []).append(Use("step" if info.name == "training_step" else "named"))
        for event, target, how in state.backprops:
            self._backprop(event, target, how, state, sizer, context, report)
        self._propagate(state, context)
        for info, uses in state.uses.items():
            self._check_function(info, uses, state, sizer, context, report)

    def _returned(self, info: object, state: State) -> list[Value]:
        if not isinstance(info, FunctionInfo):
            return []
        if info in state.returns:
            values = [value for _, value in state.returns[info]]
        else:
            values = list(info.returns)  # a lambda
        if id(info) not in state.has_aux:
            return values
        return [first for first in map(_first, values) if first is not None]

    def _backprop(self, event: Value, target: Value, how: str, state: State, sizer: Sizer, context: Context,
                  report: Report) -> None:
        size = sizer.size(target)
        if not size.unreduced or not _evidence(target, size, context):
            return
        if how == "gradient" and not self._loss_evidence(size):
            return  # tape.gradient(model(x), x): input gradients of an output, summed on purpose
        culprits = self._culprits(target, sizer, context)
        if culprits:
            for info in culprits:
                state.uses.setdefault(info, []).append(Use(how, event.node))
            return
        report(event.node, _backprop_message(event, target, how, size, report.render),
               fix=_backprop_fix(event, target, how, size, report.render))

    def _loss_evidence(self, size: Size) -> bool:
        """The value is unreduced because of a loss or a partial reduction, not a model output or a name."""
        why = size.why
        return why is not None and why.kind == OP and (
            self.table.has_tag(why.op, "loss") or is_reduction(why.op)
            or why.op in ("cosine_similarity", "pairwise_distance"))

    def _culprits(self, target: Value, sizer: Sizer, context: Context) -> list[FunctionInfo]:
        """The file's functions whose unreduced results make ``target`` unreduced."""
        found: list[FunctionInfo] = []
        stack = [target]
        seen = 0
        while stack and seen < 40:
            current = stack.pop()
            seen += 1
            if current.kind == RESULT and isinstance(current.ref, FunctionInfo):
                if sizer.function_size(current.ref).unreduced and current.ref not in found:
                    found.append(current.ref)
            elif current.kind == OP and (context.analyzer.is_passthrough(current.op)
                                         or current.op in ("add", "sub", "mul", "div", "neg")):
                stack.extend(current.args.values())
        return found

    def _propagate(self, state: State, context: Context) -> None:
        """A loss that returns another function's result hands its loss-ness to that function."""
        queue = list(state.uses)
        while queue:
            info = queue.pop()
            for _, value in state.returns.get(info, ()):
                inner = _strip(value, context)
                if inner.kind == RESULT and isinstance(inner.ref, FunctionInfo) and inner.ref is not info:
                    callee = inner.ref
                    known = state.uses.setdefault(callee, [])
                    for use in state.uses[info]:
                        if use not in known:
                            known.append(use)
                            if callee not in queue:
                                queue.append(callee)

    def _check_function(self, info: FunctionInfo, uses: list[Use], state: State, sizer: Sizer, context: Context,
                        report: Report) -> None:
        if _decides_itself(info) or id(info) in state.batched:
            return
        if not state.returns.get(info) and not isinstance(info.node, ast.Lambda):
            return
        hows = {use.how for use in uses}
        # Keras reduces what a compile loss returns; it only asks for one value per sample
        only_compile = "compile" in hows and not hows & {"backward", "gradient", "grad", "step"}
        returns = state.returns.get(info) or [(info.node.body, v) for v in info.returns]
        sizes = [(node, value, sizer.size(_first(value) if id(info) in state.has_aux else value))
                 for node, value in returns]
        if any(size.rank == SCALAR for _, _, size in sizes):
            return
        found = []
        for node, value, size in sizes:
            if not size.unreduced or (only_compile and size.rank != ELEMENTWISE):
                continue
            if array_framework(value) in NO_GRADIENT_FRAMEWORKS:
                continue  # a NumPy metric: nothing back-propagates it
            if _strip(value, context).kind in (PARAM, RESULT) or not _evidence(value, size, context):
                continue  # a parameter handed back, or another function's result (reported there)
            found.append((node, value, size))
        if not found:
            return
        if hows <= {"named"}:
            if state.code is None:
                state.code = report.render.source.text
            if _used_in_file(info, state.code):
                return  # its callers decide what to do with it (reduce it, weight it); a backward() would show
        last_axis = _compile_only(uses)
        if state.code is None:
            state.code = report.render.source.text
        # Reducing at the return changes every caller: only when the file calls it nowhere but
        # where it is back-propagated or differentiated (not, say, for hard-example mining too).
        fixable = isinstance(info.node, ast.Lambda) or _references(info, state.code) <= sum(
            use.how != "named" for use in uses)
        for node, value, size in found:
            report(node, _return_message(info, value, size, uses, report.render),
                   fix=_return_fix(node, value, size, last_axis, id(info) in state.has_aux, report.render)
                   if fixable else None)


# -- predicates ---------------------------------------------------------------------------


def _tokens(name: str) -> list[str]:
    return [t.lower() for part in name.split("_") for t in (_CAMEL.findall(part) or [part]) if t]


def _named_like_loss(info: FunctionInfo) -> bool:
    if info.name == "training_step" and info.cls is not None:
        return True  # PyTorch Lightning back-propagates what it returns
    if info.cls is not None and info.name in CALL_METHODS:
        return any(_class_named_like_loss(cls.name) for cls in info.cls.lineage())
    tokens = _tokens(info.name)
    if not tokens or UNREDUCED_TOKENS.intersection(tokens):
        return False
    last = tokens[-1]
    return last in LOSS_TOKENS or (tokens[0] in LOSS_TOKENS and len(tokens) == 2 and last in FN_TOKENS)


def _class_named_like_loss(name: str) -> bool:
    """``SoftDiceLoss``, ``FocalLoss2d``, ``Criterion``; not ``LossWeighting`` or ``Losses``."""
    tokens = [t for t in _tokens(name) if not t.isdigit() and t not in ("d", "nd")]
    return bool(tokens) and tokens[-1] in LOSS_TOKENS and not UNREDUCED_TOKENS.intersection(tokens)


def _used_in_file(info: FunctionInfo, code: str) -> bool:
    """Whether the function (or, for ``forward``, its class) is named anywhere but its definition."""
    return _references(info, code) > 0


def _references(info: FunctionInfo, code: str) -> int:
    """How often the function (or, for ``forward``, its class) is named outside its definition."""
    if info.cls is not None and info.name in CALL_METHODS:
        return occurrences(code, info.cls.name) - 1
    if info.cls is not None:
        return occurrences(code, info.name, after_dot=True) - 1  # self.compute_loss(...)
    return occurrences(code, info.name) - 1  # not F.mse_loss


def _decides_itself(info: FunctionInfo) -> bool:
    """The function (or its class) takes a reduction argument, or something may wrap its result."""
    node = info.node
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        if _param_names(node) & REDUCTION_PARAMS or node.args.kwarg is not None:
            return True  # the caller chooses the reduction (perhaps through **kwargs)
        for decorator in node.decorator_list:
            name = _dotted_tail(decorator)
            if name not in HARMLESS_DECORATORS:
                return True
    cls = info.cls
    if cls is None:
        return False
    for owner in cls.lineage():
        if any(name in owner.attrs for name in REDUCTION_PARAMS):
            return True
        init = owner.methods.get("__init__")
        if init is not None and isinstance(init.node, (ast.FunctionDef, ast.AsyncFunctionDef)) \
                and _param_names(init.node) & REDUCTION_PARAMS:
            return True
        for base in owner.bases:
            qualname = base.qualname or ""
            if qualname.endswith(KERAS_LOSS_BASES) or qualname.endswith(TORCH_LOSS_BASES) \
                    or qualname.rsplit(".", 1)[-1] in ("_Loss", "_WeightedLoss"):
                return True
    return _assigns_reduction(cls)


def _assigns_reduction(cls: ClassInfo) -> bool:
    return any(name in cls.attrs for name in REDUCTION_PARAMS)


def _param_names(node: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    args = node.args
    return {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}


def _dotted_tail(node: ast.expr) -> str:
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


def _strip(value: Value, context: Context) -> Value:
    """``value`` seen through shape-only ops and indexing."""
    for _ in range(40):
        if value.kind == OP and "input" in value.args and context.analyzer.is_passthrough(value.op):
            value = value.args["input"]
        else:
            break
    return value


def _first(value: Value) -> Value | None:
    """The loss in a ``(loss, aux)`` return of a ``has_aux`` function."""
    if value.kind == TUPLE and value.items:
        return value.items[0]
    return None


def _evidence(value: Value, size: Size, context: Context) -> bool:
    """Enough to be sure: an op made it non-scalar, or element-wise ops were applied to a loss's inputs."""
    why = size.why
    if why is None:
        return False
    if why.kind != PARAM:
        return True
    return _strip(value, context) is not why  # at least one op on the parameter


# -- messages -----------------------------------------------------------------------------


def _what(size: Size) -> str:
    if size.why is not None and size.why.kind == PARAM:
        return f"a tensor shaped like '{size.why.name}'"
    return "one value per sample" if size.rank == PER_SAMPLE else "one value per element"


def _why(size: Size, render: Renderer) -> str:
    why = size.why
    if why is None:
        return ""
    if why.kind == PARAM:
        return "no sum or mean is applied to it"
    where = render.line(why.node) if why.node is not None else "?"
    text = _call_text(why, render)
    if why.op is not None and is_reduction(why.op):
        return f"{text} on line {where} reduces only the non-batch axes"
    if why.op in ("cosine_similarity", "pairwise_distance"):
        return f"{text} on line {where} gives one value per row"
    reduction = why.args.get("reduction") if why.kind == OP else None
    if reduction is not None:
        return f"{text} on line {where} has reduction={render.text(reduction.node, 20)}"
    if why.kind == OP and why.op in ("linear", "layer_norm", "batch_norm", "group_norm", "rms_norm"):
        return f"the model output {text} on line {where} is used element-wise"
    per = "sample" if size.rank == PER_SAMPLE else "element"
    return f"{text} on line {where} returns one loss per {per}"


def _call_text(value: Value, render: Renderer) -> str:
    """``optax.softmax_cross_entropy(...)``, ``x.sum(dims)``: short enough for a message."""
    node = value.node
    if isinstance(node, ast.Call) and not value.method and len(render.text(node, 1000)) > 40:
        return f"{render.text(node.func, 50)}(...)"
    return render.text(node, 40)


def _mean(render: Renderer, size: Size, value: Value | None = None) -> str:
    """``(...).mean()``, ``tf.reduce_mean(...)``, ``jnp.mean(...)``: the reduction the fix writes."""
    spelled = _mean_spelling(render, _like(size, value))
    if spelled is None:
        return "mean(...)"
    name = spelled[0]
    return f"(...){name}()" if name.startswith(".") else f"{name}(...)"


def _like(size: Size, value: Value | None) -> list[Value]:
    return [v for v in (size.why, value) if v is not None and v.kind == OP]


def _mean_spelling(render: Renderer, like: list[Value]
                   ) -> tuple[str, tuple[tuple[str, str | None, str | None], ...]] | None:
    """How this file takes a mean: ``.mean`` (a PyTorch, JAX or NumPy array method; the file's
    ``torch.mean``/``jnp.mean`` when it writes those more often) or the function (TensorFlow's
    ``tf.reduce_mean``, whose tensors have no ``mean`` method), with the import it needs."""
    framework = render.framework(like)
    if not framework:
        return None
    function = fixes.spelled(render, "mean", like)
    if framework == "tensorflow":
        return function if function is not None and not function[0].startswith(".") else None
    if function is not None and not function[0].startswith(".") and not function[1]:
        text = render.source.text
        calls = occurrences(text, function[0] + "(", whole=False)
        if calls > text.count(".mean(") - calls:
            return function  # a file that writes torch.mean(x) rather than x.mean()
    return ".mean", ()


def _wrapped(render: Renderer, node: ast.AST, like: list[Value], last_axis: bool
             ) -> tuple[str, tuple[tuple[str, str | None, str | None], ...]] | None:
    """The source of ``node`` reduced by a mean (over the last axis only, for a Keras compile loss)."""
    spelled = _mean_spelling(render, like)
    if spelled is None:
        return None
    name, imports = spelled
    if name.startswith("."):
        keyword = "axis" if render.framework(like) != "torch" else "dim"
        return f"{fixes.operand(render, node)}{name}({f'{keyword}=-1' if last_axis else ''})", imports
    return f"{name}({render.segment(node)}{', axis=-1' if last_axis else ''})", imports


def _compile_only(uses: list[Use]) -> bool:
    hows = {use.how for use in uses}
    return "compile" in hows and not hows & {"backward", "gradient", "grad", "step"}


def _return_fix(node: ast.AST, value: Value, size: Size, last_axis: bool, has_aux: bool, render: Renderer
                ) -> Fix | None:
    """``return loss`` -> ``return loss.mean()`` (the first item of a ``has_aux`` pair)."""
    expression = node.value if isinstance(node, ast.Return) else node
    if isinstance(expression, ast.Tuple) and has_aux and expression.elts:
        expression = expression.elts[0]
        if isinstance(expression, ast.Starred):
            return None
    if not isinstance(expression, ast.expr) or isinstance(expression, (ast.Tuple, ast.Starred, ast.Yield)):
        return None
    built = _wrapped(render, expression, _like(size, value), last_axis)
    if built is None:
        return None
    text, imports = built
    how = "the mean over the last axis" if last_axis else "the mean"
    return fixes.replace(render, expression, text, "unsafe", f"return {how}", imports)


def _backprop_fix(event: Value, target: Value, how: str, size: Size, render: Renderer) -> Fix | None:
    """``loss.backward()`` -> ``loss.mean().backward()``; ``tape.gradient(loss, ...)`` -> ``tf.reduce_mean(loss)``."""
    call = event.node
    if not isinstance(call, ast.Call):
        return None
    like = _like(size, target)
    if how == "backward":
        func = call.func
        if not isinstance(func, ast.Attribute):
            return None
        spelled = _mean_spelling(render, like)
        if spelled is None:
            return None
        # backward() is PyTorch's: its tensors always have the mean method, even in a file that
        # otherwise writes torch.mean(x)
        text = render.segment(func)
        head = text[: len(text) - len(func.attr)].rstrip()
        if not text.endswith(func.attr) or not head.endswith("."):
            return None
        dot = len(head) - 1  # insert before the '.' of .backward
        before = text[:dot]
        start = render.source.start(func)
        line = start.line + before.count("\n")
        column = (start.column + len(before)) if "\n" not in before else len(before.rsplit("\n", 1)[1]) + 1
        where = Position(line, column)
        return Fix((Edit(where, where, ".mean()"),), "unsafe", "back-propagate the mean")
    node = event.arg_nodes.get("_0", event.arg_nodes.get("target"))
    if node is None:
        return None
    built = _wrapped(render, node, like, False)
    if built is None:
        return None
    return fixes.replace(render, node, built[0], "unsafe", "differentiate the mean", built[1])


def _return_message(info: FunctionInfo, value: Value, size: Size, uses: list[Use], render: Renderer) -> str:
    owner = f"{info.qualname}()" if not isinstance(info.node, ast.Lambda) else "this lambda"
    notes = []
    for use in uses:
        line = render.line(use.node) if use.node is not None else None
        if use.how == "backward" and line:
            notes.append(f"its result is back-propagated on line {line}")
        elif use.how == "gradient" and line:
            notes.append(f"tape.gradient on line {line} sums it, so the gradient scales with the batch size")
        elif use.how == "grad" and line:
            grad = render.text(use.node.func, 30) if isinstance(use.node, ast.Call) else "jax.grad"
            notes.append(f"{grad} on line {line} needs a scalar")
        elif use.how == "step":
            notes.append("Lightning back-propagates what training_step returns")
    context = f"; {notes[0]}" if notes else ""
    mean = _mean(render, size, value)
    hows = {use.how for use in uses}
    if "compile" in hows and not hows & {"backward", "gradient", "grad", "step"}:
        compile_use = next(use for use in uses if use.how == "compile")
        line = render.line(compile_use.node) if compile_use.node is not None else "?"
        last_axis = mean.replace("(...)", "(..., axis=-1)", 1) if mean.endswith("(...)") else mean.replace(
            "()", "(axis=-1)")
        return (f"{owner} is the compile(loss=...) of line {line} but returns {_what(size)} "
                f"({_why(size, render)}); Keras expects one value per sample: reduce the last axis, e.g. "
                f"{last_axis}")
    return (f"{owner} returns an unreduced loss, {_what(size)} ({_why(size, render)}){context}; "
            f"reduce it to a scalar, e.g. {mean}")


def _backprop_message(event: Value, target: Value, how: str, size: Size, render: Renderer) -> str:
    node = event.node
    call = render.text(node, 40)
    if len(call) >= 40 and isinstance(node, ast.Call):
        call = f"{render.text(node.func, 40)}(...)"
    mean = _mean(render, size, target)
    if how == "gradient":
        return (f"{call} differentiates an unreduced loss, {_what(size)} ({_why(size, render)}): TensorFlow sums "
                f"it, so the gradient scales with the batch size; reduce it first, e.g. {mean}")
    return (f"{call} back-propagates an unreduced loss, {_what(size)} ({_why(size, render)}): backward() needs a "
            f"scalar; reduce it first, e.g. {mean}")
