"""fp16 weights, laid out as LiteRT's own float16-quantized models are: each float32 constant becomes a
float16 constant plus a DEQUANTIZE operator that produces the original float32 tensor. Activations and
arithmetic stay float32 (a delegate such as XNNPACK may fold the DEQUANTIZE into fp16 weights)."""

from __future__ import annotations

import numpy as np

from edgepack.converters.litert.builder import ModelBuilder, _AlignedBuffer


def weights_to_fp16(b: ModelBuilder) -> int:
    """Rewrite the builder in place; returns how many constants were converted. Single-value constants
    stay float32 (a DEQUANTIZE op costs more than the two bytes it saves)."""
    f32 = b.s.TensorType.FLOAT32
    used = {i for op in b.operators for i in op.inputs}
    dequant = []
    for idx, a in list(b.data.items()):
        t = b.tensors[idx]
        if t.type != f32 or a.size < 2 or idx not in used:
            continue
        half = a.astype(np.float16)
        h = b.s.TensorT()
        h.name, h.shape, h.type = f"{t.name}/fp16", list(t.shape), b.s.TensorType.FLOAT16
        h.buffer = t.buffer
        b.buffers[t.buffer] = _AlignedBuffer(half.tobytes())
        t.buffer = 0  # the float32 tensor is now computed by DEQUANTIZE
        b.tensors.append(h)
        del b.data[idx]
        b.data[len(b.tensors) - 1] = half
        dequant.append((len(b.tensors) - 1, idx))
    ops_after = b.operators
    b.operators = []
    for src, dst in dequant:
        b.op("DEQUANTIZE", [src], [dst])
    b.operators.extend(ops_after)
    return len(dequant)
