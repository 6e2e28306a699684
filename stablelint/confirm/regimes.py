"""Adversarial regimes per rule family: which inputs can make a flagged pattern go NaN/Inf.

Pure Python (no NumPy needed): values are nested lists, turned into the framework's arrays by
the probe. The same (regime, seed) always gives the same values, so a witness can be replayed
on the fixed function.
"""

from __future__ import annotations

import random

ROWS, COLUMNS = 4, 5

# regime name -> how a verdict describes it
DESCRIPTIONS = {
    "ordinary": "ordinary values (standard normal)",
    "scale10": "large magnitudes (standard normal x 10)",
    "scale100": "large magnitudes (standard normal x 100)",
    "scale1e4": "large magnitudes (standard normal x 1e4)",
    "onehot100": "one-hot extreme logits (one entry per row 100, the rest 0)",
    "onehot1e4": "one-hot extreme logits (one entry per row 1e4, the rest 0)",
    "neg100": "large negative values (-100 everywhere)",
    "zeros": "exact zeros",
    "zero_row": "one row of exact zeros",
    "constant_rows": "constant rows",
    "identical": "identical arguments (x == y)",
    "ignored_labels": "every label equal to the ignore index (-100, or the ignore_index default)",
}

LOG_EXP = ("ordinary", "scale10", "scale100", "scale1e4", "onehot100", "onehot1e4", "neg100", "zeros")
DIVISION = ("ordinary", "zeros", "zero_row", "constant_rows", "identical", "ignored_labels", "scale1e4")
FLOAT16 = ("ordinary", "zeros", "constant_rows", "scale100")

# rule id -> (regimes, dtypes)
FAMILIES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    **{code: (LOG_EXP, ("float32",)) for code in
       ("SL101", "SL102", "SL105", "SL106", "SL107", "SL108", "SL109", "SL110", "SL111")},
    **{code: (DIVISION, ("float32",)) for code in ("SL201", "SL202", "SL203", "SL204", "SL601")},
    "SL501": (FLOAT16, ("float32", "float16")),
    "SL504": (FLOAT16, ("float32", "float16")),
}

# Rules whose flagged node is a constant (an epsilon, a mask value) that stays finite itself: the NaN/Inf it
# causes shows downstream, so the probe does not watch the flagged expression for them.
DOWNSTREAM = ("SL501", "SL504")

# Why a rule cannot be confirmed by looking for NaN/Inf: its bug gives finite, wrong values.
UNCONFIRMABLE = {
    "SL103": "a precision rule (log(1 + x) loses digits but stays finite)",
    "SL104": "a precision rule (exp(x) - 1 loses digits but stays finite)",
    "SL502": "a precision rule (the cancellation gives wrong but finite variances)",
    "SL503": "a logic rule (comparing with NaN is wrong, not non-finite)",
    "SL301": "a semantics rule (a double softmax gives finite, wrong losses)",
    "SL302": "a semantics rule (the loss is finite for synthesised inputs; it saturates in training)",
    "SL303": "a semantics rule (clamped probabilities keep the loss finite)",
    "SL304": "a semantics rule (nll_loss on probabilities is finite and wrong)",
    "SL000": "not a numerical finding",
}


# Shape rules: instead of NaN/Inf, the probe looks for a broadcast ((N, 1) against (N,) giving
# (N, N)), a broadcast error on non-square inputs, or (SL310) a loss that is not a scalar. N is
# chosen unlike every other size, so a broadcast cannot hide.
SHAPE_N, SHAPE_F = 6, 5
COLUMN_VS_FLAT = ("column_vs_flat", "flat_vs_column")
SHAPE_FAMILIES: dict[str, tuple[str, ...]] = {
    "SL401": COLUMN_VS_FLAT,
    "SL403": COLUMN_VS_FLAT,
    "SL402": ("square", "rows", "clips"),
    "SL310": ("flat", "rows", "images"),
}
SHAPE_DESCRIPTIONS = {
    "column_vs_flat": "the first array argument (N, 1), the others (N,)",
    "flat_vs_column": "the first array argument (N,), the others (N, 1)",
    "square": "square (F, F) arrays",
    "rows": "(N, F) arrays",
    "clips": "(N, T, F) arrays",
    "flat": "(N,) arrays",
    "images": "(N, C, H, W) arrays",
}


def show_shape(shape) -> str:
    """A shape as Python writes a tuple: ``(6,)``, ``(4, 5)``."""
    return f"({shape[0]},)" if len(shape) == 1 else f"({', '.join(map(str, shape))})"


def shape_family(code: str) -> tuple[str, ...] | None:
    return SHAPE_FAMILIES.get(code)


def shape_of(regime: str, index: int) -> tuple[int, ...]:
    """The shape of the ``index``-th array argument under a shape regime."""
    n, f = SHAPE_N, SHAPE_F
    if regime in COLUMN_VS_FLAT:
        column = (index == 0) == (regime == "column_vs_flat")
        return (n, 1) if column else (n,)
    return {"square": (f, f), "rows": (n, f), "clips": (n, 4, f), "flat": (n,), "images": (n, 2, 3, 3)}[regime]


def shaped_values(shape: tuple[int, ...], seed: str) -> list:
    """Standard normal values of ``shape`` as nested lists (deterministic in ``seed``)."""
    rng = random.Random(f"shape:{seed}")

    def build(dims: tuple[int, ...]):
        if len(dims) == 1:
            return [rng.gauss(0.0, 1.0) for _ in range(dims[0])]
        return [build(dims[1:]) for _ in range(dims[0])]
    return build(shape)


def family(code: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    return FAMILIES.get(code)


def values(regime: str, seed: int, kind: str = "tensor", rows: int = ROWS,
           columns: int = COLUMNS) -> list[list[float]]:
    """The (rows, columns) values of one argument under ``regime`` (``kind``: tensor or mask); a
    configured shape comes in flattened to two dimensions."""
    rng = random.Random(f"{regime}:{seed}")
    if kind == "mask":
        if regime == "zeros":
            return [[0.0] * columns for _ in range(rows)]
        mask = [[float(rng.random() < 0.6) for _ in range(columns)] for _ in range(rows)]
        for row in mask:
            row[0] = 1.0  # ordinary masks keep at least one entry per row
        return mask
    normal = [[rng.gauss(0.0, 1.0) for _ in range(columns)] for _ in range(rows)]
    if regime in ("ordinary", "identical"):
        return normal
    if regime.startswith("scale"):
        factor = float(regime[len("scale"):])
        return [[v * factor for v in row] for row in normal]
    if regime.startswith("onehot"):
        peak = float(regime[len("onehot"):])
        return [[peak if j == i % columns else 0.0 for j in range(columns)] for i in range(rows)]
    if regime == "neg100":
        return [[-100.0] * columns for _ in range(rows)]
    if regime == "zeros":
        return [[0.0] * columns for _ in range(rows)]
    if regime == "zero_row":
        return [[0.0] * columns] + normal[1:]
    if regime == "constant_rows":
        return [[float(i + 1)] * columns for i in range(rows)]
    raise ValueError(f"unknown regime {regime!r}")


def labels(seed: int, count: int = ROWS, classes: int = COLUMNS) -> list[int]:
    rng = random.Random(f"labels:{seed}")
    return [rng.randrange(classes) for _ in range(count)]


def binary(seed: int, rows: int = ROWS, columns: int = COLUMNS) -> list[list[float]]:
    rng = random.Random(f"binary:{seed}")
    return [[float(rng.random() < 0.5) for _ in range(columns)] for _ in range(rows)]


def reshape(rows: list[list], shape: tuple[int, ...]) -> list:
    """(rows, columns) nested lists as nested lists of ``shape`` (same number of elements)."""
    flat = [v for row in rows for v in row]

    def build(dims: tuple[int, ...], start: int):
        if len(dims) == 1:
            return flat[start:start + dims[0]]
        step = 1
        for d in dims[1:]:
            step *= d
        return [build(dims[1:], start + i * step) for i in range(dims[0])]
    return build(shape, 0) if shape else flat[0]
