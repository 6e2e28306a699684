"""Language-server latency: from an edit to its diagnostics, on a ~2,000-line ML file.

Starts `stablelint server` as a subprocess (pygls's client over stdio), opens one realistic file
made by concatenating the examples and fixtures (top-level names renamed per copy so that each
copy is distinct code), lints it once (the first parse and the rule set's compilation), then
times N edits: a didChange followed by a textDocument/diagnostic request (pull mode, so the time
is the server's, with no debounce), and prints the median and the 90th percentile.  With --push
it times didChange -> publishDiagnostics instead (debounce set to 0 through initializationOptions).
For comparison it also times the engine alone on the same edits, in this process: the difference
is what the server adds (JSON-RPC, position conversion, the thread hop).

    python benchmarks/lsp_latency.py [--runs 20] [--lines 2000] [--push] [--corpus dense|light]

Target: median <= 150 ms on a 2-core machine.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

ROOT = Path(__file__).resolve().parent.parent
CORPORA = {
    # the examples and every rule's test fixtures: about one finding per ten lines, the loss rules' included
    "dense": ["examples/*.py", "fixtures/rules/*/*.py", "fixtures/dataflow/*.py"],
    # the examples and the dataflow/spelling fixtures: closer to ordinary training code
    "light": ["examples/*.py", "fixtures/dataflow/*.py", "fixtures/spellings/*.py"],
}


def build(lines: int, corpus: str = "dense") -> str:
    """Concatenated copies of the sources, each top-level def/class renamed, until ``lines`` lines."""
    bodies = []
    for path in [p for pattern in CORPORA[corpus] for p in sorted(ROOT.glob(pattern))]:
        text = path.read_text(encoding="utf-8")
        try:
            module = ast.parse(text)
        except SyntaxError:
            continue
        names = [n.name for n in module.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
        bodies.append((text, names))
    chunks, total, copy = [], 0, 0
    while total < lines:
        text, names = bodies[copy % len(bodies)]
        for name in names:
            text = re.sub(rf"\b{re.escape(name)}\b", f"{name}_{copy}", text)
        chunks.append(f"# --- copy {copy} ---\n{text}\n")
        total += text.count("\n") + 2
        copy += 1
    return "".join(chunks)


async def measure(text: str, runs: int, push: bool) -> list[float]:
    client = LanguageClient("lsp-latency", "1")
    published: asyncio.Queue = asyncio.Queue()

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_publish(params: types.PublishDiagnosticsParams) -> None:
        published.put_nowait(params)

    @client.feature(types.WINDOW_LOG_MESSAGE)
    def on_log(params: types.LogMessageParams) -> None:
        print(f"server: {params.message}", file=sys.stderr)

    await client.start_io(sys.executable, "-m", "stablelint", "server")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big_model.py"
        path.write_text(text, encoding="utf-8")
        uri = path.as_uri()
        capabilities = types.ClientCapabilities(
            text_document=None if push else types.TextDocumentClientCapabilities(
                diagnostic=types.DiagnosticClientCapabilities()))
        await client.initialize_async(types.InitializeParams(
            capabilities=capabilities, root_uri=Path(folder).as_uri(), initialization_options={"debounceMs": 0}))
        client.initialized(types.InitializedParams())
        client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)))
        findings = len(await latest(client, uri, 1, push, published))
        print(f"{text.count(chr(10))} lines, {findings} findings")
        times = []
        lines = text.split("\n")
        middle = len(lines) // 2
        for version in range(2, runs + 2):
            edited = "\n".join([*lines[:middle], f"    # edit {version}" if lines[middle].startswith(" ") else
                                f"# edit {version}", *lines[middle:]])
            start = time.perf_counter()
            client.text_document_did_change(types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=edited)]))
            await latest(client, uri, version, push, published)
            times.append(time.perf_counter() - start)
        await client.shutdown_async(None)
        client.exit(None)
        await client.stop()
    return times


async def latest(client: LanguageClient, uri: str, version: int, push: bool, published: asyncio.Queue):
    if not push:
        report = await client.text_document_diagnostic_async(types.DocumentDiagnosticParams(
            text_document=types.TextDocumentIdentifier(uri=uri)))
        return report.items
    while True:
        params = await asyncio.wait_for(published.get(), 60)
        if params.uri == uri and params.version == version:
            return params.diagnostics


def engine_alone(text: str, runs: int) -> list[float]:
    """The same edits linted in-process, as the server's lint thread does."""
    from stablelint.runner import tune_collector
    from stablelint.server.linting import Linter, Snapshot

    tune_collector()  # as `stablelint server` does
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big_model.py"
        linter = Linter(Path(folder))
        linter.lint(Snapshot(path.as_uri(), 1, text, path))
        times = []
        for version in range(2, runs + 2):
            edited = f"# edit {version}\n{text}"
            start = time.perf_counter()
            linter.lint(Snapshot(path.as_uri(), version, edited, path))
            times.append(time.perf_counter() - start)
    return times


def summary(times: list[float]) -> str:
    ms = sorted(t * 1000 for t in times)
    p90 = ms[min(len(ms) - 1, int(round(0.9 * (len(ms) - 1))))]
    return f"median {statistics.median(ms):.1f} ms, p90 {p90:.1f} ms, min {ms[0]:.1f} ms over {len(ms)} edits"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--push", action="store_true", help="time didChange -> publishDiagnostics instead")
    parser.add_argument("--corpus", choices=sorted(CORPORA), default="dense",
                        help="what the file is made of (default: dense, the worst case)")
    args = parser.parse_args()
    text = build(args.lines, args.corpus)
    times = asyncio.run(measure(text, args.runs, args.push))
    mode = "didChange -> publishDiagnostics" if args.push else "didChange + textDocument/diagnostic"
    print(f"server, {mode}: {summary(times)}")
    print(f"engine alone (same text, in-process): {summary(engine_alone(text, args.runs))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
