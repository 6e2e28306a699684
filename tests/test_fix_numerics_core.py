"""Safe fixes keep the numbers and remove the inf/NaN: SL101 (log of softmax) and SL503 (NaN comparison)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from fixing import assert_numerically_safe, fix, function_of  # noqa: E402


def test_sl101_log_softmax():
    code = "import torch\nimport torch.nn.functional as F\n\n\ndef f(x):\n    return torch.log(F.softmax(x, dim=-1))\n"
    ordinary = [(torch.randn(4, 5, dtype=torch.float64),), (torch.tensor([[0.1, 2.0, -3.0]]),)]
    extreme = [(torch.tensor([[0.0, 200.0, -300.0]]),)]
    assert_numerically_safe(code, ordinary, extreme)


def test_sl101_method_chain():
    code = "import torch\n\n\ndef f(x):\n    return (x / 2).softmax(dim=1).log()\n"
    assert_numerically_safe(code, [(torch.randn(3, 7),)], [(torch.tensor([[1000.0, -1000.0]]),)])


def test_sl503_isnan_finds_the_nan_the_comparison_missed():
    code = "import torch\n\n\ndef f(x):\n    return x == torch.nan, x != torch.nan\n"
    fixed = fix(code, unsafe=False)
    values = torch.tensor([1.0, float("nan")])
    before, after = function_of(code)(values), function_of(fixed)(values)
    assert before[0].tolist() == [False, False]  # the bug: NaN never equals NaN
    assert after[0].tolist() == [False, True] and after[1].tolist() == [True, False]


def test_sl101_through_a_variable_read_only_by_the_log():
    code = ("import torch\nimport torch.nn.functional as F\n\n\ndef f(x):\n"
            "    probs = F.softmax(x / 2.0, dim=-1)\n    return torch.log(probs)\n")
    assert "probs" not in fix(code, unsafe=False)  # inlined, the assignment gone
    assert_numerically_safe(code, [(torch.randn(4, 5),)], [(torch.tensor([[0.0, 400.0, -400.0]]),)])


def test_sl101_variable_used_elsewhere_is_left_alone():
    code = ("import torch\nimport torch.nn.functional as F\n\n\ndef f(x):\n"
            "    probs = F.softmax(x, dim=-1)\n    return torch.log(probs), probs.argmax(-1)\n")
    assert fix(code) == code


def test_sl101_softmax_of_a_call_is_not_moved():
    code = ("import torch\nimport torch.nn.functional as F\n\n\ndef f(model, x):\n"
            "    probs = F.softmax(model(x), dim=-1)\n    y = model(x)\n    return torch.log(probs) + y\n")
    assert fix(code) == code
