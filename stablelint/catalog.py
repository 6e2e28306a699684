"""The rule catalog: one YAML file per rule, loaded and validated.

A rule is data (id, name, message, severity, fix applicability, frameworks,
prefilter tokens, documentation, examples) plus either a declarative
pattern over canonical ops or the name of a Python checker.  Built-in rules
live in the package's ``rules/`` folder; users add folders of their own
with the ``extend-rules`` config key, and those rules work the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

try:  # the C loader is several times faster; fall back when PyYAML lacks it
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on the PyYAML build
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

RULE_ID = re.compile(r"^[A-Z]{1,4}[0-9]{3}$")
SEVERITIES = ("error", "warning")
FIX_KINDS = ("safe", "unsafe", "none")
FRAMEWORKS = ("torch", "tensorflow", "jax", "numpy")
DOC_SECTIONS = ("what_it_does", "why_is_this_bad", "example", "use_instead", "fix_safety", "references")
TOP_KEYS = {
    "id", "name", "summary", "message", "severity", "fix", "frameworks", "tokens", "overrides",
    "pattern", "where", "report", "replacement", "checker", "options", "docs", "examples",
}


class CatalogError(Exception):
    """A rule file is malformed; the message names the file and the key."""


@dataclass(frozen=True)
class Example:
    code: str
    findings: tuple[tuple[int, int], ...] = ()  # (line, column), 1-based
    fixed: str | None = None


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    summary: str
    message: str
    severity: str
    fix: str  # "safe" | "unsafe" | "none"
    frameworks: tuple[str, ...]
    tokens: tuple[tuple[str, ...], ...]  # all groups must match; any token of a group
    overrides: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    where: tuple[str, ...] = ()
    report: str | None = None
    replacements: tuple[str, ...] = ()  # one per pattern, or one for all
    checker: str | None = None
    options: dict = field(default_factory=dict, hash=False, compare=False)
    docs: dict = field(default_factory=dict, hash=False, compare=False)
    bad: tuple[Example, ...] = ()
    good: tuple[Example, ...] = ()
    source: str = ""  # the YAML file this rule came from
    builtin: bool = True

    @property
    def fixable(self) -> bool:
        return self.fix != "none"


def builtin_rules_dir() -> Path:
    """The catalog shipped in the wheel, or the checkout's ``rules/`` folder."""
    packaged = Path(__file__).parent / "rules"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "rules"


def _fail(path: Path, key: str, problem: str) -> CatalogError:
    return CatalogError(f"{path}: '{key}': {problem}")


def _str(data: dict, key: str, path: Path, *, required: bool = True, default: str = "") -> str:
    value = data.get(key, None)
    if value is None:
        if required:
            raise _fail(path, key, "is required")
        return default
    if not isinstance(value, str) or (required and not value.strip()):
        raise _fail(path, key, "must be a non-empty string")
    return value


def _str_list(data: dict, key: str, path: Path) -> tuple[str, ...]:
    value = data.get(key) or []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(path, key, "must be a string or a list of strings")
    return tuple(value)


def _tokens(data: dict, path: Path) -> tuple[tuple[str, ...], ...]:
    value = data.get("tokens")
    if value is None and data.get("checker") == "parse_error":
        return ()  # SL000 runs on whatever gets parsed
    if not isinstance(value, list) or not value:
        raise _fail(path, "tokens", "must be a non-empty list (strings, or lists of alternatives)")
    groups = []
    for group in value:
        if isinstance(group, str):
            group = [group]
        if not isinstance(group, list) or not group or not all(isinstance(t, str) and t for t in group):
            raise _fail(path, "tokens", f"bad token group {group!r}")
        groups.append(tuple(group))
    return tuple(groups)


def _position(text: Any, path: Path, key: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d+):(\d+)\s*", str(text))
    if not match:
        raise _fail(path, key, f"finding {text!r} must be 'line:column'")
    return int(match[1]), int(match[2])


def _examples(data: dict, path: Path) -> tuple[tuple[Example, ...], tuple[Example, ...]]:
    examples = data.get("examples")
    if not isinstance(examples, dict):
        raise _fail(path, "examples", "must be a mapping with 'bad' and 'good' lists")
    unknown = set(examples) - {"bad", "good"}
    if unknown:
        raise _fail(path, f"examples.{sorted(unknown)[0]}", "unknown key (expected 'bad' or 'good')")
    result = []
    for kind in ("bad", "good"):
        items = examples.get(kind)
        if not isinstance(items, list) or not items:
            raise _fail(path, f"examples.{kind}", "must be a non-empty list")
        parsed = []
        for i, item in enumerate(items):
            key = f"examples.{kind}[{i}]"
            if not isinstance(item, dict) or not isinstance(item.get("code"), str):
                raise _fail(path, key, "needs a 'code' string")
            extra = set(item) - {"code", "findings", "fixed", "note"}
            if extra:
                raise _fail(path, f"{key}.{sorted(extra)[0]}", "unknown key")
            findings = tuple(_position(f, path, key) for f in item.get("findings") or [])
            if kind == "bad" and not findings:
                raise _fail(path, key, "a bad example must list its 'findings' as 'line:column'")
            if kind == "good" and findings:
                raise _fail(path, key, "a good example cannot have findings")
            fixed = item.get("fixed")
            if fixed is not None and not isinstance(fixed, str):
                raise _fail(path, f"{key}.fixed", "must be a string")
            parsed.append(Example(code=item["code"], findings=findings, fixed=fixed))
        result.append(tuple(parsed))
    return result[0], result[1]


def parse_rule(data: Any, path: Path, *, builtin: bool) -> Rule:
    if not isinstance(data, dict):
        raise CatalogError(f"{path}: a rule file must be a YAML mapping")
    unknown = set(data) - TOP_KEYS
    if unknown:
        raise _fail(path, sorted(unknown)[0], "unknown key")
    rule_id = _str(data, "id", path)
    if not RULE_ID.match(rule_id):
        raise _fail(path, "id", f"{rule_id!r} is not a rule id like SL101")
    severity = _str(data, "severity", path, required=False, default="error")
    if severity not in SEVERITIES:
        raise _fail(path, "severity", f"must be one of {', '.join(SEVERITIES)}")
    fix = _str(data, "fix", path, required=False, default="none")
    if fix not in FIX_KINDS:
        raise _fail(path, "fix", f"must be one of {', '.join(FIX_KINDS)}")
    frameworks = _str_list(data, "frameworks", path)
    bad_fw = [f for f in frameworks if f not in FRAMEWORKS]
    if bad_fw:
        raise _fail(path, "frameworks", f"unknown framework {bad_fw[0]!r} (known: {', '.join(FRAMEWORKS)})")
    patterns = _str_list(data, "pattern", path)
    checker = data.get("checker")
    if checker is not None and not isinstance(checker, str):
        raise _fail(path, "checker", "must be a string")
    if bool(patterns) == bool(checker):
        raise _fail(path, "pattern", "a rule needs exactly one of 'pattern' or 'checker'")
    docs = data.get("docs")
    if not isinstance(docs, dict):
        raise _fail(path, "docs", "must be a mapping")
    for section in DOC_SECTIONS:
        if section not in docs:
            raise _fail(path, f"docs.{section}", "is required")
    extra_docs = set(docs) - set(DOC_SECTIONS)
    if extra_docs:
        raise _fail(path, f"docs.{sorted(extra_docs)[0]}", "unknown key")
    options = data.get("options") or {}
    if not isinstance(options, dict):
        raise _fail(path, "options", "must be a mapping")
    bad, good = _examples(data, path)
    overrides = _str_list(data, "overrides", path)
    return Rule(
        id=rule_id,
        name=_str(data, "name", path),
        summary=_str(data, "summary", path),
        message=_str(data, "message", path),
        severity=severity,
        fix=fix,
        frameworks=frameworks,
        tokens=_tokens(data, path),
        overrides=overrides,
        patterns=patterns,
        where=_str_list(data, "where", path),
        report=data.get("report"),
        replacements=_str_list(data, "replacement", path),
        checker=checker,
        options=options,
        docs=docs,
        bad=bad,
        good=good,
        source=str(path),
        builtin=builtin,
    )


def load_rule_file(path: Path, *, builtin: bool) -> Rule:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{path}: cannot read rule file: {exc}") from None
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise CatalogError(f"{path}: not valid YAML: {exc}") from None
    return parse_rule(data, path, builtin=builtin)


def _load_dir(folder: Path, *, builtin: bool) -> list[Rule]:
    if not folder.is_dir():
        raise CatalogError(f"{folder}: rule folder does not exist")
    return [load_rule_file(p, builtin=builtin) for p in sorted(folder.glob("*.yaml"))]


@lru_cache(maxsize=None)
def _builtin() -> tuple[Rule, ...]:
    return tuple(_load_dir(builtin_rules_dir(), builtin=True))


def load_catalog(extra_dirs: tuple[str, ...] = ()) -> dict[str, Rule]:
    """All built-in rules plus those in ``extra_dirs``, keyed by id."""
    rules: dict[str, Rule] = {}
    for rule in _builtin():
        rules[rule.id] = rule
    for folder in extra_dirs:
        for rule in _load_dir(Path(folder), builtin=False):
            if rule.id in rules:
                other = rules[rule.id].source
                raise CatalogError(f"{rule.source}: 'id': {rule.id} is already defined by {other}")
            rules[rule.id] = rule
    return dict(sorted(rules.items()))
