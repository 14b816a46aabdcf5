"""Pad: constant -> PAD / PADV2, reflect -> MIRROR_PAD, edge and wrap -> GATHER with clamped / wrapped
indices per padded axis. Negative pads crop with STRIDED_SLICE first."""

from __future__ import annotations

import numpy as np

from edgepack.converters.litert.lower import Context, lowers


@lowers("Pad")
def pad(ctx: Context, node) -> None:
    shape = ctx.shape(node.inputs[0])
    rank = len(shape)
    pads = list(ctx.attr("pads"))
    axes = ctx.attr("axes")
    if axes is not None:  # opset 18: pads only for the listed axes
        full = [0] * (2 * rank)
        for k, ax in enumerate(axes):
            full[ax % rank], full[ax % rank + rank] = pads[k], pads[k + len(axes)]
        pads = full
    mode = ctx.attr("mode", "constant")
    x, out = ctx.t(node.inputs[0]), ctx.out()
    begin, end = pads[:rank], pads[rank:]
    if any(p < 0 for p in pads):
        b = [max(0, -p) for p in begin]
        size = [shape[i] - b[i] - max(0, -end[i]) for i in range(rank)]
        x = ctx.slice(x, b, size)
        shape = size
        begin, end = [max(0, p) for p in begin], [max(0, p) for p in end]
    paddings = ctx.const(np.array(list(zip(begin, end)), np.int32).reshape(rank, 2), hint="paddings")
    if mode == "constant":
        value = ctx.attr("value", 0.0)
        value = 0.0 if value is None else float(np.asarray(value).reshape(()))
        if value == 0.0:
            ctx.op("PAD", [x, paddings], [out], "PadOptions")
        else:
            ctx.op("PADV2", [x, paddings, ctx.const(np.array(value, ctx.dtype(node.inputs[0])), hint="value")],
                   [out], "PadV2Options")
        return
    if mode == "reflect" and all(begin[i] < shape[i] and end[i] < shape[i] for i in range(rank)):
        ctx.op("MIRROR_PAD", [x, paddings], [out], "MirrorPadOptions", mode=ctx.b.s.MirrorPadMode.REFLECT)
        return
    if mode not in ("edge", "wrap", "reflect"):
        raise ctx.unsupported(f"mode {mode}")
    cur = list(shape)
    axes_to_pad = [i for i in range(rank) if begin[i] or end[i]]
    for k, ax in enumerate(axes_to_pad):
        d = cur[ax]
        idx = np.arange(-begin[ax], d + end[ax])
        if mode == "edge":
            idx = np.clip(idx, 0, d - 1)
        elif mode == "wrap":
            idx = idx % d
        else:  # reflect wider than the axis: reflect repeatedly
            period = 2 * (d - 1) if d > 1 else 1
            idx = np.abs((idx + period) % period) if d > 1 else np.zeros_like(idx)
            idx = np.where(idx >= d, period - idx, idx)
        cur[ax] = len(idx)
        y = out if k == len(axes_to_pad) - 1 else ctx.temp(cur, ctx.dtype(node.inputs[0]), "padded")
        ctx.op("GATHER", [x, ctx.const(idx.astype(np.int32), hint="indices")], [y], "GatherOptions", axis=ax)
        x = y
