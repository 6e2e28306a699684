"""`stablelint confirm`: findings run in a child process on adversarial inputs (CPU torch and NumPy).

The fixtures in fixtures/confirm are real modules: two whose findings go NaN/Inf, one whose
finding cannot, and modules that hang, segfault, exhaust memory or call sys.exit at import.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from stablelint.cli import main

pytest.importorskip("numpy")

CONFIRM = Path(__file__).resolve().parent.parent / "fixtures" / "confirm"
FAST = ("--device", "cpu", "--timeout", "3", "--memory-limit", "2048")


def invoke(*args: str):
    try:
        runner = CliRunner(mix_stderr=False)
    except TypeError:
        runner = CliRunner()
    return runner.invoke(main, ["confirm", *args], catch_exceptions=False)


@pytest.fixture(scope="module")
def folder_run():
    before = {p.name: p.read_bytes() for p in CONFIRM.glob("*.py")}
    result = invoke(*FAST, "--output-format", "json", str(CONFIRM))
    after = {p.name: p.read_bytes() for p in CONFIRM.glob("*.py")}
    return result, json.loads(result.stdout), before == after


def by_file(verdicts: list[dict], name: str) -> dict:
    (found,) = [v for v in verdicts if Path(v["path"]).name == name]
    return found


def test_log_of_softmax_is_confirmed_and_its_fix_verified(folder_run):
    _, verdicts, _ = folder_run
    verdict = by_file(verdicts, "softmax_log.py")
    assert verdict["code"] == "SL101" and verdict["verdict"] == "CONFIRMED"
    assert verdict["function"] == "token_log_probs"
    witness = verdict["witness"]
    assert witness["argument"] == "logits"
    assert witness["regime"].startswith(("scale", "onehot"))
    assert (witness["dtype"], witness["device"], witness["where"], witness["value"]) == (
        "float32", "cpu", "output", "-inf")
    assert verdict["fix"]["status"] == "verified" and verdict["fix"]["summary"] == "fix verified"


def test_numpy_division_by_a_std_is_confirmed(folder_run):
    _, verdicts, _ = folder_run
    verdict = by_file(verdicts, "standardize.py")
    assert verdict["code"] == "SL201" and verdict["verdict"] == "CONFIRMED"
    assert verdict["witness"]["argument"] == "x"
    assert verdict["witness"]["regime"] in ("zeros", "zero_row", "constant_rows")
    assert verdict["witness"]["value"] == "NaN"
    assert verdict["fix"] is None  # SL201's fix is unsafe: not applied, not verified


def test_numpy_overflow_in_an_intermediate_is_confirmed(folder_run):
    _, verdicts, _ = folder_run
    verdict = by_file(verdicts, "numpy_sigmoid.py")
    assert verdict["code"] == "SL108" and verdict["verdict"] == "CONFIRMED"
    assert verdict["witness"]["where"] == "intermediate values (NumPy: overflow encountered in exp)"


def test_labels_all_ignored_make_a_masked_mean_divide_by_zero(folder_run):
    _, verdicts, _ = folder_run
    verdict = by_file(verdicts, "masked_tokens.py")
    assert verdict["code"] == "SL201" and verdict["verdict"] == "CONFIRMED"
    assert (verdict["witness"]["argument"], verdict["witness"]["regime"]) == ("labels", "ignored_labels")


def test_float16_runs_that_raise_are_reported_not_hidden(folder_run):
    _, verdicts, _ = folder_run
    verdict = by_file(verdicts, "half_mask.py")
    assert verdict["code"] == "SL504" and verdict["verdict"] == "NOT REPRODUCED"
    assert "zeros (float16)" in verdict["tried"]
    assert "5 other runs failed (the function raised RuntimeError: value cannot be converted" in verdict["reason"]


def test_auto_device_names_the_device_it_used():
    import torch

    mps = getattr(torch.backends, "mps", None)
    expected = "cuda" if torch.cuda.is_available() else "mps" if mps is not None and mps.is_available() else "cpu"
    result = invoke("--device", "auto", "--output-format", "json", str(CONFIRM / "softmax_log.py"))
    (verdict,) = json.loads(result.stdout)
    assert verdict["device"] == verdict["witness"]["device"] == expected


def test_an_unavailable_device_is_skipped():
    import torch

    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    result = invoke("--device", "cuda", str(CONFIRM / "softmax_log.py"))
    assert result.exit_code == 0
    assert "SL101 SKIPPED: CUDA is not available to torch on this machine" in result.stdout


def test_a_finding_the_regimes_cannot_trigger_is_not_reproduced(folder_run):
    _, verdicts, _ = folder_run
    verdict = by_file(verdicts, "bounded.py")
    assert verdict["verdict"] == "NOT REPRODUCED"
    assert "scale1e4" in verdict["tried"] and "onehot1e4" in verdict["tried"]
    assert "gradients" in verdict["reason"]


@pytest.mark.parametrize("name, kind, reason", [
    ("hangs.py", "SKIPPED", "timed out after 3s"),
    ("segfaults.py", "ERROR", "the module crashed (SIGSEGV)"),
    ("exits.py", "ERROR", "the module called sys.exit(3) at import"),
    ("raises.py", "ERROR", "importing the module raised ValueError: config file missing"),
    ("hogs_memory.py", "ERROR", "the module ran out of memory at import"),
])
def test_modules_that_misbehave_do_not_stop_the_run(folder_run, name, kind, reason):
    _, verdicts, _ = folder_run
    verdict = by_file(verdicts, name)
    assert (verdict["verdict"], verdict["reason"]) == (kind, reason)


def test_methods_run_on_an_instance_built_from_default_arguments(folder_run):
    _, verdicts, _ = folder_run
    methods = {v["function"]: v for v in verdicts if Path(v["path"]).name == "method.py"}
    assert methods["Head.forward"]["verdict"] == "CONFIRMED"
    assert methods["Head.forward"]["fix"]["status"] == "verified"
    # random weights: both builds (original and fixed copy) are seeded alike, so the fix is compared fairly
    assert methods["Projected.forward"]["verdict"] == "CONFIRMED"
    assert methods["Projected.forward"]["fix"]["status"] == "verified"
    assert methods["NeedsWidth.forward"]["verdict"] == "SKIPPED"
    assert methods["NeedsWidth.forward"]["reason"].startswith(
        "class NeedsWidth cannot be built from default constructor arguments (TypeError:")


def test_user_output_is_captured_apart_from_the_result(folder_run):
    _, verdicts, _ = folder_run
    assert "exiting at import" in by_file(verdicts, "exits.py")["output"]


def test_json_shape_and_exit_status(folder_run):
    result, verdicts, unchanged = folder_run
    assert result.exit_code == 1
    assert unchanged  # fix verification works on a temporary copy
    assert len(verdicts) == 14
    keys = {"path", "line", "column", "code", "rule", "message", "verdict", "reason", "function", "device",
            "witness", "tried", "fix", "output"}
    assert all(set(v) == keys for v in verdicts)
    assert [(Path(v["path"]).name, v["line"]) for v in verdicts] == sorted(
        (Path(v["path"]).name, v["line"]) for v in verdicts)


def test_concise_line_and_exit_one_when_confirmed():
    result = invoke(*FAST, str(CONFIRM / "softmax_log.py"))
    assert result.exit_code == 1
    (line,) = result.stdout.splitlines()
    assert line.startswith("fixtures/confirm/softmax_log.py:7:12: SL101 CONFIRMED: -inf in the output with "
                           "logits = large magnitudes")
    assert line.endswith("[fix verified: finite at the witness and equal within 1e-4 on 3 ordinary inputs]")


def test_exit_zero_when_nothing_is_confirmed():
    result = invoke(*FAST, "--select", "SL2", str(CONFIRM / "bounded.py"), str(CONFIRM / "method.py"))
    assert result.exit_code == 0
    assert result.stdout == ""


@pytest.mark.parametrize("args", [("--device", "tpu"), ("--select", "SL999"), ("--timeout", "0")])
def test_usage_errors_exit_two(args):
    result = invoke(*args, str(CONFIRM / "bounded.py"))
    assert result.exit_code == 2


def test_unconfirmable_rules_are_skipped_with_the_reason(tmp_path):
    source = tmp_path / "precision.py"
    source.write_text("import torch\n\n\ndef f(x):\n    return torch.log(1 + x)\n")
    result = invoke(*FAST, str(source))
    assert result.exit_code == 0
    assert "SL103 SKIPPED: SL103 is a precision rule" in result.stdout
