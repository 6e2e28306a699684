"""`stablelint confirm` watches the flagged expression itself: a NaN/Inf from elsewhere in the function does not
confirm a finding, and a witness says when the flagged expression was where it went non-finite."""

from __future__ import annotations

from pathlib import Path

import pytest
from confirming import confirm_json

from stablelint.confirm.watch import instrument

pytest.importorskip("torch")

WATCH = Path(__file__).resolve().parent.parent / "fixtures" / "confirm_watch"


@pytest.fixture(scope="module")
def verdicts() -> dict[tuple[str, str], dict]:
    _, found = confirm_json("--device", "cpu", "--timeout", "20", str(WATCH))
    return {(v["function"], v["code"]): v for v in found}


def test_an_overflow_elsewhere_in_the_function_does_not_confirm_the_finding(verdicts):
    verdict = verdicts[("bounded_plus_overflow", "SL101")]
    assert verdict["verdict"] == "NOT REPRODUCED"
    assert verdict["reason"].startswith("the flagged expression stayed finite in 16 runs on cpu")
    assert verdict["reason"].endswith("; the function's inf in the output with every array argument at ordinary "
                                      "values (standard normal), float32 on cpu comes from elsewhere in it")


def test_each_finding_of_a_function_gets_its_own_witness(verdicts):
    log_softmax = verdicts[("two_real_bugs", "SL101")]
    division = verdicts[("two_real_bugs", "SL201")]
    assert (log_softmax["verdict"], division["verdict"]) == ("CONFIRMED", "CONFIRMED")
    assert (log_softmax["witness"]["argument"], log_softmax["witness"]["at_finding"]) == ("logits", "-inf")
    assert (division["witness"]["argument"], division["witness"]["at_finding"]) == ("x", "NaN")
    assert division["reason"] == "NaN at the flagged expression and in the output with x = exact zeros, float32 on cpu"


@pytest.mark.parametrize("text, start, end, expected", [
    ("y = a / b.std()\n", (1, 5), (1, 16), "y = __stablelint_seen__(a / b.std())\n"),
    ("y = f(\n    a,\n    b)\n", (1, 5), (3, 7), "y = __stablelint_seen__(f(\n    a,\n    b))\n"),
    ("def f(a):\n    a /= a.sum()\n", (2, 5), (2, 17),   # an in-place update: its new value is watched
     "def f(a):\n    a /= a.sum(); __stablelint_seen__(a)\n"),
    ("opt(eps=1e-8)\n", (1, 5), (1, 13), None),   # a keyword argument is not an expression
    ("x = 1\n", (1, 1), (1, 6), None),            # nor is a statement
])
def test_only_a_whole_expression_is_wrapped(text, start, end, expected):
    assert instrument(text, start, end) == expected
