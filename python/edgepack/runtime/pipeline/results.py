"""Typed results of Session.run, and Frame, the camera-frame input (NV21/NV12 bytes + size + rotation)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from edgepack.errors import InputError


@dataclass(frozen=True)
class Frame:
    """A YUV 4:2:0 camera frame as Android delivers it: `data` holds width*height luma bytes followed by
    width*height/2 interleaved chroma bytes (NV21: V,U; NV12: U,V). `rotation` (clockwise degrees,
    0/90/180/270) turns the frame upright before inference; `mirror` then flips it horizontally (a front
    camera, as its preview shows it); results come back in the unrotated, unmirrored frame's pixels."""

    data: bytes | bytearray | memoryview | np.ndarray
    width: int
    height: int
    format: str = "NV21"
    rotation: int = 0
    mirror: bool = False

    def __post_init__(self) -> None:
        fmt = str(self.format).upper()
        object.__setattr__(self, "format", fmt)
        if fmt not in ("NV21", "NV12"):
            raise InputError(f"Frame format '{self.format}' is not supported; use NV21 or NV12")
        if self.rotation not in (0, 90, 180, 270):
            raise InputError(f"Frame rotation {self.rotation} must be 0, 90, 180 or 270 (clockwise degrees)")
        if self.width <= 0 or self.height <= 0 or self.width % 2 or self.height % 2:
            raise InputError(f"Frame size {self.width}x{self.height} must be positive and even (4:2:0 chroma)")
        need = self.width * self.height * 3 // 2
        if len(memoryview(self.data).cast("B")) < need:
            raise InputError(f"Frame {self.width}x{self.height} {fmt} needs {need} bytes, got "
                             f"{len(memoryview(self.data).cast('B'))}")

    def buffer(self) -> np.ndarray:
        """The frame as a 1-D uint8 array (no copy)."""
        return np.frombuffer(memoryview(self.data).cast("B"), dtype=np.uint8)


@dataclass
class Classification:
    """Top-k classes, best first. `labels` are the bundle's names for `class_ids` (the id as text if the
    bundle has no labels)."""

    class_ids: list[int]
    scores: list[float]
    labels: list[str]

    @property
    def top(self) -> tuple[str, float]:
        return self.labels[0], self.scores[0]

    def __str__(self) -> str:
        return ", ".join(f"{lab} {s:.3f}" for lab, s in zip(self.labels, self.scores))


@dataclass
class Detections:
    """Boxes in source-image pixels (x1, y1, x2, y2; float32, N x 4), scores (descending), class ids, labels."""

    boxes: np.ndarray
    scores: np.ndarray
    class_ids: np.ndarray
    labels: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.scores)

    def __iter__(self):
        for i in range(len(self)):
            yield self.labels[i], float(self.scores[i]), self.boxes[i].tolist()

    def __str__(self) -> str:
        if not len(self):
            return "no detections"
        return "; ".join(f"{lab} {s:.2f} [{', '.join(f'{v:.0f}' for v in b)}]" for lab, s, b in self)


@dataclass
class Mask:
    """Per-pixel class ids (uint8, H x W) in source-image pixels, and the bundle's labels."""

    mask: np.ndarray
    labels: list[str] = field(default_factory=list)

    def classes(self) -> dict[str, int]:
        """Pixels per class present in the mask."""
        ids, counts = np.unique(self.mask, return_counts=True)
        return {_label(self.labels, int(i)): int(c) for i, c in zip(ids, counts)}

    def __str__(self) -> str:
        h, w = self.mask.shape
        return f"mask {w}x{h}: " + ", ".join(f"{k} {v}" for k, v in sorted(self.classes().items(),
                                                                          key=lambda kv: -kv[1]))


def _label(labels: list[str], i: int) -> str:
    return labels[i] if 0 <= i < len(labels) else str(i)
