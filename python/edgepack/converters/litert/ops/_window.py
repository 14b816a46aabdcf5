"""Padding of windowed ops (conv, pools): ONNX's explicit/auto pads -> TFLite SAME, VALID, or an explicit PAD."""

from __future__ import annotations

import numpy as np

from edgepack.converters.litert.lower import Context


def same_pads(size: int, k: int, s: int, d: int) -> tuple[int, int]:
    """TFLite's SAME padding (extra padding at the end), as (before, after)."""
    out = -(-size // s)
    total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
    return total // 2, total - total // 2


def onnx_pads(ctx: Context, sizes: list[int], k: list[int], s: list[int], d: list[int]) -> list[int]:
    """ONNX pads [begin..., end...] for the spatial dims, resolving auto_pad."""
    auto = ctx.attr("auto_pad", "NOTSET")
    n = len(sizes)
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        pairs = [same_pads(sizes[i], k[i], s[i], d[i]) for i in range(n)]
        if auto == "SAME_LOWER":
            pairs = [(b, a) for a, b in pairs]
        return [p[0] for p in pairs] + [p[1] for p in pairs]
    if auto == "VALID":
        return [0] * (2 * n)
    return list(ctx.attr("pads", [0] * (2 * n)))


def ceil_extra(pads: list[int], sizes: list[int], k: list[int], s: list[int], d: list[int],
               out: list[int]) -> list[int]:
    """Pads with the end extended so that a VALID window pass yields `out` (ceil_mode)."""
    n = len(sizes)
    pads = list(pads)
    for i in range(n):
        need = (out[i] - 1) * s[i] + (k[i] - 1) * d[i] + 1 - (sizes[i] + pads[i] + pads[i + n])
        if need > 0:
            pads[i + n] += need
    return pads


def padding_mode(ctx: Context, x: int, pads: list[int], sizes: list[int], k: list[int], s: list[int],
                 d: list[int], pad_value: float | None = 0.0) -> tuple[int, int]:
    """Return (input tensor, Padding enum) for a 2-D window op over NHWC `x`: VALID when unpadded, SAME
    when the pads are TFLite's, else an explicit PAD/PADV2 (with pad_value) followed by VALID. pad_value
    None means the caller cannot pad explicitly (then only SAME/VALID are accepted)."""
    P = ctx.b.s.Padding
    if not any(pads):
        return x, P.VALID
    same = [same_pads(sizes[i], k[i], s[i], d[i]) for i in range(2)]
    if [p[0] for p in same] + [p[1] for p in same] == list(pads):
        return x, P.SAME
    if pad_value is None:
        raise ctx.unsupported(f"pads {pads} are neither SAME nor VALID")
    return pad_nhwc(ctx, x, pads, pad_value), P.VALID


def pad_nhwc(ctx: Context, x: int, pads: list[int], value: float = 0.0) -> int:
    n, h, w, c = ctx.tshape(x)
    paddings = np.array([[0, 0], [pads[0], pads[2]], [pads[1], pads[3]], [0, 0]], np.int32)
    out = ctx.temp([n, h + pads[0] + pads[2], w + pads[1] + pads[3], c], ctx.tdtype(x), "pad")
    if value == 0.0:
        ctx.op("PAD", [x, ctx.const(paddings, hint="paddings")], [out], "PadOptions")
    else:
        ctx.op("PADV2", [x, ctx.const(paddings, hint="paddings"), ctx.const(np.array(value, ctx.tdtype(x)),
                                                                            hint="pad_value")],
               [out], "PadV2Options")
    return out


def window_params(ctx: Context, k: list[int]) -> tuple[list[int], list[int]]:
    n = len(k)
    return list(ctx.attr("strides", [1] * n)), list(ctx.attr("dilations", [1] * n))
