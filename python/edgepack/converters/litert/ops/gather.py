"""Gather -> GATHER; constant indices are made non-negative and int32 at conversion time."""

from __future__ import annotations

import numpy as np

from edgepack.converters.litert.lower import Context, lowers


@lowers("Gather")
def gather(ctx: Context, node) -> None:
    shape = ctx.shape(node.inputs[0])
    axis = int(ctx.attr("axis", 0)) % len(shape)
    idx = ctx.value(node.inputs[1])
    if idx is not None:
        idx = np.where(idx < 0, idx + shape[axis], idx).astype(np.int32)
        ind = ctx.const(idx, hint="indices")
    else:
        ind = ctx.t(node.inputs[1])
    ctx.op("GATHER", [ctx.t(node.inputs[0]), ind], [ctx.out()], "GatherOptions", axis=axis)
