"""Helpers for `stablelint confirm` tests: the CLI run in-process, its stderr apart from its stdout."""

from __future__ import annotations

import json
import os
from pathlib import Path

from click.testing import CliRunner, Result

from stablelint.cli import main


def run(*args: str, cwd: Path | None = None) -> Result:
    """``stablelint ARGS`` (from ``cwd`` when given)."""
    try:
        runner = CliRunner(mix_stderr=False)
    except TypeError:  # click >= 8.2 always keeps stderr apart
        runner = CliRunner()
    old = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        return runner.invoke(main, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)


def confirm(*args: str, cwd: Path | None = None) -> Result:
    return run("confirm", *args, cwd=cwd)


def confirm_json(*args: str, cwd: Path | None = None) -> tuple[int, list[dict]]:
    """The exit status and the verdicts of ``stablelint confirm --output-format json ARGS``."""
    result = confirm("--output-format", "json", *args, cwd=cwd)
    return result.exit_code, json.loads(result.stdout)
