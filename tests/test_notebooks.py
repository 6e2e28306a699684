"""Jupyter notebooks through the CLI: per-cell positions, magics, cross-cell dataflow, fixes written back.

The fixtures in fixtures/notebooks/ are real nbformat-4 files: training.ipynb (written by nbformat,
with outputs, metadata, ids and execution counts), clean.ipynb (magics, no findings), compact.ipynb
(a hand-written layout: two-space indent, sources as strings, escaped non-ASCII), broken.ipynb (not
JSON) and not_a_notebook.ipynb (JSON, but not a notebook).
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "notebooks"


@pytest.fixture
def notebooks(tmp_path: Path) -> Path:
    dest = tmp_path / "notebooks"
    shutil.copytree(FIXTURES, dest)
    return dest


def write_notebook(path: Path, *sources: str, language: str | None = None) -> Path:
    """A notebook of code cells (a source starting with '#md ' is a markdown cell)."""
    nb = new_notebook()
    nb.cells = [new_markdown_cell(s[4:]) if s.startswith("#md ") else new_code_cell(s) for s in sources]
    for number, cell in enumerate(nb.cells, 1):
        cell["id"] = f"c{number}"
    if language:
        nb.metadata["language_info"] = {"name": language}
    path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
    return path


def finding_lines(stdout: str) -> list[str]:
    """`path:cell N:line:col: CODE` of each notebook finding."""
    found = []
    for line in stdout.splitlines():
        if ".ipynb:" in line:
            location, rest = line.split(": ", 1)
            found.append(f"{location}: {rest.split()[0]}")
    return found


# -- findings and positions ------------------------------------------------------


def test_concise_output_names_the_cell_line_and_column(notebooks, run_cli):
    result = run_cli("check", "--no-cache", "training.ipynb", cwd=notebooks)
    assert result.exit_code == 1
    # cell 5 uses `probs` made in cell 3 (cross-cell dataflow); cell 6 is a %%time cell: skipped;
    # cell 7's finding comes after a `%time` line magic inside a function body.
    assert finding_lines(result.stdout) == [
        "training.ipynb:cell 5:2:19: SL101",
        "training.ipynb:cell 7:3:12: SL503",
    ]
    assert "'probs' is the output of F.softmax(...) on line 4 of cell 3" in result.stdout
    assert "Found 2 findings. 1 fixable with --fix." in result.stdout


def test_json_output_carries_the_cell(notebooks, run_cli):
    result = run_cli("check", "--no-cache", "--output-format", "json", "training.ipynb", cwd=notebooks)
    found = json.loads(result.stdout)
    assert [(d["code"], d["cell"], d["location"], d["end_location"]) for d in found] == [
        ("SL101", 5, {"row": 2, "column": 19}, {"row": 2, "column": 35}),
        ("SL503", 7, {"row": 3, "column": 12}, {"row": 3, "column": 27}),
    ]
    edit = found[1]["fix"]["edits"][0]  # fix edits count in the cell too
    assert (edit["location"], edit["end_location"], edit["content"]) == (
        {"row": 3, "column": 12}, {"row": 3, "column": 27}, "np.isnan(value)")


def test_cell_numbers_count_markdown_cells(tmp_path, run_cli):
    write_notebook(tmp_path / "nb.ipynb", "#md # Title", "#md more prose", "import torch",
                   "y = torch.log(torch.softmax(x, dim=1))")
    result = run_cli("check", "--no-cache", "nb.ipynb", cwd=tmp_path)
    assert finding_lines(result.stdout) == ["nb.ipynb:cell 4:1:5: SL101"]


def test_full_output_shows_the_line_of_the_cell(notebooks, run_cli):
    result = run_cli("check", "--no-cache", "--output-format", "full", "training.ipynb", cwd=notebooks)
    assert ("training.ipynb:cell 5:2:19: SL101" in result.stdout
            and "2 | loss = F.nll_loss(torch.log(probs), target)\n"
                "  |                   ^^^^^^^^^^^^^^^^ log-of-softmax\n" in result.stdout)
    assert "3 |     return value == np.nan\n  |            ^^^^^^^^^^^^^^^ compare-with-nan\n" in result.stdout


def test_github_and_sarif_outputs_name_the_cell(notebooks, run_cli):
    github = run_cli("check", "--no-cache", "--output-format", "github", "training.ipynb", cwd=notebooks)
    first = github.stdout.splitlines()[0]
    assert first.startswith("::error file=training.ipynb,title=training.ipynb%3Acell 5%3A2%3A19%3A SL101")
    assert ",line=" not in first  # cell lines are not lines of the .ipynb file
    sarif = json.loads(run_cli("check", "--no-cache", "--output-format", "sarif", "training.ipynb",
                               cwd=notebooks).stdout)
    results = sarif["runs"][0]["results"]
    region = results[0]["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"], region["properties"]) == (2, 19, {"cell": 5})
    assert results[0]["message"]["text"].startswith("cell 5: ")


# -- magics ------------------------------------------------------------------------


def test_magics_are_masked_without_moving_columns(tmp_path, run_cli):
    write_notebook(
        tmp_path / "nb.ipynb",
        "%matplotlib inline\nimport torch\ny = torch.log(torch.softmax(x, dim=1))",
        "!pip install torch\nfiles = !ls \\\n   -la\ntorch.log?\n?torch.exp\nz = torch.log(torch.softmax(x, dim=1))",
        "for i in range(3):\n    %time w = i\n    v = torch.log(torch.softmax(x, dim=1))",
        "%%time\nslow = torch.log(torch.softmax(x, dim=1))",  # a cell magic: the whole cell is skipped
        "text = '''\n%not a magic inside a string\n'''\nu = torch.log(torch.softmax(x, dim=1))",
    )
    result = run_cli("check", "--no-cache", "--output-format", "json", "nb.ipynb", cwd=tmp_path)
    assert result.exit_code == 1, result.output
    assert [(d["code"], d["cell"], d["location"]["row"], d["location"]["column"])
            for d in json.loads(result.stdout)] == [
        ("SL101", 1, 3, 5), ("SL101", 2, 6, 5), ("SL101", 3, 3, 9), ("SL101", 5, 4, 5)]


def test_a_cell_that_does_not_parse_is_reported_and_the_others_still_checked(tmp_path, run_cli):
    write_notebook(tmp_path / "nb.ipynb", "import torch\np = torch.softmax(z, dim=1)",
                   "q = torch.log(p) +* 2", "r = torch.log(p)")
    result = run_cli("check", "--no-cache", "nb.ipynb", cwd=tmp_path)
    assert finding_lines(result.stdout) == ["nb.ipynb:cell 2:1:19: SL000", "nb.ipynb:cell 3:1:5: SL101"]
    assert "syntax error" in result.stdout


def test_noqa_and_per_file_ignores_work_in_notebooks(tmp_path, run_cli):
    write_notebook(tmp_path / "nb.ipynb", "import torch", "a = torch.log(torch.softmax(x, dim=1))  # noqa: SL101",
                   "b = torch.log(torch.softmax(x, dim=1))\nc = x == float('nan')")
    result = run_cli("check", "--no-cache", "nb.ipynb", cwd=tmp_path)
    assert finding_lines(result.stdout) == ["nb.ipynb:cell 3:1:5: SL101", "nb.ipynb:cell 3:2:5: SL503"]
    (tmp_path / "pyproject.toml").write_text('[tool.stablelint]\nper-file-ignores = { "*.ipynb" = ["SL1"] }\n')
    result = run_cli("check", "--no-cache", "nb.ipynb", cwd=tmp_path)
    assert finding_lines(result.stdout) == ["nb.ipynb:cell 3:2:5: SL503"]


def test_notebooks_in_another_language_are_skipped(tmp_path, run_cli):
    write_notebook(tmp_path / "r.ipynb", "y = torch.log(torch.softmax(x, dim=1))", language="R")
    result = run_cli("check", "--no-cache", "r.ipynb", cwd=tmp_path)
    assert result.exit_code == 0
    assert "All checks passed!" in result.stdout


# -- fixes -------------------------------------------------------------------------


def without_cell_source(data: dict, *indexes: int) -> dict:
    data = json.loads(json.dumps(data))
    for index in indexes:
        data["cells"][index - 1]["source"] = None
    return data


def test_fix_changes_only_the_source_of_the_fixed_cell(notebooks, run_cli):
    path = notebooks / "training.ipynb"
    os.chmod(path, 0o640)
    before_text = path.read_text(encoding="utf-8")
    before = json.loads(before_text)
    result = run_cli("check", "--no-cache", "--fix", "training.ipynb", cwd=notebooks)
    assert result.exit_code == 1  # SL101 (no fix there) remains
    assert "Fixed 1 finding. Found 1 finding." in result.stdout
    after_text = path.read_text(encoding="utf-8")
    after = json.loads(after_text)
    assert without_cell_source(after, 7) == without_cell_source(before, 7)  # outputs, metadata, ids, counts
    assert after["cells"][6]["source"] == [
        "def is_diverged(value):\n",
        "    %time checked = value.item()\n",  # the magic comes back as it was
        "    return np.isnan(value)\n",
        "\n",
        "\n",
        "is_diverged(loss)",
    ]
    # The JSON text itself: the same layout, one line different.
    changed = [(old, new) for old, new in zip(before_text.splitlines(), after_text.splitlines()) if old != new]
    assert len(before_text.splitlines()) == len(after_text.splitlines())
    assert changed == [('    "    return value == np.nan\\n",', '    "    return np.isnan(value)\\n",')]
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    nbformat.validate(nbformat.reads(after_text, as_version=4))
    assert not [p for p in notebooks.iterdir() if p.name.endswith(".stablelint-tmp")]


def test_fix_on_a_hand_written_layout_keeps_it_and_adds_the_import_to_the_importing_cell(notebooks, run_cli):
    path = notebooks / "compact.ipynb"
    before = path.read_text(encoding="utf-8")
    result = run_cli("check", "--no-cache", "--fix", "compact.ipynb", cwd=notebooks)
    assert result.exit_code == 0, result.output
    after = path.read_text(encoding="utf-8")
    expected = before.replace("from scipy.special import expit\\n", "from scipy.special import log_expit, expit\\n")
    expected = expected.replace('log_p = np.log(expit(x))"', 'log_p = log_expit(x)"')
    assert after == expected != before  # two-space indent, string sources, \u00e9 escapes all kept
    assert not after.endswith("\n")


def test_import_needed_by_a_fix_goes_into_the_first_code_cell(tmp_path, run_cli):
    path = write_notebook(tmp_path / "nb.ipynb", "#md # JAX", "x = jnp.ones(3)\ny = jnp.log(1 + jnp.exp(x))",
                          "import jax.numpy as jnp")
    run_cli("check", "--no-cache", "--fix", "nb.ipynb", cwd=tmp_path)
    cells = json.loads(path.read_text())["cells"]
    assert "".join(cells[1]["source"]) == "import jax\n\nx = jnp.ones(3)\ny = jax.nn.softplus(x)"
    assert cells[2]["source"] == ["import jax.numpy as jnp"]


@pytest.mark.parametrize("name", ["clean.ipynb", "training.ipynb"])
def test_notebook_without_applicable_fixes_is_byte_identical_after_fix(notebooks, run_cli, name):
    path = notebooks / name
    if name == "training.ipynb":  # leave it only the SL101 that has no fix
        path.write_text(path.read_text().replace("return value == np.nan", "return value != value"))
    before = path.read_bytes()
    mtime = path.stat().st_mtime_ns
    result = run_cli("check", "--no-cache", "--fix", name, cwd=notebooks)
    assert "Fixed" not in result.stdout
    assert path.read_bytes() == before
    assert path.stat().st_mtime_ns == mtime  # not even rewritten


def test_fix_twice_changes_nothing_the_second_time(notebooks, run_cli):
    run_cli("check", "--no-cache", "--fix", ".", cwd=notebooks)
    snapshot = {p.name: p.read_bytes() for p in notebooks.iterdir()}
    second = run_cli("check", "--no-cache", "--fix", ".", cwd=notebooks)
    assert "Fixed" not in second.stdout
    assert {p.name: p.read_bytes() for p in notebooks.iterdir()} == snapshot


def test_diff_shows_the_cell_sources_and_writes_nothing(notebooks, run_cli):
    before = {p.name: p.read_bytes() for p in notebooks.iterdir()}
    result = run_cli("check", "--no-cache", "--diff", "training.ipynb", "compact.ipynb", cwd=notebooks)
    assert result.exit_code == 1
    assert result.stdout == (
        "--- a/compact.ipynb:cell 2\n+++ b/compact.ipynb:cell 2\n@@ -1,4 +1,4 @@\n import numpy as np\n"
        "-from scipy.special import expit\n+from scipy.special import log_expit, expit\n \n"
        " x = np.linspace(-50.0, 50.0, 5)  # \u00e9chantillon\n"
        "--- a/compact.ipynb:cell 3\n+++ b/compact.ipynb:cell 3\n@@ -1,2 +1,2 @@\n print(x)\n"
        "-log_p = np.log(expit(x))\n+log_p = log_expit(x)\n"
        "--- a/training.ipynb:cell 7\n+++ b/training.ipynb:cell 7\n@@ -1,6 +1,6 @@\n def is_diverged(value):\n"
        "     %time checked = value.item()\n-    return value == np.nan\n+    return np.isnan(value)\n \n \n"
        " is_diverged(loss)\n"
    )
    assert "Would fix 2 findings in 2 files." in result.stderr
    assert {p.name: p.read_bytes() for p in notebooks.iterdir()} == before


def test_fix_from_stdin_prints_the_fixed_notebook(notebooks, run_cli):
    source = (notebooks / "training.ipynb").read_text()
    result = run_cli("check", "--fix", "--stdin-filename", "training.ipynb", "-", cwd=notebooks, input=source)
    assert result.stdout == source.replace("return value == np.nan", "return np.isnan(value)")
    checked = run_cli("check", "--stdin-filename", "nb.ipynb", "-", cwd=notebooks, input=source)
    assert finding_lines(checked.stdout) == ["nb.ipynb:cell 5:2:19: SL101", "nb.ipynb:cell 7:3:12: SL503"]


# -- bad input, discovery, cache ---------------------------------------------------


def test_broken_notebooks_give_a_clear_finding_and_the_run_goes_on(notebooks, run_subprocess):
    (notebooks / "schema.ipynb").write_text(json.dumps(
        {"nbformat": 4, "nbformat_minor": 5, "metadata": {},
         "cells": [{"cell_type": "code", "id": "x", "metadata": {}, "source": "import torch"}]}))  # no outputs
    (notebooks / "old.ipynb").write_text(json.dumps({"nbformat": 3, "nbformat_minor": 0, "worksheets": []}))
    (notebooks / "latin1.ipynb").write_bytes(b'{"cells": [], "nbformat": 4, "nbformat_minor": 5, "x": "\xe9"}')
    result = run_subprocess("check", "--no-cache", ".", cwd=notebooks)
    stdout, stderr = result.stdout.decode(), result.stderr.decode()
    assert result.returncode == 1, stderr
    assert "Traceback" not in stderr and stderr == ""
    lines = stdout.splitlines()
    assert "broken.ipynb:4:2: SL000 notebook is not valid JSON: Expecting ',' delimiter" in lines
    assert "not_a_notebook.ipynb:1:1: SL000 not a Jupyter notebook: no 'nbformat' version or no 'cells'" in lines
    assert any(line.startswith("schema.ipynb:1:1: SL000 not a valid Jupyter notebook (at cells/0)") for line in lines)
    assert any(line.startswith("old.ipynb:1:1: SL000 nbformat 3 notebooks are not supported") for line in lines)
    assert "latin1.ipynb:1:1: SL000 notebook is not valid UTF-8: byte 0xe9 cannot be decoded" in lines
    assert any(line.startswith("training.ipynb:cell 5:2:19: SL101") for line in lines)  # the others still run


def test_folders_are_searched_for_notebooks(tmp_path, run_cli):
    project = tmp_path / "project"
    (project / "analysis" / ".ipynb_checkpoints").mkdir(parents=True)
    (project / "legacy").mkdir()
    bug = "import torch\ny = torch.log(torch.softmax(x, dim=1))"
    write_notebook(project / "analysis" / "explore.ipynb", bug)
    write_notebook(project / "analysis" / ".ipynb_checkpoints" / "explore-checkpoint.ipynb", bug)
    write_notebook(project / "legacy" / "old.ipynb", bug)
    (project / "analysis" / "train.py").write_text(bug + "\n")
    (project / "pyproject.toml").write_text('[tool.stablelint]\nexclude = ["legacy/"]\n')
    result = run_cli("check", "--no-cache", ".", cwd=project)
    assert finding_lines(result.stdout) == ["analysis/explore.ipynb:cell 1:2:5: SL101"]
    assert "analysis/train.py:2:5: SL101" in result.stdout


def test_cached_results_keep_the_cell(notebooks, run_cli, tmp_path):
    cache = tmp_path / "cache"
    first = run_cli("check", "--cache-dir", str(cache), "--output-format", "json", "training.ipynb", cwd=notebooks)
    assert list(cache.rglob("*.json"))  # stored
    second = run_cli("check", "--cache-dir", str(cache), "--output-format", "json", "training.ipynb", cwd=notebooks)
    assert second.stdout == first.stdout
    assert [d["cell"] for d in json.loads(second.stdout)] == [5, 7]
    path = notebooks / "training.ipynb"  # a changed notebook is linted again
    path.write_text(path.read_text().replace("return value == np.nan", "return value != value"))
    third = run_cli("check", "--cache-dir", str(cache), "--output-format", "json", "training.ipynb", cwd=notebooks)
    assert [d["cell"] for d in json.loads(third.stdout)] == [5]
