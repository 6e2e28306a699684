"""The declarative pattern language for simple rules.

A pattern is a Python expression over canonical op names with
metavariables, e.g. ``log(softmax($X, ...))`` or ``$X == nan``:

* ``op(a, b, ...)`` matches a value produced by canonical op ``op``
  (any framework spelling, function or method or layer); positional
  pattern arguments bind the op's canonical parameters in order, keyword
  ones by canonical name; a trailing ``...`` allows further arguments,
  without it the op's remaining canonical parameters must be absent;
* operators (``a / b``, ``-a``, ``a ** 2``, ``a == b``) match the same ops
  spelled with syntax or functions (``torch.div``); ``+ * == !=`` also
  match with their operands swapped;
* ``$X`` binds any value (the same name twice must be the same value),
  ``$_`` matches anything, ``($P := sub)`` binds what ``sub`` matched;
* a bare op name such as ``nan`` matches that constant op, numbers match
  numeric literals.

Matching runs on the dataflow values, so ``log(softmax($X))`` also matches
``p = softmax(z)`` ... ``log(p)``, a call of a function in the file that
returns a softmax, and value-preserving ops in between (``.detach()``,
``.squeeze(1)``, indexing).  ``where:`` conditions ask the facts about the
bound values: ``may_be_zero($X)``, ``exact_zero($X)``,
``bounded_above($X)``, ``grows($X)``, ``constant($X)``, combined with
``not``/``and``/``or``.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from .dataflow import SYNTAX_PARAMS
from .ops import OpTable
from .values import CONST, OP, RESULT, Value, same_syntax

_METAVAR = re.compile(r"\$([A-Za-z_]\w*)")
_BINOPS = {
    ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.Pow: "pow",
    ast.MatMult: "matmul", ast.FloorDiv: "floordiv", ast.Mod: "mod",
}
_CMPOPS = {ast.Eq: "eq", ast.NotEq: "ne", ast.Lt: "lt", ast.LtE: "le", ast.Gt: "gt", ast.GtE: "ge"}
COMMUTATIVE = frozenset({"add", "mul", "eq", "ne", "maximum", "minimum"})


class PatternError(Exception):
    pass


@dataclass(frozen=True, eq=False)
class PVar:
    name: str


@dataclass(frozen=True, eq=False)
class PConst:
    value: Any


@dataclass(frozen=True, eq=False)
class POp:
    op: str
    args: tuple
    kwargs: tuple  # ((canonical name, pattern), ...)
    rest: bool


@dataclass(frozen=True, eq=False)
class PBind:
    name: str
    sub: Any


Pattern = PVar | PConst | POp | PBind


def params_of(op: str, table: OpTable) -> tuple[str, ...]:
    info = table.ops.get(op)
    if info is not None and info.params:
        return info.params
    return SYNTAX_PARAMS.get(op, ("input", "other"))


def compile_pattern(text: str, table: OpTable) -> POp | PBind:
    source = _METAVAR.sub(lambda m: f"__mv_{m[1]}", text.strip())
    try:
        tree = ast.parse(source, mode="eval").body
    except SyntaxError as exc:
        raise PatternError(f"pattern {text!r} is not a Python expression: {exc.msg}") from None
    pattern = _convert(tree, table, text)
    if not isinstance(pattern, (POp, PBind)) or (isinstance(pattern, PBind) and not isinstance(pattern.sub, POp)):
        raise PatternError(f"pattern {text!r} must be an op, not a bare variable or constant")
    return pattern


def root_op(pattern: POp | PBind) -> str:
    return pattern.sub.op if isinstance(pattern, PBind) else pattern.op


def _known_op(name: str, table: OpTable, text: str) -> str:
    if name not in table.ops and name not in SYNTAX_PARAMS:
        raise PatternError(f"pattern {text!r}: {name!r} is not a canonical op (see stablelint/ops.yaml)")
    return name


def _convert(node: ast.AST, table: OpTable, text: str) -> Pattern:
    if isinstance(node, ast.Name):
        if node.id.startswith("__mv_"):
            return PVar(node.id[5:])
        return POp(_known_op(node.id, table, text), (), (), False)
    if isinstance(node, ast.Constant):
        if node.value is Ellipsis:
            raise PatternError(f"pattern {text!r}: '...' is only allowed as the last argument of a call")
        return PConst(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        if isinstance(node.operand, ast.Constant) and isinstance(node.operand.value, (int, float)):
            return PConst(-node.operand.value)
        return POp("neg", (_convert(node.operand, table, text),), (), False)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Invert, ast.Not)):
        return POp("invert", (_convert(node.operand, table, text),), (), False)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        op = _BINOPS[type(node.op)]
        return POp(op, (_convert(node.left, table, text), _convert(node.right, table, text)), (), False)
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _CMPOPS:
        op = _CMPOPS[type(node.ops[0])]
        return POp(op, (_convert(node.left, table, text), _convert(node.comparators[0], table, text)), (), False)
    if isinstance(node, ast.NamedExpr) and node.target.id.startswith("__mv_"):
        return PBind(node.target.id[5:], _convert(node.value, table, text))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        op = _known_op(node.func.id, table, text)
        args = list(node.args)
        rest = bool(args) and isinstance(args[-1], ast.Constant) and args[-1].value is Ellipsis
        if rest:
            args = args[:-1]
        converted = tuple(_convert(a, table, text) for a in args)
        kwargs = tuple((table.synonyms.get(k.arg, k.arg), _convert(k.value, table, text))
                       for k in node.keywords if k.arg is not None)
        return POp(op, converted, kwargs, rest)
    raise PatternError(f"pattern {text!r}: unsupported syntax {ast.dump(node)[:60]}")


# -- matching ---------------------------------------------------------------------


@dataclass
class Match:
    bindings: dict[str, Value]
    matched: dict[int, Value]  # id(pattern node) -> the value it matched
    reached: dict[int, Value]  # id(pattern node) -> the argument value it was reached from
    sites: dict[str, Any] = field(default_factory=dict)  # metavariable -> the syntax it was written as

    def copy(self) -> Match:
        return Match(dict(self.bindings), dict(self.matched), dict(self.reached), dict(self.sites))


def _same(a: Value, b: Value) -> bool:
    return a is b or same_syntax(a.node, b.node)


class Matcher:
    def __init__(self, table: OpTable, is_passthrough: Callable[[str | None], bool]):
        self.table = table
        self.is_passthrough = is_passthrough

    def match(self, pattern: Pattern, value: Value) -> Match | None:
        return self._match(pattern, value, Match({}, {}, {}))

    def _match(self, p: Pattern, v: Value, m: Match, site: Any = None) -> Match | None:
        if isinstance(p, PVar):
            if p.name == "_":
                return m
            bound = m.bindings.get(p.name)
            if bound is not None:
                return m if _same(bound, v) else None
            m = m.copy()
            m.bindings[p.name] = v
            m.sites[p.name] = site
            return m
        if isinstance(p, PBind):
            result = self._match(p.sub, v, m, site)
            if result is None:
                return None
            result = result.copy()
            result.bindings[p.name] = result.matched.get(id(p.sub), v)
            return result
        if isinstance(p, PConst):
            return m if _const_equal(v, p.value) else None
        return self._match_op(p, v, m)

    def _match_op(self, p: POp, v: Value, m: Match) -> Match | None:
        origin = v
        current: Value | None = v
        while current is not None:
            while current.kind == RESULT and current.via is not None:
                current = current.via
            if current.kind == OP and current.op == p.op:
                result = self._match_args(p, current, m)
                if result is not None:
                    result.matched[id(p)] = current
                    result.reached[id(p)] = origin
                    return result
            if current.kind == OP and self.is_passthrough(current.op) and not self.is_passthrough(p.op):
                current = current.args.get("input")
                continue
            return None
        return None

    def _match_args(self, p: POp, v: Value, m: Match) -> Match | None:
        params = params_of(p.op, self.table)
        orders = [p.args]
        if p.op in COMMUTATIVE and len(p.args) == 2:
            orders.append((p.args[1], p.args[0]))
        for order in orders:
            result = self._bind_in_order(p, order, params, v, m)
            if result is not None:
                return result
        return None

    def _bind_in_order(self, p: POp, order: tuple, params: tuple[str, ...], v: Value, m: Match) -> Match | None:
        result: Match | None = m
        used = set()
        for i, sub in enumerate(order):
            name = params[i] if i < len(params) else f"_{i}"
            arg = v.args.get(name)
            if arg is None or result is None:
                return None
            used.add(name)
            result = self._match(sub, arg, result, v.arg_nodes.get(name))
        for name, sub in p.kwargs:
            arg = v.args.get(name)
            if arg is None or result is None:
                return None
            used.add(name)
            result = self._match(sub, arg, result, v.arg_nodes.get(name))
        if result is not None and not p.rest:
            if any(name in v.args and name not in used for name in params):
                return None
        return result


def _const_equal(v: Value, expected: Any) -> bool:
    if v.kind != CONST:
        return False
    if isinstance(expected, (int, float)) and not isinstance(expected, bool):
        return v.is_numeric_const and float(v.const) == float(expected)
    return v.const == expected


# -- where: conditions over facts ---------------------------------------------------

PREDICATES: dict[str, Callable[[Value], bool]] = {
    "may_be_zero": lambda v: v.facts.may_be_zero,
    "exact_zero": lambda v: v.facts.may_be_zero and v.facts.range.reaches_zero(exact_only=True),
    "bounded_above": lambda v: v.facts.bounded_above,
    "grows": lambda v: v.facts.growth is not None,
    "constant": lambda v: v.kind == CONST,
    "is_op": lambda v: v.kind == OP,
}


def compile_condition(text: str) -> Callable[[dict[str, Value]], bool]:
    source = _METAVAR.sub(lambda m: f"__mv_{m[1]}", text.strip())
    try:
        tree = ast.parse(source, mode="eval").body
    except SyntaxError as exc:
        raise PatternError(f"condition {text!r} is not a Python expression: {exc.msg}") from None
    return _condition(tree, text)


def _condition(node: ast.AST, text: str) -> Callable[[dict[str, Value]], bool]:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        inner = _condition(node.operand, text)
        return lambda b: not inner(b)
    if isinstance(node, ast.BoolOp):
        parts = [_condition(v, text) for v in node.values]
        if isinstance(node.op, ast.And):
            return lambda b: all(part(b) for part in parts)
        return lambda b: any(part(b) for part in parts)
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in PREDICATES
            and len(node.args) == 1 and isinstance(node.args[0], ast.Name)
            and node.args[0].id.startswith("__mv_")):
        predicate = PREDICATES[node.func.id]
        name = node.args[0].id[5:]
        return lambda b: name in b and predicate(b[name])
    raise PatternError(
        f"condition {text!r}: use {', '.join(sorted(PREDICATES))}($VAR) with not/and/or"
    )

