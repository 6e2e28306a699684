"""The result cache: an unchanged file costs a read and a hash, not a lint.

Each entry is one JSON file named by a key that covers everything a result
depends on: the file's bytes, how it is reported (its display path), the
effective rule selection for it, and a fingerprint of stablelint itself
(version, rule catalog, op tables, the user's rule folders).  Entries are
written to a temporary file and renamed into place, so concurrent runs never
see a half-written entry; an entry that cannot be read or does not match is
ignored and rewritten.  The folder is kept under a size bound by dropping the
oldest entries.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Iterable

from . import __version__
from .atomic import atomic_write
from .diagnostic import Diagnostic, Edit, FileResult, Fix, Position

FORMAT = 2
MAX_ENTRIES = 50_000
CACHEDIR_TAG = "Signature: 8a477f597d28d172789f06886806bc55\n# created by stablelint; see https://bford.info/cachedir/\n"


def fingerprint(extra_dirs: Iterable[str] = ()) -> str:
    """What the code that produced a result was: version, rules, op tables, user rule folders."""
    digest = hashlib.sha256(f"{FORMAT}:{__version__}".encode())
    package = Path(__file__).parent
    rules = package / "rules"
    folders = [rules if rules.is_dir() else package.parent / "rules", package, package / "checks",
               *map(Path, extra_dirs)]
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.suffix in (".yaml", ".yml", ".py") and path.is_file():
                stat = path.stat()
                digest.update(f"{path}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:24]


class Cache:
    def __init__(self, folder: Path, code_fingerprint: str):
        self.folder = folder
        self.code = code_fingerprint
        self.written = 0

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str) -> FileResult | None:
        try:
            with open(self._path(key), "rb") as handle:
                data = json.loads(handle.read())
            if data.get("key") != key:
                return None
            return _result_from(data["result"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            return None  # corrupt or foreign: it will be rewritten

    def put(self, key: str, result: FileResult) -> None:
        if result.errors:
            return  # internal errors are worth seeing again
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._tag()
            payload = json.dumps({"key": key, "result": _result_to(result)}, separators=(",", ":"))
            atomic_write(path, payload.encode("utf-8"), prefix=".tmp-", suffix=".json")
            self.written += 1
        except OSError:
            pass  # a read-only or full disk must not fail the lint

    def _tag(self) -> None:
        tag = self.folder / "CACHEDIR.TAG"
        if not tag.exists():
            try:
                tag.write_text(CACHEDIR_TAG)
                (self.folder / ".gitignore").write_text("*\n")
            except OSError:
                pass

    def prune(self, limit: int = MAX_ENTRIES) -> int:
        """Drop the oldest entries beyond ``limit``; returns how many were removed."""
        entries: list[tuple[float, str]] = []
        try:
            for sub in os.scandir(self.folder):
                if not sub.is_dir():
                    continue
                for entry in os.scandir(sub.path):
                    if entry.name.endswith(".json"):
                        try:
                            entries.append((entry.stat().st_mtime, entry.path))
                        except OSError:
                            continue
        except OSError:
            return 0
        if len(entries) <= limit:
            return 0
        entries.sort()
        removed = 0
        for _, path in entries[: len(entries) - int(limit * 0.8)]:
            try:
                os.unlink(path)
                removed += 1
            except OSError:
                pass
        return removed


def cache_key(data: bytes, display: str, settings: str, code: str) -> str:
    """The key of a result: the file's bytes, its display path, its rule settings, the code's fingerprint."""
    digest = hashlib.blake2b(data, digest_size=20)
    digest.update(b"\0" + display.encode("utf-8", "surrogatepass") + b"\0" + settings.encode() + b"\0"
                  + code.encode())
    return digest.hexdigest()


def _position(data: dict) -> Position:
    return Position(int(data["line"]), int(data["column"]))


def _result_to(result: FileResult) -> dict:
    return {"path": result.path, "diagnostics": [asdict(d) for d in result.diagnostics]}


def _result_from(data: dict) -> FileResult:
    diagnostics = []
    for item in data["diagnostics"]:
        fix = item.get("fix")
        diagnostics.append(Diagnostic(
            code=item["code"], message=item["message"], path=item["path"],
            start=_position(item["start"]), end=_position(item["end"]), severity=item["severity"],
            fix=Fix(tuple(Edit(_position(e["start"]), _position(e["end"]), e["replacement"]) for e in fix["edits"]),
                    fix["applicability"], fix.get("description", ""),
                    tuple(tuple(i) for i in fix.get("imports", ()))) if fix else None,
            cell=item.get("cell"), rule_name=item.get("rule_name", ""),
        ))
    return FileResult(data["path"], diagnostics)
