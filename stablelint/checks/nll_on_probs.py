"""SL304: nll_loss / NLLLoss fed softmax probabilities instead of log-probabilities."""

from __future__ import annotations

import ast

from ..dataflow import Context
from ..diagnostic import Fix
from ..render import Renderer
from ..values import Value
from .losses import (
    LossInputCheck,
    Replacement,
    activation_edits,
    loss_call_text,
    origin_phrase,
    renamed,
    sibling,
    spelled,
)

# softmax spelled as a function or method -> its log form; a layer class -> its log layer
LOG_FORMS = {"softmax": "log_softmax", "Softmax": "LogSoftmax"}


class Check(LossInputCheck):
    loss_ops = ("nll_loss",)
    activation = "softmax"

    def message(self, value: Value, act: Value, site: ast.Call | None, render: Renderer) -> str:
        found = loss_call_text(value, site, render)
        origin = origin_phrase(render, value.arg_nodes.get("input"), value.args.get("input"), act)
        if act.spelling is None:
            use = f"{spelled(render, 'torch.nn.LogSoftmax')}(...)"
        elif act.method:
            use = ".log_softmax(...)"
        else:
            use = f"{sibling(render, act.node, 'log_softmax', 'torch.nn.functional.log_softmax')}(...)"
        return (f"{found} expects log-probabilities but gets a softmax output{origin}: it then minimises -p "
                f"instead of -log p, which is not the log-likelihood and has vanishing gradients; use "
                f"{use} in place of the softmax")

    def fix(self, value: Value, act: Value, context: Context, render: Renderer) -> Fix | None:
        """The softmax call written as log_softmax (same arguments), where the loss sees it."""
        node = act.node
        if not isinstance(node, ast.Call):
            return None
        func = node.func
        if act.spelling is None and isinstance(func, ast.Call):
            func = func.func  # a layer built and applied at once: nn.Softmax(dim=1)(x)
        elif act.spelling is None:
            return None  # a softmax layer held in an attribute or a Sequential: its other uses would change
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        new = LOG_FORMS.get(name)
        if new is None or (act.spelling is not None and act.spelling.attr != name):
            return None
        found = renamed(render, context.analyzer.module, func, new)
        if found is None:
            return None
        rename, imports, more = found
        text = _apply_inside(render, node, rename)
        if text is None:
            return None
        edits = activation_edits(value, act, context, render, Replacement(text, True, node))
        if edits is None:
            return None
        return Fix((*edits, *more), "safe", f"use {new} in place of {name}", imports)


def _apply_inside(render: Renderer, node: ast.AST, rename) -> str | None:
    """The source of ``node`` with ``rename`` (an edit inside it) applied."""
    text = render.segment(node)
    start = render.source.start(node)
    lines = text.split("\n")
    line = rename.start.line - start.line
    if line < 0 or line >= len(lines) or rename.start.line != rename.end.line:
        return None
    offset = rename.start.column - (start.column if line == 0 else 1)
    length = rename.end.column - rename.start.column
    lines[line] = lines[line][:offset] + rename.replacement + lines[line][offset + length:]
    return "\n".join(lines)
