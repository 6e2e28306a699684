"""The README shows what the commands really print: the first run on examples/ and the fix diff."""

from __future__ import annotations

import re

from conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def block_after(marker: str) -> str:
    start = README.index(marker)
    match = re.compile(r"```[a-z]*\n(.*?)```", re.S).search(README, start)
    assert match is not None, marker
    return match.group(1)


def test_first_run_output_is_what_check_prints(run_cli):
    result = run_cli("check", "--no-cache", "examples/", cwd=ROOT)
    assert result.exit_code == 1
    assert block_after("The first command prints:") == result.stdout


def test_fix_diff_example_is_what_diff_prints(run_cli):
    block = block_after("## Fixing")
    command, _, shown = block.partition("\n")
    args = command.removeprefix("$ stablelint ").split()
    result = run_cli(*args, cwd=ROOT)
    assert result.exit_code == 1
    assert shown == result.stdout + result.stderr
