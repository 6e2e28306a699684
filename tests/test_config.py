"""Configuration through pyproject.toml / .stablelint.yaml, found by walking up from each file."""

from __future__ import annotations

import json
import shutil

import pytest


def codes(result) -> list[tuple[str, str]]:
    return sorted((d["filename"], d["code"]) for d in json.loads(result.stdout))


def test_pyproject_select_and_ignore(project, run_cli):
    (project / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.stablelint]\nselect = ["SL1", "SL5"]\n'
                                            'ignore = ["SL503"]\n')
    result = run_cli("check", "--output-format", "json", ".", cwd=project)
    assert codes(result) == [("legacy/old.py", "SL101"), ("pkg/model.py", "SL101")]


def test_command_line_select_overrides_config(project, run_cli):
    (project / "pyproject.toml").write_text('[tool.stablelint]\nselect = ["SL1"]\n')
    result = run_cli("check", "--output-format", "json", "--select", "SL2", ".", cwd=project)
    assert codes(result) == [("pkg/model.py", "SL201")]


def test_nearest_config_wins(project, run_cli):
    (project / "pyproject.toml").write_text('[tool.stablelint]\nignore = ["SL101"]\n')
    (project / "pkg" / ".stablelint.yaml").write_text("ignore: [SL201]\n")
    result = run_cli("check", "--output-format", "json", ".", cwd=project)
    # legacy/ uses the top pyproject (SL101 off, so the log is reported as SL111 instead);
    # pkg/ uses its own file (SL201 off).
    assert codes(result) == [("legacy/old.py", "SL111"), ("pkg/model.py", "SL101"), ("pkg/sub/metrics.py", "SL503")]


def test_pyproject_without_table_is_skipped_when_walking_up(project, run_cli):
    (project / "pyproject.toml").write_text('[tool.stablelint]\nselect = ["SL503"]\n')
    (project / "pkg" / "pyproject.toml").write_text('[project]\nname = "pkg"\n')
    result = run_cli("check", "--output-format", "json", "pkg", cwd=project)
    assert codes(result) == [("pkg/sub/metrics.py", "SL503")]


def test_per_file_ignores_and_exclude(project, run_cli):
    (project / ".stablelint.yaml").write_text(
        "per-file-ignores:\n  'pkg/*.py': [SL2]\n  'metrics.py': [SL503]\nexclude: ['legacy/']\n"
    )
    result = run_cli("check", "--output-format", "json", ".", cwd=project)
    assert codes(result) == [("pkg/model.py", "SL101")]


def test_extend_rules_user_rule_works_like_builtin(project, run_cli, fixtures):
    shutil.copytree(fixtures / "config" / "user_rules", project / "lint_rules")
    (project / "lint_rules" / "ML002.yaml").unlink()
    shutil.copy(fixtures / "config" / "sample.py", project / "sample.py")
    (project / "pyproject.toml").write_text('[tool.stablelint]\nextend-rules = ["lint_rules"]\n')
    result = run_cli("check", "--output-format", "json", "sample.py", cwd=project)
    found = json.loads(result.stdout)
    assert [(d["code"], d["location"]["row"]) for d in found] == [
        ("ML001", 5), ("SL202", 5), ("SL110", 6), ("SL101", 7)]
    assert found[0]["message"] == "torch.sqrt(torch.var(x, ...)) is a standard deviation; use torch.std(...)"
    assert found[0]["severity"] == "warning"
    # selectable and documented like the built-in rules
    only = run_cli("check", "--output-format", "json", "--select", "ML", "sample.py", cwd=project)
    assert [d["code"] for d in json.loads(only.stdout)] == ["ML001"]
    listing = run_cli("rules", cwd=project)
    assert "ML001" in listing.stdout and "sqrt-of-variance" in listing.stdout
    docs = run_cli("rule", "ML001", cwd=project)
    assert "## What it does" in docs.stdout


def test_broken_user_checker_is_an_internal_error_naming_rule_and_file(project, run_cli, fixtures):
    shutil.copytree(fixtures / "config" / "user_rules", project / "lint_rules")
    shutil.copy(fixtures / "config" / "sample.py", project / "sample.py")
    (project / "pyproject.toml").write_text('[tool.stablelint]\nextend-rules = ["lint_rules"]\n')
    result = run_cli("check", "sample.py", "pkg/model.py", cwd=project)
    assert result.exit_code == 2
    assert "stablelint: error: sample.py: internal error in rule ML002: ValueError: this checker is broken" \
        in result.stderr
    # the other rules still ran, on this file and the next
    assert "sample.py:7:9: SL101" in result.stdout
    assert "sample.py:6:9: SL110" in result.stdout
    assert "pkg/model.py:7:23: SL101" in result.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[tool.stablelint]\nselct = ["SL1"]\n', "unknown key 'tool.stablelint.selct'"),
        ('[tool.stablelint]\nper_file_ignores = {}\n', "did you mean 'per-file-ignores'?"),
        ('[tool.stablelint]\nselect = ["SL9"]\n', "'tool.stablelint.select': unknown rule id or prefix 'SL9'"),
        ('[tool.stablelint]\nignore = "SL101"\nper-file-ignores = {"a.py" = ["XY123"]}\n',
         "'tool.stablelint.per-file-ignores.a.py': unknown rule id or prefix 'XY123'"),
        ('[tool.stablelint]\nselect = 3\n', "'tool.stablelint.select' must be a list of strings"),
        ('[tool.stablelint\n', "not valid TOML"),
        ('[tool.stablelint]\nextend-rules = ["nowhere"]\n', "'tool.stablelint.extend-rules': folder"),
    ],
)
def test_config_errors_name_file_and_key(project, run_cli, content, message):
    (project / "pyproject.toml").write_text(content)
    result = run_cli("check", ".", cwd=project)
    assert result.exit_code == 2
    assert "pyproject.toml" in result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_yaml_config_errors(project, run_cli):
    (project / ".stablelint.yaml").write_text("select: [SL1\n")
    result = run_cli("check", ".", cwd=project)
    assert result.exit_code == 2
    assert ".stablelint.yaml: not valid YAML" in result.stderr


def test_broken_user_rule_file_is_reported(project, run_cli, fixtures):
    shutil.copytree(fixtures / "config" / "broken_rules", project / "broken")
    (project / ".stablelint.yaml").write_text("extend-rules: [broken]\n")
    result = run_cli("check", ".", cwd=project)
    assert result.exit_code == 2
    assert "XX001.yaml: 'mesage': unknown key" in result.stderr


def test_explicit_config_and_isolated(project, run_cli, tmp_path):
    (project / "pyproject.toml").write_text('[tool.stablelint]\nselect = ["SL503"]\n')
    other = tmp_path / "other.yaml"
    other.write_text("select: [SL201]\n")
    forced = run_cli("check", "--output-format", "json", "--config", str(other), ".", cwd=project)
    assert codes(forced) == [("pkg/model.py", "SL201")]
    isolated = run_cli("check", "--output-format", "json", "--isolated", "pkg", cwd=project)
    assert [c for _, c in codes(isolated)] == ["SL101", "SL201", "SL503"]
