"""Agreement metrics between an engine's outputs and the reference outputs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Minimum cosine similarity per precision: below it an artifact is reported as failing parity.
TOLERANCE = {"fp32": 0.9999, "fp16": 0.999, "int8": 0.99}


@dataclass
class Agreement:
    cosine: float
    max_abs: float
    mean_abs: float

    def to_dict(self) -> dict:
        return {"cosine": self.cosine, "max_abs": self.max_abs, "mean_abs": self.mean_abs}


def agreement(ref: np.ndarray, got: np.ndarray) -> Agreement:
    """Cosine similarity (flattened, float64) and absolute errors. Two all-zero tensors agree fully."""
    a = np.asarray(ref, dtype=np.float64).ravel()
    b = np.asarray(got, dtype=np.float64).ravel()
    if a.shape != b.shape:
        return Agreement(float("nan"), float("inf"), float("inf"))
    if a.size == 0:
        return Agreement(1.0, 0.0, 0.0)
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        same = np.array_equal(np.isnan(a), np.isnan(b)) and np.array_equal(a[~np.isfinite(a)], b[~np.isfinite(b)])
        if not same:
            return Agreement(float("nan"), float("inf"), float("inf"))
        keep = np.isfinite(a)
        a, b = a[keep], b[keep]
        if a.size == 0:
            return Agreement(1.0, 0.0, 0.0)
    diff = np.abs(a - b)
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0.0 and nb == 0.0:
        cos = 1.0
    elif na == 0.0 or nb == 0.0:
        cos = 1.0 if diff.max() <= 1e-6 else 0.0
    else:
        cos = float(np.dot(a, b) / (na * nb))
    return Agreement(min(cos, 1.0), float(diff.max()), float(diff.mean()))


def worst(agreements: dict[str, Agreement]) -> Agreement:
    """The worst output: lowest cosine, largest max error."""
    if not agreements:
        return Agreement(1.0, 0.0, 0.0)
    vals = list(agreements.values())
    cos = min((v.cosine for v in vals), key=lambda c: -1.0 if np.isnan(c) else c)
    return Agreement(cos, max(v.max_abs for v in vals), max(v.mean_abs for v in vals))


def passes(a: Agreement, precision: str) -> bool:
    return bool(np.isfinite(a.cosine) and a.cosine >= TOLERANCE.get(precision, 0.99))
