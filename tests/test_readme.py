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


def test_github_actions_workflow_runs_what_it_says(run_cli, tmp_path):
    """The workflow parses, uploads SARIF, and its stablelint commands work: annotations, valid SARIF."""
    import json
    import shutil

    import jsonschema
    import yaml

    workflow = yaml.safe_load(block_after("A GitHub Actions workflow"))
    steps = workflow["jobs"]["stablelint"]["steps"]
    assert any(step.get("uses", "").startswith("github/codeql-action/upload-sarif") for step in steps)
    commands = [step["run"] for step in steps if step.get("run", "").startswith("stablelint ")]
    assert len(commands) == 2
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    (tmp_path / ".git").mkdir()  # a repository root, as on a runner after checkout

    annotate = run_cli(*commands[0].split()[1:], cwd=tmp_path)
    assert annotate.exit_code == 1  # findings fail the step
    assert annotate.stdout.startswith("::error file=examples/") or annotate.stdout.startswith("::warning file=examples/")

    sarif_args, _, output = commands[1].partition(" > ")
    sarif = run_cli(*sarif_args.split()[1:], cwd=tmp_path)
    assert sarif.exit_code == 0 and output == "stablelint.sarif"
    schema = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text())  # OASIS's schema
    document = json.loads(sarif.stdout)
    jsonschema.Draft7Validator(schema).validate(document)
    assert document["runs"][0]["results"]
