"""Bounds for the numbers users pass (threads, runs, samples), checked at the API boundary.

An engine must never see a value it can crash on: ncnn and LiteRT segfault with threads=100000, MNN at
2**63. Every entry point (Engine.load, edgepack.load, bench, the CLI) goes through these checks, which raise
InputError with one line naming the valid range."""

from __future__ import annotations

import operator

from edgepack.errors import InputError

MAX_THREADS = 256  # far above any edge CPU; below what the engines' thread pools survive
MAX_RUNS = 1_000_000
MAX_TENSOR_ELEMENTS = 2**28  # 1 GiB of float32 per input: beyond any edge model, below a MemoryError


def check_shape(shape: list[int], what: str) -> list[int]:
    """A tensor shape edgepack will allocate: positive dims, at most MAX_TENSOR_ELEMENTS elements."""
    n = 1
    for d in shape:
        if _as_int(d, what) <= 0:
            raise InputError(f"{what} {list(shape)} has a non-positive dimension; give positive sizes")
        n *= int(d)
    if n > MAX_TENSOR_ELEMENTS:
        raise InputError(f"{what} {list(shape)} has {n} elements, more than edgepack allocates "
                         f"({MAX_TENSOR_ELEMENTS}); give the size the model runs at on the device")
    return [int(d) for d in shape]


def _as_int(value: object, what: str) -> int:
    if isinstance(value, bool):
        raise InputError(f"{what} must be a whole number, got {value!r}")
    try:
        return operator.index(value)  # ints and numpy integers, not floats or strings
    except TypeError:
        pass
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        return int(value)
    raise InputError(f"{what} must be a whole number, got {value!r}")


def check_threads(value: object, what: str = "threads") -> int:
    n = _as_int(value, what)
    if not 1 <= n <= MAX_THREADS:
        raise InputError(f"{what}={n} is out of range; use 1..{MAX_THREADS} (a few per CPU core is plenty)")
    return n


def check_count(value: object, what: str, low: int = 1, high: int = MAX_RUNS) -> int:
    n = _as_int(value, what)
    if not low <= n <= high:
        raise InputError(f"{what}={n} is out of range; use {low}..{high}")
    return n
