"""Model outputs -> typed results, through the C++ postprocess kernels (edgepack.runtime.kernels.topk / decode_yolo /
seg_argmax). Boxes are decoded in network-input pixels and mapped back to source pixels with the
preprocess kernel's PreprocessInfo (which knows the crop, rotation and letterbox)."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgepack.errors import InputError
from edgepack.runtime.pipeline.results import Classification, Detections, Mask, _label
from edgepack.runtime.pipeline.spec import PostprocessSpec


def _kernels(*names: str):
    from edgepack.runtime import kernels

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
        from edgepack.runtime import kernels

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
        (decode_yolo,) = _kernels("decode_yolo")
        # decode + NMS in network-input pixels (as Ultralytics), then the preprocess geometry (crop, rotation,
        # letterbox) maps the kept boxes back to source pixels
        boxes, scores, class_ids = decode_yolo(
            np.ascontiguousarray(out, dtype=np.float32), layout=s.yolo_layout, box_format=s.box_format,
            objectness=s.has_objectness, score_threshold=s.score_threshold, iou_threshold=s.iou_threshold,
            max_detections=s.max_detections or None, class_agnostic=s.class_agnostic)
        if info is not None and len(boxes):
            boxes = info.map_boxes(boxes, clip=True).astype(np.float32)
        ids = np.asarray(class_ids, dtype=np.int32)
        return Detections(np.asarray(boxes, dtype=np.float32).reshape(-1, 4), np.asarray(scores, dtype=np.float32),
                          ids, [_label(self.labels, int(i)) for i in ids])

    def _seg(self, out: np.ndarray, info: Any, source_size: tuple[int, int]) -> Mask:
        (seg_argmax,) = _kernels("seg_argmax")
        logits = np.ascontiguousarray(out, dtype=np.float32)
        logits = logits.reshape(logits.shape[-3:])
        if info is not None and info.rotate == 0 and not info.mirror and info.crop == (0, 0, *info.src_size):
            # straight to source pixels: logits pixel = (source pixel * scale + pad) * logits size / input size
            fx, fy = logits.shape[2] / info.out_size[0], logits.shape[1] / info.out_size[1]
            lb = (info.scale[0] * fx, info.scale[1] * fy, info.pad[0] * fx, info.pad[1] * fy)
            mask = seg_argmax(logits, source_size=source_size, letterbox=lb)
        else:  # rotated or cropped input: the mask stays in the model's output pixels
            mask = seg_argmax(logits)
        return Mask(np.asarray(mask), self.labels)
