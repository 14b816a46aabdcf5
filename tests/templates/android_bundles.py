"""Small classify / detect / segment bundles with LiteRT and ncnn artifacts, for the Android template tests,
and camera frames (NV21 and YUV_420_888 layouts with padded rows) built from an RGB scene."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from conftest import conv_relu_model
from edgepack.pack import PackOptions, pack
from test_session_tasks import seg_model, yolo_model

TASKS = ("classify", "detect", "segment")


def make_bundle(task: str, d: Path) -> Path:
    """A bundle of `task` with litert-fp32 and ncnn-fp32 artifacts (real converters, verified by pack)."""
    if task == "classify":
        model = conv_relu_model(d / "cls.onnx", size=16)
        opts = PackOptions(task="classify", labels=["ant", "bee", "cat", "dog", "eel"], output="logits",
                           mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375])
    elif task == "detect":
        model = yolo_model(d / "yolo.onnx")
        opts = PackOptions(task="detect", labels=["cat", "dog"], mean=[0.0], std=[255.0], resize="letterbox")
    else:
        model = seg_model(d / "seg.onnx")
        opts = PackOptions(task="segment", labels=["red", "green", "blue"], std=[255.0])
    return pack(model, d / f"{task}.edgepack", opts, to="tflite,ncnn", precision="fp32", bench_runs=0).path


def scene(task: str, w: int, h: int) -> np.ndarray:
    """An RGB (h, w, 3) uint8 scene the task's model reacts to: colour bands for segment, a dark/light split
    for detect (the toy YOLO's scores follow the image mean), texture for classify."""
    y, x = np.mgrid[0:h, 0:w]
    if task == "segment":
        img = np.zeros((h, w, 3), np.uint8)
        img[:, : w // 3] = (220, 30, 30)
        img[:, w // 3: 2 * w // 3] = (30, 220, 30)
        img[:, 2 * w // 3:] = (30, 30, 220)
        img[: h // 4] = (200, 40, 40)  # a band across the top so rotation and mirroring matter
        return img
    if task == "detect":
        img = np.full((h, w, 3), 170, np.uint8)
        img[:, : w // 3] = 40
        return img
    r = (x * 255 // max(1, w - 1)).astype(np.uint8)
    g = (y * 255 // max(1, h - 1)).astype(np.uint8)
    b = ((x * 7 + y * 13) % 256).astype(np.uint8)
    return np.stack([r, g, b], -1)


def rgb_to_nv21(img: np.ndarray) -> bytes:
    """BT.601 video-range RGB -> NV21 (w*h Y, then w*h/2 interleaved V,U); chroma averaged over 2x2."""
    f = img.astype(np.float64)
    r, g, b = f[..., 0], f[..., 1], f[..., 2]
    yy = 16 + 0.257 * r + 0.504 * g + 0.098 * b
    u = 128 - 0.148 * r - 0.291 * g + 0.439 * b
    v = 128 + 0.439 * r - 0.368 * g - 0.071 * b
    h, w = yy.shape
    sub = lambda c: c.reshape(h // 2, 2, w // 2, 2).mean((1, 3))  # noqa: E731
    vu = np.stack([sub(v), sub(u)], -1).reshape(h // 2, w)
    q = lambda a: np.clip(np.rint(a), 0, 255).astype(np.uint8)  # noqa: E731
    return q(yy).tobytes() + q(vu).tobytes()


def yuv420888(nv21: bytes, w: int, h: int, layout: str, pad: int = 24) -> tuple[bytes, dict]:
    """The NV21 frame laid out as a camera HAL would give YUV_420_888 planes, rows padded by `pad` bytes:
    layout 'nv21' (V then U interleaved in one buffer, pixel stride 2), 'nv12' (U first), 'i420' (planar,
    pixel stride 1) or 'separate2' (U and V in separate buffers, each with pixel stride 2). Returns the
    backing bytes and the plane offsets/lengths/strides (offsets into the backing bytes)."""
    y = np.frombuffer(nv21, np.uint8, w * h).reshape(h, w)
    vu = np.frombuffer(nv21, np.uint8, w * h // 2, w * h).reshape(h // 2, w // 2, 2)
    v, u = vu[..., 0], vu[..., 1]
    y_row = w + pad
    yb = np.zeros((h, y_row), np.uint8)
    yb[:, :w] = y
    ch = h // 2
    if layout in ("nv21", "nv12"):
        row = w + pad
        cb = np.zeros((ch, row), np.uint8)
        first, second = (v, u) if layout == "nv21" else (u, v)
        cb[:, 0:w:2], cb[:, 1:w:2] = first, second
        base = yb.size
        span = (ch - 1) * row + w - 1  # what the HAL reports: the plane stops at its last sample
        off_first, off_second = base, base + 1
        uo, vo = (off_second, off_first) if layout == "nv21" else (off_first, off_second)
        data = yb.tobytes() + cb.tobytes()
        return data, dict(y=(0, yb.size, y_row), u=(uo, span, row), v=(vo, span, row), pixel=2)
    if layout == "i420":
        row = w // 2 + pad // 2
        ub = np.zeros((ch, row), np.uint8)
        vb = np.zeros((ch, row), np.uint8)
        ub[:, : w // 2], vb[:, : w // 2] = u, v
        data = yb.tobytes() + ub.tobytes() + vb.tobytes()
        return data, dict(y=(0, yb.size, y_row), u=(yb.size, ub.size, row), v=(yb.size + ub.size, vb.size, row),
                          pixel=1)
    if layout == "separate2":
        row = w + pad
        ub = np.zeros((ch, row), np.uint8)
        vb = np.zeros((ch, row), np.uint8)
        ub[:, 0:w:2], vb[:, 0:w:2] = u, v
        gap = 64  # not adjacent: the native side must gather the samples itself
        data = yb.tobytes() + ub.tobytes() + bytes(gap) + vb.tobytes()
        return data, dict(y=(0, yb.size, y_row), u=(yb.size, ub.size, row),
                          v=(yb.size + ub.size + gap, vb.size, row), pixel=2)
    raise ValueError(layout)
