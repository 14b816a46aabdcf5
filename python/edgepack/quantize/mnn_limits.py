"""Ops MNN's offline quantizer is known to damage, found from the model before quantizing, so that they are
kept in float (`skip_quant_op_names`) instead of being discovered by the gate.

The rule comes from MNN's quantizer (tools/quantization/quantizeWeight.cpp, QuantizeConvPerChannel /
QuantizeDepthwiseConv): weights are quantized per output channel with scale max|w| / 127, and the int32 bias
of every channel whose weight scale is <= 1e-6 is set to 0. A convolution whose weights all sit below
1.27e-4 in some channel, typically a BatchNorm with tiny scales folded into it, loses the bias of that
channel: PP-OCRv4 det's head conv (weights <= 2.4e-4, biases up to 0.43) drops its biases and the
probability map goes to cosine 0.09 with every other layer int8 or float; keeping that one conv in float
gives map IoU 0.965. Measured with mnn 3.6 on a small model (tests/test_quantize_mnn.py): with half of the
channels tiny the int8 output drops to cosine 0.92 (0.996 with the conv in float); with all channels tiny
MNN did not damage it, so the rule errs on the side of float."""

from __future__ import annotations

from pathlib import Path

import numpy as np

MNN_MIN_WEIGHT_SCALE = 1e-6  # quantizeWeight.cpp: a channel's bias is zeroed at or below this scale
INT8_MAX = 127
SIGNIFICANT_BIAS = 0.01  # a lost bias matters from 1 % of the layer's largest bias (dead channels carry ~1e-6)


def bias_dropping_convs(model_path: str | Path) -> dict[str, str]:
    """{op name MNN's quantizer uses (the ONNX node's first output): why it must stay float} for every Conv /
    ConvTranspose with a significant bias in a channel whose per-channel weight scale MNN would take as 0."""
    import onnx
    from onnx import numpy_helper

    g = onnx.load(str(model_path)).graph
    consts = {i.name: i for i in g.initializer}
    found = {}
    for n in g.node:
        if n.op_type not in ("Conv", "ConvTranspose") or len(n.input) < 3:
            continue
        if n.input[1] not in consts or n.input[2] not in consts:
            continue  # weights or bias computed at run time: not quantized as a constant conv
        w = numpy_helper.to_array(consts[n.input[1]]).astype(np.float64)
        b = numpy_helper.to_array(consts[n.input[2]]).astype(np.float64).ravel()
        per_channel = _channel_max(w, n.op_type, _group(n))
        if per_channel.shape != b.shape:
            continue
        scale = per_channel / INT8_MAX
        lost = (scale <= MNN_MIN_WEIGHT_SCALE) & (np.abs(b) > SIGNIFICANT_BIAS * np.abs(b).max())
        if lost.any():
            found[n.output[0]] = (f"{n.op_type} '{n.name or n.output[0]}': {int(lost.sum())} of {b.size} channels "
                                  f"have weights below {MNN_MIN_WEIGHT_SCALE * INT8_MAX:.3g} (max "
                                  f"{per_channel.max():.3g}), MNN's quantizer would zero their bias (up to "
                                  f"{np.abs(b[lost]).max():.3g})")
    return found


def _group(node) -> int:
    return next((int(a.i) for a in node.attribute if a.name == "group"), 1)


def _channel_max(w: np.ndarray, op: str, group: int) -> np.ndarray:
    """max |w| per output channel: Conv weights are [Cout, Cin/g, k...]; ConvTranspose [Cin, Cout/g, k...]."""
    a = np.abs(w)
    if op == "Conv":
        return a.reshape(a.shape[0], -1).max(axis=1)
    cin, cout_g = a.shape[0], a.shape[1]
    per_group = a.reshape(group, cin // group, cout_g, -1)  # [g, cin/g, cout/g, k]
    return per_group.max(axis=(1, 3)).reshape(-1)
