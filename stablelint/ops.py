"""Canonical ops: every framework spelling resolved to one op name.

The table itself is data (``ops.yaml``); this module loads it, indexes it by
qualified name and by method name, binds call arguments to the op's
canonical parameter names, and renders an op back into the spelling a file
already uses (for messages and fixes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

OPS_FILE = Path(__file__).with_name("ops.yaml")
# Further tables (``ops_<topic>.yaml``) extend the main one: new ops are added,
# and spellings of an op that already exists are appended to it.
EXTRA_OPS_GLOB = "ops_*.yaml"

_SPELLING = re.compile(
    r"^(?P<cls>class\s+)?(?P<name>[A-Za-z_][\w.]*)"
    r"(?:\((?P<params>[^)]*)\)(?:\s*->\s*\((?P<call>[^)]*)\))?)?$"
)
METHOD_OWNERS = {
    "torch.Tensor": "torch",
    "numpy.ndarray": "numpy",
    "jax.Array": "jax",
    "tensorflow.Tensor": "tensorflow",
}


@dataclass(frozen=True)
class OpInfo:
    name: str
    params: tuple[str, ...]
    tags: frozenset[str]
    value: float | None = None  # for ops that denote a known number (keras.backend.epsilon())


@dataclass(frozen=True)
class Spelling:
    """One way to write an op: a function, method, layer class or constant."""

    qualname: str
    op: str
    kind: str  # "function" | "method" | "class" | "constant" | "attribute"
    framework: str
    positional: tuple[str, ...]  # canonical name bound by each positional argument
    keywords: dict = field(hash=False, compare=False, default_factory=dict)  # framework kw -> canonical
    init_positional: tuple[str, ...] = ()  # class constructors
    init_keywords: dict = field(hash=False, compare=False, default_factory=dict)

    @property
    def attr(self) -> str:
        return self.qualname.rsplit(".", 1)[-1]

    @property
    def module(self) -> str:
        return self.qualname.rsplit(".", 1)[0]


class OpTableError(Exception):
    pass


def _parse_params(text: str | None, canonical: tuple[str, ...], offset: int, synonyms: dict[str, str],
                  op: str) -> tuple[tuple[str, ...], dict[str, str]]:
    """Map a spelling's own parameter list onto canonical names.

    A parameter written ``name=canonical`` binds that name; one whose own name
    (after ``param_synonyms``) is a canonical parameter binds it; any other
    takes the canonical parameter at its position (``offset + i``) if no
    parameter of the list claims that one by name, else keeps its own name.
    """
    if not text or not text.strip():
        return (), {}
    raw = [p.strip() for p in text.split(",") if p.strip()]
    claimed = {synonyms.get(p, p) for p in raw if "=" not in p} & set(canonical)
    claimed |= {p.split("=", 1)[1].strip() for p in raw if "=" in p}
    positional: list[str] = []
    keywords: dict[str, str] = {}
    for i, item in enumerate(raw):
        if "=" in item:
            own, canon = (part.strip() for part in item.split("=", 1))
        else:
            own = item
            normal = synonyms.get(own, own)
            index = offset + i
            if normal in canonical:
                canon = normal
            elif index < len(canonical) and canonical[index] not in claimed:
                canon = canonical[index]
            else:
                canon = normal
        positional.append(canon)
        keywords[own] = canon
    return tuple(positional), keywords


class OpTable:
    """Index over ops.yaml."""

    def __init__(self, data: dict):
        self._normalized: dict[str, str] = {}
        self.module_aliases: list[tuple[str, str]] = sorted(
            (data.get("module_aliases") or {}).items(), key=lambda kv: -len(kv[0])
        )
        self.synonyms: dict[str, str] = dict(data.get("param_synonyms") or {})
        self.top_framework: dict[str, str] = {}
        for framework, modules in (data.get("frameworks") or {}).items():
            for module in modules:
                self.top_framework[module] = framework
        self.ops: dict[str, OpInfo] = {}
        self.by_qualname: dict[str, Spelling] = {}
        self.methods: dict[str, dict[str, Spelling]] = {}  # attr -> framework -> spelling
        self.attributes: dict[str, dict[str, Spelling]] = {}  # e.g. x.shape
        self.by_op: dict[str, list[Spelling]] = {}
        for name, spec in (data.get("ops") or {}).items():
            self._add_op(name, spec or {})

    def _add_op(self, name: str, spec: dict) -> None:
        params = tuple(spec.get("params") or ())
        tags = frozenset(spec.get("tags") or ())
        if spec.get("constant"):
            tags |= {"constant"}
        if spec.get("attribute"):
            tags |= {"attribute"}
        value = spec.get("value")
        info = OpInfo(name, params, tags, float(value) if value is not None else None)
        self.ops[name] = info
        for text in spec.get("spellings") or ():
            spelling = self._parse_spelling(str(text), info)
            if spelling.kind == "method":
                self.methods.setdefault(spelling.attr, {}).setdefault(spelling.framework, spelling)
            elif spelling.kind == "attribute":
                self.attributes.setdefault(spelling.attr, {}).setdefault(spelling.framework, spelling)
            else:
                self.by_qualname.setdefault(self.normalize(spelling.qualname), spelling)
            self.by_op.setdefault(name, []).append(spelling)

    def _parse_spelling(self, text: str, info: OpInfo) -> Spelling:
        m = _SPELLING.match(text.strip())
        if not m:
            raise OpTableError(f"ops.yaml: op {info.name!r}: cannot read spelling {text!r}")
        qualname = m["name"]
        owner = qualname.rsplit(".", 1)[0]
        framework = self.framework_of(qualname)
        if m["cls"]:
            init_pos, init_kw = _parse_params(m["params"], (), 0, self.synonyms, info.name)
            pos, kw = _parse_params(m["call"], info.params, 0, self.synonyms, info.name)
            return Spelling(qualname, info.name, "class", framework, pos, kw, init_pos, init_kw)
        if owner in METHOD_OWNERS:
            framework = METHOD_OWNERS[owner]
            if m["params"] is None and ("attribute" in info.tags or "constant" in info.tags):
                return Spelling(qualname, info.name, "attribute", framework, ())
            pos, kw = _parse_params(m["params"], info.params, 1, self.synonyms, info.name)
            return Spelling(qualname, info.name, "method", framework, pos, kw)
        if m["params"] is None:
            return Spelling(qualname, info.name, "constant", framework, ())
        pos, kw = _parse_params(m["params"], info.params, 0, self.synonyms, info.name)
        return Spelling(qualname, info.name, "function", framework, pos, kw)

    # -- lookup -------------------------------------------------------------

    def normalize(self, qualname: str) -> str:
        known = self._normalized.get(qualname)
        if known is not None:
            return known
        result = qualname
        for prefix, target in self.module_aliases:
            if qualname == prefix or qualname.startswith(prefix + "."):
                result = target + qualname[len(prefix):]
                break
        if len(self._normalized) < 100_000:  # bounded: one table serves every file of a run
            self._normalized[qualname] = result
        return result

    def framework_of(self, qualname: str) -> str:
        top = qualname.split(".", 1)[0]
        return self.top_framework.get(top, "")

    def lookup(self, qualname: str) -> Spelling | None:
        return self.by_qualname.get(self.normalize(qualname))

    def method(self, attr: str, frameworks: frozenset[str]) -> Spelling | None:
        options = self.methods.get(attr)
        if not options:
            return None
        for framework in ("torch", "numpy", "jax", "tensorflow"):
            if framework in frameworks and framework in options:
                return options[framework]
        return None

    def attribute(self, attr: str, frameworks: frozenset[str]) -> Spelling | None:
        options = self.attributes.get(attr)
        if not options:
            return None
        for framework, spelling in options.items():
            if framework in frameworks:
                return spelling
        return None

    def canonical_keyword(self, spelling: Spelling, keyword: str, *, init: bool = False) -> str:
        table = spelling.init_keywords if init else spelling.keywords
        if keyword in table:
            return table[keyword]
        return self.synonyms.get(keyword, keyword)

    def has_tag(self, op: str | None, tag: str) -> bool:
        info = self.ops.get(op or "")
        return bool(info and tag in info.tags)

    def spellings_for(self, op: str, framework: str) -> list[Spelling]:
        """Spellings of ``op`` in ``framework``, shortest module path first."""
        found = [s for s in self.by_op.get(op, ()) if s.framework == framework]
        return sorted(found, key=lambda s: (s.qualname.count("."), len(s.qualname)))


def _load(path: Path) -> dict:
    with path.open("r", encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_Loader) or {}


def merge_tables(base: dict, extra: dict, source: str) -> dict:
    for key in ("module_aliases", "param_synonyms"):
        base.setdefault(key, {}).update(extra.get(key) or {})
    for framework, modules in (extra.get("frameworks") or {}).items():
        base.setdefault("frameworks", {}).setdefault(framework, []).extend(modules)
    ops = base.setdefault("ops", {})
    for name, spec in (extra.get("ops") or {}).items():
        if name not in ops:
            ops[name] = spec
            continue
        current = ops[name]
        for key, value in (spec or {}).items():
            if key == "spellings":
                current.setdefault("spellings", []).extend(value or [])
            elif key == "tags":
                current["tags"] = sorted(set(current.get("tags") or []) | set(value or []))
            elif current.get(key) not in (None, value):
                raise OpTableError(f"{source}: op {name!r}: '{key}' differs from ops.yaml")
            else:
                current[key] = value
    return base


@lru_cache(maxsize=1)
def op_table() -> OpTable:
    data = _load(OPS_FILE)
    for extra in sorted(OPS_FILE.parent.glob(EXTRA_OPS_GLOB)):
        merge_tables(data, _load(extra), extra.name)
    return OpTable(data)
