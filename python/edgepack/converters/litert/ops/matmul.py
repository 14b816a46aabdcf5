"""MatMul -> FULLY_CONNECTED (keep_num_dims) when B is a constant matrix, else BATCH_MATMUL (broadcasting
batch dims). 1-D operands are reshaped to matrices as numpy does."""

from __future__ import annotations

import numpy as np

from edgepack.converters.litert.lower import Context, lowers


@lowers("MatMul")
def matmul(ctx: Context, node) -> None:
    sa, sb = ctx.shape(node.inputs[0]), ctx.shape(node.inputs[1])
    out_shape = ctx.shape(node.outputs[0])
    a = ctx.t(node.inputs[0])
    out = ctx.out()
    if len(sa) == 1:
        a = ctx.reshape(a, [1, sa[0]])
    bval = ctx.value(node.inputs[1])
    if bval is not None and bval.ndim == 2 and len(sa) >= 1:
        w = np.ascontiguousarray(bval.T.astype(np.float32))
        full = ctx.tshape(a)[:-1] + [w.shape[0]]
        y = out if full == out_shape else ctx.temp(full, np.float32, "fc")
        ctx.op("FULLY_CONNECTED", [a, ctx.const(w, hint="weight"), -1], [y], "FullyConnectedOptions",
               keepNumDims=True)
        if y != out:
            ctx.reshape(y, out_shape, out)
        return
    b = ctx.t(node.inputs[1])
    if len(sb) == 1:
        b = ctx.reshape(b, [sb[0], 1])
    sa2, sb2 = ctx.tshape(a), ctx.tshape(b)
    batch = list(np.broadcast_shapes(tuple(sa2[:-2]), tuple(sb2[:-2])))
    full = batch + [sa2[-2], sb2[-1]]
    y = out if full == out_shape else ctx.temp(full, np.float32, "matmul")
    ctx.op("BATCH_MATMUL", [a, b], [y], "BatchMatMulOptions")
    if y != out:
        ctx.reshape(y, out_shape, out)
