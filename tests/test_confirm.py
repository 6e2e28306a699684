"""`stablelint confirm`: findings run in a child process on adversarial inputs (CPU torch and NumPy).

The fixtures in fixtures/confirm are real modules: two whose findings go NaN/Inf, one whose
finding cannot, and modules that hang, segfault, exhaust memory or call sys.exit at import.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from confirming import confirm

pytest.importorskip("numpy")

CONFIRM = Path(__file__).resolve().parent.parent / "fixtures" / "confirm"
FAST = ("--device", "cpu", "--timeout", "10", "--memory-limit", "2048")  # generous: CI machines are loaded


@pytest.fixture(scope="module")
def folder_run():
    before = {p.name: p.read_bytes() for p in CONFIRM.glob("*.py")}
    result = confirm(*FAST, "--output-format", "json", str(CONFIRM))
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


def test_float16_overflow_torch_refuses_is_the_witness(folder_run):
    _, verdicts, _ = folder_run
    verdict = by_file(verdicts, "half_mask.py")
    assert verdict["code"] == "SL504" and verdict["verdict"] == "CONFIRMED"
    assert (verdict["witness"]["dtype"], verdict["witness"]["where"]) == ("float16", "call")
    assert verdict["reason"].startswith("an overflow error (RuntimeError: value cannot be converted to type")


def test_auto_device_names_the_device_it_used():
    import torch

    mps = getattr(torch.backends, "mps", None)
    expected = "cuda" if torch.cuda.is_available() else "mps" if mps is not None and mps.is_available() else "cpu"
    result = confirm("--device", "auto", "--output-format", "json", str(CONFIRM / "softmax_log.py"))
    (verdict,) = json.loads(result.stdout)
    assert verdict["device"] == verdict["witness"]["device"] == expected


def test_an_unavailable_device_is_skipped():
    import torch

    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    result = confirm("--device", "cuda", str(CONFIRM / "softmax_log.py"))
    assert result.exit_code == 0
    assert "SL101 SKIPPED: CUDA is not available to torch on this machine" in result.stdout


def test_a_finding_the_regimes_cannot_trigger_is_not_reproduced(folder_run):
    _, verdicts, _ = folder_run
    verdict = by_file(verdicts, "bounded.py")
    assert verdict["verdict"] == "NOT REPRODUCED"
    assert "scale1e4" in verdict["tried"] and "onehot1e4" in verdict["tried"]
    assert "gradients" in verdict["reason"]


@pytest.mark.parametrize("name, kind, reason", [
    ("hangs.py", "SKIPPED", "timed out after 10s"),
    ("segfaults.py", "ERROR", "the module crashed (SIGSEGV)"),
    ("exits.py", "ERROR", "the module called sys.exit(3) at import"),
    ("raises.py", "ERROR", "importing the module raised ValueError: config file missing"),
    ("hogs_memory.py", "ERROR", "the module ran out of memory at import"),
    ("missing_dependency.py", "SKIPPED",
     "the module needs stablelint_fixture_absent_package, which the Python running stablelint cannot import"),
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
    # a required `width: int` is filled (with the synthesised arrays' width) when no entry says how to build it
    assert methods["NeedsWidth.forward"]["verdict"] == "CONFIRMED"
    assert methods["NeedsWidth.forward"]["fix"]["status"] == "verified"


def test_user_output_is_captured_apart_from_the_result(folder_run):
    _, verdicts, _ = folder_run
    assert "exiting at import" in by_file(verdicts, "exits.py")["output"]


def test_json_shape_and_exit_status(folder_run):
    result, verdicts, unchanged = folder_run
    assert result.exit_code == 1
    assert unchanged  # fix verification works on a temporary copy
    assert len(verdicts) == 22
    keys = {"path", "line", "column", "code", "rule", "message", "verdict", "reason", "function", "device",
            "witness", "tried", "fix", "output", "cell"}  # cell: null outside notebooks
    assert all(set(v) == keys for v in verdicts)
    assert [(Path(v["path"]).name, v["line"]) for v in verdicts] == sorted(
        (Path(v["path"]).name, v["line"]) for v in verdicts)


def test_concise_line_and_exit_one_when_confirmed():
    result = confirm(*FAST, str(CONFIRM / "softmax_log.py"))
    assert result.exit_code == 1
    (line,) = result.stdout.splitlines()
    assert line.startswith("fixtures/confirm/softmax_log.py:7:12: SL101 CONFIRMED: -inf at the flagged expression and "
                           "in the output with logits = large magnitudes")
    assert line.endswith("[fix verified: finite at the witness and equal within 1e-4 on 3 ordinary inputs]")


def test_exit_zero_when_nothing_is_confirmed():
    result = confirm(*FAST, "--select", "SL2", str(CONFIRM / "bounded.py"), str(CONFIRM / "method.py"))
    assert result.exit_code == 0
    assert result.stdout == ""


@pytest.mark.parametrize("args", [("--device", "tpu"), ("--select", "SL999"), ("--timeout", "0")])
def test_usage_errors_exit_two(args):
    result = confirm(*args, str(CONFIRM / "bounded.py"))
    assert result.exit_code == 2


def test_unconfirmable_rules_are_skipped_with_the_reason(tmp_path):
    source = tmp_path / "precision.py"
    source.write_text("import torch\n\n\ndef f(x):\n    return torch.log(1 + x)\n")
    result = confirm(*FAST, str(source))
    assert result.exit_code == 0
    assert "SL103 SKIPPED: SL103 is a precision rule" in result.stdout


# -- shape rules: (N, 1) against (N,) with N = 6 unlike every other size ---------------------------


def test_shape_rules_are_confirmed_with_the_shapes_that_went_in(folder_run):
    _, verdicts, _ = folder_run
    found = {(v["function"], v["code"]): v for v in verdicts if Path(v["path"]).name == "shapes.py"}
    assert {key: v["verdict"] for key, v in found.items()} == {
        ("squared_errors", "SL401"): "CONFIRMED", ("mse_column", "SL403"): "CONFIRMED",
        ("centered", "SL402"): "CONFIRMED", ("dice_loss", "SL310"): "CONFIRMED",
        ("np_residuals", "SL401"): "CONFIRMED", ("np_mse", "SL401"): "CONFIRMED"}
    torch_output = found[("squared_errors", "SL401")]
    assert torch_output["witness"]["shapes"] == {"pred": [6, 1], "target": [6]}
    assert torch_output["reason"] == ("an output of shape (6, 6) where (6,) or (6, 1) was expected with pred of "
                                      "shape (6, 1), target of shape (6,), float32 on cpu")
    assert found[("np_residuals", "SL401")]["witness"]["value"].startswith("an output of shape (6, 6)")
    # NumPy arrays are watched too (an ndarray subclass sees every ufunc), so a reduced (N, N) shows
    assert found[("np_mse", "SL401")]["reason"].startswith(
        "intermediate: subtract was given shapes (6, 1) and (6,), which broadcast to (6, 6) with pred of shape (6, 1)")
    loss = found[("mse_column", "SL403")]
    assert loss["witness"]["where"] == "intermediate"  # mse_loss returns a scalar; the watched op shows it
    assert loss["reason"].startswith("intermediate: mse_loss was given shapes (6, 1) and (6,), which broadcast to "
                                     "(6, 6) with pred of shape (6, 1)")
    keepdim = found[("centered", "SL402")]
    assert keepdim["witness"]["shapes"] == {"x": [6, 5]}
    assert "must match the size of tensor" in keepdim["reason"]
    dice = found[("dice_loss", "SL310")]
    assert "a loss of shape (6,), not a scalar (.backward() raises: grad can be implicitly created only for " \
           "scalar outputs)" in dice["reason"]
    assert dice["fix"] is None  # the shape rules' fixes are unsafe: not applied


@pytest.mark.parametrize("function, code", [
    ("squared_errors_fixed", "SL401"), ("mse_column_fixed", "SL403"), ("centered_fixed", "SL402"),
    ("dice_loss_fixed", "SL310")])
def test_fixed_shapes_are_not_reproduced(function, code):
    from stablelint.confirm import regimes
    from stablelint.confirm.sandbox import run_probe

    request = {"mode": "shapes", "path": str(CONFIRM / "shapes.py"), "function": function, "framework": "torch",
               "device": "cpu", "regimes": list(regimes.shape_family(code)), "code": code}
    outcome = run_probe(request, 20, 2048)
    assert outcome.status == "not-reproduced", outcome.data
    assert outcome.data["runs"] >= 1  # dice_loss_fixed only fits the (N, C, H, W) shapes


# -- [tool.stablelint.confirm]: shapes, dtypes, ranges or a factory for one function ---------------


def test_without_configuration_other_synthesised_shapes_are_tried(folder_run):
    _, verdicts, _ = folder_run
    verdict = by_file(verdicts, "projected.py")  # (4, 5) @ (4, 5) fails; batched (4, 5, 5) @ (4, 5, 5) runs
    assert verdict["verdict"] == "CONFIRMED"
    assert verdict["witness"]["inputs"] == "arrays of shape (4, 5, 5)"
    assert verdict["fix"]["status"] == "verified"  # the fixed copy is replayed on the same shapes


def configured(tmp_path: Path, table: str) -> Path:
    (tmp_path / "projected.py").write_bytes((CONFIRM / "projected.py").read_bytes())
    (tmp_path / "pyproject.toml").write_text(f"[tool.stablelint]\nselect = [\"SL101\"]\n\n{table}")
    return tmp_path / "projected.py"


@pytest.mark.parametrize("table", [
    ('[tool.stablelint.confirm."projected.py:projected_log_probs"]\n'
     'shapes = {features = [8, 3], weights = [3, 10]}\ndtypes = {features = "float64", weights = "float64"}\n'),
    ('[tool.stablelint.confirm.projected_log_probs]\nshapes = {features = [8, 3], weights = [3, 10]}\n'
     'ranges = {weights = [-1.0, 1.0]}\n'),
])
def test_configured_shapes_make_the_function_runnable(tmp_path, table):
    path = configured(tmp_path, table)
    result = confirm(*FAST, "--output-format", "json", str(path))
    (verdict,) = json.loads(result.stdout)
    assert verdict["verdict"] == "CONFIRMED", verdict["reason"]
    assert verdict["witness"]["argument"] == "features" and verdict["witness"]["value"] == "-inf"
    assert verdict["witness"]["dtype"] == ("float64" if "dtypes" in table else "float32")
    assert verdict["fix"]["status"] == "verified"  # the fixed copy is run on the same configured inputs
    assert result.exit_code == 1


def test_a_factory_gives_the_example_arguments(tmp_path):
    path = configured(tmp_path, '[tool.stablelint.confirm."projected_log_probs"]\nfactory = "examples:inputs"\n')
    (tmp_path / "examples.py").write_text(
        "import torch\n\n\ndef inputs():\n    return torch.randn(7, 2), torch.randn(2, 9)\n")
    result = confirm(*FAST, "--output-format", "json", str(path))
    (verdict,) = json.loads(result.stdout)
    assert verdict["verdict"] == "CONFIRMED", verdict["reason"]
    (tmp_path / "examples.py").write_text("def inputs():\n    raise OSError('no data here')\n")
    (verdict,) = json.loads(confirm(*FAST, "--output-format", "json", str(path)).stdout)
    assert (verdict["verdict"], verdict["reason"]) == (
        "ERROR", "the confirm factory examples:inputs failed: OSError: no data here")


@pytest.mark.parametrize("table, message", [
    ('[tool.stablelint.confirm.f]\nshape = {x = [2]}\n', "unknown key 'tool.stablelint.confirm.f.shape'"),
    ('[tool.stablelint.confirm.f]\nshapes = {x = [2, "a"]}\n',
     "'tool.stablelint.confirm.f.shapes.x' must be a list of positive integers"),
    ('[tool.stablelint.confirm.f]\nranges = {x = [1, 0]}\n',
     "'tool.stablelint.confirm.f.ranges.x' must be [lo, hi] with lo <= hi"),
    ('[tool.stablelint.confirm.f]\ndtypes = {x = "float8"}\n', "'tool.stablelint.confirm.f.dtypes.x' must be one of"),
    ('[tool.stablelint.confirm.f]\nfactory = "examples"\n',
     "'tool.stablelint.confirm.f.factory' must be \"module:function\""),
    ('[tool.stablelint]\nconfirm = ["f"]\n', "'tool.stablelint.confirm' must map function names"),
])
def test_a_bad_confirm_entry_is_a_configuration_error(tmp_path, table, message):
    (tmp_path / "projected.py").write_bytes((CONFIRM / "projected.py").read_bytes())
    text = table if table.startswith("[tool.stablelint]") else f"[tool.stablelint]\n{table}"
    (tmp_path / "pyproject.toml").write_text(text)
    result = confirm(*FAST, str(tmp_path / "projected.py"))
    assert result.exit_code == 2
    assert message in result.stderr


def test_configuring_an_argument_the_function_does_not_take_is_an_error(tmp_path):
    path = configured(tmp_path, '[tool.stablelint.confirm.projected_log_probs]\nshapes = {logits = [8, 3]}\n')
    (verdict,) = json.loads(confirm(*FAST, "--output-format", "json", str(path)).stdout)
    assert verdict["verdict"] == "ERROR"
    assert verdict["reason"] == ("[tool.stablelint.confirm]: the configuration names an argument 'logits' that "
                                 "projected_log_probs() does not take")


def test_parallel_probes_give_the_same_verdicts_in_the_same_order():
    files = [str(CONFIRM / name) for name in ("method.py", "softmax_log.py", "standardize.py", "exits.py")]
    serial, parallel = (confirm(*FAST, "--jobs", jobs, "--output-format", "json", *files) for jobs in ("1", "3"))
    assert serial.exit_code == parallel.exit_code == 1

    def stable(result):  # what the user's code printed may interleave differently; the verdicts may not
        return [{k: v for k, v in verdict.items() if k != "output"} for verdict in json.loads(result.stdout)]
    assert stable(serial) == stable(parallel)
    assert len(stable(serial)) == 6


def test_shape_rule_fixes_are_verified_at_the_witness_shapes_with_unsafe_fixes():
    result = confirm(*FAST, "--unsafe-fixes", "--output-format", "json", str(CONFIRM / "shapes.py"))
    fixes = {(v["line"], v["code"]): v["fix"] for v in json.loads(result.stdout)}
    for (line, code), fix in fixes.items():
        if code == "SL403":
            assert fix is None  # SL403 has no fix
            continue
        assert (fix["status"], fix["summary"]) == ("verified", "unsafe fix verified"), (line, fix)
        assert fix["detail"] == f"no {code} symptom at the witness shapes (checked there only)"
    assert {code for _, code in fixes} == {"SL401", "SL402", "SL403", "SL310"}


def test_a_module_inside_a_package_is_imported_as_part_of_it():
    # heads.py imports `.settings`: imported by its file alone, it would fail; the fixed copy, in a temporary
    # folder, is imported into the same package; and its sibling logging.py must not shadow the standard library's
    result = confirm(*FAST, "--output-format", "json", str(CONFIRM.parent / "confirm_package" / "scoring" / "heads.py"))
    (verdict,) = json.loads(result.stdout)
    assert verdict["verdict"] == "CONFIRMED", verdict["reason"]
    assert verdict["fix"]["status"] == "verified", verdict["fix"]["detail"]
