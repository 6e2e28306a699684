"""Dataflow: an abstract interpreter over one module's syntax tree.

It runs the module's statements in order, and each function body once,
binding names to ``Value``s: imports become module values, calls of
framework functions become canonical-op values (with facts from
``transfer``), calls of the file's own functions and classes return those
functions' summaries (a ``forward`` that returns a softmax makes
``model(x)`` a softmax output).  Every op value it creates is handed to the
rules that asked for that op, together with the current context.

The tree is CPython's ``ast``: it parses about ten times faster than libcst
and carries its own positions, which is what keeps a whole-repository run
fast.  libcst is used where source is rewritten (fixes), on the few files
that need it.  Nodes are walked by type, never through a generic visitor.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from . import facts as F
from .facts import Facts, Interval, Why
from .ops import OpTable, Spelling
from .shapes import infer_shape, note_rank
from .transfer import transfer
from .values import (
    BOUND, CLASS, CONST, FUNCTION, INSTANCE, LAYER, MEMBER, MODULE, OP, PARAM, RESULT, SYMBOL, TUPLE,
    UNKNOWN_KIND, Value, unknown,
)

Hook = Callable[[Value, "Context"], None]
FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda

BINARY_OPS: dict[type, str] = {
    ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.FloorDiv: "floordiv",
    ast.Mod: "mod", ast.Pow: "pow", ast.MatMult: "matmul",
}
COMPARE_OPS: dict[type, str] = {
    ast.Eq: "eq", ast.NotEq: "ne", ast.Lt: "lt", ast.LtE: "le", ast.Gt: "gt", ast.GtE: "ge",
    ast.Is: "is", ast.IsNot: "is_not", ast.In: "in", ast.NotIn: "not_in",
}
# Ops that denote a value, with canonical params, but are spelled with syntax.
SYNTAX_PARAMS: dict[str, tuple[str, ...]] = {
    "pow": ("input", "exponent"), "neg": ("input",), "not": ("input",), "invert": ("input",),
    "getitem": ("input",), "is": ("input", "other"), "is_not": ("input", "other"),
    "in": ("input", "other"), "not_in": ("input", "other"), "floordiv": ("input", "other"),
    "mod": ("input", "other"),
}
ACTIVATION_STRINGS = {
    "softmax": "softmax", "sigmoid": "sigmoid", "relu": "relu", "tanh": "tanh", "softplus": "softplus",
    "log_softmax": "log_softmax", "gelu": "gelu", "elu": "elu", "selu": "selu", "swish": "silu",
    "silu": "silu", "exponential": "exp", "hard_sigmoid": "sigmoid",
}
INSTANCE_CALL_METHODS = ("forward", "__call__", "call")
INIT_METHODS = ("__init__", "setup", "build")
MASK_PARAM_NAMES = ("mask",)
FRAMEWORK_MODULE_ROOTS = ("torch", "tensorflow", "keras", "tf_keras", "flax", "haiku", "equinox")
FLOAT16_NAMES = ("float16", "half", "fp16", "mixed_float16")
GRAD_OFF_OPS = ("no_grad", "inference_mode")
# Reductions that return (values, indices) when given an axis.
PAIR_RESULTS = ("max", "min", "median", "mode", "kthvalue", "sort", "topk")
CALL_RUN_BUDGET = 48  # call-site runs of helpers per file
CALL_RUN_DEPTH = 3  # nesting of function runs under which call-site runs still happen
FUNCTION_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef)


@dataclass(eq=False)
class Scope:
    vars: dict[str, Value]
    parent: Scope | None = None


@dataclass(eq=False)
class FunctionInfo:
    node: FunctionNode
    name: str
    scope: Scope
    cls: ClassInfo | None = None
    kind: str = "function"  # "function" | "method" | "staticmethod" | "classmethod" | "property"
    state: int = 0  # 0 not run, 1 running, 2 done
    returns: list[Value] = field(default_factory=list)
    summary: Value | None = None

    @property
    def qualname(self) -> str:
        return f"{self.cls.name}.{self.name}" if self.cls else self.name

    @property
    def param_names(self) -> list[str]:
        args = self.node.args
        names = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]
        names += [a.arg for a in (args.vararg, args.kwarg) if a is not None]
        return names


@dataclass(eq=False)
class ClassInfo:
    node: ast.ClassDef
    name: str
    scope: Scope
    bases: list[Value] = field(default_factory=list)
    methods: dict[str, FunctionInfo] = field(default_factory=dict)
    attrs: dict[str, Value] = field(default_factory=dict)
    init_state: int = 0

    def lineage(self) -> Iterable[ClassInfo]:
        """This class and its bases defined in the file, breadth first, each once."""
        seen: set[int] = set()
        queue: list[ClassInfo] = [self]
        while queue:
            cls = queue.pop(0)
            if id(cls) in seen:
                continue
            seen.add(id(cls))
            yield cls
            queue.extend(b.ref for b in cls.bases if b.kind == CLASS)

    def find_method(self, name: str) -> FunctionInfo | None:
        return next((cls.methods[name] for cls in self.lineage() if name in cls.methods), None)

    @property
    def is_framework_module(self) -> bool:
        """Derives (in the file or through it) from nn.Module, a Keras layer/model, a Flax or tf module."""
        for cls in self.lineage():
            for base in cls.bases:
                name = base.qualname or ""
                if base.kind in (SYMBOL, MODULE) and name.split(".", 1)[0] in FRAMEWORK_MODULE_ROOTS:
                    return True
        return False

    def find_attr(self, name: str) -> Value | None:
        return next((cls.attrs[name] for cls in self.lineage() if name in cls.attrs), None)


@dataclass(eq=False)
class Frame:
    """One function body being run: by itself (unknown arguments) or for one call site."""

    info: FunctionInfo
    returns: list[Value] = field(default_factory=list)


@dataclass
class Context:
    """Where the analysis is when it hands a value to a rule."""

    analyzer: Analyzer
    function: FunctionInfo | None
    scope: Scope
    no_grad: bool = False  # no gradient flows here (torch.no_grad, inference_mode)


class Analyzer:
    def __init__(self, module: ast.Module, table: OpTable, hooks: dict[str, list[Hook]]):
        self.module = module
        self.table = table
        self.hooks = hooks
        self.frameworks: set[str] = set()
        self.module_scope = Scope({})
        self.functions: dict[ast.AST, FunctionInfo] = {}
        self.classes: dict[ast.AST, ClassInfo] = {}
        self.function_stack: list[Frame] = []
        self._calls_run = 0  # call-site runs of helpers so far (bounded per file)
        self._call_cache: dict[tuple, Value] = {}
        self._frozen_frameworks: frozenset[str] = frozenset()
        self.flags: set[str] = set()  # file-level context: "float16", "bfloat16", "autodiff"
        self.no_grad_depth = 0  # inside `with torch.no_grad()` or a @torch.no_grad() function
        self._rule_state: dict[tuple[int, object], object] = {}
        self._dispatch = {
            ast.Name: self._ev_name,
            ast.Attribute: self._ev_attribute,
            ast.Call: self._ev_call,
            ast.BinOp: self._ev_binary,
            ast.UnaryOp: self._ev_unary,
            ast.Compare: self._ev_comparison,
            ast.BoolOp: self._ev_boolean,
            ast.Constant: self._ev_constant,
            ast.JoinedStr: self._ev_fstring,
            ast.FormattedValue: self._ev_formatted,
            ast.Subscript: self._ev_subscript,
            ast.Tuple: self._ev_sequence,
            ast.List: self._ev_sequence,
            ast.Set: self._ev_sequence,
            ast.Dict: self._ev_dict,
            ast.IfExp: self._ev_ifexp,
            ast.Lambda: self._ev_lambda,
            ast.ListComp: self._ev_comprehension,
            ast.SetComp: self._ev_comprehension,
            ast.GeneratorExp: self._ev_comprehension,
            ast.DictComp: self._ev_comprehension,
            ast.NamedExpr: self._ev_namedexpr,
            ast.Await: self._ev_inner,
            ast.Yield: self._ev_yield,
            ast.YieldFrom: self._ev_yield,
            ast.Starred: self._ev_starred,
            ast.Slice: self._ev_slice,
        }
        self._statements = {
            ast.Assign: self._exec_assign,
            ast.AnnAssign: self._exec_annassign,
            ast.AugAssign: self._exec_augassign,
            ast.Expr: self._exec_expr,
            ast.Return: self._exec_return,
            ast.Raise: self._exec_raise,
            ast.Import: self._exec_import,
            ast.ImportFrom: self._exec_import,
            ast.Assert: self._exec_assert,
            ast.FunctionDef: self._exec_def,
            ast.AsyncFunctionDef: self._exec_def,
            ast.ClassDef: self._exec_class,
            ast.If: self._exec_if,
            ast.For: self._exec_loop,
            ast.AsyncFor: self._exec_loop,
            ast.While: self._exec_loop,
            ast.With: self._exec_with,
            ast.AsyncWith: self._exec_with,
            ast.Try: self._exec_try,
            ast.Match: self._exec_match,
            ast.Continue: _leaves,
            ast.Break: _leaves,
        }
        if hasattr(ast, "TryStar"):
            self._statements[ast.TryStar] = self._exec_try

    # -- driver -----------------------------------------------------------------

    def run(self) -> None:
        self._hoist(self.module.body, self.module_scope)
        self._frozen_frameworks = frozenset(self.frameworks)
        self.exec_block(self.module.body, self.module_scope)
        # Functions nobody called still get linted, with unknown arguments.
        for info in list(self.functions.values()):
            if info.state == 0:
                self.run_function(info)

    def _hoist(self, body: Iterable[ast.stmt], scope: Scope) -> None:
        """Bind module-level imports, functions and classes before running code."""
        for stmt in body:
            if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                self._exec_import(stmt, scope)
            elif isinstance(stmt, FUNCTION_DEFS):
                scope.vars[stmt.name] = info_value(self._define_function(stmt, scope, None))
            elif isinstance(stmt, (ast.If, ast.Try, ast.With)):
                self._hoist(_inner_statements(stmt), scope)

    # -- statements -------------------------------------------------------------

    def exec_block(self, body: Iterable[ast.stmt], scope: Scope) -> bool:
        """Run statements in order; True when the block always leaves (return/raise)."""
        statements = self._statements
        for stmt in body:
            handler = statements.get(type(stmt))
            if handler is not None and handler(stmt, scope):
                return True
        return False

    def _exec_assign(self, stmt: ast.Assign, scope: Scope) -> bool:
        value = self.ev(stmt.value, scope)
        for target in stmt.targets:
            self.bind(target, value, scope)
        return False

    def _exec_annassign(self, stmt: ast.AnnAssign, scope: Scope) -> bool:
        if stmt.value is not None:
            self.bind(stmt.target, self.ev(stmt.value, scope), scope)
        return False

    def _exec_augassign(self, stmt: ast.AugAssign, scope: Scope) -> bool:
        left = self.ev(_as_load(stmt.target), scope)
        right = self.ev(stmt.value, scope)
        op = BINARY_OPS.get(type(stmt.op))
        second = "exponent" if op == "pow" else "other"
        value = self.make_op(op, stmt, {"input": left, second: right},
                             {"input": stmt.target, second: stmt.value}) if op else unknown(stmt)
        self.bind(stmt.target, value, scope)
        return False

    def _exec_expr(self, stmt: ast.Expr, scope: Scope) -> bool:
        self.ev(stmt.value, scope)
        return False

    def _exec_return(self, stmt: ast.Return, scope: Scope) -> bool:
        value = self.ev(stmt.value, scope) if stmt.value is not None else Value(CONST, stmt, const=None)
        if self.function_stack:
            self.function_stack[-1].returns.append(value)
        self.fire("@return", Value(OP, stmt, op="@return", args={"input": value},
                                   arg_nodes={"input": stmt.value} if stmt.value else {}), scope)
        return True

    def _exec_raise(self, stmt: ast.Raise, scope: Scope) -> bool:
        if stmt.exc is not None:
            self.ev(stmt.exc, scope)
        return True

    def _exec_assert(self, stmt: ast.Assert, scope: Scope) -> bool:
        self.ev(stmt.test, scope)
        self._assume(stmt.test, True, scope)
        if stmt.msg is not None:
            self.ev(stmt.msg, scope)
        return False

    def _exec_def(self, stmt: ast.FunctionDef, scope: Scope) -> bool:
        scope.vars[stmt.name] = info_value(self._define_function(stmt, scope, None))
        return False

    def _exec_with(self, stmt: ast.With, scope: Scope) -> bool:
        grad_off = 0
        for item in stmt.items:
            value = self.ev(item.context_expr, scope)
            grad_off += value.kind == OP and value.op in GRAD_OFF_OPS
            if item.optional_vars is not None:
                target = item.optional_vars
                self.bind(target, unknown(target) if value.kind == LAYER else value, scope)
        self.no_grad_depth += grad_off
        try:
            return self.exec_block(stmt.body, scope)
        finally:
            self.no_grad_depth -= grad_off

    def _exec_match(self, stmt: ast.Match, scope: Scope) -> bool:
        self.ev(stmt.subject, scope)
        for case in stmt.cases:
            self._branch(lambda s, case=case: self.exec_block(case.body, s), scope)
        return False

    def _exec_if(self, stmt: ast.If, scope: Scope) -> bool:
        self.ev(stmt.test, scope)

        def then(s: Scope) -> bool:
            self._assume(stmt.test, True, s)
            return self.exec_block(stmt.body, s)

        def otherwise(s: Scope) -> bool:
            self._assume(stmt.test, False, s)
            return self.exec_block(stmt.orelse, s)

        return self._join_branches([then, otherwise], scope)

    def _assume(self, test: ast.expr, outcome: bool, scope: Scope) -> None:
        """Refine variables where ``test`` is known to be ``outcome``: after ``if n > 0:``, n is not 0."""
        for name, op, bound in _assumptions(test, outcome):
            value = self.lookup(name, scope)
            if value is not None and value.kind in (OP, PARAM, RESULT, UNKNOWN_KIND, CONST):
                refined = F.refine(value.facts, op, bound)
                if refined is not value.facts:
                    scope.vars[name] = value.with_facts(refined)

    def _branch(self, run: Callable[[Scope], bool], scope: Scope) -> None:
        self._join_branches([run, lambda s: False], scope)

    def _join_branches(self, branches: list[Callable[[Scope], bool]], scope: Scope) -> bool:
        before = scope.vars
        outcomes: list[dict[str, Value]] = []
        for run in branches:
            scope.vars = dict(before)
            if not run(scope):
                outcomes.append(scope.vars)
        if not outcomes:
            scope.vars = before
            return True
        merged = dict(outcomes[0])
        for other in outcomes[1:]:
            for name, value in other.items():
                current = merged.get(name)
                merged[name] = value if current is None else join_values(current, value)
        scope.vars = merged
        return False

    def _exec_loop(self, stmt: ast.For | ast.While, scope: Scope) -> bool:
        if isinstance(stmt, ast.While):
            self.ev(stmt.test, scope)

            def body(s: Scope) -> bool:
                self.exec_block(stmt.body, s)
                return False
        else:
            iterable = self.ev(stmt.iter, scope)

            def body(s: Scope) -> bool:
                self.bind(stmt.target, _element_of(iterable, stmt.target), s)
                self.exec_block(stmt.body, s)
                return False

        self._join_branches([body, lambda s: False], scope)
        if stmt.orelse:
            self.exec_block(stmt.orelse, scope)
        return False

    def _exec_try(self, stmt: ast.Try, scope: Scope) -> bool:
        branches: list[Callable[[Scope], bool]] = [lambda s: self.exec_block(stmt.body, s)]
        for handler in stmt.handlers:
            branches.append(lambda s, h=handler: self.exec_block(h.body, s))
        left = self._join_branches(branches, scope)
        if stmt.orelse and not left:
            left = self.exec_block(stmt.orelse, scope)
        if stmt.finalbody:
            left = self.exec_block(stmt.finalbody, scope) or left
        return left

    def _exec_import(self, stmt: ast.Import | ast.ImportFrom, scope: Scope) -> bool:
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                dotted = alias.name
                self._note_framework(dotted)
                if alias.asname is not None:
                    scope.vars[alias.asname] = self._qualified(dotted, alias)
                else:
                    top = dotted.split(".", 1)[0]
                    scope.vars[top] = self._qualified(top, alias)
            return False
        if stmt.level or stmt.module is None:
            return False
        module = stmt.module
        self._note_framework(module)
        for alias in stmt.names:
            if alias.name == "*":
                continue
            scope.vars[alias.asname or alias.name] = self._qualified(f"{module}.{alias.name}", alias)
        return False

    def _note_framework(self, dotted: str) -> None:
        framework = self.table.framework_of(self.table.normalize(dotted))
        if framework:
            self.frameworks.add(framework)
            self._frozen_frameworks = frozenset(self.frameworks)

    def _qualified(self, qualname: str, node: ast.AST) -> Value:
        """A dotted name inside an imported module: a constant op, a symbol or a module."""
        spelling = self.table.lookup(qualname)
        if spelling is not None:
            if spelling.kind == "constant":
                return self.make_op(spelling.op, node, {}, {}, spelling=spelling)
            return Value(SYMBOL, node, qualname=qualname, spelling=spelling)
        return Value(MODULE, node, qualname=qualname)

    def _exec_class(self, stmt: ast.ClassDef, scope: Scope) -> bool:
        info = ClassInfo(stmt, stmt.name, scope)
        self.classes[stmt] = info
        info.bases = [self.ev(base, scope) for base in stmt.bases]
        for keyword in stmt.keywords:
            self.ev(keyword.value, scope)
        scope.vars[info.name] = Value(CLASS, stmt, ref=info, name=info.name)
        body_scope = Scope({}, scope)
        for inner in stmt.body:
            if isinstance(inner, FUNCTION_DEFS):
                info.methods[inner.name] = self._define_function(inner, scope, info)
            else:
                handler = self._statements.get(type(inner))
                if handler is not None:
                    handler(inner, body_scope)
        for name, attr in body_scope.vars.items():
            info.attrs.setdefault(name, attr)
        return False

    def _define_function(self, node: ast.FunctionDef, scope: Scope, cls: ClassInfo | None) -> FunctionInfo:
        info = self.functions.get(node)
        if info is not None:
            return info
        kind = "method" if cls is not None else "function"
        for decorator in node.decorator_list:
            name = _dotted(decorator)
            if name in ("staticmethod", "classmethod", "property"):
                kind = name
        info = FunctionInfo(node, node.name, scope, cls, kind)
        self.functions[node] = info
        return info

    # -- functions --------------------------------------------------------------

    def run_function(self, info: FunctionInfo) -> Value:
        """Lint a function body once, with unknown arguments; return its summary."""
        if info.state == 2:
            return info.summary or unknown(info.node)
        if info.state == 1:
            return unknown(info.node)
        if info.cls is not None and info.name not in INIT_METHODS:
            self.ensure_initialized(info.cls)
        info.state = 1
        scope = Scope({}, info.scope)
        self._bind_params(info, scope)
        try:
            returns = self._execute(info, scope)
        finally:
            info.state = 2
        info.returns = returns
        info.summary = _join_all(returns, info.node)
        # nested functions are linted with the enclosing scope as it ended
        if not isinstance(info.node, ast.Lambda):
            for nested in self._nested_functions(info.node):
                if nested.state == 0:
                    self.run_function(nested)
        return info.summary

    def _execute(self, info: FunctionInfo, scope: Scope) -> list[Value]:
        """Run a function's body in ``scope`` (parameters already bound); its return values."""
        frame = Frame(info)
        self.function_stack.append(frame)
        try:
            if isinstance(info.node, ast.Lambda):
                frame.returns.append(self.ev(info.node.body, scope))
                return frame.returns
            grad_off = 0
            for decorator in info.node.decorator_list:
                value = self.ev(decorator, info.scope)
                grad_off += value.kind == OP and value.op in GRAD_OFF_OPS
            saved_depth = self.no_grad_depth
            self.no_grad_depth = grad_off  # a function body does not inherit its caller's mode
            self._hoist_nested(info.node.body, scope)
            try:
                self.exec_block(info.node.body, scope)
            finally:
                self.no_grad_depth = saved_depth
        finally:
            self.function_stack.pop()
        return frame.returns

    def run_at_call(self, info: FunctionInfo, call: ast.Call, args: list[Value], receiver: Value | None,
                    ) -> Value | None:
        """Run a helper again with the values one call site passes, when they carry facts.

        This is what lets ``entropy(softmax(z))`` find the log inside
        ``entropy``.  Runs are bounded (per file, in depth, once per distinct
        set of argument values) and never change the function's own summary.
        """
        if not any(_carries_facts(a) for a in args) or self._calls_run >= CALL_RUN_BUDGET:
            return None
        if sum(1 for f in self.function_stack if f.info is info) or len(self.function_stack) > CALL_RUN_DEPTH:
            return None
        key = (id(info), *(id(a) for a in args), id(receiver))
        if key in self._call_cache:
            return self._call_cache[key]
        scope = Scope({}, info.scope)
        if not self._bind_call(info, call, args, receiver, scope):
            return None
        self._calls_run += 1
        returns = self._execute(info, scope)
        result = _join_all(returns, info.node)
        self._call_cache[key] = result
        return result

    def _bind_call(self, info: FunctionInfo, call: ast.Call, args: list[Value], receiver: Value | None,
                   scope: Scope) -> bool:
        """Bind a call's arguments to the function's parameters; False when it cannot be done simply."""
        self._bind_params(info, scope)  # defaults and unknowns first
        params = info.node.args
        ordered = [p.arg for p in (*params.posonlyargs, *params.args)]
        if receiver is not None or (info.cls is not None and info.kind in ("method", "property")):
            ordered = ordered[1:]
        keyword_ok = {p.arg for p in (*params.args, *params.kwonlyargs)}
        position = 0
        for (keyword, node), value in zip(_call_arguments(call), args):
            if node is None:  # *args or **kwargs at the call
                return False
            if keyword is not None:
                if keyword not in keyword_ok:
                    return False
                scope.vars[keyword] = value
            elif position < len(ordered):
                scope.vars[ordered[position]] = value
                position += 1
            else:
                return False
        return True

    def _hoist_nested(self, body: list[ast.stmt], scope: Scope) -> None:
        for stmt in body:
            if isinstance(stmt, FUNCTION_DEFS):
                scope.vars[stmt.name] = info_value(self._define_function(stmt, scope, None))

    def _nested_functions(self, node: ast.FunctionDef) -> list[FunctionInfo]:
        return [self.functions[stmt] for stmt in _walk_statements(node.body)
                if isinstance(stmt, FUNCTION_DEFS) and stmt in self.functions]

    def _bind_params(self, info: FunctionInfo, scope: Scope) -> None:
        params = info.node.args
        ordered = [*params.posonlyargs, *params.args]
        defaults: dict[int, ast.expr] = {}
        for param, default in zip(reversed(ordered), reversed(params.defaults)):
            defaults[id(param)] = default
        for param, default in zip(params.kwonlyargs, params.kw_defaults):
            if default is not None:
                defaults[id(param)] = default
        first = True
        for param in [*ordered, *params.kwonlyargs]:
            name = param.arg
            default_node = defaults.get(id(param))
            default = self.ev(default_node, info.scope) if default_node is not None else None
            in_order = first and ordered and param is ordered[0]
            if in_order and info.cls is not None and info.kind in ("method", "property"):
                value = Value(INSTANCE, param, ref=info.cls, name=name)
            elif in_order and info.cls is not None and info.kind == "classmethod":
                value = Value(CLASS, param, ref=info.cls, name=name)
            else:
                value = self._param_value(param, info)
                if value.kind == PARAM and default is not None and default.is_numeric_const:
                    value.ref = default  # the default, for rules about literal constants (eps=1e-8)
            first = False
            scope.vars[name] = value
        for star in (params.vararg, params.kwarg):
            if star is not None:
                scope.vars[star.arg] = Value(PARAM, star, name=star.arg)

    def _param_value(self, param: ast.arg, info: FunctionInfo) -> Value:
        name = param.arg
        if param.annotation is not None:
            annotated = self.ev(param.annotation, info.scope)
            if annotated.kind == CLASS:
                return Value(INSTANCE, param, ref=annotated.ref, name=name)
        lowered = name.lower()
        if any(lowered == m or lowered.endswith("_" + m) for m in MASK_PARAM_NAMES):
            return Value(PARAM, param, name=name,
                         facts=Facts(range=Interval(0.0, 1.0), zero=Why("a 0/1 mask", discrete=True), discrete=True))
        return Value(PARAM, param, name=name)

    def ensure_initialized(self, cls: ClassInfo) -> None:
        if cls.init_state:
            return
        cls.init_state = 1
        for base in cls.bases:
            if base.kind == CLASS:
                self.ensure_initialized(base.ref)
        for name in INIT_METHODS:
            method = cls.methods.get(name)
            if method is not None and method.state == 0:
                self.run_function(method)
        cls.init_state = 2

    def call_function(self, info: FunctionInfo, node: ast.AST, args: list[Value] | None = None,
                      receiver: Value | None = None) -> Value:
        summary = self.run_function(info)
        if args is not None and isinstance(node, ast.Call):
            at_call = self.run_at_call(info, node, args, receiver)
            if at_call is not None and at_call.kind not in (UNKNOWN_KIND,):
                summary = at_call
        if summary.kind in (TUPLE, INSTANCE, CLASS, LAYER, FUNCTION, BOUND):
            return summary
        return Value(RESULT, node, via=summary, facts=summary.facts, ref=info)

    def call_instance(self, cls: ClassInfo, node: ast.AST, args: list[Value] | None = None,
                      receiver: Value | None = None) -> Value:
        for name in INSTANCE_CALL_METHODS:
            method = cls.find_method(name)
            if method is not None:
                return self.call_function(method, node, args, receiver)
        return unknown(node)

    # -- binding ------------------------------------------------------------------

    def bind(self, target: ast.AST, value: Value, scope: Scope) -> None:
        t = type(target)
        if t is ast.Name:
            if value.name is None and value.kind in (OP, RESULT, PARAM, UNKNOWN_KIND):
                value.name = target.id
            scope.vars[target.id] = value
        elif t in (ast.Tuple, ast.List):
            elements = target.elts
            starred = any(isinstance(e, ast.Starred) for e in elements)
            items = value.items if value.kind == TUPLE and value.items is not None else None
            if items is None and value.kind == OP and value.op in PAIR_RESULTS and len(elements) == 2:
                items = [value, unknown(elements[1])]  # values, indices = torch.max(x, dim)
            if value.kind == OP and value.op == "shape" and not starred:
                note_rank(value.args.get("input"), len(elements), target)  # b, t, d = x.shape
            for i, element in enumerate(elements):
                if items is not None and not starred and len(items) == len(elements):
                    self.bind(element, items[i], scope)
                else:
                    self.bind(element, unknown(element), scope)
        elif t is ast.Attribute:
            owner = self.ev(target.value, scope)
            if owner.kind == INSTANCE:
                cls: ClassInfo = owner.ref
                current = cls.attrs.get(target.attr)
                in_init = bool(self.function_stack) and self.function_stack[-1].info.name in INIT_METHODS
                if current is None or in_init or _is_placeholder(current):
                    cls.attrs[target.attr] = value
        elif t is ast.Subscript:
            self.ev(target, scope)
            self._fixed_by_assignment(target, value, scope)
        elif t is ast.Starred:
            self.bind(target.value, unknown(target), scope)

    def _fixed_by_assignment(self, target: ast.Subscript, value: Value, scope: Scope) -> None:
        """``std[std == 0] = 1.0`` (or ``< eps``) replaces the zeros: std is no longer 0."""
        if not isinstance(target.value, ast.Name) or isinstance(target.slice, (ast.Tuple, ast.Slice)):
            return
        if not value.is_numeric_const or float(value.const) <= 0:
            return
        name = target.value.id
        tested = [n for n, op, bound in _assumptions(target.slice, True) if op in ("eq", "lt", "le") and bound >= 0]
        current = self.lookup(name, scope)
        if name in tested and current is not None:
            scope.vars[name] = current.with_facts(F.refine(current.facts, "ne", 0.0))

    # -- expressions ------------------------------------------------------------

    def ev(self, node: ast.AST, scope: Scope) -> Value:
        handler = self._dispatch.get(type(node))
        if handler is None:
            return unknown(node)
        return handler(node, scope)

    def lookup(self, name: str, scope: Scope) -> Value | None:
        s: Scope | None = scope
        while s is not None:
            value = s.vars.get(name)
            if value is not None:
                return value
            s = s.parent
        return None

    def _ev_name(self, node: ast.Name, scope: Scope) -> Value:
        value = self.lookup(node.id, scope)
        if value is not None:
            return value
        spelling = self.table.lookup(f"builtins.{node.id}")
        if spelling is not None:
            return Value(SYMBOL, node, qualname=f"builtins.{node.id}", spelling=spelling)
        return unknown(node)

    def _ev_attribute(self, node: ast.Attribute, scope: Scope) -> Value:
        base = self.ev(node.value, scope)
        attr = node.attr
        kind = base.kind
        if kind in (MODULE, SYMBOL) and base.qualname:
            return self._qualified(f"{base.qualname}.{attr}", node)
        if kind == INSTANCE:
            return self._instance_attr(base, attr, node)
        if kind == CLASS:
            cls: ClassInfo = base.ref
            method = cls.find_method(attr)
            if method is not None:
                return info_value(method)
            found = cls.find_attr(attr)
            return found if found is not None else unknown(node)
        if kind == OP and base.op == "finfo":
            return self._finfo_attr(base, attr, node)
        if kind == RESULT and base.via is not None and base.via.kind == OP and attr == "values":
            return base
        if kind == OP and base.op in ("max", "min") and attr == "values":
            return base
        if attr in ("T", "mT", "data", "real"):
            return self.make_op("getitem", node, {"input": base}, {"input": node.value})
        spelling = self.table.attribute(attr, self._frozen_frameworks)
        if spelling is not None and kind not in (LAYER, TUPLE, CONST):
            return self.make_op(spelling.op, node, {"input": base}, {"input": node.value}, spelling=spelling,
                                method=True)
        return Value(MEMBER, node, ref=base, name=attr)

    def _finfo_attr(self, base: Value, attr: str, node: ast.AST) -> Value:
        ranges = {
            "eps": Interval(0.0, 1.0, F.OPEN, F.OPEN),
            "tiny": Interval(0.0, 1.0, F.OPEN, F.OPEN),
            "smallest_normal": Interval(0.0, 1.0, F.OPEN, F.OPEN),
            "max": Interval(1.0, F.INF, F.OPEN, F.OPEN),
            "min": Interval(-F.INF, -1.0, F.OPEN, F.OPEN),
        }
        return Value(OP, node, op=f"finfo.{attr}", args={"input": base},
                     facts=Facts(range=ranges.get(attr, F.TOP)))

    def _instance_attr(self, base: Value, attr: str, node: ast.AST) -> Value:
        cls: ClassInfo = base.ref
        if cls.init_state == 0:
            self.ensure_initialized(cls)
        found = cls.find_attr(attr)
        if found is not None:
            return found
        method = cls.find_method(attr)
        if method is not None:
            if method.kind == "property":
                return self.call_function(method, node)
            return Value(BOUND, node, ref=method, via=base)
        return Value(MEMBER, node, ref=base, name=attr)  # inherited from a framework base class

    def _ev_constant(self, node: ast.Constant, scope: Scope) -> Value:
        value = node.value
        if isinstance(value, (int, float)):  # bool included: True is 1
            return Value(CONST, node, const=value, facts=F.constant(value))
        if isinstance(value, complex):
            return Value(CONST, node, const=None)
        return Value(CONST, node, const=value)

    def _ev_fstring(self, node: ast.JoinedStr, scope: Scope) -> Value:
        for part in node.values:
            self.ev(part, scope)
        return Value(CONST, node, const=None)

    def _ev_formatted(self, node: ast.FormattedValue, scope: Scope) -> Value:
        self.ev(node.value, scope)
        if node.format_spec is not None:
            self.ev(node.format_spec, scope)
        return Value(CONST, node, const=None)

    def _ev_inner(self, node: ast.Await, scope: Scope) -> Value:
        return self.ev(node.value, scope)

    def _ev_starred(self, node: ast.Starred, scope: Scope) -> Value:
        self.ev(node.value, scope)
        return unknown(node)

    def _ev_slice(self, node: ast.Slice, scope: Scope) -> Value:
        for part in (node.lower, node.upper, node.step):
            if part is not None:
                self.ev(part, scope)
        return unknown(node)

    def _ev_yield(self, node: ast.Yield | ast.YieldFrom, scope: Scope) -> Value:
        if node.value is not None:
            self.ev(node.value, scope)
        return unknown(node)

    def _ev_namedexpr(self, node: ast.NamedExpr, scope: Scope) -> Value:
        value = self.ev(node.value, scope)
        self.bind(node.target, value, scope)
        return value

    def _ev_sequence(self, node: ast.Tuple | ast.List | ast.Set, scope: Scope) -> Value:
        items: list[Value] | None = []
        for element in node.elts:
            if isinstance(element, ast.Starred):
                self.ev(element.value, scope)
                items = None
                continue
            value = self.ev(element, scope)
            if items is not None:
                items.append(value)
        return Value(TUPLE, node, items=items)

    def _ev_dict(self, node: ast.Dict, scope: Scope) -> Value:
        for key, value in zip(node.keys, node.values):
            if key is not None:
                self.ev(key, scope)
            self.ev(value, scope)
        return unknown(node)

    def _ev_ifexp(self, node: ast.IfExp, scope: Scope) -> Value:
        self.ev(node.test, scope)
        return join_values(self.ev(node.body, scope), self.ev(node.orelse, scope))

    def _ev_lambda(self, node: ast.Lambda, scope: Scope) -> Value:
        info = self.functions.get(node)
        if info is None:
            info = FunctionInfo(node, "<lambda>", scope)
            self.functions[node] = info
        return info_value(info)

    def _ev_comprehension(self, node: ast.ListComp, scope: Scope) -> Value:
        inner = Scope({}, scope)
        for clause in node.generators:
            iterable = self.ev(clause.iter, inner)
            self.bind(clause.target, _element_of(iterable, clause.target), inner)
            for condition in clause.ifs:
                self.ev(condition, inner)
        if isinstance(node, ast.DictComp):
            self.ev(node.key, inner)
            self.ev(node.value, inner)
        else:
            self.ev(node.elt, inner)
        return unknown(node)

    def _ev_boolean(self, node: ast.BoolOp, scope: Scope) -> Value:
        values = [self.ev(value, scope) for value in node.values]
        result = values[0]
        for value in values[1:]:
            result = join_values(result, value)
        return result

    def _ev_unary(self, node: ast.UnaryOp, scope: Scope) -> Value:
        operand = self.ev(node.operand, scope)
        operator = type(node.op)
        if operator is ast.USub:
            if operand.is_numeric_const:
                return Value(CONST, node, const=-operand.const, facts=F.constant(-operand.const))
            return self.make_op("neg", node, {"input": operand}, {"input": node.operand})
        if operator is ast.UAdd:
            return operand
        op = "not" if operator is ast.Not else "invert"
        return self.make_op(op, node, {"input": operand}, {"input": node.operand})

    def _ev_binary(self, node: ast.BinOp, scope: Scope) -> Value:
        left = self.ev(node.left, scope)
        right = self.ev(node.right, scope)
        op = BINARY_OPS.get(type(node.op))
        if op is None:
            return unknown(node)
        if left.is_numeric_const and right.is_numeric_const:
            folded = _fold(op, left.const, right.const)
            if folded is not None:
                return Value(CONST, node, const=folded, facts=F.constant(folded))
        second = "exponent" if op == "pow" else "other"
        return self.make_op(op, node, {"input": left, second: right}, {"input": node.left, second: node.right})

    def _ev_comparison(self, node: ast.Compare, scope: Scope) -> Value:
        left_node = node.left
        left = self.ev(left_node, scope)
        result = left
        for operator, comparator in zip(node.ops, node.comparators):
            right = self.ev(comparator, scope)
            op = COMPARE_OPS.get(type(operator), "compare")
            # A single comparison is the whole node (what gets reported); a chain's links are their operands.
            where = node if len(node.ops) == 1 else comparator
            result = self.make_op(op, where, {"input": left, "other": right},
                                  {"input": left_node, "other": comparator})
            left, left_node = right, comparator
        return result

    def _ev_subscript(self, node: ast.Subscript, scope: Scope) -> Value:
        base = self.ev(node.value, scope)
        index_node = node.slice
        parts = index_node.elts if isinstance(index_node, ast.Tuple) else [index_node]
        index_values = [self.ev(part, scope) if not isinstance(part, ast.Slice) else self._ev_slice(part, scope)
                        for part in parts]
        if base.kind == TUPLE and base.items is not None and len(parts) == 1 and not isinstance(index_node, ast.Slice):
            index = index_values[0]
            if index.kind == CONST and isinstance(index.const, int) and not isinstance(index.const, bool):
                if -len(base.items) <= index.const < len(base.items):
                    return base.items[index.const]
        if base.kind == OP and base.op in ("max", "min") and base.args.get("axis") is not None:
            return base  # torch.max(x, dim)[0] is the values
        if base.kind in (OP, PARAM, RESULT, UNKNOWN_KIND, MEMBER):
            return self.make_op("getitem", node, {"input": base}, {"input": node.value})
        return unknown(node)

    # -- calls ------------------------------------------------------------------

    def _ev_call(self, node: ast.Call, scope: Scope) -> Value:
        func = self.ev(node.func, scope)
        kind = func.kind
        if kind == SYMBOL:
            return self._call_spelling(func.spelling, node, scope, func)
        if kind == MEMBER:
            return self._call_member(func, node, scope)
        if kind == LAYER:
            return self._call_layer(func, node, scope)
        args = [self.ev(value, scope) for _, value in _call_arguments(node, with_stars=True)]
        if kind == FUNCTION:
            return self.call_function(func.ref, node, args)
        if kind == BOUND:
            return self.call_function(func.ref, node, args, receiver=func.via)
        if kind == CLASS:
            cls: ClassInfo = func.ref
            return Value(INSTANCE, node, ref=cls)
        if kind == INSTANCE:
            return self.call_instance(func.ref, node, args, func)
        if kind == RESULT and func.via is not None and func.via.kind == LAYER:
            return self._call_layer(func.via, node, scope, evaluated=args)
        if kind == MODULE and "@call" in self.hooks:
            # a framework function or class that is no canonical op (torch.optim.Adam(...))
            bound, nodes = _generic_args(node, args)
            self.fire("@call", Value(OP, node, op="@call", args=bound, arg_nodes=nodes, qualname=func.qualname),
                      scope)
        return unknown(node)

    def _bind_args(self, spelling: Spelling, node: ast.Call, scope: Scope, *, offset: int = 0,
                   init: bool = False, evaluated: list[Value] | None = None,
                   ) -> tuple[dict[str, Value], dict[str, ast.AST]]:
        positional = spelling.init_positional if init else spelling.positional
        args: dict[str, Value] = {}
        nodes: dict[str, ast.AST] = {}
        index = 0
        for i, (keyword, value_node) in enumerate(_call_arguments(node, with_stars=True)):
            value = evaluated[i] if evaluated is not None else self.ev(value_node, scope)
            if isinstance(value_node, ast.Starred) or (keyword == "**"):
                continue
            if keyword is not None:
                name = self.table.canonical_keyword(spelling, keyword, init=init)
            else:
                name = positional[index] if index < len(positional) else f"_{index + offset}"
                index += 1
            args[name] = value
            nodes[name] = value_node
        return args, nodes

    def _call_spelling(self, spelling: Spelling, node: ast.Call, scope: Scope, func: Value) -> Value:
        if spelling.kind == "class":
            args, nodes = self._bind_args(spelling, node, scope, init=True)
            layer = Value(LAYER, node, op=spelling.op, args=args, arg_nodes=nodes, spelling=spelling)
            if spelling.op == "sequential":
                layer.items = self._sequential_items(node, args, nodes)
            return layer
        args, nodes = self._bind_args(spelling, node, scope)
        if spelling.op == "float" and spelling.qualname == "builtins.float":
            special = _float_constant(args.get("input"))
            if special is not None:
                name, negative = special
                value = self.make_op(name, node, {}, {}, spelling=spelling)
                return self.make_op("neg", node, {"input": value}, {}) if negative else value
        return self.make_op(spelling.op, node, args, nodes, spelling=spelling)

    @staticmethod
    def _sequential_items(node: ast.Call, args: dict[str, Value], nodes: dict[str, ast.AST]) -> list[Value]:
        """The layers of ``nn.Sequential(a, b, c)`` or ``keras.Sequential([a, b, c])``."""
        by_node = {id(n): args[name] for name, n in nodes.items()}
        values = [by_node[id(arg)] for arg in node.args if not isinstance(arg, ast.Starred) and id(arg) in by_node]
        if len(values) == 1 and values[0].kind == TUPLE and values[0].items is not None:
            return list(values[0].items)
        return values

    def _call_member(self, func: Value, node: ast.Call, scope: Scope) -> Value:
        receiver: Value = func.ref
        attr: str = func.name or ""
        if receiver.kind == LAYER and receiver.op == "sequential" and attr == "add":
            args = [self.ev(value, scope) for _, value in _call_arguments(node, with_stars=True)]
            if receiver.items is not None and args:
                receiver.items.append(args[0])
            return unknown(node)
        spelling = self.table.method(attr, self._frozen_frameworks)
        if spelling is None or receiver.kind in (MODULE, CLASS, CONST, TUPLE):
            self._plain_method_call(receiver, attr, node, scope)
            return unknown(node)
        args, nodes = self._bind_args(spelling, node, scope, offset=1)
        params = self.table.ops[spelling.op].params if spelling.op in self.table.ops else ()
        first = params[0] if params else "input"
        args = {first: receiver, **args}
        nodes = {first: func.node.value if isinstance(func.node, ast.Attribute) else func.node, **nodes}
        value = self.make_op(spelling.op, node, args, nodes, spelling=spelling, method=True)
        if receiver.kind in (INSTANCE, LAYER) and self.is_passthrough(spelling.op):
            return receiver  # model.cuda().half() is still the model
        return value

    def _plain_method_call(self, receiver: Value, attr: str, node: ast.Call, scope: Scope) -> None:
        """A method that is no canonical op (``loss.backward()``, ``model.compile(...)``).

        Rules can still ask for it as the pseudo-op ``@method:<name>``; its
        arguments are bound as ``self``, ``_0``, ``_1``, ... and by keyword.
        """
        key = f"@method:{attr}"
        args, nodes = _generic_args(node, [self.ev(value, scope)
                                           for _, value in _call_arguments(node, with_stars=True)])
        args["self"] = receiver
        if key in self.hooks:
            self.fire(key, Value(OP, node, op=key, args=args, arg_nodes=nodes), scope)

    def _call_layer(self, layer: Value, node: ast.Call, scope: Scope, evaluated: list[Value] | None = None,
                    ) -> Value:
        spelling: Spelling | None = layer.spelling
        if spelling is None:
            return unknown(node)
        call_args, call_nodes = self._bind_args(spelling, node, scope, evaluated=evaluated)
        x = call_args.get("input")
        if layer.op == "sequential":
            value = x if x is not None else unknown(node)
            for item in layer.items or ():
                value = self.apply_layer(item, value, node)
            return value
        return self._apply_with(layer, call_args, call_nodes, node)

    def apply_layer(self, layer: Value, x: Value, node: ast.AST) -> Value:
        """``layer(x)`` for a layer value held in a Sequential."""
        if layer.kind == INSTANCE:
            return self.call_instance(layer.ref, node)
        if layer.kind != LAYER:
            return unknown(node)
        if layer.op == "sequential":
            for item in layer.items or ():
                x = self.apply_layer(item, x, node)
            return x
        return self._apply_with(layer, {"input": x}, {}, node)

    def _apply_with(self, layer: Value, call_args: dict[str, Value], call_nodes: dict[str, ast.AST],
                    node: ast.AST) -> Value:
        op = layer.op or ""
        if op == "functional_model":
            outputs = layer.args.get("outputs")
            return outputs if outputs is not None else unknown(node)
        if op == "activation_layer":
            name = _activation_name(layer.args.get("activation") or layer.args.get("_0"))
            if name is None:
                return unknown(node)
            return self.make_op(name, node, dict(call_args), dict(call_nodes))
        args = {**{k: v for k, v in layer.args.items() if not k.startswith("_")}, **call_args}
        result = self.make_op(op, node, args, {**call_nodes})
        result.ref = layer  # the layer/loss object, e.g. where a Keras loss was constructed
        activation = _activation_name(layer.args.get("activation"))
        if activation is not None:
            result = self.make_op(activation, node, {"input": result}, {})
        return result

    # -- op values and hooks ---------------------------------------------------

    def make_op(self, op: str, node: ast.AST, args: dict[str, Value], arg_nodes: dict[str, ast.AST],
                *, spelling: Spelling | None = None, method: bool = False) -> Value:
        info = self.table.ops.get(op)
        passthrough = op == "getitem" or (info is not None and "passthrough" in info.tags)
        facts = transfer(op, args, arg_nodes, passthrough_op=passthrough)
        if info is not None and info.value is not None:
            facts = F.constant(info.value)
        if info is not None and "shape" in info.tags:
            facts = Facts(range=Interval(1.0, F.INF), count=True)
        value = Value(OP, node, op=op, args=args, arg_nodes=arg_nodes, facts=facts, spelling=spelling,
                      method=method)
        value.shape = infer_shape(op, args, value)
        if info is not None and "dtype" in info.tags:
            self._note_precision(op, args, spelling)
        self.fire(op, value, None)
        return value

    def _note_precision(self, op: str, args: dict[str, Value], spelling: Spelling | None) -> None:
        """File-level precision context: float16 anywhere makes tiny epsilons and huge masks suspect."""
        if op in ("half", "dtype_float16"):
            self.flags.add("float16")
        elif op == "dtype_bfloat16":
            self.flags.add("bfloat16")
        elif op == "autocast":
            dtype = args.get("dtype")
            if dtype is None:
                device = args.get("device_type")
                cuda = (device is not None and device.const == "cuda") or (
                    spelling is not None and spelling.qualname.startswith("torch.cuda."))
                if cuda:
                    self.flags.add("float16")  # autocast's default dtype on CUDA
            elif dtype.kind == OP and dtype.op == "dtype_float16":
                self.flags.add("float16")
        for value in args.values():
            if value.kind == CONST and isinstance(value.const, str) and value.const.lower() in FLOAT16_NAMES:
                self.flags.add("float16")

    def fire(self, op: str, value: Value, scope: Scope | None) -> None:
        hooks = self.hooks.get(op)
        if not hooks or value.node is None:
            return
        context = Context(self, self.function_stack[-1].info if self.function_stack else None,
                          scope or self.module_scope, self.no_grad_depth > 0)
        for hook in hooks:
            # A node can be seen more than once (a helper run again for a call site);
            # the engine keeps one finding per rule and node.
            hook(value, context)

    def rule_state(self, owner: object, factory: Callable[[], object]) -> Any:
        """Per-file scratch space for a rule (rules are shared between files)."""
        key = (id(owner), factory)
        state = self._rule_state.get(key)
        if state is None:
            state = self._rule_state[key] = factory()
        return state

    def context(self) -> Context:
        return Context(self, self.function_stack[-1].info if self.function_stack else None, self.module_scope,
                       self.no_grad_depth > 0)

    def is_passthrough(self, op: str | None) -> bool:
        return op == "getitem" or self.table.has_tag(op, "passthrough")


# -- helpers --------------------------------------------------------------------


def _leaves(stmt: ast.stmt, scope: Scope) -> bool:
    return True  # break / continue: the rest of the block does not run


def _as_load(target: ast.expr) -> ast.expr:
    return target  # ast targets evaluate the same as loads for our purposes


def _call_arguments(node: ast.Call, *, with_stars: bool = False) -> list[tuple[str | None, ast.expr | None]]:
    """A call's arguments in order: (keyword or None, value node).

    ``*args`` comes back as a Starred node with no keyword and ``**kwargs`` with the
    keyword ``"**"``; without ``with_stars`` both come back with a None value, so
    callers that bind parameters can tell they cannot.
    """
    found: list[tuple[str | None, ast.expr | None]] = []
    for arg in node.args:
        if isinstance(arg, ast.Starred) and not with_stars:
            found.append((None, None))
        else:
            found.append((None, arg))
    for keyword in node.keywords:
        if keyword.arg is None:
            found.append(("**", keyword.value if with_stars else None))
        else:
            found.append((keyword.arg, keyword.value))
    return found


def _generic_args(node: ast.Call, values: list[Value]) -> tuple[dict[str, Value], dict[str, ast.AST]]:
    """Arguments of a call that is no canonical op: ``_0``, ``_1``, ... and keywords by name."""
    args: dict[str, Value] = {}
    nodes: dict[str, ast.AST] = {}
    index = 0
    for (keyword, value_node), value in zip(_call_arguments(node, with_stars=True), values):
        if isinstance(value_node, ast.Starred) or keyword == "**":
            continue
        if keyword is not None:
            name = keyword
        else:
            name, index = f"_{index}", index + 1
        args[name] = value
        nodes[name] = value_node
    return args, nodes


def _assumptions(test: ast.expr, outcome: bool) -> list[tuple[str, str, float]]:
    """(name, op, bound) facts that hold where ``test`` evaluates to ``outcome``."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return _assumptions(test.operand, not outcome)
    if isinstance(test, ast.BoolOp):
        both = isinstance(test.op, ast.And) == outcome  # a and b true / a or b false
        if both:
            return [fact for value in test.values for fact in _assumptions(value, outcome)]
        return []
    if isinstance(test, ast.Name):
        return [(test.id, "ne", 0.0)] if outcome else []
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        op = COMPARE_OPS.get(type(test.ops[0]))
        if op not in F.NEGATED:
            return []
        left, right = test.left, test.comparators[0]
        bound = _literal_number(right)
        if isinstance(left, ast.Name) and bound is not None:
            name = left.id
        else:
            bound = _literal_number(left)
            if not isinstance(right, ast.Name) or bound is None:
                return []
            name, op = right.id, FLIP_COMPARISON[op]
        return [(name, op if outcome else F.NEGATED[op], bound)]
    return []


FLIP_COMPARISON = {"gt": "lt", "ge": "le", "lt": "gt", "le": "ge", "eq": "eq", "ne": "ne"}


def _literal_number(node: ast.expr) -> float | None:
    negative = False
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        node, negative = node.operand, True
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        try:
            number = float(node.value)
        except OverflowError:
            return None
        return -number if negative else number
    return None


def _carries_facts(value: Value) -> bool:
    """Whether an argument's value says more than 'unknown' (worth a call-site run)."""
    if value.kind in (OP, RESULT):
        facts = value.facts
        return (facts.zero is not None or facts.growth is not None or facts.unit or facts.shifted
                or facts.range.known or value.shape is not None)
    return value.kind == PARAM and value.facts.zero is not None


def info_value(info: FunctionInfo) -> Value:
    return Value(FUNCTION, info.node, ref=info, name=info.name)


def _is_placeholder(value: Value) -> bool:
    return value.kind == CONST and value.const is None


def join_values(a: Value, b: Value) -> Value:
    if a is b:
        return a
    if a.kind == b.kind and a.kind in (INSTANCE, CLASS, FUNCTION, LAYER, MODULE, SYMBOL) and a.ref is b.ref:
        return a
    if _is_placeholder(a):
        return b
    if _is_placeholder(b):
        return a
    # Keep the alternatives: rules can still ask where each came from.
    alternatives = [*(a.items if a.kind == UNKNOWN_KIND and a.items else [a]),
                    *(b.items if b.kind == UNKNOWN_KIND and b.items else [b])]
    return Value(UNKNOWN_KIND, a.node, facts=F.join(a.facts, b.facts), items=alternatives[:8])


def _join_all(values: list[Value], node: ast.AST) -> Value:
    if not values:
        return unknown(node)
    result = values[0]
    for value in values[1:]:
        if value.kind == CONST and value.const is None:
            continue
        result = join_values(result, value)
    return result


def _element_of(iterable: Value, target: ast.AST) -> Value:
    return unknown(target)


def _dotted(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    if isinstance(node, ast.Call):
        return _dotted(node.func)
    return None


def _inner_statements(stmt: ast.stmt) -> list[ast.stmt]:
    found: list[ast.stmt] = []
    if isinstance(stmt, ast.If):
        found.extend(stmt.body)
        found.extend(stmt.orelse)
    elif isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
        found.extend(stmt.body)
        for handler in stmt.handlers:
            found.extend(handler.body)
        found.extend(stmt.orelse)
        found.extend(stmt.finalbody)
    elif isinstance(stmt, (ast.With, ast.AsyncWith)):
        found.extend(stmt.body)
    return found


def _walk_statements(body: list[ast.stmt]) -> Iterable[ast.stmt]:
    """Statements of a body, descending into compound statements but not into defs."""
    stack = list(body)
    while stack:
        stmt = stack.pop()
        yield stmt
        if isinstance(stmt, (ast.If, ast.Try, ast.With, ast.AsyncWith)) or type(stmt).__name__ == "TryStar":
            stack.extend(_inner_statements(stmt))
        elif isinstance(stmt, (ast.For, ast.AsyncFor, ast.While)):
            stack.extend(stmt.body)
            stack.extend(stmt.orelse)


def _activation_name(value: Value | None) -> str | None:
    if value is None:
        return None
    if value.kind == CONST and isinstance(value.const, str):
        return ACTIVATION_STRINGS.get(value.const.lower())
    if value.kind == SYMBOL and value.spelling is not None and value.spelling.kind == "function":
        return value.spelling.op if value.spelling.op in ACTIVATION_STRINGS.values() else None
    return None


def _float_constant(value: Value | None) -> tuple[str, bool] | None:
    """``float('nan')``, ``float('-inf')``: the constant op and whether it is negated."""
    if value is None or value.kind != CONST or not isinstance(value.const, str):
        return None
    text = value.const.strip().lower()
    negative = text.startswith("-")
    text = text.lstrip("+-")
    if text == "nan":
        return "nan", False
    if text in ("inf", "infinity"):
        return "inf", negative
    return None


def _fold(op: str, a: float, b: float) -> float | None:
    try:
        if op == "add":
            return a + b
        if op == "sub":
            return a - b
        if op == "mul":
            return a * b
        if op == "div":
            return a / b
        if op == "pow" and abs(b) < 64:
            result = a ** b
            return result if isinstance(result, (int, float)) else None
    except (ZeroDivisionError, OverflowError, ValueError):
        return None
    return None
