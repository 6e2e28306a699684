"""Helpers shared by the shape rules (SL401-SL403): reading and describing shapes.

Not a checker itself: no rule names this module.
"""

from __future__ import annotations

import ast
import re

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
    for _ in range(32):
        if value is None:
            return None
        if value.kind == RESULT and value.via is not None:
            value = value.via
        elif value.kind == OP and value.op in SAME_ARRAY and "input" in value.args:
            value = value.args["input"]
        else:
            return value
    return value


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
