"""Calibration / evaluation data: a folder of images or an .npz of tensors keyed by input name (first axis =
samples, or one sample with the input's exact shape). Images go through the bundle's PreprocessSpec and the
C++ preprocess kernel (`spec.apply`), so calibration sees exactly the tensors the device feeds."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgepack.errors import InputError
from edgepack.runtime.artifact import TensorInfo
from edgepack.runtime.pipeline.spec import PreprocessSpec

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
Feeds = list[dict[str, np.ndarray]]


def load_samples(source: str | Path, inputs: list[TensorInfo], spec: PreprocessSpec | dict | None = None,
                 limit: int | None = None, what: str = "calibration") -> Feeds:
    """Samples as a list of {input name: array of the input's shape}."""
    p = Path(source)
    if not p.exists():
        raise InputError(f"{what} data '{p}' not found; pass a folder of images or an .npz file")
    feeds = _from_dir(p, inputs, spec, limit, what) if p.is_dir() else _from_npz(p, inputs, limit, what)
    if not feeds:
        raise InputError(f"{what} data '{p}' holds no samples; add images (jpg/png) or tensors")
    return feeds


def _from_dir(d: Path, inputs: list[TensorInfo], spec: PreprocessSpec | dict | None, limit: int | None,
              what: str) -> Feeds:
    files = sorted(f for f in d.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise InputError(f"{what} folder '{d}' has no images ({', '.join(IMAGE_SUFFIXES)}); add some or pass "
                         "an .npz of tensors")
    if len(inputs) != 1:
        raise InputError(f"the model has {len(inputs)} inputs; image folders feed one, pass an .npz keyed by "
                         f"input name ({', '.join(t.name for t in inputs)})")
    t = inputs[0]
    spec = spec if isinstance(spec, PreprocessSpec) else image_spec(t, spec)
    expect = spec.input_shape()
    if [int(v) for v in t.shape] != expect:
        raise InputError(f"the preprocessing gives tensors of shape {expect} ({spec.color}, {spec.layout}), the "
                         f"model's input '{t.name}' has shape {t.shape}; fix the size/color/layout options")
    return [{t.name: _apply(spec, f, t)} for f in files[:limit]]


def image_spec(t: TensorInfo, overrides: dict | None = None) -> PreprocessSpec:
    """The PreprocessSpec for image calibration of input `t`: size and layout from its shape, the rest from
    `overrides` (mean, std, color, resize, pad_value, crop_fraction), defaults as in a bundle."""
    shape = [int(v) for v in t.shape]
    if len(shape) != 4:
        raise InputError(f"image calibration needs a 4-D image input, the model's input has shape {shape}; "
                         "pass tensors with --calib FILE.npz instead")
    if not {shape[1], shape[3]} & {1, 3}:
        raise InputError(f"the model's input has no channel dim of 1 or 3 (shape {shape}); images give 1 (GRAY) "
                         "or 3 (RGB/BGR); pass tensors with --calib FILE.npz instead")
    kw = dict(overrides or {})
    c = shape[1] if shape[1] in (1, 3) and shape[3] not in (1, 3) else shape[3]
    if kw.get("color") == "GRAY" and c == 3:
        raise InputError(f"color order GRAY gives 1 channels, the model's input has 3 (shape {shape}); use "
                         "--color RGB or BGR")
    return PreprocessSpec.for_input(t.name, shape, **kw)


def _apply(spec: PreprocessSpec, path: Path, t: TensorInfo) -> np.ndarray:
    x = spec.apply(path)
    return x if x.dtype == np.dtype(t.dtype) else x.astype(np.dtype(t.dtype))


def _from_npz(p: Path, inputs: list[TensorInfo], limit: int | None, what: str) -> Feeds:
    try:
        z = np.load(p, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise InputError(f"{what} file '{p}' is neither a folder nor a readable .npz ({e})") from e
    with z:
        missing = [t.name for t in inputs if t.name not in z.files]
        if missing:
            raise InputError(f"{what} file '{p}' lacks tensors for input(s) {missing}; it has {z.files}")
        arrays = {}
        for t in inputs:
            a = np.asarray(z[t.name])
            if list(a.shape) == list(t.shape):
                a = a[None]
            if list(a.shape[1:]) != list(t.shape):
                if a.ndim == len(t.shape) and a.shape[1:] == tuple(t.shape[1:]):
                    a = a[:, None]  # a stack of samples along the batch axis
                if list(a.shape[1:]) != [int(v) for v in t.shape]:
                    raise InputError(f"{what} tensors for '{t.name}' have shape {list(z[t.name].shape)}; expected "
                                     f"{t.shape} or [N, *{t.shape}] (channel count or size does not match)")
            arrays[t.name] = a.astype(np.dtype(t.dtype), copy=False)
    n = min(len(a) for a in arrays.values())
    n = n if limit is None else min(n, limit)
    return [{k: np.ascontiguousarray(v[i]) for k, v in arrays.items()} for i in range(n)]


def split(feeds: Feeds, eval_fraction: float = 0.2) -> tuple[Feeds, Feeds]:
    """Calibration / held-out split: every k-th sample goes to evaluation (deterministic, spread out)."""
    if len(feeds) < 2:
        return feeds, feeds
    k = max(2, round(1 / eval_fraction))
    ev = feeds[k - 1::k]
    cal = [f for i, f in enumerate(feeds) if i % k != k - 1]
    return cal, ev
