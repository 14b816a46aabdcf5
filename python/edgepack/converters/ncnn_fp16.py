"""fp16 ncnn artifacts written by edgepack from pnnx's fp32 output, layer by layer.

pnnx's `fp16=1` stores every tagged weight blob as fp16 with ncnn's software conversion, which flushes every
value below fp16's normal range (2**-14 = 6.1e-5) to zero and turns values above 65504 into inf. A layer
whose weights live down there (a BatchNorm folded into a conv with tiny scales: PP-OCRv4 det's head conv has
every weight below 2.5e-4) loses most of them, and the model's output is ruined (map cosine 0.14).

So edgepack converts with fp32 weights and writes the fp16 storage itself: for every layer it measures what
ncnn's software fp16 conversion would do to the weights (relative L2 error), and a layer whose error exceeds
FP16_MAX_WEIGHT_ERROR (about 5x what fp16 rounding costs ordinary weights) keeps its fp32 weights in the .bin
and gets ncnn's per-layer feature mask (param 31) bit 0, "no fp16 arithmetic": the run-time options an fp16
artifact loads with (`use_fp16_storage/arithmetic/packed`, engines/ncnn.py) then never accumulate that layer in
fp16 (ARMv8.2 fp16 arithmetic, Vulkan fp16). Bit 1 (no fp16 storage) is not set: on ncnn's Vulkan path a layer
with it makes the output NaN (measured on lavapipe, ncnn 1.0.20261020), while the storage conversions ncnn
does at run time (ARM vcvt, x86 F16C) keep subnormals. Every other weight blob is stored as fp16 rounded to
nearest (values below the normal range stay subnormal instead of vanishing)"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgepack.formats.ncnn.model import NcnnModel, WeightBlob

FP16_MAX_WEIGHT_ERROR = 1e-3  # ordinary weights lose ~2e-4 (relative L2) to fp16 rounding
FEATMASK_KEY = 31  # ncnn layer param: per-layer option mask (net.cpp get_masked_option)
NO_FP16_ARITHMETIC = 0b1  # bit 1 would be no fp16 storage, bit 4 no Vulkan
FP16_MIN_NORMAL, FP16_MAX = 2.0 ** -14, 65504.0


@dataclass
class Fp32Layer:
    """A layer kept in fp32 inside an fp16 artifact, and why."""

    name: str
    type: str
    weight_error: float  # relative L2 error ncnn's fp16 conversion gives its weights (inf: overflow)
    below_normal: float  # share of its non-zero weights below fp16's normal range

    def describe(self) -> str:
        err = "overflow" if not np.isfinite(self.weight_error) else f"fp16 weight error {self.weight_error:.3g}"
        return f"{self.name} ({self.type}, {err}, {self.below_normal:.0%} of weights below fp16's normal range)"


def ncnn_fp16(w: np.ndarray) -> np.ndarray:
    """What ncnn's software float32 -> float16 conversion stores: below the normal range -> signed zero,
    above 65504 -> inf, else rounded (pnnx's wheel rounds to nearest)."""
    a = np.asarray(w, np.float32)
    with np.errstate(over="ignore"):
        q = a.astype(np.float16)
    q[np.abs(a) < FP16_MIN_NORMAL] = 0
    return np.copysign(q, a).astype(np.float16)


def fp16_weight_error(w: np.ndarray) -> float:
    a = np.asarray(w, np.float64).ravel()
    q = ncnn_fp16(w).astype(np.float64).ravel()
    if not np.isfinite(q).all():
        return float("inf")
    norm = np.linalg.norm(a)
    return 0.0 if norm == 0 else float(np.linalg.norm(a - q) / norm)


def to_fp16(model: NcnnModel, max_error: float = FP16_MAX_WEIGHT_ERROR) -> list[Fp32Layer]:
    """Store the fp32 model's tagged weight blobs as fp16 in place, except for layers whose weights fp16
    would damage: those keep fp32 weights and the no-fp16-arithmetic feature mask. Returns the layers kept in fp32."""
    kept = []
    for ly in model.param.layers:
        blobs = model.weights.get(ly.name, [])
        floats = [b for b in blobs if b.tagged and b.data.dtype == np.float32]
        if not floats:
            continue
        err = max(fp16_weight_error(b.data) for b in floats)
        if err > max_error:
            nz = np.concatenate([np.abs(b.data[b.data != 0]) for b in floats])
            kept.append(Fp32Layer(ly.name, ly.type, err, float(np.mean(nz < FP16_MIN_NORMAL)) if nz.size else 0.0))
            ly.set(FEATMASK_KEY, int(ly.get(FEATMASK_KEY, 0)) | NO_FP16_ARITHMETIC)
            continue
        model.weights[ly.name] = [WeightBlob(b.role, b.data.astype(np.float16), True)
                                  if b.tagged and b.data.dtype == np.float32 else b for b in blobs]
    return kept
