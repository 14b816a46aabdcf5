"""GlobalAveragePool / GlobalMaxPool -> MEAN / REDUCE_MAX over the spatial axes, keeping dims."""

from __future__ import annotations

import numpy as np

from edgepack.converters.litert.lower import Context, lowers


@lowers("GlobalAveragePool", "GlobalMaxPool")
def global_pool(ctx: Context, node) -> None:
    rank = len(ctx.shape(node.inputs[0]))
    axes = [1, 2] if node.nhwc else list(range(2, rank))
    code = "MEAN" if node.op == "GlobalAveragePool" else "REDUCE_MAX"
    ctx.op(code, [ctx.t(node.inputs[0]), ctx.const(np.array(axes, np.int32), hint="axes")], [ctx.out()],
           "ReducerOptions", keepDims=True)
