"""In the probe's child process: the shape rules' probes — shaped inputs, a watch for (N, 1) meeting (N,),
broadcast errors and non-scalar losses — and the check of a shape fix at its witness."""

from __future__ import annotations

import contextlib
from typing import Any, Callable

from . import inputs, regimes
from .backends import Backend, arrays, make
from .loading import exception_line, function_of, import_module, original_and_fixed
from .regimes import show_shape

BROADCAST_ERRORS = ("must match the size of tensor", "could not be broadcast together", "Incompatible shapes")


def _shape(value: Any) -> tuple[int, ...] | None:
    shape = getattr(value, "shape", None)
    try:
        return tuple(int(d) for d in shape) if shape is not None else None
    except TypeError:
        return None


def _broadcast_message(name: str) -> str:
    n = regimes.SHAPE_N
    return (f"{name} was given shapes {show_shape((n, 1))} and {show_shape((n,))}, which broadcast to "
            f"{show_shape((n, n))}")


def _broadcast_watch(backend: Backend, arguments: dict[str, Any]):
    """A context whose ``found`` names the first op given both an (N, 1) and an (N,) array (None where the
    framework offers no hook: JAX, TensorFlow)."""
    if backend.framework == "torch":
        return _torch_watch(backend)
    if backend.framework == "numpy":
        return _numpy_watch(backend, arguments)
    return None


def _torch_watch(backend: Backend):
    """A torch function mode that sees every torch op and its tensors."""
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
                    self.found = _broadcast_message((getattr(func, "__name__", None) or repr(func)).strip("_"))
            return result
    return Watch()


def _numpy_watch(backend: Backend, arguments: dict[str, Any]):
    """The array arguments become an ndarray subclass whose ``__array_ufunc__`` sees every ufunc (arithmetic,
    reductions) they and the arrays made from them reach."""
    numpy = backend.numpy
    column, flat = (regimes.SHAPE_N, 1), (regimes.SHAPE_N,)

    class Watched(numpy.ndarray):
        def __array_ufunc__(self, ufunc, method, *operands, **kwargs):
            shapes = [numpy.shape(a) for a in operands if isinstance(a, numpy.ndarray)]
            if watch.found is None and column in shapes and flat in shapes:
                watch.found = _broadcast_message(ufunc.__name__)
            plain = [a.view(numpy.ndarray) if isinstance(a, Watched) else a for a in operands]
            if "out" in kwargs:
                kwargs["out"] = tuple(a.view(numpy.ndarray) if isinstance(a, Watched) else a for a in kwargs["out"])
            result = getattr(ufunc, method)(*plain, **kwargs)
            if isinstance(result, tuple):
                return tuple(r.view(Watched) if isinstance(r, numpy.ndarray) else r for r in result)
            return result.view(Watched) if isinstance(result, numpy.ndarray) else result

    class Watch(contextlib.nullcontext):
        found: str | None = None

    watch = Watch()
    for name, value in arguments.items():
        if isinstance(value, numpy.ndarray):
            arguments[name] = value.view(Watched)
    return watch


def shape_once(backend: Backend, function: Callable, parameters, regime: str, code: str, dtype: str):
    """(where, what, shapes, error) for one run of a shape regime; ``where`` None when nothing showed."""
    varied = [p for p in parameters if p.kind != "fixed"]
    shapes = {p.name: regimes.shape_of(regime, i) for i, p in enumerate(varied)}
    raw = {p.name: ("fixed", p.value) if p.kind == "fixed" else
           ("tensor", regimes.shaped_values(shapes[p.name], f"{regime}:{p.name}")) for p in parameters}
    arguments, _ = backend.build(raw, dtype)
    watch = _broadcast_watch(backend, arguments) if code in ("SL401", "SL403") else None
    try:
        with watch or contextlib.nullcontext():
            output = backend.call(function, arguments)
    except SystemExit as exc:
        return None, None, shapes, f"the function called sys.exit({exc.code!r})"
    except Exception as exc:  # noqa: BLE001
        line = exception_line(exc)
        if code == "SL402" and any(marker in line for marker in BROADCAST_ERRORS):
            return "call", f"a broadcast error where square inputs run ({line})", shapes, None
        return None, None, shapes, f"the function raised {line}"
    first = next(iter(arrays(output)), None)
    out = _shape(first)
    n = regimes.SHAPE_N
    if code == "SL310":
        if out:  # not a scalar
            what = f"a loss of shape {show_shape(out)}, not a scalar"
            if backend.framework == "torch" and first is not None and getattr(first, "requires_grad", False):
                try:
                    first.backward()
                except RuntimeError as exc:
                    what += f" (.backward() raises: {str(exc).splitlines()[0]})"
            return "output", what, shapes, None
        return None, None, shapes, None
    if code in ("SL401", "SL403") and out is not None and out[-2:] == (n, n):
        expected = f"{show_shape((n,))} or {show_shape((n, 1))}"
        return "output", f"an output of shape {show_shape(out)} where {expected} was expected", shapes, None
    if watch is not None and watch.found:
        return "intermediate", watch.found, shapes, None
    return None, None, shapes, None


def sweep_shapes(request: dict) -> dict:
    module = import_module(request["path"], "stablelint_confirm_target")
    function = function_of(module, request["function"], request.get("instance"))
    backend = make(request["framework"], request["device"])
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
        return {"status": "skipped", "reason": f"{reason} on every synthesised shape", "unfit": True,
                "objects": inputs.objects(parameters)}
    return {"status": "not-reproduced", "device": backend.device, "runs": runs - errors, "tried": tried,
            "arguments": [p.name for p in parameters if p.kind != "fixed"], "failed_runs": errors,
            "last_error": last_error}


def _shape_witness(backend: Backend, regime: str, where: str, what: str, shapes: dict) -> dict:
    return {"status": "confirmed", "device": backend.device, "witness": {
        "argument": "all", "regime": regime, "dtype": "float32", "device": backend.device, "where": where,
        "value": what, "shapes": {name: list(shape) for name, shape in shapes.items()}}}


def verify_shapes(request: dict) -> dict:
    """The fixed copy at the shape witness: the broadcast, the broadcast error or the non-scalar loss gone.
    (No comparison with the original: a shape bug's original is wrong on the shapes its fix changes.)"""
    _, fixed = original_and_fixed(request)
    backend = make(request["framework"], request["device"])
    code, regime = request["code"], request["witness"]["regime"]
    where, what, _, error = shape_once(backend, fixed, inputs.classify(fixed), regime, code, "float32")
    if error:
        return {"status": "error", "detail": f"at the witness shapes, {error}"}
    if where:
        return {"status": "not-removed", "detail": f"the fixed function still gives {what}"}
    return {"status": "verified", "detail": f"no {code} symptom at the witness shapes (checked there only)"}
