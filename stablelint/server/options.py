"""The editor's settings for stablelint (the ``stablelint`` section of ``workspace/configuration``).

They sit on top of the project's configuration (pyproject.toml ``[tool.stablelint]`` or
.stablelint.yaml, found from each document's path) the way --select/--ignore do on the command line::

    {"enable": true, "select": ["SL1"], "extendSelect": [], "ignore": ["SL201"],
     "unsafeFixes": false, "debounceMs": 150}

The client's initializationOptions give the first layer, ``workspace/configuration`` the second
(key by key).  A setting of the wrong type is reported and left at its default; the others still apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..config import Selection

DEFAULT_DEBOUNCE_MS = 150


@dataclass(frozen=True)
class EditorSettings:
    enable: bool = True
    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    unsafe_fixes: bool = False  # "Fix all" also applies unsafe fixes
    debounce_ms: int = DEFAULT_DEBOUNCE_MS

    def selection(self) -> Selection:
        return Selection(select=self.select, extend_select=self.extend_select, ignore=self.ignore)

    def codes(self) -> dict[str, tuple[str, ...]]:
        """The rule codes named, by setting (for validation against the catalog)."""
        return {"select": self.select or (), "extendSelect": self.extend_select, "ignore": self.ignore}


_ALIASES = {
    "enable": "enable", "enabled": "enable",
    "select": "select",
    "extendSelect": "extend_select", "extend-select": "extend_select", "extend_select": "extend_select",
    "ignore": "ignore",
    "unsafeFixes": "unsafe_fixes", "unsafe-fixes": "unsafe_fixes", "unsafe_fixes": "unsafe_fixes",
    "debounceMs": "debounce_ms", "debounce-ms": "debounce_ms", "debounce_ms": "debounce_ms",
}


def parse_settings(raw: Any) -> tuple[EditorSettings, list[str]]:
    """Settings from the client's JSON (None or {} for the defaults), and what was wrong with it.

    Accepts the section itself or an object holding it under "stablelint".
    """
    problems: list[str] = []
    if raw is None:
        return EditorSettings(), problems
    if not isinstance(raw, dict):
        return EditorSettings(), [f"settings: expected an object, got {type(raw).__name__}"]
    raw = _section(raw)
    values: dict[str, Any] = {}
    for key, value in raw.items():
        name = _ALIASES.get(key)
        if name is None or value is None:
            continue  # other tools' keys, or a client's explicit "unset"
        where = f"settings: 'stablelint.{key}'"
        if name in ("enable", "unsafe_fixes"):
            if isinstance(value, bool):
                values[name] = value
            else:
                problems.append(f"{where}: expected true or false, got {value!r}")
        elif name == "debounce_ms":
            if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 10_000:
                values[name] = int(value)
            else:
                problems.append(f"{where}: expected a number of milliseconds (0 to 10000), got {value!r}")
        else:
            codes = _codes(value)
            if codes is None:
                problems.append(f"{where}: expected a list of rule codes such as [\"SL101\", \"SL2\"], got {value!r}")
            else:
                values[name] = codes
    return EditorSettings(**values), problems


def merge_settings(base: Any, override: Any) -> Any:
    """``override``'s keys over ``base``'s (initializationOptions, then workspace/configuration)."""
    base, override = _section(base), _section(override)
    if isinstance(base, dict) and isinstance(override, dict):
        return {**base, **override}
    return base if override is None or override == {} else override


def _section(raw: Any) -> Any:
    return raw["stablelint"] if isinstance(raw, dict) and isinstance(raw.get("stablelint"), dict) else raw


def _codes(value: Any) -> tuple[str, ...] | None:
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        return None
    return tuple(c.strip().upper() for v in value for c in v.split(",") if c.strip())
