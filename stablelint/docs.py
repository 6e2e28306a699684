"""Rule documentation for humans and tools: `stablelint rule` and `stablelint rules`."""

from __future__ import annotations

import json
import textwrap

from .catalog import Rule

SECTION_TITLES = {
    "what_it_does": "What it does",
    "why_is_this_bad": "Why is this bad?",
    "example": "Example",
    "use_instead": "Use instead",
    "fix_safety": "Fix safety",
    "references": "References",
}
CODE_SECTIONS = ("example", "use_instead")
FRAMEWORK_LABELS = {"torch": "PyTorch", "tensorflow": "TensorFlow/Keras", "jax": "JAX", "numpy": "NumPy/SciPy"}


def _fix_label(rule: Rule) -> str:
    return {"safe": "safe fix", "unsafe": "unsafe fix", "none": "no fix"}[rule.fix]


def rule_text(rule: Rule) -> str:
    frameworks = ", ".join(FRAMEWORK_LABELS.get(f, f) for f in rule.frameworks) or "any"
    lines = [f"# {rule.name} ({rule.id})", "", rule.summary, "",
             f"Severity: {rule.severity}. Fix: {_fix_label(rule)}. Frameworks: {frameworks}.", ""]
    for key, title in SECTION_TITLES.items():
        body = rule.docs.get(key)
        if not body:
            continue
        lines.append(f"## {title}")
        if key == "references" and isinstance(body, list):
            lines.extend(f"- {ref}" for ref in body)
        elif key in CODE_SECTIONS:
            lines.extend(["```python", str(body).rstrip("\n"), "```"])
        else:
            lines.extend(textwrap.fill(p, 88) for p in str(body).strip().split("\n\n"))
        lines.append("")
    if not rule.builtin:
        lines.append(f"(defined in {rule.source})")
    return "\n".join(lines).rstrip() + "\n"


def rule_json(rule: Rule) -> str:
    return json.dumps(_rule_dict(rule), indent=2)


def _rule_dict(rule: Rule) -> dict:
    return {
        "code": rule.id,
        "name": rule.name,
        "summary": rule.summary,
        "severity": rule.severity,
        "fix": rule.fix,
        "frameworks": list(rule.frameworks),
        "docs": rule.docs,
        "builtin": rule.builtin,
    }


def rules_table(catalog: dict[str, Rule]) -> str:
    width = max((len(r.name) for r in catalog.values()), default=4)
    header = f"{'code':<6}  {'name':<{width}}  {'fix':<6}  {'frameworks':<28}  summary"
    lines = [header, "-" * len(header)]
    for rule in catalog.values():
        frameworks = ",".join(rule.frameworks) or "any"
        lines.append(f"{rule.id:<6}  {rule.name:<{width}}  {rule.fix:<6}  {frameworks:<28}  {rule.summary}")
    return "\n".join(lines)


def rules_json(catalog: dict[str, Rule]) -> str:
    return json.dumps([_rule_dict(r) for r in catalog.values()], indent=2)
