"""LayerNormalization (no TFLite builtin): mean, centred square mean, RSQRT, scale and bias, over the axes
from `axis` to the end."""

from __future__ import annotations

import numpy as np

from edgepack.converters.litert.lower import Context, lowers


@lowers("LayerNormalization")
def layer_norm(ctx: Context, node) -> None:
    if any(node.outputs[1:]):
        raise ctx.unsupported("the Mean / InvStdDev outputs")
    shape = ctx.shape(node.inputs[0])
    rank = len(shape)
    axis = int(ctx.attr("axis", -1)) % rank
    axes = ctx.const(np.arange(axis, rank, dtype=np.int32), hint="axes")
    x = ctx.t(node.inputs[0])
    kept = shape[:axis] + [1] * (rank - axis)
    mean = ctx.temp(kept, np.float32, "mean")
    ctx.op("MEAN", [x, axes], [mean], "ReducerOptions", keepDims=True)
    d = ctx.binary("SUB", x, mean)
    var = ctx.temp(kept, np.float32, "var")
    ctx.op("MEAN", [ctx.binary("MUL", d, d), axes], [var], "ReducerOptions", keepDims=True)
    eps = ctx.const(np.array(ctx.attr("epsilon", 1e-5), np.float32), hint="eps")
    y = ctx.binary("MUL", d, ctx.unary("RSQRT", ctx.binary("ADD", var, eps)))
    has_bias = bool(ctx.input(2))
    y = ctx.binary("MUL", y, ctx.t(ctx.input(1)), None if has_bias else ctx.out())
    if has_bias:
        ctx.binary("ADD", y, ctx.t(ctx.input(2)), ctx.out())
