"""Conv -> CONV_2D; group == channels -> DEPTHWISE_CONV_2D; other groups -> SPLIT, CONV_2D per group,
CONCATENATION. Weights OIHW become OHWI (depthwise: 1HWO)."""

from __future__ import annotations

import numpy as np

from edgepack.converters.litert.lower import Context, lowers
from edgepack.converters.litert.ops._window import onnx_pads, padding_mode, window_params


@lowers("Conv")
def conv(ctx: Context, node) -> None:
    if not node.nhwc:
        raise ctx.unsupported(f"only 2-D convolution is supported (input rank {len(ctx.shape(node.inputs[0]))})")
    w = ctx.value(node.inputs[1])
    n, h, wd, c = ctx.shape(node.inputs[0])
    o, cg, kh, kw = ctx.shape(node.inputs[1])
    bias = ctx.value(ctx.input(2))
    runtime_bias = bool(ctx.input(2)) and bias is None
    bias = np.zeros(o, np.float32) if bias is None else bias.astype(np.float32)
    group = int(ctx.attr("group", 1))
    s, d = window_params(ctx, [kh, kw])
    pads = onnx_pads(ctx, [h, wd], [kh, kw], s, d)
    x, padding = padding_mode(ctx, ctx.t(node.inputs[0]), pads, [h, wd], [kh, kw], s, d)
    common = dict(padding=padding, strideH=s[0], strideW=s[1], dilationHFactor=d[0], dilationWFactor=d[1])
    out = ctx.out()
    depthwise = group == c and cg == 1 and group > 1  # group 1 on 1 channel is an ordinary conv
    if w is None:  # weights computed at run time: OIHW -> OHWI (depthwise: 1HWO) by a TRANSPOSE
        if group != 1 and not depthwise:
            raise ctx.unsupported("grouped convolution with run-time weights")
        weight = ctx.transpose(ctx.t(node.inputs[1]), [1, 2, 3, 0] if depthwise else [0, 2, 3, 1])
    elif depthwise:
        weight = ctx.const(w.astype(np.float32).reshape(o, kh, kw).transpose(1, 2, 0)[None], hint="weight")
    else:
        weight = ctx.const(w.astype(np.float32).transpose(0, 2, 3, 1), hint="weight") if group == 1 else None
    b = ctx.t(ctx.input(2)) if runtime_bias else ctx.const(bias, hint="bias")
    if group == 1:
        ctx.op("CONV_2D", [x, weight, b], [out], "Conv2DOptions", **common)
    elif depthwise:
        ctx.op("DEPTHWISE_CONV_2D", [x, weight, b], [out],
               "DepthwiseConv2DOptions", depthMultiplier=o // c, **common)
    else:
        if w is None or runtime_bias:
            raise ctx.unsupported("grouped convolution with run-time weights or bias")
        w = w.astype(np.float32)
        if c % group or o % group:
            raise ctx.unsupported(f"group {group} does not divide channels {c} -> {o}")
        xs = [ctx.temp(ctx.tshape(x)[:3] + [c // group], np.float32, f"group{i}") for i in range(group)]
        ctx.op("SPLIT", [ctx.const(np.array(3, np.int32), hint="axis"), x], xs, "SplitOptions", numSplits=group)
        og = o // group
        ys = []
        for i, xi in enumerate(xs):
            yi = ctx.temp(ctx.shape(node.outputs[0])[:3] + [og], np.float32, f"group{i}_out")
            ctx.op("CONV_2D", [xi, ctx.const(w[i * og:(i + 1) * og].transpose(0, 2, 3, 1), hint="weight"),
                               ctx.const(bias[i * og:(i + 1) * og], hint="bias")], [yi], "Conv2DOptions", **common)
            ys.append(yi)
        ctx.concat(ys, 3, out)
