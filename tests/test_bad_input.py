"""Bad input never produces a traceback: SL000 findings, clear errors, the run goes on."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest


def by_file(result) -> dict[str, list[tuple[int, int, str]]]:
    found: dict[str, list[tuple[int, int, str]]] = {}
    for d in json.loads(result.stdout):
        found.setdefault(Path(d["filename"]).name, []).append((d["location"]["row"], d["location"]["column"],
                                                               d["code"]))
    return found


def test_bad_files_do_not_stop_the_run(fixtures, run_cli):
    result = run_cli("check", "--output-format", "json", str(fixtures / "badinput"))
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    found = by_file(result)
    assert found["syntax_error.py"] == [(3, 6, "SL000")]
    assert found["latin1_undeclared.py"] == [(2, 6, "SL000")]
    assert "empty.py" not in found
    # the files after and around the broken ones are still linted
    assert found["latin1_declared.py"] == [(4, 5, "SL101")]
    assert found["bom.py"] == [(2, 5, "SL101")]
    assert found["crlf.py"] == [(2, 5, "SL101")]
    # columns count code points, not bytes
    assert found["unicode_columns.py"] == [(3, 9, "SL101")]
    # deeply nested and very long expressions (generated code) are analysed, not crashed on
    assert found["deep.py"] == [(3, 5, "SL101"), (4, 8, "SL201")]


def test_syntax_error_message(fixtures, run_cli):
    result = run_cli("check", str(fixtures / "badinput" / "syntax_error.py"))
    assert result.exit_code == 1
    assert "syntax_error.py:3:6: SL000 syntax error: '(' was never closed" in result.stdout


def test_undecodable_file_message(fixtures, run_cli):
    result = run_cli("check", str(fixtures / "badinput" / "latin1_undeclared.py"))
    assert "SL000 file is not valid utf-8: byte 0xe9 cannot be decoded" in result.stdout


def test_unreadable_file_is_an_error_not_a_crash(tmp_path, run_cli):
    if os.geteuid() == 0:
        pytest.skip("root can read any file")
    target = tmp_path / "secret.py"
    target.write_text("import torch\nx = torch.log(torch.softmax(y, 1))\n")
    target.chmod(0)
    result = run_cli("check", str(target))
    assert result.exit_code == 2
    assert "cannot read file" in result.stderr


def test_directory_symlink_loop_and_non_python_files(tmp_path, fixtures, run_cli):
    shutil.copy(fixtures / "project" / "legacy" / "old.py", tmp_path / "a.py")
    (tmp_path / "notes.txt").write_text("torch.log(torch.softmax(x))")
    (tmp_path / "loop").symlink_to(tmp_path)
    result = run_cli("check", "--output-format", "json", str(tmp_path))
    assert [Path(d["filename"]).name for d in json.loads(result.stdout)] == ["a.py"]


def test_thousands_of_files(tmp_path, run_subprocess):
    bad = "import torch\n\n\ndef f(p):\n    return torch.log(torch.softmax(p, 1))\n"
    clean = "import os\n\nVALUE = os.sep\n"
    for i in range(3000):
        folder = tmp_path / f"pkg{i // 100}"
        folder.mkdir(exist_ok=True)
        (folder / f"m{i}.py").write_text(bad if i % 10 == 0 else clean)
    proc = run_subprocess("check", "--statistics", str(tmp_path), "--jobs", "2")
    assert proc.returncode == 1, proc.stderr.decode()
    assert proc.stderr == b""
    assert proc.stdout.decode().split()[:2] == ["300", "SL101"]
