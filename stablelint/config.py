"""Configuration: ``[tool.stablelint]`` in pyproject.toml or ``.stablelint.yaml``.

For each file the nearest configuration going up from its folder applies
(a ``.stablelint.yaml``, or a ``pyproject.toml`` that has a
``[tool.stablelint]`` table).  Keys::

    select = ["SL1", "SL201"]        # rule ids or prefixes; "ALL" for every rule
    extend-select = ["SL5"]
    ignore = ["SL110"]
    per-file-ignores = {"tests/*" = ["SL201"]}
    exclude = ["legacy/", "*_pb2.py"]
    extend-rules = ["lint/rules"]    # folders of your own rule YAML files
    fixable = ["ALL"]                # rules --fix may fix (default: all); unfixable = [...] never
    extend-safe-fixes = ["SL201"]    # treat these rules' unsafe fixes as safe (extend-unsafe-fixes: the reverse)
    [confirm."losses.py:ranking_loss"]   # inputs for `stablelint confirm` ("module.py:function" or "function")
    shapes = {logits = [8, 10], target = [8]}
    dtypes = {logits = "float64"}
    ranges = {probs = [0.0, 1.0]}
    factory = "examples:ranking_inputs"  # a function returning (args...) or {name: value}
    [confirm.FocalLoss]                  # how a class is built for its methods ("module.py:Class" or "Class")
    init = {gamma = 2.0}                 # keyword arguments for the constructor, or
    # instance = "examples:make_loss"    # a function returning the instance

Rule selection works like ruff's: the configuration's ``select`` (default:
every rule) and ``ignore`` apply first, then the command line's; a
``--select`` on the command line starts over; within one layer the most
specific prefix wins and ``ignore`` wins a tie.
"""

from __future__ import annotations

import fnmatch
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import yaml

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

CONFIG_KEYS = ("select", "extend-select", "ignore", "per-file-ignores", "exclude", "extend-rules",
               "fixable", "unfixable", "extend-safe-fixes", "extend-unsafe-fixes", "confirm")
CONFIRM_KEYS = ("shapes", "dtypes", "ranges", "factory", "init", "instance")
CONFIRM_CLASS_KEYS = ("init", "instance")  # an entry with one of these configures a class
CONFIRM_DTYPES = ("float16", "bfloat16", "float32", "float64", "int32", "int64", "bool")
DEFAULT_EXCLUDE = (
    ".git", ".hg", ".svn", ".bzr", ".venv", "venv", ".tox", ".nox", ".eggs", "*.egg-info", "build", "dist",
    "__pycache__", "node_modules", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".stablelint_cache",
    "site-packages", "__pypackages__", ".ipynb_checkpoints",
)


class ConfigError(Exception):
    """A configuration problem; the message names the file and the key."""


@dataclass(frozen=True)
class Selection:
    """One layer of rule selection (a config file, or the command line)."""

    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()


def confirm_table(entry: str) -> str:
    """The TOML table of a ``[tool.stablelint.confirm]`` entry, as a user writes it (quoted where it must be)."""
    key = entry if re.fullmatch(r"[A-Za-z0-9_-]+", entry) else '"' + entry.replace('"', '\\"') + '"'
    return f"[tool.stablelint.confirm.{key}]"


@dataclass(frozen=True)
class ConfirmEntry:
    """How ``stablelint confirm`` builds the arguments of one function, or the instance of one class
    whose methods it runs (``[tool.stablelint.confirm]``)."""

    function: str  # "module.py:function", "function" or "Class.method"; for a class, "module.py:Class" or "Class"
    shapes: tuple[tuple[str, tuple[int, ...]], ...] = ()
    dtypes: tuple[tuple[str, str], ...] = ()
    ranges: tuple[tuple[str, tuple[float, float]], ...] = ()
    factory: str | None = None  # "module:function"
    init: dict[str, Any] | None = field(default=None, hash=False)  # a class's constructor keyword arguments
    instance: str | None = None  # "module:function" returning a class's instance

    @property
    def is_class(self) -> bool:
        return self.init is not None or self.instance is not None

    def as_request(self) -> dict:
        if self.is_class:
            return {"entry": self.function, "init": self.init, "instance": self.instance}
        return {"shapes": {k: list(v) for k, v in self.shapes}, "dtypes": dict(self.dtypes),
                "ranges": {k: list(v) for k, v in self.ranges}, "factory": self.factory}


@dataclass(frozen=True)
class Config:
    path: Path | None = None  # the file it came from (None: defaults)
    root: Path = field(default_factory=Path.cwd)  # relative patterns are relative to this folder
    selection: Selection = Selection()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    exclude: tuple[str, ...] = ()
    extend_rules: tuple[str, ...] = ()
    fixable: tuple[str, ...] | None = None  # None: every rule with a fix
    unfixable: tuple[str, ...] = ()
    extend_safe_fixes: tuple[str, ...] = ()
    extend_unsafe_fixes: tuple[str, ...] = ()
    confirm: tuple[ConfirmEntry, ...] = ()

    def confirm_entry(self, file: Path, function: str) -> ConfirmEntry | None:
        """The entry for ``function`` in ``file``: one naming the file first, then one naming only the function."""
        return self._entry(file, function, classes=False)

    def class_entry(self, file: Path, cls: str) -> ConfirmEntry | None:
        """The entry saying how to build class ``cls`` of ``file`` (``init`` or ``instance``), found the same way."""
        return self._entry(file, cls, classes=True)

    def _entry(self, file: Path, function: str, *, classes: bool) -> ConfirmEntry | None:
        rel = _relative(file, self.root)
        entries = [e for e in self.confirm if e.is_class == classes]
        for entry in entries:
            module, _, name = entry.function.rpartition(":")
            if module and name == function and _glob_match(rel, module):
                return entry
        return next((e for e in entries if ":" not in e.function and e.function == function), None)

    def fix_codes(self) -> dict[str, tuple[str, ...]]:
        """The fix settings by key, for validation."""
        return {"fixable": self.fixable or (), "unfixable": self.unfixable,
                "extend-safe-fixes": self.extend_safe_fixes, "extend-unsafe-fixes": self.extend_unsafe_fixes}

    def ignored_for(self, file: Path) -> tuple[str, ...]:
        if not self.per_file_ignores:
            return ()
        rel = _relative(file, self.root)
        codes: list[str] = []
        for pattern, ids in self.per_file_ignores:
            if _glob_match(rel, pattern):
                codes.extend(ids)
        return tuple(codes)

    def is_excluded(self, path: Path) -> bool:
        name = path.name
        if any(fnmatch.fnmatchcase(name, p) for p in DEFAULT_EXCLUDE):
            return True
        if not self.exclude:
            return False
        rel = _relative(path, self.root)
        return any(_glob_match(rel, pattern) or fnmatch.fnmatchcase(name, pattern.rstrip("/"))
                   for pattern in self.exclude)


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _glob_match(rel: str, pattern: str) -> bool:
    """Match a POSIX path relative to the config's folder against a glob.

    ``dir/`` matches everything under ``dir``; a pattern without ``/`` also
    matches the file's base name; a pattern naming a folder matches what is
    inside it.
    """
    pattern = pattern.strip().rstrip("/") if pattern.strip().endswith("/") else pattern.strip()
    if fnmatch.fnmatchcase(rel, pattern) or rel.startswith(pattern + "/"):
        return True
    return "/" not in pattern and fnmatch.fnmatchcase(rel.rsplit("/", 1)[-1], pattern)


# -- reading ------------------------------------------------------------------


def _string_list(value: Any, where: str, key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: '{key}' must be a list of strings")
    return tuple(value)


def _confirm_entries(value: Any, where: str, key: str) -> tuple[ConfirmEntry, ...]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: '{key}' must map function names (\"module.py:function\" or \"function\") "
                          "to tables of shapes, dtypes, ranges or factory, or class names to init or instance")
    entries = []
    for function, settings in value.items():
        here = f"{key}.{function}"
        if not isinstance(function, str) or not function.strip() or function.endswith(":"):
            raise ConfigError(f"{where}: '{here}': name a function, as \"module.py:function\" or \"function\"")
        if not isinstance(settings, dict):
            raise ConfigError(f"{where}: '{here}' must be a table with {', '.join(CONFIRM_KEYS)}")
        for name in settings:
            if name not in CONFIRM_KEYS:
                raise ConfigError(f"{where}: unknown key '{here}.{name}'; known keys: {', '.join(CONFIRM_KEYS)}")
        if any(name in settings for name in CONFIRM_CLASS_KEYS):
            entries.append(_class_entry(function.strip(), settings, where, here))
            continue

        for name in ("shapes", "dtypes", "ranges"):
            if not isinstance(settings.get(name) or {}, dict):
                raise ConfigError(f"{where}: '{here}.{name}' must map argument names to values")
        shapes = []
        for argument, shape in (settings.get("shapes") or {}).items():
            if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d > 0
                                                      for d in shape):
                raise ConfigError(f"{where}: '{here}.shapes.{argument}' must be a list of positive integers")
            shapes.append((str(argument), tuple(shape)))
        dtypes = []
        for argument, dtype in (settings.get("dtypes") or {}).items():
            if dtype not in CONFIRM_DTYPES:
                raise ConfigError(f"{where}: '{here}.dtypes.{argument}' must be one of {', '.join(CONFIRM_DTYPES)}")
            dtypes.append((str(argument), dtype))
        ranges = []
        for argument, bounds in (settings.get("ranges") or {}).items():
            numbers = isinstance(bounds, list) and len(bounds) == 2 and all(
                isinstance(b, (int, float)) and not isinstance(b, bool) for b in bounds)
            if not (numbers and bounds[0] <= bounds[1]):
                raise ConfigError(f"{where}: '{here}.ranges.{argument}' must be [lo, hi] with lo <= hi")
            ranges.append((str(argument), (float(bounds[0]), float(bounds[1]))))
        factory = _reference(settings.get("factory"), where, f"{here}.factory")
        entries.append(ConfirmEntry(function.strip(), tuple(shapes), tuple(dtypes), tuple(ranges), factory))
    return tuple(entries)


def _reference(value: Any, where: str, key: str) -> str | None:
    """A "module:function" setting (factory, instance)."""
    if value is not None and not (isinstance(value, str) and ":" in value and all(value.partition(":")[::2])):
        raise ConfigError(f"{where}: '{key}' must be \"module:function\"")
    return value


def _class_entry(name: str, settings: dict, where: str, here: str) -> ConfirmEntry:
    """An entry with ``init`` or ``instance``: how to build the class ``name`` whose methods are run."""
    for key in ("shapes", "dtypes", "ranges", "factory"):
        if key in settings:
            raise ConfigError(f"{where}: '{here}.{key}': an entry with init or instance configures a class; "
                              "give a method's arguments in an entry for \"Class.method\"")
    if "init" in settings and "instance" in settings:
        raise ConfigError(f"{where}: '{here}': give init or instance, not both")
    if "." in name.rpartition(":")[2]:
        raise ConfigError(f"{where}: '{here}': init and instance configure a class; name the class, "
                          "as \"module.py:Class\" or \"Class\"")
    init = settings.get("init")
    if init is not None:
        if not isinstance(init, dict):
            raise ConfigError(f"{where}: '{here}.init' must map constructor parameter names to values")
        for argument, value in init.items():
            if not _plain(value):
                raise ConfigError(f"{where}: '{here}.init.{argument}' must be a string, number or boolean, "
                                  "or a list or table of them")
    return ConfirmEntry(name, init=init, instance=_reference(settings.get("instance"), where, f"{here}.instance"))


def _plain(value: Any) -> bool:
    """Whether ``value`` passes through JSON unchanged (TOML dates and times do not)."""
    if isinstance(value, (str, int, float, bool)):
        return True
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    return isinstance(value, dict) and all(_plain(v) for v in value.values())


def parse_config(data: Any, path: Path, *, prefix: str = "") -> Config:
    where = str(path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: the stablelint configuration must be a table/mapping")
    for key in data:
        if key not in CONFIG_KEYS:
            hint = ""
            if isinstance(key, str) and key.replace("_", "-") in CONFIG_KEYS:
                hint = f" (did you mean '{key.replace('_', '-')}'?)"
            raise ConfigError(f"{where}: unknown key '{prefix}{key}'{hint}; known keys: {', '.join(CONFIG_KEYS)}")
    root = path.parent
    select = _string_list(data["select"], where, prefix + "select") if "select" in data else None
    per_file: list[tuple[str, tuple[str, ...]]] = []
    raw = data.get("per-file-ignores") or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: '{prefix}per-file-ignores' must map glob patterns to lists of rule ids")
    for pattern, ids in raw.items():
        per_file.append((str(pattern), _string_list(ids, where, f"{prefix}per-file-ignores.{pattern}")))
    extend_rules = tuple(
        str((root / folder).resolve()) for folder in _string_list(data.get("extend-rules") or [], where,
                                                                  prefix + "extend-rules")
    )
    for folder in extend_rules:
        if not Path(folder).is_dir():
            raise ConfigError(f"{where}: '{prefix}extend-rules': folder {folder} does not exist")
    return Config(
        path=path,
        root=root,
        selection=Selection(
            select=select,
            extend_select=_string_list(data.get("extend-select") or [], where, prefix + "extend-select"),
            ignore=_string_list(data.get("ignore") or [], where, prefix + "ignore"),
        ),
        per_file_ignores=tuple(per_file),
        exclude=_string_list(data.get("exclude") or [], where, prefix + "exclude"),
        extend_rules=extend_rules,
        fixable=_string_list(data["fixable"], where, prefix + "fixable") if "fixable" in data else None,
        unfixable=_string_list(data.get("unfixable") or [], where, prefix + "unfixable"),
        extend_safe_fixes=_string_list(data.get("extend-safe-fixes") or [], where, prefix + "extend-safe-fixes"),
        extend_unsafe_fixes=_string_list(data.get("extend-unsafe-fixes") or [], where,
                                         prefix + "extend-unsafe-fixes"),
        confirm=_confirm_entries(data.get("confirm") or {}, where, prefix + "confirm"),
    )


def load_config_file(path: Path) -> Config | None:
    """The config in ``path``; None for a pyproject.toml without [tool.stablelint]."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if path.suffix == ".toml":
        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        if path.name == "pyproject.toml":
            tool = data.get("tool", {})
            if "stablelint" not in tool:
                return None
            return parse_config(tool["stablelint"], path, prefix="tool.stablelint.")
        return parse_config(data, path)
    try:
        data = yaml.safe_load(raw.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    return parse_config(data, path)


class ConfigFinder:
    """Finds (and caches) the nearest configuration for each folder."""

    NAMES = (".stablelint.yaml", ".stablelint.yml", "pyproject.toml")

    def __init__(self, *, forced: Path | None = None, isolated: bool = False):
        self._cache: dict[Path, Config] = {}
        self._forced = load_config_file(forced) if forced is not None else None
        if forced is not None and self._forced is None:
            raise ConfigError(f"{forced}: has no [tool.stablelint] table")
        self._isolated = isolated
        self._default = Config()

    def for_path(self, path: Path) -> Config:
        if self._forced is not None:
            return self._forced
        if self._isolated:
            return self._default
        folder = path if path.is_dir() else path.parent
        return self._for_folder(folder.resolve())

    def _for_folder(self, folder: Path) -> Config:
        cached = self._cache.get(folder)
        if cached is not None:
            return cached
        found: Config | None = None
        for name in self.NAMES:
            candidate = folder / name
            if candidate.is_file():
                found = load_config_file(candidate)
                if found is not None:
                    break
        if found is None:
            parent = folder.parent
            found = self._default if parent == folder else self._for_folder(parent)
        self._cache[folder] = found
        return found

    def configs(self) -> Iterable[Config]:
        return set(self._cache.values()) | ({self._forced} if self._forced else set())


# -- selection ------------------------------------------------------------------


def check_codes(codes: Iterable[str], known: Iterable[str], where: str, key: str) -> None:
    known = list(known)
    for code in codes:
        if code == "ALL":
            continue
        if not any(k.startswith(code) for k in known):
            raise ConfigError(f"{where}: '{key}': unknown rule id or prefix '{code}'")


def resolve_selection(known: Iterable[str], layers: Iterable[Selection]) -> list[str]:
    """The rule ids selected after applying each layer in turn."""
    known = sorted(known)
    selected = set(known)
    for layer in layers:
        if layer.select is not None:
            selected = set()
            chosen = (*layer.select, *layer.extend_select)
        else:
            chosen = layer.extend_select
        for rule_id in known:
            best_len, best_is_select = -1, False
            for code in chosen:
                if code == "ALL" or rule_id.startswith(code):
                    length = 0 if code == "ALL" else len(code)
                    if length > best_len:
                        best_len, best_is_select = length, True
            for code in layer.ignore:
                if code == "ALL" or rule_id.startswith(code):
                    length = 0 if code == "ALL" else len(code)
                    if length >= best_len:
                        best_len, best_is_select = length, False
            if best_len >= 0:
                if best_is_select:
                    selected.add(rule_id)
                else:
                    selected.discard(rule_id)
    return [rule_id for rule_id in known if rule_id in selected]
