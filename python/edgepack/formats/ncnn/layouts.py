"""Which weight blobs each ncnn layer reads from the .bin, in order, and how (taken from each layer's
load_model in ncnn's sources). `tagged` blobs start with a 4-byte storage tag (fp32 / fp16 / int8, see
model.py); untagged blobs are raw float32. A layer type that reads weights but is missing here is refused
by the reader (guessing would shift every later blob)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from edgepack.formats.ncnn.param import Layer


@dataclass(frozen=True)
class BlobSpec:
    role: str
    count: int
    tagged: bool


def _conv(ly: Layer, dyn_key: int = 19, groups: bool = False) -> list[BlobSpec]:
    if ly.get(dyn_key, 0):
        return []
    n = int(ly.get(0, 0))
    out = [BlobSpec("weight", int(ly.get(6, 0)), True)]
    if ly.get(5, 0):
        out.append(BlobSpec("bias", n, False))
    term = int(ly.get(8, 0))
    if term:
        scales = int(ly.get(7, 1)) if groups and term in (1, 101) else (1 if groups else n)
        out += [BlobSpec("weight_scales", scales, False), BlobSpec("bottom_scale", 1, False)]
    if term > 100:
        out.append(BlobSpec("top_scale", 1, False))
    return out


def _deconv(ly: Layer) -> list[BlobSpec]:
    if ly.get(28, 0):
        return []
    out = [BlobSpec("weight", int(ly.get(6, 0)), True)]
    return out + ([BlobSpec("bias", int(ly.get(0, 0)), False)] if ly.get(5, 0) else [])


def _innerproduct(ly: Layer) -> list[BlobSpec]:
    n = int(ly.get(0, 0))
    out = [BlobSpec("weight", int(ly.get(2, 0)), True)]
    if ly.get(1, 0):
        out.append(BlobSpec("bias", n, False))
    if ly.get(8, 0):
        out += [BlobSpec("weight_scales", n, False), BlobSpec("bottom_scale", 1, False)]
    return out


def _affine(size_key: int, affine_key: int) -> Callable[[Layer], list[BlobSpec]]:
    def spec(ly: Layer) -> list[BlobSpec]:
        if not ly.get(affine_key, 1):
            return []
        n = int(ly.get(size_key, 0))
        return [BlobSpec("gamma", n, False), BlobSpec("beta", n, False)]
    return spec


def _batchnorm(ly: Layer) -> list[BlobSpec]:
    n = int(ly.get(0, 0))
    return [BlobSpec(r, n, False) for r in ("slope", "mean", "var", "bias")]


def _memorydata(ly: Layer) -> list[BlobSpec]:
    dims = [int(ly.get(k, 0)) for k in (0, 1, 11, 2)]
    count = 1
    for d in dims:
        count *= d if d else 1
    return [BlobSpec("data", count if dims[0] else 0, int(ly.get(21, 1)) == 0)] if dims[0] else []


def _scale(ly: Layer) -> list[BlobSpec]:
    n = int(ly.get(0, 0))
    if n == -233:  # scale comes from a second bottom blob
        return []
    return [BlobSpec("scale", n, False)] + ([BlobSpec("bias", n, False)] if ly.get(1, 0) else [])


def _embed(ly: Layer) -> list[BlobSpec]:
    out = [BlobSpec("weight", int(ly.get(3, 0)), True)]
    if ly.get(2, 0):
        out.append(BlobSpec("bias", int(ly.get(0, 0)), False))
    return out + ([BlobSpec("weight_scale", 1, False)] if ly.get(18, 0) else [])


def _recurrent(gates: int) -> Callable[[Layer], list[BlobSpec]]:
    def spec(ly: Layer) -> list[BlobSpec]:
        num_output, size = int(ly.get(0, 0)), int(ly.get(1, 0))
        dirs = 2 if int(ly.get(2, 0)) == 2 else 1
        hidden = int(ly.get(3, num_output)) if gates == 4 else num_output
        xc = size  # weight_data_size = input_size * hidden * gates * dirs
        bias_rows = 4 if gates in (3, 4) else 1
        out = [BlobSpec("weight_xc", xc, True), BlobSpec("bias_c", hidden * bias_rows * dirs, True),
               BlobSpec("weight_hc", num_output * hidden * gates * dirs, True)]
        if gates == 4 and num_output != hidden:
            out.append(BlobSpec("weight_hr", hidden * num_output * dirs, True))
        if ly.get(8, 0):
            out += [BlobSpec("weight_xc_scales", hidden * gates * dirs, False),
                    BlobSpec("weight_hc_scales", hidden * gates * dirs, False)]
        return out
    return spec


def _gemm(ly: Layer) -> list[BlobSpec]:
    if ly.get(18, 0):
        raise ValueError("Gemm with block-quantized weights")
    m, n, k = (int(ly.get(i, 0)) for i in (7, 8, 9))
    out = []
    if ly.get(4, 0):
        out.append(BlobSpec("A", m * k, True))
    if ly.get(5, 0):
        out.append(BlobSpec("B", n * k, True))
    bc = int(ly.get(10, 0))
    if ly.get(6, 0) and bc != -1:
        out.append(BlobSpec("C", {0: 1, 1: m, 2: m, 3: m * n, 4: n}[bc], True))
    return out


def _mha(ly: Layer) -> list[BlobSpec]:
    if ly.get(18, 0):
        raise ValueError("MultiHeadAttention with quantized weights")
    e, wsize = int(ly.get(0, 0)), int(ly.get(2, 0))
    kdim, vdim = int(ly.get(3, e)), int(ly.get(4, e))
    qdim = wsize // e if e else 0
    return [BlobSpec("q_weight", e * qdim, True), BlobSpec("q_bias", e, False),
            BlobSpec("k_weight", e * kdim, True), BlobSpec("k_bias", e, False),
            BlobSpec("v_weight", e * vdim, True), BlobSpec("v_bias", e, False),
            BlobSpec("out_weight", qdim * e, True), BlobSpec("out_bias", qdim, False)]


LAYOUTS: dict[str, Callable[[Layer], list[BlobSpec]]] = {
    "Convolution": _conv,
    "ConvolutionDepthWise": lambda ly: _conv(ly, groups=True),
    "Convolution1D": _conv,
    "Convolution3D": _conv,
    "ConvolutionDepthWise1D": lambda ly: _conv(ly, groups=True),
    "ConvolutionDepthWise3D": lambda ly: _conv(ly, groups=True),
    "Deconvolution": _deconv,
    "DeconvolutionDepthWise": _deconv,
    "Deconvolution1D": _deconv,
    "Deconvolution3D": _deconv,
    "DeconvolutionDepthWise1D": _deconv,
    "DeconvolutionDepthWise3D": _deconv,
    "InnerProduct": _innerproduct,
    "BatchNorm": _batchnorm,
    "LayerNorm": _affine(0, 2),
    "RMSNorm": lambda ly: _affine(0, 2)(ly)[:1],
    "GroupNorm": _affine(1, 3),
    "InstanceNorm": _affine(0, 2),
    "MemoryData": _memorydata,
    "Scale": _scale,
    "Bias": lambda ly: [BlobSpec("bias", int(ly.get(0, 0)), False)],
    "PReLU": lambda ly: [BlobSpec("slope", int(ly.get(0, 0)), False)],
    "Embed": _embed,
    "LSTM": _recurrent(4),
    "GRU": _recurrent(3),
    "RNN": _recurrent(1),
    "Gemm": _gemm,
    "MultiHeadAttention": _mha,
}

# Layers pnnx writes that read nothing from the .bin; anything else unknown is refused.
WEIGHTLESS = {
    "Input", "Split", "BinaryOp", "UnaryOp", "ReLU", "Clip", "Sigmoid", "TanH", "Swish", "HardSwish", "HardSigmoid",
    "Mish", "GELU", "ELU", "SELU", "Softplus", "Pooling", "Pooling1D", "Pooling3D", "Reshape", "Permute",
    "Concat", "Slice", "Crop", "Interp", "Softmax", "Flatten", "Squeeze", "ExpandDims", "ShuffleChannel",
    "Padding", "Eltwise", "Reduction", "Dropout", "Noop", "MatMul", "Tile", "CopyTo", "Cast",
    "PixelShuffle", "Reorg", "Exp", "Log", "Power", "Threshold",
    "ArgMax", "Packing", "Absval", "BNLL", "Erf", "Spectrogram", "Unfold", "Fold",
    "DeepCopy", "Shrink", "CELU", "Einsum", "SDPA", "RotaryEmbed", "Diag", "CumulativeSum", "Flip",
}
