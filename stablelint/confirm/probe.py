"""The code that runs in the child process: import the user's module, call the function, look for NaN/Inf.

Started by ``sandbox`` as ``python -m stablelint.confirm.probe RESULT_PATH`` with a JSON request
on stdin; writes one JSON object to RESULT_PATH (never to stdout, which belongs to the user's
code). The module is imported under a name other than ``__main__`` so its
``if __name__ == "__main__":`` block does not run. Modes: ``probe`` sweeps the regimes and
reports the first witness; ``verify`` replays a witness on the fixed copy of the module and
compares it with the original on ordinary inputs.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import math
import sys
import traceback
from pathlib import Path
from typing import Any, Callable

from . import inputs

ORDINARY_SEEDS = (0, 1, 2)


class ImportFailed(Exception):
    pass


def import_module(path: str, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportFailed(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look the module up by name
    try:
        spec.loader.exec_module(module)
    except SystemExit as exc:
        raise ImportFailed(f"the module called sys.exit({exc.code!r}) at import") from None
    except KeyboardInterrupt:
        raise ImportFailed("the module raised KeyboardInterrupt at import") from None
    except MemoryError:
        raise ImportFailed("the module ran out of memory at import") from None
    except BaseException as exc:  # noqa: BLE001 - any failure of user code is a verdict, not a crash
        raise ImportFailed(f"importing the module raised {_exception_line(exc)}") from None
    return module


def _exception_line(exc: BaseException) -> str:
    return traceback.format_exception_only(type(exc), exc)[-1].strip()


class Backend:
    """Arrays and gradients of one framework on one device."""

    def __init__(self, framework: str, device: str):
        self.framework = framework
        if framework == "torch":
            import torch

            self.torch = torch
            self.device = _torch_device(torch, device)
        else:
            import numpy

            self.numpy = numpy
            self.device = "cpu"

    def dtype(self, name: str):
        return getattr(self.torch if self.framework == "torch" else self.numpy, name)

    def build(self, raw: dict[str, tuple[str, Any]], dtype: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """The call's arguments, and the leaves whose gradients are checked (torch only)."""
        arguments: dict[str, Any] = {}
        leaves: dict[str, Any] = {}
        for name, (kind, value) in raw.items():
            if kind == "fixed":
                arguments[name] = value
            elif self.framework == "torch":
                torch = self.torch
                if kind == "labels":
                    arguments[name] = torch.tensor(value, dtype=torch.long, device=self.device)
                else:
                    tensor = torch.tensor(value, dtype=self.dtype(dtype), device=self.device)
                    if kind == "tensor":
                        tensor.requires_grad_(True)
                        leaves[name] = tensor
                    arguments[name] = tensor
            else:
                numpy = self.numpy
                arguments[name] = numpy.array(value, dtype=numpy.int64 if kind == "labels" else self.dtype(dtype))
        return arguments, leaves

    def call(self, function: Callable, arguments: dict[str, Any]):
        """Call ``function``; for NumPy, ``self.floating_events`` collects its overflow/invalid/divide warnings."""
        _seed()
        self.floating_events: list[str] = []
        if self.framework == "numpy":
            import warnings

            with self.numpy.errstate(over="warn", invalid="warn", divide="warn"), \
                    warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", RuntimeWarning)
                result = function(**arguments)
            self.floating_events = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)
                                    and "encountered in" in str(w.message)]
            return result
        return function(**arguments)

    def gradients(self, output: Any, leaves: dict[str, Any]) -> dict[str, Any]:
        if self.framework != "torch" or not leaves:
            return {}
        torch = self.torch
        parts = [t.sum() for t in _arrays(output) if isinstance(t, torch.Tensor) and t.requires_grad]
        if not parts:
            return {}
        total = sum(parts[1:], parts[0])
        grads = torch.autograd.grad(total, list(leaves.values()), allow_unused=True)
        return {name: grad for name, grad in zip(leaves, grads) if grad is not None}

    def non_finite(self, value: Any) -> str | None:
        """'NaN', 'inf' or '-inf' when ``value`` holds one (NaN first), else None."""
        found = None
        for item in _arrays(value):
            kind = self._non_finite_one(item)
            if kind == "NaN":
                return kind
            found = found or kind
        return found

    def _non_finite_one(self, item: Any) -> str | None:
        if isinstance(item, float):
            return None if math.isfinite(item) else "NaN" if math.isnan(item) else ("inf" if item > 0 else "-inf")
        if self.framework == "torch":
            torch = self.torch
            if not isinstance(item, torch.Tensor) or not (item.is_floating_point() or item.is_complex()):
                return None
            item = item.detach()
            if bool(torch.isnan(item).any()):
                return "NaN"
            if bool(torch.isposinf(item).any()):
                return "inf"
            return "-inf" if bool(torch.isneginf(item).any()) else None
        numpy = self.numpy
        array = numpy.asarray(item)
        if array.dtype.kind not in "fc":
            return None
        if numpy.isnan(array).any():
            return "NaN"
        if numpy.isposinf(array).any():
            return "inf"
        return "-inf" if numpy.isneginf(array).any() else None

    def plain(self, value: Any) -> list[list[float]]:
        """Output arrays as float64 NumPy-free lists, for comparing two runs."""
        result = []
        for item in _arrays(value):
            if isinstance(item, float):
                result.append([item])
            elif self.framework == "torch" and isinstance(item, self.torch.Tensor):
                result.append(item.detach().double().cpu().reshape(-1).tolist())
            elif self.framework == "numpy":
                result.append(self.numpy.asarray(item, dtype=float).reshape(-1).tolist())
        return result


def _torch_device(torch, requested: str) -> str:
    if requested == "auto":
        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        return "mps" if mps is not None and mps.is_available() else "cpu"
    if requested == "cuda" and not torch.cuda.is_available():
        raise Unavailable("CUDA is not available to torch on this machine")
    if requested == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise Unavailable("MPS is not available to torch on this machine")
    return requested


class Unavailable(Exception):
    pass


def _arrays(value: Any):
    """The arrays and floats inside an output (tuples, lists, dicts, dataclass-like objects)."""
    if isinstance(value, (list, tuple)):
        for item in value:
            yield from _arrays(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _arrays(item)
    elif isinstance(value, float) or hasattr(value, "shape"):
        yield value


def run_once(backend: Backend, function: Callable, parameters, regime: str, target: str, dtype: str,
             seed: int = 0) -> tuple[str | None, str | None, str | None]:
    """(where, value, error): where the NaN/Inf appeared ('output', 'gradient of x') or None."""
    raw = inputs.raw_arguments(parameters, regime, target, seed)
    arguments, leaves = backend.build(raw, dtype)
    try:
        output = backend.call(function, arguments)
    except SystemExit as exc:
        return None, None, f"the function called sys.exit({exc.code!r})"
    except Exception as exc:  # noqa: BLE001
        return None, None, f"the function raised {_exception_line(exc)}"
    found = backend.non_finite(output)
    if found:
        return "output", found, None
    if backend.floating_events:  # NumPy: an intermediate overflowed though the output came out finite
        event = backend.floating_events[0]
        value = "NaN" if event.startswith("invalid") else "inf"
        return f"intermediate values (NumPy: {event})", value, None
    try:
        grads = backend.gradients(output, leaves)
    except Exception as exc:  # noqa: BLE001
        return None, None, f"the backward pass raised {_exception_line(exc)}"
    for name, grad in grads.items():
        found = backend.non_finite(grad)
        if found:
            return f"gradient of {name}", found, None
    return None, None, None


def sweep(request: dict) -> dict:
    module = import_module(request["path"], "stablelint_confirm_target")
    function = _function(module, request["function"])
    backend = Backend(request["framework"], request["device"])
    parameters = inputs.classify(function)
    varied = inputs.adversarial(parameters)
    kinds = {p.name: p.kind for p in parameters}
    runs = errors = 0
    last_error = None
    tried: list[str] = []
    for dtype in request["dtypes"]:
        for regime in request["regimes"]:
            if regime == "identical":
                targets = ["*"] if sum(kinds[n] == "tensor" for n in varied) >= 2 else []
            elif regime == "ordinary":
                targets = ["*"] if varied else ["-"]
            else:
                targets = [n for n in varied if inputs.applies(regime, kinds[n])]
            for target in targets:
                runs += 1
                where, value, error = run_once(backend, function, parameters, regime, target, dtype)
                if error:
                    errors += 1
                    last_error = error
                    continue
                if where:
                    return {"status": "confirmed", "device": backend.device, "witness": {
                        "argument": "all" if target == "*" else None if target == "-" else target,
                        "regime": regime, "dtype": dtype, "device": backend.device, "where": where,
                        "value": value}}
            if targets:
                tried.append(f"{regime} ({dtype})" if len(request["dtypes"]) > 1 else regime)
    if runs and errors == runs:  # the synthesised arguments do not fit the function: a limit of confirm
        return {"status": "skipped", "reason": f"{last_error} on every synthesised input"}
    return {"status": "not-reproduced", "device": backend.device, "runs": runs - errors, "tried": tried,
            "arguments": varied, "failed_runs": errors, "last_error": last_error}


def verify(request: dict) -> dict:
    original = _function(import_module(request["path"], "stablelint_confirm_original"), request["function"])
    try:
        fixed = _function(import_module(request["fixed_path"], "stablelint_confirm_fixed"), request["function"])
    except ImportFailed as exc:
        return {"status": "error", "detail": f"the fixed copy: {exc}"}
    backend = Backend(request["framework"], request["device"])
    parameters = inputs.classify(fixed)
    witness = request["witness"]
    target = {"all": "*", None: "-"}.get(witness["argument"], witness["argument"])
    where, value, error = run_once(backend, fixed, parameters, witness["regime"], target, witness["dtype"])
    if error:
        return {"status": "error", "detail": f"at the witness, {error}"}
    if where:
        return {"status": "not-removed", "detail": f"the fixed function still gives {value} in the {where}"}
    worst = 0.0
    for seed in ORDINARY_SEEDS:
        outputs = []
        for function in (original, fixed):
            raw = inputs.raw_arguments(parameters, "ordinary", "*", seed)
            arguments, _ = backend.build(raw, "float32")
            try:
                outputs.append(backend.plain(backend.call(function, arguments)))
            except Exception as exc:  # noqa: BLE001
                return {"status": "error", "detail": f"on ordinary inputs, raised {_exception_line(exc)}"}
        before, after = outputs
        if [len(a) for a in before] != [len(a) for a in after]:
            return {"status": "disagrees", "detail": "the fixed function returns outputs of another shape"}
        for a_values, b_values in zip(before, after):
            for a, b in zip(a_values, b_values):
                if not math.isfinite(a):
                    continue  # where the original already fails, the fix is meant to differ
                if not math.isclose(a, b, rel_tol=1e-4, abs_tol=1e-5):
                    worst = max(worst, abs(a - b) if math.isfinite(a - b) else math.inf)
    if worst:
        return {"status": "disagrees",
                "detail": f"the fixed function differs on ordinary inputs (by up to {worst:.3g})"}
    return {"status": "verified", "detail": f"finite at the witness and equal within 1e-4 on {len(ORDINARY_SEEDS)} "
                                            f"ordinary inputs"}


def _function(module, qualname: str) -> Callable:
    """``name`` (a module-level function) or ``Class.method`` (bound to an instance built from the
    class's default constructor arguments, with torch's seed fixed so two builds agree)."""
    owner, _, name = qualname.rpartition(".")
    if not owner:
        function = getattr(module, name, None)
        if not callable(function):
            raise ImportFailed(f"no module-level function {name!r} after import")
        return function
    cls = getattr(module, owner, None)
    if not isinstance(cls, type):
        raise ImportFailed(f"no module-level class {owner!r} after import")
    if isinstance(inspect.getattr_static(cls, name, None), (staticmethod, classmethod)):
        return getattr(cls, name)  # no instance needed
    _seed()
    try:
        instance = cls()
    except Exception as exc:  # noqa: BLE001
        raise Unavailable(f"class {owner} cannot be built from default constructor arguments "
                          f"({_exception_line(exc)})") from None
    function = getattr(instance, name, None)
    if not callable(function):
        raise ImportFailed(f"class {owner} has no method {name!r}")
    return function


def _seed() -> None:
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(0)  # the same weights, dropout masks and random ops in every run


def main(argv: list[str]) -> int:
    result_path = Path(argv[1])
    request = json.loads(sys.stdin.read())
    sys.path.insert(0, str(Path(request["path"]).resolve().parent))  # the module's siblings import
    try:
        result = verify(request) if request["mode"] == "verify" else sweep(request)
    except ImportFailed as exc:
        result = {"status": "error", "reason": str(exc)}
    except Unavailable as exc:
        result = {"status": "skipped", "reason": str(exc)}
    except MemoryError:
        result = {"status": "error", "reason": "the probe ran out of memory"}
    result_path.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
