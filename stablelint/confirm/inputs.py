"""Argument synthesis: what to pass to each parameter of a flagged function.

From, in order: the ``[tool.stablelint.confirm]`` entry for the function (a factory's example
arguments, then per-argument shapes, dtypes and value ranges, which refine what follows),
parameter names that say what they hold (``target``/``labels`` are class
indices, ``mask`` is 0/1, ``y_true`` is 0/1, ``probs`` lies in [0, 1], ``dim``/``axis``/``eps``), type annotations
(``torch.Tensor``, ``np.ndarray``, ``int``, ``float``, ``bool``), default values, and otherwise
a float array of the module's framework. Only the float arrays (kind ``tensor``) and masks take
the adversarial regimes; everything else is the same in every run.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, replace
from typing import Any, Callable

from . import regimes

LABEL_NAMES = {"target", "targets", "label", "labels", "classes", "class_ids", "y_idx"}
BINARY_NAMES = {"y_true", "y", "truth"}
MASK_NAMES = {"mask", "attention_mask", "attn_mask", "padding_mask", "valid"}
PROBABILITY_NAMES = {"probs", "prob", "probabilities", "p", "proba", "y_prob", "y_proba", "pred_probs", "p_hat"}
ARRAY_WORDS = ("tensor", "ndarray", "array")
# parameters that hold objects (a model, an optimizer, a data loader) no synthesised array can stand for
OBJECT_NAMES = {"model", "net", "network", "module", "optimizer", "optim", "opt", "scaler", "scheduler", "loader",
                "dataloader", "data_loader", "trainer", "env", "tokenizer", "apply_fn"}
FIXED_BY_NAME: dict[str, Any] = {"dim": -1, "axis": -1, "eps": 1e-8, "epsilon": 1e-8, "temperature": 1.0,
                                 "tau": 1.0, "reduction": "mean"}


@dataclass(frozen=True)
class Parameter:
    name: str
    kind: str  # tensor | mask | labels | binary | fixed
    value: Any = None  # for kind "fixed"
    shape: tuple[int, ...] | None = None  # configured (or a factory's); None: the default (4, 5)
    dtype: str | None = None  # configured (or a factory's); None: the run's dtype
    bounds: tuple[float, float] | None = None  # configured value range
    given: Any = None  # a factory's values (nested lists), used for the ordinary regime
    held: bool = False  # annotated with a class that is not an array type: an object (a model, ...)


def annotation_of(parameter: inspect.Parameter) -> str:
    annotation = parameter.annotation
    if annotation is inspect.Parameter.empty:
        return ""
    if isinstance(annotation, str):
        return annotation.lower()
    return (getattr(annotation, "__name__", None) or repr(annotation)).lower()


def classify(function: Callable, config: dict | None = None) -> list[Parameter]:
    """How each parameter of ``function`` is filled (``*args``/``**kwargs`` are left empty)."""
    result = _classify(function)
    if not config:
        return result
    shapes, dtypes, ranges = config.get("shapes") or {}, config.get("dtypes") or {}, config.get("ranges") or {}
    known = {p.name for p in result}
    for key in (*shapes, *dtypes, *ranges):
        if key not in known:
            raise ValueError(f"the configuration names an argument {key!r} that {function.__name__}() does not take")
    configured = []
    for parameter in result:
        name = parameter.name
        if name in shapes or name in dtypes or name in ranges:
            kind = "tensor" if parameter.kind == "fixed" else parameter.kind
            parameter = replace(parameter, kind=kind, shape=tuple(shapes[name]) if name in shapes else None,
                                dtype=dtypes.get(name), bounds=tuple(ranges[name]) if name in ranges else None)
        configured.append(parameter)
    return configured


def from_factory(parameters: list[Parameter], function: Callable, example: Any) -> list[Parameter]:
    """Parameters filled from a factory's example arguments: float arrays keep their shape and dtype
    (and their values, for the ordinary regime) and take the regimes; anything else is passed as given."""
    signature = inspect.signature(function)
    if isinstance(example, dict):
        bound = signature.bind_partial(**example)
    elif isinstance(example, (tuple, list)):
        bound = signature.bind_partial(*example)
    else:
        raise TypeError(f"the factory returned {type(example).__name__}; expected a tuple/list of positional "
                        "arguments or a dict of keyword arguments")
    by_name = {p.name: p for p in parameters}
    for name, value in bound.arguments.items():
        shape = getattr(value, "shape", None)
        dtype = str(getattr(value, "dtype", "")).replace("torch.", "")
        if shape is not None and len(shape) and dtype.startswith(("float", "bfloat")):
            plain = value.detach().cpu().tolist() if hasattr(value, "detach") else value.tolist()
            by_name[name] = Parameter(name, "tensor", shape=tuple(int(d) for d in shape), dtype=dtype, given=plain)
        else:
            by_name[name] = Parameter(name, "fixed", value)
    return [by_name[p.name] for p in parameters]


def _classify(function: Callable) -> list[Parameter]:
    result = []
    for parameter in inspect.signature(function).parameters.values():
        if parameter.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            continue
        name = parameter.name
        lowered = name.lower()
        annotation = annotation_of(parameter)
        has_default = parameter.default is not inspect.Parameter.empty
        if lowered in LABEL_NAMES:
            result.append(Parameter(name, "labels"))
        elif lowered in MASK_NAMES or lowered.endswith("_mask"):
            result.append(Parameter(name, "mask"))
        elif lowered in BINARY_NAMES:
            result.append(Parameter(name, "binary"))
        elif lowered in PROBABILITY_NAMES and not has_default:  # as a configured range [0, 1] would give
            result.append(Parameter(name, "tensor", bounds=(0.0, 1.0)))
        elif any(word in annotation for word in ARRAY_WORDS) and not has_default:
            result.append(Parameter(name, "tensor"))
        elif has_default:
            result.append(Parameter(name, "fixed", parameter.default))
        elif lowered in FIXED_BY_NAME:
            result.append(Parameter(name, "fixed", FIXED_BY_NAME[lowered]))
        elif annotation in ("int",):
            result.append(Parameter(name, "fixed", 2))
        elif annotation in ("float",):
            result.append(Parameter(name, "fixed", 1.0))
        elif annotation in ("bool",):
            result.append(Parameter(name, "fixed", False))
        else:
            held = parameter.annotation is not inspect.Parameter.empty and isinstance(parameter.annotation, type) \
                and annotation not in ("str", "list", "tuple", "dict")
            result.append(Parameter(name, "tensor", held=held))
    return result


def objects(parameters: list[Parameter]) -> list[str]:
    """The parameters filled with arrays that hold objects by their names or annotations (a class of the
    user's, such as a model)."""
    return [p.name for p in parameters if p.kind != "fixed" and p.given is None and (p.held or _object_name(p.name))]


def _object_name(name: str) -> bool:
    lowered = name.lower()
    return lowered in OBJECT_NAMES or lowered.startswith("opt_") or lowered.endswith(
        ("_model", "_optimizer", "_opt", "_loader", "_net"))


IGNORE_INDEX = -100  # torch's default for cross_entropy / nll_loss


def adversarial(parameters: list[Parameter]) -> list[str]:
    """The parameters the regimes vary (float arrays, masks, and class labels for ignored_labels)."""
    return [p.name for p in parameters if p.kind in ("tensor", "mask", "labels")]


def applies(regime: str, kind: str) -> bool:
    """Whether ``regime`` varies a parameter of ``kind`` (a mask only goes to zeros; labels only to ignored)."""
    if kind == "labels":
        return regime == "ignored_labels"
    if kind == "mask":
        return regime == "zeros"
    return kind == "tensor" and regime != "ignored_labels"


def raw_arguments(parameters: list[Parameter], regime: str, target: str, seed: int) -> dict[str, tuple]:
    """Each parameter's (kind, plain value): ``target`` under ``regime``, the rest ordinary.

    ``target`` "*" applies the regime to every float array (the identical-pairs regime gives
    them all the same values).
    """
    arguments: dict[str, tuple[str, Any, str | None]] = {}
    ignore_index = next((p.value for p in parameters if p.name == "ignore_index" and isinstance(p.value, int)),
                        IGNORE_INDEX)
    # a configured float array sets the batch size and the number of classes of the labels beside it
    batch_shape = next((p.shape for p in parameters if p.kind == "tensor" and p.shape), None)
    default_shape = batch_shape if batch_shape and len(batch_shape) >= 2 else (regimes.ROWS, regimes.COLUMNS)
    for parameter in parameters:
        dtype = parameter.dtype
        if parameter.kind == "fixed":
            arguments[parameter.name] = ("fixed", parameter.value, None)
        elif parameter.kind == "labels":
            ignored = regime == "ignored_labels" and target in ("*", parameter.name)
            count = parameter.shape[0] if parameter.shape else default_shape[0]
            classes = int(parameter.bounds[1]) + 1 if parameter.bounds else default_shape[-1]
            indices = [ignore_index] * count if ignored else regimes.labels(seed, count, classes)
            arguments[parameter.name] = ("labels", indices, dtype)
        elif parameter.kind == "binary":
            shape = parameter.shape or default_shape
            arguments[parameter.name] = ("binary", _shaped(regimes.binary(seed, *_two_d(shape)), shape), dtype)
        else:
            chosen = target in ("*", parameter.name)
            own_seed = seed if regime == "identical" else seed * 1000 + len(arguments)
            used = regime if chosen else "ordinary"
            shape = parameter.shape or default_shape
            values: Any
            if used == "ordinary" and parameter.given is not None:
                values = parameter.given
            else:
                values = regimes.values(used, own_seed, parameter.kind, *_two_d(shape))
                if parameter.bounds:
                    values = _bounded(values, parameter.bounds, used in ("ordinary", "identical"))
                values = _shaped(values, shape)
            arguments[parameter.name] = (parameter.kind, values, dtype)
    return arguments


def _two_d(shape: tuple[int, ...]) -> tuple[int, int]:
    """(rows, columns) holding as many elements as ``shape``."""
    if len(shape) == 0:
        return 1, 1
    return math.prod(shape[:-1]) if len(shape) > 1 else 1, shape[-1]


def _shaped(rows: list[list], shape: tuple[int, ...]):
    return rows if len(shape) == 2 else regimes.reshape(rows, shape)


def _bounded(rows: list[list[float]], bounds: tuple[float, float], spread: bool) -> list[list[float]]:
    """Values inside a configured range: ordinary ones spread over it (normal CDF), adversarial ones clipped
    to it (so a regime reaches the range's ends, never past them)."""
    lo, hi = bounds
    if spread:
        return [[lo + (hi - lo) * 0.5 * (1.0 + math.erf(v / math.sqrt(2.0))) for v in row] for row in rows]
    return [[min(hi, max(lo, v)) for v in row] for row in rows]


@dataclass(frozen=True)
class Plan:
    """One way to fill the parameters; the probe keeps the first whose ordinary run does not raise."""

    parameters: list[Parameter]
    description: str = ""  # how it departs from the default plan ("" for the default)


ALTERNATIVE_SHAPES = ((regimes.ROWS,), (regimes.ROWS, regimes.COLUMNS, regimes.COLUMNS),
                      (regimes.ROWS, 3, regimes.COLUMNS, regimes.COLUMNS))


def plans(parameters: list[Parameter]) -> list[Plan]:
    """The default plan, then (for unconfigured arrays) labels/0-1 targets as float arrays, and the
    float arrays as (N,), (N, T, F) or (N, C, H, W) instead of (N, F): a function that indexes or
    reduces three dimensions, or compares a regression target, fits one of them."""
    result = [Plan(parameters)]
    if any(p.shape or p.given is not None for p in parameters):
        return result  # configured: the user's shapes are the only ones
    relabeled = [replace(p, kind="tensor") if p.kind in ("labels", "binary") else p for p in parameters]
    names = [p.name for p in parameters if p.kind in ("labels", "binary")]
    variants = [(parameters, "")]
    if names:
        variants.append((relabeled, f"{', '.join(names)} as float arrays"))
        result.append(Plan(relabeled, variants[-1][1]))
    if not any(p.kind == "tensor" for p in relabeled):
        return result
    for shape in ALTERNATIVE_SHAPES:
        for variant, described in variants:
            shaped = [replace(p, shape=shape) if p.kind in ("tensor", "binary") else
                      replace(p, shape=(regimes.ROWS, regimes.COLUMNS)) if p.kind == "mask" else p  # (N, T)
                      for p in variant]
            if any(p.kind == "tensor" for p in shaped):
                shown = f"arrays of shape {regimes.show_shape(shape)}"
                result.append(Plan(shaped, "; ".join(filter(None, (described, shown)))))
    return result
