"""The pre-commit hooks, run by the real pre-commit (`try-repo`) on a temporary git repository,
and `stablelint check --force-exclude`, which they rely on.

pre-commit installs the hook repository into a fresh virtualenv with pip (from the package index),
so these tests take a few seconds each.  The hook repository is a committed copy of this working
tree, so uncommitted changes are what gets tested.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# What `pip install .` of the hook repository needs (pyproject names README.md as the readme).
HOOK_REPO_FILES = ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "stablelint", "rules")

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="pre-commit hooks need git, which is not installed")

BUGGY = "import torch\n\n\ndef loss(p):\n    return torch.log(torch.softmax(p, 1))\n"
FIXED = "import torch\n\n\ndef loss(p):\n    return torch.log_softmax(p, 1)\n"
CLEAN = "import numpy as np\n\n\ndef norm(x):\n    return x / (np.linalg.norm(x) + 1e-8)\n"


def _git_env(home: Path) -> dict[str, str]:
    return {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
            "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull, "PRE_COMMIT_HOME": str(home)}


def _git(*args: str, cwd: Path, env: dict[str, str]) -> None:
    subprocess.run(["git", "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", *args], cwd=cwd, env=env,
                   check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    base = tmp_path_factory.mktemp("hooks")
    env = _git_env(base / "pre-commit-home")
    repo = base / "stablelint"
    repo.mkdir()
    for name in HOOK_REPO_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, repo / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, repo / name)
    _git("init", "-q", cwd=repo, env=env)
    _git("add", "-A", cwd=repo, env=env)
    _git("commit", "-q", "-m", "hooks", cwd=repo, env=env)
    return repo, env


@pytest.fixture
def user_repo(tmp_path, hook_repo) -> Path:
    _, env = hook_repo
    repo = tmp_path / "project"
    (repo / "vendored").mkdir(parents=True)
    (repo / "pyproject.toml").write_text('[tool.stablelint]\nexclude = ["vendored/"]\n')
    (repo / "train.py").write_text(BUGGY)
    (repo / "metrics.py").write_text(CLEAN)
    (repo / "vendored" / "third_party.py").write_text(BUGGY)
    _git("init", "-q", cwd=repo, env=env)
    _git("add", "-A", cwd=repo, env=env)
    return repo


def try_repo(hook_repo: tuple[Path, dict[str, str]], hook: str, cwd: Path) -> subprocess.CompletedProcess:
    repo, env = hook_repo
    return subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(repo), hook, "--all-files"],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_manifest_is_valid():
    run = subprocess.run([sys.executable, "-m", "pre_commit", "validate-manifest", ".pre-commit-hooks.yaml"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr


def test_hook_fails_on_the_bug_and_skips_excluded_files(hook_repo, user_repo):
    run = try_repo(hook_repo, "stablelint", user_repo)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "train.py:5:12: SL101 [*] torch.log(torch.softmax(p, ...)) underflows" in run.stdout
    assert "vendored" not in run.stdout.split("hook id: stablelint", 1)[1]  # excluded though named
    assert "metrics.py" not in run.stdout
    assert "Found 1 finding." in run.stdout


def test_fix_hook_fixes_the_file_then_the_check_passes(hook_repo, user_repo):
    run = try_repo(hook_repo, "stablelint-fix", user_repo)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "files were modified by this hook" in run.stdout
    assert (user_repo / "train.py").read_text() == FIXED
    assert (user_repo / "vendored" / "third_party.py").read_text() == BUGGY
    assert (user_repo / "metrics.py").read_text() == CLEAN
    again = try_repo(hook_repo, "stablelint", user_repo)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Passed" in again.stdout


def test_force_exclude_applies_exclude_to_named_files(project, run_cli):
    (project / "pyproject.toml").write_text('[tool.stablelint]\nexclude = ["legacy/", "*metrics.py"]\n')
    named = ("legacy/old.py", "pkg/sub/metrics.py", "pkg/model.py")
    plain = run_cli("check", "--no-cache", *named, cwd=project)
    assert {line.split(":")[0] for line in plain.stdout.splitlines() if ": SL" in line} == set(named)
    forced = run_cli("check", "--no-cache", "--force-exclude", *named, cwd=project)
    assert forced.exit_code == 1
    assert {line.split(":")[0] for line in forced.stdout.splitlines() if ": SL" in line} == {"pkg/model.py"}
    folder = run_cli("check", "--no-cache", "--force-exclude", "legacy", cwd=project)
    assert folder.exit_code == 0, folder.stdout
    stdin = run_cli("check", "--force-exclude", "--stdin-filename", "legacy/old.py", "-", cwd=project,
                    input=(project / "legacy" / "old.py").read_text())
    assert stdin.exit_code == 0, stdin.stdout
    original = (project / "legacy" / "old.py").read_text()
    fixed_stdin = run_cli("check", "--fix", "--force-exclude", "--stdin-filename", "legacy/old.py", "-",
                          cwd=project, input=original)
    assert fixed_stdin.exit_code == 0 and fixed_stdin.stdout == original
    assert run_cli("check", "--fix", "--stdin-filename", "legacy/old.py", "-", cwd=project,
                   input=original).stdout != original
