"""Reading and parsing source: bytes to text (PEP 263, BOM) and text to libcst.

Problems become ``SourceProblem``s with a message and a 1-based position,
which the engine reports as SL000 findings instead of raising.
"""

from __future__ import annotations

import ast
import codecs
import io
import tokenize
from dataclasses import dataclass

import libcst as cst


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


def parse(text: str) -> cst.Module:
    """Parse with libcst; on failure explain with CPython's message where it has one."""
    try:
        return cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        problem = SourceProblem(_libcst_message(exc), exc.raw_line, exc.raw_column + 1)
    except (RecursionError, MemoryError):
        raise SourceProblem("file is too deeply nested to parse") from None
    except Exception as exc:  # noqa: BLE001 - the native parser raises odd types on odd input
        problem = SourceProblem(f"cannot parse file: {exc}")
    try:
        ast.parse(text)
    except SyntaxError as exc:
        message = f"syntax error: {exc.msg}"
        raise SourceProblem(message, exc.lineno or problem.line, (exc.offset or 1)) from None
    except (ValueError, RecursionError, MemoryError):
        pass
    raise problem


def _libcst_message(exc: cst.ParserSyntaxError) -> str:
    message = exc.message
    if message.startswith("parser error: "):
        message = message[len("parser error: "):]
    if message.startswith("error at "):
        message = message.split(": ", 1)[-1]
    return f"syntax error: {message}"
