"""Running the engine over many files: the cache, a process pool, progress.

Each file becomes a small picklable ``Task`` (its path, the selected rule
ids, the user's rule folders, the codes ignored for it).  The main process
reads each file and asks the cache; only the misses go to the workers, which
lint the bytes they are handed and send back a ``FileResult`` (diagnostics
only, never the syntax tree), so memory stays flat however many files there
are.  Results are yielded as they come, in the order of the tasks.
Notebooks (``.ipynb``) are linted, fixed and written back by ``notebook.lint_notebook``
with the same per-text lint function.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

from .cache import Cache, cache_key
from .diagnostic import Diagnostic, FileError, FileResult, Fix
from .fixer import ChangedOnDisk, FixPolicy, fix_text, write_back
from .source import SourceProblem, decode

# Below this many files the pool's start-up costs more than it saves.
POOL_THRESHOLD = 12


@dataclass(frozen=True)
class Task:
    path: str  # where to read it
    display: str  # how to print it
    rule_ids: tuple[str, ...]
    extend_rules: tuple[str, ...]
    ignore: frozenset[str]
    keep_source: bool = False
    mode: str = "check"  # "check" | "fix" (write fixes) | "diff" (show them)
    policy: FixPolicy = FixPolicy()

    @property
    def settings(self) -> str:
        """What, besides the file's bytes, its result depends on (for the cache key)."""
        return (f"{','.join(self.rule_ids)}|{','.join(sorted(self.ignore))}|{','.join(self.extend_rules)}|"
                f"{self.policy}")


def tune_collector() -> None:
    """Collect garbage less often, for a process that is ours (the CLI, its workers, the server).

    The analysis makes many small short-lived objects beside a syntax tree that lives as long as
    the file's analysis; collecting the young generation every 700 allocations rescans them for
    nothing (a tenth of the time on a large file). Not for the flake8 plugin: flake8's process is
    not ours to tune.
    """
    gc.set_threshold(20_000, 50, 100)


def lint_bytes(data: bytes, task: Task, path: Path | None = None) -> FileResult:
    # Imported here: a run the cache answers entirely never loads the engine and the rules.
    from .engine import lint_source, problem_result
    from .notebook import is_notebook, lint_notebook
    from .rulebook import rule_set

    rules = rule_set(task.rule_ids, task.extend_rules)
    notebook = is_notebook(task.display) or is_notebook(task.path)
    ignored_ids = frozenset(rule_id for rule_id in rules.ids() if any(rule_id.startswith(c) for c in task.ignore))

    def lint(text: str) -> FileResult:
        result = lint_source(text, task.display, rules, ignore=ignored_ids,
                             keep_source=task.keep_source and not notebook)
        for diagnostic in result.diagnostics:
            diagnostic.fix = _as_configured(diagnostic, task.policy)
        return result

    if notebook:
        try:
            return lint_notebook(data, task.display, lint, mode=task.mode, policy=task.policy, path=path,
                                 keep_source=task.keep_source,
                                 problem=lambda p: problem_result(task.display, SourceProblem(p.message, p.line,
                                                                                             p.column), rules))
        except RecursionError:
            result = FileResult(task.display)
            result.errors.append(FileError(task.display, "internal error: the notebook is nested too deeply"))
            return result
    try:
        decoded = decode(data)
    except SourceProblem as problem:
        return problem_result(task.display, problem, rules)
    try:
        if task.mode == "check":
            return lint(decoded.text)
        return _fix(data, decoded, lint, task, path)
    except RecursionError:
        result = FileResult(task.display)
        result.errors.append(FileError(task.display, "internal error: the file is nested too deeply"))
        return result


def _as_configured(diagnostic: Diagnostic, policy: FixPolicy) -> Fix | None:
    """The finding's fix after fixable/unfixable/extend-*-fixes, or None."""
    kind = policy.applicability(diagnostic)
    fix = diagnostic.fix
    if kind is None or fix is None:
        return None
    if kind != fix.applicability:
        return Fix(fix.edits, kind, fix.description, fix.imports)  # type: ignore[arg-type]
    return fix


def _fix(data: bytes, decoded, lint, task: Task, path: Path | None) -> FileResult:
    outcome = fix_text(decoded.text, lint, task.policy, task.display)
    result = outcome.result or FileResult(task.display)
    result.errors.extend(outcome.errors)
    result.fixed = outcome.applied
    if path is None and task.mode == "fix":
        result.source = outcome.text  # stdin: the caller prints the (fixed) text
    elif outcome.changed:
        if task.mode == "diff":
            result.diff = unified_diff(outcome.original, outcome.text, task.display)
        else:
            try:
                write_back(path, data, outcome.text, decoded.encoding, decoded.bom)
            except ChangedOnDisk as exc:
                result.errors.append(FileError(task.display, str(exc)))
                result.fixed = []
            except OSError as exc:
                result.errors.append(FileError(task.display, f"cannot write the fixed file: {exc.strerror or exc}"))
                result.fixed = []
    return result


def unified_diff(before: str, after: str, display: str) -> str:
    """A unified diff like git's (``a/``, ``b/`` prefixes for relative paths)."""
    import difflib

    old, new = (display, display) if display.startswith("/") else (f"a/{display}", f"b/{display}")
    lines = []
    for line in difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                     fromfile=old, tofile=new):
        lines.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(lines)


def _worker_init() -> None:
    # Workers should not fight the parent over the terminal's Ctrl-C.
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _lint_missed(item: tuple[Task, str | None]) -> tuple[str | None, FileResult]:
    """Worker side of a cache miss: read the file again, lint it, and key what was read."""
    task, code = item
    try:
        data = Path(task.path).read_bytes()
    except OSError as exc:
        result = FileResult(task.display)
        result.errors.append(FileError(task.display, f"cannot read file: {exc.strerror or exc}"))
        return None, result
    key = cache_key(data, task.display, task.settings, code) if code is not None else None
    return key, lint_bytes(data, task, Path(task.path))


def run_tasks(tasks: list[Task], jobs: int, *, cache: Cache | None = None,
              progress: Callable[[int, int], None] | None = None) -> Iterator[FileResult]:
    """Lint ``tasks``, yielding results in their order as soon as they are ready.

    Cached results are reused and new ones stored.  Only keys and results are
    held in memory, never the files' text or trees.
    """
    total = len(tasks)
    ready: dict[int, FileResult] = {}
    misses: list[int] = []
    for index, task in enumerate(tasks):
        hit = None
        if cache is not None:
            try:
                data = Path(task.path).read_bytes()
            except OSError:
                data = None
            if data is not None:
                hit = cache.get(cache_key(data, task.display, task.settings, cache.code))
                if hit is not None and task.keep_source:
                    hit.source = _text_or_none(data)
        if hit is not None:
            ready[index] = hit
        else:
            misses.append(index)
    done = len(ready)
    if progress is not None and done:
        progress(done, total)
    next_index = 0
    code = cache.code if cache is not None else None
    for index, (key, result) in zip(misses, _lint_all([(tasks[i], code) for i in misses], jobs)):
        ready[index] = result
        if cache is not None and key is not None:
            cache.put(key, result)
        done += 1
        if progress is not None:
            progress(done, total)
        while next_index in ready:
            yield ready.pop(next_index)
            next_index += 1
    while next_index in ready:
        yield ready.pop(next_index)
        next_index += 1


def _lint_all(items: list[tuple[Task, str | None]], jobs: int) -> Iterator[tuple[str | None, FileResult]]:
    if jobs <= 1 or len(items) < POOL_THRESHOLD:
        for item in items:
            yield _lint_missed(item)
        return
    warm(task for task, _ in items)  # only now: a run the cache answers entirely needs no rules
    context = multiprocessing.get_context("fork") if sys.platform.startswith("linux") else None
    chunksize = max(1, min(8, len(items) // (jobs * 8)))
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_worker_init) as pool:
        yield from pool.map(_lint_missed, items, chunksize=chunksize)


def _text_or_none(data: bytes) -> str | None:
    try:
        return decode(data).text
    except SourceProblem:
        return None


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def display_path(path: Path, cwd: Path) -> str:
    try:
        return path.resolve().relative_to(cwd.resolve()).as_posix() if path.is_absolute() else path.as_posix()
    except ValueError:
        return str(path)


def warm(tasks: Iterable[Task]) -> None:
    """Compile rule sets before forking so workers inherit them."""
    from .rulebook import rule_set

    for key in {(t.rule_ids, t.extend_rules) for t in tasks}:
        rule_set(*key)
