"""edgepack.runtime.kernels.nms keeps exactly what a straightforward greedy numpy NMS keeps (tests/nms_reference.py),
on random and adversarial inputs: ties, identical boxes, zero-area boxes, empty input, everything
below the score threshold, many classes, the max_detections cut, IoU exactly at the threshold."""

from __future__ import annotations

import os

import numpy as np
import pytest

from edgepack import kernels
from nms_reference import reference_nms

if os.environ.get("CI"):
    from edgepack import _core  # noqa: F401
else:
    pytest.importorskip("edgepack._core", reason="edgepack._core is not built")


def random_boxes(rng, n: int, spread: float = 200.0, size: float = 60.0) -> np.ndarray:
    xy = rng.uniform(0, spread, (n, 2))
    wh = rng.uniform(0, size, (n, 2))
    return np.concatenate([xy, xy + wh], axis=1).astype(np.float32)


def check(boxes, scores, thr, class_ids=None, max_det=None, score_threshold=None):
    got = kernels.nms(boxes, scores, thr, class_ids=class_ids, max_detections=max_det,
                      score_threshold=score_threshold)
    want = reference_nms(boxes, scores, thr, class_ids, max_det,
                         -np.inf if score_threshold is None else score_threshold)
    assert got.dtype == np.int32
    assert got.tolist() == want
    return got


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("classes", [None, 1, 3, 80])
def test_random(seed, classes):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 400))
    boxes = random_boxes(rng, n)
    scores = rng.random(n).astype(np.float32)
    ids = None if classes is None else rng.integers(0, classes, n).astype(np.int32)
    for thr in (0.0, 0.3, 0.5, 0.9, 1.0):
        check(boxes, scores, thr, ids)
    check(boxes, scores, 0.5, ids, max_det=7, score_threshold=0.3)


def test_ties_and_identical_boxes():
    rng = np.random.default_rng(1)
    base = random_boxes(rng, 20)
    boxes = np.repeat(base, 5, axis=0)  # every box five times
    scores = np.repeat(rng.integers(0, 4, 20).astype(np.float32) / 4, 5)  # heavy score ties
    keep = check(boxes, scores, 0.5)
    assert len(set(map(tuple, boxes[keep]))) == len(keep)  # one survivor per identical group at most
    check(boxes, scores, 0.5, np.tile(np.arange(5, dtype=np.int32), 20))  # duplicates in different classes
    # identical boxes and identical scores: the lowest index survives
    assert kernels.nms(np.tile(base[:1], (4, 1)), np.ones(4, np.float32), 0.5).tolist() == [0]


def test_zero_area_and_degenerate_boxes():
    boxes = np.array([[10, 10, 10, 10], [10, 10, 10, 10], [0, 0, 5, 0], [5, 5, 1, 1], [0, 0, 4, 4]], np.float32)
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5], np.float32)
    got = check(boxes, scores, 0.0)
    assert got.tolist() == [0, 1, 2, 3, 4]  # zero-area boxes never suppress (IoU defined as 0)


def test_iou_exactly_at_threshold_is_kept():
    # Two boxes with IoU exactly 0.5 (areas 2 and 1, overlap 1: 1 / (2 + 1 - 1) = 0.5).
    boxes = np.array([[0, 0, 2, 1], [1, 0, 2, 1]], np.float32)
    scores = np.array([0.9, 0.8], np.float32)
    assert kernels.nms(boxes, scores, 0.5).tolist() == [0, 1]  # suppression needs IoU > threshold
    assert kernels.nms(boxes, scores, np.nextafter(np.float32(0.5), np.float32(0))).tolist() == [0]


def test_empty_and_all_below_threshold():
    e = kernels.nms(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), 0.5)
    assert e.shape == (0,) and e.dtype == np.int32
    rng = np.random.default_rng(2)
    boxes = random_boxes(rng, 50)
    scores = rng.random(50).astype(np.float32) * 0.2
    assert kernels.nms(boxes, scores, 0.5, score_threshold=0.25).tolist() == []
    scores[3] = np.nan
    check(boxes, scores, 0.5)  # NaN is never kept


def test_many_classes_and_max_detections_cut():
    rng = np.random.default_rng(3)
    n = 3000
    boxes = random_boxes(rng, n, spread=100, size=40)
    scores = rng.random(n).astype(np.float32)
    ids = rng.integers(-5, 500, n).astype(np.int32)  # any int32 class id, negative too
    for max_det in (None, 1, 10, 100):
        check(boxes, scores, 0.45, ids, max_det=max_det)


def test_argument_errors():
    b = np.zeros((3, 4), np.float32)
    s = np.zeros(3, np.float32)
    with pytest.raises(kernels.KernelArgumentError, match=r"\(N, 4\)"):
        kernels.nms(np.zeros((3, 5), np.float32), s, 0.5)
    with pytest.raises(kernels.KernelArgumentError, match=r"\(N, 4\)"):
        kernels.nms(b.astype(np.float64), s, 0.5)
    with pytest.raises(kernels.KernelArgumentError, match=r"\(3,\)"):
        kernels.nms(b, np.zeros(4, np.float32), 0.5)
    with pytest.raises(kernels.KernelArgumentError, match="int32"):
        kernels.nms(b, s, 0.5, class_ids=np.zeros(3, np.int64))
    with pytest.raises(kernels.KernelArgumentError, match="max_detections"):
        kernels.nms(b, s, 0.5, max_detections=0)
    with pytest.raises(kernels.KernelArgumentError, match="NaN"):
        kernels.nms(b, s, float("nan"))
