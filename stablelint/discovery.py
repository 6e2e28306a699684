"""Finding the files to lint (.py, .pyi, .ipynb): folders recursed, excludes and virtualenvs skipped."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .config import Config, ConfigFinder

SUFFIXES = (".py", ".pyi", ".ipynb")


@dataclass(frozen=True)
class SourceFile:
    path: Path
    config: Config


class MissingPath(Exception):
    pass


def _is_virtualenv(folder: Path) -> bool:
    return (folder / "pyvenv.cfg").is_file()


def iter_files(paths: list[Path], finder: ConfigFinder) -> Iterator[SourceFile]:
    """Files under ``paths`` in a stable order; paths given explicitly are always linted."""
    for path in paths:
        if not path.exists():
            raise MissingPath(f"{path}: no such file or directory")
    seen: set[Path] = set()
    for path in paths:
        if path.is_file():
            resolved = path.resolve()
            if resolved not in seen:
                seen.add(resolved)
                yield SourceFile(path, finder.for_path(path))
            continue
        for root, dirs, files in os.walk(path):
            folder = Path(root)
            config = finder.for_path(folder)
            dirs[:] = sorted(d for d in dirs
                             if not config.is_excluded(folder / d) and not _is_virtualenv(folder / d))
            for name in sorted(files):
                if not name.endswith(SUFFIXES):
                    continue
                file = folder / name
                if config.is_excluded(file):
                    continue
                resolved = file.resolve()
                if resolved in seen:
                    continue
                seen.add(resolved)
                yield SourceFile(file, config)
