"""Transfer functions: the facts of an op's result from the facts of its inputs.

Each function receives the op's bound arguments (canonical name -> Value,
with the syntax of each argument at the call site) and returns the
result's Facts.  Ops without an entry produce no facts,
except those tagged ``passthrough`` (same values, other shape or dtype).
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Callable

from . import facts as F
from .facts import CLOSED, INF, OPEN, ROUNDS, Facts, Interval, Why
from .values import Value, same_syntax

Args = dict[str, Value]
Nodes = dict[str, object]


def _facts(args: Args, name: str = "input") -> Facts:
    value = args.get(name)
    return value.facts if value is not None else F.UNKNOWN


def _labelled(range_: Interval, label: str, *, exact: bool = True) -> Facts:
    return Facts(range=range_, zero=Why(label, exact)).settle()


def _any_zero(*parts: Facts) -> Why | None:
    return F.stronger(*(part.zero for part in parts))


def _any_growth(*parts: Facts) -> Why | None:
    for part in parts:
        if part.growth is not None:
            return part.growth
    return None


# -- arithmetic ---------------------------------------------------------------


def same_source(a: Value, b: Value, a_node: object, b_node: object) -> bool:
    """Whether two operands are the same value: one object, or the same syntax in one expression."""
    return a is b or same_syntax(a_node, b_node)


MAX_REDUCTIONS = ("max", "amax", "logsumexp", "adaptive_max_pool")


VALUE_PRESERVING = ("stop_gradient", "detach", "identity", "getitem", "float", "to", "cast")


def _reduced_from(value: Value, ops: tuple[str, ...]) -> tuple[Value, object] | None:
    """The input (value and syntax) of ``value`` when it is one of the reductions ``ops``."""
    while value.kind == "op" and value.op in VALUE_PRESERVING and "input" in value.args:
        value = value.args["input"]  # x - stop_gradient(x.max()) is still max-shifted
    if value.kind == "op" and value.op in ops and "input" in value.args:
        if value.op in ("max", "min") and _elementwise_other(value.args) is not None:
            return None  # torch.max(a, b) is elementwise, not a reduction
        if value.op == "adaptive_max_pool":  # only a global pool (output size 1) is the max
            size = value.args.get("output_size")
            if size is None or size.const != 1:
                return None
        return value.args["input"], value.arg_nodes.get("input")
    return None


def add(args: Args) -> Facts:
    a, b = _facts(args), _facts(args, "other")
    range_ = F.add(a.range, b.range)
    zero = _any_zero(a, b)
    if a.zero is not None and b.zero is not None and zero is not None and a.range.lo >= 0 and b.range.lo >= 0:
        # sigma**2 + sigma_data**2 is 0 only if both are: no reason to expect it (a reduction
        # over a vector, a sum of squares, is what makes a zero vector's norm likely)
        zero = replace(zero, strong=False)
    return Facts(range=range_, zero=zero, growth=_any_growth(a, b)).settle()


def sub(args: Args, nodes: Nodes) -> Facts:
    left, right = args.get("input"), args.get("other")
    a, b = _facts(args), _facts(args, "other")
    if left is not None and right is not None:
        source = _reduced_from(right, MAX_REDUCTIONS)
        if source is not None and same_source(left, source[0], nodes.get("input"), source[1]):
            # x - max(x): at most 0, and each slice reaches exactly 0.
            return Facts(range=Interval(-INF, 0.0, CLOSED, CLOSED), shifted=True)
        top = _reduced_from(left, ("max", "amax"))
        bottom = _reduced_from(right, ("min", "amin"))
        if top is not None and bottom is not None and same_source(top[0], bottom[0], top[1], bottom[1]):
            return _labelled(Interval(0.0, INF), "a max-min range")
    range_ = F.sub(a.range, b.range)
    zero = _any_zero(a, b)
    if zero is not None and b.zero is not None and a.range == F.point(1.0):
        zero = Why(f"1 minus {b.zero.text}", exact=range_.lo_kind == CLOSED and range_.lo == 0, strong=b.zero.strong)
    return Facts(range=range_, zero=zero, growth=_any_growth(a)).settle()


def mul(args: Args, nodes: Nodes) -> Facts:
    a, b = _facts(args), _facts(args, "other")
    range_ = F.mul(a.range, b.range)
    left, right = args.get("input"), args.get("other")
    growth = _any_growth(a, b)
    if growth is None and left is not None and right is not None and same_source(
            left, right, nodes.get("input"), nodes.get("other")):
        growth = Why("a square")
        range_ = Interval(0.0, INF)
    if a.unit and b.unit:
        return Facts(range=Interval(-1.0, 1.0), unit_product=True)
    # t * (x - max(x)) still has an exact 0 in every slice
    discrete = (a.discrete or left is not None and left.is_numeric_const) and (
        b.discrete or right is not None and right.is_numeric_const)
    return Facts(range=range_, zero=_any_zero(a, b), growth=growth, shifted=a.shifted or b.shifted,
                 discrete=discrete).settle()


def div(args: Args, nodes: Nodes) -> Facts:
    a, b = _facts(args), _facts(args, "other")
    numerator, denominator = args.get("input"), args.get("other")
    if numerator is not None and denominator is not None:
        norm_of = _reduced_from(denominator, NORMS)
        if norm_of is not None and same_source(numerator, norm_of[0], nodes.get("input"), norm_of[1]):
            return Facts(range=Interval(-1.0, 1.0), unit=True)  # x / ||x||
        if _is_manual_cosine(numerator, denominator):
            return F.COSINE
    range_ = F.div(a.range, b.range)
    return Facts(range=range_, zero=a.zero, growth=a.growth, shifted=a.shifted).settle()


NORMS = ("norm",)


def _is_manual_cosine(numerator: Value, denominator: Value) -> bool:
    """``sum(a * b) / (norm(a) * norm(b))``."""
    summed = _reduced_from(numerator, ("sum", "mean"))
    if summed is None or summed[0].kind != "op" or summed[0].op != "mul":
        return False
    if denominator.kind != "op" or denominator.op != "mul":
        return False
    product, norms = summed[0], denominator
    left = _reduced_from(norms.args.get("input") or product, NORMS)
    right = _reduced_from(norms.args.get("other") or product, NORMS)
    if left is None or right is None:
        return False
    a, b = product.args.get("input"), product.args.get("other")
    if a is None or b is None:
        return False
    na, nb = product.arg_nodes.get("input"), product.arg_nodes.get("other")
    return ((same_source(a, left[0], na, left[1]) and same_source(b, right[0], nb, right[1]))
            or (same_source(a, right[0], na, right[1]) and same_source(b, left[0], nb, left[1])))


def neg(args: Args) -> Facts:
    a = _facts(args)
    return Facts(range=F.neg(a.range), zero=a.zero, growth=None).settle()


def pow_(args: Args) -> Facts:
    a = _facts(args)
    exponent = args.get("exponent")
    if exponent is None or not exponent.is_numeric_const:
        return F.UNKNOWN
    p = float(exponent.const)
    if p == 0.5:
        return sqrt(args)
    if p == 2:
        return square(args)
    if p > 0 and p == int(p) and int(p) % 2 == 0:
        zero = a.zero or _weak_or_difference(args, "an even power")
        return Facts(range=Interval(0.0, INF), zero=zero, growth=Why("a power")).settle()
    if p > 1:
        lo = 0.0 if a.range.lo >= 0 else -INF
        return Facts(range=Interval(lo, INF, a.range.lo_kind), zero=a.zero, growth=Why("a power")).settle()
    if 0 < p < 1 and a.range.lo >= 0:
        return Facts(range=Interval(0.0, INF, a.range.lo_kind if a.range.lo == 0 else OPEN), zero=a.zero).settle()
    return F.UNKNOWN


def _weak_or_difference(args: Args, text: str) -> Why:
    """Evidence for a square/absolute value: strong for a difference (a == b happens)."""
    value = args.get("input")
    while value is not None and value.kind == "op" and value.op in ("getitem",):
        value = value.args.get("input")
    if value is not None and value.kind == "op" and value.op == "sub" and not any(
            arg.kind == "const" for arg in value.args.values()):
        return Why(f"{text} of a difference")  # a - b is 0 for equal pairs; n - 15 is an offset
    return Why(text, strong=False)


def square(args: Args) -> Facts:
    a = _facts(args)
    lo_kind = OPEN if a.range.excludes_zero() else CLOSED
    zero = a.zero or _weak_or_difference(args, "a square")
    return Facts(range=Interval(0.0, INF, lo_kind), zero=zero, growth=Why("a square")).settle()


def abs_(args: Args) -> Facts:
    a = _facts(args)
    lo_kind = OPEN if a.range.excludes_zero() else CLOSED
    zero = a.zero or _weak_or_difference(args, "an absolute value")
    return Facts(range=Interval(0.0, INF, lo_kind), zero=zero, growth=a.growth).settle()


# -- elementwise functions ----------------------------------------------------


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x > -700 else 0.0


def exp(args: Args) -> Facts:
    a = _facts(args)
    range_ = F.monotone(a.range, math.exp, lo_limit=0.0, hi_limit=INF)
    if range_.lo == 0 and a.range.lo > -INF:
        range_ = replace(range_, lo_kind=OPEN)
    return Facts(
        range=range_,
        zero=Why("an exp that underflows", exact=False),
        growth=a.growth,
        has_one=a.shifted,
    ).settle()


def log(args: Args) -> Facts:
    a = _facts(args)
    lo, hi = a.range.lo, a.range.hi
    if hi <= 0:
        return F.UNKNOWN
    hi_v = math.log(hi) if hi < INF else INF
    lo_v = math.log(lo) if lo > 0 else -INF
    return Facts(range=Interval(lo_v, hi_v)).settle()


def sqrt(args: Args) -> Facts:
    a = _facts(args)
    if a.range.lo < 0:
        return F.UNKNOWN
    range_ = F.monotone(a.range, math.sqrt, lo_limit=0.0, hi_limit=INF)
    zero = Why(f"the square root of {a.zero.text}", a.zero.exact, a.zero.strong, a.zero.discrete) if a.zero else None
    return Facts(range=range_, zero=zero, count=a.count, discrete=a.discrete).settle()


def rsqrt(args: Args) -> Facts:
    return Facts(range=Interval(0.0, INF, OPEN))


def sigmoid(args: Args) -> Facts:
    a = _facts(args)
    range_ = F.monotone(a.range, _sigmoid, lo_limit=0.0, hi_limit=1.0)
    return _labelled(range_, "the sigmoid output", exact=False)


def softmax(args: Args) -> Facts:
    return _labelled(Interval(0.0, 1.0, ROUNDS, ROUNDS), "the softmax output", exact=False)


def nonpositive(args: Args) -> Facts:
    return Facts(range=Interval(-INF, 0.0))


def relu(args: Args) -> Facts:
    a = _facts(args)
    if a.range.lo > 0:
        return a
    return _labelled(Interval(0.0, max(a.range.hi, 0.0)), "the ReLU output")


def bounded(lo: float, hi: float, kind: int = CLOSED) -> Callable[[Args], Facts]:
    def transfer(args: Args) -> Facts:
        return Facts(range=Interval(lo, hi, kind, kind))

    return transfer


def nonneg_with(label: str) -> Callable[[Args], Facts]:
    def transfer(args: Args) -> Facts:
        return _labelled(Interval(0.0, INF), label)

    return transfer


def indicator(args: Args) -> Facts:
    return Facts(range=Interval(0.0, 1.0), zero=Why("a 0/1 mask", discrete=True), discrete=True)


def count(args: Args) -> Facts:
    return Facts(range=Interval(1.0, INF), count=True, discrete=True)


def softplus(args: Args) -> Facts:
    a = _facts(args)
    return Facts(range=Interval(0.0, INF, ROUNDS if a.range.lo == -INF else OPEN), growth=a.growth)


# -- reductions ---------------------------------------------------------------


def _sum_like(args: Args, *, mean: bool) -> Facts:
    a = _facts(args)
    if a.unit_product:  # sum(u * v) of unit vectors: a cosine
        return F.COSINE
    if a.has_one:  # a sum of exp(x - max(x)) is at least 1, a mean at least 1/n
        return Facts(range=Interval(1.0, INF)) if not mean else Facts(range=Interval(0.0, 1.0, OPEN, CLOSED))
    if a.range.lo < 0:
        return Facts(growth=a.growth) if a.growth else F.UNKNOWN
    if a.zero is not None:
        text = a.zero.text
        if text == "a 0/1 mask":
            label = "a fraction of a 0/1 mask" if mean else "a count of a 0/1 mask"
        elif mean:
            label = f"a mean of {_plural(text)}"
        else:
            label = f"a sum of {_plural(text)}"
        zero = Why(label, a.zero.exact, discrete=a.zero.discrete)  # a sum of squares is a squared norm: strong
    else:
        zero = None
    if mean:
        range_ = a.range
    else:
        range_ = Interval(a.range.lo, INF, a.range.lo_kind, CLOSED)
    return Facts(range=range_, zero=zero, growth=a.growth, discrete=a.discrete).settle()


def _plural(text: str) -> str:
    for article in ("the ", "a ", "an "):
        if text.startswith(article):
            text = text[len(article):]
            break
    head, of, tail = text.partition(" of ")
    if of and not head.endswith(" output"):  # a square of a difference -> squares of differences
        return f"{_plural(head)} of {_plural(tail)}"
    if text.endswith(" output"):
        return text + "s"
    if text.endswith("s"):
        return text
    if text.startswith("exp "):
        return "exps " + text[4:].replace("underflows", "underflow")
    return text + "s"


def sum_(args: Args) -> Facts:
    return _sum_like(args, mean=False)


def mean(args: Args) -> Facts:
    return _sum_like(args, mean=True)


def _elementwise_other(args: Args) -> Value | None:
    """torch.max(a, b) binds b as the axis: it is the other operand unless it is an axis."""
    other = args.get("other")
    axis = args.get("axis")
    if other is None and axis is not None and axis.kind not in ("const", "tuple"):
        return axis
    return other


def max_like(args: Args) -> Facts:
    a = _facts(args)
    other = _elementwise_other(args)
    if other is not None:  # elementwise maximum(a, b)
        b = other.facts
        lo_a, lo_b = a.range.lo, b.range.lo
        lo, lo_kind = (lo_a, a.range.lo_kind) if lo_a >= lo_b else (lo_b, b.range.lo_kind)
        if not b.range.known and other.kind != "const":
            return Facts(range=Interval(max(lo_a, 0.0), INF, OPEN)).settle() if lo_a >= 0 else F.UNKNOWN
        hi = max(a.range.hi, b.range.hi)
        return Facts(range=Interval(lo, hi, lo_kind), zero=a.zero if b.zero else None).settle()
    return Facts(range=a.range, zero=a.zero).settle()


def min_like(args: Args) -> Facts:
    a = _facts(args)
    other = _elementwise_other(args)
    if other is not None:
        b = other.facts
        hi = min(a.range.hi, b.range.hi)
        lo = min(a.range.lo, b.range.lo)
        return Facts(range=Interval(lo, hi), zero=_any_zero(a, b)).settle()
    return Facts(range=a.range, zero=a.zero).settle()


def std(args: Args) -> Facts:
    return _labelled(Interval(0.0, INF), "a standard deviation")


def var(args: Args) -> Facts:
    return _labelled(Interval(0.0, INF), "a variance")


def norm(args: Args) -> Facts:
    return _labelled(Interval(0.0, INF), "a norm")


def logsumexp(args: Args) -> Facts:
    return F.UNKNOWN


# -- guards -------------------------------------------------------------------


def clamp(args: Args) -> Facts:
    a = _facts(args)
    lo_v, hi_v = args.get("min"), args.get("max")
    lo = _bound(lo_v)
    hi = _bound(hi_v)
    range_ = F.clamp(a.range, lo, hi)
    zero = a.zero
    if range_.lo == 0 and range_.lo_kind == CLOSED and lo is not None and lo.known and lo.lo == 0:
        zero = Why("a value clamped at 0")
    return Facts(range=range_, zero=zero, growth=a.growth).settle()


def _bound(value: Value | None) -> Interval | None:
    if value is None or (value.kind == "const" and value.const is None):
        return None
    return value.facts.range


def clamp_min(args: Args) -> Facts:
    return clamp({"input": args["input"], "min": args["min"]} if "input" in args and "min" in args else args)


def clamp_max(args: Args) -> Facts:
    return clamp({"input": args["input"], "max": args["max"]} if "input" in args and "max" in args else args)


def where(args: Args, nodes: Nodes) -> Facts:
    a, b = args.get("input"), args.get("other")
    if a is None or b is None:
        return F.UNKNOWN
    return F.join(_refined_by(args.get("condition"), a, nodes.get("input")), b.facts)


_FLIPPED = {"gt": "lt", "ge": "le", "lt": "gt", "le": "ge", "ne": "ne"}


def _refined_by(condition: Value | None, value: Value, node: object) -> Facts:
    """The facts of ``value`` where ``condition`` (a comparison of it with a constant) holds."""
    facts = value.facts
    if condition is None or condition.kind != "op" or condition.op not in _FLIPPED:
        return facts
    left, right = condition.args.get("input"), condition.args.get("other")
    if left is None or right is None:
        return facts
    op = condition.op
    if right.is_numeric_const and same_source(left, value, condition.arg_nodes.get("input"), node):
        bound = float(right.const)
    elif left.is_numeric_const and same_source(right, value, condition.arg_nodes.get("other"), node):
        bound, op = float(left.const), _FLIPPED[op]
    else:
        return facts
    return F.refine(facts, op, bound)


def masked_fill(args: Args) -> Facts:
    a, b = args.get("input"), args.get("value")
    if a is None or b is None:
        return F.UNKNOWN
    return F.join(a.facts, b.facts)


def passthrough(args: Args) -> Facts:
    return _facts(args)


def stack(args: Args) -> Facts:
    """torch.stack([a, b]) / cat: values of every input."""
    items = args.get("input")
    if items is None or items.kind != "tuple" or not items.items:
        return F.UNKNOWN
    result = items.items[0].facts
    for item in items.items[1:]:
        result = F.join(result, item.facts)
    return result


TRANSFER: dict[str, Callable[[Args], Facts]] = {
    "add": add,
    "sub": sub,
    "mul": mul,
    "div": div,
    "true_divide": div,
    "neg": neg,
    "pow": pow_,
    "square": square,
    "abs": abs_,
    "exp": exp,
    "exp2": exp,
    "log": log,
    "sqrt": sqrt,
    "rsqrt": rsqrt,
    "sigmoid": sigmoid,
    "softmax": softmax,
    "log_softmax": nonpositive,
    "logsigmoid": nonpositive,
    "relu": relu,
    "relu6": relu,
    "softplus": softplus,
    "tanh": bounded(-1.0, 1.0, ROUNDS),
    "sin": bounded(-1.0, 1.0),
    "cos": bounded(-1.0, 1.0),
    "erf": bounded(-1.0, 1.0, ROUNDS),
    "cosine_similarity": bounded(-1.0, 1.0),
    "normalize": lambda args: Facts(range=Interval(-1.0, 1.0), unit=True),
    "matmul": lambda args: F.COSINE if _facts(args).unit and _facts(args, "other").unit else F.UNKNOWN,
    "acos": bounded(0.0, math.pi),
    "asin": bounded(-math.pi / 2, math.pi / 2),
    "atan": bounded(-math.pi / 2, math.pi / 2),
    "sum": sum_,
    "mean": mean,
    "max": max_like,
    "amax": max_like,
    "maximum": max_like,
    "min": min_like,
    "amin": min_like,
    "minimum": min_like,
    "std": std,
    "var": var,
    "norm": norm,
    "dist": nonneg_with("a distance"),
    "cdist": nonneg_with("a distance"),
    "count_nonzero": nonneg_with("a count"),
    "logsumexp": logsumexp,
    "clamp": clamp,
    "clamp_min": clamp_min,
    "clamp_max": clamp_max,
    "where": where,
    "stack": stack,
    "masked_fill": masked_fill,
    "eq": indicator,
    "ne": indicator,
    "lt": indicator,
    "le": indicator,
    "gt": indicator,
    "ge": indicator,
    "isnan": indicator,
    "isinf": indicator,
    "isfinite": indicator,
    "invert": indicator,
    "not": indicator,
    "one_hot": indicator,
    "size": count,
    "shape": count,
    "numel": count,
    "len": count,
    "ndim": count,
}


NEEDS_NODES = frozenset({"sub", "mul", "div", "true_divide", "where"})


def transfer(op: str, args: Args, nodes: Nodes, *, passthrough_op: bool) -> Facts:
    fn = TRANSFER.get(op)
    if fn is not None:
        return fn(args, nodes) if op in NEEDS_NODES else fn(args)
    if passthrough_op:
        return passthrough(args)
    return F.UNKNOWN
