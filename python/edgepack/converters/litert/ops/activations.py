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
    """max(0, min(1, alpha*x + beta)) as relu6(6*alpha*x + 6*beta) / 6: MUL, ADD with a fused RELU6, MUL.
    XNNPACK (LiteRT's CPU path) has no RELU_0_TO_1, so that op split every hard-sigmoid (SE blocks,
    hard-swish nets) out of its partition, in fp32 and int8 alike."""
    from edgepack.converters.litert.builder import schema

    x = ctx.t(node.inputs[0])
    alpha, beta = float(ctx.attr("alpha", 0.2)), float(ctx.attr("beta", 0.5))
    y = ctx.binary("MUL", x, ctx.const(np.array(6 * alpha, np.float32), hint="alpha6"))
    b = ctx.const(np.array(6 * beta, np.float32), hint="beta6")
    shape = list(np.broadcast_shapes(tuple(ctx.tshape(y)), tuple(ctx.tshape(b))))
    z = ctx.temp(shape, ctx.tdtype(y), "add_relu6")
    ctx.op("ADD", [y, b], [z], "AddOptions", fusedActivationFunction=schema().ActivationFunctionType.RELU6)
    ctx.binary("MUL", z, ctx.const(np.array(1 / 6, np.float32), hint="sixth"), ctx.out())


@lowers("Gelu")
def gelu(ctx: Context, node) -> None:
    ctx.op("GELU", [ctx.t(node.inputs[0])], [ctx.out()], "GeluOptions",
           approximate=ctx.attr("approximate", "none") == "tanh")
