"""Dataflow: an abstract interpreter over one module's libcst tree.

It runs the module's statements in order, and each function body once,
binding names to ``Value``s: imports become module values, calls of
framework functions become canonical-op values (with facts from
``transfer``), calls of the file's own functions and classes return those
functions' summaries (a ``forward`` that returns a softmax makes
``model(x)`` a softmax output).  Every op value it creates is handed to the
rules that asked for that op, together with the current context.

It walks nodes by type, never through libcst's generic visitor or
``children`` (both cost as much as parsing), and never asks libcst for
scope or qualified-name metadata.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import libcst as cst

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

BINARY_OPS: dict[type, str] = {
    cst.Add: "add", cst.Subtract: "sub", cst.Multiply: "mul", cst.Divide: "div",
    cst.FloorDivide: "floordiv", cst.Modulo: "mod", cst.Power: "pow", cst.MatrixMultiply: "matmul",
    cst.AddAssign: "add", cst.SubtractAssign: "sub", cst.MultiplyAssign: "mul", cst.DivideAssign: "div",
    cst.FloorDivideAssign: "floordiv", cst.ModuloAssign: "mod", cst.PowerAssign: "pow",
    cst.MatrixMultiplyAssign: "matmul",
}
COMPARE_OPS: dict[type, str] = {
    cst.Equal: "eq", cst.NotEqual: "ne", cst.LessThan: "lt", cst.LessThanEqual: "le",
    cst.GreaterThan: "gt", cst.GreaterThanEqual: "ge", cst.Is: "is", cst.IsNot: "is_not",
    cst.In: "in", cst.NotIn: "not_in",
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


@dataclass(eq=False)
class Scope:
    vars: dict[str, Value]
    parent: Scope | None = None


@dataclass(eq=False)
class FunctionInfo:
    node: cst.FunctionDef | cst.Lambda
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


@dataclass(eq=False)
class ClassInfo:
    node: cst.ClassDef
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
    def __init__(self, module: cst.Module, table: OpTable, hooks: dict[str, list[Hook]]):
        self.module = module
        self.table = table
        self.hooks = hooks
        self.frameworks: set[str] = set()
        self.module_scope = Scope({})
        self.functions: dict[cst.CSTNode, FunctionInfo] = {}
        self.classes: dict[cst.CSTNode, ClassInfo] = {}
        self.function_stack: list[Frame] = []
        self._calls_run = 0  # call-site runs of helpers so far (bounded per file)
        self._call_cache: dict[tuple, Value] = {}
        self._frozen_frameworks: frozenset[str] = frozenset()
        self.flags: set[str] = set()  # file-level context: "float16", "bfloat16"
        self.no_grad_depth = 0  # inside `with torch.no_grad()` or a @torch.no_grad() function
        self._rule_state: dict[tuple[int, object], object] = {}
        self._dispatch = {
            cst.Name: self._ev_name,
            cst.Attribute: self._ev_attribute,
            cst.Call: self._ev_call,
            cst.BinaryOperation: self._ev_binary,
            cst.UnaryOperation: self._ev_unary,
            cst.Comparison: self._ev_comparison,
            cst.BooleanOperation: self._ev_boolean,
            cst.Integer: self._ev_number,
            cst.Float: self._ev_number,
            cst.Imaginary: self._ev_imaginary,
            cst.SimpleString: self._ev_string,
            cst.ConcatenatedString: self._ev_string,
            cst.FormattedString: self._ev_fstring,
            cst.Subscript: self._ev_subscript,
            cst.Tuple: self._ev_sequence,
            cst.List: self._ev_sequence,
            cst.Set: self._ev_sequence,
            cst.Dict: self._ev_dict,
            cst.IfExp: self._ev_ifexp,
            cst.Lambda: self._ev_lambda,
            cst.ListComp: self._ev_comprehension,
            cst.SetComp: self._ev_comprehension,
            cst.GeneratorExp: self._ev_comprehension,
            cst.DictComp: self._ev_comprehension,
            cst.NamedExpr: self._ev_namedexpr,
            cst.Await: self._ev_inner,
            cst.Yield: self._ev_yield,
            cst.StarredElement: self._ev_inner_value,
            cst.Ellipsis: self._ev_const_ellipsis,
        }

    # -- driver -----------------------------------------------------------------

    def run(self) -> None:
        self._hoist(self.module.body, self.module_scope)
        self._frozen_frameworks = frozenset(self.frameworks)
        self.exec_block(self.module.body, self.module_scope)
        # Functions nobody called still get linted, with unknown arguments.
        for info in list(self.functions.values()):
            if info.state == 0:
                self.run_function(info)

    def _hoist(self, body: Iterable[cst.CSTNode], scope: Scope) -> None:
        """Bind module-level imports, functions and classes before running code."""
        for stmt in body:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, (cst.Import, cst.ImportFrom)):
                        self._exec_import(small, scope)
            elif isinstance(stmt, cst.FunctionDef):
                scope.vars[stmt.name.value] = info_value(self._define_function(stmt, scope, None))
            elif isinstance(stmt, (cst.If, cst.Try, cst.With)):
                self._hoist(_inner_statements(stmt), scope)

    # -- statements -------------------------------------------------------------

    def exec_block(self, body: Iterable[cst.CSTNode], scope: Scope) -> bool:
        """Run statements in order; True when the block always leaves (return/raise)."""
        for stmt in body:
            if self.exec_stmt(stmt, scope):
                return True
        return False

    def _suite(self, suite: cst.BaseSuite, scope: Scope) -> bool:
        return self.exec_block(suite.body, scope)

    def exec_stmt(self, stmt: cst.CSTNode, scope: Scope) -> bool:
        t = type(stmt)
        if t is cst.SimpleStatementLine:
            for small in stmt.body:
                if self._exec_small(small, scope):
                    return True
            return False
        if t is cst.FunctionDef:
            info = self._define_function(stmt, scope, None)
            scope.vars[stmt.name.value] = info_value(info)
            return False
        if t is cst.ClassDef:
            self._exec_class(stmt, scope)
            return False
        if t is cst.If:
            return self._exec_if(stmt, scope)
        if t in (cst.For, cst.While):
            self._exec_loop(stmt, scope)
            return False
        if t is cst.With:
            grad_off = 0
            for item in stmt.items:
                value = self.ev(item.item, scope)
                grad_off += value.kind == OP and value.op in GRAD_OFF_OPS
                if item.asname is not None:
                    self.bind(item.asname.name, unknown(item.asname.name) if value.kind == LAYER else value, scope)
            self.no_grad_depth += grad_off
            try:
                return self._suite(stmt.body, scope)
            finally:
                self.no_grad_depth -= grad_off
        if t in (cst.Try, cst.TryStar):
            return self._exec_try(stmt, scope)
        if t is cst.Match:
            self.ev(stmt.subject, scope)
            for case in stmt.cases:
                self._branch(lambda s, case=case: self._suite(case.body, s), scope)
            return False
        if isinstance(stmt, cst.BaseSuite):
            return self._suite(stmt, scope)
        return False

    def _exec_small(self, small: cst.CSTNode, scope: Scope) -> bool:
        t = type(small)
        if t is cst.Assign:
            value = self.ev(small.value, scope)
            for target in small.targets:
                self.bind(target.target, value, scope)
        elif t is cst.AnnAssign:
            if small.value is not None:
                self.bind(small.target, self.ev(small.value, scope), scope)
        elif t is cst.AugAssign:
            left = self.ev(small.target, scope)
            right = self.ev(small.value, scope)
            op = BINARY_OPS.get(type(small.operator))
            value = self.make_op(op, small, {"input": left, "other": right},
                                 {"input": small.target, "other": small.value}) if op else unknown(small)
            self.bind(small.target, value, scope)
        elif t is cst.Expr:
            self.ev(small.value, scope)
        elif t is cst.Return:
            value = self.ev(small.value, scope) if small.value is not None else Value(CONST, small, const=None)
            if self.function_stack:
                self.function_stack[-1].returns.append(value)
            self.fire("@return", Value(OP, small, op="@return", args={"input": value},
                                         arg_nodes={"input": small.value} if small.value else {}), scope)
            return True
        elif t is cst.Raise:
            if small.exc is not None:
                self.ev(small.exc, scope)
            return True
        elif t in (cst.Import, cst.ImportFrom):
            self._exec_import(small, scope)
        elif t is cst.Assert:
            self.ev(small.test, scope)
            self._assume(small.test, True, scope)
            if small.msg is not None:
                self.ev(small.msg, scope)
        elif t is cst.Del:
            pass
        elif t in (cst.Continue, cst.Break):
            return True
        return False

    def _exec_if(self, stmt: cst.If, scope: Scope) -> bool:
        self.ev(stmt.test, scope)

        def then(s: Scope) -> bool:
            self._assume(stmt.test, True, s)
            return self._suite(stmt.body, s)

        def otherwise(s: Scope) -> bool:
            self._assume(stmt.test, False, s)
            if isinstance(stmt.orelse, cst.If):
                return self._exec_if(stmt.orelse, s)
            if isinstance(stmt.orelse, cst.Else):
                return self._suite(stmt.orelse.body, s)
            return False

        return self._join_branches([then, otherwise], scope)

    def _assume(self, test: cst.BaseExpression, outcome: bool, scope: Scope) -> None:
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

    def _exec_loop(self, stmt: cst.For | cst.While, scope: Scope) -> None:
        if isinstance(stmt, cst.For):
            iterable = self.ev(stmt.iter, scope)

            def body(s: Scope) -> bool:
                self.bind(stmt.target, _element_of(iterable, stmt.target), s)
                self._suite(stmt.body, s)
                return False
        else:
            self.ev(stmt.test, scope)

            def body(s: Scope) -> bool:
                self._suite(stmt.body, s)
                return False

        self._join_branches([body, lambda s: False], scope)
        if stmt.orelse is not None:
            self._suite(stmt.orelse.body, scope)

    def _exec_try(self, stmt: cst.Try | cst.TryStar, scope: Scope) -> bool:
        branches: list[Callable[[Scope], bool]] = [lambda s: self._suite(stmt.body, s)]
        for handler in stmt.handlers:
            branches.append(lambda s, h=handler: self._suite(h.body, s))
        left = self._join_branches(branches, scope)
        if stmt.orelse is not None and not left:
            left = self._suite(stmt.orelse.body, scope)
        if stmt.finalbody is not None:
            left = self._suite(stmt.finalbody.body, scope) or left
        return left

    def _exec_import(self, stmt: cst.Import | cst.ImportFrom, scope: Scope) -> None:
        if isinstance(stmt, cst.Import):
            for alias in stmt.names:
                dotted = _dotted(alias.name)
                if dotted is None:
                    continue
                self._note_framework(dotted)
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    scope.vars[alias.asname.name.value] = self._module_value(dotted, alias)
                else:
                    top = dotted.split(".", 1)[0]
                    scope.vars[top] = self._module_value(top, alias)
            return
        if stmt.relative or stmt.module is None:
            module = None
        else:
            module = _dotted(stmt.module)
        if isinstance(stmt.names, cst.ImportStar) or module is None:
            return
        self._note_framework(module)
        for alias in stmt.names:
            name = _dotted(alias.name)
            if name is None:
                continue
            bound = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else name
            scope.vars[bound] = self._module_value(f"{module}.{name}", alias)

    def _note_framework(self, dotted: str) -> None:
        framework = self.table.framework_of(self.table.normalize(dotted))
        if framework:
            self.frameworks.add(framework)
            self._frozen_frameworks = frozenset(self.frameworks)

    def _module_value(self, qualname: str, node: cst.CSTNode) -> Value:
        return self._qualified(qualname, node)

    def _qualified(self, qualname: str, node: cst.CSTNode) -> Value:
        """A dotted name inside an imported module: a constant op, a symbol or a module."""
        spelling = self.table.lookup(qualname)
        if spelling is not None:
            if spelling.kind == "constant":
                return self.make_op(spelling.op, node, {}, {}, spelling=spelling)
            return Value(SYMBOL, node, qualname=qualname, spelling=spelling)
        return Value(MODULE, node, qualname=qualname)

    def _exec_class(self, stmt: cst.ClassDef, scope: Scope) -> None:
        info = ClassInfo(stmt, stmt.name.value, scope)
        self.classes[stmt] = info
        info.bases = [self.ev(arg.value, scope) for arg in stmt.bases]
        value = Value(CLASS, stmt, ref=info, name=info.name)
        scope.vars[info.name] = value
        body_scope = Scope({}, scope)
        for inner in stmt.body.body:
            if isinstance(inner, cst.FunctionDef):
                method = self._define_function(inner, scope, info)
                info.methods[inner.name.value] = method
            else:
                self.exec_stmt(inner, body_scope)
        for name, attr in body_scope.vars.items():
            info.attrs.setdefault(name, attr)

    def _define_function(self, node: cst.FunctionDef, scope: Scope, cls: ClassInfo | None) -> FunctionInfo:
        info = self.functions.get(node)
        if info is not None:
            return info
        kind = "method" if cls is not None else "function"
        for decorator in node.decorators:
            name = _dotted(decorator.decorator)
            if name in ("staticmethod", "classmethod", "property"):
                kind = name
        info = FunctionInfo(node, node.name.value, scope, cls, kind)
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
        if not isinstance(info.node, cst.Lambda):
            for nested in self._nested_functions(info.node):
                if nested.state == 0:
                    self.run_function(nested)
        return info.summary

    def _execute(self, info: FunctionInfo, scope: Scope) -> list[Value]:
        """Run a function's body in ``scope`` (parameters already bound); its return values."""
        frame = Frame(info)
        self.function_stack.append(frame)
        try:
            if isinstance(info.node, cst.Lambda):
                frame.returns.append(self.ev(info.node.body, scope))
                return frame.returns
            grad_off = 0
            for decorator in info.node.decorators:
                value = self.ev(decorator.decorator, info.scope)
                grad_off += value.kind == OP and value.op in GRAD_OFF_OPS
            saved_depth = self.no_grad_depth
            self.no_grad_depth = grad_off  # a function body does not inherit its caller's mode
            self._hoist_nested(info.node.body, scope)
            try:
                self._suite(info.node.body, scope)
            finally:
                self.no_grad_depth = saved_depth
        finally:
            self.function_stack.pop()
        return frame.returns

    def run_at_call(self, info: FunctionInfo, call: cst.Call, args: list[Value], receiver: Value | None,
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

    def _bind_call(self, info: FunctionInfo, call: cst.Call, args: list[Value], receiver: Value | None,
                   scope: Scope) -> bool:
        """Bind a call's arguments to the function's parameters; False when it cannot be done simply."""
        self._bind_params(info, scope)  # defaults and unknowns first
        params = info.node.params
        ordered = [p.name.value for p in (*params.posonly_params, *params.params)]
        if receiver is not None or (info.cls is not None and info.kind in ("method", "property")):
            ordered = ordered[1:]
        keyword_ok = {p.name.value for p in (*params.params, *params.kwonly_params)}
        position = 0
        for arg, value in zip(call.args, args):
            if arg.star:
                return False
            if arg.keyword is not None:
                if arg.keyword.value not in keyword_ok:
                    return False
                scope.vars[arg.keyword.value] = value
            elif position < len(ordered):
                scope.vars[ordered[position]] = value
                position += 1
            else:
                return False
        return True

    def _hoist_nested(self, body: cst.BaseSuite, scope: Scope) -> None:
        for stmt in body.body:
            if isinstance(stmt, cst.FunctionDef):
                scope.vars[stmt.name.value] = info_value(self._define_function(stmt, scope, None))

    def _nested_functions(self, node: cst.FunctionDef) -> list[FunctionInfo]:
        found = []
        for stmt in _walk_statements(node.body):
            if isinstance(stmt, cst.FunctionDef) and stmt in self.functions:
                found.append(self.functions[stmt])
        return found

    def _bind_params(self, info: FunctionInfo, scope: Scope) -> None:
        params = info.node.params
        ordered = [*params.posonly_params, *params.params]
        first = True
        for param in [*ordered, *params.kwonly_params]:
            name = param.name.value
            default = self.ev(param.default, info.scope) if param.default is not None else None
            if first and info.cls is not None and info.kind in ("method", "property") and param in ordered:
                value = Value(INSTANCE, param, ref=info.cls, name=name)
            elif first and info.cls is not None and info.kind == "classmethod" and param in ordered:
                value = Value(CLASS, param, ref=info.cls, name=name)
            else:
                value = self._param_value(param, info)
                if value.kind == PARAM and default is not None and default.is_numeric_const:
                    value.ref = default  # the default, for rules about literal constants (eps=1e-8)
            first = False
            scope.vars[name] = value
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                scope.vars[star.name.value] = Value(PARAM, star, name=star.name.value)

    def _param_value(self, param: cst.Param, info: FunctionInfo) -> Value:
        name = param.name.value
        if param.annotation is not None:
            annotated = self.ev(param.annotation.annotation, info.scope)
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

    def call_function(self, info: FunctionInfo, node: cst.CSTNode, args: list[Value] | None = None,
                      receiver: Value | None = None) -> Value:
        summary = self.run_function(info)
        if args is not None and isinstance(node, cst.Call):
            at_call = self.run_at_call(info, node, args, receiver)
            if at_call is not None and at_call.kind not in (UNKNOWN_KIND,):
                summary = at_call
        if summary.kind in (TUPLE, INSTANCE, CLASS, LAYER, FUNCTION, BOUND):
            return summary
        return Value(RESULT, node, via=summary, facts=summary.facts, ref=info)

    def call_instance(self, cls: ClassInfo, node: cst.CSTNode, args: list[Value] | None = None,
                      receiver: Value | None = None) -> Value:
        for name in INSTANCE_CALL_METHODS:
            method = cls.find_method(name)
            if method is not None:
                return self.call_function(method, node, args, receiver)
        return unknown(node)

    # -- binding ------------------------------------------------------------------

    def bind(self, target: cst.CSTNode, value: Value, scope: Scope) -> None:
        t = type(target)
        if t is cst.Name:
            if value.name is None and value.kind in (OP, RESULT, PARAM, UNKNOWN_KIND):
                value.name = target.value
            scope.vars[target.value] = value
        elif t in (cst.Tuple, cst.List):
            elements = target.elements
            starred = any(isinstance(e, cst.StarredElement) for e in elements)
            items = value.items if value.kind == TUPLE and value.items is not None else None
            if items is None and value.kind == OP and value.op in PAIR_RESULTS and len(elements) == 2:
                items = [value, unknown(elements[1].value)]  # values, indices = torch.max(x, dim)
            if value.kind == OP and value.op == "shape" and not starred:
                note_rank(value.args.get("input"), len(elements), target)  # b, t, d = x.shape
            for i, element in enumerate(elements):
                inner = element.value
                if items is not None and not starred and len(items) == len(elements):
                    self.bind(inner, items[i], scope)
                else:
                    self.bind(inner, unknown(inner), scope)
        elif t is cst.Attribute:
            owner = self.ev(target.value, scope)
            if owner.kind == INSTANCE:
                cls: ClassInfo = owner.ref
                current = cls.attrs.get(target.attr.value)
                in_init = bool(self.function_stack) and self.function_stack[-1].info.name in INIT_METHODS
                if current is None or in_init or _is_placeholder(current):
                    cls.attrs[target.attr.value] = value
        elif t is cst.Subscript:
            self.ev(target, scope)
            self._fixed_by_assignment(target, value, scope)
        elif t is cst.StarredElement:
            self.bind(target.value, unknown(target), scope)

    def _fixed_by_assignment(self, target: cst.Subscript, value: Value, scope: Scope) -> None:
        """``std[std == 0] = 1.0`` (or ``< eps``) replaces the zeros: std is no longer 0."""
        if not isinstance(target.value, cst.Name) or len(target.slice) != 1:
            return
        index = target.slice[0].slice
        if not isinstance(index, cst.Index) or not value.is_numeric_const or float(value.const) <= 0:
            return
        name = target.value.value
        tested = [n for n, op, bound in _assumptions(index.value, True) if op in ("eq", "lt", "le") and bound >= 0]
        current = self.lookup(name, scope)
        if name in tested and current is not None:
            scope.vars[name] = current.with_facts(F.refine(current.facts, "ne", 0.0))

    # -- expressions ------------------------------------------------------------

    def ev(self, node: cst.CSTNode, scope: Scope) -> Value:
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

    def _ev_name(self, node: cst.Name, scope: Scope) -> Value:
        value = self.lookup(node.value, scope)
        if value is not None:
            return value
        if node.value in ("True", "False", "None"):
            return Value(CONST, node, const={"True": True, "False": False, "None": None}[node.value],
                         facts=F.constant(float(node.value == "True")) if node.value != "None" else F.UNKNOWN)
        spelling = self.table.lookup(f"builtins.{node.value}")
        if spelling is not None:
            return Value(SYMBOL, node, qualname=f"builtins.{node.value}", spelling=spelling)
        return unknown(node)

    def _ev_attribute(self, node: cst.Attribute, scope: Scope) -> Value:
        base = self.ev(node.value, scope)
        attr = node.attr.value
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

    def _finfo_attr(self, base: Value, attr: str, node: cst.CSTNode) -> Value:
        ranges = {
            "eps": Interval(0.0, 1.0, F.OPEN, F.OPEN),
            "tiny": Interval(0.0, 1.0, F.OPEN, F.OPEN),
            "smallest_normal": Interval(0.0, 1.0, F.OPEN, F.OPEN),
            "max": Interval(1.0, F.INF, F.OPEN, F.OPEN),
            "min": Interval(-F.INF, -1.0, F.OPEN, F.OPEN),
        }
        return Value(OP, node, op=f"finfo.{attr}", args={"input": base},
                     facts=Facts(range=ranges.get(attr, F.TOP)))

    def _instance_attr(self, base: Value, attr: str, node: cst.CSTNode) -> Value:
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

    def _ev_number(self, node: cst.Integer | cst.Float, scope: Scope) -> Value:
        try:
            number = node.evaluated_value
        except (ValueError, SyntaxError):
            return unknown(node)
        return Value(CONST, node, const=number, facts=F.constant(number))

    def _ev_imaginary(self, node: cst.Imaginary, scope: Scope) -> Value:
        return Value(CONST, node, const=None)

    def _ev_string(self, node: cst.SimpleString | cst.ConcatenatedString, scope: Scope) -> Value:
        try:
            return Value(CONST, node, const=node.evaluated_value)
        except Exception:  # noqa: BLE001 - odd prefixes; the value is irrelevant then
            return Value(CONST, node, const=None)

    def _ev_fstring(self, node: cst.FormattedString, scope: Scope) -> Value:
        for part in node.parts:
            if isinstance(part, cst.FormattedStringExpression):
                self.ev(part.expression, scope)
        return Value(CONST, node, const=None)

    def _ev_const_ellipsis(self, node: cst.Ellipsis, scope: Scope) -> Value:
        return Value(CONST, node, const=Ellipsis)

    def _ev_inner(self, node: cst.Await, scope: Scope) -> Value:
        return self.ev(node.expression, scope)

    def _ev_inner_value(self, node: cst.StarredElement, scope: Scope) -> Value:
        self.ev(node.value, scope)
        return unknown(node)

    def _ev_yield(self, node: cst.Yield, scope: Scope) -> Value:
        if isinstance(node.value, cst.BaseExpression):
            self.ev(node.value, scope)
        elif isinstance(node.value, cst.From):
            self.ev(node.value.item, scope)
        return unknown(node)

    def _ev_namedexpr(self, node: cst.NamedExpr, scope: Scope) -> Value:
        value = self.ev(node.value, scope)
        self.bind(node.target, value, scope)
        return value

    def _ev_sequence(self, node: cst.Tuple | cst.List | cst.Set, scope: Scope) -> Value:
        items: list[Value] | None = []
        for element in node.elements:
            if isinstance(element, cst.StarredElement):
                self.ev(element.value, scope)
                items = None
                continue
            value = self.ev(element.value, scope)
            if items is not None:
                items.append(value)
        return Value(TUPLE, node, items=items)

    def _ev_dict(self, node: cst.Dict, scope: Scope) -> Value:
        for element in node.elements:
            if isinstance(element, cst.DictElement):
                self.ev(element.key, scope)
            self.ev(element.value, scope)
        return unknown(node)

    def _ev_ifexp(self, node: cst.IfExp, scope: Scope) -> Value:
        self.ev(node.test, scope)
        return join_values(self.ev(node.body, scope), self.ev(node.orelse, scope))

    def _ev_lambda(self, node: cst.Lambda, scope: Scope) -> Value:
        info = self.functions.get(node)
        if info is None:
            info = FunctionInfo(node, "<lambda>", scope)
            self.functions[node] = info
        return info_value(info)

    def _ev_comprehension(self, node: cst.CSTNode, scope: Scope) -> Value:
        inner = Scope({}, scope)
        clause = node.for_in
        while clause is not None:
            iterable = self.ev(clause.iter, inner)
            self.bind(clause.target, _element_of(iterable, clause.target), inner)
            for condition in clause.ifs:
                self.ev(condition.test, inner)
            clause = clause.inner_for_in
        if isinstance(node, cst.DictComp):
            self.ev(node.key, inner)
            self.ev(node.value, inner)
        else:
            self.ev(node.elt, inner)
        return unknown(node)

    def _ev_boolean(self, node: cst.BooleanOperation, scope: Scope) -> Value:
        left = self.ev(node.left, scope)
        right = self.ev(node.right, scope)
        return join_values(left, right)

    def _ev_unary(self, node: cst.UnaryOperation, scope: Scope) -> Value:
        operand = self.ev(node.expression, scope)
        operator = type(node.operator)
        if operator is cst.Minus:
            if operand.is_numeric_const:
                return Value(CONST, node, const=-operand.const, facts=F.constant(-operand.const))
            return self.make_op("neg", node, {"input": operand}, {"input": node.expression})
        if operator is cst.Plus:
            return operand
        op = "not" if operator is cst.Not else "invert"
        return self.make_op(op, node, {"input": operand}, {"input": node.expression})

    def _ev_binary(self, node: cst.BinaryOperation, scope: Scope) -> Value:
        left = self.ev(node.left, scope)
        right = self.ev(node.right, scope)
        op = BINARY_OPS.get(type(node.operator))
        if op is None:
            return unknown(node)
        if left.is_numeric_const and right.is_numeric_const:
            folded = _fold(op, left.const, right.const)
            if folded is not None:
                return Value(CONST, node, const=folded, facts=F.constant(folded))
        second = "exponent" if op == "pow" else "other"
        return self.make_op(op, node, {"input": left, second: right}, {"input": node.left, second: node.right})

    def _ev_comparison(self, node: cst.Comparison, scope: Scope) -> Value:
        left_node = node.left
        left = self.ev(left_node, scope)
        result = left
        for target in node.comparisons:
            right = self.ev(target.comparator, scope)
            op = COMPARE_OPS.get(type(target.operator), "compare")
            # The first comparison of a chain is the whole node (what gets reported).
            where = node if len(node.comparisons) == 1 else target
            result = self.make_op(op, where, {"input": left, "other": right},
                                  {"input": left_node, "other": target.comparator})
            left, left_node = right, target.comparator
        return result

    def _ev_subscript(self, node: cst.Subscript, scope: Scope) -> Value:
        base = self.ev(node.value, scope)
        index_values = []
        for element in node.slice:
            inner = element.slice
            if isinstance(inner, cst.Index):
                index_values.append(self.ev(inner.value, scope))
            elif isinstance(inner, cst.Slice):
                for part in (inner.lower, inner.upper, inner.step):
                    if part is not None:
                        self.ev(part, scope)
                index_values.append(None)
        if base.kind == TUPLE and base.items is not None and len(index_values) == 1:
            index = index_values[0]
            if index is not None and index.kind == CONST and isinstance(index.const, int):
                if -len(base.items) <= index.const < len(base.items):
                    return base.items[index.const]
        if base.kind == OP and base.op in ("max", "min") and base.args.get("axis") is not None:
            return base  # torch.max(x, dim)[0] is the values
        if base.kind in (OP, PARAM, RESULT, UNKNOWN_KIND, MEMBER):
            return self.make_op("getitem", node, {"input": base}, {"input": node.value})
        return unknown(node)

    # -- calls ------------------------------------------------------------------

    def _ev_call(self, node: cst.Call, scope: Scope) -> Value:
        func = self.ev(node.func, scope)
        kind = func.kind
        if kind == SYMBOL:
            return self._call_spelling(func.spelling, node, scope, func)
        if kind == MEMBER:
            return self._call_member(func, node, scope)
        if kind == LAYER:
            return self._call_layer(func, node, scope)
        args = [self.ev(arg.value, scope) for arg in node.args]
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

    def _bind_args(self, spelling: Spelling, node: cst.Call, scope: Scope, *, offset: int = 0,
                   init: bool = False, evaluated: list[Value] | None = None,
                   ) -> tuple[dict[str, Value], dict[str, cst.CSTNode]]:
        positional = spelling.init_positional if init else spelling.positional
        args: dict[str, Value] = {}
        nodes: dict[str, cst.CSTNode] = {}
        index = 0
        for i, arg in enumerate(node.args):
            value = evaluated[i] if evaluated is not None else self.ev(arg.value, scope)
            if arg.star:
                continue
            if arg.keyword is not None:
                name = self.table.canonical_keyword(spelling, arg.keyword.value, init=init)
            else:
                slot = index + offset
                name = positional[slot - offset] if slot - offset < len(positional) else f"_{slot}"
                index += 1
            args[name] = value
            nodes[name] = arg.value
        return args, nodes

    def _call_spelling(self, spelling: Spelling, node: cst.Call, scope: Scope, func: Value) -> Value:
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
    def _sequential_items(node: cst.Call, args: dict[str, Value], nodes: dict[str, cst.CSTNode]) -> list[Value]:
        """The layers of ``nn.Sequential(a, b, c)`` or ``keras.Sequential([a, b, c])``."""
        by_node = {id(n): args[name] for name, n in nodes.items()}
        values = [by_node[id(arg.value)] for arg in node.args
                  if arg.keyword is None and not arg.star and id(arg.value) in by_node]
        if len(values) == 1 and values[0].kind == TUPLE and values[0].items is not None:
            return list(values[0].items)
        return values

    def _call_member(self, func: Value, node: cst.Call, scope: Scope) -> Value:
        receiver: Value = func.ref
        attr: str = func.name or ""
        if receiver.kind == LAYER and receiver.op == "sequential" and attr == "add":
            args = [self.ev(arg.value, scope) for arg in node.args]
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
        nodes = {first: func.node.value if isinstance(func.node, cst.Attribute) else func.node, **nodes}
        value = self.make_op(spelling.op, node, args, nodes, spelling=spelling, method=True)
        if receiver.kind in (INSTANCE, LAYER) and self.is_passthrough(spelling.op):
            return receiver  # model.cuda().half() is still the model
        return value

    def _plain_method_call(self, receiver: Value, attr: str, node: cst.Call, scope: Scope) -> None:
        """A method that is no canonical op (``loss.backward()``, ``model.compile(...)``).

        Rules can still ask for it as the pseudo-op ``@method:<name>``; its
        arguments are bound as ``self``, ``_0``, ``_1``, ... and by keyword.
        """
        key = f"@method:{attr}"
        args, nodes = _generic_args(node, [self.ev(arg.value, scope) for arg in node.args])
        args["self"] = receiver
        if key in self.hooks:
            self.fire(key, Value(OP, node, op=key, args=args, arg_nodes=nodes), scope)

    def _call_layer(self, layer: Value, node: cst.Call, scope: Scope, evaluated: list[Value] | None = None,
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

    def apply_layer(self, layer: Value, x: Value, node: cst.CSTNode) -> Value:
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

    def _apply_with(self, layer: Value, call_args: dict[str, Value], call_nodes: dict[str, cst.CSTNode],
                    node: cst.CSTNode) -> Value:
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

    def make_op(self, op: str, node: cst.CSTNode, args: dict[str, Value], arg_nodes: dict[str, cst.CSTNode],
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


def _generic_args(node: cst.Call, values: list[Value]) -> tuple[dict[str, Value], dict[str, cst.CSTNode]]:
    """Arguments of a call that is no canonical op: ``_0``, ``_1``, ... and keywords by name."""
    args: dict[str, Value] = {}
    nodes: dict[str, cst.CSTNode] = {}
    index = 0
    for arg, value in zip(node.args, values):
        if arg.star:
            continue
        if arg.keyword is not None:
            name = arg.keyword.value
        else:
            name, index = f"_{index}", index + 1
        args[name] = value
        nodes[name] = arg.value
    return args, nodes


def _assumptions(test: cst.BaseExpression, outcome: bool) -> list[tuple[str, str, float]]:
    """(name, op, bound) facts that hold where ``test`` evaluates to ``outcome``."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        return _assumptions(test.expression, not outcome)
    if isinstance(test, cst.BooleanOperation):
        both = isinstance(test.operator, cst.And) == outcome  # a and b true / a or b false
        if both:
            return _assumptions(test.left, outcome) + _assumptions(test.right, outcome)
        return []
    if isinstance(test, cst.Name) and test.value not in ("True", "False", "None"):
        return [(test.value, "ne", 0.0)] if outcome else []
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        target = test.comparisons[0]
        op = COMPARE_OPS.get(type(target.operator))
        if op not in F.NEGATED:
            return []
        left, right = test.left, target.comparator
        bound = _literal_number(right)
        if isinstance(left, cst.Name) and bound is not None:
            name = left.value
        else:
            bound = _literal_number(left)
            if not isinstance(right, cst.Name) or bound is None:
                return []
            name, op = right.value, FLIP_COMPARISON[op]
        return [(name, op if outcome else F.NEGATED[op], bound)]
    return []


FLIP_COMPARISON = {"gt": "lt", "ge": "le", "lt": "gt", "le": "ge", "eq": "eq", "ne": "ne"}


def _literal_number(node: cst.BaseExpression) -> float | None:
    negative = False
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        node, negative = node.expression, True
    if isinstance(node, (cst.Integer, cst.Float)):
        try:
            number = float(node.evaluated_value)
        except (ValueError, OverflowError):
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


def _join_all(values: list[Value], node: cst.CSTNode) -> Value:
    if not values:
        return unknown(node)
    result = values[0]
    for value in values[1:]:
        if value.kind == CONST and value.const is None:
            continue
        result = join_values(result, value)
    return result


def _element_of(iterable: Value, target: cst.CSTNode) -> Value:
    return unknown(target)


def _dotted(node: cst.CSTNode) -> str | None:
    parts = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if isinstance(node, cst.Name):
        parts.append(node.value)
        return ".".join(reversed(parts))
    if isinstance(node, cst.Call):
        return _dotted(node.func)
    return None


def _inner_statements(stmt: cst.CSTNode) -> list[cst.CSTNode]:
    found: list[cst.CSTNode] = []
    if isinstance(stmt, cst.If):
        found.extend(stmt.body.body)
        if stmt.orelse is not None:
            found.extend(_inner_statements(stmt.orelse) if isinstance(stmt.orelse, cst.If) else stmt.orelse.body.body)
    elif isinstance(stmt, (cst.Try, cst.TryStar)):
        found.extend(stmt.body.body)
        for handler in stmt.handlers:
            found.extend(handler.body.body)
        if stmt.orelse is not None:
            found.extend(stmt.orelse.body.body)
        if stmt.finalbody is not None:
            found.extend(stmt.finalbody.body.body)
    elif isinstance(stmt, cst.With):
        found.extend(stmt.body.body)
    return found


def _walk_statements(suite: cst.BaseSuite) -> Iterable[cst.CSTNode]:
    """Statements of a body, descending into compound statements but not into defs."""
    stack = list(suite.body)
    while stack:
        stmt = stack.pop()
        yield stmt
        if isinstance(stmt, (cst.If, cst.Try, cst.TryStar, cst.With)):
            stack.extend(_inner_statements(stmt))
        elif isinstance(stmt, (cst.For, cst.While)):
            stack.extend(stmt.body.body)
            if stmt.orelse is not None:
                stack.extend(stmt.orelse.body.body)


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
