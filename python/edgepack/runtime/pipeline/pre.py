"""Session input -> model input tensor, through the C++ preprocess kernel (edgepack.runtime.kernels.preprocess):
colour conversion (incl. NV21/NV12), rotation, crop, resize/letterbox, mean/std, layout and dtype in one pass.
Accepts a uint8 HWC array (RGB or BGR, gray, RGBA), an image path or PIL image, or a Frame."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgepack.errors import InputError
from edgepack.runtime.pipeline.results import Frame
from edgepack.runtime.pipeline.spec import PreprocessSpec


@dataclass
class Prepared:
    tensor: np.ndarray       # the model input, batch dim included
    info: Any                # kernels PreprocessInfo (maps boxes back to source pixels), or None
    source_size: tuple[int, int]  # (width, height) of the source as given (before rotation)


def load_image(path: str | Path) -> np.ndarray:
    """Decode an image file to uint8 RGB HWC (Pillow decodes; everything after runs in the kernels)."""
    p = Path(path)
    if p.is_dir():
        raise InputError(f"image '{p}' is a directory; pass image files (e.g. {p}/*.jpg)")
    if not p.exists():
        raise InputError(f"image '{p}' not found; check the path")
    if not p.is_file():
        raise InputError(f"image '{p}' is not a regular file (a device or pipe); pass an image file")
    Image, UnidentifiedImageError = pillow()
    try:
        with Image.open(p) as im:
            w, h = im.size
            if w * h > MAX_IMAGE_PIXELS:  # checked from the header, before anything is decoded
                raise InputError(f"image '{p}' is {w}x{h} pixels, more than edgepack decodes "
                                 f"({MAX_IMAGE_PIXELS // 1_000_000} Mpx); downscale it first")
            return np.asarray(im.convert("RGB"))
    except Image.DecompressionBombError as e:
        raise InputError(f"image '{p}' is too large to decode safely ({e}); downscale it first") from e
    except InputError:
        raise
    except (UnidentifiedImageError, OSError, ValueError) as e:
        raise InputError(f"cannot read image '{p}' ({e}); pass a PNG/JPEG/BMP file or a uint8 array") from e
    except Exception as e:  # noqa: BLE001 - a decoder fed a damaged file raises anything (SyntaxError, struct...)
        raise InputError(f"cannot read image '{p}' ({type(e).__name__}: {e}); pass a PNG/JPEG/BMP file or a "
                         "uint8 array") from e


MAX_IMAGE_PIXELS = 64_000_000  # a 64 Mpx photo decodes to 192 MB of RGB; a decompression bomb claims far more


def pillow():
    """(PIL.Image, PIL.UnidentifiedImageError); Pillow is the runtime's optional image decoder."""
    try:
        from PIL import Image, UnidentifiedImageError
    except ModuleNotFoundError:
        raise InputError("decoding image files needs Pillow: pip install 'edgepack[images]' (or pass decoded "
                         "uint8 arrays / edgepack.Frame to Session.run)") from None
    return Image, UnidentifiedImageError


class Preprocessor:
    def __init__(self, spec: PreprocessSpec, input_shape: list[int], input_dtype: str) -> None:
        self.spec = spec
        self.shape = list(input_shape)
        self.dtype = np.dtype(input_dtype)
        from edgepack.runtime.kernels import preprocess

        self._kernel = preprocess
        if spec.dtype == "uint8" and (any(m != 0 for m in spec.mean) or any(s != 1 for s in spec.std)):
            raise InputError("a uint8 model input takes raw pixels: its preprocess spec must have mean 0 and std 1")

    def __call__(self, x: Any, color: str = "RGB") -> Prepared:
        src, fmt, w, h, rotate, mirror = self._source(x, color)
        s = self.spec
        crop = self._center_crop(w, h, rotate) if s.resize == "center_crop" else None
        tensor, info = self._kernel(
            src, format=fmt, out_size=(s.width, s.height), width=w if src.ndim == 1 else None,
            height=h if src.ndim == 1 else None, mode="letterbox" if s.resize == "letterbox" else "stretch",
            pad=s.pad_value, mean=s.per_channel("mean"), std=s.per_channel("std"), rotate=rotate, mirror=mirror,
            crop=crop, color=s.color.lower(), layout="chw" if s.layout == "NCHW" else "hwc", dtype=s.dtype)
        return Prepared(self._as_input(tensor), info, (w, h))

    def _source(self, x: Any, color: str) -> tuple[np.ndarray, str, int, int, int, bool]:
        if isinstance(x, Frame):
            return x.buffer(), x.format.lower(), x.width, x.height, x.rotation, bool(x.mirror)
        if isinstance(x, (str, Path)):
            x, color = load_image(x), "RGB"
        elif type(x).__module__.startswith("PIL."):
            x, color = np.asarray(x.convert("RGB")), "RGB"
        if not isinstance(x, np.ndarray):
            raise InputError(f"Session.run takes a uint8 image array (H, W, 3), an image path or an edgepack.Frame, "
                             f"got {type(x).__name__}")
        if x.dtype != np.uint8:
            raise InputError(f"image array must be uint8 (H, W, 3) pixels, got {x.dtype}; convert with "
                             "x.astype(np.uint8) if it holds 0..255 values")
        color = color.upper()
        if x.ndim == 2 or x.ndim == 3 and x.shape[2] == 1:
            fmt = "gray8"
        elif x.ndim == 3 and x.shape[2] == 3 and color in ("RGB", "BGR"):
            fmt = "rgb888" if color == "RGB" else "bgr888"
        elif x.ndim == 3 and x.shape[2] == 4 and color in ("RGB", "BGR", "RGBA", "BGRA"):
            fmt = "rgba8888" if color.startswith("RGB") else "bgra8888"
        else:
            raise InputError(f"image array of shape {x.shape} with color='{color}' is not supported; pass (H, W, 3) "
                             "with color='RGB' or 'BGR', (H, W) gray, or (H, W, 4) RGBA/BGRA")
        if x.shape[0] == 0 or x.shape[1] == 0:
            raise InputError(f"image array of shape {x.shape} is empty")
        return x, fmt, x.shape[1], x.shape[0], 0, False

    def _center_crop(self, w: int, h: int, rotate: int) -> tuple[int, int, int, int]:
        """The centred source region that, resized, equals resizing the shorter side to size/crop_fraction and
        cropping the centre (torchvision Resize + CenterCrop)."""
        s = self.spec
        ow, oh = (h, w) if rotate in (90, 270) else (w, h)  # upright source size
        scale = min(s.width, s.height) / s.crop_fraction / min(ow, oh)
        cw, ch = min(ow, round(s.width / scale)), min(oh, round(s.height / scale))
        if rotate in (90, 270):
            cw, ch = ch, cw
        return (w - cw) // 2, (h - ch) // 2, max(1, cw), max(1, ch)

    def _as_input(self, tensor: np.ndarray) -> np.ndarray:
        t = tensor.reshape(self.shape)
        return t if t.dtype == self.dtype else t.astype(self.dtype)
