"""Compiled rules: catalog entries turned into checkers bound to ops.

Declarative rules become a ``PatternCheck`` (patterns + ``where``
conditions + message template); the others load their Python checker.
A ``RuleSet`` is what the engine runs on each file: the selected rules,
their hooks, and the token prefilter that decides whether a file needs
parsing at all.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .catalog import CatalogError, Rule, load_catalog
from .checks import Checker, CheckerError, Report, load_checker
from .dataflow import Context
from .ops import OpTable, op_table
from .patterns import (
    Match, Matcher, PatternError, PBind, PConst, POp, PVar, compile_condition, compile_pattern, params_of, root_op,
)
from .values import OP, Value

PARSE_ERROR = "parse_error"  # the checker name of SL000, which is not run on values


class _Template(string.Formatter):
    def get_value(self, key: Any, args: Any, kwargs: dict) -> Any:
        return kwargs.get(key, "")


_TEMPLATE = _Template()


class PatternCheck(Checker):
    def __init__(self, rule: Rule, table: OpTable):
        super().__init__(rule, table)
        try:
            self.patterns = [compile_pattern(text, table) for text in rule.patterns]
            self.conditions = [compile_condition(text) for text in rule.where]
            self.replacement = compile_pattern(rule.replacement, table) if rule.replacement else None
        except PatternError as exc:
            raise CatalogError(f"{rule.source}: 'pattern': {exc}") from None
        if rule.report is not None and not re.fullmatch(r"\$[A-Za-z_]\w*", rule.report):
            raise CatalogError(f"{rule.source}: 'report': must be a metavariable like $P")
        self.ops = tuple(dict.fromkeys(root_op(p) for p in self.patterns))

    def check(self, value: Value, context: Context, report: Report) -> None:
        matcher = Matcher(self.table, context.analyzer.is_passthrough)
        for pattern in self.patterns:
            if root_op(pattern) != value.op:
                continue
            match = matcher.match(pattern, value)
            if match is None or not all(cond(match.bindings) for cond in self.conditions):
                continue
            node = value.node
            if self.rule.report:
                bound = match.bindings.get(self.rule.report[1:])
                node = bound.node if bound is not None and bound.node is not None else node
            report(node, self._message(pattern, match, report))
            return

    def _message(self, pattern: POp | PBind, match: Match, report: Report) -> str:
        render = report.render
        notes: list[str] = []
        found = _render_found(pattern, match, render, None, None, notes)
        fields: dict[str, str] = {"found": found}
        if self.replacement is not None:
            fields["use"] = _render_use(self.replacement, match, render)
        fields["origin"] = f" ({'; '.join(notes)})" if notes else ""
        for name, bound in match.bindings.items():
            fields[f"${name}"] = render.text(bound.node, 40)
        return _TEMPLATE.format(self.rule.message, **fields)


def _render_found(p: Any, m: Match, render: Any, arg_node: Any, arg_value: Value | None, notes: list[str]) -> str:
    if isinstance(p, PBind):
        return _render_found(p.sub, m, render, arg_node, arg_value, notes)
    if isinstance(p, PVar):
        text = render.text(arg_node, 24) if arg_node is not None else "..."
        return text if len(text) <= 20 else "..."
    if isinstance(p, PConst):
        return repr(p.value)
    value = m.matched.get(id(p))
    if value is None:
        return "..."
    if arg_node is not None and arg_value is not None:
        note = render.origin(arg_node, arg_value, value)
        if note:
            notes.append(note)
            return render.text(arg_node, 30)
    first = p.args[0] if p.args else None
    params = list(value.args)
    if value.spelling is not None and first is not None:
        name = _param_name(p, 0, render)
        inner = _render_found(first, m, render, value.arg_nodes.get(name), value.args.get(name), notes)
        if value.method:
            more = "..." if len(params) > 1 else ""
            receiver = inner if len(inner) <= 24 else "x"
            return f"{receiver}{render.callee(value)}({more})"
        more = ", ..." if len(params) > 1 else ""
        return f"{render.callee(value)}({inner}{more})"
    if value.spelling is not None:
        return render.text(value.node, 40)
    # an operator: render its operands
    if len(p.args) == 2 and value.node is not None:
        pieces = []
        for i, sub in enumerate(p.args):
            name = _param_name(p, i, render)
            pieces.append(_render_found(sub, m, render, value.arg_nodes.get(name), value.args.get(name), notes))
        symbol = _SYMBOLS.get(value.op or "", value.op or "?")
        return f"{pieces[0]} {symbol} {pieces[1]}"
    return render.text(value.node, 40)


_SYMBOLS = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**", "eq": "==", "ne": "!=", "lt": "<",
            "le": "<=", "gt": ">", "ge": ">=", "matmul": "@"}


def _param_name(p: POp, index: int, render: Any) -> str:
    params = params_of(p.op, render.table)
    return params[index] if index < len(params) else f"_{index}"


def _render_use(p: POp | PBind, m: Match, render: Any) -> str:
    root = p.sub if isinstance(p, PBind) else p
    like = [v for v in m.matched.values() if v.kind == OP]
    first = root.args[0] if root.args else None
    scalar = isinstance(first, PVar) and render.is_python_scalar(m.bindings.get(first.name))
    name = render.suggest(root.op, like, scalar=scalar)
    if name.startswith("."):
        receiver = "x"
        for v in like:
            if v.method and v.node is not None and hasattr(v.node, "func"):
                receiver_text = render.text(v.node.func.value, 24)
                receiver = receiver_text if len(receiver_text) <= 20 else "x"
                break
        return f"{receiver}{name}(...)"
    return f"{name}(...)"


@dataclass
class CompiledRule:
    rule: Rule
    checker: Checker | None  # None for SL000

    @property
    def ops(self) -> tuple[str, ...]:
        return self.checker.ops if self.checker is not None else ()


def compile_rule(rule: Rule, table: OpTable) -> CompiledRule:
    if rule.checker == PARSE_ERROR:
        return CompiledRule(rule, None)
    if rule.patterns:
        return CompiledRule(rule, PatternCheck(rule, table))
    try:
        cls = load_checker(rule)
    except CheckerError as exc:
        raise CatalogError(str(exc)) from None
    return CompiledRule(rule, cls(rule, table))


class RuleSet:
    """The selected rules, compiled, with their prefilter."""

    def __init__(self, rules: list[Rule], table: OpTable | None = None):
        self.table = table or op_table()
        self.compiled = [compile_rule(rule, self.table) for rule in rules]
        self.by_id = {c.rule.id: c for c in self.compiled}
        tokens = sorted({t for c in self.compiled for group in c.rule.tokens for t in group}, key=len, reverse=True)
        self._token_re = re.compile("|".join(re.escape(t) for t in tokens)) if tokens else None

    def ids(self) -> list[str]:
        return list(self.by_id)

    def needs_parse(self, text: str, active: list[CompiledRule]) -> bool:
        """Whether any active rule's tokens all occur in the text (the prefilter)."""
        if self._token_re is None:
            return False
        present = set(self._token_re.findall(text))
        if not present:
            return False
        for compiled in active:
            if compiled.checker is None:
                continue
            if all(any(t in present or any(t in p for p in present) for t in group) for group in compiled.rule.tokens):
                return True
        return False


@lru_cache(maxsize=16)
def rule_set(ids: tuple[str, ...], extend_dirs: tuple[str, ...] = ()) -> RuleSet:
    catalog = load_catalog(extend_dirs)
    return RuleSet([catalog[i] for i in ids])
