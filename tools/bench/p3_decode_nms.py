"""P3: decode an 84x8400 YOLOv8 head output + class-aware NMS, edgepack vs numpy + OpenCV, 1 thread.

    python tools/bench/p3_decode_nms.py [--repeat 50] [--seed 0]

Input: a synthetic but realistic COCO-shaped output (attrs_first, (84, 8400), cx,cy,w,h in a 640x640
letterboxed input): background class scores below 0.05, and ~20 objects, each covered by a cluster of
anchors with jittered boxes and scores 0.25..0.95 on the object's class (some anchors also score a
second class above the threshold, as real heads do), so a few hundred anchors pass the 0.25 threshold
and NMS has real work. The boxes are mapped back to a 1920x1080 source through the letterbox.

Baseline: the common numpy decode of YOLOv8 outputs (transpose, max/argmax over the class columns,
threshold, cx,cy,w,h -> x,y,w,h) followed by cv2.dnn.NMSBoxesBatched (OpenCV's class-aware NMS: it
applies the per-class coordinate offset trick internally and then runs NMSBoxes), then the letterbox
inverse on the kept boxes. Both sides use score > 0.25 and IoU > 0.45, cv2.setNumThreads(1).

The script asserts that both return exactly the same detections in the same order (boxes, scores and
class ids bit for bit) on every ISA before timing. Each timing is the median of --repeat runs. Last line:
`P3 speedup vs baseline: X.XX` (baseline median / edgepack median, active ISA).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

try:
    from edgepack import kernels
except ImportError:  # running from a source checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))
    from edgepack import kernels

import cv2  # noqa: E402  (bench extra: opencv-python-headless)

SCORE, IOU = 0.25, 0.45
SRC_W, SRC_H = 1920, 1080
SCALE = 640 / 1920
PAD_X, PAD_Y = 0.0, (640 - 1080 * SCALE) / 2
LETTERBOX = (SCALE, SCALE, PAD_X, PAD_Y)


def make_output(seed: int, anchors: int = 8400, classes: int = 80, objects: int = 20) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.empty((4 + classes, anchors), np.float32)
    out[4:] = rng.random((classes, anchors), np.float32) * 0.05
    out[0] = rng.uniform(0, 640, anchors)
    out[1] = rng.uniform(PAD_Y, 640 - PAD_Y, anchors)
    out[2] = rng.uniform(8, 160, anchors)
    out[3] = rng.uniform(8, 160, anchors)
    for _ in range(objects):
        cx, cy = rng.uniform(40, 600), rng.uniform(PAD_Y + 30, 640 - PAD_Y - 30)
        w, h = rng.uniform(20, 200), rng.uniform(20, 200)
        cls, other = rng.integers(0, classes, 2)
        members = rng.choice(anchors, int(rng.integers(10, 30)), replace=False)
        k = len(members)
        out[0, members] = cx + rng.normal(0, 0.08 * w, k)
        out[1, members] = cy + rng.normal(0, 0.08 * h, k)
        out[2, members] = w * rng.uniform(0.8, 1.2, k)
        out[3, members] = h * rng.uniform(0.8, 1.2, k)
        out[4 + cls, members] = rng.uniform(0.25, 0.95, k)
        second = members[: k // 3]
        out[4 + other, second] = rng.uniform(0.26, 0.5, len(second))  # a confusable second class
    return out


def baseline(out: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """numpy decode + cv2.dnn.NMSBoxesBatched; returns (boxes xyxy in source pixels, scores, class ids, anchors)."""
    pred = out.T  # (8400, 84)
    scores = pred[:, 4:].max(axis=1)
    keep = scores > SCORE
    anchors = np.nonzero(keep)[0]
    pred, scores = pred[keep], scores[keep]
    class_ids = pred[:, 4:].argmax(axis=1)
    cxcy, wh = pred[:, :2], pred[:, 2:4]
    half = wh * np.float32(0.5)
    xywh = np.concatenate([cxcy - half, wh], axis=1)
    idx = np.asarray(cv2.dnn.NMSBoxesBatched(xywh, scores, class_ids, SCORE, IOU), dtype=np.int64).reshape(-1)
    x1y1 = cxcy[idx] - half[idx]
    x2y2 = cxcy[idx] + half[idx]
    boxes = np.concatenate([x1y1, x2y2], axis=1)
    boxes[:, [0, 2]] = ((boxes[:, [0, 2]] - PAD_X) / SCALE).clip(0, SRC_W)
    boxes[:, [1, 3]] = ((boxes[:, [1, 3]] - PAD_Y) / SCALE).clip(0, SRC_H)
    return boxes, scores[idx], class_ids[idx].astype(np.int32), anchors[idx]


def ours(out: np.ndarray, isa: str | None = None):
    return kernels.decode_yolo(out, score_threshold=SCORE, iou_threshold=IOU, max_detections=None,
                               letterbox=LETTERBOX, source_size=(SRC_W, SRC_H), isa=isa)


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    cv2.setNumThreads(1)
    out = make_output(args.seed)
    n_cand = int((out[4:].max(axis=0) > SCORE).sum())

    b_boxes, b_scores, b_ids, b_anchors = baseline(out)
    for isa in kernels.available_isas():
        boxes, scores, ids = ours(out, isa)
        # Identity: the same kept detections in the same order, bit for bit (boxes, scores, class ids).
        assert ids.tolist() == b_ids.tolist(), f"{isa}: class ids differ from the baseline"
        assert np.array_equal(scores, b_scores), f"{isa}: kept scores differ from the baseline"
        assert np.array_equal(boxes, b_boxes), f"{isa}: kept boxes differ from the baseline"
    print(f"input: (84, 8400) float32, {n_cand} anchors above {SCORE}, {len(b_ids)} kept after class-aware NMS "
          f"(IoU > {IOU}); identical kept detections on {', '.join(kernels.available_isas())}")
    print(f"cv2 {cv2.__version__}, numpy {np.__version__}, 1 thread, median of {args.repeat}")

    base_ms = median_ms(lambda: baseline(out), args.repeat)
    print(f"  baseline numpy decode + cv2.dnn.NMSBoxesBatched: {base_ms:8.3f} ms")
    results = {}
    for isa in kernels.available_isas():
        results[isa] = median_ms(lambda isa=isa: ours(out, isa), args.repeat)
        print(f"  edgepack decode_yolo isa={isa:<5}: {results[isa]:8.3f} ms   x{base_ms / results[isa]:6.2f}")
    active = kernels.active_isa()
    print(f"P3 speedup vs baseline: {base_ms / results[active]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
