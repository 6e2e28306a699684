"""The instance a flagged method runs on (in the probe's child process).

From the class's ``[tool.stablelint.confirm]`` entry: ``init`` (keyword arguments for the
constructor) or ``instance`` (a "module:function", imported from the config's folder, returning
the instance). Without an entry, the constructor's defaults, with each required parameter
annotated ``int``, ``float`` or ``bool`` given a small value (an int gets the synthesised arrays'
column count, so a layer sized by it fits them and labels stay below it).
"""

from __future__ import annotations

import importlib
import inspect
import sys
from typing import Any, Callable

from ..config import confirm_table
from . import inputs, regimes

FILLED_BY_ANNOTATION: dict[str, Any] = {"int": regimes.COLUMNS, "float": 1.0, "bool": False}


class BuildProblem(Exception):
    """Why no instance was built: the message, the user's exception as ``__cause__`` (if any), and a hint."""

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.hint = hint


class ConfiguredBuildFailed(BuildProblem):
    """The configured ``init`` or ``instance`` raised, or returned something else than an instance."""


class CannotBuild(BuildProblem):
    """No entry, and the constructor cannot be called with its defaults and filled parameters."""


def load(reference: str, root: str) -> Callable:
    """The function a "module:function" setting names, its module imported with ``root`` (the config's
    folder) on ``sys.path``; raises what the import raises."""
    module_name, _, name = reference.partition(":")
    if root not in sys.path:
        sys.path.insert(0, root)
    return getattr(importlib.import_module(module_name), name)


def method(cls: type, name: str, config: dict | None) -> Callable | None:
    """Method ``name`` of ``cls``, bound to the instance built as configured (None: ``cls`` has no such method).

    An instance from an ``instance`` function may be of the class as its own module imports it (not the
    module the probe imported, or the fixed copy of it); the method's code is the probed class's either way.
    """
    instance = build(cls, config)
    if isinstance(instance, cls):
        found = getattr(instance, name, None)
    else:
        function = getattr(cls, name, None)
        found = function.__get__(instance, type(instance)) if callable(function) else None
    if not callable(found):
        return None
    if name == "call" and getattr(instance, "built", True) is False and callable(getattr(instance, "build", None)):
        return _through_call(instance, found)  # an unbuilt Keras layer: layer(x) builds its weights, then calls
    return found


def _through_call(layer: Any, call: Callable) -> Callable:
    """``layer(...)`` with ``call``'s signature, so its parameters are filled as ``call``'s."""
    def run(*args, **kwargs):
        return layer(*args, **kwargs)
    run.__signature__ = inspect.signature(call)  # type: ignore[attr-defined]
    run.__name__ = getattr(call, "__name__", "call")
    return run


def build(cls: type, config: dict | None) -> Any:
    """An instance of ``cls`` from its entry's ``instance`` or ``init``, else from ``_default``."""
    if config and config.get("instance"):
        where = f"{confirm_table(config['entry'])} instance = \"{config['instance']}\""
        try:
            instance = load(config["instance"], config["root"])()
        except Exception as exc:  # noqa: BLE001 - the user's function failing is a verdict
            raise ConfiguredBuildFailed(f"{where} failed") from exc
        if not any(c.__name__ == cls.__name__ for c in type(instance).__mro__):
            raise ConfiguredBuildFailed(f"{where} returned {type(instance).__name__}, not a {cls.__name__}")
        return instance
    if config and config.get("init") is not None:
        init = config["init"]
        call = f"{cls.__name__}({', '.join(f'{k}={v!r}' for k, v in init.items())})"
        try:
            return cls(**init)
        except Exception as exc:  # noqa: BLE001
            raise ConfiguredBuildFailed(f"{confirm_table(config['entry'])} init: {call} failed") from exc
    return _default(cls)


def _default(cls: type) -> Any:
    how = (f"; configure it with init = {{...}} (constructor keyword arguments) or instance = \"module:function\" "
           f"in {confirm_table(cls.__name__)}")
    try:
        signature = inspect.signature(cls)
    except (TypeError, ValueError):
        signature = None
    filled: dict[str, Any] = {}
    for parameter in signature.parameters.values() if signature else ():
        if parameter.default is not inspect.Parameter.empty or parameter.kind in (
                inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            continue
        annotation = inputs.annotation_of(parameter)
        if annotation not in FILLED_BY_ANNOTATION:
            raise CannotBuild(f"class {cls.__name__} cannot be built from default constructor arguments "
                              f"(its parameter {parameter.name!r} has no default and is not annotated int, "
                              "float or bool)", how)
        filled[parameter.name] = FILLED_BY_ANNOTATION[annotation]
    only = {p.name for p in signature.parameters.values() if p.kind is inspect.Parameter.POSITIONAL_ONLY} \
        if signature else set()
    try:
        return cls(*(v for k, v in filled.items() if k in only), **{k: v for k, v in filled.items() if k not in only})
    except Exception as exc:  # noqa: BLE001
        given = ", ".join(f"{k}={v!r}" for k, v in filled.items())
        arguments = f"constructor arguments {given}" if filled else "default constructor arguments"
        raise CannotBuild(f"class {cls.__name__} cannot be built from {arguments}", how) from exc
