"""Reshape / Flatten / Squeeze / Unsqueeze: shapes are static after prepare, so each is a RESHAPE to the
output's known shape. Expand of a runtime tensor is BROADCAST_TO."""

from __future__ import annotations

import numpy as np

from edgepack.converters.litert.lower import Context, lowers


@lowers("Reshape", "Flatten", "Squeeze", "Unsqueeze")
def reshape(ctx: Context, node) -> None:
    ctx.reshape(ctx.t(node.inputs[0]), ctx.shape(node.outputs[0]), ctx.out())


@lowers("Expand")
def expand(ctx: Context, node) -> None:
    shape = ctx.shape(node.outputs[0])
    x = ctx.t(node.inputs[0])
    if ctx.tshape(x) == shape:
        ctx.reshape(x, shape, ctx.out())
        return
    ctx.op("BROADCAST_TO", [x, ctx.const(np.array(shape, np.int32), hint="shape")], [ctx.out()])
