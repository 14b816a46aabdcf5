"""Pre- and post-processing specs: the one definition of how an image becomes a model input and how model
outputs become results. Bundles store them in manifest.json; the runtime hands them to the C++ kernels;
int8 calibration feeds its images through the same PreprocessSpec so calibration sees what the device sees.

Conventions (documented in docs/bundle.md):
- mean/std are in pixel units (0..255), one value per channel in the model's channel order (`color`):
  x = (pixel - mean) / std. ImageNet's 0..1 constants are mean=123.675,116.28,103.53 std=58.395,57.12,57.375.
- width/height are the network input size; `resize` says how a source image of any size gets there:
  stretch (plain resize), letterbox (keep aspect, pad with pad_value; boxes map back to source pixels), or
  center_crop (resize the shorter side to size / crop_fraction, then crop the centre).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields

import numpy as np

from edgepack.errors import InputError

TASKS = ("classify", "detect", "segment", "raw")
COLORS = ("RGB", "BGR", "GRAY")
RESIZE_MODES = ("stretch", "letterbox", "center_crop")
LAYOUTS = ("NCHW", "NHWC")
INPUT_DTYPES = ("float32", "uint8")
POST_KINDS = {"classify": "topk", "detect": "yolo", "segment": "seg_argmax", "raw": "none"}
YOLO_LAYOUTS = ("attrs_first", "anchors_first")
BOX_FORMATS = ("cxcywh", "xyxy")


@dataclass
class PreprocessSpec:
    """How a uint8 image (RGB/BGR/NV21/NV12, any size) becomes the tensor fed to ONNX input `input`."""

    input: str
    width: int
    height: int
    color: str = "RGB"
    resize: str = "stretch"
    mean: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    std: list[float] = field(default_factory=lambda: [1.0, 1.0, 1.0])
    layout: str = "NCHW"
    dtype: str = "float32"
    pad_value: int = 114
    crop_fraction: float = 1.0

    @property
    def channels(self) -> int:
        return 1 if self.color == "GRAY" else 3

    @property
    def size(self) -> tuple[int, int]:
        """(height, width) of the network input."""
        return self.height, self.width

    def apply(self, image) -> np.ndarray:
        """One image (uint8 RGB HWC array, image path, PIL image or Frame) -> the float32/uint8 tensor
        [1, C, H, W] or [1, H, W, C] this spec feeds the model, through the C++ preprocess kernel. This is what
        Session.run does before inference; int8 calibration should use it so it sees the same tensors."""
        from edgepack.runtime.pipeline.pre import Preprocessor

        return Preprocessor(self, self.input_shape(), self.dtype)(image).tensor

    def input_shape(self) -> list[int]:
        c, h, w = self.channels, self.height, self.width
        return [1, c, h, w] if self.layout == "NCHW" else [1, h, w, c]

    def validate(self) -> PreprocessSpec:
        _one_of("color", self.color, COLORS)
        _one_of("resize", self.resize, RESIZE_MODES)
        _one_of("layout", self.layout, LAYOUTS)
        _one_of("dtype", self.dtype, INPUT_DTYPES)
        if self.width <= 0 or self.height <= 0:
            raise InputError(f"preprocess size {self.width}x{self.height} is not positive; give the network "
                             "input size")
        for name in ("mean", "std"):
            vals = getattr(self, name)
            if len(vals) not in (1, self.channels):
                raise InputError(f"--{name} has {len(vals)} values but the model takes {self.channels} "
                                 f"channel(s); give 1 or {self.channels} values")
        for name in ("mean", "std"):
            if not all(math.isfinite(float(v)) for v in getattr(self, name)):
                raise InputError(f"--{name} {getattr(self, name)} has a non-finite value (nan/inf); give numbers "
                                 "in pixel units, e.g. 127.5")
        if any(s == 0 for s in self.std):
            raise InputError("--std contains 0; std divides the pixel values, give non-zero values")
        if not 0 <= self.pad_value <= 255:
            raise InputError(f"pad_value {self.pad_value} is outside 0..255")
        if not 0 < self.crop_fraction <= 1:
            raise InputError(f"crop_fraction {self.crop_fraction} must be in (0, 1]")
        return self

    def per_channel(self, name: str) -> list[float]:
        vals = [float(v) for v in getattr(self, name)]
        return vals * self.channels if len(vals) == 1 else vals

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> PreprocessSpec:
        return cls(**_known(cls, d)).validate()

    @classmethod
    def for_input(cls, name: str, shape: Sequence[int], **kw) -> PreprocessSpec:
        """Derive width/height/layout from an ONNX image input shape [1,C,H,W] or [1,H,W,C]."""
        shape = list(shape)
        if len(shape) != 4 or shape[0] != 1:
            raise InputError(f"input '{name}' has shape {shape}; an image input must be [1,C,H,W] or [1,H,W,C] "
                             "(use --task raw for other inputs)")
        if shape[1] in (1, 3) and shape[3] not in (1, 3):
            layout, c, h, w = "NCHW", shape[1], shape[2], shape[3]
        elif shape[3] in (1, 3):
            layout, c, h, w = "NHWC", shape[3], shape[1], shape[2]
        else:
            raise InputError(f"input '{name}' has shape {shape}: no channel dim of 1 or 3; use --task raw")
        kw.setdefault("layout", layout)
        if c == 1:
            kw["color"] = "GRAY"
        elif kw.get("color") == "GRAY":
            raise InputError(f"--color GRAY but input '{name}' has 3 channels ({shape})")
        return cls(input=name, width=w, height=h, **kw).validate()


@dataclass
class PostprocessSpec:
    """How the outputs become results. kind: topk (classify), yolo (detect), seg_argmax (segment),
    none (raw: the output arrays as they are)."""

    kind: str
    output: str = ""
    # topk
    top_k: int = 5
    softmax: bool = True
    # yolo (anchor-free head, YOLOv8 style by default)
    yolo_layout: str = "attrs_first"
    box_format: str = "cxcywh"
    has_objectness: bool = False
    score_threshold: float = 0.25
    iou_threshold: float = 0.45
    max_detections: int = 300
    class_agnostic: bool = False

    _FIELDS = {"topk": ("top_k", "softmax"), "seg_argmax": (), "none": (),
               "yolo": ("yolo_layout", "box_format", "has_objectness", "score_threshold", "iou_threshold",
                        "max_detections", "class_agnostic")}

    def validate(self) -> PostprocessSpec:
        _one_of("postprocess kind", self.kind, tuple(self._FIELDS))
        if self.kind != "none" and not self.output:
            raise InputError(f"postprocess '{self.kind}' needs the ONNX output name it reads")
        if self.kind == "topk" and self.top_k < 1:
            raise InputError(f"--top-k {self.top_k} must be at least 1")
        if self.kind == "yolo":
            _one_of("yolo layout", self.yolo_layout, YOLO_LAYOUTS)
            _one_of("box format", self.box_format, BOX_FORMATS)
            if not 0 <= self.iou_threshold <= 1:
                raise InputError(f"--iou-threshold {self.iou_threshold} must be in [0, 1]")
            if self.max_detections < 0:
                raise InputError("--max-detections must be >= 0 (0 = no limit)")
        return self

    def to_dict(self) -> dict:
        d = {"kind": self.kind}
        if self.kind != "none":
            d["output"] = self.output
        d.update({k: getattr(self, k) for k in self._FIELDS[self.kind]})
        return d

    @classmethod
    def from_dict(cls, d: dict) -> PostprocessSpec:
        return cls(**_known(cls, d)).validate()

    @classmethod
    def for_task(cls, task: str, output: str, **kw) -> PostprocessSpec:
        _one_of("task", task, TASKS)
        return cls(kind=POST_KINDS[task], output=output if task != "raw" else "", **kw).validate()


def _one_of(what: str, value: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise InputError(f"unknown {what} '{value}'; choose from {', '.join(allowed)}")


def _known(cls, d: dict) -> dict:
    names = {f.name for f in fields(cls)}
    unknown = set(d) - names
    if unknown:
        raise InputError(f"{cls.__name__}: unknown field(s) {sorted(unknown)}; this edgepack knows {sorted(names)}")
    return dict(d)
