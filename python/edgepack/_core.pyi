"""Type stubs for edgepack._core, the C++ core (pybind11). Use edgepack.kernels rather than this module."""

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

def active_isa() -> str: ...
def available_isas() -> list[str]: ...
def compiled_isas() -> list[str]: ...
def isa_note() -> str: ...
def last_isa() -> str: ...
def cpu_features() -> dict[str, bool]: ...
def fp32_to_fp16(
    src: npt.NDArray[np.float32], *, out: npt.NDArray[np.float16] | None = None, isa: str | None = None
) -> npt.NDArray[np.float16]: ...
def fp16_to_fp32(
    src: npt.NDArray[np.float16], *, out: npt.NDArray[np.float32] | None = None, isa: str | None = None
) -> npt.NDArray[np.float32]: ...
def normalize(
    src: npt.NDArray[np.uint8],
    mean: Sequence[float],
    std: Sequence[float],
    *,
    channels: Sequence[int] | None = None,
    out: npt.NDArray[np.float32] | None = None,
    isa: str | None = None,
    device: str = "cpu",
) -> npt.NDArray[np.float32]: ...
def preprocess(
    planes: Sequence[npt.NDArray[np.uint8]],
    format: str,
    width: int,
    height: int,
    out_width: int,
    out_height: int,
    *,
    mode: str = "stretch",
    interp: str = "auto",
    pad: Sequence[int] = (114, 114, 114),
    mean: Sequence[float] = (0.0,),
    std: Sequence[float] = (1.0,),
    rotate: int = 0,
    mirror: bool = False,
    crop: tuple[int, int, int, int] | None = None,
    color: str = "rgb",
    layout: str = "chw",
    dtype: str = "float32",
    q_scale: float = 1.0,
    zero_point: int = 0,
    out: npt.NDArray[np.generic] | None = None,
    isa: str | None = None,
    device: str = "cpu",
) -> tuple[npt.NDArray[np.generic], dict[str, object]]: ...
def preprocess_map_boxes(
    src_width: int,
    src_height: int,
    crop: tuple[int, int, int, int],
    rotate: int,
    mirror: bool,
    oriented_size: tuple[int, int],
    pad: tuple[int, int],
    scale: tuple[float, float],
    boxes: Sequence[Sequence[float]],
) -> list[tuple[float, float, float, float]]: ...


# Native LiteRT engine (cpp/src/engines/litert.cpp); use edgepack.engines.litert_native.
def litert_load_library(hint_dir: str = "") -> str: ...

class LiteRtModel:
    def __init__(self, path: str, threads: int = 1, lib_dir: str = "") -> None: ...
    @property
    def inputs(self) -> list[dict]: ...
    @property
    def outputs(self) -> list[dict]: ...
    @property
    def library_path(self) -> str: ...
    @property
    def threads(self) -> int: ...
    @property
    def closed(self) -> bool: ...
    def run(self, inputs: Sequence[np.ndarray]) -> list[np.ndarray]: ...
    def close(self) -> None: ...


# Vulkan (cpp/src/vulkan/); use edgepack.kernels.vulkan_info(), vulkan_devices(), device="vulkan".
def vulkan_built() -> bool: ...
def vulkan_available() -> bool: ...
def vulkan_note() -> str: ...
def vulkan_devices() -> list[dict[str, Any]]: ...
def last_device() -> str: ...


# Post-processing (cpp/include/edgepack/postprocess.h); use edgepack.kernels.topk(), decode_yolo(), ...
def softmax(
    logits: npt.NDArray[np.float32], *, out: npt.NDArray[np.float32] | None = None, isa: str | None = None
) -> npt.NDArray[np.float32]: ...
def topk(
    logits: npt.NDArray[np.float32], k: int, *, softmax: bool = True, isa: str | None = None
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int32]]: ...
def nms(
    boxes: npt.NDArray[np.float32],
    scores: npt.NDArray[np.float32],
    iou_threshold: float,
    *,
    class_ids: npt.NDArray[np.int32] | None = None,
    score_threshold: float = ...,
    max_detections: int = 0,
) -> npt.NDArray[np.int32]: ...
def decode_yolo(
    out: npt.NDArray[np.float32],
    *,
    attrs_first: bool,
    xyxy: bool,
    has_objectness: bool,
    score_threshold: float,
    iou_threshold: float,
    max_detections: int,
    class_agnostic: bool,
    letterbox: tuple[float, float, float, float],
    source_size: tuple[float, float],
    isa: str | None = None,
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], npt.NDArray[np.int32]]: ...
def seg_argmax(
    logits: npt.NDArray[np.float32],
    *,
    out_size: tuple[int, int] | None = None,
    letterbox: tuple[float, float, float, float] | None = None,
    out: npt.NDArray[np.uint8] | None = None,
    isa: str | None = None,
) -> npt.NDArray[np.uint8]: ...
def abs_max(x: npt.NDArray[np.float32], *, isa: str | None = None) -> float: ...
def histogram_accumulate(
    x: npt.NDArray[np.float32],
    max_value: float,
    bins: npt.NDArray[np.int64],
    *,
    ignore_zeros: bool = False,
    isa: str | None = None,
) -> None: ...

class LiteRtPipeline:
    def __init__(
        self,
        model: LiteRtModel,
        input: int = 0,
        *,
        post: str = "none",
        output: int = 0,
        k: int = 5,
        softmax: bool = True,
        yolo_layout: str = "attrs_first",
        box_format: str = "cxcywh",
        has_objectness: bool = False,
        score_threshold: float = 0.25,
        iou_threshold: float = 0.45,
        max_detections: int = 300,
        class_agnostic: bool = False,
    ) -> None: ...
    def run(
        self,
        planes: Sequence[np.ndarray],
        format: str,
        width: int,
        height: int,
        out_w: int,
        out_h: int,
        *,
        mode: str,
        interp: str,
        pad: Sequence[int],
        mean: Sequence[float],
        std: Sequence[float],
        rotate: int,
        mirror: bool,
        crop: tuple[int, int, int, int] | None,
        color: str,
        layout: str,
        dtype: str,
        q_scale: float,
        zero_point: int,
    ) -> dict: ...
