"""`stablelint check --fix/--diff/--unsafe-fixes/--show-fixes` on real files: what is written and what is not."""

from __future__ import annotations

import json
import os
import shutil
import stat

import pytest

from stablelint.fixer import ChangedOnDisk, write_back

METRICS = "pkg/sub/metrics.py"  # `loss == np.nan`: a safe fix (SL503)
MODEL = "pkg/model.py"  # `x / x.std(dim=0)`: an unsafe fix (SL201); `torch.log(probs)`: no fix (SL101)



def test_fix_applies_safe_fixes_only(project, run_cli):
    model_before = (project / MODEL).read_text()
    result = run_cli("check", "--fix", "pkg", cwd=project)
    assert result.exit_code == 1  # SL101 and SL201 remain
    assert (project / METRICS).read_text().endswith("    return np.isnan(loss)\n")
    assert (project / MODEL).read_text() == model_before
    assert "SL503" not in result.stdout
    assert "Fixed 1 finding. Found 2 findings. (1 fixable with --unsafe-fixes)" in result.stdout


def test_unsafe_fixes_apply_with_the_flag(project, run_cli):
    result = run_cli("check", "--fix", "--unsafe-fixes", "pkg", cwd=project)
    assert result.exit_code == 1  # SL101 has no fix
    assert "    return x / (x.std(dim=0) + 1e-8)\n" in (project / MODEL).read_text()
    assert [line.split()[1] for line in result.stdout.splitlines() if line.startswith("pkg/")] == ["SL101"]


def test_everything_fixed_exits_zero(project, run_cli):
    result = run_cli("check", "--fix", METRICS, cwd=project)
    assert result.exit_code == 0
    assert "Fixed 1 finding" in result.stdout


def test_fix_twice_changes_nothing_the_second_time(project, run_cli):
    run_cli("check", "--fix", "--unsafe-fixes", "pkg", cwd=project)
    snapshot = {p: p.read_bytes() for p in project.rglob("*.py")}
    second = run_cli("check", "--fix", "--unsafe-fixes", "pkg", cwd=project)
    assert "Fixed" not in second.stdout
    assert {p: p.read_bytes() for p in project.rglob("*.py")} == snapshot


def test_diff_shows_and_writes_nothing(project, run_cli):
    before = {p: p.read_bytes() for p in project.rglob("*.py")}
    result = run_cli("check", "--diff", "pkg", cwd=project)
    assert result.exit_code == 1
    assert f"--- a/{METRICS}\n+++ b/{METRICS}\n" in result.stdout
    assert "-    return loss == np.nan\n+    return np.isnan(loss)\n" in result.stdout
    assert "x.std(dim=0) + 1e-8" not in result.stdout  # unsafe: not without --unsafe-fixes
    assert "Would fix 1 finding in 1 file." in result.stderr
    assert {p: p.read_bytes() for p in project.rglob("*.py")} == before
    unsafe = run_cli("check", "--diff", "--unsafe-fixes", "pkg", cwd=project)
    assert "+    return x / (x.std(dim=0) + 1e-8)\n" in unsafe.stdout


def test_diff_with_nothing_to_fix_exits_zero(project, run_cli):
    result = run_cli("check", "--diff", "pkg/clean.py", cwd=project)
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "No fixes available." in result.stderr


def test_show_fixes_lists_what_was_fixed(project, run_cli):
    result = run_cli("check", "--fix", "--show-fixes", "pkg", cwd=project)
    assert f"Fixed 1 finding:\n- {METRICS}:\n    1 x SL503 (compare-with-nan)" in result.stdout


def test_fixable_findings_are_marked(project, run_cli):
    plain = run_cli("check", "pkg", cwd=project).stdout
    assert "SL503 [*]" in plain and "SL201 [*]" not in plain
    unsafe = run_cli("check", "--unsafe-fixes", "pkg", cwd=project).stdout
    assert "SL201 [*]" in unsafe and "SL101 [*]" not in unsafe


def test_stdin_fix_prints_the_fixed_source(run_cli):
    source = "import numpy as np\n\n\ndef broken(loss):\n    return loss == np.nan\n"
    result = run_cli("check", "--fix", "-", input=source)
    assert result.exit_code == 0
    assert result.stdout == source.replace("loss == np.nan", "np.isnan(loss)")


def test_parentheses_that_only_grouped_the_fixed_expression_go(run_cli):
    source = ("import numpy as np\n\n\ndef mel(m, key):\n"
              "    a = 700.0 * (np.exp(m / 1127.0) - 1.0)\n"
              "    b = print(np.exp(m) - 1)\n"
              "    return (np.exp(a) - 1), np.log((1 + b)), key\n")
    result = run_cli("check", "--fix", "-", input=source)
    assert result.stdout == ("import numpy as np\n\n\ndef mel(m, key):\n"
                             "    a = 700.0 * np.expm1(m / 1127.0)\n"
                             "    b = print(np.expm1(m))\n"
                             "    return np.expm1(a), np.log1p(b), key\n")


def test_no_fix_deletes_a_comment_and_messages_quote_code_without_comments(run_cli):
    source = ("import torch\n\n\ndef scores(logits, y):\n"
              "    a = torch.log(torch.softmax(\n        logits,  # raw scores\n        dim=-1,\n    ))\n"
              "    b = torch.log(torch.softmax(y, dim=-1))  # a comment outside the call stays\n"
              "    return a, b\n")
    result = run_cli("check", "--fix", "-", input=source)
    # the fix of the first would take "# raw scores" with the call: it is not offered; the second is fixed
    assert result.stdout == source.replace("torch.log(torch.softmax(y, dim=-1))", "torch.log_softmax(y, dim=-1)")
    report = run_cli("check", "--output-format", "json", "-", input=source)
    first = [d for d in json.loads(report.stdout) if d["location"]["row"] == 5]
    assert first and first[0]["fix"] is None
    assert "#" not in first[0]["message"]


def test_import_added_only_when_none_fits(tmp_path, run_cli):
    target = tmp_path / "attn.py"
    target.write_text("import torch.nn.functional as F\n\n\ndef attend(scores, pad):\n"
                      "    return F.softmax(scores.masked_fill(pad, float('-inf')), -1)\n")
    run_cli("check", "--fix", "--unsafe-fixes", str(target), cwd=tmp_path)
    text = target.read_text()
    assert "scores.masked_fill(pad, torch.finfo(scores.dtype).min)" in text
    assert text.count("import torch\n") == 1


def test_encoding_bom_line_endings_and_permissions_survive(tmp_path, run_cli):
    target = tmp_path / "legacy.py"
    body = "# -*- coding: latin-1 -*-\r\n# caf\xe9\r\nimport numpy as np\r\n\r\n\r\ndef f(loss):\r\n    return loss == np.nan\r\n"
    target.write_bytes(body.encode("latin-1"))
    target.chmod(0o751)
    bom = tmp_path / "bom.py"
    bom.write_bytes(b"\xef\xbb\xbfimport numpy as np\n\n\ndef f(loss):\n    return loss != np.nan  # keep me\n")
    result = run_cli("check", "--fix", str(target), str(bom), cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert target.read_bytes() == body.replace("loss == np.nan", "np.isnan(loss)").encode("latin-1")
    assert stat.S_IMODE(target.stat().st_mode) == 0o751
    assert bom.read_bytes() == b"\xef\xbb\xbfimport numpy as np\n\n\ndef f(loss):\n    return ~np.isnan(loss)  # keep me\n"


def test_a_file_changed_during_the_run_is_not_overwritten(tmp_path):
    target = tmp_path / "edited.py"
    read = b"x = 1\n"
    target.write_bytes(b"x = 2  # the user's edit, saved while stablelint ran\n")
    with pytest.raises(ChangedOnDisk):
        write_back(target, read, "x = 1.0\n", "utf-8", False)
    assert target.read_bytes() == b"x = 2  # the user's edit, saved while stablelint ran\n"
    assert [p.name for p in tmp_path.iterdir()] == ["edited.py"]  # no temporary file left behind


def test_a_fix_that_breaks_the_code_is_rolled_back_and_reported(tmp_path, run_cli, fixtures):
    shutil.copytree(fixtures / "config" / "bad_fix_rules", tmp_path / "rules")
    (tmp_path / "pyproject.toml").write_text('[tool.stablelint]\nextend-rules = ["rules"]\n')
    target = tmp_path / "a.py"
    target.write_text("import numpy as np\nimport torch\n\n\ndef f(x, loss):\n    return torch.exp(x), loss == np.nan\n")
    result = run_cli("check", "--fix", "a.py", cwd=tmp_path)
    assert result.exit_code == 2
    # the good fix on the same line is applied; the broken one is not, and the file parses
    assert target.read_text().endswith("    return torch.exp(x), np.isnan(loss)\n")
    assert result.stderr.count("the fix for ML900 at line 6 would leave code that does not parse") == 1
    assert "ML900 torch.exp(x) gets a broken fix" in result.stdout  # still reported, without [*]


@pytest.mark.parametrize(("config", "args", "metrics_fixed", "model_fixed"), [
    ('unfixable = ["SL503"]', ("--fix",), False, False),
    ('fixable = ["SL2"]', ("--fix", "--unsafe-fixes"), False, True),
    ('extend-safe-fixes = ["SL201"]', ("--fix",), True, True),
    ('extend-unsafe-fixes = ["SL503"]', ("--fix",), False, False),
    ('extend-unsafe-fixes = ["SL503"]', ("--fix", "--unsafe-fixes"), True, True),
])
def test_fix_configuration(project, run_cli, config, args, metrics_fixed, model_fixed):
    (project / "pyproject.toml").write_text(f"[tool.stablelint]\n{config}\n")
    run_cli("check", *args, "pkg", cwd=project)
    assert ("np.isnan(loss)" in (project / METRICS).read_text()) == metrics_fixed
    assert ("x.std(dim=0) + 1e-8" in (project / MODEL).read_text()) == model_fixed


def test_unknown_code_in_fix_configuration_is_a_clear_error(project, run_cli):
    (project / "pyproject.toml").write_text('[tool.stablelint]\nunfixable = ["SL999"]\n')
    result = run_cli("check", "--fix", "pkg", cwd=project)
    assert result.exit_code == 2
    assert "SL999" in result.stderr and "Traceback" not in result.stderr


def test_fix_writes_through_a_real_process(project, run_subprocess):
    result = run_subprocess("check", "--fix", "--no-cache", METRICS, cwd=project)
    assert result.returncode == 0, result.stderr
    assert "np.isnan(loss)" in (project / METRICS).read_text()
    assert not [p for p in (project / "pkg" / "sub").iterdir() if p.name not in ("metrics.py", "__pycache__")]
    assert os.access(project / METRICS, os.R_OK)
