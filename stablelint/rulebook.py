"""Compiled rules: catalog entries turned into checkers bound to ops.

Declarative rules become a ``PatternCheck`` (patterns + ``where``
conditions + message template); the others load their Python checker.
A ``RuleSet`` is what the engine runs on each file: the selected rules,
their hooks, and the token prefilter that decides whether a file needs
parsing at all.
"""

from __future__ import annotations

import ast
import re
import string
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .catalog import CatalogError, Rule, load_catalog
from . import fixes
from .checks import Checker, CheckerError, Report, load_checker
from .diagnostic import Edit, Fix, Position
from .dataflow import Context
from .ops import OpTable, op_table
from .patterns import (
    Match, Matcher, PatternError, PBind, PConst, POp, PVar, compile_condition, compile_pattern, params_of, root_op,
)
from .scopes import assignment_of, parent_of, stable
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
            self.replacements = [compile_pattern(text, table) for text in rule.replacements]
        except PatternError as exc:
            raise CatalogError(f"{rule.source}: 'pattern': {exc}") from None
        if self.replacements and len(self.replacements) not in (1, len(self.patterns)):
            raise CatalogError(f"{rule.source}: 'replacement': give one, or one per pattern")
        if rule.report is not None and not re.fullmatch(r"\$[A-Za-z_]\w*", rule.report):
            raise CatalogError(f"{rule.source}: 'report': must be a metavariable like $P")
        self.ops = tuple(dict.fromkeys(root_op(p) for p in self.patterns))

    def check(self, value: Value, context: Context, report: Report) -> None:
        matcher = Matcher(self.table, context.analyzer.is_passthrough)
        for index, pattern in enumerate(self.patterns):
            if root_op(pattern) != value.op:
                continue
            match = matcher.match(pattern, value)
            if match is None or not all(cond(match.bindings) for cond in self.conditions):
                continue
            node = value.node
            if self.rule.report:
                bound = match.bindings.get(self.rule.report[1:])
                node = bound.node if bound is not None and bound.node is not None else node
            template = self._replacement(index)
            report(node, self._message(pattern, template, match, report),
                   fix=self._fix(pattern, template, match, node, report.render, context.analyzer.module))
            return

    def _replacement(self, index: int) -> POp | PBind | None:
        if not self.replacements:
            return None
        return self.replacements[index] if len(self.replacements) > 1 else self.replacements[0]

    def _message(self, pattern: POp | PBind, template: POp | PBind | None, match: Match, report: Report) -> str:
        render = report.render
        notes: list[str] = []
        found = _render_found(pattern, match, render, None, None, notes)
        fields: dict[str, str] = {"found": found}
        if template is not None:
            fields["use"] = _render_use(template, match, render)
        fields["origin"] = f" ({'; '.join(notes)})" if notes else ""
        for name, bound in match.bindings.items():
            fields[f"${name}"] = render.text(bound.node, 40)
        return _TEMPLATE.format(self.rule.message, **fields)

    def _fix(self, pattern: POp | PBind, template: POp | PBind | None, match: Match, node: Any,
             render: Any, module: ast.Module) -> Fix | None:
        """The replacement as an edit, when every piece it rewrites is in the reported expression,
        or in the one assignment of a variable read only there (which the fix then removes)."""
        if template is None or self.rule.fix == "none" or node is None:
            return None
        removed = None
        if not fixes.within(node, list(match.matched.values())):
            removed = _inlinable(node, list(match.matched.values()), module, render)
            if removed is None:
                return None  # the softmax is in a model, or its variable is used elsewhere: no unambiguous edit
        built = _render_template(template, pattern, match, render)
        if built is None:
            return None
        text, imports = built
        fix = fixes.replace(render, node, text, self.rule.fix, f"use {text}", imports)
        if removed is None:
            return fix
        return Fix((removed, *fix.edits), fix.applicability, fix.description, fix.imports)  # type: ignore[arg-type]


def _inlinable(node: ast.AST, matched: list[Value], module: ast.Module, render: Any) -> Edit | None:
    """``probs = softmax(x)`` ... ``log(probs)``: the edit deleting the assignment, when the
    reported expression can take the matched ops in place of the variable.

    The variable must be bound by that one plain assignment, read only at ``node``, and the
    assigned call must be evaluable at ``node`` with the same value (scopes.stable: same
    function, its inputs bound once and never changed in place, no other call in it). The
    assignment must stand alone on its lines (no comment or second statement to lose), in a
    block it does not leave empty.
    """
    outside = [v.node for v in matched if v.kind == OP and v.node is not None and not fixes.contains(node, v.node)]
    names = [n for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)]
    found = None
    for name in names:
        bound = assignment_of(module, name)
        if bound is not None and all(fixes.contains(bound[0].value, inner) for inner in outside):
            if found is not None:
                return None  # two variables to inline: keep it simple
            found = (name, *bound)
    if found is None:
        return None
    name, assign, use = found
    if len(use.loads) != 1 or use.loads[0] is not name or not isinstance(assign.value, ast.Call):
        return None
    if not stable(module, assign.value, node, allow_call=assign.value):
        return None
    parent = parent_of(module, assign)
    if parent is None or sum(isinstance(child, ast.stmt) for child in ast.iter_child_nodes(parent)) < 2:
        return None
    lines = render.source.lines
    start, end = render.source.start(assign), render.source.end(assign)
    use_at = render.source.start(node)
    if (end.line, end.column) > (use_at.line, use_at.column):
        return None  # read before it is assigned (a loop, a closure): not a simple inlining
    if lines[start.line - 1][:start.column - 1].strip() or lines[end.line - 1][end.column - 1:].strip():
        return None
    if end.line >= len(lines):
        return None  # the last line of the file: nothing after it to keep the layout
    return Edit(Position(start.line, 1), Position(end.line + 1, 1), "")


def _render_template(template: Any, pattern: Any, match: Match, render: Any
                     ) -> tuple[str, tuple] | None:
    """The replacement pattern written as source, in the file's idiom; None when it cannot be."""
    if isinstance(template, PBind):
        return _render_template(template.sub, pattern, match, render)
    if isinstance(template, PVar):
        site = match.sites.get(template.name)
        if site is None:
            return None
        text = render.segment(site)  # a call argument needs no parentheses (a receiver does: below)
        return (f"({text})" if isinstance(site, (ast.Starred, ast.Yield, ast.YieldFrom, ast.NamedExpr)) else text), ()
    if isinstance(template, PConst):
        return repr(template.value), ()
    if template.op == "invert":
        inner = _render_template(template.args[0], pattern, match, render) if template.args else None
        if inner is None:
            return None
        first = template.args[0].args[0] if isinstance(template.args[0], POp) and template.args[0].args else None
        scalar = isinstance(first, PVar) and render.is_python_scalar(match.bindings.get(first.name))
        return (f"not {inner[0]}" if scalar else f"~{inner[0]}"), inner[1]
    first = template.args[0] if template.args else None
    pieces: list[str] = []
    imports: tuple = ()
    for sub in template.args:
        built = _render_template(sub, pattern, match, render)
        if built is None:
            return None
        pieces.append(built[0])
        imports += built[1]
    donor = _donor(pattern, first, match) if template.rest and isinstance(first, PVar) else None
    if template.rest:
        if donor is None:
            return None
        pieces += fixes.extra_arguments(render, donor.node, match.sites.get(first.name))
    like = [v for v in match.matched.values() if v.kind == OP]
    scalar = isinstance(first, PVar) and render.is_python_scalar(match.bindings.get(first.name))
    if donor is not None and donor.method and isinstance(first, PVar):
        method = render.suggest(template.op, [donor])
        if method.startswith("."):
            receiver = fixes.operand(render, match.sites.get(first.name))
            return f"{receiver}{method}({', '.join(pieces[1:])})", imports
    spelled = fixes.spelled(render, template.op, like, scalar=scalar)
    if spelled is None or spelled[0].startswith("."):
        return None
    return f"{spelled[0]}({', '.join(pieces)})", imports + spelled[1]


def _donor(pattern: Any, var: PVar, match: Match) -> Value | None:
    """The matched call whose `...` arguments a replacement's `...` stands for: the one that takes ``var``."""
    stack = [pattern]
    while stack:
        node = stack.pop()
        if isinstance(node, PBind):
            stack.append(node.sub)
        elif isinstance(node, POp):
            if node.rest and node.args and isinstance(node.args[0], PVar) and node.args[0].name == var.name:
                return match.matched.get(id(node))
            stack.extend(node.args)
    return None


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

    def ids(self) -> list[str]:
        return list(self.by_id)

    @staticmethod
    def needs_parse(text: str, active: list[CompiledRule]) -> bool:
        """Whether every token group of some active rule has a token in the text (the prefilter).

        Plain substring tests, memoised per token and stopping at the first rule that matches: most
        files need parsing, and that is known after a few rules (one alternation regex over all the
        tokens costs as much as parsing, because some tokens are single characters).
        """
        seen: dict[str, bool] = {}

        def has(token: str) -> bool:
            found = seen.get(token)
            if found is None:
                found = seen[token] = token in text
            return found

        return any(compiled.checker is not None and all(any(has(t) for t in group) for group in compiled.rule.tokens)
                   for compiled in active)


@lru_cache(maxsize=16)
def rule_set(ids: tuple[str, ...], extend_dirs: tuple[str, ...] = ()) -> RuleSet:
    catalog = load_catalog(extend_dirs)
    return RuleSet([catalog[i] for i in ids])
