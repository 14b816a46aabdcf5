"""Reductions. ReduceMean/Sum/Max/Min/Prod are builtins; L1, L2, SumSquare, LogSum, LogSumExp are composed.
Axes are already physical (the layout pass rewrote them)."""

from __future__ import annotations

import numpy as np

from edgepack.converters.litert.layout import reduce_axes
from edgepack.converters.litert.lower import Context, lowers

_CODES = {"ReduceMean": "MEAN", "ReduceSum": "SUM", "ReduceMax": "REDUCE_MAX", "ReduceMin": "REDUCE_MIN",
          "ReduceProd": "REDUCE_PROD", "ReduceL1": "SUM", "ReduceL2": "SUM", "ReduceSumSquare": "SUM",
          "ReduceLogSum": "SUM", "ReduceLogSumExp": "SUM"}


@lowers(*_CODES)
def reduce(ctx: Context, node) -> None:
    x = ctx.t(node.inputs[0])
    axes = reduce_axes(node, len(ctx.shape(node.inputs[0])))
    out = ctx.out()
    if not axes:
        ctx.reshape(x, ctx.shape(node.outputs[0]), out)
        return
    if node.op == "ReduceL1":
        x = ctx.unary("ABS", x)
    elif node.op in ("ReduceL2", "ReduceSumSquare"):
        x = ctx.binary("MUL", x, x)
    elif node.op == "ReduceLogSumExp":
        x = ctx.unary("EXP", x)
    post = {"ReduceL2": "SQRT", "ReduceLogSum": "LOG", "ReduceLogSumExp": "LOG"}.get(node.op)
    y = ctx.temp(ctx.shape(node.outputs[0]), ctx.dtype(node.outputs[0]), "reduced") if post else out
    ctx.op(_CODES[node.op], [x, ctx.const(np.array(axes, np.int32), hint="axes")], [y], "ReducerOptions",
           keepDims=bool(ctx.attr("keepdims", 1)))
    if post:
        ctx.unary(post, y, out)


@lowers("ArgMax", "ArgMin")
def argmax(ctx: Context, node) -> None:
    if ctx.attr("select_last_index", 0):
        raise ctx.unsupported("select_last_index=1")
    shape_in = ctx.shape(node.inputs[0])
    axis = int(ctx.attr("axis", 0)) % len(shape_in)
    out_shape = ctx.shape(node.outputs[0])
    reduced = [d for i, d in enumerate(shape_in) if i != axis]
    code, opts = ("ARG_MAX", "ArgMaxOptions") if node.op == "ArgMax" else ("ARG_MIN", "ArgMinOptions")
    y = ctx.temp(reduced, np.int64, "arg")
    ctx.op(code, [ctx.t(node.inputs[0]), ctx.const(np.array([axis], np.int32), hint="axis")], [y], opts,
           outputType=ctx.b.s.TensorType.INT64)
    ctx.reshape(y, out_shape, ctx.out())
