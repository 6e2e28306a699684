"""NumPy evaluation helpers: one careful, one not."""

import numpy as np

EPS = 1e-12


def cosine_scores(queries: np.ndarray, keys: np.ndarray) -> np.ndarray:
    q = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    k = keys / (np.linalg.norm(keys, axis=1, keepdims=True) + EPS)
    return q @ k.T


def log_loss(y_true: np.ndarray, y_prob: np.ndarray) -> float:
    p = np.clip(y_prob, EPS, 1 - EPS)
    return float(-np.mean(y_true * np.log(p) + (1 - y_true) * np.log(1 - p)))
