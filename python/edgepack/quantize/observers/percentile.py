"""percentile: the threshold is the p-th percentile of |x| over all calibration values (zeros included),
read from the histogram as the upper edge of the bin where the cumulative count reaches p %."""

from __future__ import annotations

import numpy as np

from edgepack.quantize.stats import TensorStats

DEFAULT = 99.99


def threshold(stats: TensorStats, percent: float = DEFAULT) -> float:
    total = int(stats.histogram.sum()) + stats.zeros
    if stats.absmax == 0 or total == 0:
        return stats.absmax
    need = total * min(max(percent, 0.0), 100.0) / 100.0 - stats.zeros
    if need <= 0:
        return stats.bin_width
    idx = int(np.searchsorted(np.cumsum(stats.histogram), need))
    return min(stats.absmax, (idx + 1) * stats.bin_width)
