"""How reduced a value is, for SL310: a scalar, one value per sample, one per element, or unknown.

Read off the dataflow graph: a ``sum``/``mean``/``reduce_*`` with no axis
(or ``.item()``, a Python number, a size) is a scalar; a reduction over
axes that exclude the batch axis 0 (``.sum(1)``, ``.mean((1, 2))``,
``.sum(tuple(range(1, x.dim())))``) leaves one value per sample; a loss
with ``reduction='none'``, a per-example loss function (Keras functions,
``tf.nn.*_with_logits``, optax) and element-wise arithmetic on model
outputs or on a loss's prediction/target parameters are per sample or per
element.  Element-wise ops are as large as their largest known operand
(broadcasting never shrinks a tensor).  Anything else is unknown, and
unknown never fires: an unknown call, a parameter with no telling name, an
axis that may be the batch axis (``0``, ``-1`` on a tensor of unknown rank).
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass

from ..values import CONST, OP, PARAM, RESULT, TUPLE, UNKNOWN_KIND, Value

SCALAR, PER_SAMPLE, ELEMENTWISE, UNKNOWN = 0, 1, 2, -1

ELEMENTWISE_OPS = frozenset({
    "log", "log2", "log10", "log1p", "exp", "exp2", "expm1", "sqrt", "rsqrt", "square", "abs", "neg", "reciprocal",
    "sign", "sin", "cos", "tan", "atan", "sinh", "cosh", "erf", "erfc", "lgamma", "digamma", "logit", "floor", "ceil",
    "round", "add", "sub", "mul", "div", "div_no_nan", "floordiv", "mod", "pow", "maximum", "minimum", "logaddexp",
    "xlogy", "xlog1py", "atan2", "clamp", "clamp_min", "clamp_max", "where", "masked_fill", "nan_to_num", "cumsum",
    "normalize", "tanh", "sigmoid", "logsigmoid", "softplus", "relu", "relu6", "elu", "selu", "gelu", "silu",
    "leaky_relu", "softmax", "log_softmax", "not", "invert",
})
# Losses that reduce the class axis themselves: one value per sample when unreduced.
CLASS_AXIS_LOSSES = frozenset({
    "cross_entropy", "nll_loss", "ctc_loss", "softmax_cross_entropy_with_logits",
    "sparse_softmax_cross_entropy_with_logits", "categorical_crossentropy", "sparse_categorical_crossentropy",
    "categorical_focal_crossentropy", "cosine_similarity_loss",
})
# tf.losses.* names that exist only in TF1, where the default reduction gives a scalar.
TF1_REDUCED = frozenset({"softmax_cross_entropy", "sparse_softmax_cross_entropy", "sigmoid_cross_entropy",
                         "absolute_difference", "huber_loss", "log_loss"})
# Parameter names that hold a batch of predictions or targets in a loss.
BATCH_NAMES = frozenset({
    "logits", "pred", "preds", "prediction", "predictions", "y_pred", "y_true", "y_hat", "yhat", "target", "targets",
    "label", "labels", "output", "outputs", "inputs", "probs", "scores",
})
SCALAR_BUILTINS = ("builtins.float", "builtins.int", "builtins.len", "math.fsum")


@dataclass(frozen=True)
class Size:
    rank: int  # SCALAR, PER_SAMPLE, ELEMENTWISE or UNKNOWN
    why: Value | None = None  # the value that makes it non-scalar: a partial reduction, a loss, a parameter

    @property
    def unreduced(self) -> bool:
        return self.rank in (PER_SAMPLE, ELEMENTWISE)


SCALAR_SIZE = Size(SCALAR)
UNKNOWN_SIZE = Size(UNKNOWN)
LIMIT = 400


class Sizer:
    """Sizes of values, memoised; ``returns_of`` gives the return values of the file's functions."""

    def __init__(self, table, is_passthrough: Callable[[str | None], bool],
                 returns_of: Callable[[object], list[Value]]):
        self.is_loss = lambda op: table.has_tag(op, "loss")
        self.is_passthrough = is_passthrough
        self.returns_of = returns_of
        self.memo: dict[int, Size] = {}
        self.active: set[int] = set()
        self.steps = 0

    def size(self, value: Value | None) -> Size:
        if value is None:
            return UNKNOWN_SIZE
        key = id(value)
        if key in self.memo:
            return self.memo[key]
        if key in self.active or self.steps > LIMIT:
            return UNKNOWN_SIZE
        self.active.add(key)
        self.steps += 1
        try:
            result = self._size(value)
        finally:
            self.active.discard(key)
        self.memo[key] = result
        return result

    def function_size(self, info: object) -> Size:
        """The size of what a function returns: agreed by all its returns, else unknown."""
        sizes = [self.size(v) for v in self.returns_of(info)]
        if not sizes:
            return UNKNOWN_SIZE
        if all(s.rank == SCALAR for s in sizes):
            return SCALAR_SIZE
        if all(s.unreduced for s in sizes):
            return max(sizes, key=lambda s: s.rank)
        return UNKNOWN_SIZE

    def _size(self, value: Value) -> Size:
        kind = value.kind
        if kind == CONST:
            return SCALAR_SIZE if isinstance(value.const, (int, float, bool)) else UNKNOWN_SIZE
        if kind == RESULT:
            if value.ref is not None and self.returns_of(value.ref):
                return self.function_size(value.ref)
            return self.size(value.via)
        if kind == PARAM:
            name = (value.name or "").lower()
            return Size(ELEMENTWISE, value) if name in BATCH_NAMES else UNKNOWN_SIZE
        if kind != OP:
            return UNKNOWN_SIZE
        return self._op_size(value)

    def _op_size(self, value: Value) -> Size:
        op = value.op or ""
        spelling = value.spelling
        if op in ("item", "len", "numel", "size", "shape", "numel_attr", "ndim", "dim", "count_nonzero") or (
                spelling is not None and spelling.qualname in SCALAR_BUILTINS):
            return SCALAR_SIZE
        if op in ("max", "min") and "other" in value.args:
            return self._combine(value)
        if is_reduction(op):
            return self._reduction_size(value)
        if self.is_loss(op):
            return loss_size(value)
        if op in ("cosine_similarity", "pairwise_distance"):
            return self._similarity_size(value)
        if op == "getitem":
            return UNKNOWN_SIZE  # an index may pick out one number
        if self.is_passthrough(op):
            return self.size(value.args.get("input"))
        if op in ELEMENTWISE_OPS:
            return self._combine(value)
        if op in LAYER_OPS:
            return Size(ELEMENTWISE, value)  # a model's output: a batch
        return UNKNOWN_SIZE

    def _combine(self, value: Value) -> Size:
        sizes = [self.size(v) for k, v in value.args.items() if not k.startswith("_")]
        unreduced = [s for s in sizes if s.unreduced]
        if unreduced:  # the largest; an op's evidence before a guess from a parameter's name
            return max(unreduced, key=lambda s: (s.why is not None and s.why.kind != PARAM, s.rank))
        if any(s.rank == UNKNOWN for s in sizes):
            return UNKNOWN_SIZE
        return SCALAR_SIZE

    def _reduction_size(self, value: Value) -> Size:
        axis = value.args.get("axis")
        if axis is None or (axis.kind == CONST and axis.const is None):
            return SCALAR_SIZE
        if keeps_batch_axis(axis):
            return Size(PER_SAMPLE, value)
        return UNKNOWN_SIZE

    def _similarity_size(self, value: Value) -> Size:
        """torch's cosine_similarity / pairwise_distance reduce dim 1 by default: one value per row."""
        spelling = value.spelling
        if spelling is None or spelling.framework != "torch":
            return UNKNOWN_SIZE
        axis = value.args.get("axis")
        if axis is None or keeps_batch_axis(axis):
            return Size(PER_SAMPLE, value)
        return UNKNOWN_SIZE


LAYER_OPS = frozenset({"linear", "layer_norm", "batch_norm", "group_norm", "rms_norm"})
REDUCTIONS = frozenset({"sum", "mean", "prod", "std", "var", "logsumexp", "max", "min", "amax", "amin", "median",
                        "norm", "all", "any", "argmax", "argmin"})


def is_reduction(op: str | None) -> bool:
    return op in REDUCTIONS


def keeps_batch_axis(axis: Value) -> bool:
    """The reduction axes exclude axis 0 for sure: 1, (1, 2), tuple(range(1, x.dim()))."""
    if axis.kind == CONST:
        return isinstance(axis.const, int) and not isinstance(axis.const, bool) and axis.const >= 1
    if axis.kind == TUPLE and axis.items:
        return all(keeps_batch_axis(item) for item in axis.items)
    if axis.kind in (UNKNOWN_KIND, OP) and isinstance(axis.node, ast.Call):
        return _range_from_one(axis.node)
    return False


def _range_from_one(node: ast.Call) -> bool:
    """``range(k, ...)`` with k >= 1, possibly wrapped in ``tuple(...)`` / ``list(...)``."""
    func = node.func
    # every argument, starred and keyword ones included
    args = [*(a.value if isinstance(a, ast.Starred) else a for a in node.args), *(k.value for k in node.keywords)]
    if isinstance(func, ast.Name) and func.id in ("tuple", "list") and len(args) == 1 \
            and isinstance(args[0], ast.Call):
        return _range_from_one(args[0])
    if not (isinstance(func, ast.Name) and func.id == "range") or len(args) < 2:
        return False
    start = args[0]
    return isinstance(start, ast.Constant) and type(start.value) is int and start.value >= 1


def loss_size(value: Value) -> Size:
    """A framework loss's result: scalar unless unreduced by its spelling or by reduction='none'."""
    op = value.op or ""
    per_sample = Size(PER_SAMPLE, value)
    spelling = value.spelling
    if spelling is None or spelling.framework == "torch" or spelling.kind == "class":
        if not _reduction_off(value):
            return SCALAR_SIZE
        keras_object = op in ("categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy",
                              "binary_focal_crossentropy", "categorical_focal_crossentropy")
        return per_sample if keras_object or op in CLASS_AXIS_LOSSES else Size(ELEMENTWISE, value)
    qualname = spelling.qualname
    if qualname.startswith("tensorflow.losses."):
        name = spelling.attr
        if name in TF1_REDUCED:
            return SCALAR_SIZE
        return per_sample if name.endswith("crossentropy") else UNKNOWN_SIZE
    if qualname.startswith("keras."):  # Keras loss functions average the last axis
        return per_sample
    if qualname.startswith(("tensorflow.nn.", "optax.")):
        return per_sample if op in CLASS_AXIS_LOSSES else Size(ELEMENTWISE, value)
    return UNKNOWN_SIZE


def _reduction_off(value: Value) -> bool:
    reduction = value.args.get("reduction")
    if reduction is not None:
        if reduction.kind == CONST and isinstance(reduction.const, str):
            return reduction.const.lower() == "none"
        # tf.keras.losses.Reduction.NONE
        return (reduction.name or reduction.qualname or "").rsplit(".", 1)[-1] == "NONE"
    reduce = value.args.get("reduce")
    return reduce is not None and reduce.kind == CONST and reduce.const is False
