"""Reading and parsing source: bytes to text (PEP 263, BOM) and text to a syntax tree.

Problems become ``SourceProblem``s with a message and a 1-based position,
which the engine reports as SL000 findings instead of raising.
"""

from __future__ import annotations

import ast
import codecs
import io
import tokenize
import warnings
from dataclasses import dataclass


@dataclass
class SourceProblem(Exception):
    message: str
    line: int = 1
    column: int = 1


@dataclass
class DecodedSource:
    text: str
    encoding: str
    bom: bool


def decode(data: bytes) -> DecodedSource:
    """Decode like Python does: BOM, then the coding cookie, then UTF-8."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        raise SourceProblem(f"cannot determine the file's encoding: {exc.msg}") from None
    bom = data.startswith(codecs.BOM_UTF8)
    body = data[len(codecs.BOM_UTF8):] if bom else data
    codec = "utf-8" if encoding == "utf-8-sig" else encoding
    try:
        text = body.decode(codec)
    except UnicodeDecodeError as exc:
        line = body[: exc.start].count(b"\n") + 1
        column = exc.start - (body.rfind(b"\n", 0, exc.start) + 1) + 1
        raise SourceProblem(
            f"file is not valid {codec}: byte 0x{body[exc.start]:02x} cannot be decoded", line, column
        ) from None
    except LookupError:
        raise SourceProblem(f"unknown encoding {encoding!r} in the coding declaration") from None
    return DecodedSource(text, encoding, bom)


def parse(text: str) -> ast.Module:
    """Parse with CPython's parser; a syntax error becomes a SourceProblem with its position."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences and the like are not ours to report
            return ast.parse(text[1:] if text.startswith("\ufeff") else text)
    except SyntaxError as exc:
        raise SourceProblem(f"syntax error: {exc.msg}", exc.lineno or 1, exc.offset or 1) from None
    except ValueError as exc:  # e.g. null bytes
        raise SourceProblem(f"cannot parse file: {exc}") from None
    except (RecursionError, MemoryError):
        raise SourceProblem("file is too deeply nested to parse") from None
