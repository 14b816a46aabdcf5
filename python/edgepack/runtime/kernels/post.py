"""Post-processing kernels from the C++ core: softmax + top-k, NMS, YOLO decode, segmentation argmax,
and the calibration histogram. Re-exported by :mod:`edgepack.runtime.kernels` (use it from there).

Inputs are read in place: they must be C-contiguous arrays of the stated dtype (float32 unless noted);
nothing is converted or copied, and the GIL is released while a kernel runs. Mistakes raise
:class:`edgepack.runtime.kernels.KernelArgumentError` naming the expected shape. ``isa=`` forces one path
("ref", "avx2", "neon") for tests and benchmarks.

Shared rules (the C++ header ``cpp/include/edgepack/postprocess.h`` is the full spec):

* Ranking is score descending with ties broken by the lower index; NaN scores are never kept.
* IoU is computed in float32: ``inter / (area_a + area_b - inter)`` (0 when the union is 0), and a box
  is suppressed when ``IoU > iou_threshold`` (strictly, like ``cv2.dnn.NMSBoxes``).
* A letterbox is ``(scale_x, scale_y, pad_x, pad_y)`` with ``network = source * scale + pad``; boxes
  go back with ``source = (network - pad) / scale`` and are then clipped to ``source_size``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np

from edgepack.runtime.kernels import IsaName, KernelArgumentError, _call, _core

Letterbox = tuple[float, float, float, float]
YoloLayout = Literal["attrs_first", "anchors_first"]
BoxFormat = Literal["cxcywh", "xyxy"]

__all__ = ["abs_max", "decode_yolo", "histogram", "nms", "seg_argmax", "softmax", "topk"]

_LAYOUTS = {"attrs_first": True, "anchors_first": False}
_BOX_FORMATS = {"cxcywh": False, "xyxy": True}


def _letterbox(fn: str, letterbox: Sequence[float] | None) -> Letterbox | None:
    if letterbox is None:
        return None
    try:
        lb = tuple(float(v) for v in letterbox)
    except (TypeError, ValueError):
        lb = ()
    if len(lb) != 4 or not all(math.isfinite(v) for v in lb) or lb[0] <= 0 or lb[1] <= 0:
        raise KernelArgumentError(
            f"{fn}: letterbox must be (scale_x, scale_y, pad_x, pad_y) with finite values and scales > 0, "
            f"got {letterbox!r}"
        )
    return lb  # type: ignore[return-value]


def _source_size(fn: str, size: Sequence[int] | None) -> tuple[int, int] | None:
    if size is None:
        return None
    try:
        w, h = (int(v) for v in size)
        ok = (w, h) == tuple(size) and w > 0 and h > 0
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise KernelArgumentError(f"{fn}: source_size must be (width, height), two positive integers, got {size!r}")
    return w, h


def _max_detections(fn: str, value: int | None) -> int:
    if value is None:
        return 0
    if not isinstance(value, (int, np.integer)) or value < 1:
        raise KernelArgumentError(f"{fn}: max_detections must be a positive integer or None, got {value!r}")
    return int(value)


def softmax(logits: np.ndarray, *, out: np.ndarray | None = None, isa: IsaName | None = None) -> np.ndarray:
    """Softmax over the last axis of a float32 (C,) or (N, C) array (within 1e-5 relative on every ISA).

    ``exp(x - max) / sum(exp(x - max))`` per row; a row containing NaN gives NaN. ``out`` may be a
    float32 array of the same shape (not overlapping the input).
    """
    return _call(_core().softmax, logits, out=out, isa=isa)


def topk(
    logits: np.ndarray, k: int, softmax: bool = True, *, isa: IsaName | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The k best entries per row of float32 (C,) or (N, C) logits: ``(values, indices)``, shape (..., k).

    Selection uses the raw logits, descending, ties by the lower index (NaN ranks last), so indices are
    identical on every ISA. ``softmax=True``: values are the softmax probabilities (over the whole
    row) of the selected entries; ``False``: the logits themselves. ``indices`` are int32.
    """
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
        raise KernelArgumentError(f"topk: k must be a positive integer, got {k!r}")
    return _call(_core().topk, logits, int(k), softmax=bool(softmax), isa=isa)


def nms(
    boxes: np.ndarray,
    scores: np.ndarray,
    iou_threshold: float,
    class_ids: np.ndarray | None = None,
    max_detections: int | None = None,
    *,
    score_threshold: float | None = None,
) -> np.ndarray:
    """Greedy non-maximum suppression; returns the kept indices (int32) in rank order.

    ``boxes``: float32 (N, 4) x1, y1, x2, y2; ``scores``: float32 (N,); ``class_ids``: int32 (N,) makes it
    class-aware (boxes of different classes never suppress each other). Candidates are visited by score
    descending (ties: lower index first); one is kept unless a kept box (same class) has
    ``IoU > iou_threshold`` with it. ``score_threshold``: only scores strictly above it are considered.
    ``max_detections``: stop after that many. Empty input gives an empty result.
    """
    thr = -math.inf if score_threshold is None else float(score_threshold)
    if math.isnan(thr) or math.isnan(float(iou_threshold)):
        raise KernelArgumentError("nms: iou_threshold and score_threshold must not be NaN")
    return _call(_core().nms, boxes, scores, float(iou_threshold), class_ids=class_ids, score_threshold=thr,
                 max_detections=_max_detections("nms", max_detections))


def decode_yolo(
    out: np.ndarray,
    *,
    layout: YoloLayout = "attrs_first",
    box_format: BoxFormat = "cxcywh",
    objectness: bool = False,
    score_threshold: float = 0.25,
    iou_threshold: float = 0.45,
    max_detections: int | None = 300,
    class_agnostic: bool = False,
    letterbox: Sequence[float] | None = None,
    source_size: Sequence[int] | None = None,
    isa: IsaName | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decode an anchor-free YOLO head (YOLOv8/v11 style) and run NMS: ``(boxes, scores, class_ids)``.

    ``out``: float32, one image. ``layout="attrs_first"``: shape (4 + C, N) or (1, 4 + C, N), what YOLOv8
    exports (84 x 8400 for COCO); ``"anchors_first"``: (N, 4 + C) or (1, N, 4 + C). Per anchor: 4 box
    values (``box_format`` "cxcywh" or "xyxy", network-input pixels), then, with ``objectness=True``,
    one objectness value (YOLOv5-style; score = objectness * class score), then C class scores
    (probabilities; no sigmoid is applied). Each anchor takes its best class (first maximum); anchors
    with score > ``score_threshold`` go to NMS (class-aware unless ``class_agnostic``) in network
    coordinates; at most ``max_detections`` are kept (None: no limit). Kept boxes are mapped back
    through ``letterbox`` (scale_x, scale_y, pad_x, pad_y): ``src = (dst - pad) / scale`` and clipped
    to ``source_size`` (width, height) when given.

    Returns boxes float32 (K, 4) x1, y1, x2, y2; scores float32 (K,) descending (ties: lower anchor
    index); class_ids int32 (K,).
    """
    if layout not in _LAYOUTS:
        raise KernelArgumentError(f"decode_yolo: layout must be 'attrs_first' (4+C, N) or 'anchors_first' "
                                  f"(N, 4+C), got {layout!r}")
    if box_format not in _BOX_FORMATS:
        raise KernelArgumentError(f"decode_yolo: box_format must be 'cxcywh' or 'xyxy', got {box_format!r}")
    for name, v in (("score_threshold", score_threshold), ("iou_threshold", iou_threshold)):
        if not isinstance(v, (int, float, np.floating, np.integer)) or math.isnan(float(v)):
            raise KernelArgumentError(f"decode_yolo: {name} must be a number, got {v!r}")
    lb = _letterbox("decode_yolo", letterbox) or (1.0, 1.0, 0.0, 0.0)
    size = _source_size("decode_yolo", source_size) or (0, 0)
    return _call(
        _core().decode_yolo, out, attrs_first=_LAYOUTS[layout], xyxy=_BOX_FORMATS[box_format],
        has_objectness=bool(objectness), score_threshold=float(score_threshold),
        iou_threshold=float(iou_threshold), max_detections=_max_detections("decode_yolo", max_detections),
        class_agnostic=bool(class_agnostic), letterbox=lb, source_size=(float(size[0]), float(size[1])), isa=isa,
    )


def seg_argmax(
    logits: np.ndarray,
    source_size: Sequence[int] | None = None,
    letterbox: Sequence[float] | None = None,
    *,
    out: np.ndarray | None = None,
    isa: IsaName | None = None,
) -> np.ndarray:
    """Per-pixel class argmax of float32 (C, H, W) or (1, C, H, W) logits -> uint8 mask, C <= 256.

    Ties go to the lower class; NaN is ignored. Without ``source_size`` the mask is (H, W). With
    ``source_size=(w, h)`` the mask is (h, w): output pixel (x, y) takes the class of network pixel
    ``floor((x + 0.5) * s + pad)`` per axis (float32, clamped to the logits), where ``s, pad`` come from
    ``letterbox`` (scale_x, scale_y, pad_x, pad_y) or, without one, are ``W / w`` (resp. ``H / h``) and 0.
    ``out``: a C-contiguous uint8 array of the output shape to write into.
    """
    size = _source_size("seg_argmax", source_size)
    lb = _letterbox("seg_argmax", letterbox)
    if lb is not None and size is None:
        raise KernelArgumentError("seg_argmax: letterbox needs source_size=(width, height) of the source image")
    return _call(_core().seg_argmax, logits, out_size=size, letterbox=lb, out=out, isa=isa)


def abs_max(x: np.ndarray, *, isa: IsaName | None = None) -> float:
    """The largest |x| of a non-empty float32 array (any shape), NaN ignored (0.0 if all NaN)."""
    return float(_call(_core().abs_max, x, isa=isa))


def histogram(
    x: np.ndarray,
    bins: int = 2048,
    max_value: float | None = None,
    accumulate_into: np.ndarray | None = None,
    *,
    ignore_zeros: bool = False,
    isa: IsaName | None = None,
) -> tuple[np.ndarray, float]:
    """Histogram of |x| over [0, max_value] in ``bins`` equal bins (the KL calibration histogram).

    Returns ``(counts, max_value)``: counts int64 (bins,). ``max_value`` defaults to ``abs_max(x)``;
    calibration over many batches first collects the abs-max of all of them, then passes it here with
    ``accumulate_into=counts`` (an int64 (bins,) array, added into in place and returned).
    Bin of a value: ``min(bins - 1, int(|x| * float32(bins / max_value)))`` in float32, so a value on an
    inner bin edge counts in the upper bin and ``|x| >= max_value`` (inf too) in the last bin. NaN is
    not counted; zeros are skipped with ``ignore_zeros`` (as ncnn2table does for its KL histograms).
    """
    if not isinstance(bins, (int, np.integer)) or isinstance(bins, bool) or bins < 1:
        raise KernelArgumentError(f"histogram: bins must be a positive integer, got {bins!r}")
    if max_value is None:
        max_value = abs_max(x, isa=isa)
        if not math.isfinite(max_value):
            raise KernelArgumentError("histogram: x contains inf, so its abs-max is not finite; pass max_value")
    elif not isinstance(max_value, (int, float, np.floating, np.integer)) or not (
        math.isfinite(float(max_value)) and float(max_value) >= 0
    ):
        raise KernelArgumentError(f"histogram: max_value must be a finite number >= 0, got {max_value!r}")
    if accumulate_into is None:
        accumulate_into = np.zeros(int(bins), np.int64)
    elif not (isinstance(accumulate_into, np.ndarray) and accumulate_into.shape == (int(bins),)
              and accumulate_into.dtype == np.int64):
        got = (f"{accumulate_into.dtype} array of shape {accumulate_into.shape}"
               if isinstance(accumulate_into, np.ndarray) else type(accumulate_into).__name__)
        raise KernelArgumentError(
            f"histogram: accumulate_into must be an int64 array of shape ({int(bins)},); got {got}")
    _call(_core().histogram_accumulate, x, float(max_value), accumulate_into, ignore_zeros=bool(ignore_zeros),
          isa=isa)
    return accumulate_into, float(max_value)
