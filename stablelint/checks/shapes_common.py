"""Helpers shared by the shape rules (SL401-SL403): reading and describing shapes.

Not a checker itself: no rule names this module.
"""

from __future__ import annotations

import ast
import re

from .support import strip
from ..diagnostic import Fix
from ..render import Renderer
from ..shapes import Shape
from ..values import OP, RESULT, Value

# Unknown sizes are named by position, the way papers and docstrings write shapes.
_NAMES = {1: ("N",), 2: ("N", "D"), 3: ("B", "T", "D"), 4: ("B", "C", "H", "W")}
# Ops that keep an array's values and layout: x.float(), x.detach(), np.asarray(x).
SAME_ARRAY = frozenset((
    "detach", "clone", "contiguous", "float", "double", "half", "bfloat16", "to", "cpu", "cuda", "type",
    "astype", "cast", "stop_gradient", "asarray", "as_tensor", "numpy", "ensure_shape",
))
# Ops that change only an array's layout: the same data seen with other axes.
RELAYOUT = frozenset(("view", "reshape", "squeeze", "unsqueeze", "expand_dims", "getitem", "flatten", "transpose",
                      "permute", "t", "transpose_attr"))
_SIMPLE = re.compile(r"[\w.]+(\([^()]*\))?(\[[^\[\]]*\])?")
SYMBOLS = {"add": "+", "sub": "-", "mul": "*", "div": "/"}


def names(rank: int) -> tuple[str, ...]:
    return _NAMES.get(rank, tuple(f"d{i}" for i in range(rank)))


def display(shape: Shape, labels: tuple[str, ...] | None = None) -> tuple[str, ...]:
    """The sizes of ``shape`` as text, unknown ones named; rank unknown shows its lower bound."""
    rank = shape.known_rank
    labels = labels or names(rank)
    sizes = (None,) * (rank - len(shape.dims)) + shape.dims
    return tuple(labels[i] if size is None else str(size) for i, size in enumerate(sizes))


def text(sizes: tuple[str, ...]) -> str:
    return f"({sizes[0]},)" if len(sizes) == 1 else f"({', '.join(sizes)})"


def evidence(render: Renderer, shape: Shape | None) -> str:
    """Where a shape was established: 'nn.Linear(..., 1) on line 15', '.view(-1) on line 23'."""
    if shape is None or shape.why is None:
        return ""
    why = shape.why
    label = why.label
    if label is None:
        node = why.node
        label = render.text(node, 1000)
        if why.method and isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            receiver = receiver_text(render, node.func, 1000)
            if label.startswith(receiver):
                label = label[len(receiver):]
        if len(label) > 40 and isinstance(node, ast.Call):
            callee = f".{node.func.attr}" if why.method and isinstance(node.func, ast.Attribute) else \
                render.text(node.func, 30)
            label = f"{callee}(...)"
        elif len(label) > 40:
            label = label[:37].rstrip() + "..."
    return f"{label} on line {render.line(why.node)}"


def root(value: Value | None) -> Value | None:
    """The array behind layout and dtype changes: ``y`` for ``y.float().view(-1, 1)``."""
    for _ in range(32):
        if value is None:
            return None
        if value.kind == RESULT and value.via is not None:
            value = value.via
        elif value.kind == OP and (value.op in SAME_ARRAY or value.op in RELAYOUT) and "input" in value.args:
            value = value.args["input"]
        else:
            return value
    return value


def strip_same(value: Value | None) -> Value | None:
    """``value`` without ops that keep values and layout (``x.detach().float()`` is ``x``)."""
    return None if value is None else strip(value, SAME_ARRAY, limit=33)


def column_pair(a: Shape | None, b: Shape | None) -> bool:
    """``a`` ends in a size-1 axis that ``b``'s last axis will be broadcast against: (N, 1) and (N,)."""
    if a is None or b is None or b.rank is None or b.rank == 0:
        return False
    if a.last != 1 or b.last == 1:
        return False
    if a.rank is not None:
        return a.rank == b.rank + 1
    return a.min_rank >= b.rank + 1 and len(a.dims) <= b.rank + 1


def describe_pair(column: Shape, vector: Shape) -> tuple[str, str, str]:
    """Texts for the column, the vector and what broadcasting them gives: '(N, 1)', '(N,)', '(N, N)'."""
    rank = max(column.known_rank, vector.known_rank + 1)
    labels = names(rank)
    if column.known_rank != rank:
        column = Shape(rank, (None,) * (rank - 1) + (1,))
    col = display(column, labels)
    vec = display(vector, labels[:rank - 1])
    if rank == 2:
        result = text((col[0], vec[0]))
    else:
        result = "a shape that pairs the wrong axes"
    return text(col), text(vec), result


def operand(render: Renderer, value: Value, name: str) -> str:
    node = value.arg_nodes.get(name)
    return render.short(node, value.args.get(name))


def with_why(render: Renderer, shape: Shape | None, shown: str, written: ast.AST | None = None) -> str:
    """``shown`` followed by where the shape comes from, unless that is ``written`` itself."""
    if shape is not None and shape.why is not None and written is not None and shape.why.node is written:
        return shown
    where = evidence(render, shape)
    return f"{shown} ({where})" if where else shown


def squeezed(text: str, render: Renderer, value: Value, column: Value | None = None) -> str:
    """``text`` without its trailing size-1 axis, in the file's framework.

    When ``text`` itself makes the column (``y.reshape(-1, 1)``, ``y.unsqueeze(1)``), undo that instead.
    """
    node = column.node if column is not None else None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and text == render.text(node, 1000):
        receiver = receiver_text(render, node.func, 1000)
        attr = node.func.attr
        if attr in ("reshape", "view"):
            return f"{receiver}.{attr}(-1)"
        if attr in ("unsqueeze", "expand_dims"):
            return receiver
    like = [v for v in (value, value.args.get("input"), value.args.get("other")) if v is not None]
    if render.framework(like) == "tensorflow":
        return f"{render.suggest('squeeze', like)}({text}, axis=-1)"
    receiver = text if _SIMPLE.fullmatch(text) else f"({text})"
    return f"{receiver}.squeeze(-1)"


def receiver_text(render: Renderer, attribute: ast.Attribute, limit: int = 60) -> str:
    """The text of ``attribute``'s receiver with the parentheses written around it (``(a + b)``)."""
    return render.receiver(attribute, limit)


def column_is_the_layout(column: Shape, value: Value, render: Renderer) -> bool:
    """Whether the code works with columns: the (N, 1) side is built with literal sizes
    (``np.random.rand(n, 1)``) or is a NumPy matrix product with a column of weights (``X @ w``).

    There the other side should become a column (``y.reshape(-1, 1)``), so the result keeps the
    shape the following lines expect; elsewhere (a model's (N, 1) head, an explicit
    ``reshape(-1, 1)``) the column is squeezed.
    """
    from ..shapes import HEAD, LITERAL

    like = [v for v in (value, value.args.get("input"), value.args.get("other")) if v is not None]
    return column.origin == LITERAL or (column.origin == HEAD and render.framework(like) == "numpy")


def as_column(text: str, render: Renderer, value: Value) -> str:
    """``text`` reshaped to a column, in the file's framework."""
    like = [v for v in (value, value.args.get("input"), value.args.get("other")) if v is not None]
    if render.framework(like) == "tensorflow":
        return f"{render.suggest('reshape', like)}({text}, [-1, 1])"
    receiver = text if _SIMPLE.fullmatch(text) else f"({text})"
    return f"{receiver}.reshape(-1, 1)"


def shape_fix(render: Renderer, value: Value, column_side: str, vector_side: str, column: Shape) -> Fix | None:
    """Make the element-wise op ``value`` pair its operands one to one (unsafe: the result changes).

    Squeeze the ``(N, 1)`` operand (``y.reshape(-1, 1)`` written right there becomes
    ``y.reshape(-1)``; anything else gets ``.squeeze(-1)``, or ``tf.squeeze(..., axis=-1)`` in
    TensorFlow, whose tensors have no such method), or, where the code works with columns (see
    ``column_is_the_layout``), reshape the ``(N,)`` operand to a column.
    """
    from .. import fixes

    outer = value.node
    if not isinstance(outer, (ast.BinOp, ast.Call)):
        return None  # x -= y and the like: an operand is an assignment target
    like = [v for v in (value, value.args.get("input"), value.args.get("other")) if v is not None]
    tensorflow = render.framework(like) == "tensorflow"
    if column_is_the_layout(column, value, render):
        node = value.arg_nodes.get(vector_side)
        if node is None or node is outer or not _within(node, outer):
            return None
        if tensorflow:
            spelled = fixes.spelled(render, "reshape", like)
            if spelled is None or spelled[0].startswith("."):
                return None
            return fixes.replace(render, node, f"{spelled[0]}({render.segment(node)}, [-1, 1])", "unsafe",
                                 "reshape the other side to a column", spelled[1])
        return fixes.replace(render, node, f"{fixes.operand(render, node)}.reshape(-1, 1)", "unsafe",
                             "reshape the other side to a column")
    node = value.arg_nodes.get(column_side)
    if node is None or node is outer or not _within(node, outer):
        return None
    written = render.segment(node)
    operand_value = value.args.get(column_side)
    if operand_value is not None and operand_value.node is node and isinstance(node, ast.Call) \
            and isinstance(node.func, ast.Attribute) and operand_value.method:
        attr = node.func.attr
        if attr in ("reshape", "view") and _column_shape(node):
            receiver = written[:_receiver_end(render, node)]
            return fixes.replace(render, node, f"{receiver}.{attr}(-1)", "unsafe", f"use {attr}(-1)")
    if tensorflow:
        spelled = fixes.spelled(render, "squeeze", like)
        if spelled is None or spelled[0].startswith("."):
            return None
        return fixes.replace(render, node, f"{spelled[0]}({written}, axis=-1)", "unsafe", "squeeze the last axis",
                             spelled[1])
    return fixes.replace(render, node, f"{fixes.operand(render, node)}.squeeze(-1)", "unsafe",
                         "squeeze the last axis")


def _column_shape(call: ast.Call) -> bool:
    """``x.reshape(-1, 1)`` / ``x.view(-1, 1)`` / ``x.reshape((-1, 1))``: a column of everything."""
    args = call.args
    if len(args) == 1 and isinstance(args[0], (ast.Tuple, ast.List)):
        args = args[0].elts
    if call.keywords or len(args) != 2:
        return False
    return _integer(args[0]) == -1 and _integer(args[1]) == 1


def _integer(node: ast.AST) -> int | None:
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, RecursionError):
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _receiver_end(render: Renderer, call: ast.Call) -> int:
    """Where the receiver of ``call``'s method ends, counted in characters of the call's source."""
    func = call.func
    assert isinstance(func, ast.Attribute)
    text = render.segment(func)
    head = text[: len(text) - len(func.attr)].rstrip()
    return len(head) - 1  # the '.' before the method name


def _within(inner: ast.AST, outer: ast.AST) -> bool:
    a = (inner.lineno, inner.col_offset, inner.end_lineno, inner.end_col_offset)  # type: ignore[attr-defined]
    b = (outer.lineno, outer.col_offset, outer.end_lineno, outer.end_col_offset)  # type: ignore[attr-defined]
    return (b[0], b[1]) <= (a[0], a[1]) and (a[2], a[3]) <= (b[2], b[3])
