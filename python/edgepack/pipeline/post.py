"""Model outputs -> typed results, through the C++ postprocess kernels (edgepack.kernels.topk / decode_yolo /
seg_argmax). Boxes are decoded in network-input pixels and mapped back to source pixels with the
preprocess kernel's PreprocessInfo (which knows the crop, rotation and letterbox)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InputError
from .results import Classification, Detections, Mask, _label
from .spec import PostprocessSpec


def _kernels(*names: str):
    from .. import kernels

    missing = [n for n in names if not hasattr(kernels, n)]
    if missing:
        raise InputError(f"this edgepack build lacks the postprocess kernel(s) {', '.join(missing)}; call "
                         "Session.run(x, raw=True) for the output arrays, or install an edgepack with the kernels")
    return [getattr(kernels, n) for n in names]


class Postprocessor:
    def __init__(self, spec: PostprocessSpec, labels: list[str], output_shape: list[int]) -> None:
        self.spec = spec
        self.labels = labels
        self.shape = list(output_shape)
        self.run = {"topk": self._topk, "yolo": self._yolo, "seg_argmax": self._seg, "none": None}[spec.kind]
        if spec.kind == "topk":
            self.k = min(spec.top_k, int(np.prod(self.shape[1:])) if len(self.shape) > 1 else self.shape[0])

    def kernels_present(self) -> bool:
        """Whether this build has the kernel this spec needs (absent only in a partial build of the core)."""
        from .. import kernels

        return self.spec.kind == "none" or hasattr(kernels, {"topk": "topk", "yolo": "decode_yolo",
                                                             "seg_argmax": "seg_argmax"}[self.spec.kind])

    def __call__(self, outputs: dict[str, np.ndarray], info: Any, source_size: tuple[int, int]):
        return self.run(outputs[self.spec.output], info, source_size)

    def _topk(self, out: np.ndarray, info: Any, source_size: tuple[int, int]) -> Classification:
        logits = np.ascontiguousarray(out, dtype=np.float32).reshape(1, -1)
        (topk,) = _kernels("topk")
        values, indices = topk(logits, self.k, softmax=self.spec.softmax)
        ids = [int(i) for i in np.asarray(indices).reshape(-1)]
        return Classification(ids, [float(v) for v in np.asarray(values).reshape(-1)],
                              [_label(self.labels, i) for i in ids])

    def _yolo(self, out: np.ndarray, info: Any, source_size: tuple[int, int]) -> Detections:
        s = self.spec
        data = np.ascontiguousarray(out, dtype=np.float32)
        data = data.reshape(data.shape[-2:]) if data.ndim == 3 else data
        # network-space decode + NMS (as Ultralytics), then the preprocess geometry maps boxes to the source
        (decode_yolo,) = _kernels("decode_yolo")
        boxes, scores, class_ids = decode_yolo(
            data, attrs_first=s.yolo_layout == "attrs_first", xyxy=s.box_format == "xyxy",
            has_objectness=s.has_objectness, score_threshold=s.score_threshold, iou_threshold=s.iou_threshold,
            max_detections=s.max_detections, class_agnostic=s.class_agnostic, letterbox=None, source_size=None)
        boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
        if info is not None and len(boxes):
            boxes = info.map_boxes(boxes, clip=True).astype(np.float32)
        ids = np.asarray(class_ids, dtype=np.int32)
        return Detections(boxes, np.asarray(scores, dtype=np.float32), ids, [_label(self.labels, int(i)) for i in ids])

    def _seg(self, out: np.ndarray, info: Any, source_size: tuple[int, int]) -> Mask:
        logits = np.ascontiguousarray(out, dtype=np.float32)
        logits = logits.reshape(logits.shape[-3:])
        (seg_argmax,) = _kernels("seg_argmax")
        if info is not None and info.rotate == 0 and not info.mirror and info.crop == (0, 0, *info.src_size):
            # straight to source pixels through the forward letterbox mapping: network = source * scale + pad
            letterbox = (info.scale[0], info.scale[1], float(info.pad[0]), float(info.pad[1]))
            mask = seg_argmax(logits, out_size=source_size, letterbox=letterbox)
        else:  # rotated / cropped input: the mask stays in network-input pixels
            mask = seg_argmax(logits)
        return Mask(np.asarray(mask), self.labels)
