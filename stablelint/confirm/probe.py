"""The code that runs in the child process: import the user's module, call the function, look for NaN/Inf.

Started by ``sandbox`` as ``python -m stablelint.confirm.probe RESULT_PATH`` with a JSON request
on stdin; writes one JSON object to RESULT_PATH (never to stdout, which belongs to the user's
code). The module is imported under a name other than ``__main__`` so its
``if __name__ == "__main__":`` block does not run. Modes: ``probe`` sweeps the regimes and
reports the first witness; ``verify`` replays a witness on the fixed copy of the module and
compares it with the original on ordinary inputs.
"""

from __future__ import annotations

import contextlib
import importlib.util
import inspect
import json
import math
import os
import re
import sys
from pathlib import Path
from typing import Any, Callable

from . import inputs, instances, regimes, watch
from .backends import Backend, Unavailable, arrays, make, reseed

ORDINARY_SEEDS = (0, 1, 2)


class ImportFailed(Exception):
    pass


SEEN = watch.Seen()  # the flagged expression's values, when the probe watches it


def import_module(path: str, name: str, span: list | None = None):
    """Import ``path`` as ``name``; with ``span`` ([[line, column], [line, column]]), the expression there
    is watched (``watch.instrument``) where it can be."""
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportFailed(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look the module up by name
    source = None
    if span:
        try:
            source = watch.instrument(Path(path).read_text(encoding="utf-8-sig"), tuple(span[0]), tuple(span[1]))
        except (OSError, UnicodeDecodeError):
            source = None
    try:
        if source is None:
            spec.loader.exec_module(module)
        else:
            module.__dict__[watch.NAME] = SEEN
            exec(compile(source, path, "exec"), module.__dict__)  # noqa: S102 - the user's own module, watched
    except SystemExit as exc:
        raise ImportFailed(f"the module called sys.exit({exc.code!r}) at import") from None
    except KeyboardInterrupt:
        raise ImportFailed("the module raised KeyboardInterrupt at import") from None
    except MemoryError:
        raise ImportFailed("the module ran out of memory at import") from None
    except BaseException as exc:  # noqa: BLE001 - any failure of user code is a verdict, not a crash
        raise ImportFailed(f"importing the module raised {_exception_line(exc)}") from None
    return module


def _exception_line(exc: BaseException, limit: int = 300) -> str:
    """"Type: message" on one line: for a message of many lines (TensorFlow's "in user code:" traces),
    the line that says what went wrong; TensorFlow's "{{function_node ...}}" prefix dropped; at most ``limit``."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if len(lines) > 1 and lines[0].endswith(":"):
        lines = lines[-1:]
    message = re.sub(r"^\{\{[^}]*\}\}\s*", "", lines[0]) if lines else ""
    line = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return line if len(line) <= limit else line[:limit - 1] + "…"


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
        return None, None, f"the function raised {_exception_line(exc)}"
    found = backend.non_finite(output)
    if found:
        return "output", found, None
    try:
        grads = backend.gradients(output, leaves)
    except Exception as exc:  # noqa: BLE001
        return None, None, f"the backward pass raised {_exception_line(exc)}"
    for name, grad in grads.items():
        found = backend.non_finite(grad)
        if found:
            return f"gradient of {name}", found, None
    if backend.floating_events:  # an intermediate overflowed or went NaN though output and gradients are finite
        event = backend.floating_events[0]
        value = "NaN" if event.startswith(("invalid", "JAX: invalid")) else "inf"
        label = event if event.startswith("JAX: ") else f"NumPy: {event}"
        return f"intermediate values ({label})", value, None
    return None, None, None


HALF_DTYPES = ("float16", "bfloat16")
OVERFLOW_ERROR = "without overflow"  # torch: "value cannot be converted to type at::Half without overflow"


def sweep(request: dict) -> dict:
    module = import_module(request["path"], "stablelint_confirm_target", request.get("span"))
    function = _function(module, request["function"], request.get("instance"))
    backend = make(request["framework"], request["device"])
    SEEN.backend = backend if watch.NAME in module.__dict__ else None
    elsewhere = None  # the first non-finite output that did not come through the flagged expression
    plans = _plans(backend, function, _parameters(function, request), request["dtypes"][0])
    half_rule = any(dtype in HALF_DTYPES for dtype in request["dtypes"])  # SL501/SL504: float16 overflow
    runs = errors = 0
    last_error = None
    tried: list[str] = []
    for index, plan in plans:
        parameters = plan.parameters
        varied = inputs.adversarial(parameters)
        kinds = {p.name: p.kind for p in parameters}
        for dtype in request["dtypes"]:
            for regime in request["regimes"]:
                if regime == "identical":
                    targets = ["*"] if sum(kinds[n] == "tensor" for n in varied) >= 2 else []
                elif regime == "ordinary":
                    targets = ["*"] if varied else ["-"]
                else:
                    targets = [n for n in varied if inputs.applies(regime, kinds[n])]
                    if regime == "zeros" and sum(kinds[n] == "tensor" for n in varied) >= 2:
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


BROADCAST_ERRORS = ("must match the size of tensor", "could not be broadcast together", "Incompatible shapes")


def _shape(value: Any) -> tuple[int, ...] | None:
    shape = getattr(value, "shape", None)
    try:
        return tuple(int(d) for d in shape) if shape is not None else None
    except TypeError:
        return None


def _show(shape: tuple[int, ...]) -> str:
    return f"({shape[0]},)" if len(shape) == 1 else f"({', '.join(map(str, shape))})"


def _broadcast_message(name: str) -> str:
    n = regimes.SHAPE_N
    return f"{name} was given shapes {_show((n, 1))} and {_show((n,))}, which broadcast to {_show((n, n))}"


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
        line = _exception_line(exc)
        if code == "SL402" and any(marker in line for marker in BROADCAST_ERRORS):
            return "call", f"a broadcast error where square inputs run ({line})", shapes, None
        return None, None, shapes, f"the function raised {line}"
    first = next(iter(arrays(output)), None)
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
    function = _function(module, request["function"], request.get("instance"))
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


def _dtype_of(parameters, target: str, dtype: str) -> str:
    """The dtype the witness ran in: the run's, or the one configured for the argument the regime varied."""
    return next((p.dtype for p in parameters if p.name == target and p.dtype), dtype)


def _original_and_fixed(request: dict) -> tuple[Callable, Callable]:
    original = _function(import_module(request["path"], "stablelint_confirm_original"), request["function"],
                         request.get("instance"))
    try:
        fixed = _function(import_module(request["fixed_path"], "stablelint_confirm_fixed"), request["function"],
                          request.get("instance"))
    except ImportFailed as exc:
        raise FixedCopyFailed(f"the fixed copy: {exc}") from None
    return original, fixed


class FixedCopyFailed(Exception):
    pass


def verify_shapes(request: dict) -> dict:
    """The fixed copy at the shape witness: the broadcast, the broadcast error or the non-scalar loss gone.
    (No comparison with the original: a shape bug's original is wrong on the shapes its fix changes.)"""
    _, fixed = _original_and_fixed(request)
    backend = make(request["framework"], request["device"])
    code, regime = request["code"], request["witness"]["regime"]
    where, what, _, error = shape_once(backend, fixed, inputs.classify(fixed), regime, code, "float32")
    if error:
        return {"status": "error", "detail": f"at the witness shapes, {error}"}
    if where:
        return {"status": "not-removed", "detail": f"the fixed function still gives {what}"}
    return {"status": "verified", "detail": f"no {code} symptom at the witness shapes (checked there only)"}


def verify(request: dict) -> dict:
    original, fixed = _original_and_fixed(request)
    backend = make(request["framework"], request["device"])
    witness = request["witness"]
    parameters = inputs.plans(_parameters(fixed, request))[witness.get("plan") or 0].parameters
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
                line = _exception_line(exc)
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
        try:
            example = instances.load(config["factory"], config["root"])()
        except Exception as exc:  # noqa: BLE001 - the user's factory failing is a verdict
            raise ConfigProblem(f"the confirm factory {config['factory']} failed: {_exception_line(exc)}") from None
        try:
            parameters = inputs.from_factory(parameters, function, example)
        except TypeError as exc:
            raise ConfigProblem(f"the confirm factory {config['factory']}: {exc}") from None
    return parameters


def _function(module, qualname: str, build: dict | None = None) -> Callable:
    """``name`` (a module-level function) or ``Class.method``, bound to an instance built as ``build`` (the
    class's ``[tool.stablelint.confirm]`` entry) says, else from its constructor's defaults (``instances``),
    with torch's seed fixed so two builds agree."""
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
    reseed()
    try:
        function = instances.method(cls, name, build)
    except instances.BuildProblem as exc:
        cause = f" ({_exception_line(exc.__cause__)})" if exc.__cause__ else ""
        problem = ConfigProblem if isinstance(exc, instances.ConfiguredBuildFailed) else Unavailable
        raise problem(f"{exc}{cause}{exc.hint}") from None
    if function is None:
        raise ImportFailed(f"class {owner} has no method {name!r}")
    return function


def main(argv: list[str]) -> int:
    result_path = Path(argv[1])
    request = json.loads(sys.stdin.read())
    # the module's siblings import (a notebook's module is a temporary copy: "folder" is the notebook's)
    sys.path.insert(0, request.get("folder") or str(Path(request["path"]).resolve().parent))
    if request.get("folder"):
        os.chdir(request["folder"])  # as Jupyter runs a notebook: its relative file paths are its folder's
    try:
        mode = request["mode"]
        run = {"verify": verify, "verify-shapes": verify_shapes, "shapes": sweep_shapes}.get(mode, sweep)
        result = run(request)
    except ImportFailed as exc:
        result = {"status": "error", "reason": str(exc)}
    except FixedCopyFailed as exc:
        result = {"status": "error", "detail": str(exc)}
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
