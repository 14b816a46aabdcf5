"""LiteRT (PyPI `ai-edge-litert`; `tflite-runtime` accepted as a fallback) through the Interpreter API.
Tensors are matched to ONNX names through the artifact's engine_name, else by name, else by position."""

from __future__ import annotations

import numpy as np

from ..artifact import Artifact
from .base import Engine


def _interpreter_class():
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        from tflite_runtime.interpreter import Interpreter  # fallback runtime
    return Interpreter


class LiteRtEngine(Engine):
    name = "litert"
    package = "ai-edge-litert"

    def _load(self, artifact: Artifact, threads: int, device: str) -> None:
        Interpreter = _interpreter_class()
        self._it = Interpreter(model_path=str(artifact.path("model")), num_threads=threads)
        self._it.allocate_tensors()
        ins, outs = self._it.get_input_details(), self._it.get_output_details()
        self._in_idx = _match(self.inputs, ins)
        self._out_idx = _match(self.outputs, outs)

    def _run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        for t in self.inputs:  # reshape: np.ascontiguousarray turns a 0-d input into 1-d
            self._it.set_tensor(self._in_idx[t.name], feeds[t.name].reshape(t.shape))
        self._it.invoke()
        return {t.name: np.array(self._it.get_tensor(self._out_idx[t.name]), copy=True) for t in self.outputs}

    def close(self) -> None:
        self._it = None


def _match(tensors, details) -> dict[str, int]:
    by_name = {d["name"]: d["index"] for d in details}
    out = {}
    for pos, t in enumerate(tensors):
        if t.engine_name in by_name:
            out[t.name] = by_name[t.engine_name]
        elif t.name in by_name:
            out[t.name] = by_name[t.name]
        else:
            out[t.name] = details[pos]["index"]
    return out
