"""Bounds for the numbers users pass (threads, runs, samples), checked at the API boundary.

An engine must never see a value it can crash on: ncnn and LiteRT segfault with threads=100000, MNN at
2**63. Every entry point (Engine.load, edgepack.load, bench, the CLI) goes through these checks, which raise
InputError with one line naming the valid range."""

from __future__ import annotations

import operator

from edgepack.errors import InputError

MAX_THREADS = 256  # far above any edge CPU; below what the engines' thread pools survive
MAX_RUNS = 1_000_000


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
