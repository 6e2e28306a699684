"""One ``stablelint confirm`` run: lint the paths, then probe each finding in a child process.

Detection is the same core as ``stablelint check`` (``runner.lint_bytes``); this module only
decides which findings can be run (inside a module-level function, or a method of a
module-level class, of a PyTorch, JAX, TensorFlow or NumPy module; a notebook's code cells
are one module), builds the probe requests, and, for a confirmed finding with a safe fix,
replays the witness on a fixed copy of the module.
"""

from __future__ import annotations

import ast
import collections
import contextlib
import dataclasses
import functools
import importlib.util
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from ..config import Config, ConfigFinder, confirm_table
from ..diagnostic import Diagnostic
from ..discovery import iter_files
from ..fixer import apply_fixes
from ..notebook import is_notebook
from ..runner import display_path, lint_bytes
from ..settings import RuleSelector, task_for
from . import regimes
from .notebooks import NotebookModule, notebook_module
from .sandbox import run_probe
from .verdict import CONFIRMED, ERROR, NOT_REPRODUCED, SKIPPED, FixCheck, Verdict, Witness

# top-level module imported -> the framework whose backend runs it; NumPy comes last: beside another
# framework it is a helper, and the arrays are the other framework's
FRAMEWORK_OF = {"torch": "torch", "jax": "jax", "flax": "jax", "optax": "jax", "equinox": "jax", "haiku": "jax",
                "tensorflow": "tensorflow", "keras": "tensorflow", "tf_keras": "tensorflow", "numpy": "numpy"}
FRAMEWORK_NAMES = {"torch": "PyTorch", "jax": "JAX", "tensorflow": "TensorFlow", "numpy": "NumPy"}


@dataclass(frozen=True)
class Options:
    device: str = "auto"
    timeout: float = 30.0
    memory_mb: int = 4096
    jobs: int = 1  # probes at a time
    unsafe_fixes: bool = False  # also replay the witness on a copy with the finding's unsafe fix


def confirm_paths(paths: list[Path], finder: ConfigFinder, selector: RuleSelector, options: Options,
                  cwd: Path) -> Iterator[Verdict]:
    """A verdict for each finding in ``paths``, in file and line order; ``options.jobs`` probes at a time."""
    with contextlib.ExitStack() as stack:  # notebooks' temporary modules live until every probe is done
        yield from _in_order(_work(paths, finder, selector, options, cwd, stack), options.jobs)


Work = Callable[[], Verdict]


def _work(paths: list[Path], finder: ConfigFinder, selector: RuleSelector, options: Options, cwd: Path,
          stack: contextlib.ExitStack) -> Iterator[Work]:
    """One call per finding (lints a file only when its first probe is about to be queued)."""
    sources = sorted(iter_files(paths, finder), key=lambda s: display_path(s.path, cwd))
    for source in sources:
        display = display_path(source.path, cwd)
        task = task_for(source.path, display, source.config, selector)
        data = source.path.read_bytes()
        result = lint_bytes(data, task, source.path)
        if not result.diagnostics:
            continue
        findings = sorted(result.diagnostics, key=Diagnostic.sort_key)
        if is_notebook(source.path.name):
            virtual = stack.enter_context(notebook_module(data, task, source.path))
            yield from _notebook_work(findings, virtual, source.path, options, source.config)
            continue
        text = data.decode("utf-8-sig", "replace")
        module = _ModuleFacts.of(text)
        for diagnostic in findings:
            yield functools.partial(confirm_one, diagnostic, source.path, text, module, options, source.config)


def _in_order(work: Iterator[Work], jobs: int) -> Iterator[Verdict]:
    """Each call's verdict, in the calls' order, with up to ``jobs`` running at once (threads: each waits
    on its probe's child process)."""
    if jobs <= 1:
        for call in work:
            yield call()
        return
    pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="stablelint-confirm")
    pending: collections.deque = collections.deque()
    try:
        for call in work:
            pending.append(pool.submit(call))
            if len(pending) >= 2 * jobs:  # keep every worker busy while the oldest is awaited
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # on an interrupt: no new probes; running ones time out


def _notebook_work(findings: list[Diagnostic], virtual: NotebookModule | None, path: Path, options: Options,
                   config: Config | None) -> Iterator[Work]:
    """The notebook's findings probed in its code cells' module, shown where ``check`` shows them."""
    module = _ModuleFacts.of(virtual.text, notebook=path) if virtual else None
    for shown in findings:
        located = virtual.locate(shown) if virtual else None
        if virtual is None or module is None or located is None:  # SL000: a notebook or cell that does not parse
            call = functools.partial(confirm_one, shown, path, "", _ModuleFacts(None, {}), options, config)
        else:
            call = functools.partial(confirm_one, located, virtual.path, virtual.text, module, options, config)
        yield functools.partial(_shown_as, call, shown)


def _shown_as(call: Work, shown: Diagnostic) -> Verdict:
    return dataclasses.replace(call(), path=shown.path, line=shown.start.line, column=shown.start.column,
                               cell=shown.cell, message=shown.message)


@dataclass(frozen=True)
class _Method:
    owner: str  # the class's name
    node: ast.FunctionDef


@dataclass
class _ModuleFacts:
    tree: ast.Module | None
    aliases: dict[str, str]  # local name -> top-level module it imports
    notebook: Path | None = None  # the notebook whose code cells the module is (its folder's modules import)

    @classmethod
    def of(cls, text: str, notebook: Path | None = None) -> "_ModuleFacts":
        try:
            tree = ast.parse(text)
        except SyntaxError:
            return cls(None, {}, notebook=notebook)
        aliases: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for name in node.names:
                    aliases[(name.asname or name.name).split(".")[0]] = name.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for name in node.names:
                    aliases[name.asname or name.name] = node.module.split(".")[0]
        return cls(tree, aliases, notebook=notebook)

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
        for pool in (used, set(self.aliases.values())):
            found = [FRAMEWORK_OF[m] for m in pool if m in FRAMEWORK_OF]
            for framework in FRAMEWORK_NAMES:  # in order of preference
                if framework in found:
                    return framework
        return None

    def missing_frameworks(self) -> list[str]:
        """The ML packages the module imports that the Python running stablelint (and the probe) lacks."""
        wanted = sorted({m for m in self.aliases.values() if m in FRAMEWORK_OF})
        return [m for m in wanted if importlib.util.find_spec(m) is None]


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
        return _verdict(diagnostic, display, SKIPPED, "the function uses none of PyTorch, JAX, TensorFlow or NumPy",
                        function=function)
    missing = module.missing_frameworks()
    if missing:
        return _verdict(diagnostic, display, SKIPPED, f"the module imports {missing[0]}, which is not installed in "
                        "the Python that runs stablelint (and so the probe)", function=function)
    entry = config.confirm_entry(module.notebook or path, function) if config is not None else None
    if family is not None:
        regime_names, dtypes = family
        span = None if diagnostic.code in regimes.DOWNSTREAM else [
            [diagnostic.start.line, diagnostic.start.column], [diagnostic.end.line, diagnostic.end.column]]
        request = {"mode": "probe", "path": str(path.resolve()), "function": function, "framework": framework,
                   "span": span,
                   "device": options.device, "regimes": list(regime_names), "dtypes": list(dtypes),
                   "config": {**entry.as_request(), "root": str(config.root)} if entry and config else None}
    else:
        request = {"mode": "shapes", "path": str(path.resolve()), "function": function, "framework": framework,
                   "device": options.device, "regimes": list(shape_regimes or ()), "code": diagnostic.code}
    built = config.class_entry(module.notebook or path, function.rpartition(".")[0]) \
        if config is not None and "." in function else None  # how to build a method's class
    request["instance"] = {**built.as_request(), "root": str(config.root)} if built and config else None
    if module.notebook is not None:  # the module is a temporary file: the notebook's siblings import
        request["folder"] = str(module.notebook.resolve().parent)
    outcome = run_probe(request, options.timeout, options.memory_mb)
    data = outcome.data
    if outcome.status == "confirmed":
        witness = Witness(**data["witness"])
        verdict = _verdict(diagnostic, display, CONFIRMED, _witness_text(witness), function=function,
                           device=witness.device, witness=witness)
        fix = diagnostic.fix
        if fix is not None and (fix.applicability == "safe" or options.unsafe_fixes):
            verdict.fix = _verify_fix(diagnostic, path, text, request, witness, options)
        return verdict
    if outcome.status == "not-reproduced":
        return _verdict(diagnostic, display, NOT_REPRODUCED, _not_reproduced(diagnostic.code, framework, data),
                        function=function, device=data["device"], tried=data["tried"])
    kind = SKIPPED if outcome.status == "skipped" else ERROR
    reason = data.get("reason", "the probe failed")
    if data.get("unfit"):  # say how to make it fit
        held = data.get("objects") or []
        if held:
            reason += (f"; {', '.join(held)} {'holds an object' if len(held) == 1 else 'hold objects'} "
                       "no synthesised array can stand for: give a factory")
        else:
            reason += "; give its shapes or a factory"
        reason += f" in {confirm_table(f'{Path(diagnostic.path).name}:{function}')}"
    return _verdict(diagnostic, display, kind, reason, function=function, output=outcome.output)


def _not_reproduced(code: str, framework: str, data: dict) -> str:
    """What was tried, on which arguments, and (where the function did fail) what came from elsewhere."""
    arguments = ", ".join(data["arguments"]) or "no array arguments"
    if regimes.shape_family(code):
        looked = {"SL310": "a scalar loss", "SL402": "no broadcast error"}.get(
            code,
            "no (N, N) output" + (" and no op given (N, 1) and (N,)" if framework in ("torch", "numpy") else ""))
        reason = (f"{looked} in {_runs(data['runs'])} on {data['device']} with N = {regimes.SHAPE_N}; shaped "
                  f"{arguments} as: {', '.join(data['tried'])}")
    else:
        checked = {"numpy": "outputs (NumPy: forward only)",
                   "jax": "outputs, gradients and intermediates (jax.debug_nans)"}.get(framework,
                                                                                   "outputs and gradients")
        elsewhere = data.get("elsewhere")  # the function did fail, through something else than this finding
        held = "the flagged expression stayed finite" if elsewhere else f"finite {checked}"
        reason = (f"{held} in {_runs(data['runs'])} on {data['device']}; varied {arguments} "
                  f"under: {', '.join(data['tried'])}")
        if data.get("inputs"):  # the default inputs did not fit: which others ran
            reason += f"; with {' / '.join(data['inputs'])}"
        if elsewhere:
            reason += (f"; the function's {_witness_text(Witness(**elsewhere))} comes from elsewhere in it")
    if data.get("failed_runs"):
        reason += f"; {_runs(data['failed_runs'], 'other ')} failed ({data['last_error']})"
    return reason


def _runs(count: int, kind: str = "") -> str:
    return f"{count} {kind}run{'' if count == 1 else 's'}"


def _witness_text(witness: Witness) -> str:
    if witness.shapes is not None:
        given = ", ".join(f"{name} of shape {regimes.show_shape(shape)}" for name, shape in witness.shapes.items())
        where = "" if witness.where in ("output", "call") else f"{witness.where}: "
        return f"{where}{witness.value} with {given or 'no array arguments'}, {witness.dtype} on {witness.device}"
    description = regimes.DESCRIPTIONS.get(witness.regime, witness.regime)
    if witness.argument is None:
        given = f"with {description}"
    elif witness.argument == "all":
        given = f"with every array argument at {description}"
    else:
        given = f"with {witness.argument} = {description}"
    inputs = f" ({witness.inputs})" if witness.inputs else ""
    where = "" if witness.where == "call" else f" in the {witness.where}"
    if witness.at_finding == witness.value:  # the watched expression itself went non-finite
        where = f" at the flagged expression and{where}"
    elif witness.at_finding:
        where += f" ({witness.at_finding} at the flagged expression)"
    return f"{witness.value}{where} {given}{inputs}, {witness.dtype} on {witness.device}"


def _verify_fix(diagnostic: Diagnostic, path: Path, text: str, request: dict, witness: Witness,
                options: Options) -> FixCheck:
    fixed_text = apply_fixes(text, [diagnostic.fix])  # type: ignore[list-item]
    with tempfile.TemporaryDirectory(prefix="stablelint-fixed-") as folder:
        fixed_path = Path(folder) / path.name
        fixed_path.write_text(fixed_text, encoding="utf-8")
        mode = "verify" if request["mode"] == "probe" else "verify-shapes"
        verify = {**request, "mode": mode, "fixed_path": str(fixed_path),
                  "witness": {"argument": witness.argument, "regime": witness.regime, "dtype": witness.dtype,
                              "plan": witness.plan}}
        outcome = run_probe(verify, options.timeout, options.memory_mb)
    data = outcome.data
    applicability = diagnostic.fix.applicability  # type: ignore[union-attr]
    if outcome.status in ("verified", "not-removed", "disagrees"):
        return FixCheck(outcome.status, data.get("detail", ""), applicability)
    return FixCheck("error", data.get("detail") or data.get("reason") or "the fixed copy could not be run",
                    applicability)
