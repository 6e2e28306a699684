"""Value facts: what the analysis knows about a number or tensor.

Facts are a small abstract domain:

* ``range`` - an interval with, at each end, whether the bound is reached
  exactly (``CLOSED``), only by floating-point rounding (``ROUNDS``: a
  softmax is never 0 in exact arithmetic, but underflows to 0), or not at
  all (``OPEN``);
* ``zero`` - *evidence* that the value can be exactly zero, with a phrase
  naming where that comes from ("the softmax output", "a standard
  deviation").  An interval that merely contains 0 (an unknown parameter,
  a cosine) is no evidence: rules only fire on evidence;
* ``growth`` - evidence that the value grows without bound (a square, a
  positive power), which is what makes ``exp`` overflow;
* ``shifted`` / ``has_one`` - ``x - max(x)`` reaches exactly 0 in every
  slice (and stays so when scaled: ``t * (x - max(x))``), so ``exp`` of it
  contains a 1 in every slice and its sum or mean cannot be 0.

Transfer functions here are pure; the dataflow module applies them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache

INF = math.inf
OPEN, ROUNDS, CLOSED = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Interval:
    lo: float = -INF
    hi: float = INF
    lo_kind: int = CLOSED
    hi_kind: int = CLOSED

    @property
    def known(self) -> bool:
        return self.lo > -INF or self.hi < INF

    def reaches_zero(self, *, exact_only: bool = False) -> bool:
        """0 is one of the interval's ends and is reached."""
        need = CLOSED if exact_only else ROUNDS
        return (self.lo == 0 and self.lo_kind >= need) or (self.hi == 0 and self.hi_kind >= need)

    def excludes_zero(self) -> bool:
        if self.lo > 0 or self.hi < 0:
            return True
        return (self.lo == 0 and self.lo_kind == OPEN) or (self.hi == 0 and self.hi_kind == OPEN)

    @property
    def nonnegative(self) -> bool:
        return self.lo >= 0

    @property
    def nonpositive(self) -> bool:
        return self.hi <= 0


TOP = Interval()


def point(value: float) -> Interval:
    return Interval(value, value)


def _add(a: float, b: float) -> float:
    if (a == INF and b == -INF) or (a == -INF and b == INF):
        return math.nan
    return a + b


def _mul(a: float, b: float) -> float:
    if (a == 0 and math.isinf(b)) or (b == 0 and math.isinf(a)):
        return 0.0
    return a * b


def add(a: Interval, b: Interval) -> Interval:
    lo, hi = _add(a.lo, b.lo), _add(a.hi, b.hi)
    if math.isnan(lo) or math.isnan(hi):
        return TOP
    return Interval(lo, hi, min(a.lo_kind, b.lo_kind), min(a.hi_kind, b.hi_kind))


def neg(a: Interval) -> Interval:
    return Interval(-a.hi, -a.lo, a.hi_kind, a.lo_kind)


def sub(a: Interval, b: Interval) -> Interval:
    return add(a, neg(b))


def mul(a: Interval, b: Interval) -> Interval:
    if not (a.known and b.known):
        # One side unbounded in both directions: only the sign survives.
        if a == point(0) or b == point(0):
            return point(0)
        return TOP
    candidates = []
    for x, xk in ((a.lo, a.lo_kind), (a.hi, a.hi_kind)):
        for y, yk in ((b.lo, b.lo_kind), (b.hi, b.hi_kind)):
            value = _mul(x, y)
            if value == 0 and ((x == 0 and xk == CLOSED) or (y == 0 and yk == CLOSED)):
                kind = CLOSED
            else:
                kind = min(xk, yk)
            candidates.append((value, kind))
    lo = min(v for v, _ in candidates)
    hi = max(v for v, _ in candidates)
    lo_kind = max(k for v, k in candidates if v == lo)
    hi_kind = max(k for v, k in candidates if v == hi)
    return Interval(lo, hi, lo_kind, hi_kind)


def div(a: Interval, b: Interval) -> Interval:
    """Only the sign of a quotient is tracked, and only for a sign-definite divisor."""
    if b.lo >= 0 and not b.reaches_zero(exact_only=True):
        divisor_sign = 1
    elif b.hi <= 0 and not b.reaches_zero(exact_only=True):
        divisor_sign = -1
    else:
        return TOP
    if b == point(0):
        return TOP
    if divisor_sign < 0:
        a = neg(a)
    if a.lo >= 0:
        return Interval(0, INF, a.lo_kind if a.lo == 0 else OPEN, CLOSED)
    if a.hi <= 0:
        return Interval(-INF, 0, CLOSED, a.hi_kind if a.hi == 0 else OPEN)
    return TOP


def hull(a: Interval, b: Interval) -> Interval:
    lo = min(a.lo, b.lo)
    hi = max(a.hi, b.hi)
    lo_kind = max(k for v, k in ((a.lo, a.lo_kind), (b.lo, b.lo_kind)) if v == lo)
    hi_kind = max(k for v, k in ((a.hi, a.hi_kind), (b.hi, b.hi_kind)) if v == hi)
    return Interval(lo, hi, lo_kind, hi_kind)


BOUNDED = 1e300  # "some finite bound": a clamp whose bound is not known


def clamp(a: Interval, lo: Interval | None, hi: Interval | None) -> Interval:
    """``clamp(a, min=lo, max=hi)``.

    A bound whose value is unknown (``clamp(p, min=self.eps)``) is trusted to
    do its job: the result stays off that end (the end becomes open), and is
    finite.
    """
    result = a
    if lo is not None:
        if lo.known:
            new_lo, kind = (lo.lo, lo.lo_kind) if lo.lo >= a.lo else (a.lo, a.lo_kind)
        else:
            new_lo, kind = (max(a.lo, -BOUNDED), OPEN)
        result = Interval(new_lo, max(result.hi, new_lo), kind, result.hi_kind)
    if hi is not None:
        if hi.known:
            new_hi, kind = (hi.hi, hi.hi_kind) if hi.hi <= result.hi else (result.hi, result.hi_kind)
        else:
            new_hi, kind = (min(result.hi, BOUNDED), OPEN)
        result = Interval(min(result.lo, new_hi), new_hi, result.lo_kind, kind)
    return result


def monotone(a: Interval, fn, *, lo_limit: float, hi_limit: float, lo_kind_at_limit: int = ROUNDS,
             hi_kind_at_limit: int = ROUNDS) -> Interval:
    """Image of an increasing function; limits are its values at -inf/+inf."""

    def apply(x: float, at_neg_inf: bool) -> float:
        if x == -INF:
            return lo_limit
        if x == INF:
            return hi_limit
        try:
            return fn(x)
        except (ValueError, OverflowError):
            return lo_limit if at_neg_inf else hi_limit

    lo = apply(a.lo, True)
    hi = apply(a.hi, False)
    lo_kind = lo_kind_at_limit if a.lo == -INF else a.lo_kind
    hi_kind = hi_kind_at_limit if a.hi == INF else a.hi_kind
    return Interval(lo, hi, lo_kind, hi_kind)


@dataclass(frozen=True, slots=True)
class Why:
    """Evidence with the phrase a message uses ("the softmax output")."""

    text: str
    exact: bool = True  # False when it happens only by underflow/rounding
    # False for "a square"/"an absolute value" of an arbitrary value: 0 only when
    # the value itself is 0, which is no reason to expect it.  Reductions of such
    # values (a sum of squares: a squared norm) are strong again.
    strong: bool = True
    discrete: bool = False  # the zero comes from a count or a mask, which carries no gradient


@dataclass(frozen=True, slots=True)
class Facts:
    range: Interval = TOP
    zero: Why | None = None
    growth: Why | None = None
    shifted: bool = False  # every slice contains an exact 0: x - max(x)
    has_one: bool = False  # exp(x - max(x)): each slice contains exactly 1
    count: bool = False  # a shape-derived size: a positive integer
    unit: bool = False  # a unit vector (normalised): a dot product of two is a cosine
    unit_product: bool = False  # elementwise product of two unit vectors: its sum is a cosine
    discrete: bool = False  # a comparison result, a mask, a count: no gradient flows through it

    def settle(self) -> Facts:
        """Drop evidence the range rules out."""
        facts = self
        if facts.zero is not None and not facts.range.reaches_zero():
            facts = replace(facts, zero=None)
        if facts.growth is not None and facts.range.hi < INF:
            facts = replace(facts, growth=None)
        return facts

    @property
    def may_be_zero(self) -> bool:
        return self.zero is not None and self.zero.strong and self.range.reaches_zero()

    @property
    def bounded_above(self) -> bool:
        return self.range.hi < INF


UNKNOWN = Facts()


def join(a: Facts, b: Facts) -> Facts:
    """Facts after two paths meet.

    Ranges are joined; evidence is a may-property, so evidence from either
    path survives (as long as the joined range still allows it).
    """
    if a is b:
        return a
    return Facts(
        range=hull(a.range, b.range),
        zero=stronger(a.zero, b.zero),
        growth=a.growth or b.growth,
        shifted=a.shifted and b.shifted,
        has_one=a.has_one and b.has_one,
        count=a.count and b.count,
        unit=a.unit and b.unit,
        discrete=a.discrete and b.discrete,
    ).settle()


def stronger(*evidence: Why | None) -> Why | None:
    """The most telling piece of zero evidence: strong before weak, exact before underflow."""
    best: Why | None = None
    for why in evidence:
        if why is None:
            continue
        if best is None or (why.strong, why.exact) > (best.strong, best.exact):
            best = why
    return best


COSINE = Facts(range=Interval(-1.0, 1.0))
NEGATED = {"gt": "le", "ge": "lt", "lt": "ge", "le": "gt", "eq": "ne", "ne": "eq"}


def refine(facts: Facts, op: str, bound: float) -> Facts:
    """Facts of a value where ``value <op> bound`` holds (``x > 0``, ``n != 0``)."""
    r = facts.range
    if op in ("gt", "ge") and bound >= r.lo:
        r = Interval(bound, max(r.hi, bound), OPEN if op == "gt" else CLOSED, r.hi_kind)
    elif op in ("lt", "le") and bound <= r.hi:
        r = Interval(min(r.lo, bound), bound, r.lo_kind, OPEN if op == "lt" else CLOSED)
    elif op == "ne" and bound == 0:
        if r.lo == 0:
            r = Interval(0.0, r.hi, OPEN, r.hi_kind)
        elif r.hi == 0:
            r = Interval(r.lo, 0.0, r.lo_kind, OPEN)
        else:
            return replace(facts, zero=None)  # nonzero, though the interval cannot say so
    elif op == "eq":
        r = Interval(bound, bound)
    else:
        return facts
    return replace(facts, range=r).settle()


@lru_cache(maxsize=4096)
def constant(value: float) -> Facts:
    """Facts of a numeric literal (an int too large for a float is +-inf); immutable, so shared."""
    try:
        number = float(value)
    except OverflowError:
        number = math.copysign(INF, value)
    return Facts(range=point(number))
