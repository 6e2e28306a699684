"""The log/exp rewrites keep the numbers and remove the inf/NaN (SL102, SL105-SL109), or the lost digits
(SL103 log1p, SL104 expm1); the unsafe floors and variances (SL111, SL502) are finite and accurate where the
original is not.  Each test also checks that the original really is broken there, so it can fail."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from fixing import assert_numerically_safe, findings, fix, function_of  # noqa: E402

F32 = torch.float32


def ordinary(*shape: int, count: int = 3) -> list[tuple]:
    generator = torch.Generator().manual_seed(len(shape) * 7 + count)
    return [(torch.randn(*shape, generator=generator, dtype=torch.float64) * 3,) for _ in range(count)]


def gradient(function, x: torch.Tensor) -> torch.Tensor:
    x = x.clone().requires_grad_(True)
    function(x).sum().backward()
    return x.grad


def fixed_function(code: str, *, unsafe: bool = False):
    fixed = fix(code, unsafe=unsafe)
    assert fixed != code, "no fix was applied"
    return function_of(code), function_of(fixed), fixed


# -- SL102: log of a sigmoid ------------------------------------------------------------


def test_sl102_log_sigmoid():
    code = "import torch\n\n\ndef f(x):\n    return torch.log(torch.sigmoid(x))\n"
    assert_numerically_safe(code, ordinary(5), [(torch.tensor([-200.0, 0.0, 3.0]),)])


def test_sl102_log_one_minus_sigmoid_is_logsigmoid_of_minus_x():
    code = ("import torch\nimport torch.nn.functional as F\n\n\n"
            "def f(x, w):\n    return torch.log(1 - torch.sigmoid(x @ w))\n")
    w = torch.tensor([[1.0], [2.0]])
    ordinary_inputs = [(torch.randn(4, 2), w), (torch.tensor([[0.5, -1.0]]), w)]
    assert_numerically_safe(code, ordinary_inputs, [(torch.tensor([[10.0, 5.0]]), w)])  # logit 20: sigmoid is 1


def test_sl102_gradient_is_finite_where_the_sigmoid_underflows():
    code = "import torch\n\n\ndef f(x):\n    return x.sigmoid().log()\n"
    before, after, _ = fixed_function(code)
    x = torch.tensor([-200.0, -50.0, 0.0])
    assert torch.isnan(gradient(before, x)[0])  # d/dx log(0) = inf * 0
    assert torch.allclose(gradient(after, x), torch.tensor([1.0, 1.0, 0.5]))


# -- SL103 / SL104: precision near 0 ---------------------------------------------------------


def test_sl103_log1p_keeps_the_digits_of_a_small_x():
    code = "import torch\n\n\ndef f(x):\n    return torch.log(1 + x)\n"
    assert_numerically_safe(code, [(torch.rand(6, dtype=torch.float64) * 5,), (torch.tensor([0.5, 2.0]),)], [])
    before, after, _ = fixed_function(code)
    tiny = torch.tensor([1e-10, 3e-9, 1e-5], dtype=F32)
    assert before(tiny)[0].item() == 0.0  # 1 + 1e-10 rounds to 1 in float32
    assert abs(before(tiny)[2].item() - 1e-5) / 1e-5 > 1e-3  # only a few digits survive at 1e-5
    assert torch.allclose(after(tiny).double(), torch.log1p(tiny.double()), rtol=1e-6, atol=0)


def test_sl103_method_chain():
    code = "import torch\n\n\ndef f(x, scale):\n    return (x / scale + 1).log()\n"
    before, after, fixed = fixed_function(code)
    assert "(x / scale).log1p()" in fixed
    x, scale = torch.tensor([2e-9, 0.3], dtype=F32), torch.tensor(2.0)
    assert before(x, scale)[0].item() == 0.0
    assert torch.allclose(after(x, scale).double(), torch.log1p(x.double() / 2), rtol=1e-6, atol=0)


def test_sl104_expm1_keeps_the_digits_of_a_small_x():
    code = "import torch\n\n\ndef f(dt, a):\n    return (torch.exp(dt * a) - 1) / a\n"
    a = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    assert_numerically_safe(code, [(torch.tensor(0.7, dtype=torch.float64), a), (torch.tensor(-1.5), a.float())], [])
    before, after, _ = fixed_function(code)
    dt = torch.tensor(1e-10, dtype=F32)
    a32 = a.float()
    assert (before(dt, a32) == 0).all()  # exp(1e-10) rounds to 1 in float32: (1 - 1) / a = 0
    expected = torch.expm1(dt.double() * a) / a  # ~ dt
    assert torch.allclose(after(dt, a32).double(), expected, rtol=1e-6, atol=0)


# -- SL105 / SL106: log of a sum of exps -----------------------------------------------------


def test_sl105_logsumexp():
    code = "import torch\n\n\ndef f(x):\n    return torch.log(torch.sum(torch.exp(x), dim=-1))\n"
    extreme = [(torch.tensor([[100.0, 200.0]]),), (torch.tensor([[-200.0, -300.0]]),)]  # inf, and -inf
    assert_numerically_safe(code, ordinary(3, 4), extreme)


def test_sl105_method_chain_keeps_keepdim():
    code = "import torch\n\n\ndef f(x):\n    return x.exp().sum(-1, keepdim=True).log()\n"
    assert_numerically_safe(code, ordinary(2, 5), [(torch.tensor([[90.0, 1.0]]),)])
    _, after, _ = fixed_function(code)
    assert after(torch.randn(3, 4)).shape == (3, 1)


def test_sl105_sum_over_every_element():
    code = "import torch\n\n\ndef f(x):\n    return torch.log(torch.exp(x).sum())\n"
    assert_numerically_safe(code, ordinary(2, 3), [(torch.tensor([[100.0, 0.0], [1.0, 2.0]]),)])


def test_sl106_logaddexp():
    code = "import torch\n\n\ndef f(a, b):\n    return torch.log(torch.exp(a) + torch.exp(b))\n"
    ordinary_inputs = [(torch.randn(4, dtype=torch.float64), torch.randn(4, dtype=torch.float64)),
                       (torch.randn(2, 3), torch.randn(3))]  # broadcasting too
    extreme = [(torch.tensor([100.0]), torch.tensor([200.0])), (torch.tensor([-200.0]), torch.tensor([-300.0]))]
    assert_numerically_safe(code, ordinary_inputs, extreme)


# -- SL107 / SL108 / SL109: softmax, sigmoid, softplus by hand -------------------------------


def test_sl107_softmax():
    code = "import torch\n\n\ndef f(x):\n    return torch.exp(x) / torch.exp(x).sum(dim=-1, keepdim=True)\n"
    assert_numerically_safe(code, ordinary(3, 5), [(torch.tensor([[1000.0, 0.0, -5.0]]),)])


def test_sl107_sum_over_axis_0_without_keepdim():
    code = "import torch\n\n\ndef f(x):\n    return x.exp() / x.exp().sum(0)\n"
    assert_numerically_safe(code, ordinary(4, 3), [(torch.tensor([[100.0, 1.0], [0.0, 2.0]]),)])


def test_sl108_sigmoid_ratio():
    code = "import torch\n\n\ndef f(z):\n    return torch.exp(z) / (1 + torch.exp(z))\n"
    assert_numerically_safe(code, ordinary(6), [(torch.tensor([100.0, 0.0, -3.0]),)])  # inf / inf


def test_sl108_gradient_is_finite_where_exp_overflows():
    code = "import torch\n\n\ndef f(x):\n    return 1 / (1 + torch.exp(-x))\n"
    assert_numerically_safe(code, ordinary(6), [])
    before, after, _ = fixed_function(code)
    x = torch.tensor([-200.0, 0.0])
    assert torch.isfinite(before(x)).all()  # the value rounds to 0 ...
    assert torch.isnan(gradient(before, x)[0])  # ... but the gradient is inf / inf
    assert torch.allclose(gradient(after, x), torch.tensor([0.0, 0.25]))


def test_sl108_one_over_one_plus_exp_x_is_sigmoid_of_minus_x():
    code = "import torch\n\n\ndef f(x, b):\n    return 1.0 / (1.0 + (b * x).exp())\n"
    before, after, fixed = fixed_function(code)
    assert "(-(b * x)).sigmoid()" in fixed
    b = torch.tensor(2.0, dtype=torch.float64)
    for (x,) in ordinary(5):
        assert torch.allclose(before(x, b), after(x, b), rtol=1e-12)
    x = torch.tensor([100.0])
    assert torch.isnan(gradient(lambda t: before(t, torch.tensor(2.0)), x)).all()
    assert torch.isfinite(gradient(lambda t: after(t, torch.tensor(2.0)), x)).all()


def test_sl109_softplus():
    code = "import torch\n\n\ndef f(x):\n    return torch.log(1 + torch.exp(x))\n"
    assert_numerically_safe(code, ordinary(6), [(torch.tensor([100.0, 0.0, -20.0]),)])
    _, after, _ = fixed_function(code)
    assert after(torch.tensor([100.0])).item() == 100.0


def test_sl109_gradient_through_a_where_guard():
    code = ("import torch\nfrom torch import nn\n\n\nclass Gate(nn.Module):\n    def forward(self, g):\n"
            "        return torch.where(g > 20.0, g, torch.log(1.0 + torch.exp(g)))\n\n\n"
            "def f(g):\n    return Gate()(g)\n")
    before, after, _ = fixed_function(code)
    g = torch.tensor([100.0, 0.0, -5.0])
    assert torch.allclose(before(g), after(g))  # the where keeps the value finite ...
    assert torch.isnan(gradient(before, g)[0])  # ... not the gradient: 0 * inf
    assert torch.allclose(gradient(after, g), torch.sigmoid(torch.tensor([1e9, 0.0, -5.0])), atol=1e-6)


# -- SL111 / SL502: the unsafe fixes ------------------------------------------------------------


def test_sl111_floor_makes_the_log_finite():
    code = "import torch\n\n\ndef f(a):\n    return torch.log(a.norm(dim=-1))\n"
    before, after, fixed = fixed_function(code, unsafe=True)
    assert fix(code, unsafe=False) == code  # unsafe: not applied by a plain --fix
    a = torch.tensor([[3.0, 4.0], [0.0, 0.0]])
    assert before(a)[1].item() == float("-inf")
    assert torch.isfinite(after(a)).all()
    assert after(a)[1].item() == pytest.approx(-16.118, abs=1e-3)  # log(1e-7)
    assert after(a)[0].item() == pytest.approx(before(a)[0].item())  # above the floor nothing changes
    assert torch.isfinite(gradient(after, a)).all()


def test_sl111_method_floor():
    code = "import torch\n\n\ndef f(x):\n    return x.relu().log()\n"
    before, after, fixed = fixed_function(code, unsafe=True)
    assert "x.relu().clamp(min=1e-7).log()" in fixed
    x = torch.tensor([-1.0, 2.0])
    assert torch.isinf(before(x)[0]) and torch.isfinite(after(x)).all()
    assert torch.isfinite(gradient(after, x)).all()
    assert after(x)[1].item() == pytest.approx(before(x)[1].item())  # log(2) either way


def test_sl502_var_is_accurate_where_the_textbook_formula_cancels():
    code = "import torch\n\n\ndef f(x):\n    return (x ** 2).mean(0) - x.mean(0) ** 2\n"
    before, after, fixed = fixed_function(code, unsafe=True)
    assert "x.var(0, unbiased=False)" in fixed
    assert fix(code, unsafe=False) == code
    for (x,) in ordinary(50, 3):  # float64, mean 0: the two agree
        assert torch.allclose(before(x), after(x), rtol=1e-9)
    generator = torch.Generator().manual_seed(0)
    x = 1e4 + 0.1 * torch.randn(1000, 4, generator=generator)  # float32, mean 1e4, spread 0.1
    truth = x.double().var(0, unbiased=False)
    original, repaired = before(x).double(), after(x).double()
    assert ((original - truth).abs() > truth / 2).any()  # the cancellation lost the variance
    assert (repaired >= 0).all()
    assert torch.allclose(repaired, truth, rtol=1e-3)


def test_sl502_keepdim_is_kept():
    code = ("import torch\n\n\ndef f(x):\n"
            "    return torch.mean(x * x, dim=-1, keepdim=True) - torch.mean(x, dim=-1, keepdim=True) ** 2\n")
    before, after, _ = fixed_function(code, unsafe=True)
    x = torch.randn(3, 7, dtype=torch.float64)
    assert after(x).shape == before(x).shape == (3, 1)
    assert torch.allclose(before(x), after(x), rtol=1e-9)


# -- no fix rather than a wrong one ---------------------------------------------------------------

DECLINED = {
    # torch.softmax takes one dim; the sum over two is no softmax torch can write
    "SL107-two-axes": ("SL107", "import torch\n\n\ndef f(x):\n"
                                "    return torch.exp(x) / torch.exp(x).sum(dim=(1, 2), keepdim=True)\n"),
    # the sum broadcasts against the wrong axis without keepdim: no softmax at all
    "SL107-no-keepdim": ("SL107", "import torch\n\n\ndef f(x):\n"
                                  "    return torch.exp(x) / torch.exp(x).sum(dim=-1)\n"),
    # NumPy without SciPy: no softmax to call, and adding the dependency is the user's call
    "SL107-numpy": ("SL107", "import numpy as np\n\n\ndef f(x):\n"
                             "    return np.exp(x) / np.sum(np.exp(x), axis=1, keepdims=True)\n"),
    # Python floats, no NumPy in the file
    "SL106-math": ("SL106", "import math\n\n\ndef f(a, b):\n    return math.log(math.exp(a) + math.exp(b))\n"),
    "SL108-math": ("SL108", "import math\n\n\ndef f(z):\n    return 1.0 / (1.0 + math.exp(-z))\n"),
    # an additive mask: log(0) = -inf on purpose, a floor of 1e-7 would not mask
    "SL111-mask": ("SL111", "import torch\n\n\ndef f(logits, mask):\n    return logits + torch.log(mask.float())\n"),
    # the rewrite would delete the comment
    "SL103-comment": ("SL103", "import torch\n\n\ndef f(x):\n    return torch.log(1 + x  # shifted\n    )\n"),
    "SL102-comment": ("SL102", "import torch\n\n\ndef f(x):\n    return torch.log(  # gate\n"
                               "        torch.sigmoid(x))\n"),
    # the value passes through something the rewrite would drop
    "SL102-detach": ("SL102", "import torch\n\n\ndef f(x):\n    return torch.log(torch.sigmoid(x).detach())\n"),
    "SL104-in-place": ("SL104", "import torch\n\n\ndef f(x):\n    return x.exp_() - 1\n"),
    "SL105-dtype": ("SL105", "import torch\n\n\ndef f(x):\n"
                             "    return torch.log(torch.sum(torch.exp(x), dim=-1, dtype=torch.float64))\n"),
    "SL502-axes": ("SL502", "import torch\n\n\ndef f(x):\n    return (x ** 2).mean(0) - x.mean(1) ** 2\n"),
}


@pytest.mark.parametrize("case", sorted(DECLINED))
def test_no_fix_where_it_would_be_wrong(case):
    rule, code = DECLINED[case]
    assert rule in [found for found, _ in findings(code)], "the finding itself must stay"
    assert fix(code, unsafe=True) == code


@pytest.mark.parametrize(("line", "fixed_line"), [
    ("return (torch.exp(x) - 1) * 2", "return torch.expm1(x) * 2"),  # grouping parentheses go
    ("return(torch.exp(x) - 1)", "return(torch.expm1(x))"),  # not 'returntorch.expm1(x)'
    ("return g (torch.exp(x) - 1)", "return g (torch.expm1(x))"),  # a call's parentheses stay
    ("return y[(torch.exp(x) - 1) > 0]", "return y[torch.expm1(x) > 0]"),
])
def test_parentheses_around_the_rewritten_expression(line, fixed_line):
    code = f"import torch\n\n\ndef f(x, g=None, y=None):\n    {line}\n"
    assert fix(code, unsafe=False) == code.replace(line, fixed_line)
