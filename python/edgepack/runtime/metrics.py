"""Agreement metrics between an engine's outputs and the reference outputs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# The tolerance model (docs/parity.md). An artifact's output agrees with the reference when
#  1. its cosine similarity is >= TOLERANCE[precision] (a whole-output check: a wrong layer or layout), and
#  2. at most MAX_MISMATCH[precision] of its elements mismatch, an element mismatching when
#         |got - ref| > atol + RTOL * |ref|,   atol = max(FLOOR, SCALE_FRACTION * scale(ref)),
# or, whatever the cosine, no element is off by more than FLOOR[precision].
# scale(ref) is the reference's own scale: the root mean square of its values over all elements and samples
# without the top 1 % of magnitudes (not its peak): a mostly-zero output with a few peaks gets a small atol,
# a large-valued output a large one, one huge value does not loosen every other element. FLOOR is an
# absolute error float32 rounding on O(1)-scale intermediate values never reaches (float32 eps is 1.2e-7;
# fp32 engines on PP-OCRv4 det differ by 1.4e-7; larger fp32 deviations, e.g. MNN on attention, 1.9e-4 on
# O(1) outputs, are covered by the scale term): without it a detector whose output
# on noise is almost all zeros (rms 2e-6) failed fp32 on 1.4e-7 of rounding. The element check exists for
# what the cosine misses: a wrong small-valued slice beside large values (class scores next to pixel-sized
# boxes keep the cosine at 0.9999). int8 is judged by its accuracy gate when one is given.
# fp32 is never stricter in effect than fp16 on the same output: api.convert passes an fp32 artifact whose
# errors are within a passing fp16 artifact's of the same engine (see `within`).
TOLERANCE = {"fp32": 0.9999, "fp16": 0.999, "int8": 0.99}
FLOOR = {"fp32": 1e-5, "fp16": 1e-4, "int8": 1e-3}
SCALE_FRACTION = {"fp32": 1e-3, "fp16": 1e-2, "int8": 0.1}
RTOL = {"fp32": 1e-3, "fp16": 1e-2, "int8": 0.05}
MAX_MISMATCH = {"fp32": 1e-3, "fp16": 5e-3, "int8": 1.0}  # fraction of elements allowed to mismatch


def tolerance_model() -> dict:
    """The tolerance parameters per precision, as written into convert.json, bundles and verify reports."""
    return {p: {"cosine": TOLERANCE[p], "floor": FLOOR[p], "scale_fraction": SCALE_FRACTION[p], "rtol": RTOL[p],
                "max_mismatch": MAX_MISMATCH[p]} for p in TOLERANCE}


@dataclass
class Agreement:
    cosine: float
    max_abs: float
    mean_abs: float
    mismatch: float = 0.0  # fraction of elements outside the element tolerance
    atol: float = 0.0      # the absolute part of that tolerance: max(FLOOR, SCALE_FRACTION * scale(ref))

    def to_dict(self) -> dict:
        return {"cosine": self.cosine, "max_abs": self.max_abs, "mean_abs": self.mean_abs,
                "mismatch": self.mismatch, "atol": self.atol}


def scale(ref: np.ndarray, trim: float = 0.01) -> float:
    """The reference's own scale: the rms of its values without the largest `trim` fraction of magnitudes,
    so a few peaks do not set the tolerance of every other element (nor does one huge value)."""
    m = np.abs(np.asarray(ref, dtype=np.float64).ravel())
    if m.size == 0:
        return 0.0
    k = min(m.size - 1, int((1.0 - trim) * m.size))
    kept = m[m <= np.partition(m, k)[k]]
    return float(np.sqrt(np.mean(kept * kept)))


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
    p = precision if precision in TOLERANCE else "int8"
    atol = max(FLOOR[p], SCALE_FRACTION[p] * scale(a))
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0.0 or nb == 0.0:
        cos = 1.0 if diff.max() <= FLOOR[p] else 0.0
    else:
        cos = float(np.dot(a, b) / (na * nb))
    mismatch = float(np.mean(diff > atol + RTOL[p] * np.abs(a)))
    return Agreement(min(cos, 1.0), float(diff.max()), float(diff.mean()), mismatch, atol)


def worst(agreements: dict[str, Agreement]) -> Agreement:
    """The worst output: lowest cosine, largest max error."""
    if not agreements:
        return Agreement(1.0, 0.0, 0.0)
    vals = list(agreements.values())
    cos = min((v.cosine for v in vals), key=lambda c: -1.0 if np.isnan(c) else c)
    return Agreement(cos, max(v.max_abs for v in vals), max(v.mean_abs for v in vals),
                     max(v.mismatch for v in vals), max(v.atol for v in vals))


def passes(a: Agreement, precision: str) -> bool:
    """The verdict: cosine and element checks pass, or no element is off by more than the absolute floor
    (the cosine of an output that is rounding noise around zero means nothing)."""
    p = precision if precision in TOLERANCE else "int8"
    if np.isfinite(a.max_abs) and a.max_abs <= FLOOR[p]:
        return True
    return bool(np.isfinite(a.cosine) and a.cosine >= TOLERANCE[p] and a.mismatch <= MAX_MISMATCH[p])


def within(a: Agreement, b: Agreement) -> bool:
    """`a`'s errors are no larger than `b`'s: cosine, max and mean absolute error (the mismatch fractions are
    counted against each precision's own tolerance, so they do not compare)."""
    return bool(np.isfinite(a.cosine) and np.isfinite(b.cosine) and a.cosine >= b.cosine and a.max_abs <= b.max_abs
                and a.mean_abs <= b.mean_abs)
