"""KL: the threshold whose 128-level quantized distribution is closest (Kullback-Leibler) to the clipped
2048-bin histogram, searched over every cut from 128 to 2047 bins; ncnn2table's method, including its
details (eps 1e-4 on both sides, the quantized distribution taken from the unclipped histogram, the
threshold at the middle of the cut bin). Each 128-level bin spreads over threshold/128 histogram bins, with
fractional bins at its edges; cumulative sums give the same overlaps as ncnn's per-bin loops."""

from __future__ import annotations

import numpy as np

from edgepack.quantize.stats import NUM_BINS, TensorStats

TARGET_BINS = 128
EPS = 1e-4


def _interval_mass(cum: np.ndarray, values: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Integral of the unit-width step function `values` from 0 to each x (cum = its cumulative sums)."""
    lo = np.minimum(np.floor(x).astype(np.int64), len(values) - 1)
    return cum[lo] + (x - lo) * values[lo]


def kl_divergences(hist: np.ndarray) -> np.ndarray:
    """KL divergence for every cut 128..NUM_BINS-1 (index 0 = cut 128)."""
    p = hist.astype(np.float64) / max(float(hist.sum()), 1.0)
    cum = np.concatenate([[0.0], np.cumsum(p)])
    out = np.empty(NUM_BINS - TARGET_BINS)
    for t in range(TARGET_BINS, NUM_BINS):
        clip = p[:t] + EPS
        clip[-1] += p[t:].sum()
        step = t / TARGET_BINS
        edges = np.arange(TARGET_BINS + 1) * step
        edges[-1] = t
        q = np.diff(_interval_mass(cum, p, edges)) / step  # mean density of each 128-level bin
        qcum = np.concatenate([[0.0], np.cumsum(q * step)])
        units = np.arange(t + 1, dtype=np.float64) / step  # unit-bin edges in 128-level coordinates
        expand = np.diff(_interval_mass(qcum, q * step, units)) + EPS
        out[t - TARGET_BINS] = float(np.sum(clip * np.log(clip / expand)))
    return out


def threshold(stats: TensorStats) -> float:
    if stats.absmax == 0 or stats.histogram.sum() == 0:
        return stats.absmax
    best = int(np.argmin(kl_divergences(stats.histogram))) + TARGET_BINS
    return (best + 0.5) * stats.absmax / NUM_BINS
