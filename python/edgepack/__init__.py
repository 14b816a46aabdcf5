"""edgepack: convert, verify and pack ONNX models for edge devices, and run the bundles there.

Two halves: the runtime (``edgepack.runtime``: load, Session, kernels, engines, bundle reader) is what a
device installs (``pip install edgepack[ncnn]``); the toolchain (convert, quantize, verify, pack, ...) needs
``pip install edgepack[toolchain]`` and is imported only when used. `import edgepack` is cheap: engines, the
C++ core and the toolchain are imported only when used."""

from __future__ import annotations

import os as _os
import sys as _sys

__version__ = "0.1.0"

# No network, ever: the libraries edgepack drives must not phone home either. Set before any of them is
# imported (and inherited by the converter/engine child processes). onnxruntime >= 1.29 uploads 1DS telemetry
# from Linux unless ORT_DISABLE_TELEMETRY=1 is set before it initialises (disable_telemetry_events() does not
# stop the uploader, nor its $TMPDIR/.ses cache). tests/test_no_network.py runs the commands under a
# getaddrinfo/connect guard.
NO_PHONE_HOME = {"ORT_DISABLE_TELEMETRY": "1"}
_os.environ.update(NO_PHONE_HOME)
# OpenVINO's converter and nncf send usage events to Google Analytics through openvino_telemetry (seen:
# `edgepack demo` resolved www.google-analytics.com) and it has no switch but a consent file; both fall back to
# a no-op when the package cannot be imported, so it is made unimportable in every process that imports
# edgepack (unless something imported it first). runtime/engines/openvino.py's import_openvino does the same.
_sys.modules.setdefault("openvino_telemetry", None)  # type: ignore[arg-type]

from edgepack.errors import (  # noqa: E402
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
           "kernels", "load", "Session", "Frame", "Classification", "Detections", "Mask"]

_LAZY = {"load": ".runtime.session", "Session": ".runtime.session", "Frame": ".runtime.pipeline.results",
         "Classification": ".runtime.pipeline.results", "Detections": ".runtime.pipeline.results",
         "Mask": ".runtime.pipeline.results"}
_MODULES = {"kernels": ".runtime.kernels", "engines": ".runtime.engines"}  # public names of runtime modules


def __getattr__(name: str):
    if name == "convert":
        from edgepack.api import convert

        return convert
    if name in ("list_engines", "get_engine"):
        from edgepack.runtime import engines

        return getattr(engines, name)
    if name in _MODULES:
        import importlib

        return importlib.import_module(_MODULES[name], __name__)
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'edgepack' has no attribute '{name}'")
