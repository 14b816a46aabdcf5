"""Softmax / LogSoftmax -> SOFTMAX / LOG_SOFTMAX, which work on the last axis: another axis is transposed
to the end and back; before opset 13 the input is flattened from `axis` (ONNX's old semantics)."""

from __future__ import annotations

import numpy as np

from edgepack.converters.litert.lower import Context, lowers


@lowers("Softmax", "LogSoftmax")
def softmax(ctx: Context, node) -> None:
    shape = ctx.shape(node.inputs[0])
    rank = len(shape)
    x, out = ctx.t(node.inputs[0]), ctx.out()
    code, opts = ("SOFTMAX", "SoftmaxOptions") if node.op == "Softmax" else ("LOG_SOFTMAX", "LogSoftmaxOptions")
    fields = {"beta": 1.0} if code == "SOFTMAX" else {}
    if ctx.graph.opset < 13:
        axis = int(ctx.attr("axis", 1)) % rank
        flat = [int(np.prod(shape[:axis])), int(np.prod(shape[axis:]))]
        y = ctx.temp(flat, np.float32, "flat")
        ctx.op(code, [ctx.reshape(x, flat)], [y], opts, **fields)
        ctx.reshape(y, shape, out)
        return
    axis = int(ctx.attr("axis", -1)) % rank
    if axis == rank - 1:
        ctx.op(code, [x], [out], opts, **fields)
        return
    perm = [a for a in range(rank) if a != axis] + [axis]
    xt = ctx.transpose(x, perm)
    y = ctx.temp(ctx.tshape(xt), np.float32, "softmax")
    ctx.op(code, [xt], [y], opts, **fields)
    inv = [perm.index(a) for a in range(rank)]
    ctx.transpose(y, inv, out)
