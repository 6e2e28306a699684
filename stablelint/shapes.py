"""Shape evidence: what is known about an array's shape, from local syntax only.

A ``Shape`` records the rank when known and the sizes of trailing axes that
matter for broadcasting bugs (``(N, 1)`` against ``(N,)``).  Unknown stays
unknown: shape rules fire only on evidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .values import Value


@dataclass(frozen=True, slots=True)
class Shape:
    rank: int | None = None  # None: unknown
    dims: tuple[int | None, ...] = ()  # the trailing dims, right-aligned; None = unknown size


def infer_shape(op: str, args: dict[str, Value], value: Value) -> Shape | None:
    """The shape of an op's result, from its arguments' shapes; None when nothing is known."""
    return None
