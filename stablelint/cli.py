"""The ``stablelint`` command line: check, rule, rules."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterable

import click

from . import __version__
from .cache import Cache, fingerprint
from .catalog import CatalogError, Rule, load_catalog
from .config import Config, ConfigError, ConfigFinder, Selection, check_codes, resolve_selection
from .diagnostic import FileResult
from .discovery import MissingPath, iter_files
from .engine import PARSE_RULE
from .output import FORMATS, ReportStream
from .progress import Progress
from .runner import Task, default_jobs, display_path, lint_bytes, run_tasks, warm

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
CACHE_DIR = ".stablelint_cache"


def _codes(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(c.strip().upper() for v in values for c in v.split(",") if c.strip())


def _fail(message: str) -> None:
    click.echo(f"stablelint: error: {message}", err=True)
    sys.exit(EXIT_ERROR)


def _repo_root(start: Path) -> Path:
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return start


class _Selector:
    """Rule selection for each configuration, validated once per configuration."""

    def __init__(self, cli_layer: Selection):
        self.cli_layer = cli_layer
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

    def rules_for(self, config: Config) -> tuple[tuple[str, ...], dict[str, Rule]]:
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
        ids = resolve_selection(known, [layer, self.cli_layer])
        explicitly_ignored = PARSE_RULE in (*layer.ignore, *self.cli_layer.ignore)
        if PARSE_RULE in catalog and PARSE_RULE not in ids and not explicitly_ignored:
            ids = sorted([*ids, PARSE_RULE])
        result = (tuple(ids), catalog)
        self._cache[config] = result
        return result


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="stablelint")
def main() -> None:
    """stablelint: find and fix numerical-stability bugs in ML code.

    Checks PyTorch, TensorFlow/Keras, JAX and NumPy/SciPy code for patterns
    that turn a loss into NaN or Inf: log of a softmax, exp overflow,
    division without epsilon, comparisons with NaN, and more.

    \b
    Examples:
      stablelint check src/              lint a folder
      stablelint check --select SL1 .    only the log/exp rules
      stablelint rules                   list every rule
      stablelint rule SL101              explain one rule
    """


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--output-format", type=click.Choice(FORMATS), default="concise", show_default=True,
              help="How to print findings.")
@click.option("--select", multiple=True, metavar="CODES",
              help="Rule ids or prefixes to check (comma-separated), replacing the configured selection.")
@click.option("--extend-select", multiple=True, metavar="CODES", help="Rule ids or prefixes to add.")
@click.option("--ignore", multiple=True, metavar="CODES", help="Rule ids or prefixes to skip.")
@click.option("--statistics", is_flag=True, help="Print the number of findings per rule instead of each one.")
@click.option("--stdin-filename", metavar="PATH",
              help="The file name to report (and to find the configuration) when PATH is '-'.")
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Use this pyproject.toml or .stablelint.yaml for every file.")
@click.option("--isolated", is_flag=True, help="Ignore all configuration files.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Number of worker processes (default: all cores).")
@click.option("--exit-zero", is_flag=True, help="Exit with 0 even when there are findings.")
@click.option("--no-cache", is_flag=True, help="Lint every file, neither reading nor writing the cache.")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              envvar="STABLELINT_CACHE_DIR", show_envvar=True,
              help="Where results are cached (default: .stablelint_cache in the current folder).")
@click.option("--progress/--no-progress", default=None,
              help="Show files done / total on stderr (default: only on a terminal, never in CI).")
def check(paths: tuple[Path, ...], output_format: str, select: tuple[str, ...], extend_select: tuple[str, ...],
          ignore: tuple[str, ...], statistics: bool, stdin_filename: str | None, config_file: Path | None,
          isolated: bool, jobs: int | None, exit_zero: bool, no_cache: bool, cache_dir: Path | None,
          progress: bool | None) -> None:
    """Lint PATHS (files or folders; default: the current folder; '-' reads stdin).

    Exit status: 0 when clean, 1 when there are findings, 2 on a usage,
    configuration or internal error.
    """
    cwd = Path.cwd()
    cli_layer = Selection(select=_codes(select) or None, extend_select=_codes(extend_select), ignore=_codes(ignore))
    selector = _Selector(cli_layer)
    keep_source = output_format == "full"
    try:
        finder = ConfigFinder(forced=config_file, isolated=isolated)
        selector.catalog(finder.for_path(cwd))
        if paths == (Path("-"),):
            selector.check_command_line()
            results: Iterable[FileResult] = [_lint_stdin(stdin_filename, finder, selector, keep_source, cwd)]
            reporter = Progress(False)
            cache = None
        else:
            if Path("-") in paths:
                raise click.UsageError("'-' (stdin) cannot be combined with other paths")
            tasks = _tasks(list(paths) or [Path(".")], finder, selector, keep_source, cwd)
            selector.check_command_line()
            warm(tasks)
            cache = None if no_cache else Cache(cache_dir or cwd / CACHE_DIR, fingerprint(
                sorted({d for t in tasks for d in t.extend_rules})))
            reporter = Progress.for_terminal(progress)
            results = run_tasks(tasks, jobs or default_jobs(), cache=cache, progress=reporter)
            if reporter.enabled:
                results = list(results)  # let the progress line finish before findings are printed
        catalog = selector.catalog(finder.for_path(cwd))
    except (ConfigError, CatalogError) as exc:
        _fail(str(exc))
    except MissingPath as exc:
        _fail(str(exc))

    def rule_for(code: str) -> Rule | None:
        return catalog.get(code) or _extra_rules(code, selector).get(code)

    def every_rule() -> dict[str, Rule]:
        merged: dict[str, Rule] = {}
        for _, known in selector._cache.values():
            merged.update(known)
        merged.update(catalog)
        return merged

    stream = ReportStream(output_format, rule_for, sys.stdout, root=_repo_root(cwd), statistics=statistics,
                          version=__version__, all_rules=every_rule)
    errors = findings = False
    for result in results:
        reporter.close()
        for error in result.errors:
            errors = True
            where = f" in rule {error.rule}" if error.rule else ""
            click.echo(f"stablelint: error: {error.path}: internal error{where}: {error.message}"
                       if error.rule else f"stablelint: error: {error.path}: {error.message}", err=True)
        findings = findings or bool(result.diagnostics)
        stream.add(result)
    stream.close()
    if cache is not None and cache.written:
        cache.prune()
    if errors:
        sys.exit(EXIT_ERROR)
    if findings and not exit_zero:
        sys.exit(EXIT_FINDINGS)
    sys.exit(EXIT_CLEAN)


def _extra_rules(code: str, selector: _Selector) -> dict[str, Rule]:
    for _, catalog in selector._cache.values():
        if code in catalog:
            return {code: catalog[code]}
    return {}


def _tasks(paths: list[Path], finder: ConfigFinder, selector: _Selector, keep_source: bool, cwd: Path
           ) -> list[Task]:
    tasks = []
    for source in iter_files(paths, finder):
        ids, _ = selector.rules_for(source.config)
        tasks.append(Task(
            path=str(source.path),
            display=display_path(source.path, cwd),
            rule_ids=ids,
            extend_rules=source.config.extend_rules,
            ignore=frozenset(source.config.ignored_for(source.path)),
            keep_source=keep_source,
        ))
    tasks.sort(key=lambda task: task.display)  # output order: results stream back in this order
    return tasks


def _lint_stdin(stdin_filename: str | None, finder: ConfigFinder, selector: _Selector, keep_source: bool,
                cwd: Path) -> FileResult:
    display = stdin_filename or "-"
    where = Path(stdin_filename) if stdin_filename else cwd / "stdin.py"
    config = finder.for_path(where if where.exists() else where.parent if where.parent.exists() else cwd)
    ids, _ = selector.rules_for(config)
    task = Task(path="-", display=display, rule_ids=ids, extend_rules=config.extend_rules,
                ignore=frozenset(config.ignored_for(where)), keep_source=keep_source)
    return lint_bytes(sys.stdin.buffer.read(), task)


@main.command()
@click.argument("code")
@click.option("--output-format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def rule(code: str, output_format: str) -> None:
    """Explain one rule: what it finds, why it matters, how to fix it."""
    from .docs import rule_json, rule_text

    catalog = _catalog_or_fail()
    found = catalog.get(code.upper())
    if found is None:
        close = [c for c in catalog if c.startswith(code.upper()[:3])]
        hint = f" (did you mean {', '.join(close[:5])}?)" if close else ""
        _fail(f"unknown rule '{code}'{hint}; `stablelint rules` lists them")
    click.echo(rule_json(found) if output_format == "json" else rule_text(found))


@main.command(name="rules")
@click.option("--output-format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def rules_command(output_format: str) -> None:
    """List every rule with its frameworks and fix applicability."""
    from .docs import rules_json, rules_table

    catalog = _catalog_or_fail()
    click.echo(rules_json(catalog) if output_format == "json" else rules_table(catalog))


def _catalog_or_fail() -> dict[str, Rule]:
    try:
        finder = ConfigFinder()
        config = finder.for_path(Path.cwd())
        return load_catalog(config.extend_rules)
    except (CatalogError, ConfigError) as exc:
        _fail(str(exc))
        raise  # unreachable


if __name__ == "__main__":  # pragma: no cover
    main()
