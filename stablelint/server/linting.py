"""Linting an editor's buffer: its text, not the file on disk, under the file's configuration.

The same path as ``stablelint check -`` (settings.task_for + runner.lint_bytes); the editor's
settings are the command-line layer.  Everything here runs on the server's single lint thread,
so the configuration caches are never touched by two threads at once.
"""

from __future__ import annotations

import io
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

from ..catalog import Rule
from ..config import ConfigError, ConfigFinder, check_codes
from ..diagnostic import FileResult
from ..runner import lint_bytes
from ..settings import RuleSelector, config_for, force_excluded, task_for
from .options import EditorSettings


@dataclass(frozen=True)
class Snapshot:
    """One version of an open document."""

    uri: str
    version: int | None
    text: str
    path: Path | None  # None: not a file (an untitled buffer)


@dataclass
class Linted:
    snapshot: Snapshot
    generation: int  # which settings it was linted under
    result: FileResult
    catalog: dict[str, Rule] = field(default_factory=dict)
    problem: str | None = None  # a configuration error: no findings until it is fixed


class Linter:
    def __init__(self, root: Path):
        self.root = root
        self.settings = EditorSettings()
        self.generation = 0
        self._finder = ConfigFinder()
        self._selector = RuleSelector(self.settings.selection())

    def configure(self, settings: EditorSettings) -> None:
        """New editor settings; configuration files are read again too (they may have changed)."""
        self.settings = settings
        self.reload()

    def reload(self) -> None:
        self.generation += 1
        self._finder = ConfigFinder()
        self._selector = RuleSelector(self.settings.selection())

    def lint(self, snapshot: Snapshot, *, mode: str = "check", unsafe: bool = False) -> Linted:
        """The findings in ``snapshot`` (mode "fix": the fixed text in ``result.source``)."""
        path = snapshot.path or self.root / "untitled.py"
        display = str(snapshot.path) if snapshot.path else snapshot.uri
        try:
            config = config_for(self._finder, path, self.root)
            _, catalog = self._selector.rules_for(config)
            for key, codes in self.settings.codes().items():
                check_codes(codes, catalog, "editor settings", f"stablelint.{key}")
        except ConfigError as exc:
            return Linted(snapshot, self.generation, FileResult(display), problem=str(exc))
        if not self.settings.enable or (snapshot.path is not None and force_excluded(snapshot.path, config)):
            # off, or a file the configuration excludes (a vendored copy, a virtualenv): as `--force-exclude`
            return Linted(snapshot, self.generation, FileResult(display), catalog)
        task = task_for(path, display, config, self._selector, read_from="-", mode=mode, unsafe=unsafe)
        result = lint_bytes(source_bytes(snapshot.text), task)
        return Linted(snapshot, self.generation, result, catalog)


def source_bytes(text: str) -> bytes:
    """The buffer as the bytes it would be saved as: a coding declaration is honoured."""
    data = text.encode("utf-8", errors="surrogatepass")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError:
        return data  # the engine reports the bad declaration
    if encoding in ("utf-8", "utf-8-sig"):
        return data
    try:
        return text.encode(encoding)
    except (LookupError, UnicodeEncodeError):
        return data
