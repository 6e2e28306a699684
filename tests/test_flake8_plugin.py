"""The flake8 plugin, through the real flake8 in a subprocess: same findings as `stablelint check`,
configuration honoured, noqa through flake8, no traceback on a file that does not parse."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINE = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): (?P<code>[A-Z]+\d+) (?P<message>.*)$")
# flake8 reports E999 for a syntax error and never calls plugins; and it reads a file that is not
# valid in its declared encoding as latin-1, where `stablelint check` reports SL000 instead.
NOT_COMPARABLE = {"fixtures/badinput/syntax_error.py", "fixtures/badinput/latin1_undeclared.py"}

LOG_SOFTMAX = "import torch\n\n\ndef f(logits):\n    return torch.log(torch.softmax(logits, 1))\n"
BOTH = ("import torch\n\n\ndef f(logits, x):\n"
        "    y = torch.log(torch.softmax(logits, 1))\n"
        "    return y, x / x.std()\n")


def flake8(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flake8", *args], cwd=cwd, input=stdin, capture_output=True,
                          text=True, timeout=300)


def findings(output: str) -> list[tuple[str, int, int, str]]:
    found = []
    for line in output.splitlines():
        match = LINE.match(line)
        assert match, f"not a flake8 finding: {line!r}"
        found.append((match["path"].removeprefix("./"), int(match["line"]), int(match["col"]), match["code"]))
    return found


def test_same_findings_at_same_positions_as_stablelint_check():
    paths = ["examples", "fixtures"]
    check = subprocess.run([sys.executable, "-m", "stablelint", "check", "--no-cache", "--output-format", "json",
                            *paths], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert check.returncode == 1, check.stderr
    expected = {(d["filename"], d["location"]["row"], d["location"]["column"], d["code"], d["message"])
                for d in json.loads(check.stdout)
                if d["filename"].endswith(".py") and d["filename"] not in NOT_COMPARABLE}
    run = flake8("--isolated", "--select", "SL", *paths, cwd=ROOT)
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    got = set()
    for line in run.stdout.splitlines():
        match = LINE.match(line)
        assert match, line
        if match["path"] not in NOT_COMPARABLE:
            got.add((match["path"], int(match["line"]), int(match["col"]), match["code"], match["message"]))
    assert len(expected) > 100  # the fixtures hold many findings across every rule family
    assert {code for *_, code, _ in expected} >= {"SL101", "SL102", "SL110", "SL201", "SL503"}
    assert got == expected


def test_noqa_through_flake8(tmp_path):
    (tmp_path / "noqa.py").write_text(
        "import torch\n\n\ndef f(logits, x):\n"
        "    a = torch.log(torch.softmax(logits, 1))  # noqa\n"
        "    b = torch.log(torch.softmax(logits, 1))  # noqa: SL101\n"
        "    c = torch.log(torch.softmax(logits, 1))  # noqa: E501\n"
        "    d = torch.log(torch.softmax(logits, 1))\n"
        "    e = x / x.std()  # noqa:SL2\n"
        "    g = x / x.std()  # stablelint: disable=SL201\n"
        "    return a, b, c, d, e, g\n"
    )
    run = flake8("--isolated", "--select", "SL", "noqa.py", cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    assert findings(run.stdout) == [("noqa.py", 7, 9, "SL101"), ("noqa.py", 8, 9, "SL101")]
    # --disable-noqa lifts flake8's handling only: a finding suppressed by either stays hidden
    lifted = flake8("--isolated", "--disable-noqa", "--select", "SL", "noqa.py", cwd=tmp_path)
    assert findings(lifted.stdout) == findings(run.stdout)


def test_file_configuration_and_flake8_selection_both_apply(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.stablelint]\nignore = ["SL503"]\nper-file-ignores = {"tests/*" = ["SL201"]}\n'
    )
    (tmp_path / "tests").mkdir()
    body = BOTH.replace("return y, x / x.std()", "return y, x / x.std(), y == float('nan')")
    (tmp_path / "model.py").write_text(body)
    (tmp_path / "tests" / "test_model.py").write_text(body)
    check = subprocess.run([sys.executable, "-m", "stablelint", "check", "--no-cache", "."], cwd=tmp_path,
                           capture_output=True, text=True, timeout=300)
    assert "SL503" not in check.stdout

    run = flake8("--isolated", "--select", "SL", ".", cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    assert sorted(findings(run.stdout)) == [
        ("model.py", 5, 9, "SL101"), ("model.py", 6, 15, "SL201"), ("tests/test_model.py", 5, 9, "SL101"),
    ]
    assert sorted(findings(run.stdout)) == sorted(findings(check.stdout.split("\n\n")[0]))
    narrowed = flake8("--isolated", "--select", "SL", "--extend-ignore", "SL101", ".", cwd=tmp_path)
    assert findings(narrowed.stdout) == [("model.py", 6, 15, "SL201")]
    only = flake8("--isolated", "--select", "SL2", ".", cwd=tmp_path)
    assert findings(only.stdout) == [("model.py", 6, 15, "SL201")]


def test_stdin_text_is_checked_under_the_named_files_configuration(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.stablelint]\nper-file-ignores = {"tests/*" = ["SL201"]}\n')
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_model.py").write_text("# the copy on disk is clean\n")
    run = flake8("--isolated", "--select", "SL", "--stdin-display-name", "tests/test_model.py", "-", cwd=tmp_path,
                 stdin=BOTH)
    assert run.returncode == 1, run.stderr
    assert findings(run.stdout) == [("tests/test_model.py", 5, 9, "SL101")]


def test_columns_count_characters_in_a_declared_encoding(tmp_path):
    source = ("# -*- coding: latin-1 -*-\nimport torch\n\n\ndef f(logits):\n"
              "    é = 'àé'; return torch.log(torch.softmax(logits, 1))\n")
    (tmp_path / "latin.py").write_bytes(source.encode("latin-1"))
    check = subprocess.run([sys.executable, "-m", "stablelint", "check", "--no-cache", "--output-format", "json",
                            "latin.py"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    (finding,) = json.loads(check.stdout)
    run = flake8("--isolated", "--select", "SL", "latin.py", cwd=tmp_path)
    assert findings(run.stdout) == [("latin.py", 6, finding["location"]["column"], "SL101")]
    assert finding["location"]["column"] == 22  # characters, not bytes


def test_syntax_error_is_flake8s_e999_and_other_files_still_checked(tmp_path):
    (tmp_path / "broken.py").write_text("import torch\n\ndef f(x:\n    return torch.log(torch.softmax(x, 1))\n")
    (tmp_path / "model.py").write_text(LOG_SOFTMAX)
    run = flake8("--isolated", "--select", "E999,SL", ".", cwd=tmp_path)
    assert run.returncode == 1
    assert "Traceback" not in run.stdout + run.stderr
    found = [(path, code) for path, _, _, code in findings(run.stdout)]
    assert found == [("broken.py", "E999"), ("model.py", "SL101")]


def test_broken_configuration_is_a_clear_error(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.stablelint]\nignor = ["SL201"]\n')
    (tmp_path / "model.py").write_text(LOG_SOFTMAX)
    run = flake8("--isolated", "--select", "SL", "model.py", cwd=tmp_path)
    assert run.returncode == 1
    output = run.stdout + run.stderr
    assert "Traceback" not in output
    assert "unknown key 'tool.stablelint.ignor'" in output
    assert str(tmp_path / "pyproject.toml") in output


def test_readme_example_is_what_flake8_prints():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```console\n(.*?)```", readme[readme.index("## flake8 and pre-commit"):], re.S)
    assert block is not None
    _, command, *shown = block.group(1).splitlines()
    run = flake8(*command.removeprefix("$ flake8 ").split(), cwd=ROOT)
    assert run.stdout.splitlines() == shown
