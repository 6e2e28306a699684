"""SL504: a huge negative mask value (-1e9, -inf) on scores that go into a softmax.

Only a row that is masked *entirely* turns into NaN, so masks that provably keep one entry in every
row are left alone: a causal mask built with ``tril``/``triu`` of ones (every row keeps its diagonal),
and top-k / threshold-below-the-maximum filtering (every row keeps its maximum).  A softmax whose
NaN rows are cleaned up (``nan_to_num``) is fine too.
"""

from __future__ import annotations

import ast
import math

from . import Checker, Report
from .. import fixes
from .logexp_support import call_arguments
from .support import made_from
from ..dataflow import Context
from ..transfer import same_source
from ..values import CONST, INSTANCE, MEMBER, MODULE, OP, PARAM, RESULT, UNKNOWN_KIND, Value, same_syntax

FLOAT16_MAX = 65504.0
FILL_OPS = ("masked_fill", "where")
THROUGH_OPS = ("add", "sub", "mul", "div", "getitem", "float", "to", "type", "contiguous", "view", "reshape",
               "transpose", "permute", "cast", "masked_fill", "where")
# Ops that keep a mask's pattern as it is (no transposition: the transpose of tril is triu).
MASK_KEEPING = ("getitem", "unsqueeze", "view", "reshape", "expand", "expand_as", "broadcast_to", "to", "float",
                "double", "half", "bfloat16", "type", "astype", "cast", "contiguous", "detach", "clone", "cuda",
                "cpu", "expand_dims")
# The same, as method names seen in syntax the analysis did not resolve (``.bool()``, ``.to(device)``).
MASK_KEEPING_METHODS = frozenset(MASK_KEEPING) | {"bool", "int", "long", "byte", "to_dense", "requires_grad_"}
ONES_CALLS = ("ones", "ones_like")
FULL_CALLS = ("full", "full_like")
# Order statistics of a row: filtering below one of them keeps the row's maximum.
ORDER_STATISTIC_CALLS = ("topk", "top_k", "kthvalue", "quantile", "nanquantile", "sort", "msort")
MAX_REDUCTIONS = ("max", "amax")
SANITIZERS = ("nan_to_num",)


class Check(Checker):
    ops = ("softmax", "log_softmax") + SANITIZERS

    def check(self, value: Value, context: Context, report: Report) -> None:
        scores = value.args.get("input")
        if scores is None:
            return
        if value.op in SANITIZERS:
            # nan_to_num(softmax(...)): fully masked rows become 0 instead of NaN, on purpose
            cleaned = context.analyzer.rule_state(self, set)
            for inner in made_from(scores, MASK_KEEPING, limit=8):
                if inner.kind == OP and inner.op in ("softmax", "log_softmax"):
                    cleaned.add(id(inner))
            return
        found = context.analyzer.rule_state(self, dict)
        for literal, fill, slot in _mask_constants(scores):
            if _every_row_keeps_one(fill, slot, context):
                continue
            found.setdefault(id(literal.node), (literal, value, fill, slot))

    def finish(self, context: Context, report: Report) -> None:
        float16 = "float16" in context.analyzer.flags
        cleaned = context.analyzer.rule_state(self, set)
        render = report.render
        for literal, softmax, fill, slot in context.analyzer.rule_state(self, dict).values():
            if id(softmax) in cleaned:
                continue
            fix = _lowest_finite(render, literal, fill, slot)
            text = render.text(literal.node, 24)
            where = render.line(softmax.node)
            if literal.kind == OP or math.isinf(float(literal.const)):
                report(literal.node,
                       f"masking with {text} before the softmax on line {where} gives NaN for a row that is masked "
                       f"entirely (softmax of all -inf is 0/0); use torch.finfo(scores.dtype).min", fix=fix)
            elif float16:
                report(literal.node,
                       f"masking with {text} before the softmax on line {where} overflows to -inf in float16 "
                       f"(this file uses float16; its largest value is 65504) and gives NaN for fully masked rows; "
                       f"use torch.finfo(scores.dtype).min", fix=fix)


def _lowest_finite(render, literal: Value, fill: Value, slot: str):
    """The mask constant -> the lowest finite value of the scores' dtype: ``torch.finfo(scores.dtype).min``.

    Offered where the constant is written in the masking call and the scores are a name or attribute.
    """
    if fill.op == "masked_fill":
        target = fill.arg_nodes.get("input")
    elif fill.op == "where":
        target = fill.arg_nodes.get("input" if slot == "other" else "other")
    else:
        return None  # (1 - mask) * -1e9: the scores are not in the expression
    if not isinstance(target, (ast.Name, ast.Attribute)) or not fixes.pure(target) \
            or not fixes.contains(fill.node, literal.node):
        return None
    scores = render.segment(target)
    if render.framework([fill]) == "tensorflow":
        text, imports = f"{scores}.dtype.min", ()
    else:
        found = fixes.spelled(render, "finfo", [fill])
        if found is None:
            return None
        text, imports = f"{found[0]}({scores}.dtype).min", found[1]
    return fixes.replace(render, literal.node, text, "unsafe", "mask with the lowest finite value of the dtype",
                         imports)


def _mask_constants(scores: Value, limit: int = 24):
    """Large negative constants written into ``scores``: (constant, the op writing it, its argument)."""
    stack, seen = [scores], 0
    while stack and seen < limit:
        current = stack.pop()
        seen += 1
        if current.kind != OP:
            continue
        if current.op in FILL_OPS:
            for name in ("value", "other", "input"):
                arg = current.args.get(name)
                if arg is not None and _huge_negative(arg):
                    yield arg, current, name
        elif current.op == "mul":  # additive mask: (1 - mask) * -1e9
            for name in ("input", "other"):
                arg = current.args.get(name)
                if arg is not None and _huge_negative(arg):
                    yield arg, current, name
        if current.op in THROUGH_OPS:
            stack.extend(current.args.values())


def _huge_negative(value: Value) -> bool:
    if value.kind == CONST and value.is_numeric_const:
        return float(value.const) <= -FLOAT16_MAX
    if value.kind == OP and value.op == "neg":
        inner = value.args.get("input")
        return inner is not None and inner.kind == OP and inner.op == "inf"
    return False


# -- masks that keep an entry in every row ----------------------------------------------------------


def _every_row_keeps_one(fill: Value, slot: str, context: Context) -> bool:
    """Whether the mask ``fill`` applies leaves at least one entry of every row unmasked."""
    if fill.op == "masked_fill":
        name, keep = "mask", False
        target = fill.args.get("input")
    elif fill.op == "where":
        name, keep = "condition", slot == "other"  # where(keep, scores, -inf)
        target = fill.args.get("input" if slot == "other" else "other")
    elif fill.op == "mul":  # scores + mask * -1e9: the mask's non-zero entries are masked
        name, keep = ("other" if slot == "input" else "input"), False
        target = None
    else:
        return False
    mask = fill.args.get(name)
    if mask is None:
        return False
    if _keeps_a_diagonal(mask, fill.arg_nodes.get(name), keep, context):
        return True
    return not keep and target is not None and _keeps_row_max(mask, target, fill.arg_nodes.get("input"), context)


def _keeps_a_diagonal(mask: Value, node: ast.AST | None, keep: bool, context: Context, depth: int = 0) -> bool:
    """A causal (triangular) mask: with ``mask``'s true entries kept (``keep``) or masked, no row is empty.

    ``node`` is the syntax that refers to ``mask``; where the analysis has no op for the value (tril and
    triu are none, and a value assigned on two branches is a join of both), the syntax is read instead,
    with every assignment of a variable in its function counted.
    """
    if depth > 12:
        return False
    if mask.kind == RESULT and mask.via is not None:
        return _keeps_a_diagonal(mask.via, None, keep, context, depth + 1)
    if mask.kind == OP:
        op = mask.op
        inner, inner_node = mask.args.get("input"), mask.arg_nodes.get("input")
        if op in ("invert", "not", "logical_not") and inner is not None:
            return _keeps_a_diagonal(inner, inner_node, not keep, context, depth + 1)
        if op in ("eq", "ne"):
            left, right = mask.args.get("input"), mask.args.get("other")
            if right is not None and right.kind == CONST and left is not None:
                side, side_node, constant = left, inner_node, right.const
            elif left is not None and left.kind == CONST and right is not None:
                side, side_node, constant = right, mask.arg_nodes.get("other"), left.const
            else:
                return False
            if not isinstance(constant, (int, float)):
                return False
            same = (op == "eq") == bool(constant)  # x == 1 / x != 0 keep x's pattern; x == 0 / x != 1 flip it
            return _keeps_a_diagonal(side, side_node, keep if same else not keep, context, depth + 1)
        if op == "sub":  # 1 - mask
            left, right = mask.args.get("input"), mask.args.get("other")
            if left is not None and left.kind == CONST and left.const == 1 and right is not None:
                return _keeps_a_diagonal(right, mask.arg_nodes.get("other"), not keep, context, depth + 1)
            return False
        if op in MASK_KEEPING and inner is not None:
            return _keeps_a_diagonal(inner, inner_node, keep, context, depth + 1)
        return False
    if mask.kind in (UNKNOWN_KIND, MEMBER) and node is not None:
        return _syntax_keeps_a_diagonal(node, keep, context, depth + 1)
    return False


def _syntax_keeps_a_diagonal(node: ast.AST, keep: bool, context: Context, depth: int) -> bool:
    """The same question asked of syntax."""
    if depth > 16:
        return False
    if isinstance(node, ast.Name):
        definitions = _definitions(node, context)
        return bool(definitions) and all(_syntax_keeps_a_diagonal(d, keep, context, depth + 1) for d in definitions)
    if isinstance(node, ast.Attribute):  # self.bias: register_buffer("bias", torch.tril(...)) or self.bias = ...
        definitions = _self_attribute_definitions(node, context)
        return bool(definitions) and all(_syntax_keeps_a_diagonal(d, keep, context, depth + 1) for d in definitions)
    if isinstance(node, ast.IfExp):
        return all(_syntax_keeps_a_diagonal(n, keep, context, depth + 1) for n in (node.body, node.orelse))
    if isinstance(node, ast.Subscript):
        return _syntax_keeps_a_diagonal(node.value, keep, context, depth + 1)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Invert, ast.Not)):
        return _syntax_keeps_a_diagonal(node.operand, not keep, context, depth + 1)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub) and _int_literal(node.left) == 1:
        return _syntax_keeps_a_diagonal(node.right, not keep, context, depth + 1)
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        operator, constant = node.ops[0], _int_literal(node.comparators[0])
        if constant is None or not isinstance(operator, (ast.Eq, ast.NotEq)):
            return False
        same = isinstance(operator, ast.Eq) == bool(constant)
        return _syntax_keeps_a_diagonal(node.left, keep if same else not keep, context, depth + 1)
    if not isinstance(node, ast.Call):
        return False
    name, receiver, is_function = _callee(node, context)
    args = _positional(node)
    if name in MASK_KEEPING_METHODS and receiver is not None and not is_function:
        return _syntax_keeps_a_diagonal(receiver, keep, context, depth + 1)
    if name in ("logical_not", "bitwise_not") and is_function and args:
        return _syntax_keeps_a_diagonal(args[0], not keep, context, depth + 1)
    if name in ("tril", "triu"):
        source = args[0] if is_function and args else receiver
        positional = args[1:] if is_function else args
        diagonal = _keyword(node, ("diagonal", "k"))
        if diagonal is None and positional:
            diagonal = positional[0]
        k = 0 if diagonal is None else _int_literal(diagonal)
        if source is None or k is None or not _syntax_all_ones(source, context, depth + 1):
            return False
        # Row i of tril(ones, k) holds columns j <= i + k, of triu(ones, k) columns j >= i + k (square).
        if name == "tril":
            return k >= 0 if keep else k <= -1
        return k <= 0 if keep else k >= 1
    if name == "band_part" and is_function and args:  # tf.linalg.band_part(ones, lower, upper) keeps the diagonal
        return keep and _syntax_all_ones(args[0], context, depth + 1)
    return False


def _syntax_all_ones(node: ast.AST, context: Context, depth: int) -> bool:
    if depth > 16:
        return False
    if isinstance(node, ast.Name):
        definitions = _definitions(node, context)
        return bool(definitions) and all(_syntax_all_ones(d, context, depth + 1) for d in definitions)
    if isinstance(node, ast.Subscript):
        return _syntax_all_ones(node.value, context, depth + 1)
    if not isinstance(node, ast.Call):
        return False
    name, receiver, is_function = _callee(node, context)
    if name in MASK_KEEPING_METHODS and receiver is not None and not is_function:
        return _syntax_all_ones(receiver, context, depth + 1)
    if name in ONES_CALLS:
        return True
    if name in FULL_CALLS:
        args = _positional(node)
        fill = _keyword(node, ("fill_value", "value"))
        if fill is None and len(args) >= 2:
            fill = args[1]
        return fill is not None and _nonzero_literal(fill)
    return False


def _positional(node: ast.Call) -> list[ast.expr]:
    """The positional arguments of a call, ``*args`` left out."""
    return [a for a in node.args if not isinstance(a, ast.Starred)]


def _callee(node: ast.Call, context: Context) -> tuple[str | None, ast.expr | None, bool]:
    """(name, receiver, is a module function) of a call: ``torch.tril(x)`` or ``x.tril()``."""
    func = node.func
    if isinstance(func, ast.Name):
        return func.id, None, True
    if isinstance(func, ast.Attribute):
        return func.attr, func.value, _is_module(func.value, context)
    return None, None, False


def _is_module(node: ast.expr, context: Context) -> bool:
    root = node
    while isinstance(root, ast.Attribute):
        root = root.value
    if not isinstance(root, ast.Name):
        return False
    value = context.analyzer.lookup(root.id, context.analyzer.module_scope)
    return value is not None and value.kind == MODULE


def _keyword(node: ast.Call, names: tuple[str, ...]) -> ast.expr | None:
    return next((k.value for k in node.keywords if k.arg is not None and k.arg in names), None)


def _int_literal(node: ast.AST) -> int | None:
    """An integer literal, True/False as 1/0, or a negated integer literal."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return int(node.value)  # bool is an int: True -> 1, False -> 0
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant) \
            and isinstance(node.operand.value, int) and not isinstance(node.operand.value, bool):
        return -node.operand.value
    return None


def _nonzero_literal(node: ast.AST) -> bool:
    """A non-zero int or float literal, or True."""
    if not isinstance(node, ast.Constant):
        return False
    value = node.value
    if isinstance(value, bool):
        return value
    return isinstance(value, (int, float)) and value != 0


def _definitions(name: ast.Name, context: Context) -> list[ast.expr]:
    """Every value assigned to ``name`` in the function that uses it; [] when one cannot be read.

    A parameter, an augmented assignment, a loop or tuple target, or no assignment at all: [].
    """
    index = _function_index(context)
    function = index.owner.get(id(name))
    if function is None:
        return []
    assigned = index.assigned.get((id(function), name.id))
    return [] if assigned is None else assigned


def _self_attribute_definitions(node: ast.Attribute, context: Context) -> list[ast.expr]:
    """What ``self.<attr>`` is set to in the class: ``register_buffer("<attr>", expr)`` or ``self.<attr> = expr``."""
    if not (isinstance(node.value, ast.Name) and node.value.id == "self"):
        return []
    index = _function_index(context)
    function = index.owner.get(id(node.value))
    info = context.analyzer.functions.get(function) if function is not None else None
    cls = getattr(info, "cls", None)
    if cls is None:
        return []
    attr = node.attr
    found: list[ast.expr] = []
    for owner in cls.lineage():
        for inner in ast.walk(owner.node):
            if isinstance(inner, ast.Call):
                func = inner.func
                arguments = call_arguments(inner)
                if isinstance(func, ast.Attribute) and func.attr == "register_buffer" and len(arguments) >= 2:
                    first = arguments[0]
                    if isinstance(first, ast.Constant) and isinstance(first.value, str) and first.value == attr:
                        found.append(arguments[1])
            elif isinstance(inner, ast.Assign):
                for target in inner.targets:
                    if isinstance(target, ast.Attribute) and target.attr == attr \
                            and isinstance(target.value, ast.Name) and target.value.id == "self":
                        found.append(inner.value)
                    elif isinstance(target, (ast.Tuple, ast.List)) and any(
                            isinstance(e, ast.Attribute) and e.attr == attr
                            for e in (e.value if isinstance(e, ast.Starred) else e for e in target.elts)):
                        found.append(ast.Name("__unreadable__", ast.Load()))
            elif isinstance(inner, ast.AugAssign) and isinstance(inner.target, ast.Attribute) \
                    and inner.target.attr == attr:
                found.append(ast.Name("__unreadable__", ast.Load()))
    return found


class _FunctionIndex:
    def __init__(self) -> None:
        self.owner: dict[int, ast.AST] = {}  # Name node -> innermost function around it
        # (function, name) -> assigned expressions, or None when some assignment cannot be read
        self.assigned: dict[tuple[int, str], list[ast.expr] | None] = {}


def _function_index(context: Context) -> _FunctionIndex:
    index = context.analyzer.rule_state(_FunctionIndex, _FunctionIndex)
    if getattr(index, "built", False):
        return index
    index.built = True
    stack: list[ast.AST] = []

    def unreadable(name: str) -> None:
        if stack:
            index.assigned[(id(stack[-1]), name)] = None

    def assign(name: str, value: ast.expr) -> None:
        if stack:
            key = (id(stack[-1]), name)
            if key not in index.assigned:
                index.assigned[key] = []
            current = index.assigned[key]
            if current is not None:
                current.append(value)

    def targets(node: ast.AST) -> None:
        for inner in _target_names(node):
            unreadable(inner)

    class Indexer(ast.NodeVisitor):
        def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
            stack.append(node)
            args = node.args
            for param in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
                if param is not None:
                    unreadable(param.arg)
            self.generic_visit(node)
            stack.pop()

        visit_AsyncFunctionDef = visit_FunctionDef

        def visit_Name(self, node: ast.Name) -> None:
            if stack:
                index.owner[id(node)] = stack[-1]

        def visit_Assign(self, node: ast.Assign) -> None:
            for target in node.targets:
                if isinstance(target, ast.Name):
                    assign(target.id, node.value)
                else:
                    targets(target)
            self.generic_visit(node)

        def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
            if isinstance(node.target, ast.Name) and node.value is not None:
                assign(node.target.id, node.value)
            self.generic_visit(node)

        def visit_AugAssign(self, node: ast.AugAssign) -> None:
            targets(node.target)
            self.generic_visit(node)

        def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
            targets(node.target)
            self.generic_visit(node)

        def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
            targets(node.target)
            self.generic_visit(node)

        visit_AsyncFor = visit_For

        def visit_withitem(self, node: ast.withitem) -> None:
            if node.optional_vars is not None:
                targets(node.optional_vars)
            self.generic_visit(node)

        def visit_comprehension(self, node: ast.comprehension) -> None:
            targets(node.target)
            self.generic_visit(node)

        def visit_Global(self, node: ast.Global) -> None:
            for name in node.names:
                unreadable(name)

        def visit_Nonlocal(self, node: ast.Nonlocal) -> None:
            for name in node.names:
                unreadable(name)

    Indexer().visit(context.analyzer.module)
    return index


def _target_names(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, (ast.Tuple, ast.List)):
        return [n for e in node.elts for n in _target_names(e)]
    if isinstance(node, ast.Starred):
        return _target_names(node.value)
    return []


# -- filtering below the row maximum (top-k, thresholds relative to the max) -------------------------


def _keeps_row_max(mask: Value, target: Value, target_node: object, context: Context) -> bool:
    """``mask`` (true = masked) spares each row's maximum: ``x < topk(x)[..., -1:]``, ``(max - x) / s > t``."""
    if mask.kind != OP or mask.op not in ("lt", "gt"):
        return False
    left, right = mask.args.get("input"), mask.args.get("other")
    if left is None or right is None:
        return False
    lt = mask.op == "lt"
    small, large = (left, right) if lt else (right, left)
    small_node = mask.arg_nodes.get("input" if lt else "other")
    large_node = mask.arg_nodes.get("other" if lt else "input")
    # x < threshold, the threshold an order statistic of x's row (at most its maximum)
    if _order_statistic_of(large, large_node, small_node, target_node, context, (small, target)):
        return True
    # gap > t, the gap (row max - x) scaled: 0 at the maximum, which a threshold t >= 0 spares
    # (a threshold of unknown sign counts: a gap below the maximum is measured against a margin)
    if small.facts.range.hi < 0 or not _scalar_like(small):
        return False
    return _gap_below_max(large, target, target_node)


def _order_statistic_of(threshold: Value, node: object, x_node: object, target_node: object, context: Context,
                        of: tuple[Value, ...] = ()) -> bool:
    """``threshold`` is at most the row maximum of the compared values ``of`` (or of that syntax)."""
    current = threshold
    for _ in range(8):
        if current.kind == OP and current.op in ("getitem", "unsqueeze", "view", "reshape", "expand", "detach",
                                                 "to", "float") and "input" in current.args:
            current, node = current.args["input"], current.arg_nodes.get("input")
        elif current.kind == OP and current.op == "sub" and "input" in current.args and "other" in current.args \
                and current.args["other"].facts.range.lo >= 0 and _scalar_like(current.args["other"]):
            current, node = current.args["input"], current.arg_nodes.get("input")  # max - margin
        elif current.kind == RESULT and current.via is not None:
            current, node = current.via, None
        else:
            break
    if current.kind == OP and current.op in MAX_REDUCTIONS and "other" not in current.args:
        source = current.args.get("input")
        source_node = current.arg_nodes.get("input")
        return source is not None and any(same_source(source, v, source_node, n)
                                          for v, n in zip(of, (x_node, target_node)))
    if current.kind in (UNKNOWN_KIND, MEMBER) and node is not None:
        # topk/sort/quantile are no canonical ops: read the syntax (every assignment of a variable)
        return _syntax_order_statistic(node, (x_node, target_node), context, 0)
    return False


def _syntax_order_statistic(node: ast.AST, sources: tuple[object, ...], context: Context, depth: int) -> bool:
    if depth > 12:
        return False
    if isinstance(node, ast.Name):
        definitions = _definitions(node, context)
        return bool(definitions) and all(_syntax_order_statistic(d, sources, context, depth + 1) for d in definitions)
    if isinstance(node, ast.Subscript):
        return _syntax_order_statistic(node.value, sources, context, depth + 1)
    if isinstance(node, ast.Attribute) and node.attr == "values":
        return _syntax_order_statistic(node.value, sources, context, depth + 1)
    if isinstance(node, ast.IfExp):
        return all(_syntax_order_statistic(n, sources, context, depth + 1) for n in (node.body, node.orelse))
    if not isinstance(node, ast.Call):
        return False
    name, receiver, is_function = _callee(node, context)
    if name not in ORDER_STATISTIC_CALLS:
        return False
    positional = _positional(node)
    source = positional[0] if is_function and positional else receiver
    return source is not None and any(_same_syntax(source, s) for s in sources)


def _gap_below_max(gap: Value, target: Value, target_node: object) -> bool:
    current = gap
    for _ in range(6):
        if current.kind == OP and current.op in ("mul", "div", "true_divide") and "input" in current.args:
            current = current.args["input"]  # (max - x) / scale
        elif current.kind == OP and current.op in ("getitem", "detach", "to", "float") and "input" in current.args:
            current = current.args["input"]
        else:
            break
    if current.kind != OP or current.op != "sub":
        return False
    top, x = current.args.get("input"), current.args.get("other")
    if top is None or x is None:
        return False
    while top.kind == OP and top.op in ("getitem", "unsqueeze", "detach", "to", "float") and "input" in top.args:
        top = top.args["input"]
    if top.kind != OP or top.op not in MAX_REDUCTIONS or "other" in top.args:
        return False
    source, source_node = top.args.get("input"), top.arg_nodes.get("input")
    return source is not None and (same_source(source, x, source_node, current.arg_nodes.get("other"))
                                   or same_source(source, target, source_node, target_node))


def _scalar_like(value: Value, depth: int = 0) -> bool:
    """A threshold made of numbers and parameters, not of the scores themselves."""
    if depth > 6:
        return False
    if value.kind in (CONST, PARAM) or (value.kind == MEMBER and isinstance(value.ref, Value)
                                          and value.ref.kind == INSTANCE):
        return True
    if value.kind == OP and value.op in ("add", "sub", "mul", "div", "true_divide", "neg", "item"):
        return all(_scalar_like(v, depth + 1) for v in value.args.values())
    return False


def _same_syntax(a: object, b: object) -> bool:
    return a is not None and b is not None and type(a) is type(b) and same_syntax(a, b)
