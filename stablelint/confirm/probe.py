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

from . import inputs, regimes

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

    def build(self, raw: dict[str, tuple], dtype: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """The call's arguments, and the leaves whose gradients are checked (torch only)."""
        arguments: dict[str, Any] = {}
        leaves: dict[str, Any] = {}
        for name, entry in raw.items():
            kind, value = entry[0], entry[1]
            own = entry[2] if len(entry) > 2 else None  # a configured dtype for this argument
            if kind == "fixed":
                arguments[name] = value
            elif self.framework == "torch":
                torch = self.torch
                if kind == "labels":
                    arguments[name] = torch.tensor(value, dtype=self.dtype(own or "int64"), device=self.device)
                else:
                    tensor = torch.tensor(value, dtype=self.dtype(own or dtype), device=self.device)
                    if kind == "tensor" and tensor.is_floating_point():
                        tensor.requires_grad_(True)
                        leaves[name] = tensor
                    arguments[name] = tensor
            else:
                numpy = self.numpy
                arguments[name] = numpy.array(value, dtype=self.dtype(own or ("int64" if kind == "labels" else dtype)))
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
    parameters = _parameters(function, request)
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
                        "regime": regime, "dtype": _dtype_of(parameters, target, dtype), "device": backend.device,
                        "where": where,
                        "value": value}}
            if targets:
                tried.append(f"{regime} ({dtype})" if len(request["dtypes"]) > 1 else regime)
    if runs and errors == runs:  # the synthesised arguments do not fit the function: a limit of confirm
        return {"status": "skipped", "reason": f"{last_error} on every synthesised input"}
    return {"status": "not-reproduced", "device": backend.device, "runs": runs - errors, "tried": tried,
            "arguments": varied, "failed_runs": errors, "last_error": last_error}


BROADCAST_ERRORS = ("must match the size of tensor", "could not be broadcast together", "Incompatible shapes")


def _shape(value: Any) -> tuple[int, ...] | None:
    shape = getattr(value, "shape", None)
    try:
        return tuple(int(d) for d in shape) if shape is not None else None
    except TypeError:
        return None


def _show(shape: tuple[int, ...]) -> str:
    return f"({shape[0]},)" if len(shape) == 1 else f"({', '.join(map(str, shape))})"


def _broadcast_watch(backend: Backend):
    """A torch function mode that records the first op given both an (N, 1) and an (N,) tensor."""
    from torch.overrides import TorchFunctionMode

    torch = backend.torch
    column, flat = (regimes.SHAPE_N, 1), (regimes.SHAPE_N,)

    class Watch(TorchFunctionMode):
        found: str | None = None

        def __torch_function__(self, func, types, args=(), kwargs=None):
            result = func(*args, **(kwargs or {}))
            if self.found is None:
                shapes = [tuple(a.shape) for a in (*args, *(kwargs or {}).values()) if isinstance(a, torch.Tensor)]
                if column in shapes and flat in shapes:
                    name = (getattr(func, "__name__", None) or repr(func)).strip("_")
                    n = regimes.SHAPE_N
                    self.found = f"{name} was given shapes {_show(column)} and {_show(flat)}, which broadcast to " \
                                 f"{_show((n, n))}"
            return result
    return Watch()


def shape_once(backend: Backend, function: Callable, parameters, regime: str, code: str, dtype: str):
    """(where, what, shapes, error) for one run of a shape regime; ``where`` None when nothing showed."""
    arrays = [p for p in parameters if p.kind != "fixed"]
    shapes = {p.name: regimes.shape_of(regime, i) for i, p in enumerate(arrays)}
    raw = {p.name: ("fixed", p.value) if p.kind == "fixed" else
           ("tensor", regimes.shaped_values(shapes[p.name], f"{regime}:{p.name}")) for p in parameters}
    arguments, _ = backend.build(raw, dtype)
    watch = _broadcast_watch(backend) if backend.framework == "torch" and code in ("SL401", "SL403") else None
    try:
        if watch is not None:
            with watch:
                output = backend.call(function, arguments)
        else:
            output = backend.call(function, arguments)
    except SystemExit as exc:
        return None, None, shapes, f"the function called sys.exit({exc.code!r})"
    except Exception as exc:  # noqa: BLE001
        line = _exception_line(exc)
        if code == "SL402" and any(marker in line for marker in BROADCAST_ERRORS):
            return "call", f"a broadcast error where square inputs run ({line})", shapes, None
        return None, None, shapes, f"the function raised {line}"
    first = next(iter(_arrays(output)), None)
    out = _shape(first)
    n = regimes.SHAPE_N
    if code == "SL310":
        if out:  # not a scalar
            what = f"a loss of shape {_show(out)}, not a scalar"
            if backend.framework == "torch" and first is not None and getattr(first, "requires_grad", False):
                try:
                    first.backward()
                except RuntimeError as exc:
                    what += f" (.backward() raises: {str(exc).splitlines()[0]})"
            return "output", what, shapes, None
        return None, None, shapes, None
    if code in ("SL401", "SL403") and out is not None and out[-2:] == (n, n):
        return "output", f"an output of shape {_show(out)} where {_show((n,))} or {_show((n, 1))} was expected", \
            shapes, None
    if watch is not None and watch.found:
        return "intermediate", watch.found, shapes, None
    return None, None, shapes, None


def sweep_shapes(request: dict) -> dict:
    module = import_module(request["path"], "stablelint_confirm_target")
    function = _function(module, request["function"])
    backend = Backend(request["framework"], request["device"])
    parameters = inputs.classify(function)
    code = request["code"]
    runs = errors = 0
    last_error = None
    tried: list[str] = []
    succeeded = False
    seen: set[tuple] = set()
    pending = None  # SL402: a broadcast error counts once the function has run on another shape
    count = sum(p.kind != "fixed" for p in parameters)
    for regime in request["regimes"]:
        key = tuple(regimes.shape_of(regime, i) for i in range(count))
        if key in seen:  # no array arguments: every regime is the same run
            continue
        seen.add(key)
        where, what, shapes, error = shape_once(backend, function, parameters, regime, code, "float32")
        runs += 1
        tried.append(regime)
        if error:
            errors += 1
            last_error = error
            continue
        if where == "call":
            pending = pending or (regime, what, shapes)
            continue
        succeeded = True
        if where:
            return _shape_witness(backend, regime, where, what, shapes)
    if pending and succeeded:
        regime, what, shapes = pending
        return _shape_witness(backend, regime, "call", what, shapes)
    if runs and not succeeded:
        reason = last_error or (pending[1] if pending else "nothing ran")
        return {"status": "skipped", "reason": f"{reason} on every synthesised shape"}
    return {"status": "not-reproduced", "device": backend.device, "runs": runs - errors, "tried": tried,
            "arguments": [p.name for p in parameters if p.kind != "fixed"], "failed_runs": errors,
            "last_error": last_error}


def _shape_witness(backend: Backend, regime: str, where: str, what: str, shapes: dict) -> dict:
    return {"status": "confirmed", "device": backend.device, "witness": {
        "argument": "all", "regime": regime, "dtype": "float32", "device": backend.device, "where": where,
        "value": what, "shapes": {name: list(shape) for name, shape in shapes.items()}}}


def _dtype_of(parameters, target: str, dtype: str) -> str:
    """The dtype the witness ran in: the run's, or the one configured for the argument the regime varied."""
    return next((p.dtype for p in parameters if p.name == target and p.dtype), dtype)


def verify(request: dict) -> dict:
    original = _function(import_module(request["path"], "stablelint_confirm_original"), request["function"])
    try:
        fixed = _function(import_module(request["fixed_path"], "stablelint_confirm_fixed"), request["function"])
    except ImportFailed as exc:
        return {"status": "error", "detail": f"the fixed copy: {exc}"}
    backend = Backend(request["framework"], request["device"])
    parameters = _parameters(fixed, request)
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


class ConfigProblem(Exception):
    pass


def _parameters(function: Callable, request: dict) -> list:
    """The function's parameters, filled from its ``[tool.stablelint.confirm]`` entry where it has one."""
    config = request.get("config")
    try:
        parameters = inputs.classify(function, config)
    except ValueError as exc:
        raise ConfigProblem(f"[tool.stablelint.confirm]: {exc}") from None
    if not config:
        return parameters
    if request["framework"] == "numpy" and "bfloat16" in (config.get("dtypes") or {}).values():
        raise ConfigProblem("[tool.stablelint.confirm]: NumPy has no bfloat16")
    if config.get("factory"):
        module_name, _, name = config["factory"].partition(":")
        sys.path.insert(0, config["root"])
        try:
            factory = getattr(importlib.import_module(module_name), name)
            example = factory()
        except Exception as exc:  # noqa: BLE001 - the user's factory failing is a verdict
            raise ConfigProblem(f"the confirm factory {config['factory']} failed: {_exception_line(exc)}") from None
        try:
            parameters = inputs.from_factory(parameters, function, example)
        except TypeError as exc:
            raise ConfigProblem(f"the confirm factory {config['factory']}: {exc}") from None
    return parameters


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
        mode = request["mode"]
        result = verify(request) if mode == "verify" else sweep_shapes(request) if mode == "shapes" else sweep(request)
    except ImportFailed as exc:
        result = {"status": "error", "reason": str(exc)}
    except Unavailable as exc:
        result = {"status": "skipped", "reason": str(exc)}
    except ConfigProblem as exc:
        result = {"status": "error", "reason": str(exc)}
    except MemoryError:
        result = {"status": "error", "reason": "the probe ran out of memory"}
    result_path.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
