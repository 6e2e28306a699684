"""SL107: exp(x) / sum(exp(x)) is a softmax written by hand, without the max subtracted first.

Seen through variables and in-place updates: ``e = K.exp(s); e *= mask;
e /= K.sum(e, axis=1, keepdims=True)`` divides a (masked) exp by its own sum,
which overflows to inf / inf = NaN as soon as a score exceeds about 88.
"""

from __future__ import annotations

import ast

from . import Checker, Report
from .logexp_support import (
    argument_text, axis_arguments, axis_keyword, call_text, expression_text, fix_call, framework_of,
    is_argument_node, is_kernel_exponent, is_literal_true, is_shifted, is_written_call, only_arguments,
    operand_text, origin_note, receiver_text, reduction_args, built_fix, same_value, unwrap,
)
from ..dataflow import Context
from ..diagnostic import Fix
from ..render import Renderer
from ..values import CONST, OP, UNKNOWN_KIND, Value, same_syntax

DIVISION_OPS = ("div", "true_divide")
EXP_OPS = ("exp", "exp2")
# e * mask, where(mask, e, 0), e.masked_fill(~mask, 0): still the same exp, only masked
MASKING_OPS = ("mul", "where", "masked_fill")


class Check(Checker):
    ops = (*DIVISION_OPS, *EXP_OPS, *MASKING_OPS)

    def check(self, value: Value, context: Context, report: Report) -> None:
        if value.op not in DIVISION_OPS:
            self._remember(value, context)
            return
        numerator, denominator = value.args.get("input"), value.args.get("other")
        total = unwrap(denominator, context)
        if numerator is None or total is None or total.kind != OP or total.op != "sum":
            return
        if not same_value(numerator, total.args.get("input"), context):
            return
        exp = _exp_inside(numerator, context, context.analyzer.rule_state(self, dict))
        exponent = exp.args.get("input") if exp is not None else None
        if exp is None or exp.facts.has_one or is_shifted(exponent, context):
            return
        if exponent is not None and (exponent.facts.bounded_above or is_kernel_exponent(exponent, context)):
            return  # exp(-d ** 2 / s) / sum(...): a Gaussian kernel normalised, nothing to overflow
        render = report.render
        like = [exp, total]
        framework = framework_of(render, like)
        subject = operand_text(render, exp.arg_nodes.get("input"), 30, "scores")
        rest = reduction_args(render, total, framework, keepdim=False)
        if not rest and framework != "numpy":
            rest = ("dim=..." if framework == "torch" else "axis=...",)
        use = call_text(render, "softmax", like, subject, rest, framework)
        if unwrap(numerator, context) is not exp:  # masked: the mask belongs in the scores
            use += f" with the masked entries of {subject} set to a large negative value"
        note = origin_note(render, value.arg_nodes.get("input"), numerator, exp)
        found = expression_text(render, value.node, 60)
        report(value.node,
               f"{found} is a softmax written by hand without subtracting the max: exp overflows to inf for scores "
               f"above about 88 (float32; 11 in float16) and inf / inf is NaN{note}; use {use}, or subtract the max "
               f"before exp",
               fix=self._fix(value, exp, total, render, framework) if self.rule.fix != "none" else None)

    def _fix(self, value: Value, exp: Value, total: Value, render: Renderer, framework: str) -> Fix | None:
        """exp(x) / sum(exp(x), d, keepdim=True) -> softmax(x, d), when all of it is written in the division.

        The sum must keep its axis (keepdim=True) or reduce the leading one (axis 0), or every axis
        where the framework's softmax can too (NumPy/SciPy, JAX): otherwise the division broadcasts
        the sums against other axes and is no softmax at all.
        """
        if exp.op != "exp" or value.args.get("input") is not exp or value.args.get("other") is not total:
            return None  # exp2, a masked exp, or either one reached through a variable
        if not (is_written_call(value) and is_written_call(exp) and is_written_call(total)
                and is_argument_node(value, exp.node) and is_argument_node(value, total.node)):
            return None
        inner = total.args.get("input")
        if (inner is None or inner.kind != OP or not is_written_call(inner) or not is_argument_node(total, inner.node)
                or not same_syntax(inner.node, exp.node)):
            return None  # the sum is over something written elsewhere
        x = exp.arg_nodes.get("input")
        if x is None or not only_arguments(exp) or not only_arguments(value, ("input", "other")):
            return None
        like = [exp, total]
        rest = axis_arguments(render, total, framework)
        if rest is None:
            return None
        axis = total.arg_nodes.get("axis")
        keepdim = total.arg_nodes.get("keepdim")
        if axis is None:
            if framework == "numpy":
                rest = []  # scipy.special.softmax(x) normalises over every element, like the sum
            elif framework == "jax":
                rest = ["axis=None"]
            else:
                return None  # torch and TensorFlow have no softmax over every axis
        else:
            if not (is_literal_true(keepdim) or _is_zero(total.args.get("axis"))):
                return None
            if isinstance(axis, (ast.Tuple, ast.List)) and framework not in ("jax", "numpy"):
                return None  # torch.softmax and tf.nn.softmax take one dim; jax.nn and scipy take several
            rest = rest[:1]
            if not rest[0].startswith(f"{axis_keyword(framework)}=") and "=" in rest[0].split("(")[0]:
                return None
        built = fix_call(render, "softmax", like, argument_text(render, x), rest, framework,
                         receiver=receiver_text(render, x) if exp.method else None)
        return built_fix(render, value.node, built, self.rule.fix)


    def _remember(self, value: Value, context: Context) -> None:
        """Keep exps (and masked exps) by their syntax, to find them again after a branch join.

        ``e = exp(s); if mask is not None: e *= mask`` leaves ``e`` as the join of
        both branches, a value that has lost its inputs but keeps the node of the
        first branch's value; this map leads from that node back to the exp.
        """
        known = context.analyzer.rule_state(self, dict)
        if value.op in EXP_OPS or _exp_inside(value, context, known) is not None:
            known[id(value.node)] = value


def _exp_inside(value: Value | None, context: Context, known: dict[int, Value], depth: int = 0) -> Value | None:
    """The exp in ``value``: itself, or under a mask (``e * mask``, ``where(m, e, 0)``)."""
    current = unwrap(value, context)
    if current is not None and current.kind == UNKNOWN_KIND and current.node is not None:
        current = known.get(id(current.node), current)
    if current is None or current.kind != OP or depth > 4:
        return None
    if current.op in EXP_OPS:
        return current
    if current.op in MASKING_OPS:
        for name in ("input", "other"):
            found = _exp_inside(current.args.get(name), context, known, depth + 1)
            if found is not None:
                return found
    return None


def _is_zero(value: Value | None) -> bool:
    """The literal axis 0 (reducing the leading axis broadcasts back correctly without keepdim)."""
    return value is not None and value.kind == CONST and value.const == 0 and not isinstance(value.const, bool)
