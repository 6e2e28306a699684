"""In the probe's child process: sweep the NaN/Inf regimes over the flagged function, and replay a witness
on the fixed copy (``verify``)."""

from __future__ import annotations

import math
from typing import Callable

from . import inputs, watch
from .backends import Backend, make
from .loading import (
    SEEN,
    exception_line,
    function_of,
    import_module,
    original_and_fixed,
    parameters_of,
)

ORDINARY_SEEDS = (0, 1, 2)


def run_once(backend: Backend, function: Callable, parameters, regime: str, target: str, dtype: str,
             seed: int = 0) -> tuple[str | None, str | None, str | None]:
    """(where, value, error): where the NaN/Inf appeared ('output', 'gradient of x') or None."""
    raw = inputs.raw_arguments(parameters, regime, target, seed)
    arguments, leaves = backend.build(raw, dtype)
    SEEN.reset()
    try:
        output = backend.call(function, arguments, leaves)
    except SystemExit as exc:
        return None, None, f"the function called sys.exit({exc.code!r})"
    except Exception as exc:  # noqa: BLE001
        return None, None, f"the function raised {exception_line(exc)}"
    found = backend.non_finite(output)
    if found:
        return "output", found, None
    try:
        grads = backend.gradients(output, leaves)
    except Exception as exc:  # noqa: BLE001
        return None, None, f"the backward pass raised {exception_line(exc)}"
    for name, grad in grads.items():
        found = backend.non_finite(grad)
        if found:
            return f"gradient of {name}", found, None
    if backend.floating_events:  # an intermediate overflowed or went NaN though output and gradients are finite
        event = backend.floating_events[0]
        return f"intermediate values ({event})", "NaN" if "invalid value" in event else "inf", None
    return None, None, None


HALF_DTYPES = ("float16", "bfloat16")
OVERFLOW_ERROR = "without overflow"  # torch: "value cannot be converted to type at::Half without overflow"


def sweep(request: dict) -> dict:
    module = import_module(request["path"], "stablelint_confirm_target", request.get("span"))
    function = function_of(module, request["function"], request.get("instance"))
    backend = make(request["framework"], request["device"])
    SEEN.backend = backend if watch.NAME in module.__dict__ else None
    elsewhere = None  # the first non-finite output that did not come through the flagged expression
    plans = _plans(backend, function, parameters_of(function, request), request["dtypes"][0])
    half_rule = any(dtype in HALF_DTYPES for dtype in request["dtypes"])  # SL501/SL504: float16 overflow
    runs = errors = 0
    last_error = None
    tried: list[str] = []
    for index, plan in plans:
        parameters = plan.parameters
        varied = inputs.adversarial(parameters)
        kinds = {p.name: p.kind for p in parameters}
        pairs = sum(kinds[n] == "tensor" for n in varied) >= 2  # arrays that can meet (x == y, 0 / 0)
        for dtype in request["dtypes"]:
            for regime in request["regimes"]:
                if regime == "identical":
                    targets = ["*"] if pairs else []
                elif regime == "ordinary":
                    targets = ["*"] if varied else ["-"]
                else:
                    targets = [n for n in varied if inputs.applies(regime, kinds[n])]
                    if regime == "zeros" and pairs:
                        targets.append("*")  # 0 / 0 needs both sides at zero
                for target in targets:
                    runs += 1
                    where, value, error = run_once(backend, function, parameters, regime, target, dtype)
                    if error and half_rule and OVERFLOW_ERROR in error:  # torch refuses a value float16 cannot hold
                        where, value = "call", f"an overflow error ({error.removeprefix('the function raised ')})"
                        error = None
                    if error:
                        errors += 1
                        last_error = error
                        continue
                    if where:
                        witness = {
                            "argument": "all" if target == "*" else None if target == "-" else target,
                            "regime": regime, "dtype": _dtype_of(parameters, target, dtype), "device": backend.device,
                            "where": where, "value": value, "plan": index, "inputs": plan.description,
                            "at_finding": SEEN.found}
                        if not SEEN.elsewhere(where):
                            return {"status": "confirmed", "device": backend.device, "witness": witness}
                        elsewhere = elsewhere or witness  # not this finding's NaN: keep looking
                label = f"{regime} ({dtype})" if len(request["dtypes"]) > 1 else regime
                if targets and label not in tried:
                    tried.append(label)
    if runs and errors == runs:  # the synthesised arguments do not fit the function: a limit of confirm
        return {"status": "skipped", "reason": f"{last_error} on every synthesised input", "unfit": True,
                "objects": inputs.objects(plans[0][1].parameters)}
    return {"status": "not-reproduced", "device": backend.device, "runs": runs - errors, "tried": tried,
            "arguments": inputs.adversarial(plans[0][1].parameters), "failed_runs": errors, "last_error": last_error,
            "inputs": [plan.description for _, plan in plans if plan.description], "elsewhere": elsewhere}


def _plans(backend: Backend, function: Callable, parameters: list, dtype: str) -> list[tuple[int, inputs.Plan]]:
    """The default plan when the function runs on it; else every other plan it runs on (by ordinary inputs);
    else the default, whose errors then make the verdict."""
    candidates = list(enumerate(inputs.plans(parameters)))
    if len(candidates) == 1:
        return candidates

    def runs(plan: inputs.Plan) -> bool:
        error = run_once(backend, function, plan.parameters, "ordinary", "*", dtype)[2]
        return not error or OVERFLOW_ERROR in error  # it ran, as far as a value float16 cannot hold
    if runs(candidates[0][1]):
        return candidates[:1]
    return [(i, plan) for i, plan in candidates[1:] if runs(plan)] or candidates[:1]


def _dtype_of(parameters, target: str, dtype: str) -> str:
    """The dtype the witness ran in: the run's, or the one configured for the argument the regime varied."""
    return next((p.dtype for p in parameters if p.name == target and p.dtype), dtype)


def verify(request: dict) -> dict:
    original, fixed = original_and_fixed(request)
    backend = make(request["framework"], request["device"])
    witness = request["witness"]
    parameters = inputs.plans(parameters_of(fixed, request))[witness.get("plan") or 0].parameters
    # ordinary inputs first: the witness may move a model's weights to float16 and back
    compared, worst = 0, 0.0
    for seed in ORDINARY_SEEDS:
        outputs = []
        for function in (original, fixed):
            raw = inputs.raw_arguments(parameters, "ordinary", "*", seed)
            arguments, _ = backend.build(raw, "float32")
            try:
                outputs.append(backend.plain(backend.call(function, arguments)))
            except Exception as exc:  # noqa: BLE001
                line = exception_line(exc)
                if function is original and OVERFLOW_ERROR in line:
                    break  # the original cannot run here at all (the float16 overflow): nothing to compare
                which = "the original" if function is original else "the fixed function"
                return {"status": "error", "detail": f"on ordinary inputs, {which} raised {line}"}
        else:
            compared += 1
            before, after = outputs
            if [len(a) for a in before] != [len(a) for a in after]:
                return {"status": "disagrees", "detail": "the fixed function returns outputs of another shape"}
            for a_values, b_values in zip(before, after):
                for a, b in zip(a_values, b_values):
                    if not math.isfinite(a):
                        continue  # where the original already fails, the fix is meant to differ
                    if not math.isclose(a, b, rel_tol=1e-4, abs_tol=1e-5):
                        worst = max(worst, abs(a - b) if math.isfinite(a - b) else math.inf)
    target = {"all": "*", None: "-"}.get(witness["argument"], witness["argument"])
    where, value, error = run_once(backend, fixed, parameters, witness["regime"], target, witness["dtype"])
    if error:
        return {"status": "error", "detail": f"at the witness, {error}"}
    if where:
        return {"status": "not-removed", "detail": f"the fixed function still gives {value} in the {where}"}
    if worst:
        return {"status": "disagrees",
                "detail": f"the fixed function differs on ordinary inputs (by up to {worst:.3g})"}
    if not compared:
        return {"status": "verified", "detail": "finite at the witness (the original raises the overflow on "
                                                "ordinary inputs too, so there is nothing to compare)"}
    return {"status": "verified", "detail": f"finite at the witness and equal within 1e-4 on {compared} "
                                            f"ordinary inputs"}
