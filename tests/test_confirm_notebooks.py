"""`stablelint confirm` on notebooks: the code cells run as one module, verdicts shown at the cell.

The fixtures in fixtures/confirm_notebooks are nbformat-4 notebooks: softmax.ipynb (a `%matplotlib
inline` magic, a torch function with a log of a softmax, a top-level cell calling it),
standardize.ipynb (a NumPy division by a std, importing the sibling nb_helpers.py and reading
scale.txt by a relative path) and raises.ipynb (a top-level cell that raises). They are run from a
temporary copy of the folder, from its parent, so both must resolve in the notebook's folder.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest
from confirming import run

pytest.importorskip("numpy")
pytest.importorskip("torch")

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "confirm_notebooks"
FAST = ("--device", "cpu", "--timeout", "30", "--memory-limit", "2048")


def leftover_modules() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("stablelint-notebook-*")}


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("confirm") / "notebooks"
    shutil.copytree(FIXTURES, dest)
    return dest


@pytest.fixture(scope="module")
def runs(folder: Path):
    """`check` and `confirm` (concise and JSON) on the folder, and its files before and after."""
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    temporary = leftover_modules()
    check = run("check", "--no-cache", "notebooks", cwd=folder.parent)
    concise = run("confirm", *FAST, "notebooks", cwd=folder.parent)
    as_json = run("confirm", *FAST, "--output-format", "json", "notebooks/softmax.ipynb", cwd=folder.parent)
    after = {p.name: p.read_bytes() for p in folder.iterdir()}
    return {"check": check, "concise": concise, "json": as_json, "unchanged": before == after,
            "leftovers": leftover_modules() - temporary}


def confirm_line(runs, name: str) -> str:
    (line,) = [line for line in runs["concise"].stdout.splitlines() if line.startswith(f"notebooks/{name}:")]
    return line


def test_verdicts_are_shown_where_check_shows_the_findings(runs):
    check = [line.split(" ")[:2] for line in runs["check"].stdout.splitlines() if ".ipynb:" in line]
    confirm = [line.split(" ")[:2] for line in runs["concise"].stdout.splitlines()]
    assert check == confirm == [["notebooks/raises.ipynb:cell", "3:2:12:"], ["notebooks/softmax.ipynb:cell", "3:2:12:"],
                                ["notebooks/standardize.ipynb:cell", "3:2:12:"]]
    codes = [line.split(" ")[2] for line in runs["concise"].stdout.splitlines()]
    assert codes == ["SL101", "SL101", "SL201"]


def test_log_of_softmax_in_a_cell_is_confirmed_and_its_fix_verified(runs):
    # the `%matplotlib inline` magic is masked: the module imports; the top-level cell runs too
    line = confirm_line(runs, "softmax.ipynb")
    assert line.startswith("notebooks/softmax.ipynb:cell 3:2:12: SL101 CONFIRMED: -inf at the flagged expression and "
                           "in the output with logits = ")
    assert line.endswith("[fix verified: finite at the witness and equal within 1e-4 on 3 ordinary inputs]")
    assert runs["concise"].exit_code == 1


def test_json_names_the_cell_and_the_fix_check(runs):
    (verdict,) = json.loads(runs["json"].stdout)
    where = (verdict["path"], verdict["cell"], verdict["line"], verdict["column"])
    assert where == ("notebooks/softmax.ipynb", 3, 2, 12)
    assert (verdict["code"], verdict["verdict"], verdict["function"]) == ("SL101", "CONFIRMED", "token_log_probs")
    assert verdict["message"].startswith("torch.log(torch.softmax(logits, ...)) underflows to -inf")
    assert verdict["fix"]["status"] == "verified"


def test_a_notebook_importing_a_sibling_module_and_reading_a_relative_path_is_confirmed(runs):
    line = confirm_line(runs, "standardize.ipynb")
    assert line.startswith("notebooks/standardize.ipynb:cell 3:2:12: SL201 CONFIRMED: NaN at the flagged expression "
                           "and in the output with x = ")


def test_a_raising_top_level_cell_is_an_error_with_the_reason(runs):
    line = confirm_line(runs, "raises.ipynb")
    assert line == ("notebooks/raises.ipynb:cell 3:2:12: SL101 ERROR: importing the module raised ValueError: "
                    "the data folder is missing")


def test_the_notebooks_are_unchanged_and_the_temporary_modules_removed(runs):
    assert runs["unchanged"]
    assert runs["leftovers"] == set()
