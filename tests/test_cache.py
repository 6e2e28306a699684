"""The result cache: reused when nothing changed, never stale, never a crash, safe in parallel."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from stablelint import cache as cache_module
from stablelint.cache import Cache
from stablelint.diagnostic import Diagnostic, FileResult, Position

BUGGY = "import torch\n\n\ndef f(p):\n    return torch.log(torch.softmax(p, 1))\n"
FIXED = "import torch\n\n\ndef f(p):\n    return torch.log_softmax(p, 1)\n"
DIVISION = "import torch\n\n\ndef g(x):\n    return x / x.std()\n"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "a.py").write_text(BUGGY)
    (tmp_path / "b.py").write_text(DIVISION)
    return tmp_path


def entries(folder: Path) -> list[Path]:
    return sorted(p for p in (folder / ".stablelint_cache").rglob("*.json"))


def codes(result) -> list[str]:
    return [d["code"] for d in json.loads(result.stdout)]


def test_second_run_reads_the_cache(tree, run_cli):
    first = run_cli("check", "--output-format", "json", ".", cwd=tree)
    assert codes(first) == ["SL101", "SL201"]
    assert len(entries(tree)) == 2
    stamps = [p.stat().st_mtime_ns for p in entries(tree)]
    second = run_cli("check", "--output-format", "json", ".", cwd=tree)
    assert second.stdout == first.stdout
    assert [p.stat().st_mtime_ns for p in entries(tree)] == stamps  # nothing rewritten


def test_changed_content_is_linted_again(tree, run_cli):
    run_cli("check", ".", cwd=tree)
    (tree / "a.py").write_text(FIXED)
    result = run_cli("check", "--output-format", "json", ".", cwd=tree)
    assert codes(result) == ["SL201"]


def test_changed_configuration_is_not_served_stale(tree, run_cli):
    run_cli("check", ".", cwd=tree)
    assert codes(run_cli("check", "--output-format", "json", "--select", "SL2", ".", cwd=tree)) == ["SL201"]
    (tree / "pyproject.toml").write_text('[tool.stablelint]\nignore = ["SL201"]\n')
    assert codes(run_cli("check", "--output-format", "json", ".", cwd=tree)) == ["SL101"]
    (tree / "pyproject.toml").write_text('[tool.stablelint]\nper-file-ignores = {"a.py" = ["SL1"]}\n')
    assert codes(run_cli("check", "--output-format", "json", ".", cwd=tree)) == ["SL201"]


def test_new_version_invalidates(tree, run_cli, monkeypatch):
    run_cli("check", ".", cwd=tree)
    assert len(entries(tree)) == 2
    monkeypatch.setattr(cache_module, "__version__", "999.0")
    run_cli("check", ".", cwd=tree)
    assert len(entries(tree)) == 4  # every file linted again under the new version's keys


def test_corrupt_entries_are_ignored_and_rewritten(tree, run_cli):
    expected = run_cli("check", "--output-format", "json", ".", cwd=tree).stdout
    for entry in entries(tree):
        entry.write_bytes(b"\x00garbage{")
    result = run_cli("check", "--output-format", "json", ".", cwd=tree)
    assert result.stdout == expected
    assert result.stderr == ""
    for entry in entries(tree):
        json.loads(entry.read_text())


def test_no_cache_writes_nothing(tree, run_cli):
    result = run_cli("check", "--no-cache", ".", cwd=tree)
    assert result.exit_code == 1
    assert not (tree / ".stablelint_cache").exists()


def test_cache_dir_option(tree, run_cli, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    run_cli("check", "--cache-dir", str(elsewhere), ".", cwd=tree)
    assert len(list(elsewhere.rglob("*.json"))) == 2
    assert not (tree / ".stablelint_cache").exists()


def test_concurrent_runs_share_the_cache_safely(tmp_path):
    for i in range(60):
        (tmp_path / f"m{i}.py").write_text(BUGGY if i % 2 else DIVISION)
    command = [sys.executable, "-m", "stablelint", "check", "--output-format", "json", "."]
    runs = [subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(3)]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert all(run.returncode == 1 for run in runs), [err for _, err in outputs]
    assert all(err == b"" for _, err in outputs)
    assert len({out for out, _ in outputs}) == 1
    assert len(json.loads(outputs[0][0])) == 60
    for entry in entries(tmp_path):
        json.loads(entry.read_text())
    assert not list((tmp_path / ".stablelint_cache").rglob(".tmp-*"))


def test_cache_is_bounded(tmp_path):
    cache = Cache(tmp_path / "c", "code")
    result = FileResult("x.py", [Diagnostic("SL101", "m", "x.py", Position(1, 1), Position(1, 2))])
    for i in range(30):
        cache.put(f"{i:040x}", result)
    assert cache.prune(limit=20) == 14  # back to 80 % of the limit
    assert len(list((tmp_path / "c").rglob("*.json"))) == 16


def test_progress_on_request(tree, run_cli):
    result = run_cli("check", "--progress", "--no-cache", ".", cwd=tree)
    assert "stablelint: 2/2 files" in result.stderr
    quiet = run_cli("check", "--no-cache", ".", cwd=tree)
    assert "files" not in quiet.stderr
