"""Per-tensor activation statistics for calibration: |x| maximum, elements per sample, and a histogram of
|x| over [0, absmax] in NUM_BINS bins with zeros skipped (what ncnn2table collects for KL). Collection is two
passes over the calibration set (max first, then the histogram), each a C++ kernel call per tensor."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

NUM_BINS = 2048


def abs_max(x: np.ndarray) -> float:
    """Largest |x|, NaN ignored (the C++ kernel)."""
    from edgepack.runtime.kernels import abs_max as kernel

    x = np.ascontiguousarray(x, dtype=np.float32).ravel()
    return float(kernel(x)) if x.size else 0.0


def histogram_accumulate(x: np.ndarray, max_value: float, bins: np.ndarray, ignore_zeros: bool = True) -> None:
    """bins[min(n-1, int(|x| * float32(n / max_value)))] += 1, NaN skipped (the C++ kernel, in place)."""
    from edgepack.runtime.kernels import histogram

    x = np.ascontiguousarray(x, dtype=np.float32).ravel()
    if x.size:
        histogram(x, len(bins), float(max_value), accumulate_into=bins, ignore_zeros=ignore_zeros)


@dataclass
class TensorStats:
    absmax: float = 0.0
    count: int = 0  # elements per sample
    samples: int = 0
    zeros: int = 0
    histogram: np.ndarray = field(default_factory=lambda: np.zeros(NUM_BINS, np.int64))

    def observe_max(self, x: np.ndarray) -> None:
        self.absmax = max(self.absmax, abs_max(x))
        self.count = int(x.size)
        self.samples += 1

    def observe_histogram(self, x: np.ndarray) -> None:
        histogram_accumulate(x, self.absmax, self.histogram, ignore_zeros=True)
        self.zeros += int(np.count_nonzero(x == 0))

    @property
    def bin_width(self) -> float:
        return self.absmax / NUM_BINS
