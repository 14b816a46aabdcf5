"""Agreement metrics between an engine's outputs and the reference outputs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Minimum cosine similarity per precision: below it an artifact is reported as failing parity.
TOLERANCE = {"fp32": 0.9999, "fp16": 0.999, "int8": 0.99}
# Element-wise check beside the cosine: an element mismatches when |got - ref| > atol + rtol * |ref|, with
# atol = ATOL_OF_PEAK * max|ref|. The cosine of a whole output is dominated by its largest values, so a
# wrong small-valued slice (e.g. class scores next to pixel-sized boxes in one detector output) can keep
# the cosine at 0.9999; this check catches it. int8 is judged by its accuracy gate instead.
ELEMENT_TOL = {"fp32": (1e-3, 1e-4), "fp16": (2e-2, 1e-2), "int8": (0.1, 0.05)}  # (rtol, atol of peak)
MAX_MISMATCH = {"fp32": 1e-4, "fp16": 1e-3, "int8": 1.0}  # fraction of elements allowed to mismatch


@dataclass
class Agreement:
    cosine: float
    max_abs: float
    mean_abs: float
    mismatch: float = 0.0  # fraction of elements outside ELEMENT_TOL

    def to_dict(self) -> dict:
        return {"cosine": self.cosine, "max_abs": self.max_abs, "mean_abs": self.mean_abs,
                "mismatch": self.mismatch}


def agreement(ref: np.ndarray, got: np.ndarray, precision: str = "fp32") -> Agreement:
    """Cosine similarity (flattened, float64), absolute errors and the fraction of elements outside the
    precision's element tolerance. Two all-zero tensors agree fully."""
    a = np.asarray(ref, dtype=np.float64).ravel()
    b = np.asarray(got, dtype=np.float64).ravel()
    if a.shape != b.shape:
        return Agreement(float("nan"), float("inf"), float("inf"), 1.0)
    if a.size == 0:
        return Agreement(1.0, 0.0, 0.0)
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        same = np.array_equal(np.isnan(a), np.isnan(b)) and np.array_equal(a[~np.isfinite(a)], b[~np.isfinite(b)])
        if not same:
            return Agreement(float("nan"), float("inf"), float("inf"), 1.0)
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
    rtol, atol_of_peak = ELEMENT_TOL.get(precision, ELEMENT_TOL["int8"])
    mismatch = float(np.mean(diff > atol_of_peak * np.abs(a).max() + rtol * np.abs(a)))
    return Agreement(min(cos, 1.0), float(diff.max()), float(diff.mean()), mismatch)


def worst(agreements: dict[str, Agreement]) -> Agreement:
    """The worst output: lowest cosine, largest max error."""
    if not agreements:
        return Agreement(1.0, 0.0, 0.0)
    vals = list(agreements.values())
    cos = min((v.cosine for v in vals), key=lambda c: -1.0 if np.isnan(c) else c)
    return Agreement(cos, max(v.max_abs for v in vals), max(v.mean_abs for v in vals),
                     max(v.mismatch for v in vals))


def passes(a: Agreement, precision: str) -> bool:
    return bool(np.isfinite(a.cosine) and a.cosine >= TOLERANCE.get(precision, 0.99)
                and a.mismatch <= MAX_MISMATCH.get(precision, 1.0))
