"""In the probe's child process: import the user's module, find the flagged function, fill its parameters.

Shared by the value probes (``value_probe``) and the shape probes (``shape_probe``). The module is
imported under a name other than ``__main__`` so its ``if __name__ == "__main__":`` block does not
run, and, when asked, with the flagged expression watched (``watch``).
"""

from __future__ import annotations

import importlib.util
import inspect
import re
import sys
from pathlib import Path
from typing import Callable

from . import inputs, instances, watch
from .backends import Unavailable, reseed


class ImportFailed(Exception):
    pass


SEEN = watch.Seen()  # the flagged expression's values, when the probe watches it


def package_of(path: Path) -> tuple[str | None, Path]:
    """The dotted package a module file belongs to (its folders with ``__init__.py``), and the folder its top
    package lies in; (None, the file's folder) for a module outside any package."""
    folder = path.resolve().parent
    parts: list[str] = []
    while (folder / "__init__.py").is_file() and folder.name.isidentifier():
        parts.insert(0, folder.name)
        folder = folder.parent
    return ".".join(parts) or None, folder


def import_module(path: str, name: str, span: list | None = None, package_path: str | None = None):
    """Import ``path`` as ``name`` (inside its package, as ``package.name``, so relative imports work; a fixed
    copy in a temporary folder takes the package of ``package_path``, the original); with ``span``
    ([[line, column], [line, column]]), the expression there is watched (``watch.instrument``) where it can be."""
    package, root = package_of(Path(package_path or path))
    if package:
        if str(root) not in sys.path:
            sys.path.insert(0, str(root))
        name = f"{package}.{name}"
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
    except ModuleNotFoundError as exc:  # not the user's code failing: this Python lacks what it needs
        raise Unavailable(f"the module needs {exc.name or 'a module'}, which the Python running stablelint cannot "
                          "import") from None
    except SystemExit as exc:
        raise ImportFailed(f"the module called sys.exit({exc.code!r}) at import") from None
    except KeyboardInterrupt:
        raise ImportFailed("the module raised KeyboardInterrupt at import") from None
    except MemoryError:
        raise ImportFailed("the module ran out of memory at import") from None
    except BaseException as exc:  # noqa: BLE001 - any failure of user code is a verdict, not a crash
        raise ImportFailed(f"importing the module raised {exception_line(exc)}") from None
    return module


def exception_line(exc: BaseException, limit: int = 300) -> str:
    """"Type: message" on one line: for a message of many lines (TensorFlow's "in user code:" traces),
    the line that says what went wrong; TensorFlow's "{{function_node ...}}" prefix dropped; at most ``limit``."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if len(lines) > 1 and lines[0].endswith(":"):
        lines = lines[-1:]
    message = re.sub(r"^\{\{[^}]*\}\}\s*", "", lines[0]) if lines else ""
    kind = type(exc).__name__
    line = message if message.startswith(f"{kind}: ") else f"{kind}: {message}" if message else kind
    return line if len(line) <= limit else line[:limit - 1] + "…"


class ConfigProblem(Exception):
    pass


def parameters_of(function: Callable, request: dict) -> list:
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
            raise ConfigProblem(f"the confirm factory {config['factory']} failed: {exception_line(exc)}") from None
        try:
            parameters = inputs.from_factory(parameters, function, example)
        except TypeError as exc:
            raise ConfigProblem(f"the confirm factory {config['factory']}: {exc}") from None
    return parameters


def function_of(module, qualname: str, build: dict | None = None) -> Callable:
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
        cause = f" ({exception_line(exc.__cause__)})" if exc.__cause__ else ""
        problem = ConfigProblem if isinstance(exc, instances.ConfiguredBuildFailed) else Unavailable
        raise problem(f"{exc}{cause}{exc.hint}") from None
    if function is None:
        raise ImportFailed(f"class {owner} has no method {name!r}")
    return function


def original_and_fixed(request: dict) -> tuple[Callable, Callable]:
    original = function_of(import_module(request["path"], "stablelint_confirm_original"), request["function"],
                         request.get("instance"))
    try:
        fixed = function_of(import_module(request["fixed_path"], "stablelint_confirm_fixed",
                                          package_path=request["path"]), request["function"],
                          request.get("instance"))
    except ImportFailed as exc:
        raise FixedCopyFailed(f"the fixed copy: {exc}") from None
    return original, fixed


class FixedCopyFailed(Exception):
    pass
