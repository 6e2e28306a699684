"""The loss fixes do what they claim, run with torch.

Safe ones keep the numbers on ordinary inputs and repair the saturated ones: SL302 (sigmoid into
BCE -> the with-logits loss) and SL304 (softmax into nll_loss -> log_softmax).  Unsafe ones change
the result on purpose; each is run to check the property it is for: SL301 (drop a softmax fed to
cross_entropy), SL310 (reduce an unreduced loss), SL401 ((N, 1) against (N,)) and SL402 (keepdim).
"""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from fixing import assert_numerically_safe, findings, fix, function_of

F = torch.nn.functional


def _fixed(code: str, rule: str, *, unsafe: bool) -> str:
    fixed = fix(code, unsafe=unsafe, select=(rule,))
    assert fixed != code, f"{rule}: no fix was applied"
    assert rule not in [c for c, _ in findings(fixed)]
    return fixed


def _grad(fn, x: torch.Tensor, *args) -> tuple[torch.Tensor, torch.Tensor]:
    x = x.detach().clone().requires_grad_(True)
    loss = fn(x, *args)
    loss.backward()
    return loss.detach(), x.grad


# -- SL302: sigmoid + BCE -> BCE with logits (safe) -------------------------------------------

BCE_FUNCTION = """\
import torch
import torch.nn.functional as F


def f(logits, target):
    return F.binary_cross_entropy(torch.sigmoid(logits), target)
"""

BCE_OBJECT = """\
import torch
import torch.nn as nn

criterion = nn.BCELoss(weight=torch.tensor([1.0, 2.0, 0.5]), reduction="sum")


def f(logits, target):
    probs = torch.sigmoid(logits)
    return criterion(probs, target)
"""

BCE_WITH_METRIC = """\
import torch
import torch.nn.functional as F


def f(logits, target):
    p = torch.sigmoid(logits)
    loss = F.binary_cross_entropy(p, target, reduction="none")
    return loss, (p > 0.5).float()
"""


def _bce_ordinary() -> list[tuple]:
    torch.manual_seed(0)
    return [(torch.randn(8, 3) * 3, torch.randint(0, 2, (8, 3)).float()),
            (torch.tensor([[0.5, -2.0, 4.0]]), torch.tensor([[0.3, 1.0, 0.0]]))]  # soft targets too


@pytest.mark.parametrize("code", [BCE_FUNCTION, BCE_OBJECT], ids=["function", "loss-object"])
def test_sl302_agrees_on_ordinary_logits(code):
    fixed = _fixed(code, "SL302", unsafe=False)
    assert "with_logits" in fixed or "WithLogits" in fixed
    assert "sigmoid" not in fixed
    assert_numerically_safe(code, _bce_ordinary(), [], rtol=1e-4, atol=1e-5)


def test_sl302_keeps_the_metric_and_the_reduction():
    fixed = _fixed(BCE_WITH_METRIC, "SL302", unsafe=False)
    before, after = function_of(BCE_WITH_METRIC), function_of(fixed)
    for logits, target in _bce_ordinary():
        (loss_a, pred_a), (loss_b, pred_b) = before(logits, target), after(logits, target)
        assert loss_b.shape == loss_a.shape  # reduction="none" carried over
        assert torch.allclose(loss_a, loss_b, rtol=1e-4, atol=1e-5)
        assert torch.equal(pred_a, pred_b)  # the probabilities used for the metric are untouched


@pytest.mark.parametrize(("logit", "target"), [(30.0, 0.0), (200.0, 0.0), (-90.0, 1.0), (-200.0, 1.0)])
def test_sl302_exact_where_the_sigmoid_saturates(logit, target):
    """float32: the sigmoid rounds to exactly 0 or 1, BCELoss clamps log(0) at -100 and the gradient
    is 0 for a confidently wrong example; the with-logits loss gives |x| and the gradient sigmoid(x) - y."""
    before, after = function_of(BCE_FUNCTION), function_of(_fixed(BCE_FUNCTION, "SL302", unsafe=False))
    x, y = torch.tensor([logit]), torch.tensor([target])
    exact = abs(logit)  # softplus(|x|) for a wrong label, to float32 precision
    loss_a, grad_a = _grad(before, x, y)
    loss_b, grad_b = _grad(after, x, y)
    assert loss_a.item() == 100.0 and exact != 100.0  # the original is capped by the clamp
    assert grad_a.item() == 0.0  # ... and gives no gradient at all
    assert loss_b.item() == pytest.approx(exact, rel=1e-6)
    assert grad_b.item() == pytest.approx(1.0 if target == 0.0 else -1.0)  # sigmoid(x) - y


def test_sl302_gradient_keeps_its_precision_before_saturation():
    """At a logit of -30 the sigmoid is ~1e-13: BCELoss still gets the loss but only ~9% of the gradient."""
    before, after = function_of(BCE_FUNCTION), function_of(_fixed(BCE_FUNCTION, "SL302", unsafe=False))
    x, y = torch.tensor([-30.0]), torch.tensor([1.0])
    _, grad_a = _grad(before, x, y)
    loss_b, grad_b = _grad(after, x, y)
    assert abs(grad_a.item() + 1.0) > 0.5  # the original gradient is far from sigmoid(x) - y = -1
    assert loss_b.item() == pytest.approx(30.0, rel=1e-6)
    assert grad_b.item() == pytest.approx(-1.0, rel=1e-6)


# -- SL304: softmax into nll_loss -> log_softmax (safe) ----------------------------------------

NLL_FUNCTION = """\
import torch.nn.functional as F


def f(logits, target):
    return F.nll_loss(F.softmax(logits, dim=1), target)
"""

NLL_WITH_METRIC = """\
import torch
import torch.nn as nn


def f(logits, target):
    probs = logits.softmax(dim=-1)
    loss = nn.NLLLoss(reduction="sum")(probs, target)
    return loss, probs.argmax(dim=-1)
"""


def test_sl304_computes_the_cross_entropy():
    """The original computes -p[target] (not a log-likelihood); the fixed loss is the cross-entropy."""
    before, after = function_of(NLL_FUNCTION), function_of(_fixed(NLL_FUNCTION, "SL304", unsafe=False))
    torch.manual_seed(1)
    logits, target = torch.randn(16, 5, dtype=torch.float64) * 2, torch.randint(0, 5, (16,))
    original = before(logits, target)
    assert -1.0 <= original.item() <= 0.0  # -mean(p): bounded, the bug
    assert not torch.allclose(original, F.cross_entropy(logits, target))
    assert torch.allclose(after(logits, target), F.cross_entropy(logits, target), rtol=1e-12)


def test_sl304_finite_and_exact_for_extreme_logits():
    before, after = function_of(NLL_FUNCTION), function_of(_fixed(NLL_FUNCTION, "SL304", unsafe=False))
    logits = torch.tensor([[200.0, -200.0, 0.0], [-200.0, 200.0, 0.0]])
    target = torch.tensor([1, 1])  # the first row confidently wrong, the second right
    _, grad_a = _grad(before, logits, target)
    loss_b, grad_b = _grad(after, logits, target)
    assert torch.count_nonzero(grad_a) == 0  # the saturated softmax gives no gradient
    assert torch.isfinite(loss_b) and torch.isfinite(grad_b).all()
    assert loss_b.item() == pytest.approx(200.0, rel=1e-6)  # (400 + 0) / 2
    assert torch.allclose(loss_b, F.cross_entropy(logits, target))
    assert grad_b[0].tolist() == pytest.approx([0.5, -0.5, 0.0])  # (softmax - onehot) / N


def test_sl304_rewrites_only_the_loss_argument_when_the_probabilities_are_used():
    fixed = _fixed(NLL_WITH_METRIC, "SL304", unsafe=False)
    before, after = function_of(NLL_WITH_METRIC), function_of(fixed)
    torch.manual_seed(2)
    logits, target = torch.randn(6, 4), torch.randint(0, 4, (6,))
    (_, pred_a), (loss_b, pred_b) = before(logits, target), after(logits, target)
    assert torch.equal(pred_a, pred_b)
    assert torch.allclose(loss_b, F.cross_entropy(logits, target, reduction="sum"))


# -- SL301: softmax into cross_entropy -> the logits (unsafe) ----------------------------------

CE_DOUBLE_SOFTMAX = """\
import torch
import torch.nn.functional as F


def f(logits, target):
    probs = torch.softmax(logits, dim=-1)
    return F.cross_entropy(probs, target, label_smoothing=0.1)
"""


def test_sl301_fixed_loss_is_the_cross_entropy_of_the_logits():
    fixed = _fixed(CE_DOUBLE_SOFTMAX, "SL301", unsafe=True)
    assert fix(CE_DOUBLE_SOFTMAX, unsafe=False, select=("SL301",)) == CE_DOUBLE_SOFTMAX  # unsafe only
    before, after = function_of(CE_DOUBLE_SOFTMAX), function_of(fixed)
    classes = 10
    target = torch.arange(classes)
    perfect = torch.eye(classes) * 5.0  # confidently right logits
    # Softmax twice: the loss cannot go below about log(C) - 1 however right the model is.
    assert before(perfect, target).item() > math.log(classes) - 1.0
    expected = F.cross_entropy(perfect, target, label_smoothing=0.1)
    assert torch.allclose(after(perfect, target), expected)
    assert after(perfect, target).item() < math.log(classes) - 1.0 - 0.5


# -- SL310: an unreduced loss -> its mean (unsafe) ----------------------------------------------

DICE = """\
import torch
import torch.nn as nn


class SoftDiceLoss(nn.Module):
    def forward(self, logits, target):
        probs = torch.sigmoid(logits)
        dims = tuple(range(1, probs.dim()))
        inter = (probs * target).sum(dims)
        total = probs.sum(dims) + target.sum(dims)
        return 1.0 - (2.0 * inter + 1.0) / (total + 1.0)


def f(logits, target):
    loss = SoftDiceLoss()(logits, target)
    loss.backward()
    return loss
"""

BACKWARD = """\
import torch.nn as nn


def f(logits, target):
    criterion = nn.CrossEntropyLoss(reduction="none")
    loss = criterion(logits, target)
    loss.backward()
    return loss
"""


@pytest.mark.parametrize("code", [DICE, BACKWARD], ids=["return", "backward"])
def test_sl310_back_propagates_a_scalar(code):
    fixed = _fixed(code, "SL310", unsafe=True)
    torch.manual_seed(3)
    if code is DICE:
        logits, target = torch.randn(4, 1, 5, 5), torch.randint(0, 2, (4, 1, 5, 5)).float()
    else:
        logits, target = torch.randn(4, 3), torch.randint(0, 3, (4,))
    with pytest.raises(RuntimeError, match="scalar"):
        function_of(code)(logits.clone().requires_grad_(True), target)
    x = logits.clone().requires_grad_(True)
    result = function_of(fixed)(x, target)
    assert x.grad is not None and torch.isfinite(x.grad).all()
    if code is DICE:
        assert result.dim() == 0  # the loss itself is the mean now
        per_sample = function_of(code.replace("    loss.backward()\n", ""))(logits, target)
        assert torch.allclose(result, per_sample.mean())
    else:
        # backward of the mean: the same gradient as the default reduction="mean"
        y = logits.clone().requires_grad_(True)
        F.cross_entropy(y, target).backward()
        assert torch.allclose(x.grad, y.grad)


# -- SL401: (N, 1) against (N,) (unsafe) --------------------------------------------------------

RESIDUAL = """\
import torch
import torch.nn as nn

head = nn.Linear(3, 1)


def f(X, y):
    pred = head(X)
    return pred - y.view(-1)
"""


def test_sl401_no_longer_broadcasts_to_n_by_n():
    fixed = _fixed(RESIDUAL, "SL401", unsafe=True)
    torch.manual_seed(4)
    X, y = torch.randn(7, 3), torch.randn(7, 1)
    before, after = function_of(RESIDUAL), function_of(fixed)
    after.__globals__["head"] = head = before.__globals__["head"]  # the same weights on both sides
    with torch.no_grad():
        wrong, right, pred = before(X, y), after(X, y), head(X)
    assert wrong.shape == (7, 7)  # every prediction minus every target
    assert right.shape == (7,)
    assert torch.allclose(right, pred[:, 0] - y[:, 0])
    assert torch.allclose(torch.diagonal(wrong), right)


# -- SL402: keepdim (unsafe) --------------------------------------------------------------------

STANDARDIZE = """\
import torch


def f(x):
    return (x - x.mean(dim=1)) / (x.std(dim=1) + 1e-5)
"""

CENTRE_CLIPS = """\
import torch


def f(x):
    x = x.view(x.size(0), x.size(1), -1)
    return x - x.mean(dim=1)
"""


def test_sl402_standardizes_rows_of_a_square_batch():
    """N == D: the original runs without an error and standardizes the wrong axis."""
    fixed = _fixed(STANDARDIZE, "SL402", unsafe=True)
    torch.manual_seed(5)
    x = torch.randn(6, 6, dtype=torch.float64) * 3 + torch.arange(6, dtype=torch.float64)[:, None]
    wrong, right = function_of(STANDARDIZE)(x), function_of(fixed)(x)
    assert right.shape == wrong.shape == (6, 6)
    zeros = torch.zeros(6, dtype=torch.float64)
    assert torch.allclose(right.mean(dim=1), zeros, atol=1e-12)
    assert torch.allclose(right.std(dim=1), torch.ones_like(zeros), atol=1e-4)
    assert not torch.allclose(wrong.mean(dim=1), zeros, atol=1e-3)


def test_sl402_centres_each_clip_over_its_own_frames():
    """(B, T, D) with B == T: the original subtracts another clip's mean."""
    fixed = _fixed(CENTRE_CLIPS, "SL402", unsafe=True)
    torch.manual_seed(6)
    x = torch.randn(4, 4, 3) + torch.arange(4.0)[:, None, None] * 10
    wrong, right = function_of(CENTRE_CLIPS)(x), function_of(fixed)(x)
    assert torch.allclose(right, x - x.mean(dim=1, keepdim=True))
    assert torch.allclose(right.mean(dim=1), torch.zeros(4, 3), atol=1e-5)
    assert not torch.allclose(wrong.mean(dim=1), torch.zeros(4, 3), atol=1e-2)
    with pytest.raises(RuntimeError):
        function_of(CENTRE_CLIPS)(torch.randn(2, 5, 3))  # B != T: a shape error ...
    assert function_of(fixed)(torch.randn(2, 5, 3)).shape == (2, 5, 3)  # ... that the fix removes
