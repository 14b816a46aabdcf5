"""edgepack.runtime.kernels post-processing: topk/softmax, decode_yolo, seg_argmax, histogram against numpy
references, every SIMD path here against ref (sizes 1, 15, 16, 17 and large, sentinel-guarded
outputs), ISA forcing, and argument errors. NEON on x86 is covered by tests/test_postprocess_cpp.py."""

from __future__ import annotations

import os
import platform

import numpy as np
import pytest

from edgepack import kernels
from nms_reference import reference_decode

if os.environ.get("CI"):
    from edgepack import _core  # noqa: F401
else:
    pytest.importorskip("edgepack._core", reason="edgepack._core is not built")

F = np.float32
ALL = ["ref", "avx2", "neon"]
SIZES = [1, 15, 16, 17, 1000]
GUARD = 64


@pytest.fixture(params=ALL)
def isa(request) -> str:
    if request.param not in kernels.available_isas():
        pytest.skip(f"{request.param} is not available on this {platform.machine()} machine/build")
    return request.param


def guarded(fn, shape, dtype):
    """Runs fn(out) with out inside sentinel guards, twice; checks guards and that every element was written."""
    nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
    results = []
    for sentinel in (0xA5, 0x5A):
        buf = np.full(2 * GUARD + 1 + nbytes, sentinel, np.uint8)
        lo, hi = GUARD + 1, GUARD + 1 + nbytes
        out = buf[lo:hi].view(dtype).reshape(shape)
        fn(out)
        assert (buf[:lo] == sentinel).all() and (buf[hi:] == sentinel).all(), "wrote outside the output"
        results.append(buf[lo:hi].copy())
    assert np.array_equal(results[0], results[1]), "some outputs were not written"
    return results[0].view(dtype).reshape(shape)


# ------------------------------------------------------------------------------ softmax / top-k

def numpy_softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x.astype(np.float64) - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize("cols", SIZES)
def test_softmax_vs_numpy_and_ref(isa, cols):
    x = (np.random.default_rng(cols).standard_normal((3, cols)) * 8).astype(F)
    got = guarded(lambda out: kernels.softmax(x, out=out, isa=isa), x.shape, F)
    assert kernels.last_isa() == isa
    np.testing.assert_allclose(got, numpy_softmax(x), rtol=1e-5, atol=1e-37)
    np.testing.assert_allclose(got, kernels.softmax(x, isa="ref"), rtol=1e-5, atol=1e-37)
    assert kernels.softmax(x[0], isa=isa).shape == (cols,)


@pytest.mark.parametrize("cols", SIZES)
def test_topk_vs_numpy(isa, cols):
    rng = np.random.default_rng(cols)
    x = rng.integers(-20, 20, (4, cols)).astype(F) / 4  # many ties
    k = min(cols, 5)
    values, idx = kernels.topk(x, k, isa=isa)
    want = np.stack([np.lexsort((np.arange(cols), -row))[:k] for row in x])  # value desc, index asc
    assert idx.dtype == np.int32 and idx.shape == (4, k)
    assert np.array_equal(idx, want)
    np.testing.assert_allclose(values, np.take_along_axis(numpy_softmax(x), want, 1), rtol=1e-5)
    raw, idx2 = kernels.topk(x, k, softmax=False, isa=isa)
    assert np.array_equal(idx2, want) and np.array_equal(raw, np.take_along_axis(x, want, 1))
    v1, i1 = kernels.topk(x[0], k, isa=isa)
    assert v1.shape == (k,) and np.array_equal(i1, want[0])


def test_topk_nan_ranks_last():
    x = np.array([1, np.nan, 3, 3], F)
    assert kernels.topk(x, 4, softmax=False)[1].tolist() == [2, 3, 0, 1]


# ----------------------------------------------------------------------------------- YOLO decode

def yolo_output(seed: int, n: int = 2100, classes: int = 80, objects: int = 12, objectness: bool = False,
                box_format: str = "cxcywh") -> np.ndarray:
    """A realistic (4 [+1] + C, N) head output: low background scores, clusters of boxes around objects."""
    rng = np.random.default_rng(seed)
    attrs = 4 + objectness + classes
    a = np.zeros((attrs, n), F)
    a[4 + objectness:] = rng.random((classes, n)) * 0.05
    cx, cy = rng.uniform(0, 640, n), rng.uniform(0, 640, n)
    w, h = rng.uniform(4, 200, n), rng.uniform(4, 200, n)
    centers = rng.uniform(50, 590, (objects, 2))
    obj_cls = rng.integers(0, classes, objects)
    for o in range(objects):
        members = rng.choice(n, 25, replace=False)
        cx[members] = centers[o, 0] + rng.normal(0, 4, 25)
        cy[members] = centers[o, 1] + rng.normal(0, 4, 25)
        w[members] = 80 + rng.normal(0, 6, 25)
        h[members] = 60 + rng.normal(0, 6, 25)
        a[4 + objectness + obj_cls[o], members] = rng.uniform(0.2, 0.95, 25).round(2)  # ties on purpose
    if box_format == "cxcywh":
        a[0], a[1], a[2], a[3] = cx, cy, w, h
    else:
        a[0], a[1], a[2], a[3] = cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2
    if objectness:
        a[4] = rng.uniform(0.5, 1.0, n)
    return a


def assert_same(got, want):
    assert got[0].dtype == np.float32 and got[1].dtype == np.float32 and got[2].dtype == np.int32
    assert got[2].tolist() == want[2].tolist()
    assert np.array_equal(got[1], want[1])
    assert np.array_equal(got[0], want[0])


@pytest.mark.parametrize("layout", ["attrs_first", "anchors_first"])
@pytest.mark.parametrize("box_format", ["cxcywh", "xyxy"])
@pytest.mark.parametrize("objectness", [False, True])
def test_decode_vs_numpy_reference(isa, layout, box_format, objectness):
    a = yolo_output(7, objectness=objectness, box_format=box_format)
    out = a if layout == "attrs_first" else np.ascontiguousarray(a.T)
    kw = dict(layout=layout, box_format=box_format, objectness=objectness, score_threshold=0.25,
              iou_threshold=0.5, letterbox=(0.5, 0.5, 0.0, 80.0), source_size=(1280, 960))
    for agnostic in (False, True):
        for max_det in (300, 5):
            got = kernels.decode_yolo(out[None], class_agnostic=agnostic, max_detections=max_det, isa=isa, **kw)
            want = reference_decode(out, class_agnostic=agnostic, max_detections=max_det, **kw)
            assert_same(got, want)
            assert 0 < len(got[1]) <= max_det


@pytest.mark.parametrize("n", SIZES)
def test_decode_sizes_vs_ref(isa, n):
    rng = np.random.default_rng(n)
    for classes in (1, 7, 8, 9, 80):
        a = np.concatenate([rng.uniform(0, 640, (4, n)), rng.integers(0, 10, (classes, n)) / 10]).astype(F)
        for layout, out in (("attrs_first", a), ("anchors_first", np.ascontiguousarray(a.T))):
            got = kernels.decode_yolo(out, layout=layout, score_threshold=0.5, max_detections=None, isa=isa)
            assert_same(got, kernels.decode_yolo(out, layout=layout, score_threshold=0.5, max_detections=None,
                                                 isa="ref"))
            assert_same(got, reference_decode(out, layout=layout, score_threshold=0.5, max_detections=None))


def test_decode_letterbox_hand_computed():
    # 1280x960 source letterboxed into 640x640: scale 0.5, pad_y 80. One anchor, 2 classes.
    out = np.array([[320], [240], [100], [50], [0.1], [0.7]], F)  # cx, cy, w, h, cls0, cls1
    boxes, scores, ids = kernels.decode_yolo(out, letterbox=(0.5, 0.5, 0.0, 80.0), source_size=(1280, 960))
    # network box (270, 215, 370, 265) -> ((270-0)/.5, (215-80)/.5, (370-0)/.5, (265-80)/.5)
    assert boxes.tolist() == [[540.0, 270.0, 740.0, 370.0]] and ids.tolist() == [1]
    assert scores.tolist() == [np.float32(0.7)]
    # clipped to the source size
    out[0, 0], out[1, 0] = 630, 70
    boxes, _, _ = kernels.decode_yolo(out, letterbox=(0.5, 0.5, 0.0, 80.0), source_size=(1280, 960))
    assert boxes.tolist() == [[1160.0, 0.0, 1280.0, 30.0]]  # y: (45-80)/.5 -> 0, (95-80)/.5 = 30


def test_decode_nothing_above_threshold():
    boxes, scores, ids = kernels.decode_yolo(np.zeros((84, 100), F))
    assert boxes.shape == (0, 4) and scores.shape == (0,) and ids.shape == (0,)


def test_decode_argument_errors():
    with pytest.raises(kernels.KernelArgumentError, match=r"\(4 \+ C, N\)"):
        kernels.decode_yolo(np.zeros((4, 10), F))
    with pytest.raises(kernels.KernelArgumentError, match=r"\(N, 4 \+ C\)"):
        kernels.decode_yolo(np.zeros((10, 4), F), layout="anchors_first")
    with pytest.raises(kernels.KernelArgumentError, match="float32"):
        kernels.decode_yolo(np.zeros((84, 10), np.float64))
    with pytest.raises(kernels.KernelArgumentError, match="empty"):
        kernels.decode_yolo(np.zeros((84, 0), F))
    with pytest.raises(kernels.KernelArgumentError, match="one image"):
        kernels.decode_yolo(np.zeros((2, 84, 10), F))
    with pytest.raises(kernels.KernelArgumentError, match="C-contiguous"):
        kernels.decode_yolo(np.zeros((10, 84), F).T)
    with pytest.raises(kernels.KernelArgumentError, match="layout"):
        kernels.decode_yolo(np.zeros((84, 10), F), layout="nchw")
    with pytest.raises(kernels.KernelArgumentError, match="letterbox"):
        kernels.decode_yolo(np.zeros((84, 10), F), letterbox=(0, 1, 0, 0))


# ---------------------------------------------------------------------------- segmentation argmax

def numpy_seg(logits: np.ndarray, size=None, letterbox=None) -> np.ndarray:
    c, h, w = logits.shape
    full = np.argmax(logits, axis=0).astype(np.uint8)
    if size is None:
        return full
    ow, oh = size
    sx, sy, px, py = letterbox if letterbox else (F(w) / F(ow), F(h) / F(oh), 0, 0)
    u = np.floor((np.arange(ow, dtype=F) + F(0.5)) * F(sx) + F(px)).clip(0, w - 1).astype(int)
    v = np.floor((np.arange(oh, dtype=F) + F(0.5)) * F(sy) + F(py)).clip(0, h - 1).astype(int)
    return full[v][:, u]


@pytest.mark.parametrize("w", SIZES[:4] + [160])
def test_seg_argmax_vs_numpy_and_ref(isa, w):
    rng = np.random.default_rng(w)
    logits = rng.integers(0, 6, (21, 5, w)).astype(F)  # ties between classes
    for size, lb in ((None, None), ((2 * w + 3, 11), None), ((w, 7), (0.5, 0.5, 0.0, 1.0))):
        shape = (5, w) if size is None else (size[1], size[0])
        got = guarded(lambda out, s=size, b=lb: kernels.seg_argmax(logits, s, b, out=out, isa=isa), shape, np.uint8)
        assert np.array_equal(got, numpy_seg(logits, size, lb))
        assert np.array_equal(got, kernels.seg_argmax(logits, size, lb, isa="ref"))


def test_seg_argmax_batch_dim_and_errors():
    logits = np.random.default_rng(0).random((1, 3, 4, 4)).astype(F)
    assert np.array_equal(kernels.seg_argmax(logits), np.argmax(logits[0], 0))
    with pytest.raises(kernels.KernelArgumentError, match=r"\(C, H, W\)"):
        kernels.seg_argmax(np.zeros((4, 4), F))
    with pytest.raises(kernels.KernelArgumentError, match="256"):
        kernels.seg_argmax(np.zeros((257, 2, 2), F))
    with pytest.raises(kernels.KernelArgumentError, match="source_size"):
        kernels.seg_argmax(np.zeros((2, 2, 2), F), source_size=(0, 3))
    with pytest.raises(kernels.KernelArgumentError, match="source_size"):
        kernels.seg_argmax(np.zeros((2, 2, 2), F), letterbox=(1, 1, 0, 0))


# -------------------------------------------------------------------------- calibration histogram

@pytest.mark.parametrize("n", SIZES + [1 << 20])
def test_histogram_vs_numpy(isa, n):
    rng = np.random.default_rng(n)
    bins = 2048
    mx = F(6.0)
    k = rng.integers(0, bins, n)
    x = ((k + 0.5) * (float(mx) / bins) * rng.choice([-1, 1], n)).astype(F)  # bin centres: away from edges
    x[0] = mx  # the maximum itself: last bin (numpy's last bin is closed too)
    counts, m = kernels.histogram(x, bins, isa=isa)
    assert m == mx and counts.dtype == np.int64
    want, _ = np.histogram(np.abs(x), bins=bins, range=(0, float(mx)))
    assert np.array_equal(counts, want)
    assert np.array_equal(counts, kernels.histogram(x, bins, isa="ref")[0])
    assert kernels.abs_max(x, isa=isa) == mx


def test_histogram_accumulates_and_edges(isa):
    x = np.array([0, 0.5, -1, 1.5, 3.99, 4, 100, np.inf, np.nan], F)
    acc = np.zeros(4, np.int64)
    counts, m = kernels.histogram(x, 4, max_value=4.0, accumulate_into=acc, isa=isa)
    assert counts is acc and m == 4.0
    assert acc.tolist() == [2, 2, 0, 4]  # edges go up, >= max and inf to the last bin, NaN skipped
    kernels.histogram(x, 4, max_value=4.0, accumulate_into=acc, ignore_zeros=True, isa=isa)
    assert acc.tolist() == [3, 4, 0, 8]
    assert kernels.histogram(np.zeros(5, F), 3)[0].tolist() == [5, 0, 0]  # all-zero tensor: max 0


def test_histogram_large_random_matches_ref(isa):
    x = np.random.default_rng(5).standard_normal(1_000_003).astype(F)
    x[::97] = 0
    for iz in (False, True):
        got = kernels.histogram(x, 2048, ignore_zeros=iz, isa=isa)[0]
        assert np.array_equal(got, kernels.histogram(x, 2048, ignore_zeros=iz, isa="ref")[0])
        assert got.sum() == (x.size - (int((x == 0).sum()) if iz else 0))


def test_histogram_errors():
    x = np.ones(4, F)
    with pytest.raises(kernels.KernelArgumentError, match="bins"):
        kernels.histogram(x, 0)
    with pytest.raises(kernels.KernelArgumentError, match=r"int64 array of shape \(8,\)"):
        kernels.histogram(x, 8, accumulate_into=np.zeros(8, np.int32))
    with pytest.raises(kernels.KernelArgumentError, match="max_value"):
        kernels.histogram(x, 8, max_value=float("nan"))
    with pytest.raises(kernels.KernelArgumentError, match="max_value"):
        kernels.histogram(np.array([1, np.inf], F), 8)
    with pytest.raises(kernels.KernelArgumentError, match="float32"):
        kernels.histogram(x.astype(np.float64), 8)
    with pytest.raises(kernels.KernelArgumentError, match="empty"):
        kernels.abs_max(np.zeros(0, F))
