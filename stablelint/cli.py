"""The ``stablelint`` command line: check, rule, rules, confirm, server."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import Iterable

import click

from . import __version__
from .cache import Cache, fingerprint
from .catalog import CatalogError, Rule, load_catalog
from .config import ConfigError, ConfigFinder, Selection
from .diagnostic import FileResult
from .discovery import MissingPath, iter_files
from .output import FORMATS, ReportStream
from .progress import Progress
from .runner import Task, default_jobs, display_path, lint_bytes, run_tasks, tune_collector
from .settings import RuleSelector, config_for, force_excluded, task_for

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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="stablelint")
def main() -> None:
    """stablelint: find and fix numerical-stability bugs in ML code.

    Checks PyTorch, TensorFlow/Keras, JAX and NumPy/SciPy code for patterns
    that turn a loss into NaN or Inf: log of a softmax, exp overflow,
    division without epsilon, comparisons with NaN, and more.

    \b
    Examples:
      stablelint check src/              lint a folder (and notebooks in it)
      stablelint check --select SL1 .    only the log/exp rules
      stablelint check --fix src/        apply the safe fixes (--diff: show them)
      stablelint rules                   list every rule
      stablelint rule SL101              explain one rule
      stablelint server                  language server for editors (stdio)
      stablelint confirm src/            run flagged functions to prove a finding
                                         (executes your code)
    """
    tune_collector()  # our own process (and its pool workers, or the language server)


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
@click.option("--fix", is_flag=True, help="Apply the safe fixes (and the unsafe ones with --unsafe-fixes).")
@click.option("--unsafe-fixes", is_flag=True,
              help="Also apply (with --fix/--diff) or offer fixes that change values slightly (eps, clamps).")
@click.option("--diff", is_flag=True, help="Print the fixes as a unified diff and write nothing.")
@click.option("--show-fixes", is_flag=True, help="With --fix: list what was fixed.")
@click.option("--force-exclude", is_flag=True,
              help="Apply the configured exclude to files named explicitly too (and to --stdin-filename), "
                   "as pre-commit and editors name every file.")
def check(paths: tuple[Path, ...], output_format: str, select: tuple[str, ...], extend_select: tuple[str, ...],
          ignore: tuple[str, ...], statistics: bool, stdin_filename: str | None, config_file: Path | None,
          isolated: bool, jobs: int | None, exit_zero: bool, no_cache: bool, cache_dir: Path | None,
          progress: bool | None, fix: bool, unsafe_fixes: bool, diff: bool, show_fixes: bool,
          force_exclude: bool) -> None:
    """Lint PATHS (Python files, Jupyter notebooks or folders; default: the current folder; '-' reads stdin).

    With --fix, fixable findings are fixed in place (safe fixes only, unless
    --unsafe-fixes); with --diff, the fixes are shown and nothing is written.
    From stdin, --fix prints the fixed source.

    Exit status: 0 when clean (or everything was fixed), 1 when findings
    remain (with --diff: when there is something to fix), 2 on a usage,
    configuration or internal error.
    """
    mode = "diff" if diff else "fix" if fix else "check"
    cwd = Path.cwd()
    cli_layer = Selection(select=_codes(select) or None, extend_select=_codes(extend_select), ignore=_codes(ignore))
    selector = RuleSelector(cli_layer)
    keep_source = output_format == "full"
    try:
        finder = ConfigFinder(forced=config_file, isolated=isolated)
        selector.catalog(finder.for_path(cwd))
        if paths == (Path("-"),):
            selector.check_command_line()
            results: Iterable[FileResult] = [_lint_stdin(stdin_filename, finder, selector, keep_source, cwd, mode,
                                                         unsafe_fixes, force_exclude)]
            reporter = Progress(False)
            cache = None
        else:
            if Path("-") in paths:
                raise click.UsageError("'-' (stdin) cannot be combined with other paths")
            tasks = _tasks(list(paths) or [Path(".")], finder, selector, keep_source, cwd, mode, unsafe_fixes,
                           force_exclude)
            selector.check_command_line()
            cache = None if no_cache or mode != "check" else Cache(cache_dir or cwd / CACHE_DIR, fingerprint(
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
        return {**selector.every_rule(), **catalog}

    if mode == "diff" or (mode == "fix" and paths == (Path("-"),)):
        return _finish_fix_output(results, mode, reporter, exit_zero)
    stream = ReportStream(output_format, rule_for, sys.stdout, root=_repo_root(cwd), statistics=statistics,
                          version=__version__, all_rules=every_rule, unsafe_fixes=unsafe_fixes)
    errors = findings = False
    fixed: list[tuple[str, list]] = []
    for result in results:
        reporter.close()
        errors = _print_errors(result) or errors
        findings = findings or bool(result.diagnostics)
        if result.fixed:
            fixed.append((result.path, result.fixed))
        stream.add(result)
    stream.close()
    if show_fixes and fixed:
        _show_fixes(fixed, rule_for)
    if cache is not None and cache.written:
        cache.prune()
    if errors:
        sys.exit(EXIT_ERROR)
    if findings and not exit_zero:
        sys.exit(EXIT_FINDINGS)
    sys.exit(EXIT_CLEAN)


def _print_errors(result: FileResult) -> bool:
    for error in result.errors:
        where = f" in rule {error.rule}" if error.rule else ""
        click.echo(f"stablelint: error: {error.path}: internal error{where}: {error.message}"
                   if error.rule else f"stablelint: error: {error.path}: {error.message}", err=True)
    return bool(result.errors)


def _finish_fix_output(results: Iterable[FileResult], mode: str, reporter: Progress, exit_zero: bool) -> None:
    """--diff: the diffs on stdout; --fix on stdin: the fixed source on stdout."""
    errors = False
    would_fix = changed = 0
    for result in results:
        reporter.close()
        errors = _print_errors(result) or errors
        would_fix += len(result.fixed)
        if mode == "diff" and result.diff:
            changed += 1
            sys.stdout.write(result.diff)
        elif mode == "fix" and result.source is not None:
            sys.stdout.write(result.source)
    if mode == "diff":
        noun = "finding" if would_fix == 1 else "findings"
        click.echo(f"Would fix {would_fix} {noun} in {changed} file{'' if changed == 1 else 's'}." if would_fix
                   else "No fixes available.", err=True)
    if errors:
        sys.exit(EXIT_ERROR)
    sys.exit(EXIT_FINDINGS if (changed if mode == "diff" else 0) and not exit_zero else EXIT_CLEAN)


def _show_fixes(fixed: list[tuple[str, list]], rule_for) -> None:
    from collections import Counter

    total = sum(len(items) for _, items in fixed)
    click.echo(f"\nFixed {total} finding{'' if total == 1 else 's'}:")
    for path, items in fixed:
        click.echo(f"- {path}:")
        for code, count in sorted(Counter(d.code for d in items).items()):
            rule = rule_for(code)
            click.echo(f"    {count} x {code} ({rule.name if rule else code})")


def _extra_rules(code: str, selector: RuleSelector) -> dict[str, Rule]:
    known = selector.every_rule()
    return {code: known[code]} if code in known else {}


def _tasks(paths: list[Path], finder: ConfigFinder, selector: RuleSelector, keep_source: bool, cwd: Path,
           mode: str = "check", unsafe: bool = False, force_exclude: bool = False) -> list[Task]:
    tasks = [task_for(source.path, display_path(source.path, cwd), source.config, selector, mode=mode,
                      unsafe=unsafe, keep_source=keep_source)
             for source in iter_files(paths, finder)
             if not (force_exclude and force_excluded(source.path, source.config))]
    tasks.sort(key=lambda task: task.display)  # output order: results stream back in this order
    return tasks


def _lint_stdin(stdin_filename: str | None, finder: ConfigFinder, selector: RuleSelector, keep_source: bool,
                cwd: Path, mode: str = "check", unsafe: bool = False, force_exclude: bool = False) -> FileResult:
    where = Path(stdin_filename) if stdin_filename else cwd / "stdin.py"
    config = config_for(finder, where, cwd)
    task = task_for(where, stdin_filename or "-", config, selector, read_from="-",
                    mode=mode, unsafe=unsafe, keep_source=keep_source)
    if force_exclude and stdin_filename and force_excluded(where, config):
        task = replace(task, rule_ids=())  # excluded: no findings, and --fix hands the text back unchanged
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


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda", "mps"]), default="auto", show_default=True,
              help="Where to run the probes (auto: CUDA, then MPS, then CPU).")
@click.option("--select", multiple=True, metavar="CODES", help="Rule ids or prefixes to confirm (comma-separated).")
@click.option("--ignore", multiple=True, metavar="CODES", help="Rule ids or prefixes to skip.")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True,
              help="Seconds each probe may run before it is killed.")
@click.option("--memory-limit", type=click.IntRange(min=0), default=4096, show_default=True, metavar="MIB",
              help="Host memory cap of each probe in MiB (RLIMIT_DATA; 0: none).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Probes run at a time [default: the number of CPUs, at most 4].")
@click.option("--unsafe-fixes", is_flag=True,
              help="Also verify unsafe fixes on a fixed copy (safe fixes always are); the files are never changed.")
@click.option("--output-format", type=click.Choice(["concise", "json"]), default="concise", show_default=True)
def confirm(paths: tuple[Path, ...], device: str, select: tuple[str, ...], ignore: tuple[str, ...], timeout: float,
            memory_limit: int, jobs: int | None, unsafe_fixes: bool, output_format: str) -> None:
    """Run each finding's function on adversarial inputs to confirm it (EXECUTES the code in PATHS).

    Each probe imports the module in a child process (timeout, memory cap, not as __main__), builds
    the function's arguments ([tool.stablelint.confirm], parameter names, annotations), runs it
    forward and backward (PyTorch, JAX, TensorFlow; NumPy forward) on inputs chosen by the rule, and
    prints CONFIRMED with the witness, NOT REPRODUCED with what was tried, or SKIPPED/ERROR with why.
    A confirmed finding's safe fix is replayed on a copy; your files are never changed.

    \b
    Examples:
      stablelint confirm src/losses.py
      stablelint confirm src/ --device cuda --select SL1 --jobs 2
      stablelint confirm analysis.ipynb --unsafe-fixes --output-format json

    Exit status: 1 when a finding was confirmed, 0 otherwise, 2 on a usage or configuration error.
    """
    from .confirm.report import as_json, concise, summary
    from .confirm.session import Options, confirm_paths

    cwd = Path.cwd()
    selector = RuleSelector(Selection(select=_codes(select) or None, ignore=_codes(ignore)))
    finder = ConfigFinder()
    verdicts = []
    try:
        selector.catalog(finder.for_path(cwd))
        selector.check_command_line()
        for verdict in confirm_paths(list(paths) or [Path(".")], finder, selector,
                                     Options(device=device, timeout=timeout, memory_mb=memory_limit,
                                             jobs=jobs or min(4, default_jobs()), unsafe_fixes=unsafe_fixes), cwd):
            verdicts.append(verdict)
            if output_format == "concise":
                click.echo(concise(verdict))
    except (ConfigError, CatalogError, MissingPath) as exc:
        _fail(str(exc))
    if output_format == "json":
        click.echo(as_json(verdicts))
    else:
        click.echo(summary(verdicts), err=True)
    sys.exit(EXIT_FINDINGS if any(v.verdict == "CONFIRMED" for v in verdicts) else EXIT_CLEAN)


@main.command()
def server() -> None:
    """Run the language server on stdin/stdout, for editors (diagnostics, quick fixes, hover)."""
    from .server import MISSING, SERVER_PACKAGES

    try:
        from .server.server import serve
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in SERVER_PACKAGES:
            raise
        _fail(f"{MISSING} (missing module: {exc.name})")
    serve()


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
