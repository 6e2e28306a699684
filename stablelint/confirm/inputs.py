"""Argument synthesis: what to pass to each parameter of a flagged function.

From, in order: parameter names that say what they hold (``target``/``labels`` are class
indices, ``mask`` is 0/1, ``y_true`` is 0/1, ``dim``/``axis``/``eps``), type annotations
(``torch.Tensor``, ``np.ndarray``, ``int``, ``float``, ``bool``), default values, and otherwise
a float array of the module's framework. Only the float arrays (kind ``tensor``) and masks take
the adversarial regimes; everything else is the same in every run.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Callable

from . import regimes

LABEL_NAMES = {"target", "targets", "label", "labels", "classes", "class_ids", "y_idx"}
BINARY_NAMES = {"y_true", "y", "truth"}
MASK_NAMES = {"mask", "attention_mask", "attn_mask", "padding_mask", "valid"}
ARRAY_WORDS = ("tensor", "ndarray", "array")
FIXED_BY_NAME: dict[str, Any] = {"dim": -1, "axis": -1, "eps": 1e-8, "epsilon": 1e-8, "temperature": 1.0,
                                 "tau": 1.0, "reduction": "mean"}


@dataclass(frozen=True)
class Parameter:
    name: str
    kind: str  # tensor | mask | labels | binary | fixed
    value: Any = None  # for kind "fixed"


def _annotation(parameter: inspect.Parameter) -> str:
    annotation = parameter.annotation
    if annotation is inspect.Parameter.empty:
        return ""
    if isinstance(annotation, str):
        return annotation.lower()
    return (getattr(annotation, "__name__", None) or repr(annotation)).lower()


def classify(function: Callable) -> list[Parameter]:
    """How each parameter of ``function`` is filled (``*args``/``**kwargs`` are left empty)."""
    result = []
    for parameter in inspect.signature(function).parameters.values():
        if parameter.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            continue
        name = parameter.name
        lowered = name.lower()
        annotation = _annotation(parameter)
        has_default = parameter.default is not inspect.Parameter.empty
        if lowered in LABEL_NAMES:
            result.append(Parameter(name, "labels"))
        elif lowered in MASK_NAMES or lowered.endswith("_mask"):
            result.append(Parameter(name, "mask"))
        elif lowered in BINARY_NAMES:
            result.append(Parameter(name, "binary"))
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
            result.append(Parameter(name, "tensor"))
    return result


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


def raw_arguments(parameters: list[Parameter], regime: str, target: str, seed: int) -> dict[str, tuple[str, Any]]:
    """Each parameter's (kind, plain value): ``target`` under ``regime``, the rest ordinary.

    ``target`` "*" applies the regime to every float array (the identical-pairs regime gives
    them all the same values).
    """
    arguments: dict[str, tuple[str, Any]] = {}
    ignore_index = next((p.value for p in parameters if p.name == "ignore_index" and isinstance(p.value, int)),
                        IGNORE_INDEX)
    for parameter in parameters:
        if parameter.kind == "fixed":
            arguments[parameter.name] = ("fixed", parameter.value)
        elif parameter.kind == "labels":
            ignored = regime == "ignored_labels" and target in ("*", parameter.name)
            arguments[parameter.name] = ("labels", [ignore_index] * regimes.ROWS if ignored else regimes.labels(seed))
        elif parameter.kind == "binary":
            arguments[parameter.name] = ("binary", regimes.binary(seed))
        else:
            chosen = target in ("*", parameter.name)
            own_seed = seed if regime == "identical" else seed * 1000 + len(arguments)
            values = regimes.values(regime if chosen else "ordinary", own_seed, parameter.kind)
            arguments[parameter.name] = (parameter.kind, values)
    return arguments
