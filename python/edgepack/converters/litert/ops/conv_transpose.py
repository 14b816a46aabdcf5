"""ConvTranspose -> TRANSPOSE_CONV. SAME when ONNX's pads are TFLite's, else VALID (the full output) then PAD
(output_padding beyond the full size) and SLICE (the pads), with the bias added after."""

from __future__ import annotations

import numpy as np

from edgepack.converters.litert.lower import Context, lowers


@lowers("ConvTranspose")
def conv_transpose(ctx: Context, node) -> None:
    if not node.nhwc:
        raise ctx.unsupported("only 2-D transposed convolution is supported")
    w = ctx.value(node.inputs[1])  # [C_in, O/g, kh, kw]
    n, h, wd, c = ctx.shape(node.inputs[0])
    _, og, kh, kw = ctx.shape(node.inputs[1])
    group = int(ctx.attr("group", 1))
    if group != 1:
        raise ctx.unsupported(f"group {group} (only group=1 is supported)")
    if list(ctx.attr("dilations", [1, 1])) != [1, 1]:
        raise ctx.unsupported("dilations other than 1")
    s = list(ctx.attr("strides", [1, 1]))
    oshape = ctx.shape(node.outputs[0])  # [N, OH, OW, O]
    oh, ow = oshape[1], oshape[2]
    full = [(h - 1) * s[0] + kh, (wd - 1) * s[1] + kw]
    auto = ctx.attr("auto_pad", "NOTSET")
    if auto in ("SAME_UPPER", "SAME_LOWER") or "output_shape" in node.attrs:
        total = [full[0] - oh, full[1] - ow]
        lower = [t // 2 if auto != "SAME_LOWER" else t - t // 2 for t in total]
        pads = [lower[0], lower[1], total[0] - lower[0], total[1] - lower[1]]
    else:
        pads = list(ctx.attr("pads", [0, 0, 0, 0]))
    bias = ctx.value(ctx.input(2))
    if ctx.input(2) and bias is None:
        raise ctx.unsupported("bias must be a constant")
    bias = np.zeros(og, np.float32) if bias is None else bias.astype(np.float32)
    if w is None:  # run-time weights: transposed at run time
        weight = ctx.transpose(ctx.t(node.inputs[1]), [1, 2, 3, 0])
    else:
        weight = ctx.const(w.astype(np.float32).transpose(1, 2, 3, 0), hint="weight")  # [O, kh, kw, C_in]
    P = ctx.b.s.Padding
    x = ctx.t(node.inputs[0])
    out = ctx.out()
    total = [pads[0] + pads[2], pads[1] + pads[3]]
    # TFLite derives SAME pads from the output size as a conv would: valid only when ceil(out/s) == in
    same = all(pads[i] == total[i] // 2 and -(-(oh, ow)[i] // s[i]) == (h, wd)[i] for i in range(2))
    if same and [oh, ow] == [full[0] - total[0], full[1] - total[1]]:
        ctx.op("TRANSPOSE_CONV", [ctx.const(np.array(oshape, np.int32), hint="output_shape"), weight, x,
                                  ctx.const(bias, hint="bias")], [out], "TransposeConvOptions",
               padding=P.SAME if any(pads) else P.VALID, strideH=s[0], strideW=s[1])
        return
    y = ctx.temp([n, full[0], full[1], og], np.float32, "full")
    ctx.op("TRANSPOSE_CONV", [ctx.const(np.array([n, full[0], full[1], og], np.int32), hint="output_shape"),
                              weight, x, ctx.const(bias, hint="bias")], [y], "TransposeConvOptions",
           padding=P.VALID, strideH=s[0], strideW=s[1])
    grow = [max(0, pads[0] + oh - full[0]), max(0, pads[1] + ow - full[1])]
    if any(grow):  # output_padding reaches past the full output: those rows/cols hold only the bias
        y0 = ctx.temp([n, full[0] + grow[0], full[1] + grow[1], og], np.float32, "grown")
        ctx.op("PAD", [ctx.binary("SUB", y, ctx.const(bias, hint="bias")),
                       ctx.const(np.array([[0, 0], [0, grow[0]], [0, grow[1]], [0, 0]], np.int32),
                                 hint="paddings")], [y0], "PadOptions")
        y = ctx.slice(y0, [0, pads[0], pads[1], 0], [n, oh, ow, og])
        ctx.binary("ADD", y, ctx.const(bias, hint="bias"), out)
        return
    ctx.slice(y, [0, pads[0], pads[1], 0], [n, oh, ow, og], out)
