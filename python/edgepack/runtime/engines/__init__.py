"""Engine registry. Engines are imported lazily: a missing engine package shows as unavailable, never as an
ImportError at `import edgepack`. Adding an engine = one file here + one line in ENGINES."""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
from dataclasses import dataclass

from edgepack.errors import EngineUnavailableError

# name -> (module, class, distribution on PyPI, importable module that must exist). The importable module may
# list alternatives separated by "|", first preferred: LiteRT runs on ai-edge-litert or on tflite-runtime (the
# one with wheels for Python <= 3.11 on glibc < 2.34, where ai-edge-litert's wheels do not load).
_P = "edgepack.runtime.engines."
ENGINES: dict[str, tuple[str, str, str, str]] = {
    "onnxruntime": (_P + "onnxruntime", "OnnxRuntimeEngine", "onnxruntime", "onnxruntime"),
    "ncnn": (_P + "ncnn", "NcnnEngine", "ncnn", "ncnn"),
    "mnn": (_P + "mnn", "MnnEngine", "mnn", "MNN"),
    "litert": (_P + "litert", "LiteRtEngine", "ai-edge-litert", "ai_edge_litert|tflite_runtime"),
    "litert-native": (_P + "litert_native", "LiteRtNativeEngine", "ai-edge-litert", "ai_edge_litert"),
    "openvino": (_P + "openvino", "OpenVinoEngine", "openvino", "openvino"),
}


@dataclass
class EngineStatus:
    name: str
    package: str
    installed: bool
    version: str


def module_present(mod: str) -> bool:
    """The module can be found (not imported). A finder that refuses it (ImportError) counts as absent."""
    try:
        return importlib.util.find_spec(mod) is not None
    except (ImportError, ValueError):
        return False


# importable module -> its distribution, for alternatives that are not the registry's main distribution
_DISTRIBUTIONS = {"tflite_runtime": "tflite-runtime"}


def provider(name: str) -> str | None:
    """The first importable module that provides engine `name` (find_spec only: nothing is imported)."""
    for mod in _entry(name)[3].split("|"):
        if module_present(mod):
            return mod
    return None


def engine_status(name: str) -> EngineStatus:
    _, _, dist, _ = _entry(name)
    mod = provider(name)
    installed = mod is not None
    version = ""
    if installed:
        dist = _DISTRIBUTIONS.get(mod, dist)
        try:
            version = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            version = "unknown"
    return EngineStatus(name, dist, installed, version)


def list_engines() -> list[EngineStatus]:
    return [engine_status(n) for n in ENGINES]


def get_engine(name: str) -> type:
    """The Engine class registered as `name`; EngineUnavailableError if its package is missing."""
    module, cls, dist, _ = _entry(name)
    st = engine_status(name)
    if not st.installed:
        raise EngineUnavailableError(f"engine '{name}' is not installed; install it with: pip install {dist}")
    try:
        return getattr(importlib.import_module(module), cls)
    except ImportError as e:
        raise EngineUnavailableError(f"engine '{name}' failed to import ({e}); reinstall with: "
                                     f"pip install --force-reinstall {dist}") from e


def _entry(name: str) -> tuple[str, str, str, str]:
    if name not in ENGINES:
        raise EngineUnavailableError(f"unknown engine '{name}'; choose from {', '.join(ENGINES)}")
    return ENGINES[name]
