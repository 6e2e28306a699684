"""Shape evidence: what is known about an array's shape, from local syntax only.

A ``Shape`` records the rank when known (else a lower bound) and the sizes
of the trailing axes, right-aligned, which is what broadcasting bugs are
about (``(N, 1)`` against ``(N,)``).  Evidence comes from syntax the file
writes: constructors with literal sizes, ``view``/``reshape``/``squeeze``/
``unsqueeze``/indexing with ``None``, reductions with or without
``keepdim``, layers with one output unit (``nn.Linear(h, 1)``,
``Dense(1)``), ``tf.ensure_shape``; element-wise ops broadcast their
operands' shapes.  Each shape remembers where its trailing axes were set
(``why``) and how (``origin``), so messages can name the line, and rules can
tell an axis added on purpose for broadcasting from an accidental one.
Unknown stays unknown (``None``): shape rules fire only on evidence.

``infer_shape`` runs for every op value of every file, so it dispatches on
the op name and allocates nothing when nothing is known.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Iterable

import ast

from .values import CONST, OP, RESULT, TUPLE, Value

# How a shape's trailing axes came about.
HEAD = "head"  # a layer or matmul output: a prediction
LAYOUT = "layout"  # an explicit view/reshape/flatten/slice/squeeze/ensure_shape
LITERAL = "literal"  # a constructor with literal sizes: torch.zeros(n, 1)
DATA = "data"  # nested list literals, shaped by hand: np.array([[3], [11]])
BROADCAST = "broadcast"  # an axis added on purpose to broadcast: [:, None], unsqueeze, keepdim=True
GRID = "grid"  # arange/linspace: a grid, made to be compared with everything


@dataclass(frozen=True, slots=True)
class Evidence:
    """Where a shape was established, for messages."""

    node: ast.AST  # its line is quoted
    label: str | None = None  # how to name it; None: the source text at ``node``
    method: bool = False  # ``node`` is a method call: name it ``.view(-1)``


@dataclass(frozen=True, slots=True)
class Shape:
    rank: int | None = None  # exact number of axes; None: unknown (see min_rank)
    dims: tuple[int | None, ...] = ()  # trailing sizes, right-aligned (all of them when rank is known)
    min_rank: int = 0  # at least this many axes
    why: Evidence | None = None
    origin: str = ""

    @property
    def last(self) -> int | None:
        """The size of the last axis, when known."""
        return self.dims[-1] if self.dims else None

    @property
    def known_rank(self) -> int:
        """The rank, or its lower bound."""
        return self.rank if self.rank is not None else self.min_rank


SCALAR = Shape(rank=0)
Handler = Callable[[dict[str, Value], Value], "Shape | None"]


def exact(dims: Iterable[int | None], why: Evidence | None = None, origin: str = "") -> Shape:
    dims = tuple(dims)
    return Shape(len(dims), dims, len(dims), why, origin)


def trailing(dims: Iterable[int | None], min_rank: int, why: Evidence | None = None, origin: str = "") -> Shape | None:
    dims = tuple(dims)
    if not dims:
        return None  # a lower bound on the rank alone says nothing a rule can use
    return Shape(None, dims, max(min_rank, len(dims)), why, origin)


def shape_of(value: Value | None) -> Shape | None:
    """The shape of any value: an op's, a call of the file's own function, a Python number."""
    while value is not None and value.kind == RESULT and value.via is not None:
        value = value.via
    if value is None:
        return None
    if value.shape is not None or value.kind == OP:
        return value.shape  # ops, and parameters whose rank was unpacked (b, t, d = x.shape)
    if value.kind == CONST and isinstance(value.const, (int, float)):
        return SCALAR
    return None


def int_const(value: Value | None) -> int | None:
    if value is not None and value.kind == CONST and isinstance(value.const, int) and not isinstance(value.const, bool):
        return value.const
    return None


def int_list(value: Value | None) -> list[int] | None:
    """An axis argument: one literal int, or a tuple/list of them."""
    single = int_const(value)
    if single is not None:
        return [single]
    if value is not None and value.kind == TUPLE and value.items:
        found = [int_const(item) for item in value.items]
        if all(i is not None for i in found):
            return found  # type: ignore[return-value]
    return None


def _evidence(value: Value, label: str | None = None, node: ast.AST | None = None) -> Evidence | None:
    where = node if node is not None else value.node
    return Evidence(where, label, value.method and label is None) if where is not None else None


# -- shape algebra --------------------------------------------------------------


def broadcast(a: Shape | None, b: Shape | None) -> Shape | None:
    """The shape of an element-wise op between ``a`` and ``b``."""
    if a is None or b is None:
        return None
    if b.rank == 0:
        return a
    if a.rank == 0:
        return b
    if a.rank is not None and b.rank is not None:
        length = max(a.rank, b.rank)
    else:
        length = min(len(a.dims), len(b.dims))
    dims = tuple(_merge(_at(a, i), _at(b, i)) for i in range(length, 0, -1))
    rank = max(a.rank, b.rank) if a.rank is not None and b.rank is not None else None
    lead = a if a.known_rank >= b.known_rank else b
    origin = lead.origin
    if dims and dims[-1] == 1:  # an axis added to broadcast stays one
        origin = BROADCAST if BROADCAST in (a.origin, b.origin) else origin
    if rank is not None:
        return Shape(rank, dims, rank, lead.why, origin)
    return trailing(dims, max(a.min_rank, b.min_rank), lead.why, origin)


def _at(shape: Shape, position: int) -> int | None:
    """The size ``position`` axes from the end (1 is the last), 1 beyond a known rank."""
    if position <= len(shape.dims):
        return shape.dims[-position]
    return 1 if shape.rank is not None else None


def _merge(x: int | None, y: int | None) -> int | None:
    if x == 1:
        return y
    if y == 1 or y is None:
        return x
    return y


def drop_axes(shape: Shape | None, axes: list[int]) -> Shape | None:
    """``shape`` without ``axes`` (a reduction without keepdim, squeeze, integer indexing)."""
    if shape is None:
        return None
    if shape.rank is not None:
        positions = _normalize(axes, shape.rank)
        if positions is None:
            return None
        return exact((d for i, d in enumerate(shape.dims) if i not in positions), shape.why, shape.origin)
    kept = list(shape.dims)
    free = shape.min_rank - len(kept)  # leading axes known to lie before the trailing ones
    for axis in sorted(set(axes), reverse=True):
        if axis < 0 and -axis <= len(kept):
            del kept[axis]
        elif not (0 <= axis < free):
            return None
    return trailing(kept, shape.min_rank - len(set(axes)), shape.why, shape.origin)


def set_axes(shape: Shape | None, axes: list[int], size: int, why: Evidence | None, origin: str) -> Shape | None:
    """``shape`` with ``axes`` set to ``size`` (a reduction with keepdim)."""
    if shape is None:
        return None
    if shape.rank is not None:
        positions = _normalize(axes, shape.rank)
        if positions is None:
            return None
        return exact((size if i in positions else d for i, d in enumerate(shape.dims)), why, origin)
    dims = list(shape.dims)
    free = shape.min_rank - len(dims)
    for axis in axes:
        if axis < 0 and -axis <= len(dims):
            dims[axis] = size
        elif not (0 <= axis < free):
            return None
    return trailing(dims, shape.min_rank, why, origin)


def insert_axis(shape: Shape | None, axis: int, why: Evidence | None) -> Shape | None:
    """``shape`` with a new size-1 axis at ``axis`` (unsqueeze, expand_dims)."""
    if shape is None:
        return None
    if shape.rank is not None:
        position = axis + shape.rank + 1 if axis < 0 else axis
        if not 0 <= position <= shape.rank:
            return None
        dims = shape.dims[:position] + (1,) + shape.dims[position:]
        return exact(dims, why, BROADCAST if position == shape.rank else shape.origin)
    known = list(shape.dims)
    if axis < 0 and -axis - 1 <= len(known):
        known.insert(len(known) + axis + 1, 1)
        return trailing(known, shape.min_rank + 1, why, BROADCAST if axis == -1 else shape.origin)
    if 0 <= axis <= shape.min_rank - len(known):
        return trailing(known, shape.min_rank + 1, shape.why, shape.origin)
    return None


def _normalize(axes: list[int], rank: int) -> set[int] | None:
    positions = {a + rank if a < 0 else a for a in axes}
    return positions if all(0 <= p < rank for p in positions) else None


# -- sizes written in the call --------------------------------------------------


def _int_valued(value: Value) -> bool:
    """A Python int that is not a literal: ``len(x)``, ``x.size(0)``, ``x.shape[1]``."""
    if value.kind != OP:
        return False
    if value.op in ("len", "numel", "dim", "ndim", "numel_attr"):
        return True
    if value.op == "size":
        return "axis" in value.args
    if value.op == "getitem":  # x.shape[1] is an int, x.shape[-2:] a tuple
        inner = value.args.get("input")
        node = value.node
        return (inner is not None and inner.kind == OP and inner.op in ("shape", "shape_of", "size")
                and isinstance(node, ast.Subscript) and not isinstance(node.slice, (ast.Slice, ast.Tuple)))
    return False


def _positional(value: Value, first: str) -> list[Value] | None:
    """The positional arguments of the call from the one bound to ``first`` on (``view(b, t, -1)``)."""
    node = value.node
    start = value.arg_nodes.get(first)
    if not isinstance(node, ast.Call) or start is None or any(k.arg is None for k in node.keywords):
        return None  # **kwargs could hold anything
    by_node = {id(n): v for n, v in ((value.arg_nodes[k], value.args[k]) for k in value.arg_nodes if k in value.args)}
    found: list[Value] = []
    for arg in node.args:
        if isinstance(arg, ast.Starred):
            return None
        if found or arg is start:
            item = by_node.get(id(arg))
            if item is None:
                return None
            found.append(item)
    return found


def sizes(value: Value, name: str, *, varargs: bool) -> tuple[int | None, ...] | None:
    """The sizes a call writes for its shape argument ``name``; None when they are not literal."""
    arg = value.args.get(name)
    if arg is None:
        return None
    if arg.kind == TUPLE:
        items = arg.items
    elif varargs:
        items = _positional(value, name)
        sizes_only = value.spelling is not None and value.spelling.qualname in _SIZES_ONLY
        if items is not None and len(items) == 1 and not sizes_only and int_const(arg) is None \
                and not _int_valued(arg):
            return None  # torch.zeros(shape) with a shape held in a variable
    else:
        items = [arg] if int_const(arg) is not None or _int_valued(arg) else None
    if items is None:
        return None
    result: list[int | None] = []
    for item in items:
        if item.kind == TUPLE:
            return None
        size = int_const(item)
        result.append(size if size is not None and size >= 0 else None)
    return tuple(result)


_SIZES_ONLY = ("numpy.random.randn", "numpy.random.rand")  # each argument is one size, never a tuple


def _varargs(value: Value) -> bool:
    """Whether the call takes sizes as separate arguments: ``torch.zeros(2, 3)``, ``x.view(b, -1)``."""
    spelling = value.spelling
    if value.method:
        return True
    if spelling is None:
        return False
    return spelling.framework == "torch" or spelling.qualname in _SIZES_ONLY


def _literal_shape(value: Value, depth: int = 0) -> tuple[int | None, ...] | None:
    """The shape of nested list/tuple literals: ``[[1.0], [2.0]]`` is (2, 1)."""
    if value.kind != TUPLE or value.items is None or depth > 6:
        return None
    if not value.items:
        return (0,)
    first = value.items[0]
    if first.kind == TUPLE:
        inner = _literal_shape(first, depth + 1)
        return (len(value.items), *inner) if inner is not None else None
    if first.kind == CONST and isinstance(first.const, (int, float)):
        return (len(value.items),)
    return None


# -- handlers -------------------------------------------------------------------


def _same(args: dict[str, Value], value: Value) -> Shape | None:
    return shape_of(args.get("input"))


def _scalar(args: dict[str, Value], value: Value) -> Shape | None:
    return SCALAR


def _float(args: dict[str, Value], value: Value) -> Shape | None:
    if value.spelling is not None and value.spelling.qualname == "builtins.float":
        return SCALAR
    return shape_of(args.get("input"))


def _size(args: dict[str, Value], value: Value) -> Shape | None:
    return SCALAR if "axis" in args else None


def _binary(args: dict[str, Value], value: Value) -> Shape | None:
    return broadcast(shape_of(args.get("input")), shape_of(args.get("other")))


def _pow(args: dict[str, Value], value: Value) -> Shape | None:
    return broadcast(shape_of(args.get("input")), shape_of(args.get("exponent")))


def _where(args: dict[str, Value], value: Value) -> Shape | None:
    if "input" not in args or "other" not in args:
        return None  # where(cond): the indices
    return broadcast(broadcast(shape_of(args.get("condition")), shape_of(args["input"])), shape_of(args["other"]))


def _clamp(args: dict[str, Value], value: Value) -> Shape | None:
    shape = shape_of(args.get("input"))
    for bound in ("min", "max"):
        if bound in args:
            shape = broadcast(shape, shape_of(args[bound]))
    return shape


def _constructor(*, varargs: bool) -> Handler:
    """Constructors taking a ``shape``; with ``varargs``, torch/NumPy also accept ``zeros(2, 3)``."""
    def handler(args: dict[str, Value], value: Value) -> Shape | None:
        arg = args.get("shape")
        if arg is not None and arg.kind == OP and (arg.op in ("shape", "shape_of")
                                                   or (arg.op == "size" and "axis" not in arg.args)):
            return shape_of(arg.args.get("input"))  # torch.zeros(x.shape)
        found = sizes(value, "shape", varargs=varargs and _varargs(value))
        return exact(found, _evidence(value), LITERAL) if found is not None else None
    return handler


def _like(args: dict[str, Value], value: Value) -> Shape | None:
    return shape_of(args.get("input"))


def _eye(args: dict[str, Value], value: Value) -> Shape | None:
    if "batch_shape" in args:
        return None
    n = int_const(args.get("n"))
    m = int_const(args.get("m")) if "m" in args else n
    return exact((n, m), _evidence(value), LITERAL)


def _grid(args: dict[str, Value], value: Value) -> Shape | None:
    return exact((None,), _evidence(value), GRID)


def _data(args: dict[str, Value], value: Value) -> Shape | None:
    """``torch.tensor(data)``, ``np.array(data)``, ``tf.constant(value, shape=...)``."""
    if "shape" in args:
        found = sizes(value, "shape", varargs=False)
        if found is not None:
            return exact(found, _evidence(value), LITERAL)
    data = args.get("input")
    if data is not None and data.kind == TUPLE:
        literal = _literal_shape(data)
        return exact(literal, _evidence(value), DATA) if literal is not None else None
    return shape_of(data)


def _reshape(args: dict[str, Value], value: Value) -> Shape | None:
    found = sizes(value, "shape", varargs=_varargs(value))
    if found is None:
        return None
    if value.spelling is None:  # the Keras Reshape layer: its target shape excludes the batch axis
        found = (None, *found)
    return exact(found, _evidence(value), LAYOUT)


def _as_other(args: dict[str, Value], value: Value) -> Shape | None:
    return shape_of(args.get("other"))


def _ensure_shape(args: dict[str, Value], value: Value) -> Shape | None:
    declared = args.get("shape")
    if declared is None or declared.kind != TUPLE or declared.items is None:
        return shape_of(args.get("input"))
    dims: list[int | None] = []
    for item in declared.items:
        if item.kind == CONST and item.const is None:
            dims.append(None)
        elif int_const(item) is not None:
            dims.append(int_const(item))
        else:
            return None
    return exact(dims, _evidence(value), LAYOUT)


def _keras_input(args: dict[str, Value], value: Value) -> Shape | None:
    if "batch_shape" in args:
        found = sizes(value, "batch_shape", varargs=False)
        return exact(found, _evidence(value), LITERAL) if found is not None else None
    found = sizes(value, "shape", varargs=False)
    return exact((None, *found), _evidence(value), LITERAL) if found is not None else None


def _squeeze(args: dict[str, Value], value: Value) -> Shape | None:
    shape = shape_of(args.get("input"))
    if shape is None:
        return None
    axis = args.get("axis")
    axes = int_list(axis)
    why = _evidence(value)
    if axes is not None:
        squeezed = drop_axes(shape, axes)
        return replace(squeezed, why=why, origin=LAYOUT) if squeezed is not None else None
    if (axis is not None and not (axis.kind == CONST and axis.const is None)) or shape.rank is None:
        return None
    # Unknown sizes are taken as not 1: a batch is rarely a single sample.
    return exact((d for d in shape.dims if d != 1), why, LAYOUT)


def _unsqueeze(args: dict[str, Value], value: Value) -> Shape | None:
    axes = int_list(args.get("axis"))
    if axes is None or len(axes) != 1:
        return None
    return insert_axis(shape_of(args.get("input")), axes[0], _evidence(value))


def _flatten(args: dict[str, Value], value: Value) -> Shape | None:
    why = _evidence(value)
    spelling = value.spelling
    if spelling is None or spelling.qualname == "keras.backend.batch_flatten":
        return exact((None, None), why, LAYOUT)  # nn.Flatten / keras Flatten keep the batch axis
    start = int_const(args.get("start_dim")) if "start_dim" in args else 0
    end = args.get("end_dim")
    if start is None or start < 0 or (end is not None and int_const(end) != -1):
        return None
    return exact((None,) * (start + 1), why, LAYOUT)


def _reduction(args: dict[str, Value], value: Value) -> Shape | None:
    axis = args.get("axis")
    keep = args.get("keepdim")
    if keep is not None and not (keep.kind == CONST and isinstance(keep.const, bool)):
        return None
    keepdim = keep is not None and keep.const is True
    if axis is None or (axis.kind == CONST and axis.const is None):
        if keepdim:
            shape = shape_of(args.get("input"))
            return exact((1,) * shape.rank, _evidence(value), BROADCAST) if shape and shape.rank else None
        return SCALAR
    axes = int_list(axis)
    if axes is None:
        return None  # torch.max(a, b) is element-wise; an axis held in a variable is unknown
    shape = shape_of(args.get("input"))
    if keepdim:
        return set_axes(shape, axes, 1, _evidence(value), BROADCAST)
    return drop_axes(shape, axes)


def _permute(args: dict[str, Value], value: Value) -> Shape | None:
    shape = shape_of(args.get("input"))
    if shape is None or shape.rank is None:
        return None
    written = args.get("dims")
    order: list[int] | None
    if written is not None and written.kind != TUPLE and _varargs(value):
        found = _positional(value, "dims")  # x.permute(0, 2, 1)
        order = int_list(Value(TUPLE, items=found)) if found else None
    else:
        order = int_list(written)
    positions = _normalize(order, shape.rank) if order is not None else None
    if order is None or positions is None or len(positions) != shape.rank or len(order) != shape.rank:
        return None
    return exact((shape.dims[i] for i in order), shape.why, shape.origin)


_SWAPS = (("dim0", "dim1"), ("axis0", "axis1"), ("axis1", "axis2"))


def _transpose(args: dict[str, Value], value: Value) -> Shape | None:
    shape = shape_of(args.get("input"))
    if shape is None or shape.rank is None:
        return None
    if shape.rank <= 1:
        return shape
    if value.spelling is not None and value.spelling.attr == "matrix_transpose":
        return exact(shape.dims[:-2] + (shape.dims[-1], shape.dims[-2]), shape.why, shape.origin)
    if value.op == "t" or len(args) == 1:  # x.t(), tf.transpose(x), np.transpose(x): all axes reversed
        return exact(reversed(shape.dims), shape.why, shape.origin)
    order = int_list(args.get("perm") or args.get("axes"))
    if order is None:
        for first, second in _SWAPS:
            pair = int_list(args.get(first)), int_list(args.get(second))
            if pair[0] is not None and pair[1] is not None:
                order = list(range(shape.rank))
                i, j = (a + shape.rank if a < 0 else a for a in (pair[0][0], pair[1][0]))
                if not (0 <= i < shape.rank and 0 <= j < shape.rank):
                    return None
                order[i], order[j] = order[j], order[i]
                break
    positions = _normalize(order, shape.rank) if order is not None else None
    if order is None or positions is None or len(positions) != shape.rank or len(order) != shape.rank:
        return exact((None,) * shape.rank)
    return exact((shape.dims[i] for i in order), shape.why, shape.origin)


def _cumsum(args: dict[str, Value], value: Value) -> Shape | None:
    axis = args.get("axis")
    if axis is None or (axis.kind == CONST and axis.const is None):
        return None  # numpy flattens without an axis
    return shape_of(args.get("input"))


def _matmul(args: dict[str, Value], value: Value) -> Shape | None:
    if len(args) != 2:
        return None  # transpose_a=..., batch_dot(axes=...)
    a, b = shape_of(args.get("input")), shape_of(args.get("other"))
    if b is None or b.rank is None or b.rank == 0:
        return None
    if b.rank == 1:
        return drop_axes(a, [-1]) if a is not None else None
    last = b.dims[-1]
    why = _evidence(value)
    if a is not None and a.rank == 1:
        return exact(b.dims[:-2] + (last,), why, HEAD)
    if a is not None and a.rank is not None and b.rank == 2:
        return exact(a.dims[:-1] + (last,), why, HEAD)
    if b.rank == 2 and last == 1:
        # A (k, 1) weight makes a column of predictions; the input is taken to be a matrix.
        return trailing((last,), max(2, a.min_rank if a else 2), why, HEAD)
    return None


_UNITS = {"out_features": "nn.Linear(..., {})", "units": "Dense({})", "features": "nn.Dense({})"}


def _linear(args: dict[str, Value], value: Value) -> Shape | None:
    """A dense layer: the input's shape with the last axis replaced by the number of units."""
    units: int | None = None
    why: Evidence | None = None
    name = next((n for n in _UNITS if n in args), None)
    if name is not None:
        units = int_const(args[name])
        why = _evidence(value, _UNITS[name].format(units), args[name].node)
    else:
        weight = shape_of(args.get("weight"))  # F.linear(x, w): w is (out, in)
        if weight is not None and weight.rank == 2:
            units, why = weight.dims[0], _evidence(value)
    if units is None:
        return None
    shape = shape_of(args.get("input"))
    if shape is not None and shape.rank:
        return exact(shape.dims[:-1] + (units,), why, HEAD)
    return trailing((units,), 2, why, HEAD)


def _getitem(args: dict[str, Value], value: Value) -> Shape | None:
    shape = shape_of(args.get("input"))
    node = value.node
    if shape is None:
        return None
    if isinstance(node, ast.Attribute):  # x.T, x.mT, x.data, x.real
        attr = node.attr
        if attr in ("data", "real"):
            return shape
        if attr == "T" and shape.rank is not None:
            return exact(reversed(shape.dims), shape.why, shape.origin)
        if attr == "mT" and len(shape.dims) >= 2:
            dims = shape.dims[:-2] + (shape.dims[-1], shape.dims[-2])
            return replace(shape, dims=dims)
        return None
    if not isinstance(node, ast.Subscript):
        return None
    elements = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
    items = [_index_kind(element) for element in elements]
    if any(item is None for item in items):
        return None
    return _apply_index(shape, items, _evidence(value))  # type: ignore[arg-type]


# An index item: ("new",) for None, ("int",), ("slice", size or None), ("...",)
def _index_kind(item: ast.expr) -> tuple | None:
    if isinstance(item, ast.Slice):
        return ("slice", _slice_size(item))
    if isinstance(item, ast.Starred):
        return None
    if isinstance(item, ast.Constant) and item.value is None:
        return ("new",)
    if isinstance(item, ast.Name) and item.id == "newaxis":
        return ("new",)
    if isinstance(item, ast.Attribute) and item.attr == "newaxis":
        return ("new",)
    if isinstance(item, ast.Constant) and item.value is Ellipsis:
        return ("...",)
    if _literal_int(item) is not None:
        return ("int",)
    return None  # a tensor or a variable: advanced indexing, or an int we cannot tell from a slice


def _slice_size(piece: ast.Slice) -> int | None | str:
    """The size a slice keeps: "same" for ``:``, 1 for ``:1`` / ``0:1`` / ``-1:``, else unknown."""
    lower, upper, step = piece.lower, piece.upper, piece.step
    if step is not None:
        return None
    low = _literal_int(lower)
    high = _literal_int(upper)
    if lower is None and upper is None:
        return "same"
    if (lower is None or low == 0) and high == 1:
        return 1
    if low == -1 and upper is None:
        return 1
    return None


def _literal_int(node: ast.expr | None) -> int | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return node.value
    if (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub)
            and isinstance(node.operand, ast.Constant) and isinstance(node.operand.value, int)
            and not isinstance(node.operand.value, bool)):
        return -node.operand.value
    return None


def _apply_index(shape: Shape, items: list[tuple], why: Evidence | None) -> Shape | None:
    ellipsis = [i for i, item in enumerate(items) if item[0] == "..."]
    if len(ellipsis) > 1:
        return None
    head, tail = (items[:ellipsis[0]], items[ellipsis[0] + 1:]) if ellipsis else (items, [])
    consumed_head = sum(item[0] in ("int", "slice") for item in head)
    consumed_tail = sum(item[0] in ("int", "slice") for item in tail)
    added = sum(item[0] == "new" for item in items) - sum(item[0] == "int" for item in items)
    last_item = None  # the index item that produced the result's last axis, if any
    if shape.rank is not None:
        if consumed_head + consumed_tail > shape.rank:
            return None
        middle = shape.dims[consumed_head:shape.rank - consumed_tail]
        front = _indexed(head, shape.dims[:consumed_head])
        back = _indexed(tail, shape.dims[shape.rank - consumed_tail:])
        if back:
            last_item = _producer(tail)
        elif not middle and front:
            last_item = _producer(head)
        dims: tuple[int | None, ...] = front + middle + back
        rank: int | None = len(dims)
        min_rank = len(dims)
    elif ellipsis:
        known = shape.dims
        if consumed_tail > len(known):
            before: tuple[int | None, ...] = ()
            consumed: tuple[int | None, ...] = (None,) * consumed_tail
        else:
            before, consumed = known[:len(known) - consumed_tail], known[len(known) - consumed_tail:]
        back = _indexed(tail, consumed)
        last_item = _producer(tail) if back else None
        dims, rank, min_rank = before + back, None, shape.min_rank + added
    else:
        if consumed_head > shape.min_rank - len(shape.dims):
            return None  # the index reaches into the trailing axes we know
        dims, rank, min_rank = shape.dims, None, shape.min_rank + added
    origin, evidence = shape.origin, why if added else shape.why
    if last_item is not None and last_item[0] == "new":
        origin, evidence = BROADCAST, why
    elif last_item is not None and last_item[1] == 1:
        origin, evidence = LAYOUT, why  # x[:, :1], x[:, -1:]: a column taken on purpose, not to broadcast
    if rank is not None:
        return exact(dims, evidence, origin)
    return trailing(dims, min_rank, evidence, origin)


def _producer(items: list[tuple]) -> tuple | None:
    """The last item that makes an axis of the result (integers remove theirs)."""
    return next((item for item in reversed(items) if item[0] in ("new", "slice")), None)


def _indexed(items: list[tuple], dims: tuple[int | None, ...]) -> tuple[int | None, ...]:
    """The sizes ``items`` leave of the axes ``dims`` they consume, in order."""
    result: list[int | None] = []
    position = 0
    for item in items:
        if item[0] == "new":
            result.append(1)
        elif item[0] == "int":
            position += 1
        elif item[0] == "slice":
            size = item[1]
            result.append(dims[position] if size == "same" else size)
            position += 1
    return tuple(result)


SAME_SHAPE = (
    "log", "log2", "log10", "log1p", "exp", "exp2", "expm1", "sqrt", "rsqrt", "square", "abs", "neg",
    "reciprocal", "reciprocal_no_nan", "sign", "sin", "cos", "tan", "acos", "asin", "atan", "sinh", "cosh",
    "tanh", "sigmoid", "logsigmoid", "softplus", "relu", "relu6", "elu", "selu", "gelu", "silu", "leaky_relu",
    "erf", "erfc", "erfinv", "lgamma", "digamma", "logit", "isnan", "isinf", "isfinite", "nan_to_num", "floor",
    "ceil", "round", "softmax", "log_softmax", "clamp_min", "clamp_max", "normalize", "standardize",
    "dropout", "identity", "layer_norm", "batch_norm", "group_norm", "rms_norm", "detach", "clone",
    "contiguous", "double", "half", "bfloat16", "to", "cpu", "cuda", "type", "astype", "cast",
    "stop_gradient", "numpy", "not", "invert", "masked_fill", "clip_by_norm", "parameter",
)
BINARY = (
    "add", "sub", "mul", "div", "div_no_nan", "floordiv", "mod", "maximum", "minimum", "logaddexp", "xlogy",
    "xlog1py", "atan2", "eq", "ne", "lt", "le", "gt", "ge",
)
REDUCTIONS = (
    "max", "min", "amax", "amin", "sum", "mean", "prod", "std", "var", "logsumexp", "count_nonzero", "median",
    "all", "any", "argmax", "argmin", "norm", "safe_norm",
)

HANDLERS: dict[str, Handler] = {
    **{op: _same for op in SAME_SHAPE},
    **{op: _binary for op in BINARY},
    **{op: _reduction for op in REDUCTIONS},
    **{op: _scalar for op in ("item", "len", "numel", "numel_attr", "dim", "ndim")},
    "float": _float, "size": _size, "pow": _pow, "where": _where, "clamp": _clamp,
    **{op: _constructor(varargs=True) for op in ("zeros", "ones", "empty", "randn", "rand")},
    **{op: _constructor(varargs=False) for op in ("full", "randint", "normal")}, "eye": _eye,
    "zeros_like": _like, "ones_like": _like, "full_like": _like, "empty_like": _like, "randn_like": _like,
    "rand_like": _like, "arange": _grid, "linspace": _grid,
    "asarray": _data, "as_tensor": _data,
    "view": _reshape, "reshape": _reshape, "view_as": _as_other, "expand_as": _as_other,
    "ensure_shape": _ensure_shape, "keras_input": _keras_input,
    "squeeze": _squeeze, "unsqueeze": _unsqueeze, "expand_dims": _unsqueeze, "flatten": _flatten,
    "permute": _permute, "transpose": _transpose, "t": _transpose,
    "cumsum": _cumsum,
    "matmul": _matmul, "linear": _linear, "getitem": _getitem,
}


def infer_shape(op: str, args: dict[str, Value], value: Value) -> Shape | None:
    """The shape of an op's result, from its arguments' shapes; None when nothing is known."""
    handler = HANDLERS.get(op)
    if handler is None:
        return None
    return handler(args, value)


def note_rank(value: Value | None, rank: int, where: ast.AST) -> None:
    """``b, t, d = x.shape`` proves x has ``rank`` axes; record it if nothing better is known."""
    if value is None or value.kind not in (OP, RESULT, "param") or value.shape is not None:
        return
    value.shape = Shape(rank, (None,) * rank, rank, Evidence(where, f"{rank} axes unpacked from .shape"), LAYOUT)
