"""Split -> SPLIT (equal parts) or SPLIT_V (given sizes)."""

from __future__ import annotations

import numpy as np

from edgepack.converters.litert.lower import Context, lowers


@lowers("Split")
def split(ctx: Context, node) -> None:
    shape = ctx.shape(node.inputs[0])
    axis = int(ctx.attr("axis", 0)) % len(shape)
    sizes = [ctx.shape(o)[axis] for o in node.outputs]
    outs = [ctx.t(o) if o else ctx.temp([*shape[:axis], sizes[i], *shape[axis + 1:]], ctx.dtype(node.inputs[0]),
                                        "unused") for i, o in enumerate(node.outputs)]
    x = ctx.t(node.inputs[0])
    ax = ctx.const(np.array(axis, np.int32), hint="axis")
    if len(set(sizes)) == 1:
        ctx.op("SPLIT", [ax, x], outs, "SplitOptions", numSplits=len(outs))
    else:
        ctx.op("SPLIT_V", [x, ctx.const(np.array(sizes, np.int32), hint="sizes"), ax], outs, "SplitVOptions",
               numSplits=len(outs))
