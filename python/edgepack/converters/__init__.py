"""Converter registry. Adding a converter = one file here + one line in CONVERTERS (keyed by target)."""

from __future__ import annotations

import importlib

from edgepack.converters.base import Converter
from edgepack.errors import InputError

CONVERTERS: dict[str, tuple[str, str]] = {
    "ncnn": ("edgepack.converters.ncnn", "PnnxConverter"),
    "mnn": ("edgepack.converters.mnn", "MnnConverter"),
    "tflite": ("edgepack.converters.litert", "LiteRtConverter"),
    "openvino": ("edgepack.converters.openvino", "OpenVinoConverter"),
}


def get_converter(target: str, options: dict | None = None) -> Converter:
    """The converter for `target`; `options` are that converter's keyword options (e.g. io_layout)."""
    if target not in CONVERTERS:
        raise InputError(f"unknown target '{target}'; choose from {', '.join(CONVERTERS)}")
    module, cls = CONVERTERS[target]
    return getattr(importlib.import_module(module), cls)(**(options or {}))


def targets() -> list[str]:
    return list(CONVERTERS)
