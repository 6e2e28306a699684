"""SL303: a cross-entropy built by hand from softmax/sigmoid probabilities whose logits are at hand.

A term is ``y * log(p)`` (either order, any sign) where ``p`` is a softmax or
sigmoid output computed in this file, guarded against 0 (clamped, ``+ eps``)
on its way to the log, and ``y`` does not come from ``p`` itself (that is an
entropy or a focal weight, not a cross-entropy).  A binary pair
``y*log(p) + (1-y)*log(1-p)`` is reported at the sum of the two terms; a
single term when it is summed or averaged, and so is the log of
the probability picked by the labels (``-log(p[range(n), y] + eps)``,
``p.gather(1, y)``).  An unguarded log is
left to SL101/SL102/SL111, which report it more precisely, and
probabilities the code received (a metric clipping its input) are fine.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field

from ..dataflow import Context
from ..render import Renderer
from ..values import CONST, OP, RESULT, Value
from . import Checker, Report
from .losses import spelled

ACTIVATIONS = ("softmax", "sigmoid")
CLAMPS = ("clamp", "clamp_min", "clamp_max")
FLOORS = ("maximum", "max")
CONSUMERS = ("sum", "mean")
# What to use instead, per activation and framework: (qualname, argument pattern)
INSTEAD = {
    ("sigmoid", "torch"): ("torch.nn.functional.binary_cross_entropy_with_logits", "{logits}, {target}"),
    ("softmax", "torch"): ("torch.nn.functional.cross_entropy", "{logits}, {target}"),
    ("sigmoid", "tensorflow"): ("tensorflow.nn.sigmoid_cross_entropy_with_logits", "labels={target}, logits={logits}"),
    ("softmax", "tensorflow"): ("tensorflow.nn.softmax_cross_entropy_with_logits", "labels={target}, logits={logits}"),
    ("sigmoid", "jax"): ("optax.sigmoid_binary_cross_entropy", "{logits}, {target}"),
    ("softmax", "jax"): ("optax.softmax_cross_entropy", "{logits}, {target}"),
    ("sigmoid", "numpy"): ("numpy.logaddexp", "0, -{logits}"),
    ("softmax", "numpy"): ("scipy.special.log_softmax", "{logits}"),
}
WALK_LIMIT = 40


@dataclass(frozen=True)
class Source:
    act: Value  # the softmax / sigmoid
    complement: bool  # log(1 - p)
    picked: bool  # p[range(n), y] / p.gather(1, y): the probability of the label
    remote: bool  # computed in another function or model: its logits are not in scope here


@dataclass(eq=False)
class Term:
    value: Value  # what is reported: the product y * log(p), or the log of a picked probability
    source: Source
    target: Value | None
    target_node: ast.AST | None

    @property
    def act(self) -> Value:
        return self.source.act

    @property
    def complement(self) -> bool:
        return self.source.complement


@dataclass
class State:
    terms: dict[int, Term] = field(default_factory=dict)
    combos: list[Value] = field(default_factory=list)
    consumers: list[Value] = field(default_factory=list)
    picked: dict[int, tuple[Value, Source]] = field(default_factory=dict)  # -log p[range(n), y]
    weighted: set[int] = field(default_factory=set)  # logs multiplied by their own probability


class Check(Checker):
    ops = ("log", "mul", "add", "sub", *CONSUMERS)

    def check(self, value: Value, context: Context, report: Report) -> None:
        state: State = context.analyzer.rule_state(self, State)
        if value.op == "log":
            argument = value.args.get("input")
            if argument is not None and not argument.facts.may_be_zero:
                source = _probability(argument, context)
                if source is not None and source.picked and not source.complement:
                    state.picked[id(value)] = (value, source)
        elif value.op == "mul":
            for log, source, other in _log_factors(value, context):
                target = value.args[other]
                if _derives_from(target, source.act, context):
                    state.weighted.add(id(log))  # p * log(p), (1 - p)**gamma * log(p): not a cross-entropy
                elif not _is_constant(target, context) and id(value) not in state.terms:
                    state.terms[id(value)] = Term(value, source, target, value.arg_nodes.get(other))
        elif value.op in ("add", "sub"):
            state.combos.append(value)
        else:
            state.consumers.append(value)

    def finish(self, context: Context, report: Report) -> None:
        state: State = context.analyzer.rule_state(self, State)
        if not state.terms and not state.picked:
            return
        reported: set[int] = set()  # activations already reported: one finding per cross-entropy
        paired: set[int] = set()
        for combo in state.combos:
            left = _term_in(combo.args.get("input"), state, context)
            right = _term_in(combo.args.get("other"), state, context)
            if left is None or right is None or left.act is not right.act or left.complement == right.complement:
                continue
            paired.update((id(left), id(right)))
            if id(left.act) not in reported:
                reported.add(id(left.act))
                positive = right if left.complement else left
                if combo.node is not None:
                    report(combo.node, _message(positive, True, report.render))
        consumed = _consumed(state, context)
        for term in state.terms.values():
            if id(term) in paired or id(term) not in consumed or id(term.act) in reported:
                continue
            reported.add(id(term.act))
            if term.value.node is not None:
                report(term.value.node, _message(term, False, report.render))
        for log, source in state.picked.values():
            if id(log) not in consumed or id(log) in state.weighted or id(source.act) in reported:
                continue
            reported.add(id(source.act))
            if log.node is not None:
                report(log.node, _message(Term(log, source, None, None), False, report.render))


# -- recognising the pieces ---------------------------------------------------------


def _log_factors(value: Value, context: Context) -> Iterator[tuple[Value, Source, str]]:
    """``(log, source, other side)`` for each side of a product that is the log of a guarded probability."""
    for side, other in (("input", "other"), ("other", "input")):
        log = _through(value.args.get(side), context, signs=True)
        factor = value.args.get(other)
        if log is None or factor is None or log.kind != OP or log.op != "log":
            continue
        argument = log.args.get("input")
        if argument is None or argument.facts.may_be_zero:
            continue  # unguarded: SL101 / SL102 / SL111 report this log
        source = _probability(argument, context)
        if source is not None:
            yield log, source, other


def _through(value: Value | None, context: Context, *, signs: bool = False) -> Value | None:
    """``value`` seen through function results, shape-only ops and (with ``signs``) negation."""
    for _ in range(WALK_LIMIT):
        if value is None:
            return None
        if value.kind == RESULT and value.via is not None:
            value = value.via
        elif value.kind == OP and "input" in value.args and (
                context.analyzer.is_passthrough(value.op) or (signs and value.op == "neg")):
            value = value.args["input"]
        else:
            return value
    return None


def _probability(value: Value, context: Context) -> Source | None:
    """The softmax/sigmoid behind a guarded log argument; None when there is none or no guard."""
    complement = picked = guarded = remote = False
    current: Value | None = value
    for _ in range(WALK_LIMIT):
        if current is None:
            return None
        if current.kind == RESULT and current.via is not None:
            current, remote = current.via, True
            continue
        if current.kind != OP:
            return None
        op = current.op
        if op in ("getitem", "gather"):
            picked = picked or op == "gather" or _label_index(current.node)
            current = current.args.get("input")
        elif context.analyzer.is_passthrough(op):
            current = current.args.get("input")
        elif op in ACTIVATIONS:
            return Source(current, complement, picked, remote) if guarded else None
        elif op in CLAMPS:
            guarded, current = True, _clamped(current)
        elif (op in FLOORS and "other" in current.args) or op == "add":
            guarded, current = True, _non_constant(current, context)
        elif op == "sub" and _is_one(current.args.get("input")):
            complement, current = not complement, current.args.get("other")
        else:
            return None
    return None


def _label_index(node: ast.AST | None) -> bool:
    """``p[range(n), y]``, ``p[np.arange(n), labels]``: an index computed at run time, not ``p[:, 1]``."""
    if not isinstance(node, ast.Subscript):
        return False
    index = node.slice
    for element in index.elts if isinstance(index, ast.Tuple) else (index,):
        if isinstance(element, ast.Slice) or isinstance(element, ast.UnaryOp):
            continue
        if isinstance(element, ast.Constant) and (
                element.value is None or element.value is Ellipsis or isinstance(element.value, (str, bytes))
                or (isinstance(element.value, int) and not isinstance(element.value, bool))):
            continue  # p[1], p[-1], p[...], p["key"], p[None]
        return True
    return False


def _clamped(value: Value) -> Value | None:
    """What a clamp clamps: its input, or its first argument when a spelling names it otherwise (jnp.clip's arr)."""
    found = value.args.get("input")
    if found is None:
        found = next((v for k, v in value.args.items() if k not in ("min", "max")), None)
    return found


def _non_constant(value: Value, context: Context) -> Value | None:
    """The operand of a binary op that is not a literal (``p`` in ``p + 1e-8``), if exactly one is."""
    left, right = value.args.get("input"), value.args.get("other")
    if right is not None and _is_constant(right, context):
        return left
    if left is not None and _is_constant(left, context):
        return right
    # p + eps with a named epsilon: follow the side that reaches a probability
    for side in (left, right):
        if side is not None and _probability_ahead(side, context):
            return side
    return None


def _probability_ahead(value: Value, context: Context) -> bool:
    found = _through(value, context)
    return found is not None and found.kind == OP and found.op in (*ACTIVATIONS, *CLAMPS, "sub", "gather")


def _is_constant(value: Value, context: Context) -> bool:
    found = _through(value, context)
    return found is not None and found.kind == CONST


def _is_one(value: Value | None) -> bool:
    return value is not None and value.is_numeric_const and float(value.const) == 1.0


def _derives_from(value: Value, act: Value, context: Context) -> bool:
    """Whether ``act`` is among the values ``value`` is computed from (an entropy, a focal weight)."""
    stack = [value]
    seen = 0
    while stack and seen < WALK_LIMIT * 2:
        current = stack.pop()
        seen += 1
        if current is act:
            return True
        if current.kind == RESULT and current.via is not None:
            stack.append(current.via)
        elif current.kind == OP:
            stack.extend(current.args.values())
    return False


def _term_in(value: Value | None, state: State, context: Context) -> Term | None:
    """The term ``value`` is, seen through negation and scaling by a constant."""
    for _ in range(WALK_LIMIT):
        value = _through(value, context, signs=True)
        if value is None:
            return None
        term = state.terms.get(id(value))
        if term is not None:
            return term
        if value.kind == OP and value.op in ("mul", "div"):
            left, right = value.args.get("input"), value.args.get("other")
            if right is not None and _is_constant(right, context):
                value = left
                continue
            if left is not None and _is_constant(left, context) and value.op == "mul":
                value = right
                continue
        return None
    return None


def _consumed(state: State, context: Context) -> set[int]:
    """Terms (and picked logs) that reach a sum or a mean through arithmetic: a loss, not a cost matrix."""
    consumed: set[int] = set()
    for consumer in state.consumers:
        stack = [consumer.args.get("input")]
        seen = 0
        while stack and seen < WALK_LIMIT:
            current = _through(stack.pop(), context, signs=True)
            seen += 1
            if current is None or current.kind != OP:
                continue
            term = state.terms.get(id(current))
            if term is not None:
                consumed.add(id(term))
            elif id(current) in state.picked:
                consumed.add(id(current))
            elif current.op in ("add", "sub", "mul", "div"):
                stack.extend(v for k, v in current.args.items() if k in ("input", "other"))
    return consumed


# -- the message --------------------------------------------------------------------


def _message(term: Term, binary: bool, render: Renderer) -> str:
    act = term.act
    op = act.op or "softmax"
    framework = _framework(term, render)
    logits_node = act.arg_nodes.get("input")
    logits = render.short(logits_node, act.args.get("input"), 30) if logits_node is not None else "logits"
    if act.spelling is None or term.source.remote or len(logits) > 30:
        logits = "logits"
    target = render.short(term.target_node, term.target, 20) if term.target_node is not None else "labels"
    if len(target) > 20:
        target = "y"
    qualname, pattern = INSTEAD.get((op, framework), INSTEAD[(op, "torch")])
    use = f"{spelled(render, qualname)}({pattern.format(logits=logits, target=target)})"
    kind = "binary cross-entropy" if binary or op == "sigmoid" else "cross-entropy"
    where = render.line(act.node) if act.node is not None else "?"
    source = f"{render.call(act)} on line {where}" if act.spelling is not None else f"{op} on line {where}"
    if framework == "numpy":
        advice = f"compute the log-probabilities from the logits, e.g. {use}"
    else:
        advice = f"use {use} on the logits"
    return (f"{kind} written by hand from the {op} output of {source}: the clamp/epsilon that keeps the "
            f"log finite biases the loss and zeroes its gradient where the {op} saturates; {advice}")


def _framework(term: Term, render: Renderer) -> str:
    for value in (term.act, term.value):
        spelling = value.spelling
        if spelling is not None and spelling.framework in ("torch", "tensorflow", "jax", "numpy"):
            return spelling.framework
    for framework in ("torch", "tensorflow", "jax", "numpy"):
        if framework in render.frameworks:
            return framework
    return "torch"
