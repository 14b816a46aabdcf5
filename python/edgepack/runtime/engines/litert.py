"""LiteRT (PyPI `ai-edge-litert`; `tflite-runtime` accepted as a fallback) through the Interpreter API.
Tensors are matched to ONNX names through the artifact's engine_name, else by name, else by position."""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import re
import sys

import numpy as np

from edgepack.errors import EngineUnavailableError
from edgepack.runtime.artifact import Artifact
from edgepack.runtime.engines.base import Engine

# (module with the Interpreter, its distribution), first preferred
_RUNTIMES = (("ai_edge_litert.interpreter", "ai-edge-litert"), ("tflite_runtime.interpreter", "tflite-runtime"))
_warned: set[str] = set()


def _interpreter_class():
    """ai-edge-litert's Interpreter, else tflite-runtime's. ai-edge-litert 2.x wheels are tagged manylinux_2_27
    but their .so files need GLIBC_2.34 and GLIBCXX_3.4.30, so pip installs them on older systems (Debian 11,
    Ubuntu 20.04 / JetPack 5) where they fail to load: that failure is an ImportError (or OSError) from the
    dynamic loader, caught here, reported in one line, and tflite-runtime is used if it is installed."""
    failures = []
    for module, dist in _RUNTIMES:
        if importlib.util.find_spec(module.split(".")[0]) is None:
            continue
        try:
            cls = importlib.import_module(module).Interpreter
        except (ImportError, OSError) as e:
            failures.append((dist, load_failure(dist, e)))
            continue
        for failed, why in failures:
            if failed not in _warned:  # once per process: a board loading many bundles says it once
                _warned.add(failed)
                print(f"edgepack: {why}; using {dist} instead", file=sys.stderr)
        return cls
    if failures:
        raise EngineUnavailableError("; ".join(why for _, why in failures) +
                                     "; install tflite-runtime (pip install tflite-runtime) or run on a newer OS")
    raise EngineUnavailableError("engine 'litert' is not installed; install it with: pip install ai-edge-litert "
                                 "(or tflite-runtime)")


def _built_for_numpy1(dist: str) -> bool:
    """tflite-runtime <= 2.14 (its last release) is compiled against numpy 1.x and cannot start under numpy 2."""
    if int(np.__version__.split(".")[0]) < 2:
        return False
    try:
        version = importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return False
    major, minor = (int(v) for v in re.findall(r"\d+", version)[:2])
    return (major, minor) <= (2, 14)


def runtime_failure(module: str, error: BaseException) -> str:
    """One line for an Interpreter that imported but cannot start: tflite-runtime 2.14 is built against numpy
    1.x and fails with numpy 2 ("numpy.core.multiarray failed to import" / "_ARRAY_API not found")."""
    dist = dict((m.split(".")[0], d) for m, d in _RUNTIMES).get(module, module)
    text = f"{error} {error.__cause__ or ''} {error.__context__ or ''}"
    if "multiarray failed to import" in text or "_ARRAY_API" in text:
        return (f"{dist} cannot run with numpy {np.__version__} (its wheel is built against numpy 1.x); install "
                f"'numpy<2' in this environment, or use a system where ai-edge-litert loads")
    return f"{dist} failed to start ({str(error).splitlines()[0][:300] if str(error) else type(error).__name__})"


def load_failure(dist: str, error: BaseException) -> str:
    """One line on why `dist` does not load here, naming the missing glibc / libstdc++ versions if that is
    the cause (the dynamic loader's "version `GLIBC_2.34' not found")."""
    text = str(error)
    missing = sorted(set(re.findall(r"(GLIBC(?:XX)?_[0-9.]+)'? not found", text)))
    if missing:
        return (f"{dist} cannot load on this system: its libraries need {', '.join(missing)}, which this "
                f"system's C/C++ runtime lacks (the wheel's manylinux tag claims less)")
    first = text.splitlines()[0] if text else type(error).__name__
    return f"{dist} failed to import ({first[:300]})"


class LiteRtEngine(Engine):
    name = "litert"
    package = "ai-edge-litert"

    @classmethod
    def memory_roles(cls) -> frozenset[str]:
        return frozenset({"model"})  # Interpreter(model_content=...): no file written on load

    def _load(self, artifact: Artifact, threads: int, device: str) -> None:
        Interpreter = _interpreter_class()
        module = Interpreter.__module__.split(".")[0]
        if module == "tflite_runtime" and _built_for_numpy1("tflite-runtime"):
            # refuse before its wrapper touches numpy's C API: numpy would print a multi-line traceback first
            raise EngineUnavailableError(runtime_failure(module, ImportError("_ARRAY_API not found")))
        try:
            if "model" in artifact.memory:
                self._content = bytes(artifact.memory["model"])  # the interpreter reads it for its whole life
                self._it = Interpreter(model_content=self._content, num_threads=threads)
            else:
                self._it = Interpreter(model_path=str(artifact.path("model")), num_threads=threads)
        except (ImportError, AttributeError, SystemError) as e:  # the wrapper .so imports numpy's C API on first use
            raise EngineUnavailableError(runtime_failure(Interpreter.__module__.split(".")[0], e)) from e
        self._it.allocate_tensors()
        ins, outs = self._it.get_input_details(), self._it.get_output_details()
        self._in_idx = _match(self.inputs, ins)
        self._out_idx = _match(self.outputs, outs)
        # int8 I/O (--litert-int8-io) under a float ONNX tensor: callers deal in float, so feeds are quantized
        # and results dequantized here with the model's scale / zero point
        info = {d["index"]: d for d in (*ins, *outs)}
        pairs = [*((t, self._in_idx[t.name]) for t in self.inputs), *((t, self._out_idx[t.name]) for t in self.outputs)]
        self._q = {i: info[i]["quantization"] for t, i in pairs
                   if info[i]["dtype"] == np.int8 and np.dtype(t.dtype).kind == "f"}

    def _run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        for t in self.inputs:  # reshape: np.ascontiguousarray turns a 0-d input into 1-d
            idx = self._in_idx[t.name]
            x = feeds[t.name].reshape(t.shape)
            if idx in self._q and x.dtype != np.int8:
                x = quantize_int8(x, self._q[idx])
            self._it.set_tensor(idx, x)
        self._it.invoke()
        out = {}
        for t in self.outputs:
            idx = self._out_idx[t.name]
            y = np.array(self._it.get_tensor(idx), copy=True)
            if idx in self._q:
                y = dequantize_int8(y, self._q[idx])
            out[t.name] = y
        return out

    def close(self) -> None:
        self._it = None
        self._content = None


def quantize_int8(x: np.ndarray, params: tuple[float, int]) -> np.ndarray:
    """TFLite's affine int8: round(x / scale) + zero_point, saturated."""
    scale, zp = params
    return np.clip(np.round(np.asarray(x, np.float64) / scale) + zp, -128, 127).astype(np.int8)


def dequantize_int8(y: np.ndarray, params: tuple[float, int]) -> np.ndarray:
    scale, zp = params
    return ((np.asarray(y, np.float32) - np.float32(zp)) * np.float32(scale)).astype(np.float32)


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
