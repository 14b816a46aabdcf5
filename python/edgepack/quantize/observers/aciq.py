"""ACIQ (Banner et al.): assume a Gaussian whose std is estimated from |x|max and the element count N of one
sample, and clip at the analytically optimal multiple of that std for 8 bits (the constants ncnn2table uses)."""

from __future__ import annotations

import math

from edgepack.quantize.stats import TensorStats

_ALPHA_GAUSSIAN = (0.0, 1.71063519, 2.15159277, 2.55913646, 2.93620062, 3.28691474, 3.6151146, 3.92403714)


def gaussian_clip(absmax: float, n: int, bits: int = 8) -> float:
    const = (0.5 * 0.35) * (1 + math.sqrt(math.pi * math.log(4)))
    std = (absmax * 2 * const) / math.sqrt(2 * math.log(max(n, 2)))
    return _ALPHA_GAUSSIAN[bits - 1] * std


def threshold(stats: TensorStats) -> float:
    return min(stats.absmax, gaussian_clip(stats.absmax, stats.count))
