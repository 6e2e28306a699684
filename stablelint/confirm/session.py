"""One ``stablelint confirm`` run: lint the paths, then probe each finding in a child process.

Detection is the same core as ``stablelint check`` (``runner.lint_bytes``); this module only
decides which findings can be run (inside a module-level function, or a method of a
module-level class built from its default constructor arguments, of a PyTorch or NumPy
module), builds the probe requests, and, for a confirmed finding with a safe fix, replays the
witness on a fixed copy of the module.
"""

from __future__ import annotations

import ast
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from ..config import Config, ConfigFinder
from ..diagnostic import Diagnostic
from ..discovery import iter_files
from ..fixer import apply_fixes
from ..runner import display_path, lint_bytes
from ..settings import RuleSelector, task_for
from . import regimes
from .sandbox import run_probe
from .verdict import CONFIRMED, ERROR, NOT_REPRODUCED, SKIPPED, FixCheck, Verdict, Witness

RUNNABLE_FRAMEWORKS = ("torch", "numpy")
UNRUNNABLE_FRAMEWORKS = ("tensorflow", "keras", "jax", "flax")  # no backend yet


@dataclass(frozen=True)
class Options:
    device: str = "auto"
    timeout: float = 30.0
    memory_mb: int = 4096


def confirm_paths(paths: list[Path], finder: ConfigFinder, selector: RuleSelector, options: Options,
                  cwd: Path) -> Iterator[Verdict]:
    """A verdict for each finding in ``paths``, in file and line order."""
    sources = sorted(iter_files(paths, finder), key=lambda s: display_path(s.path, cwd))
    for source in sources:
        display = display_path(source.path, cwd)
        task = task_for(source.path, display, source.config, selector)
        data = source.path.read_bytes()
        result = lint_bytes(data, task, source.path)
        if not result.diagnostics:
            continue
        text = data.decode("utf-8-sig", "replace")
        module = _ModuleFacts.of(text, source.path.suffix)
        for diagnostic in sorted(result.diagnostics, key=Diagnostic.sort_key):
            yield confirm_one(diagnostic, source.path, text, module, options, source.config)


@dataclass(frozen=True)
class _Method:
    owner: str  # the class's name
    node: ast.FunctionDef


@dataclass
class _ModuleFacts:
    tree: ast.Module | None
    aliases: dict[str, str]  # local name -> top-level module it imports
    notebook: bool = False

    @classmethod
    def of(cls, text: str, suffix: str) -> "_ModuleFacts":
        if suffix == ".ipynb":
            return cls(None, {}, notebook=True)
        try:
            tree = ast.parse(text)
        except SyntaxError:
            return cls(None, {})
        aliases: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for name in node.names:
                    aliases[(name.asname or name.name).split(".")[0]] = name.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for name in node.names:
                    aliases[name.asname or name.name] = node.module.split(".")[0]
        return cls(tree, aliases)

    def enclosing(self, line: int) -> tuple[str, ast.AST | None]:
        """('function', node) for a module-level function holding ``line``; otherwise why not."""
        assert self.tree is not None
        for node in self.tree.body:
            if not (node.lineno <= line <= (node.end_lineno or node.lineno)):
                continue
            if isinstance(node, ast.FunctionDef):
                return "function", node
            if isinstance(node, ast.AsyncFunctionDef):
                return "async", node
            if isinstance(node, ast.ClassDef):
                for member in node.body:
                    if isinstance(member, (ast.FunctionDef, ast.AsyncFunctionDef)) and \
                            member.lineno <= line <= (member.end_lineno or member.lineno):
                        kind = "async" if isinstance(member, ast.AsyncFunctionDef) else "method"
                        return kind, _Method(node.name, member)
                return "module", None
        return "module", None

    def framework(self, function: ast.AST) -> str | None:
        """The framework the function uses (by the imported names it mentions), else the module's."""
        used = {self.aliases[n.id] for n in ast.walk(function) if isinstance(n, ast.Name) and n.id in self.aliases}
        imported = set(self.aliases.values())
        for pool in (used, imported):
            for framework in RUNNABLE_FRAMEWORKS:
                if framework in pool and not (framework == "numpy" and pool & set(UNRUNNABLE_FRAMEWORKS)):
                    return framework
            if pool & set(UNRUNNABLE_FRAMEWORKS):
                return None  # NumPy beside TensorFlow/JAX is a helper; the arrays are the other framework's
        return None


def _is_special(function: ast.FunctionDef) -> bool:
    names = {d.id if isinstance(d, ast.Name) else d.attr if isinstance(d, ast.Attribute) else ""
             for d in function.decorator_list}
    return bool(names & {"property", "setter", "cached_property"})


def _verdict(diagnostic: Diagnostic, path: str, kind: str, reason: str, **extra) -> Verdict:
    return Verdict(path=path, line=diagnostic.start.line, column=diagnostic.start.column, code=diagnostic.code,
                   rule=diagnostic.rule_name, message=diagnostic.message, verdict=kind, reason=reason, **extra)


def confirm_one(diagnostic: Diagnostic, path: Path, text: str, module: _ModuleFacts, options: Options,
                config: Config | None = None) -> Verdict:
    display = diagnostic.path
    skip: Callable[[str], Verdict] = lambda why: _verdict(diagnostic, display, SKIPPED, why)  # noqa: E731
    if diagnostic.code in regimes.UNCONFIRMABLE:
        return skip(f"{diagnostic.code} is {regimes.UNCONFIRMABLE[diagnostic.code]}; confirm looks for NaN/Inf")
    family = regimes.family(diagnostic.code)
    shape_regimes = regimes.shape_family(diagnostic.code)
    if family is None and shape_regimes is None:
        return skip(f"no adversarial regimes are defined for {diagnostic.code}")
    if module.notebook:
        return skip("notebooks are not supported yet")
    if module.tree is None:
        return skip("the file does not parse")
    where, node = module.enclosing(diagnostic.start.line)
    if where == "async":
        return skip("async functions are not supported")
    if where == "module":
        return skip("the finding is not inside a function")
    if isinstance(node, _Method):
        if _is_special(node.node):
            return skip(f"{node.owner}.{node.node.name} is a property; only methods are run")
        function, body = f"{node.owner}.{node.node.name}", node.node
    else:
        function, body = node.name, node  # type: ignore[union-attr]
    framework = module.framework(body)  # type: ignore[arg-type]
    if framework is None:
        return _verdict(diagnostic, display, SKIPPED, "only PyTorch and NumPy code can be run yet "
                        "(no JAX or TensorFlow backend)", function=function)
    entry = config.confirm_entry(path, function) if config is not None else None
    if family is not None:
        regime_names, dtypes = family
        request = {"mode": "probe", "path": str(path.resolve()), "function": function, "framework": framework,
                   "device": options.device, "regimes": list(regime_names), "dtypes": list(dtypes),
                   "config": {**entry.as_request(), "root": str(config.root)} if entry and config else None}
    else:
        request = {"mode": "shapes", "path": str(path.resolve()), "function": function, "framework": framework,
                   "device": options.device, "regimes": list(shape_regimes or ()), "code": diagnostic.code}
    outcome = run_probe(request, options.timeout, options.memory_mb)
    data = outcome.data
    if outcome.status == "confirmed":
        witness = Witness(**data["witness"])
        verdict = _verdict(diagnostic, display, CONFIRMED, _witness_text(witness), function=function,
                           device=witness.device, witness=witness)
        if family is not None and diagnostic.fix is not None and diagnostic.fix.applicability == "safe":
            verdict.fix = _verify_fix(diagnostic, path, text, request, witness, options)
        return verdict
    if outcome.status == "not-reproduced":
        arguments = ", ".join(data["arguments"]) or "no array arguments"
        if family is None:  # a shape rule
            looked = {"SL310": "a scalar loss", "SL402": "no broadcast error"}.get(
                diagnostic.code,
                "no (N, N) output" + (" and no op given (N, 1) and (N,)" if framework == "torch" else ""))
            reason = (f"{looked} in {data['runs']} runs on {data['device']} with N = {regimes.SHAPE_N}; shaped "
                      f"{arguments} as: {', '.join(data['tried'])}")
        else:
            checked = "outputs and gradients" if framework == "torch" else "outputs (NumPy: forward only)"
            reason = (f"finite {checked} in {data['runs']} runs on {data['device']}; varied {arguments} "
                      f"under: {', '.join(data['tried'])}")
        if data.get("failed_runs"):
            count = data["failed_runs"]
            reason += f"; {count} other run{'' if count == 1 else 's'} failed ({data['last_error']})"
        return _verdict(diagnostic, display, NOT_REPRODUCED, reason, function=function, device=data["device"],
                        tried=data["tried"])
    kind = SKIPPED if outcome.status == "skipped" else ERROR
    return _verdict(diagnostic, display, kind, data.get("reason", "the probe failed"), function=function,
                    output=outcome.output)


def _witness_text(witness: Witness) -> str:
    if witness.shapes is not None:
        given = ", ".join(f"{name} of shape {_show(shape)}" for name, shape in witness.shapes.items())
        where = "" if witness.where in ("output", "call") else f"{witness.where}: "
        return f"{where}{witness.value} with {given or 'no array arguments'}, {witness.dtype} on {witness.device}"
    description = regimes.DESCRIPTIONS.get(witness.regime, witness.regime)
    if witness.argument is None:
        given = f"with {description}"
    elif witness.argument == "all":
        given = f"with every array argument at {description}"
    else:
        given = f"with {witness.argument} = {description}"
    return f"{witness.value} in the {witness.where} {given}, {witness.dtype} on {witness.device}"


def _show(shape: list[int]) -> str:
    return f"({shape[0]},)" if len(shape) == 1 else f"({', '.join(map(str, shape))})"


def _verify_fix(diagnostic: Diagnostic, path: Path, text: str, request: dict, witness: Witness,
                options: Options) -> FixCheck:
    fixed_text = apply_fixes(text, [diagnostic.fix])  # type: ignore[list-item]
    with tempfile.TemporaryDirectory(prefix="stablelint-fixed-") as folder:
        fixed_path = Path(folder) / path.name
        fixed_path.write_text(fixed_text, encoding="utf-8")
        verify = {**request, "mode": "verify", "fixed_path": str(fixed_path),
                  "witness": {"argument": witness.argument, "regime": witness.regime, "dtype": witness.dtype}}
        outcome = run_probe(verify, options.timeout, options.memory_mb)
    data = outcome.data
    if outcome.status in ("verified", "not-removed", "disagrees"):
        return FixCheck(outcome.status, data.get("detail", ""))
    return FixCheck("error", data.get("detail") or data.get("reason") or "the fixed copy could not be run")
