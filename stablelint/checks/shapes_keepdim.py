"""SL402: ``x - x.mean(dim=d)`` without keepdim: the reduced tensor lines up with the wrong axes."""

from __future__ import annotations

import ast

from . import Checker, Report
from .. import fixes
from .losses import keyword_edit
from .shapes_common import SYMBOLS, display, operand, strip_same, text, with_why
from .support import array_framework
from ..dataflow import Context
from ..diagnostic import Fix
from ..render import Renderer
from ..scopes import assignment_of, inside
from ..shapes import SAME_SHAPE, Shape, int_list, shape_of
from ..values import CONST, OP, Value, same_syntax

ELEMENTWISE = ("sub", "div", "add", "mul")
REDUCTIONS = frozenset((
    "mean", "sum", "std", "var", "max", "min", "amax", "amin", "norm", "safe_norm", "logsumexp", "prod", "median",
))
_UNARY = frozenset(SAME_SHAPE) - {"masked_fill", "normalize", "standardize", "softmax", "log_softmax"}
_SCALED = ("add", "sub", "mul", "div", "maximum", "minimum", "pow")


class Check(Checker):
    ops = ELEMENTWISE

    def check(self, value: Value, context: Context, report: Report) -> None:
        for reduced_side, other_side in (("other", "input"), ("input", "other")):
            reduced = _reduction(value.args.get(reduced_side))
            if reduced is None:
                continue
            source = reduced.args.get("input")
            if not _shaped_like(value.args.get(other_side), source, value.arg_nodes.get(other_side),
                                reduced.arg_nodes.get("input")):
                continue
            shape = shape_of(source)
            axes = _misaligned(reduced, shape)
            if axes is None:
                continue
            report(value.node, _message(value, other_side, reduced, axes, shape, report.render,
                                        context.analyzer.module),
                   fix=_fix(value, reduced_side, reduced, context, report.render))
            return


def _reduction(value: Value | None) -> Value | None:
    """The reduction behind ``value``, through element-wise ops with scalars: ``x.std(1) + eps``."""
    for _ in range(8):
        if value is None or value.kind != OP:
            return None
        if value.op in REDUCTIONS:
            return value
        if value.op in _UNARY or value.op == "clamp":
            value = value.args.get("input")
        elif value.op in _SCALED:
            second = "exponent" if value.op == "pow" else "other"
            left, right = value.args.get("input"), value.args.get(second)
            if _is_scalar(right):
                value = left
            elif _is_scalar(left):
                value = right
            else:
                return None
        else:
            return None
    return None


def _is_scalar(value: Value | None) -> bool:
    shape = shape_of(value)
    return shape is not None and shape.rank == 0


def _same(a: Value | None, b: Value | None, a_node: ast.AST | None, b_node: ast.AST | None) -> bool:
    if a is None or b is None:
        return False
    if strip_same(a) is strip_same(b):
        return True
    # ``x[0] - x[0].mean(1)`` evaluates ``x[0]`` twice; a bare name is the same value or was rebound.
    return (a_node is not None and b_node is not None and not isinstance(a_node, ast.Name)
            and type(a_node) is type(b_node) and same_syntax(a_node, b_node))


def _shaped_like(a: Value | None, b: Value | None, a_node: ast.AST | None, b_node: ast.AST | None,
                 depth: int = 0) -> bool:
    """``a`` is ``b``, or element-wise arithmetic of ``b`` with scalars and reductions of ``b``
    (``(x - x.mean(1, keepdim=True)) / x.std(1)``): it has ``b``'s shape."""
    if _same(a, b, a_node, b_node):
        return True
    a = strip_same(a)
    if depth >= 4 or a is None or a.kind != OP:
        return False
    if a.op in _UNARY and a.op not in REDUCTIONS:
        return _shaped_like(a.args.get("input"), b, a.arg_nodes.get("input"), b_node, depth + 1)
    if a.op not in ELEMENTWISE:
        return False
    derived = False
    for name in ("input", "other"):
        side, node = a.args.get(name), a.arg_nodes.get(name)
        if _shaped_like(side, b, node, b_node, depth + 1):
            derived = True
        elif _is_scalar(side):
            continue
        else:
            inner = _reduction(side)
            if inner is None or not _same(inner.args.get("input"), b, inner.arg_nodes.get("input"), b_node):
                return False
    return derived


def _misaligned(reduced: Value, shape: Shape | None) -> list[int] | None:
    """The reduced axes, when they are not the leading ones and no keepdim keeps them in place."""
    keep = reduced.args.get("keepdim")
    if keep is not None and not (keep.kind == CONST and keep.const is False):
        return None
    axes = int_list(reduced.args.get("axis"))
    if not axes:
        return None
    if shape is not None and shape.rank is not None:
        positions = {a + shape.rank if a < 0 else a for a in axes}
        if not all(0 <= p < shape.rank for p in positions):
            return None
        return None if positions == set(range(len(positions))) else sorted(positions)
    if all(a >= 0 for a in axes):
        # A positive axis d proves the input has more than d axes.
        return None if set(axes) == set(range(len(axes))) else sorted(set(axes))
    if len(axes) == 1 and shape is not None and shape.min_rank > -axes[0]:
        return axes  # the last axis of an input known to have at least two
    return None


def _message(value: Value, x_side: str, reduced: Value, axes: list[int], shape: Shape | None,
             render: Renderer, module: ast.Module | None = None) -> str:
    side_text = operand(render, value, x_side)
    source_node = reduced.arg_nodes.get("input")
    if _same(value.args.get(x_side), reduced.args.get("input"), value.arg_nodes.get(x_side), source_node):
        x_text = side_text
    else:  # (x - m) / x.std(1): name the array the statistic is taken of
        x_text = render.short(source_node, reduced.args.get("input"))
        side_node = value.arg_nodes.get(x_side)
        if not isinstance(side_node, fixes.ATOMIC):
            side_text = f"({side_text})"
    call = render.text(reduced.node, 50)
    symbol = SYMBOLS.get(value.op or "", "-")
    expression = f"{side_text} {symbol} ..." if x_side == "input" else f"... {symbol} {side_text}"
    written = int_list(reduced.args.get("axis")) or axes
    which = "axis" if len(written) == 1 else "axes"
    listed = ", ".join(str(a) for a in written)
    if shape is not None and shape.rank is not None:
        full = display(shape)
        kept = tuple(size for i, size in enumerate(full) if i not in axes)
        shown = with_why(render, shape, text(full), source_node)
        trailing = full[len(full) - len(kept):]
        how = (f"`{call}` drops {which} {listed} of `{x_text}` {shown}, and broadcasting in `{expression}` lines "
               f"the result {text(kept)} up with the last axes {text(trailing)} instead of {text(kept)}")
    else:
        how = (f"`{call}` drops {which} {listed} of `{x_text}`, and broadcasting in `{expression}` lines the "
               f"remaining axes up with the last axes of `{x_text}` instead of the ones they came from")
    return (f"{how}, so elements meet another slice's statistic (a shape error, or silently wrong where the "
            f"sizes match); keep the axis: `{_kept(reduced, render, module)}`")


def _keyword(reduced: Value, module: ast.Module | None = None) -> str:
    """``keepdim`` (PyTorch) or ``keepdims`` (NumPy, JAX, TensorFlow, Keras; PyTorch accepts it
    next to ``axis=``): the spelling that matches the call as written.

    A method on an array of unknown origin (``x.sum(1)`` on a parameter) in a file that also
    imports NumPy or JAX may be either: ``keepdims``, which PyTorch's reductions accept too
    (all but ``norm``, which NumPy and JAX arrays do not have as a method).
    """
    call = reduced.node
    written = {k.arg for k in call.keywords} if isinstance(call, ast.Call) else set()
    if "dim" in written:
        return "keepdim"
    if written & {"axis", "axes"}:
        return "keepdims"
    source = reduced.args.get("input")
    known = array_framework(source) if source is not None else ""
    framework = known or (reduced.spelling.framework if reduced.spelling is not None else "")
    if framework == "torch" and not known and reduced.method and reduced.op != "norm" \
            and module is not None and _imports_other_arrays(module):
        return "keepdims"
    return "keepdim" if framework == "torch" else "keepdims"


def _imports_other_arrays(module: ast.Module) -> bool:
    """Whether the file imports NumPy or JAX, whose arrays share PyTorch's reduction methods."""
    for node in ast.walk(module):
        if isinstance(node, ast.Import):
            tops = [alias.name.split(".", 1)[0] for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            tops = [node.module.split(".", 1)[0]]
        else:
            continue
        if any(top in ("numpy", "jax") for top in tops):
            return True
    return False


def _fix(value: Value, reduced_side: str, reduced: Value, context: Context, render: Renderer) -> Fix | None:
    """``keepdim=True`` on the reduction, when it is in the reported expression or in a variable read
    only there (elsewhere the reduced shape may be what the code wants)."""
    call = reduced.node
    if not isinstance(call, ast.Call) or reduced.spelling is None:
        return None
    if not inside(call, value.node):
        name = value.arg_nodes.get(reduced_side)
        if not isinstance(name, ast.Name):
            return None
        found = assignment_of(context.analyzer.module, name)
        if found is None:
            return None
        assign, use = found
        if not inside(call, assign.value) or len(use.loads) != 1 or use.loads[0] is not name:
            return None
    keyword = _keyword(reduced, context.analyzer.module)
    written = reduced.arg_nodes.get("keepdim")
    edit = keyword_edit(render, call, keyword, "True", written if written is not None and inside(written, call)
                        else None)
    if edit is None:
        return None
    return Fix((edit,), "unsafe", f"keep the reduced axis: {keyword}=True")


def _kept(reduced: Value, render: Renderer, module: ast.Module | None = None) -> str:
    """The reduction written with keepdim: ``x.mean(dim=1, keepdim=True)``."""
    keyword = _keyword(reduced, module)
    code = render.text(reduced.node, 1000)
    if not isinstance(reduced.node, ast.Call) or not code.endswith(")"):
        return f"{code} (with {keyword}=True)"
    for written in ("keepdim=False", "keepdims=False", "keep_dims=False"):
        if written in code:
            code = code.replace(written, written.replace("False", "True"))
            break
    else:
        code = f"{code[:-1]}, {keyword}=True)"
    if len(code) > 70:
        code = f"{render.call(reduced)[:-1].rstrip('.')}..., {keyword}=True)"
    return code
