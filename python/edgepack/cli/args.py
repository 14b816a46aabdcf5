"""Parsing of CLI arguments shared by several commands."""

from __future__ import annotations


def parse_threads(value: str, what: str = "--threads") -> list[int]:
    """'1,2,4' -> [1, 2, 4]; every value within the bounds of runtime/limits.py (threads: 1..MAX_THREADS)."""
    from edgepack.errors import InputError
    from edgepack.runtime.limits import check_threads

    try:
        vals = [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        vals = []
    if not vals or any(v < 1 for v in vals):
        raise InputError(f"bad {what} '{value}'; give positive integers, e.g. 1,2")
    return list(dict.fromkeys(check_threads(v, what) for v in vals))
