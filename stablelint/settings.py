"""From configuration to work: which rules run on a file, and how its fixes are applied.

Every front end (the CLI, the flake8 plugin, the language server) turns a path into a
``Task`` here, so a file is checked the same way whoever asks.
"""

from __future__ import annotations

from pathlib import Path

from .catalog import CatalogError, Rule, load_catalog
from .config import Config, ConfigError, ConfigFinder, Selection, check_codes, resolve_selection
from .diagnostic import PARSE_RULE
from .fixer import FixPolicy
from .runner import Task


class RuleSelector:
    """Rule selection for each configuration (validated once per configuration), on top of
    ``cli_layer``: the command line's --select/--extend-select/--ignore, or an editor's settings."""

    def __init__(self, cli_layer: Selection | None = None):
        self.cli_layer = cli_layer or Selection()
        self._cache: dict[Config, tuple[tuple[str, ...], dict[str, Rule]]] = {}

    def check_command_line(self) -> None:
        """Command-line codes must name a rule known to at least one configuration in play."""
        known = {code for _, catalog in self._cache.values() for code in catalog}
        layer = self.cli_layer
        for key, codes in (("--select", layer.select or ()), ("--extend-select", layer.extend_select),
                           ("--ignore", layer.ignore)):
            check_codes(codes, known, "command line", key)

    def catalog(self, config: Config) -> dict[str, Rule]:
        return self.rules_for(config)[1]

    def every_rule(self) -> dict[str, Rule]:
        """Every rule of every configuration seen so far (user rule folders included)."""
        merged: dict[str, Rule] = {}
        for _, known in self._cache.values():
            merged.update(known)
        return merged

    def rules_for(self, config: Config) -> tuple[tuple[str, ...], dict[str, Rule]]:
        """The selected rule ids under ``config`` and the catalog they come from.

        Raises ConfigError naming the file and key for an unknown code or a broken rule folder.
        """
        cached = self._cache.get(config)
        if cached is not None:
            return cached
        try:
            catalog = load_catalog(config.extend_rules)
        except CatalogError as exc:
            raise ConfigError(str(exc)) from None
        known = list(catalog)
        where = str(config.path) if config.path else "configuration"
        layer = config.selection
        prefix = "tool.stablelint." if config.path and config.path.name == "pyproject.toml" else ""
        for key, codes in (("select", layer.select or ()), ("extend-select", layer.extend_select),
                           ("ignore", layer.ignore)):
            check_codes(codes, known, where, prefix + key)
        for pattern, codes in config.per_file_ignores:
            check_codes(codes, known, where, f"{prefix}per-file-ignores.{pattern}")
        for key, codes in config.fix_codes().items():
            check_codes(codes, known, where, prefix + key)
        ids = resolve_selection(known, [layer, self.cli_layer])
        explicitly_ignored = PARSE_RULE in (*layer.ignore, *self.cli_layer.ignore)
        if PARSE_RULE in catalog and PARSE_RULE not in ids and not explicitly_ignored:
            ids = sorted([*ids, PARSE_RULE])
        result = (tuple(ids), catalog)
        self._cache[config] = result
        return result


def fix_policy(config: Config, unsafe: bool) -> FixPolicy:
    return FixPolicy(unsafe=unsafe, fixable=config.fixable, unfixable=config.unfixable,
                     extend_safe=config.extend_safe_fixes, extend_unsafe=config.extend_unsafe_fixes)


def task_for(path: Path, display: str, config: Config, selector: RuleSelector, *, read_from: str | None = None,
             mode: str = "check", unsafe: bool = False, keep_source: bool = False) -> Task:
    """The task that checks (or fixes) the file at ``path`` under ``config``.

    ``read_from`` is where the bytes come from when not from ``path`` ("-": the caller hands
    them over, as for stdin or an editor's unsaved buffer).
    """
    ids, _ = selector.rules_for(config)
    return Task(path=read_from or str(path), display=display, rule_ids=ids, extend_rules=config.extend_rules,
                ignore=frozenset(config.ignored_for(path)), keep_source=keep_source, mode=mode,
                policy=fix_policy(config, unsafe))


def force_excluded(path: Path, config: Config) -> bool:
    """Whether ``config``'s ``exclude`` (or a default exclude) covers ``path``, named explicitly.

    For ``--force-exclude``, as pre-commit and editors name files one by one: the file matches,
    or a folder it is in, below the configuration's folder, does (``.venv/``, ``legacy/``).
    """
    resolved = path.resolve()
    if config.is_excluded(resolved):
        return True
    root = config.root.resolve()
    for folder in resolved.parents:
        if folder == root or root not in folder.parents:
            return False
        if config.is_excluded(folder):
            return True
    return False


def config_for(finder: ConfigFinder, path: Path, fallback: Path) -> Config:
    """The configuration of a file that may not exist yet (stdin's name, an unsaved buffer)."""
    where = path if path.exists() else path.parent if path.parent.exists() else fallback
    return finder.for_path(where)
