"""Questions about names and scopes, answered from the syntax tree alone.

Where a variable is bound and read, the function that encloses a node, whether an expression
can be evaluated again somewhere else with the same value: what a fix needs to know before it
moves or inlines code. Each module is indexed once (the last one asked about is kept), so the
questions cost no more than a walk of the tree however many are asked.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

FUNCTION_NODES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


def inside(inner: ast.AST | None, outer: ast.AST | None) -> bool:
    """Whether ``inner``'s source span lies within ``outer``'s."""
    a, b = _span(inner), _span(outer)
    return a is not None and b is not None and b[0] <= a[0] and a[1] <= b[1]


def _span(node: ast.AST | None) -> tuple[tuple[int, int], tuple[int, int]] | None:
    line = getattr(node, "lineno", None)
    if line is None or getattr(node, "end_lineno", None) is None:
        return None
    return (line, node.col_offset), (node.end_lineno, node.end_col_offset)  # type: ignore[union-attr]


def parent_of(root: ast.AST, node: ast.AST) -> ast.AST | None:
    """The syntax node directly holding ``node`` inside ``root``."""
    for candidate in ast.walk(root):
        for child in ast.iter_child_nodes(candidate):
            if child is node:
                return candidate
    return None


def enclosing_scope(module: ast.Module, node: ast.AST) -> ast.AST:
    """The innermost function (or lambda) whose body holds ``node``; the module when none."""
    found: ast.AST = module
    for candidate in _functions(module):
        if isinstance(candidate, FUNCTION_NODES) and candidate is not node and inside(node, candidate):
            if found is module or inside(candidate, found):
                found = candidate
    return found


# The functions of the module last asked about: walking the whole module for every question made
# large files quadratic (a 2,000-line file spent most of its time here).
_last_functions: tuple[ast.Module | None, list[ast.AST]] = (None, [])


def _functions(module: ast.Module) -> list[ast.AST]:
    global _last_functions
    cached, functions = _last_functions
    if cached is not module:
        functions = [node for node in ast.walk(module) if isinstance(node, FUNCTION_NODES)]
        _last_functions = (module, functions)
        _name_indexes.clear()  # every question about names starts with this one: the trees of earlier files go
    return functions


@dataclass
class NameUse:
    bindings: list[ast.AST]  # Name stores, parameters, imports, defs binding the name
    loads: list[ast.Name]
    declared: bool  # global / nonlocal: bound elsewhere too


def name_use(scope: ast.AST, name: str) -> NameUse:
    """Every binding and read of ``name`` in ``scope``, nested functions included (conservative)."""
    found = _scope_index(scope).names.get(name)
    return NameUse(list(found.bindings), list(found.loads), found.declared) if found else NameUse([], [], False)


# Each scope is walked once for all its names (questions come name by name, often about the module);
# only the scopes of the module ``_functions`` last saw are kept.
@dataclass
class _ScopeIndex:
    names: dict[str, NameUse]
    assigns: dict[int, ast.Assign]  # id of the one target of a plain assignment -> the assignment


_name_indexes: dict[int, tuple[ast.AST, _ScopeIndex]] = {}


def _scope_index(scope: ast.AST) -> _ScopeIndex:
    cached = _name_indexes.get(id(scope))
    if cached is not None and cached[0] is scope:
        return cached[1]
    index: dict[str, NameUse] = {}
    assigns: dict[int, ast.Assign] = {}

    def use_of(name: str) -> NameUse:
        use = index.get(name)
        if use is None:
            use = index[name] = NameUse([], [], False)
        return use

    for node in ast.walk(scope):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            assigns.setdefault(id(node.targets[0]), node)
        if isinstance(node, ast.Name):
            use = use_of(node.id)
            (use.loads if isinstance(node.ctx, ast.Load) else use.bindings).append(node)
        elif isinstance(node, ast.arg):
            use_of(node.arg).bindings.append(node)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            use_of(node.name).bindings.append(node)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                use_of(alias.asname or alias.name.split(".")[0]).bindings.append(alias)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            for name in node.names:
                use_of(name).declared = True
        elif isinstance(node, ast.ExceptHandler) and node.name:
            use_of(node.name).bindings.append(node)
    found = _ScopeIndex(index, assigns)
    _name_indexes[id(scope)] = (scope, found)
    return found


def assignment_of(module: ast.Module, name: ast.Name) -> tuple[ast.Assign, NameUse] | None:
    """The one ``name = ...`` that binds the variable read at ``name``, with the variable's uses.

    None unless the variable is bound exactly once in its scope, by a plain assignment to it alone.
    """
    scope = enclosing_scope(module, name)
    use = name_use(scope, name.id)
    if not use.bindings and not use.declared and scope is not module:
        scope = module  # a module-level variable read in a function: count its uses in the whole file
        use = name_use(scope, name.id)
        if len(use.bindings) == 1 and enclosing_scope(module, use.bindings[0]) is not module:
            return None
    if use.declared or len(use.bindings) != 1:
        return None
    assign = _scope_index(scope).assigns.get(id(use.bindings[0]))
    return (assign, use) if assign is not None else None


def stable(module: ast.Module, expression: ast.AST, at: ast.AST, *, allow_call: ast.AST | None = None) -> bool:
    """Whether ``expression`` can be evaluated again at ``at`` with the same value.

    ``expression`` and ``at`` are in the same function (a name in another scope may be another
    variable); no calls (a model, dropout) except ``allow_call``; every variable it reads is bound
    at most once in that scope (a parameter or one assignment), so it has not changed since, and
    is never changed in place (``x[m] = 0``, ``x.mul_(2)``).
    """
    scope = enclosing_scope(module, at)
    if enclosing_scope(module, expression) is not scope:
        return False
    names: set[str] = set()
    for node in ast.walk(expression):
        if isinstance(node, (ast.Call, ast.NamedExpr, ast.Await, ast.Yield, ast.YieldFrom, ast.Lambda,
                             ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)) and node is not allow_call:
            return False
        if isinstance(node, ast.Name):
            use = name_use(scope, node.id)
            if use.declared or len(use.bindings) > 1:
                return False
            if not use.bindings and scope is not module:
                use = name_use(module, node.id)  # a module-level variable: bound once in the whole file?
                if use.declared or len(use.bindings) > 1:
                    return False
            names.add(node.id)
    return not mutated_in_place(scope, names)


def _root_name(node: ast.AST) -> str | None:
    """``x`` for ``x``, ``x[i]``, ``x.data``, ``x[i].y``."""
    while isinstance(node, (ast.Subscript, ast.Attribute, ast.Starred)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def mutated_in_place(scope: ast.AST, names: set[str]) -> bool:
    """Whether one of ``names`` is changed in place somewhere in ``scope``: an item or attribute
    stored or deleted (``x[mask] = 0``, ``x.data = ...``), an in-place method (``x.mul_(2)``,
    ``x.masked_fill_(...)``) or an ``out=`` argument.

    Dropping or swapping an activation makes a variable hold, or a loss read, the activation's
    input itself instead of a fresh tensor: a change in place would then reach the loss.
    """
    if not names:
        return False
    for node in ast.walk(scope):
        if isinstance(node, (ast.Subscript, ast.Attribute)) and isinstance(node.ctx, (ast.Store, ast.Del)):
            if _root_name(node) in names:
                return True
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr.endswith("_") and not func.attr.startswith("_") \
                    and _root_name(func.value) in names:
                return True
            if any(k.arg == "out" and _root_name(k.value) in names for k in node.keywords):
                return True
    return False


def read_names(expression: ast.AST) -> set[str]:
    return {node.id for node in ast.walk(expression) if isinstance(node, ast.Name)}
