"""Straightforward numpy references for the post-processing tests: greedy NMS and YOLO decode, written
from the spec in cpp/include/edgepack/postprocess.h (float32 arithmetic, operation by operation)."""

from __future__ import annotations

import numpy as np

F = np.float32


def iou_one_to_many(b: np.ndarray, others: np.ndarray) -> np.ndarray:
    """float32 IoU of box b (4,) with boxes others (M, 4); 0 where the union is 0."""
    def area(x: np.ndarray) -> np.ndarray:
        return np.maximum(F(0), x[..., 2] - x[..., 0]) * np.maximum(F(0), x[..., 3] - x[..., 1])

    iw = np.maximum(F(0), np.minimum(others[:, 2], b[2]) - np.maximum(others[:, 0], b[0]))
    ih = np.maximum(F(0), np.minimum(others[:, 3], b[3]) - np.maximum(others[:, 1], b[1]))
    inter = iw * ih
    uni = area(others) + area(b) - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(uni > 0, inter / np.where(uni > 0, uni, F(1)), F(0)).astype(F)


def reference_nms(boxes, scores, iou_threshold, class_ids=None, max_detections=None,
                  score_threshold=-np.inf) -> list[int]:
    boxes = np.asarray(boxes, F)
    scores = np.asarray(scores, F)
    thr = F(iou_threshold)
    order = [i for i in range(len(scores)) if scores[i] > F(score_threshold)]
    order.sort(key=lambda i: (-float(scores[i]), i))
    keep: list[int] = []
    for i in order:
        if max_detections is not None and len(keep) >= max_detections:
            break
        kept = [j for j in keep if class_ids is None or class_ids[j] == class_ids[i]]
        if kept and (iou_one_to_many(boxes[i], boxes[kept]) > thr).any():
            continue
        keep.append(i)
    return keep


def reference_decode(out, *, layout="attrs_first", box_format="cxcywh", objectness=False, score_threshold=0.25,
                     iou_threshold=0.45, max_detections=300, class_agnostic=False, letterbox=None,
                     source_size=None):
    a = np.asarray(out, F).reshape(out.shape[-2:])
    rows = a.T if layout == "attrs_first" else a  # (N, attrs)
    first = 5 if objectness else 4
    cls_scores = rows[:, first:]
    cls = np.argmax(cls_scores, axis=1)  # first maximum (test data has no NaN)
    best = cls_scores[np.arange(len(rows)), cls]
    score = rows[:, 4] * best if objectness else best
    cand = np.nonzero(score > F(score_threshold))[0]
    b = rows[cand, :4]
    if box_format == "cxcywh":
        hw, hh = b[:, 2] * F(0.5), b[:, 3] * F(0.5)
        b = np.stack([b[:, 0] - hw, b[:, 1] - hh, b[:, 0] + hw, b[:, 1] + hh], axis=1).astype(F)
    ids = None if class_agnostic else cls[cand]
    keep = reference_nms(b, score[cand], iou_threshold, ids, max_detections or None)
    boxes = b[keep].astype(F)
    sx, sy, px, py = (F(v) for v in (letterbox or (1, 1, 0, 0)))
    boxes[:, [0, 2]] = (boxes[:, [0, 2]] - px) / sx
    boxes[:, [1, 3]] = (boxes[:, [1, 3]] - py) / sy
    if source_size is not None:
        boxes[:, [0, 2]] = np.clip(boxes[:, [0, 2]], F(0), F(source_size[0]))
        boxes[:, [1, 3]] = np.clip(boxes[:, [1, 3]], F(0), F(source_size[1]))
    return boxes, score[cand][keep].astype(F), cls[cand][keep].astype(np.int32)
