"""NativePipeline: a PreprocessSpec, a .tflite and a PostprocessSpec run as one C++ call per frame
(edgepack/pipeline.h): the preprocess kernel writes straight into LiteRT's input buffer, the model runs, and
top-k or YOLO decode + NMS read the output buffers in place, with the GIL released.

The result equals ``edgepack.runtime.kernels.preprocess`` + the LiteRT Interpreter + ``edgepack.runtime.kernels.topk`` /
``decode_yolo`` (boxes decoded in model-input pixels, mapped back with ``PreprocessInfo.map_boxes(clip=True)``).
Thread-safety: as the model's (runs on one pipeline are serialized; use one pipeline per thread to run in
parallel)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from edgepack.errors import InputError
from edgepack.runtime.engines.litert_native import load_model
from edgepack.runtime.kernels import KernelArgumentError
from edgepack.runtime.kernels.pre import PixelFormat, PreprocessInfo, info_from_dict, source_planes
from edgepack.runtime.pipeline.spec import PostprocessSpec, PreprocessSpec

_POST = {"none": "none", "topk": "topk", "yolo": "yolo"}


@dataclass
class NativeResult:
    info: PreprocessInfo
    outputs: dict[str, np.ndarray] = field(default_factory=dict)  # post kind "none": every output by name
    values: np.ndarray | None = None  # topk
    indices: np.ndarray | None = None  # topk (int32)
    boxes: np.ndarray | None = None  # yolo: (K, 4) x1, y1, x2, y2 in source pixels
    scores: np.ndarray | None = None  # yolo
    class_ids: np.ndarray | None = None  # yolo (int32)


class NativePipeline:
    def __init__(self, model_path: str | os.PathLike[str], pre: PreprocessSpec, post: PostprocessSpec,
                 threads: int = 1) -> None:
        from edgepack import _core

        pre.validate()
        post.validate()
        if post.kind not in _POST:
            raise InputError(f"postprocess '{post.kind}' is not in the native pipeline yet; use "
                             f"{', '.join(_POST)} or run the kernels from Python")
        if pre.resize == "center_crop":
            raise InputError("resize 'center_crop' is not in the native pipeline yet; use stretch or letterbox")
        self.pre, self.post = pre, post
        self.model = load_model(model_path, threads)
        self._input = _index(self.model.inputs, pre.input, "input")
        self._output = _index(self.model.outputs, post.output, "output") if post.kind != "none" else 0
        d = self.model.inputs[self._input]
        self._scale, self._zero_point = 1.0, 0
        if pre.dtype in ("uint8", "int8") and d["quantized"]:
            self._scale, self._zero_point = float(d["scale"]), int(d["zero_point"])
        try:
            self._pipe = _core.LiteRtPipeline(
                self.model, self._input, post=_POST[post.kind], output=self._output, k=post.top_k,
                softmax=post.softmax, yolo_layout=post.yolo_layout, box_format=post.box_format,
                has_objectness=post.has_objectness, score_threshold=post.score_threshold,
                iou_threshold=post.iou_threshold, max_detections=post.max_detections,
                class_agnostic=post.class_agnostic)
        except ValueError as e:
            raise InputError(str(e)) from None

    def preprocess_kwargs(self) -> dict:
        """The ``edgepack.runtime.kernels.preprocess`` arguments this pipeline uses (for a reference run)."""
        p = self.pre
        kw = dict(out_size=(p.width, p.height), mode=p.resize, pad=p.pad_value, mean=p.per_channel("mean"),
                  std=p.per_channel("std"), color=p.color.lower(), layout="chw" if p.layout == "NCHW" else "hwc",
                  dtype=p.dtype)
        if p.dtype in ("uint8", "int8"):
            kw.update(scale=self._scale, zero_point=self._zero_point)
        return kw

    def run(self, image: np.ndarray | Sequence[np.ndarray], format: PixelFormat = "rgb888", *, rotate: int = 0,
            mirror: bool = False, crop: tuple[int, int, int, int] | None = None, width: int | None = None,
            height: int | None = None) -> NativeResult:
        """One frame (as ``kernels.preprocess`` takes it) through preprocess -> LiteRT -> postprocess."""
        fmt = str(format).lower()
        planes, w, h = source_planes(image, fmt, width, height)
        p = self.pre
        try:
            r = self._pipe.run(
                planes, fmt, int(w), int(h), p.width, p.height, mode=p.resize, interp="auto",
                pad=[p.pad_value] * 3, mean=p.per_channel("mean"), std=p.per_channel("std"), rotate=int(rotate),
                mirror=bool(mirror), crop=None if crop is None else tuple(int(v) for v in crop),
                color=p.color.lower(), layout="chw" if p.layout == "NCHW" else "hwc", dtype=p.dtype,
                q_scale=self._scale, zero_point=self._zero_point)
        except ValueError as e:
            raise KernelArgumentError(str(e)) from None
        res = NativeResult(info_from_dict(r["info"]))
        kind = self.post.kind
        if kind == "none":
            res.outputs = {d["name"]: a for d, a in zip(self.model.outputs, r["outputs"])}
        elif kind == "topk":
            res.values, res.indices = r["values"], r["indices"]
        else:
            res.boxes, res.scores, res.class_ids = r["boxes"], r["scores"], r["class_ids"]
        return res

    def close(self) -> None:
        self.model.close()


def _index(descs: list[dict], name: str, kind: str) -> int:
    for i, d in enumerate(descs):
        if name in (d["name"], d["signature_name"]):
            return i
    if len(descs) == 1:
        return 0
    raise InputError(f"the model has no {kind} '{name}'; its {kind}s are {[d['name'] for d in descs]}")
