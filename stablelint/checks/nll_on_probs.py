"""SL304: nll_loss / NLLLoss fed softmax probabilities instead of log-probabilities."""

from __future__ import annotations

import ast

from ..render import Renderer
from ..values import Value
from .losses import LossInputCheck, loss_call_text, origin_phrase, sibling, spelled


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
