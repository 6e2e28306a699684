"""The core every front end calls: ``lint_source(text, path, rules)``.

Prefilter on text, parse (CPython's ``ast``), run the dataflow analysis
with the selected rules hooked to the ops they care about, then turn what
they reported into diagnostics: one finding per spot (a rule that
``overrides`` another wins at the same node), positions converted to
characters for reported nodes only, suppression comments applied.  Problems with the source become
SL000 findings; an exception inside a rule becomes a ``FileError`` naming
the rule and the file, and the other rules still run.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
import traceback
from dataclasses import dataclass
from typing import Callable, TypeVar

import ast

from .checks import Report
from .dataflow import Analyzer, Context
from .diagnostic import PARSE_RULE, Diagnostic, FileError, FileResult, Fix, Position
from .fixes import loses_comment
from .positions import SourceText
from .render import Renderer
from .rulebook import CompiledRule, RuleSet
from .source import SourceProblem, parse
from .suppression import ALL, LineSuppressions, file_suppression
from .values import Value
from .words import contains_word

# Signs that a file takes part in training: models, optimizers, autodiff. Code without any
# (data preprocessing, feature extraction, metrics) has no gradient to turn into NaN.
# Plain substrings, and words that must not be the tail of a longer name (``loss`` but not
# ``gloss``; with True, not its head either: not ``losses``).  A regular expression with these
# as alternatives costs over a millisecond per file, ten times what these searches do.
_TRAINING_TEXT = (
    "nn.Module", ".backward(", "GradientTape", "value_and_grad", "torch.autograd", "optimizer.", "optimizers.",
    "keras.Model", "layers.Layer", "linen", "Parameter(", "requires_grad", "training_step", "jax.jvp", "jax.vjp",
    "custom_vjp",
)
_TRAINING_WORDS = (
    ("Module)", False), ("grad(", False), ("optim", True), ("optax", True), ("Model)", False), ("Layer)", False),
    ("Variable(", False), ("loss", True),
)


def takes_part_in_training(text: str) -> bool:
    return (any(needle in text for needle in _TRAINING_TEXT)
            or any(contains_word(text, word, whole=whole) for word, whole in _TRAINING_WORDS))


# The parser and the analysis both recurse along the syntax tree; deeply nested or
# very long expressions (generated code) overflow the default C stack and crash
# the process.  Each file is therefore handled on a thread
# with a large stack (reserved, not committed, memory) and a matching limit.
_STACK_BYTES = 512 * 1024 * 1024
_RECURSION_LIMIT = 60_000
T = TypeVar("T")



def on_big_stack(fn: Callable[..., T], *args, **kwargs) -> T:
    """Run ``fn`` on this process's big-stack thread; re-raise what it raises.

    The thread lives as long as the process (one per process, started on first use): starting a
    thread with a reserved 512 MiB stack for every file costs half a millisecond each.
    """
    worker = _BigStack.current()
    if threading.current_thread() is worker.thread:
        return fn(*args, **kwargs)  # already on it
    done = threading.Event()
    outcome: list = []
    worker.jobs.put((fn, args, kwargs, outcome, done))
    done.wait()
    ok, value = outcome[0]
    if not ok:
        raise value
    return value


class _BigStack:
    _instance: "_BigStack | None" = None
    _lock = threading.Lock()

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.jobs: queue.SimpleQueue = queue.SimpleQueue()
        if sys.getrecursionlimit() < _RECURSION_LIMIT:
            sys.setrecursionlimit(_RECURSION_LIMIT)
        previous = threading.stack_size(_STACK_BYTES)
        try:
            self.thread = threading.Thread(target=self._serve, name="stablelint-big-stack", daemon=True)
            self.thread.start()
        finally:
            threading.stack_size(previous)

    @classmethod
    def current(cls) -> "_BigStack":
        with cls._lock:
            if cls._instance is None or cls._instance.pid != os.getpid():  # none yet, or forked
                cls._instance = cls()
            return cls._instance

    def _serve(self) -> None:
        while True:
            fn, args, kwargs, outcome, done = self.jobs.get()
            try:
                outcome.append((True, fn(*args, **kwargs)))
            except BaseException as exc:  # noqa: BLE001 - handed back to the caller
                outcome.append((False, exc))
            finally:
                del fn, args, kwargs  # do not keep the last file's trees alive while idle
                done.set()


@dataclass
class _Pending:
    rule: CompiledRule
    node: ast.AST
    message: str
    fix: Fix | None


def lint_source(text: str, path: str, rules: RuleSet, *, ignore: frozenset[str] = frozenset(),
                keep_source: bool = False) -> FileResult:
    """Lint one file's text. ``ignore`` holds codes switched off for this file."""
    return on_big_stack(_lint_source, text, path, rules, ignore, keep_source)


def _lint_source(text: str, path: str, rules: RuleSet, ignore: frozenset[str], keep_source: bool) -> FileResult:
    result = FileResult(path, source=text if keep_source else None)
    disabled = file_suppression(text)
    if disabled is not None and disabled.codes is ALL:
        return result
    active = [c for c in rules.compiled if c.rule.id not in ignore
              and not (disabled is not None and any(c.rule.id.startswith(x) for x in disabled.codes or ()))]
    if not rules.needs_parse(text, active):
        return result
    try:
        module = parse(text)
    except SourceProblem as problem:
        if any(c.rule.id == PARSE_RULE for c in active):
            position = Position(problem.line, problem.column)
            rule = rules.by_id[PARSE_RULE].rule
            result.diagnostics.append(Diagnostic(PARSE_RULE, problem.message, path, position, position,
                                                 severity=rule.severity, rule_name=rule.name))
        return result
    return _analyze(module, text, path, active, result)


def problem_result(path: str, problem: SourceProblem, rules: RuleSet) -> FileResult:
    """An SL000 finding for a file that could not even be decoded."""
    result = FileResult(path)
    compiled = rules.by_id.get(PARSE_RULE)
    if compiled is not None:
        position = Position(problem.line, problem.column)
        result.diagnostics.append(Diagnostic(PARSE_RULE, problem.message, path, position, position,
                                             severity=compiled.rule.severity, rule_name=compiled.rule.name))
    return result


def _analyze(module: ast.Module, text: str, path: str, active: list[CompiledRule], result: FileResult) -> FileResult:
    pending: list[_Pending] = []
    broken: set[str] = set()
    hooks: dict[str, list] = {}
    renderer_box: list[Renderer] = []  # set once the analyzer exists; hooks run only after that

    def make_hook(compiled: CompiledRule):
        checker = compiled.checker
        rule_id = compiled.rule.id

        def sink(node: ast.AST, message: str, fix: Fix | None) -> None:
            pending.append(_Pending(compiled, node, message, fix))

        def hook(value: Value, context: Context) -> None:
            if rule_id in broken:
                return
            try:
                checker.check(value, context, Report(sink, renderer_box[0]))
            except Exception as exc:  # noqa: BLE001 - one rule's bug must not stop the others
                broken.add(rule_id)
                result.errors.append(FileError(path, _describe(exc), rule=rule_id))

        return hook, sink

    sinks = []
    for compiled in active:
        if compiled.checker is None:
            continue
        hook, sink = make_hook(compiled)
        sinks.append((compiled, sink))
        for op in compiled.ops:
            hooks.setdefault(op, []).append(hook)
    if not hooks:
        return result
    from .ops import op_table

    analyzer = Analyzer(module, op_table(), hooks)
    if takes_part_in_training(text):
        analyzer.flags.add("autodiff")
    source = SourceText(text)
    renderer = Renderer(source, analyzer.table, analyzer.module_scope, analyzer.frameworks)
    renderer_box.append(renderer)
    try:
        analyzer.run()
    except RecursionError:
        result.errors.append(FileError(path, "internal error: the file is nested too deeply to analyse"))
    except Exception as exc:  # noqa: BLE001 - report and carry on with what was found
        result.errors.append(FileError(path, f"internal error while analysing: {_describe(exc)}"))
    for compiled, sink in sinks:
        if compiled.rule.id in broken:
            continue
        try:
            compiled.checker.finish(analyzer.context(), Report(sink, renderer))
        except Exception as exc:  # noqa: BLE001
            broken.add(compiled.rule.id)
            result.errors.append(FileError(path, _describe(exc), rule=compiled.rule.id))
    pending = _one_per_spot(pending)
    if not pending:
        return result
    suppressions = LineSuppressions(source.lines)
    for item in pending:
        start, end = source.start(item.node), source.end(item.node)
        code = item.rule.rule.id
        if suppressions.suppressed(code, start.line):
            continue
        fix = None if item.fix is None or loses_comment(source, item.fix) else item.fix  # never delete a comment
        result.diagnostics.append(Diagnostic(code, item.message, path, start, end, severity=item.rule.rule.severity,
                                             fix=fix, rule_name=item.rule.rule.name))
    result.diagnostics.sort(key=Diagnostic.sort_key)
    return result


def _one_per_spot(pending: list[_Pending]) -> list[_Pending]:
    """Drop findings another rule overrides at the same node, and exact repeats."""
    by_node: dict[int, list[_Pending]] = {}
    for item in pending:
        by_node.setdefault(id(item.node), []).append(item)
    kept: list[_Pending] = []
    for items in by_node.values():
        present = {i.rule.rule.id for i in items}
        overridden = {o for i in items for o in i.rule.rule.overrides if o in present and o != i.rule.rule.id}
        seen: set[str] = set()
        for item in items:
            rule_id = item.rule.rule.id
            if rule_id in overridden or rule_id in seen:
                continue
            seen.add(rule_id)
            kept.append(item)
    return kept


def _describe(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"
