"""Observers (minmax, percentile, KL, ACIQ) and the histogram they read. KL is checked against a literal
transcription of ncnn2table's per-bin loops (the test oracle); the histogram against numpy."""

from __future__ import annotations

import math

import numpy as np
import pytest

from edgepack.errors import InputError
from edgepack.quantize.observers import OBSERVERS, get_observer, needs_histogram
from edgepack.quantize.observers.kl import TARGET_BINS, kl_divergences
from edgepack.quantize.stats import NUM_BINS, TensorStats, histogram_accumulate


def stats_of(*arrays: np.ndarray) -> TensorStats:
    s = TensorStats()
    for a in arrays:
        s.observe_max(a)
    for a in arrays:
        s.observe_histogram(a)
    return s


def kl_oracle(hist: np.ndarray, t: int) -> float:
    """ncnn2table's KL for one cut, loop by loop (float64)."""
    p = hist / hist.sum()
    eps = 1e-4
    clip = [eps + p[j] for j in range(t)]
    clip[t - 1] += p[t:].sum()
    npb = t / TARGET_BINS
    q = [0.0] * TARGET_BINS
    for j in range(TARGET_BINS):
        start, end = j * npb, (j + 1) * npb if j < TARGET_BINS - 1 else t
        lu, rl = math.ceil(start), math.floor(end)
        ls, rs = lu - start, end - rl
        if ls > 0:
            q[j] += ls * p[lu - 1]
        if rs > 0 and rl < len(p):
            q[j] += rs * p[rl]
        q[j] += sum(p[lu:rl])
        q[j] /= rl - lu + ls + rs
    e = [eps] * t
    for j in range(TARGET_BINS):
        start, end = j * npb, (j + 1) * npb if j < TARGET_BINS - 1 else t
        lu, rl = math.ceil(start), math.floor(end)
        ls, rs = lu - start, end - rl
        if ls > 0:
            e[lu - 1] += ls * q[j]
        if rs > 0 and rl < t:
            e[rl] += rs * q[j]
        for k in range(lu, rl):
            e[k] += q[j]
    return sum(c * math.log(c / x) for c, x in zip(clip, e))


@pytest.mark.parametrize("seed", [0, 1])
def test_kl_matches_ncnn2table_loops(seed):
    rng = np.random.default_rng(seed)
    x = np.concatenate([np.abs(rng.standard_normal(50_000)), rng.exponential(3.0, 500)]).astype(np.float32)
    s = stats_of(x)
    fast = kl_divergences(s.histogram)
    for t in (128, 129, 200, 333, 1000, 2047):
        assert fast[t - TARGET_BINS] == pytest.approx(kl_oracle(s.histogram, t), rel=1e-9, abs=1e-12)


def test_kl_clips_outliers_minmax_does_not():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.standard_normal(100_000), [80.0, -90.0]]).astype(np.float32)
    s = stats_of(x)
    assert get_observer("minmax")(s) == pytest.approx(90.0)
    kl = get_observer("kl")(s)
    assert 2.0 < kl < 20.0
    assert get_observer("percentile:99.9")(s) == pytest.approx(np.percentile(np.abs(x), 99.9), rel=0.02)


def test_percentile_counts_zeros():
    x = np.zeros(10_000, np.float32)
    x[:100] = np.linspace(0.01, 1.0, 100)
    s = stats_of(x)
    assert s.zeros == 9_900
    assert get_observer("percentile:99.5")(s) == pytest.approx(0.5, abs=0.01)


def test_aciq_is_ncnn2table_gaussian_clip():
    x = np.random.default_rng(0).standard_normal(4096).astype(np.float32)
    s = stats_of(x)
    const = (0.5 * 0.35) * (1 + math.sqrt(math.pi * math.log(4)))
    want = 3.92403714 * (s.absmax * 2 * const) / math.sqrt(2 * math.log(4096))
    assert get_observer("aciq")(s) == pytest.approx(min(want, s.absmax))


def test_all_zero_tensor_and_registry():
    s = stats_of(np.zeros(64, np.float32))
    for name in OBSERVERS:
        assert get_observer(name)(s) == 0.0
    assert needs_histogram("kl") and needs_histogram("percentile:99") and not needs_histogram("minmax")
    with pytest.raises(InputError, match="unknown observer"):
        get_observer("median")
    with pytest.raises(InputError, match="not a number"):
        get_observer("percentile:high")


def test_histogram_matches_numpy_oracle():
    rng = np.random.default_rng(3)
    x = (rng.standard_normal(100_003) * 4).astype(np.float32)
    x[:10] = 0
    x[10] = np.nan
    x[11] = np.inf
    m = 7.5
    bins = np.zeros(NUM_BINS, np.int64)
    histogram_accumulate(x, m, bins, ignore_zeros=True)
    a = np.abs(x[np.isfinite(x) & (x != 0)]).astype(np.float32)
    idx = np.minimum((a * np.float32(NUM_BINS / np.float32(m))).astype(np.int64), NUM_BINS - 1)
    want = np.bincount(idx, minlength=NUM_BINS)
    want[-1] += 1  # inf goes to the last bin
    np.testing.assert_array_equal(bins, want)
    assert bins.sum() == x.size - 11
