"""The language server end to end: `stablelint server` as a real subprocess, driven over stdio by
pytest-lsp's client with the capabilities of real editors (VS Code: push diagnostics and UTF-16;
Neovim 0.11: pull diagnostics and UTF-8)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pygls", reason="the language server needs the 'server' extra (pygls)")
pytest_lsp = pytest.importorskip("pytest_lsp", reason="these tests need pytest-lsp (the 'test' extra)")

from lsprotocol import types  # noqa: E402
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities  # noqa: E402
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features  # noqa: E402
from pygls.protocol import default_converter  # noqa: E402

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
TIMEOUT = 20

BUGGY = '''import torch
import torch.nn.functional as F


def loss(logits, x, y):
    s = "😀😀"; p = torch.log(F.softmax(logits, dim=-1))
    r = x / x.std()
    if y.item() == float("nan"):
        return p.mean()
    return (p + r).mean()
'''


def _recording_client() -> LanguageClient:
    """pytest-lsp's client, also keeping every publishDiagnostics with its version, in order."""
    client = LanguageClient(converter_factory=default_converter)
    client.published = []
    default = DEFAULT_CLIENT_FEATURES[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS]

    def publish(client: LanguageClient, params: types.PublishDiagnosticsParams):
        client.published.append(params)
        default(client, params)

    register_lsp_features(client, {**DEFAULT_CLIENT_FEATURES, types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS: publish})
    return client


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "stablelint", "server"],
                                              client_factory=_recording_client))
async def client(lsp_client: LanguageClient):
    yield
    await lsp_client.shutdown_session()


# -- helpers -------------------------------------------------------------------------------


def vscode(encodings: list[str] | None = None) -> types.ClientCapabilities:
    capabilities = client_capabilities("visual-studio-code")
    if encodings is not None:
        capabilities.general = types.GeneralClientCapabilities(position_encodings=encodings)
    return capabilities


async def start(client: LanguageClient, root: Path, capabilities: types.ClientCapabilities | None = None,
                settings: dict | None = None) -> types.InitializeResult:
    if settings is not None:
        client.set_configuration(settings, section="stablelint")
    return await client.initialize_session(types.InitializeParams(
        capabilities=capabilities or vscode(), root_uri=root.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)]))


def open_file(client: LanguageClient, path: Path, text: str, version: int = 1) -> str:
    path.write_text(text, encoding="utf-8")
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="python", version=version, text=text)))
    return uri


def change(client: LanguageClient, uri: str, text: str, version: int) -> None:
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))


async def published(client: LanguageClient, uri: str, version: int | None = None) -> list[types.Diagnostic]:
    """The diagnostics pushed for ``uri`` (at ``version``), waiting for them to arrive."""
    async def arrived():
        while True:
            for params in reversed(client.published):
                if params.uri == uri and (version is None or params.version == version):
                    return params.diagnostics
            await asyncio.sleep(0.02)

    return await asyncio.wait_for(arrived(), TIMEOUT)


def codes(diagnostics) -> list[str]:
    return [d.code for d in diagnostics]


def offset(lines: list[str], position: types.Position) -> int:
    """A UTF-16 LSP position as an index into the text (lines keep their ends)."""
    before = sum(len(line) for line in lines[:position.line])
    line, units, index = lines[position.line] if position.line < len(lines) else "", 0, 0
    while units < position.character:
        units += 2 if ord(line[index]) > 0xFFFF else 1
        index += 1
    return before + index


def apply(text: str, edit: types.WorkspaceEdit, uri: str) -> str:
    """What an editor does with a WorkspaceEdit on one document (UTF-16 positions)."""
    if edit.document_changes:
        edits = [e for change in edit.document_changes if change.text_document.uri == uri for e in change.edits]
    else:
        edits = list(edit.changes[uri])
    lines = text.splitlines(keepends=True)
    spans = sorted(((offset(lines, e.range.start), offset(lines, e.range.end), e.new_text) for e in edits),
                   reverse=True)
    for start, end, new_text in spans:
        text = text[:start] + new_text + text[end:]
    return text


async def actions_at(client: LanguageClient, uri: str, diagnostic: types.Diagnostic,
                     only: list[str] | None = None) -> list[types.CodeAction]:
    return await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=diagnostic.range,
        context=types.CodeActionContext(diagnostics=[diagnostic], only=only)))


def finding(diagnostics, code: str) -> types.Diagnostic:
    return next(d for d in diagnostics if d.code == code)


# -- diagnostics -----------------------------------------------------------------------------


async def test_open_pushes_diagnostics_with_utf16_ranges(client: LanguageClient, tmp_path: Path):
    result = await start(client, tmp_path)
    assert result.capabilities.position_encoding in (None, "utf-16")
    uri = open_file(client, tmp_path / "model.py", BUGGY)
    diagnostics = await published(client, uri, 1)
    assert codes(diagnostics) == ["SL101", "SL201", "SL503"]
    log = finding(diagnostics, "SL101")
    # `    s = "😀😀"; p = ` is 18 code points; each emoji is two UTF-16 units
    line = BUGGY.splitlines()[5]
    assert line.index("torch.log") == 18
    assert (log.range.start.line, log.range.start.character) == (5, 20)
    assert (log.range.end.line, log.range.end.character) == (5, 20 + len("torch.log(F.softmax(logits, dim=-1))"))
    assert log.source == "stablelint"
    assert log.severity == types.DiagnosticSeverity.Error
    assert "F.log_softmax" in log.message
    assert log.data["fix"]["applicability"] == "safe" and log.data["version"] == 1
    division = finding(diagnostics, "SL201")
    assert (division.range.start.line, division.range.start.character) == (6, 8)


@pytest.mark.parametrize(("encoding", "character"), [("utf-8", 24), ("utf-32", 18)])
async def test_position_encoding_is_negotiated(client: LanguageClient, tmp_path: Path, encoding: str, character: int):
    result = await start(client, tmp_path, vscode([encoding, "utf-16"]))
    assert result.capabilities.position_encoding == encoding
    uri = open_file(client, tmp_path / "model.py", BUGGY)
    log = finding(await published(client, uri, 1), "SL101")
    assert (log.range.start.line, log.range.start.character) == (5, character)


async def test_burst_of_edits_leaves_the_last_versions_diagnostics(client: LanguageClient, tmp_path: Path):
    await start(client, tmp_path, settings={"debounceMs": 400})  # longer than a loaded machine needs to send six
    uri = open_file(client, tmp_path / "model.py", BUGGY)
    assert "SL101" in codes(await published(client, uri, 1))
    clean = BUGGY.replace("torch.log(F.softmax(logits, dim=-1))", "F.log_softmax(logits, dim=-1)")
    texts = [BUGGY + f"# edit {n}\n" for n in range(2, 7)] + [clean]
    for version, text in enumerate(texts, start=2):
        change(client, uri, text, version)
    final = await published(client, uri, 7)
    assert codes(final) == ["SL201", "SL503"]
    await asyncio.sleep(0.5)  # anything stale would arrive now
    versions = [p.version for p in client.published if p.uri == uri]
    assert versions == [1, 7]  # debounced: the intermediate versions were never linted for publishing
    assert codes(client.diagnostics[uri]) == ["SL201", "SL503"]


async def test_change_then_save_updates_diagnostics(client: LanguageClient, tmp_path: Path):
    await start(client, tmp_path)
    uri = open_file(client, tmp_path / "model.py", "import torch\n\n\ndef f(x):\n    return x\n")
    assert list(await published(client, uri, 1)) == []
    change(client, uri, BUGGY, 2)
    assert codes(await published(client, uri, 2)) == ["SL101", "SL201", "SL503"]
    client.published.clear()
    client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    assert codes(await published(client, uri, 2)) == ["SL101", "SL201", "SL503"]


async def test_pull_diagnostics_when_the_client_declares_them(client: LanguageClient, tmp_path: Path):
    result = await start(client, tmp_path, client_capabilities("neovim@v0.11.0"))
    assert result.capabilities.diagnostic_provider is not None
    assert result.capabilities.position_encoding == "utf-8"
    uri = open_file(client, tmp_path / "model.py", BUGGY)
    report = await client.text_document_diagnostic_async(types.DocumentDiagnosticParams(
        text_document=types.TextDocumentIdentifier(uri=uri)))
    assert codes(report.items) == ["SL101", "SL201", "SL503"]
    assert finding(report.items, "SL101").range.start.character == 24  # UTF-8: each emoji is 4 bytes
    change(client, uri, BUGGY.replace("x / x.std()", "x"), 2)
    again = await client.text_document_diagnostic_async(types.DocumentDiagnosticParams(
        text_document=types.TextDocumentIdentifier(uri=uri), previous_result_id=report.result_id))
    assert codes(again.items) == ["SL101", "SL503"]
    unchanged = await client.text_document_diagnostic_async(types.DocumentDiagnosticParams(
        text_document=types.TextDocumentIdentifier(uri=uri), previous_result_id=again.result_id))
    assert unchanged.kind == "unchanged"
    await asyncio.sleep(0.3)
    assert client.published == []  # pull clients are not pushed to


async def test_pull_clients_are_asked_to_refresh_when_settings_change(client: LanguageClient, tmp_path: Path):
    capabilities = client_capabilities("neovim@v0.11.0")
    capabilities.workspace.diagnostics = types.DiagnosticWorkspaceClientCapabilities(refresh_support=True)
    await start(client, tmp_path, capabilities, settings={})
    uri = open_file(client, tmp_path / "model.py", BUGGY)
    document = types.TextDocumentIdentifier(uri=uri)
    report = await client.text_document_diagnostic_async(types.DocumentDiagnosticParams(text_document=document))
    assert codes(report.items) == ["SL101", "SL201", "SL503"]
    refreshed = client.diagnostic_refresh_count
    client.set_configuration({"ignore": ["SL5"]}, section="stablelint")
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    await asyncio.wait_for(_until(lambda: client.diagnostic_refresh_count == refreshed + 1), TIMEOUT)
    again = await client.text_document_diagnostic_async(types.DocumentDiagnosticParams(
        text_document=document, previous_result_id=report.result_id))
    assert codes(again.items) == ["SL101", "SL201"]


async def test_incremental_edits_on_crlf_text_after_emoji(client: LanguageClient, tmp_path: Path):
    await start(client, tmp_path)
    text = BUGGY.replace("\n", "\r\n")
    uri = open_file(client, tmp_path / "model.py", text)
    log = finding(await published(client, uri, 1), "SL101")
    assert (log.range.start.line, log.range.start.character) == (5, 20)
    # replace `torch.log(F.softmax(` ... `))` by its fix, addressed in UTF-16 units after the emoji
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangePartial(range=log.range,
                                                                text="F.log_softmax(logits, dim=-1)")]))
    diagnostics = await published(client, uri, 2)
    assert codes(diagnostics) == ["SL201", "SL503"]
    assert finding(diagnostics, "SL201").range.start == types.Position(line=6, character=8)


async def test_unparsable_document_gets_sl000_and_the_server_carries_on(client: LanguageClient, tmp_path: Path):
    await start(client, tmp_path)
    uri = open_file(client, tmp_path / "model.py", "import torch\n\ndef f(x:\n    return torch.log(x)\n")
    diagnostics = await published(client, uri, 1)
    assert codes(diagnostics) == ["SL000"]
    assert diagnostics[0].range.start.line in (2, 3) and "syntax error" in diagnostics[0].message
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=diagnostics[0].range.start))
    assert hover is not None and "syntax-error" in hover.contents.value
    change(client, uri, BUGGY, 2)
    assert codes(await published(client, uri, 2)) == ["SL101", "SL201", "SL503"]


async def test_only_python_documents_are_linted(client: LanguageClient, tmp_path: Path):
    await start(client, tmp_path)
    notes = tmp_path / "notes.md"
    notes.write_text("torch.log(F.softmax(x))\n")
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=notes.as_uri(), language_id="markdown", version=1, text=notes.read_text())))
    uri = open_file(client, tmp_path / "model.py", BUGGY)
    assert codes(await published(client, uri, 1)) == ["SL101", "SL201", "SL503"]
    assert [p.uri for p in client.published] == [uri]


async def test_closing_clears_diagnostics(client: LanguageClient, tmp_path: Path):
    await start(client, tmp_path)
    uri = open_file(client, tmp_path / "model.py", BUGGY)
    assert codes(await published(client, uri, 1)) == ["SL101", "SL201", "SL503"]
    client.text_document_did_close(types.DidCloseTextDocumentParams(
        text_document=types.TextDocumentIdentifier(uri=uri)))
    await asyncio.wait_for(_until(lambda: list(client.diagnostics.get(uri, [None])) == []), TIMEOUT)
    assert client.published[-1].uri == uri and list(client.published[-1].diagnostics) == []


async def _until(predicate) -> None:
    while not predicate():
        await asyncio.sleep(0.02)


async def test_a_rule_that_raises_is_logged_and_the_others_still_report(client: LanguageClient, tmp_path: Path):
    shutil.copytree(FIXTURES / "config" / "user_rules", tmp_path / "lint_rules")
    (tmp_path / "pyproject.toml").write_text('[tool.stablelint]\nextend-rules = ["lint_rules"]\n')
    await start(client, tmp_path)
    uri = open_file(client, tmp_path / "sample.py", (FIXTURES / "config" / "sample.py").read_text())
    diagnostics = await published(client, uri, 1)
    assert {"ML001", "SL110", "SL101"} <= set(codes(diagnostics))
    await asyncio.wait_for(_until(lambda: any("internal error in rule ML002" in m.message
                                              for m in client.log_messages)), TIMEOUT)
    logged = next(m for m in client.log_messages if "ML002" in m.message)
    assert logged.type == types.MessageType.Error and "this checker is broken" in logged.message


# -- code actions and hover ----------------------------------------------------------------


async def test_quick_fix_applies_and_the_result_lints_clean(client: LanguageClient, tmp_path: Path):
    await start(client, tmp_path)
    uri = open_file(client, tmp_path / "model.py", BUGGY)
    log = finding(await published(client, uri, 1), "SL101")
    actions = await actions_at(client, uri, log)
    fix = next(a for a in actions if a.title.startswith("Fix SL101"))
    assert fix.title == "Fix SL101: use F.log_softmax(logits, dim=-1)"
    assert fix.kind == types.CodeActionKind.QuickFix and fix.is_preferred
    assert "(unsafe)" not in fix.title
    fixed = apply(BUGGY, fix.edit, uri)
    assert 's = "😀😀"; p = F.log_softmax(logits, dim=-1)\n' in fixed
    change(client, uri, fixed, 2)
    assert codes(await published(client, uri, 2)) == ["SL201", "SL503"]


async def test_unsafe_fix_is_labelled(client: LanguageClient, tmp_path: Path):
    await start(client, tmp_path)
    uri = open_file(client, tmp_path / "model.py", BUGGY)
    division = finding(await published(client, uri, 1), "SL201")
    fix = next(a for a in await actions_at(client, uri, division) if a.title.startswith("Fix SL201"))
    assert fix.title.endswith("(unsafe)") and not fix.is_preferred
    assert "r = x / (x.std() + 1e-8)\n" in apply(BUGGY, fix.edit, uri)


async def test_fix_that_needs_an_import_adds_it(client: LanguageClient, tmp_path: Path):
    await start(client, tmp_path)
    uri = open_file(client, tmp_path / "model.py", BUGGY)
    nan = finding(await published(client, uri, 1), "SL503")
    fix = next(a for a in await actions_at(client, uri, nan) if a.title.startswith("Fix SL503"))
    fixed = apply(BUGGY, fix.edit, uri)
    assert "import math\n" in fixed and "if math.isnan(y.item()):" in fixed
    assert "torch.log(F.softmax(logits, dim=-1))" in fixed  # only this finding was fixed
    change(client, uri, fixed, 2)
    assert codes(await published(client, uri, 2)) == ["SL101", "SL201"]


async def test_disable_on_this_line_adds_or_extends_noqa(client: LanguageClient, tmp_path: Path):
    await start(client, tmp_path)
    text = BUGGY.replace("r = x / x.std()", "r = x / x.std()  # noqa: SL999")
    uri = open_file(client, tmp_path / "model.py", text)
    diagnostics = await published(client, uri, 1)
    disable = next(a for a in await actions_at(client, uri, finding(diagnostics, "SL101"))
                   if a.title == "Disable SL101 on this line")
    text = apply(text, disable.edit, uri)
    assert 's = "😀😀"; p = torch.log(F.softmax(logits, dim=-1))  # noqa: SL101\n' in text
    disable = next(a for a in await actions_at(client, uri, finding(diagnostics, "SL201"))
                   if a.title == "Disable SL201 on this line")
    text = apply(text, disable.edit, uri)
    assert "r = x / x.std()  # noqa: SL999, SL201\n" in text
    change(client, uri, text, 2)
    assert codes(await published(client, uri, 2)) == ["SL503"]


async def test_fix_all_applies_the_safe_fixes(client: LanguageClient, tmp_path: Path):
    await start(client, tmp_path)
    uri = open_file(client, tmp_path / "model.py", BUGGY)
    diagnostics = await published(client, uri, 1)
    actions = await actions_at(client, uri, diagnostics[0], only=[types.CodeActionKind.SourceFixAll])
    assert [(a.title, a.kind) for a in actions] == [("Fix all safe stablelint findings", "source.fixAll.stablelint")]
    fixed = apply(BUGGY, actions[0].edit, uri)
    change(client, uri, fixed, 2)
    assert codes(await published(client, uri, 2)) == ["SL201"]  # the unsafe one is left
    assert "import math\n" in fixed and "F.log_softmax(logits, dim=-1)" in fixed


async def test_hover_shows_the_rules_documentation(client: LanguageClient, tmp_path: Path):
    await start(client, tmp_path)
    uri = open_file(client, tmp_path / "model.py", BUGGY)
    log = finding(await published(client, uri, 1), "SL101")
    inside = types.Position(line=log.range.start.line, character=log.range.start.character + 3)
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=inside))
    assert hover.contents.kind == types.MarkupKind.Markdown
    assert hover.contents.value.startswith("**SL101**")
    assert "# log-of-softmax (SL101)" in hover.contents.value and "## Why is this bad?" in hover.contents.value
    assert hover.range == log.range
    nothing = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=0, character=2)))
    assert nothing is None


# -- settings --------------------------------------------------------------------------------


async def test_pyproject_configuration_applies(client: LanguageClient, tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text('[tool.stablelint]\nignore = ["SL503"]\n')
    await start(client, tmp_path)
    uri = open_file(client, tmp_path / "model.py", BUGGY)
    assert codes(await published(client, uri, 1)) == ["SL101", "SL201"]


async def test_files_the_configuration_excludes_get_no_diagnostics(client: LanguageClient, tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text('[tool.stablelint]\nexclude = ["vendored/"]\n')
    (tmp_path / "vendored").mkdir()
    await start(client, tmp_path)
    excluded = open_file(client, tmp_path / "vendored" / "model.py", BUGGY)
    kept = open_file(client, tmp_path / "model.py", BUGGY)
    assert codes(await published(client, kept, 1)) == ["SL101", "SL201", "SL503"]
    assert codes(await published(client, excluded, 1)) == []


async def test_workspace_configuration_and_its_changes(client: LanguageClient, tmp_path: Path):
    await start(client, tmp_path, settings={"ignore": ["SL2"], "unsafeFixes": True})
    uri = open_file(client, tmp_path / "model.py", BUGGY)
    assert codes(await published(client, uri, 1)) == ["SL101", "SL503"]
    client.published.clear()
    client.set_configuration({"select": ["SL2"]}, section="stablelint")
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    assert codes(await published(client, uri, 1)) == ["SL201"]
    client.set_configuration({"enable": False}, section="stablelint")
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    await asyncio.wait_for(_until(lambda: list(client.diagnostics.get(uri, [None])) == []), TIMEOUT)


async def test_initialization_options_are_settings_too(client: LanguageClient, tmp_path: Path):
    client.set_configuration({"select": ["SL1", "SL2"]}, section="stablelint")
    await client.initialize_session(types.InitializeParams(
        capabilities=vscode(), root_uri=tmp_path.as_uri(),
        initialization_options={"stablelint": {"ignore": ["SL201"]}}))
    uri = open_file(client, tmp_path / "model.py", BUGGY)
    assert codes(await published(client, uri, 1)) == ["SL101"]  # both: workspace select, initial ignore


async def test_unsafe_fixes_setting_makes_fix_all_apply_them(client: LanguageClient, tmp_path: Path):
    await start(client, tmp_path, settings={"unsafeFixes": True})
    uri = open_file(client, tmp_path / "model.py", BUGGY)
    diagnostics = await published(client, uri, 1)
    actions = await actions_at(client, uri, diagnostics[0], only=["source.fixAll"])
    assert [a.title for a in actions] == ["Fix all stablelint findings (unsafe fixes included)"]
    change(client, uri, apply(BUGGY, actions[0].edit, uri), 2)
    assert list(await published(client, uri, 2)) == []


async def test_bad_settings_are_reported(client: LanguageClient, tmp_path: Path):
    await start(client, tmp_path, settings={"select": ["SL999"], "unsafeFixes": "yes"})
    uri = open_file(client, tmp_path / "model.py", BUGGY)
    assert list(await published(client, uri, 1)) == []
    shown = [m.message for m in client.messages]
    assert any("'stablelint.unsafeFixes': expected true or false" in m for m in shown)
    assert any("unknown rule id or prefix 'SL999'" in m for m in shown)


async def test_broken_pyproject_is_shown_not_crashed_on(client: LanguageClient, tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text('[tool.stablelint]\nselct = ["SL1"]\n')
    await start(client, tmp_path)
    uri = open_file(client, tmp_path / "model.py", BUGGY)
    assert list(await published(client, uri, 1)) == []
    assert any("unknown key 'tool.stablelint.selct'" in m.message for m in client.messages)
    # fixed on disk and saved in the editor: read again
    (tmp_path / "pyproject.toml").write_text('[tool.stablelint]\nselect = ["SL5"]\n')
    client.text_document_did_save(types.DidSaveTextDocumentParams(
        text_document=types.TextDocumentIdentifier(uri=(tmp_path / "pyproject.toml").as_uri())))
    await asyncio.wait_for(_until(lambda: codes(client.diagnostics.get(uri, [])) == ["SL503"]), TIMEOUT)


def test_missing_server_extra_gives_a_clear_message():
    code = ("import sys; sys.modules['pygls'] = None; sys.argv = ['stablelint', 'server']\n"
            "from stablelint.cli import main; main()")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 2
    assert "pip install 'stablelint[server]'" in done.stderr and "pygls" in done.stderr
