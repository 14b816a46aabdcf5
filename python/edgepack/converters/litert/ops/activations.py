"""Activations with parameters: Clip (RELU/RELU6/RELU_N1_TO_1/RELU_0_TO_1 when the bounds fit, else
MAXIMUM/MINIMUM), LeakyRelu, HardSigmoid, Gelu."""

from __future__ import annotations

import numpy as np

from edgepack.converters.litert.lower import Context, lowers

_CLIP = {(0.0, 6.0): "RELU6", (-1.0, 1.0): "RELU_N1_TO_1", (0.0, 1.0): "RELU_0_TO_1", (0.0, None): "RELU"}


@lowers("Clip")
def clip(ctx: Context, node) -> None:
    lo, hi = ctx.attr("min"), ctx.attr("max")
    lo = None if lo is None or lo <= -3.4e38 else float(lo)
    hi = None if hi is None or hi >= 3.4e38 else float(hi)
    x, out = ctx.t(node.inputs[0]), ctx.out()
    dt = ctx.dtype(node.inputs[0])
    code = _CLIP.get((lo, hi)) if dt == np.float32 else None
    if code:
        ctx.op(code, [x], [out])
        return
    if lo is None and hi is None:
        ctx.reshape(x, ctx.shape(node.outputs[0]), out)
        return
    if lo is not None:
        x = ctx.binary("MAXIMUM", x, ctx.const(np.array(lo, dt), hint="min"), None if hi is not None else out)
    if hi is not None:
        ctx.binary("MINIMUM", x, ctx.const(np.array(hi, dt), hint="max"), out)


@lowers("LeakyRelu")
def leaky_relu(ctx: Context, node) -> None:
    ctx.op("LEAKY_RELU", [ctx.t(node.inputs[0])], [ctx.out()], "LeakyReluOptions",
           alpha=float(ctx.attr("alpha", 0.01)))


@lowers("HardSigmoid")
def hard_sigmoid(ctx: Context, node) -> None:
    """max(0, min(1, alpha*x + beta))."""
    x = ctx.t(node.inputs[0])
    y = ctx.binary("MUL", x, ctx.const(np.array(ctx.attr("alpha", 0.2), np.float32), hint="alpha"))
    y = ctx.binary("ADD", y, ctx.const(np.array(ctx.attr("beta", 0.5), np.float32), hint="beta"))
    ctx.op("RELU_0_TO_1", [y], [ctx.out()])


@lowers("Gelu")
def gelu(ctx: Context, node) -> None:
    ctx.op("GELU", [ctx.t(node.inputs[0])], [ctx.out()], "GeluOptions",
           approximate=ctx.attr("approximate", "none") == "tanh")
