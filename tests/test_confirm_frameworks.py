"""`stablelint confirm` on JAX and TensorFlow code: the same verdicts as for PyTorch.

JAX is in the test extra (CPU jaxlib); TensorFlow is not (over a GB), so its tests run where it is
installed and otherwise check that its findings are SKIPPED with the reason.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from confirming import confirm_json

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "confirm_frameworks"
FAST = ("--device", "cpu", "--timeout", "20", "--memory-limit", "4096")


def by_function(verdicts: list[dict], name: str) -> dict:
    (found,) = [v for v in verdicts if v["function"] == name]
    return found


@pytest.fixture(scope="module")
def jax_run():
    if importlib.util.find_spec("jax") is None:
        pytest.skip("jax is not installed")
    return confirm_json(*FAST, str(FIXTURES / "jax_losses.py"))


def test_jax_log_of_softmax_is_confirmed_and_its_fix_verified(jax_run):
    status, verdicts = jax_run
    assert status == 1
    verdict = by_function(verdicts, "token_log_probs")
    assert (verdict["code"], verdict["verdict"]) == ("SL101", "CONFIRMED")
    witness = verdict["witness"]
    assert (witness["argument"], witness["where"], witness["value"], witness["device"]) == (
        "logits", "output", "-inf", "cpu")
    assert verdict["fix"]["status"] == "verified"


def test_jax_gradient_nan_is_found_with_jax_grad(jax_run):
    _, verdicts = jax_run
    verdict = by_function(verdicts, "pair_distance")
    assert (verdict["code"], verdict["verdict"]) == ("SL202", "CONFIRMED")
    assert verdict["witness"]["where"].startswith("gradient of ")  # the output itself is finite
    assert verdict["witness"]["value"] == "NaN"


def test_jax_finding_that_cannot_fire_is_not_reproduced_after_forward_and_backward(jax_run):
    _, verdicts = jax_run
    verdict = by_function(verdicts, "bounded_scores")
    assert verdict["verdict"] == "NOT REPRODUCED"
    assert "finite outputs, gradients and intermediates (jax.debug_nans) in 8 runs" in verdict["reason"]


def test_jax_function_jax_grad_cannot_trace_is_checked_forward_only(jax_run):
    _, verdicts = jax_run
    verdict = by_function(verdicts, "peak_scores")
    assert verdict["verdict"] == "NOT REPRODUCED", verdict["reason"]
    assert "failed" not in verdict["reason"]  # no run counted as an error


def test_jax_device_is_the_one_asked_for_or_skipped_with_the_reason():
    if importlib.util.find_spec("jax") is None:
        pytest.skip("jax is not installed")
    _, verdicts = confirm_json("--device", "cuda", "--timeout", "20", "--select", "SL101",
                          str(FIXTURES / "jax_losses.py"))
    assert len(verdicts) == 4  # the SL101 findings
    for verdict in verdicts:  # JAX is not imported here: it warns when a process forks after importing it
        if verdict["verdict"] == "SKIPPED":
            assert verdict["reason"] == "CUDA is not available to JAX on this machine"
        else:
            assert verdict["device"] == "cuda"


def test_tensorflow_and_keras_code():
    status, verdicts = confirm_json(*FAST, str(FIXTURES / "tf_losses.py"))
    if importlib.util.find_spec("tensorflow") is None:
        assert status == 0
        assert [v["verdict"] for v in verdicts] == ["SKIPPED", "SKIPPED", "SKIPPED"]
        assert all(v["reason"].startswith("the module imports keras, which is not installed") for v in verdicts)
        return
    assert status == 1
    log_softmax = by_function(verdicts, "token_log_probs")
    assert (log_softmax["verdict"], log_softmax["witness"]["value"]) == ("CONFIRMED", "-inf")
    assert log_softmax["fix"]["status"] == "verified"
    layer = by_function(verdicts, "Standardize.call")  # a Keras layer built from its default arguments
    assert (layer["code"], layer["verdict"], layer["witness"]["value"]) == ("SL201", "CONFIRMED", "NaN")
    pooled = by_function(verdicts, "AttentionPool.call")  # weights made in build(): run as layer(x)
    assert (pooled["code"], pooled["verdict"], pooled["witness"]["at_finding"]) == ("SL107", "CONFIRMED", "NaN")


def test_probabilities_by_name_stay_in_range_and_reach_zero(jax_run):
    _, verdicts = jax_run
    verdict = by_function(verdicts, "entropy")
    assert (verdict["code"], verdict["verdict"]) == ("SL601", "CONFIRMED")
    witness = verdict["witness"]
    # ordinary `probs` lie in [0, 1], so only exact zeros (not negative "probabilities") trigger it
    assert (witness["argument"], witness["regime"], witness["where"], witness["value"]) == (
        "probs", "zeros", "gradient of probs", "NaN")


def test_jax_nan_made_inside_and_hidden_from_the_output_is_confirmed(jax_run):
    _, verdicts = jax_run
    verdict = by_function(verdicts, "guarded_log")
    assert (verdict["code"], verdict["verdict"]) == ("SL601", "CONFIRMED")
    assert verdict["witness"]["where"] == "intermediate values (JAX: invalid value (nan) encountered in log)"


def test_jax_nan_constant_used_as_padding_is_not_a_witness(jax_run):
    _, verdicts = jax_run
    verdict = by_function(verdicts, "padded_log_probs")  # jnp.full(..., jnp.nan): made, not computed
    assert verdict["verdict"] == "NOT REPRODUCED", verdict["reason"]
