"""Shared helpers: run the CLI in-process (click's runner) or as a real subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from stablelint.cli import main

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def project(tmp_path: Path, fixtures: Path) -> Path:
    """A copy of fixtures/project (a package with a pyproject.toml) to lint and fix."""
    dest = tmp_path / "project"
    shutil.copytree(fixtures / "project", dest)
    return dest


@pytest.fixture
def run_cli():
    """Invoke ``stablelint`` in-process; returns click's Result (exit_code, stdout, stderr)."""

    def invoke(*args: str, cwd: Path | None = None, input: str | bytes | None = None):
        try:
            runner = CliRunner(mix_stderr=False)  # click < 8.2 mixes stderr into stdout by default
        except TypeError:
            runner = CliRunner()  # click >= 8.2 keeps them apart
        old = Path.cwd()
        if cwd is not None:
            os.chdir(cwd)
        try:
            return runner.invoke(main, list(args), input=input, catch_exceptions=False)
        finally:
            os.chdir(old)

    return invoke


@pytest.fixture
def run_subprocess():
    """Run ``python -m stablelint`` as a real process."""

    def run(*args: str, cwd: Path | None = None, input: bytes | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "stablelint", *args], cwd=cwd, input=input,
                              capture_output=True, timeout=300)

    return run
