"""Python checkers: the rules that need more than a pattern.

A checker is a class deriving from ``Checker``.  It names the canonical ops
it wants to see (``ops``); the dataflow analysis hands it every value those
ops produce, with the context, and it reports through ``report``.  A rule's
YAML names its checker by module (``checker: log_of_zero`` is
``stablelint/checks/log_of_zero.py``, class ``Check``); a user's rule may
name a file next to its YAML instead (``checker: my_checks.py:MyCheck``).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from ..catalog import Rule
    from ..dataflow import Context
    from ..diagnostic import Fix
    from ..ops import OpTable
    from ..render import Renderer
    from ..values import Value


class Report:
    """What a rule calls to report a finding."""

    def __init__(self, sink: Callable[..., None], renderer: Renderer):
        self._sink = sink
        self.render = renderer

    def __call__(self, node, message: str, *, fix: Fix | None = None) -> None:
        self._sink(node, message, fix)


class Checker:
    ops: tuple[str, ...] = ()

    def __init__(self, rule: Rule, table: OpTable):
        self.rule = rule
        self.table = table

    def check(self, value: Value, context: Context, report: Report) -> None:  # pragma: no cover
        raise NotImplementedError

    def finish(self, context: Context, report: Report) -> None:
        """Called once per file after the analysis, for rules that collect first."""


class CheckerError(Exception):
    pass


def load_checker(rule: Rule) -> type[Checker]:
    spec = rule.checker or ""
    if ":" in spec:
        file_part, _, class_name = spec.rpartition(":")
        path = (Path(rule.source).parent / file_part).resolve()
        module_name = f"stablelint_user_checks.{path.stem}_{abs(hash(str(path)))}"
        module = sys.modules.get(module_name)
        if module is None:
            loader_spec = importlib.util.spec_from_file_location(module_name, path)
            if loader_spec is None or loader_spec.loader is None or not path.is_file():
                raise CheckerError(f"{rule.source}: 'checker': cannot load {path}")
            module = importlib.util.module_from_spec(loader_spec)
            sys.modules[module_name] = module
            try:
                loader_spec.loader.exec_module(module)
            except Exception as exc:  # noqa: BLE001 - user code; report, do not crash
                del sys.modules[module_name]
                raise CheckerError(f"{rule.source}: 'checker': {path} failed to import: {exc}") from None
    else:
        class_name = "Check"
        try:
            module = importlib.import_module(f"stablelint.checks.{spec}")
        except ImportError as exc:
            raise CheckerError(f"{rule.source}: 'checker': no built-in checker {spec!r} ({exc})") from None
    checker = getattr(module, class_name, None)
    if not (isinstance(checker, type) and issubclass(checker, Checker)):
        raise CheckerError(f"{rule.source}: 'checker': {spec!r} is not a stablelint.checks.Checker subclass")
    return checker
