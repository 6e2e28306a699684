"""Running the engine over many files: rule selection per file, a process pool.

Each file becomes a small picklable ``Task`` (its path, the selected rule
ids, the user's rule folders, the codes ignored for it); workers read,
decode and lint it and send back a ``FileResult`` (diagnostics only, never
the syntax tree), so memory stays flat however many files there are.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from .diagnostic import FileError, FileResult
from .engine import lint_source, problem_result
from .rulebook import rule_set
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


def lint_task(task: Task) -> FileResult:
    try:
        data = Path(task.path).read_bytes()
    except OSError as exc:
        result = FileResult(task.display)
        result.errors.append(FileError(task.display, f"cannot read file: {exc.strerror or exc}"))
        return result
    return lint_bytes(data, task)


def lint_bytes(data: bytes, task: Task) -> FileResult:
    rules = rule_set(task.rule_ids, task.extend_rules)
    try:
        text = decode(data).text
    except SourceProblem as problem:
        return problem_result(task.display, problem, rules)
    ignored_ids = frozenset(rule_id for rule_id in rules.ids() if any(rule_id.startswith(c) for c in task.ignore))
    try:
        return lint_source(text, task.display, rules, ignore=ignored_ids, keep_source=task.keep_source)
    except RecursionError:
        result = FileResult(task.display)
        result.errors.append(FileError(task.display, "internal error: the file is nested too deeply"))
        return result


def _worker_init() -> None:
    # Workers should not fight the parent over the terminal's Ctrl-C.
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_tasks(tasks: list[Task], jobs: int) -> Iterator[FileResult]:
    """Results in the order of ``tasks``."""
    if jobs <= 1 or len(tasks) < POOL_THRESHOLD:
        for task in tasks:
            yield lint_task(task)
        return
    context = multiprocessing.get_context("fork") if sys.platform.startswith("linux") else None
    chunksize = max(1, min(16, len(tasks) // (jobs * 4)))
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_worker_init) as pool:
        yield from pool.map(lint_task, tasks, chunksize=chunksize)


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
    for key in {(t.rule_ids, t.extend_rules) for t in tasks}:
        rule_set(*key)
