"""The language server's wiring: LSP messages in, lint jobs and results out (pygls 2, stdio).

Linting runs on one worker thread, so the event loop keeps answering while a big file is linted.
Diagnostics are pushed (``textDocument/publishDiagnostics``) unless the client declared pull
support (``textDocument.diagnostic``), in which case they are served on request.  Edits are
debounced, and a result is published only while its version is still the document's version, so
a burst of edits leaves the diagnostics of the last one.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from .. import __version__
from ..config import ConfigFinder
from .actions import FIX_ALL_KIND, fix_all, has_applicable_fix, quick_fixes, wanted
from .convert import from_lsp, split_lines
from .findings import hover, lsp_diagnostics
from .linting import Linted, Linter, Snapshot
from .options import merge_settings, parse_settings

SECTION = "stablelint"
CONFIG_NAMES = frozenset(ConfigFinder.NAMES)
CONFIG_WAIT_S = 5.0  # how long the first lint waits for the client's settings


class StablelintServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("stablelint", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.linter = Linter(Path.cwd())
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="stablelint-lint")
        self.open: set[str] = set()
        self.pending: dict[str, asyncio.Task] = {}
        self.latest: dict[str, Linted] = {}
        self.fixed: dict[tuple[str, int | None, int, bool], Linted] = {}
        self.configured = asyncio.Event()
        self.reported: set[str] = set()  # configuration problems already shown
        self.logged: dict[str, set[str]] = {}  # per document: rule errors already logged
        self.initial_settings: object = None

    # -- what the client can do ------------------------------------------------------------

    @property
    def pull(self) -> bool:
        text_document = self.client_capabilities.text_document
        return text_document is not None and text_document.diagnostic is not None

    @property
    def encoding(self) -> str:
        return str(self.workspace.position_encoding or "utf-16")

    def make_edit(self, uri: str, version: int | None):
        workspace = self.client_capabilities.workspace
        versioned = bool(workspace and workspace.workspace_edit and workspace.workspace_edit.document_changes)

        def make(edits: list[types.TextEdit]) -> types.WorkspaceEdit:
            if versioned:
                document = types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version)
                return types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(text_document=document,
                                                                                    edits=edits)])
            return types.WorkspaceEdit(changes={uri: edits})

        return make

    # -- linting ---------------------------------------------------------------------------

    def snapshot(self, uri: str) -> Snapshot:
        document = self.workspace.get_text_document(uri)
        path = to_fs_path(uri) if uri.startswith("file:") else None
        return Snapshot(uri, document.version, document.source, Path(path) if path else None)

    async def run(self, fn, *args, **kwargs):
        return await asyncio.get_running_loop().run_in_executor(self.executor, lambda: fn(*args, **kwargs))

    async def linted(self, uri: str) -> Linted:
        """The findings of the document's current version (linted now if not yet)."""
        if not self.configured.is_set():
            await asyncio.wait([asyncio.ensure_future(self.configured.wait())], timeout=CONFIG_WAIT_S)
            self.configured.set()  # a client that never answers gets the defaults
        while True:
            snapshot = self.snapshot(uri)
            cached = self.latest.get(uri)
            if cached is not None and cached.snapshot == snapshot and cached.generation == self.linter.generation:
                return cached
            linted = await self.run(self.linter.lint, snapshot)
            self.report(linted)
            if linted.generation == self.linter.generation and self.snapshot(uri) == snapshot:
                if uri in self.open:
                    self.latest[uri] = linted
                return linted
            # edited (or reconfigured) while it was linted: lint the newer text

    def report(self, linted: Linted) -> None:
        """Problems that are not findings: a configuration error (shown once) and rules that raised (logged)."""
        if linted.problem and linted.problem not in self.reported:
            self.reported.add(linted.problem)
            self.window_show_message(types.ShowMessageParams(type=types.MessageType.Error,
                                                             message=f"stablelint: {linted.problem}"))
            self.log(types.MessageType.Error, linted.problem)
        uri = linted.snapshot.uri
        messages = {f"{uri}: internal error{f' in rule {e.rule}' if e.rule else ''}: {e.message}"
                    for e in linted.result.errors}
        for message in sorted(messages - self.logged.get(uri, set())):
            self.log(types.MessageType.Error, message)  # once while it persists, not on every keystroke
        self.logged[uri] = messages

    def log(self, kind: types.MessageType, message: str) -> None:
        self.window_log_message(types.LogMessageParams(type=kind, message=f"stablelint: {message}"))

    def schedule(self, uri: str, delay: float) -> None:
        """Lint ``uri`` after ``delay`` seconds and push its diagnostics (a newer request replaces this one)."""
        if self.pull:
            return
        previous = self.pending.pop(uri, None)
        if previous is not None:
            previous.cancel()
        self.pending[uri] = asyncio.ensure_future(self._lint_and_publish(uri, delay))

    async def _lint_and_publish(self, uri: str, delay: float) -> None:
        try:
            if delay > 0:
                await asyncio.sleep(delay)
            linted = await self.linted(uri)
        except asyncio.CancelledError:
            return
        except Exception as exc:  # noqa: BLE001 - a bug must not take the server down
            logging.exception("linting %s failed", uri)
            self.log(types.MessageType.Error, f"{uri}: internal error: {exc}")
            return
        if self.pending.get(uri) is not asyncio.current_task():
            return  # replaced by a newer request while it ran
        del self.pending[uri]
        if uri in self.open and linted.snapshot == self.snapshot(uri):
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
                uri=uri, version=linted.snapshot.version, diagnostics=lsp_diagnostics(linted, self.encoding)))

    def relint_all(self) -> None:
        self.reported.clear()  # show a configuration problem again if it is still (or again) there
        self.latest.clear()
        self.fixed.clear()
        if self.pull:
            workspace = self.client_capabilities.workspace
            if workspace and workspace.diagnostics and workspace.diagnostics.refresh_support:
                self.workspace_diagnostic_refresh(None)
            return
        for uri in self.open:
            self.schedule(uri, 0)

    async def fetch_settings(self) -> None:
        """Settings from ``workspace/configuration`` (else from initializationOptions)."""
        raw = self.initial_settings
        workspace = self.client_capabilities.workspace
        if workspace is not None and workspace.configuration:
            try:
                scope = self.workspace.root_uri
                answer = await self.workspace_configuration_async(types.ConfigurationParams(
                    items=[types.ConfigurationItem(scope_uri=scope, section=SECTION)]))
                if answer:
                    raw = merge_settings(raw, answer[0])
            except Exception as exc:  # noqa: BLE001 - a client that cannot answer keeps the defaults
                self.log(types.MessageType.Warning, f"could not read the editor's settings: {exc}")
        await self.apply_settings(raw)

    async def apply_settings(self, raw: object) -> None:
        settings, problems = parse_settings(raw)
        for problem in problems:
            self.log(types.MessageType.Error, problem)
            self.window_show_message(types.ShowMessageParams(type=types.MessageType.Error,
                                                             message=f"stablelint: {problem}"))
        await self.run(self.linter.configure, settings)
        self.configured.set()


server = StablelintServer()


@server.feature(types.INITIALIZE)
def initialize(ls: StablelintServer, params: types.InitializeParams) -> None:
    root = ls.workspace.root_path
    if root:
        ls.linter.root = Path(root)
    ls.initial_settings = params.initialization_options


@server.feature(types.INITIALIZED)
async def initialized(ls: StablelintServer, params: types.InitializedParams) -> None:
    await ls.fetch_settings()
    if ls.latest:  # linted with the defaults while the client took too long to answer
        ls.relint_all()


@server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
async def did_change_configuration(ls: StablelintServer, params: types.DidChangeConfigurationParams) -> None:
    workspace = ls.client_capabilities.workspace
    if workspace is not None and workspace.configuration:
        await ls.fetch_settings()
    else:
        await ls.apply_settings(params.settings)
    ls.relint_all()


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: StablelintServer, params: types.DidOpenTextDocumentParams) -> None:
    document = params.text_document
    if document.language_id != "python" and not document.uri.endswith((".py", ".pyi")):
        return  # a client that sends every file: only Python is linted
    ls.open.add(document.uri)
    ls.schedule(document.uri, 0)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: StablelintServer, params: types.DidChangeTextDocumentParams) -> None:
    ls.schedule(params.text_document.uri, ls.linter.settings.debounce_ms / 1000)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
async def did_save(ls: StablelintServer, params: types.DidSaveTextDocumentParams) -> None:
    uri = params.text_document.uri
    path = to_fs_path(uri) if uri.startswith("file:") else None
    if path and Path(path).name in CONFIG_NAMES:
        await ls.run(ls.linter.reload)  # a configuration file changed: every document may lint differently
        ls.relint_all()
    elif uri in ls.open:
        ls.schedule(uri, 0)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: StablelintServer, params: types.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    ls.open.discard(uri)
    ls.latest.pop(uri, None)
    ls.logged.pop(uri, None)
    for key in [k for k in ls.fixed if k[0] == uri]:
        del ls.fixed[key]
    pending = ls.pending.pop(uri, None)
    if pending is not None:
        pending.cancel()
    if not ls.pull:
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))


@server.feature(types.TEXT_DOCUMENT_DIAGNOSTIC,
                types.DiagnosticOptions(identifier=SECTION, inter_file_dependencies=False, workspace_diagnostics=False))
async def document_diagnostic(ls: StablelintServer, params: types.DocumentDiagnosticParams):
    if params.text_document.uri not in ls.open:
        return types.FullDocumentDiagnosticReport(items=[])
    linted = await ls.linted(params.text_document.uri)
    result_id = f"{linted.generation}:{linted.snapshot.version}:{hash(linted.snapshot.text)}"
    if params.previous_result_id == result_id:
        return types.UnchangedDocumentDiagnosticReport(result_id=result_id)
    return types.FullDocumentDiagnosticReport(items=lsp_diagnostics(linted, ls.encoding), result_id=result_id)


@server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL_KIND]))
async def code_action(ls: StablelintServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    uri = params.text_document.uri
    if uri not in ls.open:
        return []
    linted = await ls.linted(uri)
    only = params.context.only
    make_edit = ls.make_edit(uri, linted.snapshot.version)
    actions: list[types.CodeAction] = []
    if wanted(types.CodeActionKind.QuickFix, only):
        lines = split_lines(linted.snapshot.text)
        start = from_lsp(lines, params.range.start, ls.encoding)
        end = from_lsp(lines, params.range.end, ls.encoding)
        actions.extend(quick_fixes(linted, start, end, ls.encoding, make_edit))
    unsafe = ls.linter.settings.unsafe_fixes
    explicit = bool(only) and wanted(FIX_ALL_KIND, only)
    if wanted(FIX_ALL_KIND, only) and (explicit or has_applicable_fix(linted, unsafe)):
        key = (uri, linted.snapshot.version, linted.generation, unsafe)
        fixed = ls.fixed.get(key)
        if fixed is None or fixed.snapshot != linted.snapshot:
            fixed = await ls.run(ls.linter.lint, linted.snapshot, mode="fix", unsafe=unsafe)
            if uri in ls.open:
                ls.fixed = {k: v for k, v in ls.fixed.items() if k[0] != uri}
                ls.fixed[key] = fixed
        action = fix_all(linted, fixed, ls.encoding, unsafe, make_edit)
        if action is not None:
            actions.append(action)
    return actions


@server.feature(types.TEXT_DOCUMENT_HOVER)
async def on_hover(ls: StablelintServer, params: types.HoverParams) -> types.Hover | None:
    if params.text_document.uri not in ls.open:
        return None
    linted = await ls.linted(params.text_document.uri)
    return hover(linted, params.position, ls.encoding)


def serve() -> None:
    """Serve over stdin/stdout until the client says exit."""
    logging.basicConfig(level=logging.WARNING, format="stablelint server: %(levelname)s: %(message)s")
    server.start_io()
