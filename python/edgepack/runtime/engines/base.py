"""The engine contract: load an artifact, describe its tensors by ONNX name, run, close."""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from edgepack.errors import InputError
from edgepack.runtime.artifact import Artifact, TensorInfo
from edgepack.runtime.limits import check_threads


class Engine(ABC):
    """One inference runtime. Subclasses set `name` and `package` (the PyPI distribution that provides it)
    and implement `_load`, `_run` and `close`. Tensors are always addressed by their ONNX names."""

    name: str = ""
    package: str = ""

    @classmethod
    def memory_roles(cls) -> frozenset[str]:
        """Artifact file roles this engine can load from a buffer (`Artifact.memory`) instead of a file.
        A bundle hands those over without writing them to disk."""
        return frozenset()

    def __init__(self) -> None:
        self.inputs: list[TensorInfo] = []
        self.outputs: list[TensorInfo] = []

    @classmethod
    def load(cls, artifact: Artifact, threads: int = 1, device: str = "cpu") -> Engine:
        eng = cls()
        eng.inputs = [TensorInfo(**vars(t)) for t in artifact.inputs]
        eng.outputs = [TensorInfo(**vars(t)) for t in artifact.outputs]
        eng._load(artifact, check_threads(threads), device)
        return eng

    @abstractmethod
    def _load(self, artifact: Artifact, threads: int, device: str) -> None: ...

    @abstractmethod
    def _run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]: ...

    def run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run once. `feeds` maps ONNX input names to arrays of the declared shape; returns ONNX output
        names to arrays in the ONNX shape."""
        checked = {}
        for t in self.inputs:
            if t.name not in feeds:
                raise InputError(f"missing input '{t.name}'; this model takes {[i.name for i in self.inputs]}")
            a = np.asarray(feeds[t.name])
            if list(a.shape) != list(t.shape):
                raise InputError(f"input '{t.name}' has shape {list(a.shape)}, expected {t.shape}")
            checked[t.name] = np.asarray(a, dtype=np.dtype(t.dtype), order="C")  # keeps 0-d inputs 0-d
        unknown = set(feeds) - {t.name for t in self.inputs}
        if unknown:
            raise InputError(f"unknown input(s) {sorted(unknown)}; this model takes {[i.name for i in self.inputs]}")
        out = self._run(checked)
        return {t.name: np.asarray(out[t.name]).reshape(t.shape) for t in self.outputs}

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release the runtime's resources."""

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
