"""The bundled demo: a digits classifier trained by tools/train_demo.py on scikit-learn's digits."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np


@dataclass
class DemoData:
    model: Path
    images: np.ndarray  # uint8 [N, H, W, 3] RGB
    labels: np.ndarray  # int64 [N]
    spec: dict


def load_demo() -> DemoData:
    base = Path(str(resources.files(__package__)))
    spec = json.loads((base / "digits.json").read_text())
    with np.load(base / "digits_heldout.npz") as z:
        images, labels = z["images"], z["labels"]
    return DemoData(base / "digits.onnx", images, labels, spec)


def preprocess(images: np.ndarray, mean: list[float], std: list[float]) -> np.ndarray:
    """uint8 NHWC RGB -> float32 NCHW normalised, with the C++ kernel (numpy if the core is absent)."""
    try:
        from edgepack.runtime.kernels import normalize
    except ImportError:
        normalize = None
    if normalize is not None:
        return np.stack([normalize(img, mean, std) for img in images])
    x = (images.astype(np.float32) - np.float32(mean)) * (np.float32(1.0) / np.float32(std))
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))
