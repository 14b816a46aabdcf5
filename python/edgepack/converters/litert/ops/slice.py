"""Slice -> STRIDED_SLICE with begin/end clamped as ONNX clamps them (negative steps included)."""

from __future__ import annotations

import numpy as np

from edgepack.converters.litert.lower import Context, lowers


@lowers("Slice")
def slice_(ctx: Context, node) -> None:
    shape = ctx.shape(node.inputs[0])
    rank = len(shape)
    starts, ends = list(ctx.attr("starts")), list(ctx.attr("ends"))
    axes = list(ctx.attr("axes") or range(len(starts)))
    steps = list(ctx.attr("steps") or [1] * len(starts))
    begin, end, stride = [0] * rank, list(shape), [1] * rank
    end_mask = 0
    for st, en, ax, sp in zip(starts, ends, axes, steps):
        ax %= rank
        d = shape[ax]
        if sp == 0:
            raise ctx.unsupported("step 0")
        st = st + d if st < 0 else st
        en = en + d if en < 0 else en
        if sp > 0:
            st, en = min(max(st, 0), d), min(max(en, 0), d)
        else:
            st, en = min(max(st, 0), d - 1), min(max(en, -1), d - 1)
            if en == -1:
                end_mask |= 1 << ax  # "through index 0": -1 would mean the last element to TFLite
        begin[ax], end[ax], stride[ax] = st, en, sp
    ctx.op("STRIDED_SLICE", [ctx.t(node.inputs[0]), ctx.const(np.array(begin, np.int32), hint="begin"),
                             ctx.const(np.array(end, np.int32), hint="end"),
                             ctx.const(np.array(stride, np.int32), hint="strides")], [ctx.out()],
           "StridedSliceOptions", endMask=end_mask)
