"""`stablelint confirm` finds inputs a function accepts: when the default (4, 5) float arrays with class-index
targets make it raise, it tries targets as float arrays and (N,), (N, T, F), (N, C, H, W) arrays, keeps the first
that runs, and says so in the witness; float16 rules count torch's refusal to store a value as the overflow."""

from __future__ import annotations

from pathlib import Path

import pytest
from confirming import confirm_json

pytest.importorskip("torch")

PLANS = Path(__file__).resolve().parent.parent / "fixtures" / "confirm_plans"
FAST = ("--device", "cpu", "--timeout", "20")


@pytest.fixture(scope="module")
def verdicts() -> dict[str, dict]:
    status, found = confirm_json(*FAST, str(PLANS))
    assert status == 1
    return {Path(v["path"]).stem: v for v in found}


def test_a_regression_target_is_tried_as_a_float_array(verdicts):
    verdict = verdicts["gaze"]
    assert (verdict["code"], verdict["verdict"]) == ("SL203", "CONFIRMED"), verdict["reason"]
    assert verdict["witness"]["inputs"] == "target as float arrays"
    assert "(target as float arrays)" in verdict["reason"]


def test_four_dimensional_masks_and_both_arguments_at_zero(verdicts):
    verdict = verdicts["dice"]
    assert (verdict["code"], verdict["verdict"]) == ("SL501", "CONFIRMED"), verdict["reason"]
    witness = verdict["witness"]
    assert witness["inputs"] == "target as float arrays; arrays of shape (4, 3, 5, 5)"
    # 0 / (0 + 1e-8) in float16 is 0 / 0: only every argument at zero shows it
    assert (witness["argument"], witness["regime"], witness["dtype"], witness["value"]) == (
        "all", "zeros", "float16", "NaN")


def test_sequence_inputs_with_a_two_dimensional_padding_mask(verdicts):
    verdict = verdicts["attention"]
    assert (verdict["code"], verdict["verdict"]) == ("SL504", "CONFIRMED"), verdict["reason"]
    assert verdict["witness"]["inputs"] == "arrays of shape (4, 5, 5)"
    assert verdict["witness"]["where"] == "call"
    assert verdict["reason"].startswith("an overflow error (RuntimeError: value cannot be converted to type")


def test_a_model_method_runs_with_its_weights_in_the_probed_dtype(verdicts):
    verdict = verdicts["scorer"]  # without .half() on the model, float16 inputs would fail in its Linear
    assert (verdict["code"], verdict["verdict"]) == ("SL504", "CONFIRMED"), verdict["reason"]
    assert (verdict["witness"]["dtype"], verdict["witness"]["inputs"]) == ("float16", "")


def test_a_function_no_synthesised_shape_fits_is_skipped_with_the_error(verdicts):
    verdict = verdicts["pixels"]
    assert verdict["verdict"] == "SKIPPED"
    assert verdict["reason"] == ("the function raised RuntimeError: shape '[-1, 784]' is invalid for input of size 20 "
                                 "on every synthesised input; give its shapes or a factory in "
                                 '[tool.stablelint.confirm."pixels.py:pixel_log_probs"]')


def test_a_training_step_is_skipped_naming_the_objects_it_takes(verdicts):
    verdict = verdicts["train_step"]
    assert verdict["verdict"] == "SKIPPED"
    # `net` by its annotation (a class of the module), `opt_main` by its name; x and labels are arrays
    assert verdict["reason"].endswith("on every synthesised input; net, opt_main hold objects no synthesised array "
                                      'can stand for: give a factory in [tool.stablelint.confirm."train_step.py:'
                                      'train_step"]')


@pytest.fixture(scope="module")
def unsafe() -> dict[str, dict]:
    _, found = confirm_json(*FAST, "--unsafe-fixes", str(PLANS / "dice.py"), str(PLANS / "scorer.py"),
                            str(PLANS / "attention.py"))
    return {Path(v["path"]).stem: v for v in found}


def test_unsafe_fixes_are_verified_only_when_asked(verdicts, unsafe):
    assert all(v["fix"] is None for v in verdicts.values())  # SL203/SL501/SL504 fixes are unsafe
    dice = unsafe["dice"]["fix"]
    # 1e-4 in place of 1e-8: the forward and the gradient of 0 / (0 + eps) stay finite in float16
    assert (dice["status"], dice["summary"]) == ("verified", "unsafe fix verified"), dice["detail"]


def test_a_model_is_compared_on_ordinary_inputs_before_the_float16_witness_touches_its_weights(unsafe):
    fix = unsafe["scorer"]["fix"]
    assert fix["status"] == "verified", fix["detail"]
    assert fix["detail"] == "finite at the witness and equal within 1e-4 on 3 ordinary inputs"


def test_an_original_that_never_runs_is_verified_at_the_witness_alone(unsafe):
    fix = unsafe["attention"]["fix"]
    assert fix["status"] == "verified", fix["detail"]
    assert "nothing to compare" in fix["detail"]
