"""MaxPool / AveragePool -> MAX_POOL_2D / AVERAGE_POOL_2D. Pads that are not TFLite's SAME become an explicit
pad (-inf for max) and VALID; an average whose divisor then differs from ONNX's (count_include_pad, ceil_mode
tails) is rescaled by a constant map of kernel_area / ONNX count."""

from __future__ import annotations

import numpy as np

from edgepack.converters.litert.lower import Context, lowers
from edgepack.converters.litert.ops._window import ceil_extra, onnx_pads, pad_nhwc, same_pads


@lowers("MaxPool", "AveragePool")
def pool(ctx: Context, node) -> None:
    if not node.nhwc:
        raise ctx.unsupported("only 2-D pooling is supported")
    if len(node.outputs) > 1 and node.outputs[1]:
        raise ctx.unsupported("the Indices output of MaxPool")
    k = list(ctx.attr("kernel_shape"))
    s = list(ctx.attr("strides", [1, 1]))
    d = list(ctx.attr("dilations", [1, 1]))
    if d != [1, 1]:
        raise ctx.unsupported(f"dilations {d}")
    n, h, w, c = ctx.shape(node.inputs[0])
    oshape = ctx.shape(node.outputs[0])
    pads = onnx_pads(ctx, [h, w], k, s, d)
    full = ceil_extra(pads, [h, w], k, s, d, oshape[1:3])
    is_max = node.op == "MaxPool"
    code, x, out = ("MAX_POOL_2D" if is_max else "AVERAGE_POOL_2D"), ctx.t(node.inputs[0]), ctx.out()
    P = ctx.b.s.Padding
    opts = dict(strideH=s[0], strideW=s[1], filterHeight=k[0], filterWidth=k[1])
    same = [same_pads(v, k[i], s[i], 1) for i, v in enumerate((h, w))]
    include_pad = int(ctx.attr("count_include_pad", 0)) and any(pads)
    if not any(full):
        ctx.op(code, [x], [out], "Pool2DOptions", padding=P.VALID, **opts)
        return
    if full == [same[0][0], same[1][0], same[0][1], same[1][1]] and not include_pad:
        ctx.op(code, [x], [out], "Pool2DOptions", padding=P.SAME, **opts)  # SAME ignores padded cells
        return
    if is_max:
        xp = pad_nhwc(ctx, x, full, float(np.finfo(np.float32).min))
        ctx.op(code, [xp], [out], "Pool2DOptions", padding=P.VALID, **opts)
        return
    xp = pad_nhwc(ctx, x, full, 0.0)
    y = ctx.temp(oshape, np.float32, "avg")
    ctx.op(code, [xp], [y], "Pool2DOptions", padding=P.VALID, **opts)
    ctx.binary("MUL", y, ctx.const(_rescale(h, w, k, s, pads, full, oshape, include_pad), hint="count"), out)


def _rescale(h, w, k, s, pads, full, oshape, include_pad) -> np.ndarray:
    """kernel_area / ONNX's divisor per output cell: cells inside the input (or the ONNX pads when
    count_include_pad) count, the ceil_mode tail never does."""
    def counts(size: int, kk: int, ss: int, pb: int, pe: int, n_out: int) -> np.ndarray:
        lo, hi = (-pb, size + pe) if include_pad else (0, size)
        starts = np.arange(n_out) * ss - pb
        return np.clip(np.minimum(starts + kk, hi) - np.maximum(starts, lo), 1, None)

    ch = counts(h, k[0], s[0], pads[0], pads[2], oshape[1])
    cw = counts(w, k[1], s[1], pads[1], pads[3], oshape[2])
    return (k[0] * k[1] / np.outer(ch, cw)).astype(np.float32)[None, :, :, None]
