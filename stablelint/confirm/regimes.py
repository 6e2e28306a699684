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
    "SL310": "a shape rule (confirming it needs the caller's reduction)",
    "SL401": "a shape rule (the broadcast output is finite)",
    "SL402": "a shape rule (the misaligned statistic is finite)",
    "SL403": "a shape rule (the broadcast loss is finite)",
    "SL000": "not a numerical finding",
}


def family(code: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    return FAMILIES.get(code)


def values(regime: str, seed: int, kind: str = "tensor") -> list[list[float]]:
    """The (ROWS, COLUMNS) values of one argument under ``regime`` (``kind``: tensor or mask)."""
    rng = random.Random(f"{regime}:{seed}")
    if kind == "mask":
        if regime == "zeros":
            return [[0.0] * COLUMNS for _ in range(ROWS)]
        rows = [[float(rng.random() < 0.6) for _ in range(COLUMNS)] for _ in range(ROWS)]
        for row in rows:
            row[0] = 1.0  # ordinary masks keep at least one entry per row
        return rows
    normal = [[rng.gauss(0.0, 1.0) for _ in range(COLUMNS)] for _ in range(ROWS)]
    if regime in ("ordinary", "identical"):
        return normal
    if regime.startswith("scale"):
        factor = float(regime[len("scale"):])
        return [[v * factor for v in row] for row in normal]
    if regime.startswith("onehot"):
        peak = float(regime[len("onehot"):])
        return [[peak if j == i % COLUMNS else 0.0 for j in range(COLUMNS)] for i in range(ROWS)]
    if regime == "neg100":
        return [[-100.0] * COLUMNS for _ in range(ROWS)]
    if regime == "zeros":
        return [[0.0] * COLUMNS for _ in range(ROWS)]
    if regime == "zero_row":
        return [[0.0] * COLUMNS] + normal[1:]
    if regime == "constant_rows":
        return [[float(i + 1)] * COLUMNS for i in range(ROWS)]
    raise ValueError(f"unknown regime {regime!r}")


def labels(seed: int) -> list[int]:
    rng = random.Random(f"labels:{seed}")
    return [rng.randrange(COLUMNS) for _ in range(ROWS)]


def binary(seed: int) -> list[list[float]]:
    rng = random.Random(f"binary:{seed}")
    return [[float(rng.random() < 0.5) for _ in range(COLUMNS)] for _ in range(ROWS)]
