"""Gemm -> FULLY_CONNECTED when B is constant (alpha folded into the weights, beta*C into the bias), else
BATCH_MATMUL + MUL + ADD."""

from __future__ import annotations

import numpy as np

from edgepack.converters.litert.lower import Context, lowers


@lowers("Gemm")
def gemm(ctx: Context, node) -> None:
    alpha, beta = float(ctx.attr("alpha", 1.0)), float(ctx.attr("beta", 1.0))
    ta, tb = int(ctx.attr("transA", 0)), int(ctx.attr("transB", 0))
    a = ctx.t(node.inputs[0])
    if ta:
        a = ctx.transpose(a, [1, 0])
    out = ctx.out()
    m, n = ctx.shape(node.outputs[0])
    bval = ctx.value(node.inputs[1])
    cval = ctx.value(ctx.input(2))
    if bval is not None and (not ctx.input(2) or cval is not None):
        w = (bval if tb else bval.T).astype(np.float32) * np.float32(alpha)  # [N, K]
        bias = np.zeros(n, np.float32)
        extra = None
        if cval is not None:
            c = np.broadcast_to(cval.astype(np.float32) * np.float32(beta), (m, n))
            if np.all(c == c[:1]):
                bias = np.ascontiguousarray(c[0])
            else:
                extra = ctx.const(np.ascontiguousarray(c), hint="c")
        y = ctx.temp([m, n], np.float32, "fc") if extra is not None else out
        ctx.op("FULLY_CONNECTED", [a, ctx.const(np.ascontiguousarray(w), hint="weight"),
                                   ctx.const(bias, hint="bias")], [y], "FullyConnectedOptions")
        if extra is not None:
            ctx.binary("ADD", y, extra, out)
        return
    b = ctx.t(node.inputs[1])
    y = ctx.temp([m, n], np.float32, "matmul")
    ctx.op("BATCH_MATMUL", [a, b], [y], "BatchMatMulOptions", adjY=bool(tb))
    if alpha != 1.0:
        y = ctx.binary("MUL", y, ctx.const(np.array(alpha, np.float32), hint="alpha"))
    if ctx.input(2):
        c = ctx.t(ctx.input(2))
        if beta != 1.0:
            c = ctx.binary("MUL", c, ctx.const(np.array(beta, np.float32), hint="beta"))
        y = ctx.binary("ADD", y, c)
    ctx.reshape(y, [m, n], out)
