"""``edgepack.runtime.kernels.preprocess``: camera frame or image -> model input tensor in one fused pass.

The C++ kernel (cpp/include/edgepack/preprocess.h holds the exact spec) converts colour (YUV 4:2:0 per
BT.601 video range, bit-identical to ``cv2.cvtColor(..., COLOR_YUV2RGB_NV21)``), crops, resamples
(fixed-point bilinear with half-pixel centres, or area averaging when shrinking by 2x or more),
rotates/mirrors, letterboxes, normalises and writes CHW/HWC float32/float16/uint8/int8, reading
the source in place and never building a full-size intermediate image. Every ISA gives identical bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from edgepack.runtime.kernels import DeviceName, IsaName, KernelArgumentError, _call, _core

PixelFormat = Literal["rgb888", "bgr888", "rgba8888", "bgra8888", "gray8", "nv21", "nv12", "i420"]
_PACKED = {"rgb888": 3, "bgr888": 3, "rgba8888": 4, "bgra8888": 4, "gray8": 1}
_YUV = ("nv21", "nv12", "i420")

__all__ = ["PreprocessInfo", "preprocess"]


@dataclass(frozen=True)
class PreprocessInfo:
    """Where the source went in the model input, and the inverse mapping for boxes and points.

    A model-input point (x, y) maps to the oriented image at ((x - pad_x) / scale_x, (y - pad_y) / scale_y),
    then back through the mirror and rotation to the crop, then + the crop origin to source pixels.
    Coordinates are continuous (pixel k spans [k, k + 1)).
    """

    src_size: tuple[int, int]  # (width, height) of the source frame
    crop: tuple[int, int, int, int]  # (x, y, width, height) in source pixels
    rotate: int  # clockwise degrees applied after the crop
    mirror: bool  # horizontal flip applied after the rotation
    oriented_size: tuple[int, int]  # crop size after rotation
    resized_size: tuple[int, int]  # size of the image area inside the output
    pad: tuple[int, int]  # (pad_x, pad_y): top-left of the image area inside the output
    out_size: tuple[int, int]  # (width, height) of the output
    scale: tuple[float, float]  # (scale_x, scale_y) = resized / oriented

    def map_points(self, pts: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
        """(N, 2) model-input points -> (N, 2) source pixel coordinates (float64)."""
        p = np.asarray(pts, dtype=np.float64).reshape(-1, 2)
        ox = (p[:, 0] - self.pad[0]) / self.scale[0]
        oy = (p[:, 1] - self.pad[1]) / self.scale[1]
        if self.mirror:
            ox = self.oriented_size[0] - ox
        cw, ch = self.crop[2], self.crop[3]
        cx, cy = {
            0: (ox, oy),
            90: (oy, ch - ox),
            180: (cw - ox, ch - oy),
            270: (cw - oy, ox),
        }[self.rotate]
        return np.stack([cx + self.crop[0], cy + self.crop[1]], axis=1)

    def map_boxes(self, boxes: np.ndarray | Sequence[Sequence[float]], clip: bool = False) -> np.ndarray:
        """(N, 4) model-input boxes (x1, y1, x2, y2) -> (N, 4) source-pixel boxes with x1 <= x2, y1 <= y2.

        ``clip=True`` clips them to the source frame.
        """
        b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        a = self.map_points(b[:, :2])
        c = self.map_points(b[:, 2:])
        out = np.concatenate([np.minimum(a, c), np.maximum(a, c)], axis=1)
        if clip:
            np.clip(out[:, 0::2], 0, self.src_size[0], out=out[:, 0::2])
            np.clip(out[:, 1::2], 0, self.src_size[1], out=out[:, 1::2])
        return out


def _bad(msg: str) -> KernelArgumentError:
    return KernelArgumentError(f"preprocess: {msg}")


def _yuv_planes(
    src: np.ndarray | Sequence[np.ndarray], fmt: str, width: int | None, height: int | None
) -> tuple[list[np.ndarray], int, int]:
    """Views (no copies) of the Y and chroma planes of a 4:2:0 frame."""
    if isinstance(src, (list, tuple)):
        planes = list(src)
        want = 3 if fmt == "i420" else 2
        if len(planes) != want:
            raise _bad(f"{fmt} as separate planes needs {want} arrays, got {len(planes)}")
        y = planes[0]
        if not isinstance(y, np.ndarray) or y.ndim != 2:
            raise _bad(f"{fmt} plane 0 (Y) must be a 2-D uint8 array (height, width)")
        return planes, width or y.shape[1], height or y.shape[0]
    if not isinstance(src, np.ndarray):
        raise _bad(f"{fmt} source must be a uint8 numpy array or a tuple of planes, got {type(src).__name__}")
    if src.ndim == 1:
        if width is None or height is None:
            raise _bad(f"a 1-D {fmt} buffer needs width= and height=")
        if width <= 0 or height <= 0 or width % 2 or height % 2:
            raise _bad(f"{fmt} needs a positive, even width and height, got {width}x{height}")
        need = width * height * 3 // 2
        if src.size < need:
            raise _bad(f"{fmt} {width}x{height} needs {need} bytes (width * height * 3 / 2), got {src.size}")
        if src.strides[0] != 1:
            raise _bad(f"a 1-D {fmt} buffer must be contiguous; use np.ascontiguousarray")
        flat = src
    elif src.ndim == 2:
        rows, width2 = src.shape
        if rows % 3:
            raise _bad(f"a 2-D {fmt} frame has shape (height * 3 / 2, width); got {src.shape} ({rows} rows is not "
                       "a multiple of 3)")
        h2 = rows // 3 * 2
        if (width is not None and width != width2) or (height is not None and height != h2):
            raise _bad(f"width/height {width}x{height} disagree with the frame shape {src.shape} "
                       f"(expected ({height and height * 3 // 2}, {width}))")
        width, height = width2, h2
        if width % 2 or height % 2:
            raise _bad(f"{fmt} needs an even width and height (4:2:0 chroma), got {width}x{height}")
        if fmt != "i420":
            return [src[:height], src[height:]], width, height
        if not src.flags.c_contiguous:
            raise _bad("a 2-D i420 frame must be C-contiguous (its U and V planes are packed); pass (y, u, v) "
                       "planes for padded rows")
        flat = src.reshape(-1)
    else:
        raise _bad(f"{fmt} source must be 1-D (bytes), 2-D (height * 3 / 2, width) or a tuple of planes, "
                   f"got shape {src.shape}")
    if flat.dtype != np.uint8:
        raise _bad(f"{fmt} source must be uint8, got {flat.dtype}")
    ysz = width * height
    y = flat[:ysz].reshape(height, width)
    if fmt == "i420":
        q = ysz // 4
        u = flat[ysz:ysz + q].reshape(height // 2, width // 2)
        v = flat[ysz + q:ysz + 2 * q].reshape(height // 2, width // 2)
        return [y, u, v], width, height
    return [y, flat[ysz:ysz + ysz // 2].reshape(height // 2, width)], width, height


def _floats(name: str, v: float | Sequence[float] | np.ndarray) -> list[float]:
    try:
        arr = np.asarray(v, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise _bad(f"{name} must be a number or a sequence of numbers, got {v!r}") from None
    return [float(x) for x in arr]


def source_planes(
    src: np.ndarray | Sequence[np.ndarray], fmt: str, width: int | None, height: int | None
) -> tuple[list[np.ndarray], int, int]:
    """The source as the C++ core takes it: ``(planes, width, height)`` (also used by the native pipeline)."""
    if fmt in _PACKED:
        if not isinstance(src, np.ndarray):
            raise _bad(f"{fmt} source must be a uint8 numpy array, got {type(src).__name__}")
        ch = _PACKED[fmt]
        ok_shape = src.ndim == 3 and src.shape[2] == ch or (ch == 1 and src.ndim == 2)
        if not ok_shape:
            want = "(H, W) or (H, W, 1)" if ch == 1 else f"(H, W, {ch})"
            raise _bad(f"{fmt} source must be a uint8 array of shape {want}, got {src.dtype} {src.shape}")
        if (width is not None and width != src.shape[1]) or (height is not None and height != src.shape[0]):
            raise _bad(f"width/height {width}x{height} disagree with the image shape {src.shape}")
        return [src], src.shape[1], src.shape[0]
    if fmt in _YUV:
        return _yuv_planes(src, fmt, width, height)
    raise _bad(f"format must be one of {', '.join([*_PACKED, *_YUV])}, got {fmt!r}")


def info_from_dict(d: dict) -> PreprocessInfo:
    """PreprocessInfo from the dict the C++ core returns."""
    return PreprocessInfo(
        src_size=(d["src_width"], d["src_height"]), crop=tuple(d["crop"]), rotate=d["rotate"], mirror=d["mirror"],
        oriented_size=tuple(d["oriented_size"]), resized_size=tuple(d["resized_size"]), pad=tuple(d["pad"]),
        out_size=tuple(d["out_size"]), scale=tuple(d["scale"]),
    )


def preprocess(
    src: np.ndarray | Sequence[np.ndarray],
    *,
    format: PixelFormat,
    out_size: tuple[int, int],
    width: int | None = None,
    height: int | None = None,
    mode: Literal["stretch", "letterbox"] = "stretch",
    interp: Literal["auto", "bilinear", "area"] = "auto",
    pad: int | Sequence[int] = 114,
    mean: float | Sequence[float] = 0.0,
    std: float | Sequence[float] = 1.0,
    rotate: Literal[0, 90, 180, 270] = 0,
    mirror: bool = False,
    crop: tuple[int, int, int, int] | None = None,
    color: Literal["rgb", "bgr", "gray"] = "rgb",
    layout: Literal["chw", "hwc"] = "chw",
    dtype: Literal["float32", "float16", "uint8", "int8"] = "float32",
    scale: float | None = None,
    zero_point: int | None = None,
    out: np.ndarray | None = None,
    isa: IsaName | None = None,
    device: DeviceName = "cpu",
) -> tuple[np.ndarray, PreprocessInfo]:
    """Source frame -> model input in one pass; returns ``(tensor, info)``.

    ``src``: packed formats (rgb888, bgr888, rgba8888, bgra8888, gray8) take an (H, W, C) or (H, W)
    uint8 array whose rows may be padded (e.g. a slice of a larger image). YUV 4:2:0 (nv21, nv12,
    i420) take a (H * 3 / 2, W) frame (OpenCV's layout), a 1-D buffer with ``width``/``height``, or a
    tuple of planes ``(y, vu)`` / ``(y, uv)`` / ``(y, u, v)`` with their own row strides (Android
    ``Image.getPlanes()``). Width and height must be even for YUV.

    Order of operations: ``crop`` (x, y, w, h in source pixels) -> resample -> ``rotate`` (clockwise)
    -> ``mirror`` -> place in ``out_size`` (w, h): ``stretch`` fills it, ``letterbox`` keeps the aspect
    ratio, centres the image and fills the bars with ``pad`` (pixel values, one or per channel).
    ``interp``: "auto" = area averaging on an axis shrunk by 2x or more, bilinear otherwise.
    Values: ``(pixel - mean[c]) / std[c]`` per output channel (``color`` picks rgb, bgr or gray), then
    ``dtype``; uint8/int8 need ``scale`` (and ``zero_point``): ``q = clamp(rint(x / scale) + zp)``.
    ``out``: a C-contiguous array of shape (C, H, W) or (H, W, C) and ``dtype`` to write into.
    ``info.map_boxes(boxes)`` maps detections back to source pixels.
    ``device="vulkan"``: the compute shader, bit-identical to the CPU paths for every option; without a
    Vulkan device it runs on the CPU after one warning line (see ``kernels.vulkan_info()``).
    """
    fmt = str(format).lower()
    planes, w, h = source_planes(src, fmt, width, height)
    try:
        ow, oh = (int(v) for v in out_size)
    except (TypeError, ValueError):
        raise _bad(f"out_size must be (width, height), got {out_size!r}") from None
    pads = [int(v) for v in np.asarray(pad).reshape(-1)]
    if len(pads) == 1:
        pads *= 3
    if len(pads) != 3 and not (color == "gray" and len(pads) == 1):
        raise _bad(f"pad must be one value or one per channel, got {pad!r}")
    quant = dtype in ("uint8", "int8")
    if quant and scale is None and not (np.all(np.asarray(mean) == 0) and np.all(np.asarray(std) == 1)):
        raise _bad(f"dtype={dtype} with mean/std needs scale= (and zero_point=): q = clamp(rint(x / scale) + zp)")
    if not quant and (scale is not None or zero_point is not None):
        raise _bad(f"scale/zero_point apply to uint8/int8 outputs only, not {dtype}")
    crop_t = None if crop is None else tuple(int(v) for v in crop)
    if crop_t is not None and len(crop_t) != 4:
        raise _bad(f"crop must be (x, y, width, height), got {crop!r}")
    arr, d = _call(
        _core().preprocess, planes, fmt, int(w), int(h), ow, oh,
        mode=mode, interp=interp, pad=pads, mean=_floats("mean", mean), std=_floats("std", std),
        rotate=int(rotate), mirror=bool(mirror), crop=crop_t, color=color, layout=layout, dtype=dtype,
        q_scale=1.0 if scale is None else float(scale), zero_point=0 if zero_point is None else int(zero_point),
        out=out, isa=isa, device=device,
    )
    return arr, info_from_dict(d)
