"""Helpers for fix tests: fix source text through the same path as `stablelint check --fix -`."""

from __future__ import annotations

import math

from stablelint.catalog import load_catalog
from stablelint.fixer import FixPolicy
from stablelint.runner import Task, lint_bytes

ALL_RULES = tuple(load_catalog())


def fix(code: str, *, unsafe: bool = True, select: tuple[str, ...] = ALL_RULES, name: str = "snippet.py") -> str:
    """``code`` after every applicable fix (unsafe ones too, unless told otherwise)."""
    task = Task(path="-", display=name, rule_ids=select, extend_rules=(), ignore=frozenset(), mode="fix",
                policy=FixPolicy(unsafe=unsafe))
    result = lint_bytes(code.encode(), task)
    assert not result.errors, result.errors
    return result.source if result.source is not None else code


def findings(code: str, name: str = "snippet.py") -> list[tuple[str, int]]:
    task = Task(path="-", display=name, rule_ids=ALL_RULES, extend_rules=(), ignore=frozenset())
    result = lint_bytes(code.encode(), task)
    assert not result.errors, result.errors
    return [(d.code, d.line) for d in result.diagnostics]


def function_of(code: str, name: str = "f"):
    namespace: dict = {}
    exec(compile(code, "<fixture>", "exec"), namespace)  # noqa: S102 - test fixtures we wrote
    return namespace[name]


def assert_numerically_safe(code: str, ordinary: list[tuple], extreme: list[tuple], *, rtol: float = 1e-5,
                            atol: float = 1e-6) -> None:
    """``f`` before and after its fix agree on ordinary inputs; on extreme ones the fixed ``f`` is finite
    where the original is not (and was not finite there, so the test can fail)."""
    import torch

    fixed = fix(code, unsafe=False)
    assert fixed != code, "no safe fix was applied"
    before, after = function_of(code), function_of(fixed)
    for args in ordinary:
        expected, got = before(*args), after(*args)
        assert torch.allclose(torch.as_tensor(expected, dtype=torch.float64),
                              torch.as_tensor(got, dtype=torch.float64), rtol=rtol, atol=atol), (expected, got)
    for args in extreme:
        original = torch.as_tensor(before(*args), dtype=torch.float64)
        repaired = torch.as_tensor(after(*args), dtype=torch.float64)
        assert not torch.isfinite(original).all(), f"the original is already finite on {args}"
        assert torch.isfinite(repaired).all(), f"the fixed code is not finite on {args}: {repaired}"


__all__ = ["fix", "findings", "function_of", "assert_numerically_safe", "math"]
