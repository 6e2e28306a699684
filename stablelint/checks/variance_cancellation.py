"""SL502: a variance computed as mean(x**2) - mean(x)**2 cancels catastrophically."""

from __future__ import annotations

from itertools import product

from .logexp_support import (
    RewriteCheck, expression_text, framework_of, function_name, keepdim_keyword, operand_text, parenthesize,
    uses_methods,
)
from ..dataflow import Context
from ..patterns import Match
from ..render import Renderer
from ..values import Value

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
