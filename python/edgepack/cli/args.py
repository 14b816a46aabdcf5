"""Parsing of CLI arguments shared by several commands."""

from __future__ import annotations


def int_list(value: str, what: str) -> list[int]:
    from edgepack.errors import InputError

    try:
        vals = [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        vals = []
    if not vals or any(v < 1 for v in vals):
        raise InputError(f"bad {what} '{value}'; give positive integers, e.g. 1,2")
    return list(dict.fromkeys(vals))
