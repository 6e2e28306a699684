"""Applying every fix, unsafe ones included, to every realistic file we have never breaks code.

For each fixture, rule example and shared-corpus case that parses: the fixed text parses, no fix was
rolled back, each rule has at least as many fewer findings as fixes of it were applied, and fixing
the result again changes nothing.
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import pytest

from fixing import ALL_RULES
from stablelint.catalog import load_catalog
from stablelint.fixer import FixPolicy
from stablelint.runner import Task, lint_bytes
from stablelint.source import SourceProblem, decode

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "cases"


def _parses(data: bytes) -> bool:
    try:
        ast.parse(decode(data).text)
    except (SourceProblem, SyntaxError, ValueError, RecursionError):
        return False  # fixtures of files that do not parse, decode or nest sanely: nothing to fix
    return True


def _sources() -> list[pytest.param]:
    params = []
    for path in sorted((ROOT / "fixtures").rglob("*.py")) + sorted(CORPUS.rglob("*.py")):
        label = path.relative_to(ROOT.parent if CORPUS in path.parents else ROOT)
        params.append(pytest.param(path.read_bytes(), id=str(label)))
    for rule in load_catalog().values():
        for index, example in enumerate(rule.bad):
            params.append(pytest.param(example.code.encode(), id=f"{rule.id}-bad-{index}"))
    return [param for param in params if _parses(param.values[0])]


def _task(mode: str) -> Task:
    return Task(path="-", display="snippet.py", rule_ids=ALL_RULES, extend_rules=(), ignore=frozenset(),
                mode=mode, policy=FixPolicy(unsafe=True))


SOURCES = _sources()


def test_the_property_covers_the_corpus_and_fixes_something():
    assert len(SOURCES) > 100
    fixed_somewhere = sum(bool(lint_bytes(param.values[0], _task("fix")).fixed) for param in SOURCES)
    assert fixed_somewhere > 50


@pytest.mark.parametrize("data", SOURCES)
def test_all_fixes_leave_code_that_parses_and_lints_cleaner(data: bytes):
    before = lint_bytes(data, _task("check"))
    result = lint_bytes(data, _task("fix"))
    assert not result.errors, [e.message for e in result.errors]
    fixed = result.source
    assert fixed is not None
    ast.parse(fixed)
    fixed_bytes = fixed.encode(decode(data).encoding)  # what --fix writes: the file's own encoding

    applied = Counter(d.code for d in result.fixed)
    counts_before = Counter(d.code for d in before.diagnostics)
    after = lint_bytes(fixed_bytes, _task("check"))
    counts_after = Counter(d.code for d in after.diagnostics)
    for code, n in applied.items():
        assert counts_after[code] <= counts_before[code] - n, (code, counts_before[code], n, counts_after[code])
    assert not [d for d in after.diagnostics if d.fix is not None], "fixes left after the last round"

    again = lint_bytes(fixed_bytes, _task("fix"))
    assert again.source == fixed and not again.fixed
