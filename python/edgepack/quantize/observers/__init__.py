"""Activation observers: each turns a tensor's calibration statistics into a clipping threshold T, and the
int8 scale is 127 / T. One file per observer; adding one = a file + one line in OBSERVERS."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from edgepack.errors import InputError
from edgepack.quantize.stats import TensorStats

OBSERVERS: dict[str, str] = {
    "minmax": "edgepack.quantize.observers.minmax",
    "percentile": "edgepack.quantize.observers.percentile",
    "kl": "edgepack.quantize.observers.kl",
    "aciq": "edgepack.quantize.observers.aciq",
}


def get_observer(name: str) -> Callable[[TensorStats], float]:
    """`threshold(stats) -> float` of the observer named `name` (e.g. 'kl', 'percentile', 'percentile:99.9')."""
    base, _, arg = name.partition(":")
    if base not in OBSERVERS:
        raise InputError(f"unknown observer '{name}'; choose from {', '.join(OBSERVERS)}")
    mod = importlib.import_module(OBSERVERS[base])
    if arg:
        try:
            value = float(arg)
        except ValueError as e:
            raise InputError(f"observer '{name}': '{arg}' is not a number") from e
        return lambda s: mod.threshold(s, value)
    return mod.threshold


def needs_histogram(name: str) -> bool:
    return name.partition(":")[0] in ("kl", "percentile")
