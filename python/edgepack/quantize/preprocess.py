"""The preprocessing spec: how an image file becomes a model input tensor. Used to load calibration and
evaluation images, given to MNN's quantizer, and meant to be stored in bundles (issue 6 imports it).

    x = (pixel[color order] - mean) / std, resized to `size` by `resize`, laid out NCHW or NHWC, float32."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from edgepack.errors import InputError

RESIZE_MODES = ("stretch", "letterbox", "center_crop")
COLORS = ("RGB", "BGR", "GRAY")
LAYOUTS = ("NCHW", "NHWC")


@dataclass
class PreprocessSpec:
    size: tuple[int, int] = (224, 224)  # (height, width)
    resize: str = "stretch"  # stretch | letterbox (keep aspect, pad with `pad_value`) | center_crop
    mean: list[float] = field(default_factory=lambda: [0.0])  # one value = the same for every channel
    std: list[float] = field(default_factory=lambda: [255.0])
    color: str = "RGB"
    layout: str = "NCHW"
    pad_value: int = 114

    def __post_init__(self) -> None:
        self.size = (int(self.size[0]), int(self.size[1]))
        if self.resize not in RESIZE_MODES:
            raise InputError(f"unknown resize mode '{self.resize}'; choose from {', '.join(RESIZE_MODES)}")
        if self.color not in COLORS:
            raise InputError(f"unknown color order '{self.color}'; choose from {', '.join(COLORS)}")
        if self.layout not in LAYOUTS:
            raise InputError(f"unknown layout '{self.layout}'; choose from {', '.join(LAYOUTS)}")
        ch = self.channels
        self.mean = [float(v) for v in (self.mean if len(self.mean) != 1 else self.mean * ch)]
        self.std = [float(v) for v in (self.std if len(self.std) != 1 else self.std * ch)]
        if len(self.mean) != ch or len(self.std) != ch:
            raise InputError(f"mean/std need {ch} values for color order {self.color}, got {len(self.mean)}/"
                             f"{len(self.std)}")
        if any(s == 0 for s in self.std):
            raise InputError("std values must be non-zero")

    @property
    def channels(self) -> int:
        return 1 if self.color == "GRAY" else 3

    def to_dict(self) -> dict:
        d = asdict(self)
        d["size"] = list(self.size)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> PreprocessSpec:
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})

    @classmethod
    def for_input(cls, shape: list[int], **overrides) -> PreprocessSpec:
        """A spec matching a 4-D image input shape (NCHW if dim 1 is 1 or 3, else NHWC)."""
        if len(shape) != 4:
            raise InputError(f"image calibration needs a 4-D image input, the model's input has shape {shape}; "
                             "pass tensors with --calib FILE.npz instead")
        layout = overrides.pop("layout", None) or ("NCHW" if shape[1] in (1, 3) else "NHWC")
        h, w, c = (shape[2], shape[3], shape[1]) if layout == "NCHW" else (shape[1], shape[2], shape[3])
        if c not in (1, 3):
            raise InputError(f"the model's input has {c} channels (shape {shape}); images give 1 (GRAY) or 3 "
                             "(RGB/BGR); pass tensors with --calib FILE.npz instead")
        color = overrides.pop("color", None) or ("GRAY" if c == 1 else "RGB")
        spec = cls(size=(h, w), layout=layout, color=color, **overrides)
        if spec.channels != c:
            raise InputError(f"color order {spec.color} gives {spec.channels} channels, the model's input has {c} "
                             f"(shape {shape}); use --color {'GRAY' if c == 1 else 'RGB'}")
        return spec

    def load(self, path: str | Path) -> np.ndarray:
        """One image file -> float32 tensor [1, C, H, W] or [1, H, W, C]."""
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(path) as im:
                im = im.convert("L" if self.color == "GRAY" else "RGB")
                im = self._resize(im)
                pix = np.asarray(im, dtype=np.float32)
        except (UnidentifiedImageError, OSError, ValueError) as e:
            raise InputError(f"cannot read image '{path}' ({e}); remove it or replace it with a valid jpg/png") from e
        return self.normalize(pix)

    def normalize(self, pix: np.ndarray) -> np.ndarray:
        """HxW (gray) or HxWx3 RGB pixels (uint8 or float) at the target size -> the model tensor."""
        pix = np.asarray(pix, dtype=np.float32)
        if pix.ndim == 2:
            pix = pix[:, :, None]
        if self.color == "BGR":
            pix = pix[:, :, ::-1]
        x = (pix - np.float32(self.mean)) / np.float32(self.std)
        if self.layout == "NCHW":
            x = x.transpose(2, 0, 1)
        return np.ascontiguousarray(x[None], dtype=np.float32)

    def _resize(self, im):
        from PIL import Image

        h, w = self.size
        if self.resize == "stretch":
            return im.resize((w, h), Image.BILINEAR)
        sw, sh = im.size
        if self.resize == "center_crop":
            s = max(w / sw, h / sh)
            im = im.resize((max(w, round(sw * s)), max(h, round(sh * s))), Image.BILINEAR)
            left, top = (im.size[0] - w) // 2, (im.size[1] - h) // 2
            return im.crop((left, top, left + w, top + h))
        s = min(w / sw, h / sh)
        nw, nh = max(1, round(sw * s)), max(1, round(sh * s))
        canvas = Image.new(im.mode, (w, h), self.pad_value if im.mode == "L" else (self.pad_value,) * 3)
        canvas.paste(im.resize((nw, nh), Image.BILINEAR), ((w - nw) // 2, (h - nh) // 2))
        return canvas
