"""LiteRT through edgepack's C++ core (engine `litert-native`): the core opens libLiteRt.so from the installed
ai-edge-litert wheel with dlopen (or the file named by ``EDGEPACK_LITERT_LIB``) and runs the model with LiteRT's
CompiledModel C API on the CPU, with the GIL released. Outputs equal the Python Interpreter's (engine `litert`).

Thread-safety: one engine may be used from several threads; its runs are serialized (a LiteRT compiled model is
not re-entrant). Load one engine per thread to run in parallel.

Tensors are matched to ONNX names through the artifact's engine_name (tensor name or signature name), else the
ONNX name, else position. An artifact without inputs/outputs takes the model's own tensors."""

from __future__ import annotations

import importlib.util
import os
from typing import Any

import numpy as np

from edgepack.errors import EngineUnavailableError, InputError, ModelError
from edgepack.runtime.artifact import Artifact, TensorInfo
from edgepack.runtime.engines.base import Engine


def litert_library_dir() -> str:
    """The ai_edge_litert package directory (where the wheel keeps libLiteRt.so), or "" if it is not installed."""
    spec = importlib.util.find_spec("ai_edge_litert")
    if spec is None or not spec.submodule_search_locations:
        return ""
    return str(list(spec.submodule_search_locations)[0])


def _core_model_class() -> Any:
    try:
        from edgepack import _core
    except ImportError as e:
        raise EngineUnavailableError(
            "engine 'litert-native' needs edgepack's C++ core (edgepack._core), which is not built here; "
            "install edgepack from a wheel or run `pip install .` in a source checkout") from e
    return _core.LiteRtModel


def load_model(path: str | os.PathLike[str], threads: int = 1) -> Any:
    """A `_core.LiteRtModel` for a .tflite file (also used by the Pipeline)."""
    return _core_model_class()(str(path), int(threads), litert_library_dir())


class LiteRtNativeEngine(Engine):
    name = "litert-native"
    package = "ai-edge-litert"

    def _load(self, artifact: Artifact, threads: int, device: str) -> None:
        if device != "cpu":
            raise InputError(f"engine 'litert-native' runs on the CPU only, got device '{device}'; use device='cpu'")
        self._model = load_model(artifact.path("model"), threads)
        native_in, native_out = self._model.inputs, self._model.outputs
        if not self.inputs:
            self.inputs = [_info(d) for d in native_in]
        if not self.outputs:
            self.outputs = [_info(d) for d in native_out]
        self._in_pos = _match(self.inputs, native_in, "input")
        self._out_pos = _match(self.outputs, native_out, "output")
        self._native_in = native_in

    def _run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        arrays: list[np.ndarray] = [np.empty(0)] * len(self._native_in)
        for t in self.inputs:
            d = self._native_in[self._in_pos[t.name]]
            a = feeds[t.name]
            if a.size != int(np.prod(d["shape"], dtype=np.int64)):
                raise InputError(f"input '{t.name}' has {a.size} elements; the model's tensor '{d['name']}' has "
                                 f"shape {d['shape']}")
            arrays[self._in_pos[t.name]] = np.ascontiguousarray(a.reshape(d["shape"]), dtype=d["dtype"])
        outs = self._model.run(arrays)
        return {t.name: outs[self._out_pos[t.name]] for t in self.outputs}

    def close(self) -> None:
        model = getattr(self, "_model", None)
        if model is not None:
            model.close()


def _info(d: dict) -> TensorInfo:
    return TensorInfo(d["name"], list(d["shape"]), d["dtype"], d["name"])


def _match(tensors: list[TensorInfo], native: list[dict], kind: str) -> dict[str, int]:
    if len(tensors) != len(native):
        raise ModelError(f"the artifact lists {len(tensors)} {kind}(s) but the model has {len(native)} "
                         f"({[d['name'] for d in native]}); re-convert the model or fix the artifact's {kind}s")
    by_name: dict[str, int] = {}
    for i, d in enumerate(native):
        by_name.setdefault(d["name"], i)
        by_name.setdefault(d["signature_name"], i)
    out = {}
    for pos, t in enumerate(tensors):
        if t.engine_name and t.engine_name in by_name:
            out[t.name] = by_name[t.engine_name]
        elif t.name in by_name:
            out[t.name] = by_name[t.name]
        else:
            out[t.name] = pos
    if len(set(out.values())) != len(out):
        raise ModelError(f"the artifact's {kind}s {[t.name for t in tensors]} do not map one-to-one onto the "
                         f"model's {[d['name'] for d in native]}; fix the engine_name of each {kind}")
    return out
