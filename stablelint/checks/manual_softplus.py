"""SL109: log(1 + exp(x)) is softplus written by hand; exp(x) overflows for large x.

Also inside ``where(x > 20, x, log(1 + exp(x)))``: the where keeps the forward
value finite, but its backward pass still multiplies the zero gradient of the
unused branch by exp's inf, which is NaN; the message says so.  Where no
gradient flows (NumPy, no_grad, a class that is not a model), such a guarded
form is fine and is not reported.
"""

from __future__ import annotations

from . import Report
from .logexp_support import (
    RewriteCheck, argument_text, call_text, callee, fix_call, framework_of, function_name, is_constant,
    is_python_scalar_code, only_arguments, operand_leading_to, operand_short, operand_text, origin_note,
    built_fix, replace_fix, site, unwrap,
)
from .support import compared_values, gradient_flows, guarded_by
from ..dataflow import Context
from ..diagnostic import Fix
from ..patterns import Match
from ..render import Renderer
from ..values import Value


class Check(RewriteCheck):
    patterns = (
        ("log", "log(($S := 1 + ($E := exp($X))))"),
        ("log1p", "log1p(($E := exp($X)))"),
    )

    def __init__(self, rule, table):
        super().__init__(rule, table)
        self.ops = (*self.ops, "where")

    def check(self, value: Value, context: Context, report: Report) -> None:
        state = context.analyzer.rule_state(self, _State)
        if value.op == "where":
            guarded = compared_values(value.args.get("condition"))
            for branch in ("input", "other") if guarded else ():
                inner = unwrap(value.args.get(branch), context)
                if inner is not None and inner.node is not None:
                    state.where_guards.setdefault(id(inner.node), []).extend(guarded)
            return
        super().check(value, context, Report(lambda node, message, fix: state.pending.append((node, message, fix)),
                                             report.render))

    def finish(self, context: Context, report: Report) -> None:
        state = context.analyzer.rule_state(self, _State)
        for node, message, fix in state.pending:
            guards = state.where_guards.get(id(node), ())
            exponent = state.exponents.get(id(node))
            if exponent is not None and guards and guarded_by(*exponent, guards):
                # where(x > 20, x, log(1 + exp(x))): the value is fine; the gradient is not, if there is one
                message = state.where_messages.get(id(node))
                if message is None:
                    continue
            report(node, message, fix=fix)

    def accept(self, variant: str, match: Match, value: Value, context: Context) -> bool:
        x = match.bindings["X"]
        # log1p(exp(-abs(x))) is the stable softplus written by hand: its exp cannot overflow
        return not is_constant(x, context) and not x.facts.bounded_above

    def message(self, variant: str, match: Match, value: Value, render: Renderer, context: Context) -> str:
        exp = match.bindings["E"]
        state = context.analyzer.rule_state(self, _State)
        state.exponents[id(value.node)] = (exp.args.get("input"), exp.arg_nodes.get("input"))
        like = [value, exp]
        subject = operand_text(render, exp.arg_nodes.get("input"), 40, "")
        term, subject = subject or "the exponent", subject or "x"
        framework = framework_of(render, like)
        found = render.call(value, operand_short(render, value, limit=30))
        container = match.bindings.get("S", value)
        note = origin_note(render, *operand_leading_to(container, exp, context), exp)
        if framework == "numpy":
            if is_python_scalar_code(like) and render._alias_for("numpy") is None:
                log1p = function_name(render, "log1p", like, framework)
                use = f"max({subject}, 0) + {log1p}({render.callee(exp)}(-abs({subject})))"
            else:
                use = f"{function_name(render, 'logaddexp', like, framework)}(0, {subject})"
            return (f"{found} overflows for {term} above about 709 in float64 (88 in float32), where the result is "
                    f"just {term}{note}; NumPy has no softplus: use {use}")
        use = call_text(render, "softplus", like, subject, (), framework)
        limits = f"{found} overflows to inf for {term} above about 88 in float32 (11 in float16)"
        if gradient_flows(value, context):
            state.where_messages[id(value.node)] = (
                f"{limits}{note}; the where(...) around it picks another value there, but the gradient still flows "
                f"through the inf and comes out NaN (0 * inf); use {use}")
        return f"{limits}, where the result is just {term}{note}; use {use}"

    def fix(self, variant: str, match: Match, value: Value, render: Renderer, context: Context) -> Fix | None:
        """log(1 + exp(x)), log1p(exp(x)) -> softplus(x); NumPy has none: np.logaddexp(0, x)."""
        exp = match.bindings["E"]
        x = site(match, "X")
        if x is None or not only_arguments(value) or not only_arguments(exp):
            return None
        like = [value, exp]
        framework = framework_of(render, like)
        subject = argument_text(render, x)
        if framework == "numpy":
            if is_python_scalar_code(like) and render._alias_for("numpy") is None:
                return None  # Python floats and no NumPy in the file: the advice stays advice
            spelled_as = callee(render, "logaddexp", like, framework)
            if spelled_as is None:
                return None
            return replace_fix(render, value.node, f"{spelled_as[0]}(0, {subject})", self.rule.fix, spelled_as[1])
        built = fix_call(render, "softplus", like, subject, (), framework)
        return built_fix(render, value.node, built, self.rule.fix)


class _State:
    def __init__(self) -> None:
        self.pending: list[tuple[object, str, Fix | None]] = []
        self.where_guards: dict[int, list] = {}  # log node -> the values its where() condition compares
        self.exponents: dict[int, tuple] = {}  # log node -> (exp's argument, its syntax)
        self.where_messages: dict[int, str] = {}  # log node -> the message when a where() guards the value
