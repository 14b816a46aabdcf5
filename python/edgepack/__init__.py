"""edgepack: convert, verify and pack ONNX models for ncnn, MNN and LiteRT on edge devices.

`import edgepack` is cheap: engines and the C++ core are imported only when used."""

from __future__ import annotations

__version__ = "0.1.0"

from .errors import (  # noqa: E402
    BundleError,
    ConversionError,
    EngineCrashError,
    EngineRunError,
    EngineUnavailableError,
    Error,
    InputError,
    ModelError,
    OutputError,
    UnsupportedOpError,
)

__all__ = ["Error", "BundleError", "InputError", "ModelError", "UnsupportedOpError", "ConversionError",
           "EngineUnavailableError", "EngineCrashError", "EngineRunError", "OutputError", "convert", "list_engines",
           "get_engine", "__version__",
           "load", "Session", "Frame", "Classification", "Detections", "Mask"]

_LAZY = {"load": ".session", "Session": ".session", "Frame": ".pipeline.results",
         "Classification": ".pipeline.results", "Detections": ".pipeline.results", "Mask": ".pipeline.results"}


def __getattr__(name: str):
    if name == "convert":
        from .api import convert

        return convert
    if name in ("list_engines", "get_engine"):
        from . import engines

        return getattr(engines, name)
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'edgepack' has no attribute '{name}'")
