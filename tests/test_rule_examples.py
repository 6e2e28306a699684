"""Every rule's YAML examples are tests: bad code gives exactly the listed findings, good code none."""

from __future__ import annotations

import pytest

from stablelint.catalog import load_catalog
from stablelint.engine import lint_source
from stablelint.rulebook import rule_set

from fixing import findings, fix

CATALOG = load_catalog()
ALL_RULES = rule_set(tuple(CATALOG))
CASES = [
    pytest.param(rule, kind, i, example, id=f"{rule.id}-{kind}-{i}")
    for rule in CATALOG.values()
    for kind, examples in (("bad", rule.bad), ("good", rule.good))
    for i, example in enumerate(examples)
]


@pytest.mark.parametrize(("rule", "kind", "index", "example"), CASES)
def test_example(rule, kind, index, example):
    result = lint_source(example.code, f"{rule.id}_{kind}_{index}.py", ALL_RULES)
    assert not result.errors, result.errors
    found = sorted((d.line, d.column) for d in result.diagnostics if d.code == rule.id)
    messages = [f"{d.line}:{d.column} {d.code} {d.message}" for d in result.diagnostics]
    assert found == sorted(example.findings), "\n".join(messages)


def test_every_rule_has_complete_docs_and_examples():
    for rule in CATALOG.values():
        assert rule.bad and rule.good, rule.id
        for section in ("what_it_does", "why_is_this_bad", "example", "use_instead", "fix_safety", "references"):
            assert rule.docs.get(section), f"{rule.id} lacks docs.{section}"


FIXED = [
    pytest.param(rule, i, example, id=f"{rule.id}-bad-{i}")
    for rule in CATALOG.values()
    for i, example in enumerate(rule.bad)
    if example.fixed is not None
]


@pytest.mark.parametrize(("rule", "index", "example"), FIXED)
def test_fixed_example(rule, index, example):
    """A bad example's `fixed` text is what `--fix --unsafe-fixes` makes of it, and fixing again changes nothing."""
    fixed = fix(example.code, select=tuple(CATALOG))
    assert fixed == example.fixed
    assert fix(fixed, select=tuple(CATALOG)) == fixed
    assert rule.id not in [code for code, _ in findings(fixed)]


def test_rules_with_a_fix_show_it_in_an_example():
    for rule in CATALOG.values():
        if rule.fix != "none":
            assert any(example.fixed is not None for example in rule.bad), f"{rule.id} has no `fixed` example"
