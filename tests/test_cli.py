"""`stablelint check` through its command line: formats, selection, stdin, exit codes, recursion."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest

SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text())



def test_concise_output_and_exit_status(project, run_cli):
    result = run_cli("check", "pkg", cwd=project)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert "pkg/model.py:7:23: SL101 torch.log(probs) underflows to -inf" in lines[0]
    assert "'probs' is the output of F.softmax(...) on line 6" in lines[0]
    assert "use F.log_softmax(...)" in lines[0]
    assert lines[1].startswith("pkg/model.py:11:12: SL201 division by 'x.std(dim=0)'")
    assert lines[2].startswith("pkg/sub/metrics.py:5:12: SL503 [*] loss == np.nan compares with NaN")
    assert "use np.isnan(...)" in lines[2]
    assert lines[-1] == "Found 3 findings. 1 fixable with --fix. (1 more with --unsafe-fixes)"


def test_clean_file_exits_zero(project, run_cli):
    result = run_cli("check", "pkg/clean.py", cwd=project)
    assert result.exit_code == 0
    assert result.stdout.strip() == "All checks passed!"


def test_exit_zero_flag(project, run_cli):
    assert run_cli("check", "--exit-zero", "pkg", cwd=project).exit_code == 0


def test_full_output_shows_source_and_caret(project, run_cli):
    result = run_cli("check", "--output-format", "full", "pkg/model.py", cwd=project)
    assert result.exit_code == 1
    assert "return F.nll_loss(torch.log(probs), target)" in result.stdout
    assert "^^^^^^^^^^^^^^^^" in result.stdout


def test_json_output(project, run_cli):
    result = run_cli("check", "--output-format", "json", "pkg", cwd=project)
    data = json.loads(result.stdout)
    assert [d["code"] for d in data] == ["SL101", "SL201", "SL503"]
    first = data[0]
    assert first["filename"] == "pkg/model.py"
    assert first["location"] == {"row": 7, "column": 23}
    assert first["end_location"] == {"row": 7, "column": 39}
    assert first["name"] == "log-of-softmax"
    assert first["severity"] == "error"
    assert first["cell"] is None


def test_sarif_output_is_valid_and_repo_relative(project, run_cli):
    (project / ".git").mkdir()
    result = run_cli("check", "--output-format", "sarif", str(project / "pkg"), cwd=project / "pkg")
    sarif = json.loads(result.stdout)
    jsonschema.Draft7Validator(SCHEMA).validate(sarif)
    run = sarif["runs"][0]
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]]
    assert uris == ["pkg/model.py", "pkg/model.py", "pkg/sub/metrics.py"]
    assert {r["id"] for r in run["tool"]["driver"]["rules"]} == {"SL101", "SL201", "SL503"}


def test_sarif_output_without_findings_is_valid(project, run_cli):
    result = run_cli("check", "--output-format", "sarif", "pkg/clean.py", cwd=project)
    jsonschema.Draft7Validator(SCHEMA).validate(json.loads(result.stdout))
    assert result.exit_code == 0


def test_github_annotations(project, run_cli):
    result = run_cli("check", "--output-format", "github", "pkg/sub", cwd=project)
    line = result.stdout.strip()
    assert line.startswith("::error file=pkg/sub/metrics.py,line=5,col=12,endLine=5,endColumn=26,"
                           "title=SL503 (compare-with-nan)::")


def test_statistics(project, run_cli):
    result = run_cli("check", "--statistics", ".", cwd=project)
    assert result.exit_code == 1
    rows = [line.split() for line in result.stdout.splitlines()]
    assert rows[0][:2] == ["2", "SL101"]
    assert {tuple(r[:2]) for r in rows[1:]} == {("1", "SL201"), ("1", "SL503")}


@pytest.mark.parametrize(
    ("args", "codes"),
    [
        (["--select", "SL101"], ["SL101", "SL101"]),
        (["--select", "SL1"], ["SL101", "SL101"]),
        (["--select", "SL5,SL20"], ["SL201", "SL503"]),
        (["--ignore", "SL1"], ["SL201", "SL503"]),
        (["--select", "SL2", "--extend-select", "SL503"], ["SL201", "SL503"]),
        (["--select", "SL", "--ignore", "SL5"], ["SL101", "SL101", "SL201"]),
        (["--ignore", "SL1", "--extend-select", "SL101"], ["SL101", "SL101", "SL201", "SL503"]),
    ],
)
def test_select_ignore_by_id_and_prefix(project, run_cli, args, codes):
    result = run_cli("check", "--output-format", "json", *args, ".", cwd=project)
    assert sorted(d["code"] for d in json.loads(result.stdout)) == codes


def test_unknown_rule_on_command_line_is_an_error(project, run_cli):
    result = run_cli("check", "--select", "SL999", ".", cwd=project)
    assert result.exit_code == 2
    assert "unknown rule id or prefix 'SL999'" in result.stderr
    assert "--select" in result.stderr


def test_folders_skip_git_venv_build_pycache(project, run_cli):
    buggy = (project / "legacy" / "old.py").read_text()
    for folder in (".git", "build", "__pycache__", "venv", "myenv", "node_modules"):
        (project / folder).mkdir()
        (project / folder / "bad.py").write_text(buggy)
    (project / "myenv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    result = run_cli("check", "--output-format", "json", ".", cwd=project)
    files = {d["filename"] for d in json.loads(result.stdout)}
    assert files == {"legacy/old.py", "pkg/model.py", "pkg/sub/metrics.py"}


def test_explicit_file_in_skipped_folder_is_linted(project, run_cli):
    (project / "build").mkdir()
    shutil.copy(project / "legacy" / "old.py", project / "build" / "old.py")
    result = run_cli("check", "build/old.py", cwd=project)
    assert result.exit_code == 1


def test_stdin_with_filename(project, run_cli):
    source = (project / "legacy" / "old.py").read_text()
    result = run_cli("check", "-", "--stdin-filename", "legacy/old.py", input=source, cwd=project)
    assert result.exit_code == 1
    assert result.stdout.startswith("legacy/old.py:5:12: SL101 ")


def test_stdin_without_filename(run_cli):
    result = run_cli("check", "-", input="import numpy as np\nok = x == np.nan\n")
    assert result.stdout.startswith("-:2:6: SL503 ")


def test_missing_path_is_a_clear_error(project, run_cli):
    result = run_cli("check", "no/such/dir", cwd=project)
    assert result.exit_code == 2
    assert result.stderr.strip() == "stablelint: error: no/such/dir: no such file or directory"


def test_rule_command_prints_docs(run_cli):
    result = run_cli("rule", "SL101")
    assert result.exit_code == 0
    for heading in ("# log-of-softmax (SL101)", "## What it does", "## Why is this bad?", "## Example",
                    "## Use instead", "## Fix safety", "## References"):
        assert heading in result.stdout
    assert "Frameworks: PyTorch, TensorFlow/Keras, JAX, NumPy/SciPy" in result.stdout


def test_rule_command_unknown_rule(run_cli):
    result = run_cli("rule", "SL9")
    assert result.exit_code == 2
    assert "unknown rule 'SL9'" in result.stderr


def test_rules_command_lists_every_rule(run_cli):
    from stablelint.catalog import load_catalog

    result = run_cli("rules")
    assert result.exit_code == 0
    for rule in load_catalog().values():
        assert rule.id in result.stdout and rule.name in result.stdout
    row = next(line for line in result.stdout.splitlines() if line.startswith("SL101"))
    assert "safe" in row and "torch,tensorflow,jax,numpy" in row


def test_python_dash_m_entry_point(project, run_subprocess):
    proc = run_subprocess("check", "pkg/model.py", cwd=project)
    assert proc.returncode == 1
    assert b"SL101" in proc.stdout and b"SL201" in proc.stdout
