"""SL502: a variance computed as mean(x**2) - mean(x)**2 cancels catastrophically.

The fix rewrites the subtraction as ``var(x, axis, keepdim, unbiased=False)``.  The means must
be written in the subtraction, except the subtracted mean, which may be held in a variable
(``mean = x.mean(0)`` ... ``(x ** 2).mean(0) - mean ** 2``): the replacement only needs ``x``
and the axis, which the first mean spells right there, and the variable keeps its other uses.
That needs the analysis to show the variable's mean was taken of the very same value ``x``
with the same arguments; otherwise no fix is offered.
"""

from __future__ import annotations

import ast
from itertools import product

from .logexp_support import (
    AXIS_PARAMS, RewriteCheck, argument_text, axis_arguments, callee, expression_text, framework_of,
    function_name, is_argument_node, is_written_call, keepdim_keyword, only_arguments, operand_text,
    parenthesize, receiver_text, replace_fix, site, uses_methods,
)
from ..dataflow import Context
from ..diagnostic import Fix
from ..patterns import Match, PBind, PConst, POp, PVar
from ..render import Renderer
from ..values import Value, same_syntax

SQUARES = ("$X ** 2", "square($X)", "$X * $X")
MEAN_SQUARED = ("($M := mean($X, ...)) ** 2", "square(($M := mean($X, ...)))", "($M := mean($X, ...)) * mean($X, ...)")


class Check(RewriteCheck):
    patterns = tuple(("var", f"mean({square}, ...) - {mean}") for square, mean in product(SQUARES, MEAN_SQUARED))

    def message(self, variant: str, match: Match, value: Value, render: Renderer, context: Context) -> str:
        mean = match.bindings["M"]
        like = [mean]
        framework = framework_of(render, like)
        subject = operand_text(render, mean.arg_nodes.get("input"))
        rest = [render.text(mean.arg_nodes["axis"], 30)] if "axis" in mean.arg_nodes else []
        if "keepdim" in mean.arg_nodes:
            rest.append(f"{keepdim_keyword(framework)}={render.text(mean.arg_nodes['keepdim'])}")
        caveat = ""
        if framework == "torch":
            rest.append("unbiased=False")
            caveat = " (torch.var divides by n - 1 unless told otherwise)"
        if uses_methods(like) and framework in ("torch", "numpy", "jax"):
            use = f"{parenthesize(subject)}.var({', '.join(rest)})"
        else:
            use = f"{function_name(render, 'var', like, framework)}({', '.join([subject, *rest])})"
        found = expression_text(render, value.node)
        return (f"{found} is a variance computed as E[x^2] - E[x]^2, which cancels catastrophically when the "
                f"mean is large compared with the spread and can even come out negative (sqrt of it is NaN); "
                f"use {use}{caveat}")

    def fixable(self, pattern, match: Match) -> bool:
        return _written(pattern, match, match.bindings.get("X"), top=True)

    def fix(self, variant: str, match: Match, value: Value, render: Renderer, context: Context) -> Fix | None:
        """mean(x**2, d) - mean(x, d)**2 -> var(x, d) with the biased (1/n) normalisation."""
        x = site(match, "X")
        first = value.args.get("input")
        means = [m for m in _means(match) if m is not first]
        if x is None or first is None or not means:
            return None
        if not all(only_arguments(m, AXIS_PARAMS) and _same_arguments(first, m) for m in means):
            return None  # mean(x ** 2, dim=0) - mean(x, dim=1) ** 2 is no variance
        framework = framework_of(render, [first])
        rest = axis_arguments(render, first, framework)
        if rest is None:
            return None
        if framework == "torch":
            rest.append("unbiased=False")  # torch.var divides by n - 1 by default
        if first.method and framework in ("torch", "numpy", "jax"):
            text = f"{receiver_text(render, x)}.var({', '.join(rest)})"
            return replace_fix(render, value.node, text, self.rule.fix)
        spelled_as = callee(render, "var", [first], framework)
        if spelled_as is None:
            return None
        text = f"{spelled_as[0]}({', '.join([argument_text(render, x), *rest])})"
        return replace_fix(render, value.node, text, self.rule.fix, spelled_as[1])


def _means(match: Match) -> list[Value]:
    return [v for v in match.matched.values() if v.op == "mean"]


def _same_arguments(a: Value, b: Value) -> bool:
    """Two means over the same axes with the same keepdim, whatever their spelling (``0`` or ``dim=0``)."""
    names = set(a.arg_nodes) - {"input"}
    if names != set(b.arg_nodes) - {"input"}:
        return False
    return all(same_syntax(a.arg_nodes[name], b.arg_nodes[name]) for name in names)


def _written(pattern, match: Match, x: Value | None, *, top: bool = False, held_ok: bool = False) -> bool:
    """Like ``written_in_place``, except that a mean of the subtracted term may be held in a variable
    (``mean ** 2``), as long as that mean was taken of the same value as the written one."""
    while isinstance(pattern, PBind):
        pattern = pattern.sub
    if not isinstance(pattern, POp):
        return True
    value = match.matched.get(id(pattern))
    if value is None or not is_written_call(value):
        return False
    subs = list(pattern.args) + [p for _, p in pattern.kwargs]
    for index, sub in enumerate(subs):
        while isinstance(sub, PBind):
            sub = sub.sub
        if isinstance(sub, PVar):
            if sub.name != "_" and match.sites.get(sub.name) is None:
                return False
            continue
        if isinstance(sub, PConst):
            continue
        child = match.matched.get(id(sub))
        if child is None or match.reached.get(id(sub)) is not child:
            return False
        subtracted = held_ok or (top and index == 1)
        if subtracted and sub.op == "mean" and not is_argument_node(value, child.node):
            # mean ** 2 with mean = x.mean(0) earlier: fine when that mean is of this very x
            if not (is_written_call(child) and child.args.get("input") is x and x is not None
                    and any(isinstance(node, ast.Name) and value.args.get(name) is child
                            for name, node in value.arg_nodes.items())):
                return False
            continue
        if not is_argument_node(value, child.node) or not _written(sub, match, x, held_ok=subtracted):
            return False
    return True
