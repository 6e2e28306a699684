"""Inline suppression comments.

* ``# noqa`` silences every finding on its line, ``# noqa: SL101,SL2``
  only those codes (or code prefixes), as in flake8;
* ``# stablelint: disable=SL101`` does the same for the listed codes;
* ``# stablelint: disable-file`` anywhere in the file skips the file
  (``disable-file=SL101`` skips only those codes in it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)
_DISABLE = re.compile(r"#\s*stablelint:\s*disable\s*=\s*(?P<codes>[A-Z]+[0-9]*(?:\s*,\s*[A-Z]+[0-9]*)*)")
_DISABLE_FILE = re.compile(
    r"#\s*stablelint:\s*disable-file(?:\s*=\s*(?P<codes>[A-Z]+[0-9]*(?:\s*,\s*[A-Z]+[0-9]*)*))?"
)
ALL = None  # a line or file suppressed for every code


def _codes(text: str | None) -> tuple[str, ...] | None:
    if text is None:
        return ALL
    return tuple(c.upper() for c in re.split(r"[\s,]+", text.strip()) if c)


def _covers(codes: tuple[str, ...] | None, code: str) -> bool:
    return codes is ALL or any(code.startswith(c) for c in codes)


@dataclass
class FileSuppression:
    codes: tuple[str, ...] | None  # ALL, or the codes disabled in the whole file


def file_suppression(text: str) -> FileSuppression | None:
    if "stablelint:" not in text:
        return None
    match = _DISABLE_FILE.search(text)
    if match is None:
        return None
    return FileSuppression(_codes(match["codes"]))


class LineSuppressions:
    """Looks up suppression comments for the lines that have findings."""

    def __init__(self, lines: list[str], file_codes: FileSuppression | None = None):
        self.lines = lines
        self.file_codes = file_codes
        self._cache: dict[int, list[tuple[str, ...] | None]] = {}

    def _for_line(self, line: int) -> list[tuple[str, ...] | None]:
        if line not in self._cache:
            found: list[tuple[str, ...] | None] = []
            text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
            if "#" in text:
                for match in _NOQA.finditer(text):
                    found.append(_codes(match["codes"]))
                for match in _DISABLE.finditer(text):
                    found.append(_codes(match["codes"]))
            self._cache[line] = found
        return self._cache[line]

    def suppressed(self, code: str, line: int) -> bool:
        if self.file_codes is not None and _covers(self.file_codes.codes, code):
            return True
        return any(_covers(codes, code) for codes in self._for_line(line))
