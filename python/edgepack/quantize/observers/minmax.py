"""minmax: the threshold is the largest |x| seen (no clipping)."""

from __future__ import annotations

from edgepack.quantize.stats import TensorStats


def threshold(stats: TensorStats) -> float:
    return stats.absmax
