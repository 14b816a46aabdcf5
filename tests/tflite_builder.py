"""Build tiny .tflite files with the flatbuffers object API that ai-edge-litert ships (schema_py_generated)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as s

_TYPES = {
    "float32": s.TensorType.FLOAT32, "int32": s.TensorType.INT32, "uint8": s.TensorType.UINT8,
    "int8": s.TensorType.INT8, "int64": s.TensorType.INT64, "bool": s.TensorType.BOOL,
}


@dataclass
class _Graph:
    """Tensors, op codes and operators of one subgraph, collected before packing."""

    tensors: list = field(default_factory=list)
    buffers: list = field(default_factory=lambda: [s.BufferT()])  # buffer 0 is the empty sentinel
    codes: list = field(default_factory=list)
    ops: list = field(default_factory=list)

    def tensor(self, name: str, shape: list[int], dtype: str = "float32", data: np.ndarray | None = None,
               quant: tuple[float, int] | None = None) -> int:
        t = s.TensorT()
        t.name, t.shape, t.type = name, shape, _TYPES[dtype]
        buf = s.BufferT()
        if data is not None:
            buf.data = np.ascontiguousarray(data, dtype=dtype).view(np.uint8).ravel().tolist()
        self.buffers.append(buf)
        t.buffer = len(self.buffers) - 1
        if quant is not None:
            q = s.QuantizationParametersT()
            q.scale, q.zeroPoint = [quant[0]], [quant[1]]
            t.quantization = q
        self.tensors.append(t)
        return len(self.tensors) - 1

    def op(self, code: int, inputs: list[int], outputs: list[int], options_type: int = 0, options=None) -> None:
        if code not in self.codes:
            self.codes.append(code)
        op = s.OperatorT()
        op.opcodeIndex, op.inputs, op.outputs = self.codes.index(code), inputs, outputs
        op.builtinOptionsType, op.builtinOptions = options_type, options
        self.ops.append(op)

    def write(self, path: Path, inputs: list[int], outputs: list[int], description: str) -> Path:
        model = s.ModelT()
        model.version = 3
        model.description = description
        model.operatorCodes = []
        for c in self.codes:
            code = s.OperatorCodeT()
            code.builtinCode, code.deprecatedBuiltinCode, code.version = c, min(c, 127), 1
            model.operatorCodes.append(code)
        model.buffers = self.buffers
        sg = s.SubGraphT()
        sg.tensors, sg.inputs, sg.outputs, sg.operators, sg.name = self.tensors, inputs, outputs, self.ops, "main"
        model.subgraphs = [sg]
        b = flatbuffers.Builder(1024)
        b.Finish(model.Pack(b), file_identifier=b"TFL3")
        path.write_bytes(bytes(b.Output()))
        return path


def write_add_model(path: Path) -> Path:
    """sum = a + b on float32 [1, 4] tensors named a, b, sum."""
    g = _Graph()
    a, b, out = g.tensor("a", [1, 4]), g.tensor("b", [1, 4]), g.tensor("sum", [1, 4])
    g.op(s.BuiltinOperator.ADD, [a, b], [out], s.BuiltinOptions.AddOptions, s.AddOptionsT())
    return g.write(path, [a, b], [out], "edgepack test: add")


# Quantization of the int8 tensors in write_multi_io_model: real = scale * (q - zero_point).
MULTI_IO_Q8 = (0.5, -3)
MULTI_IO_XQ = (0.25, 2)


def write_multi_io_model(path: Path) -> Path:
    """Three inputs of different shapes and types, five outputs listed in a different order:

    x float32 [1, 2, 3, 4], y float32 [4], u8 uint8 [2, 5], q8 int8 [3, 2] (scale 0.5, zero point -3) ->
    dq = dequantize(q8) float32 [3, 2]; sum = x + y (broadcast); square = x * x; u8f = cast(u8) float32;
    amax = argmax(sum, axis=-1) int32 [1, 2, 3]; xq = quantize(sum) int8 (scale 0.25, zero point 2)."""
    g = _Graph()
    x, y = g.tensor("x", [1, 2, 3, 4]), g.tensor("y", [4])
    u8, q8 = g.tensor("u8", [2, 5], "uint8"), g.tensor("q8", [3, 2], "int8", quant=MULTI_IO_Q8)
    axis = g.tensor("axis", [1], "int32", data=np.array([3], np.int32))
    sum_, square = g.tensor("sum", [1, 2, 3, 4]), g.tensor("square", [1, 2, 3, 4])
    u8f, dq = g.tensor("u8f", [2, 5]), g.tensor("dq", [3, 2])
    amax = g.tensor("amax", [1, 2, 3], "int32")
    xq = g.tensor("xq", [1, 2, 3, 4], "int8", quant=MULTI_IO_XQ)
    g.op(s.BuiltinOperator.ADD, [x, y], [sum_], s.BuiltinOptions.AddOptions, s.AddOptionsT())
    g.op(s.BuiltinOperator.MUL, [x, x], [square], s.BuiltinOptions.MulOptions, s.MulOptionsT())
    cast = s.CastOptionsT()
    cast.inDataType, cast.outDataType = s.TensorType.UINT8, s.TensorType.FLOAT32
    g.op(s.BuiltinOperator.CAST, [u8], [u8f], s.BuiltinOptions.CastOptions, cast)
    g.op(s.BuiltinOperator.DEQUANTIZE, [q8], [dq], s.BuiltinOptions.DequantizeOptions, s.DequantizeOptionsT())
    am = s.ArgMaxOptionsT()
    am.outputType = s.TensorType.INT32
    g.op(s.BuiltinOperator.ARG_MAX, [sum_, axis], [amax], s.BuiltinOptions.ArgMaxOptions, am)
    g.op(s.BuiltinOperator.QUANTIZE, [sum_], [xq], s.BuiltinOptions.QuantizeOptions, s.QuantizeOptionsT())
    return g.write(path, [x, y, u8, q8], [dq, sum_, square, u8f, amax, xq], "edgepack test: multi io")


def write_dynamic_model(path: Path) -> Path:
    """out = a + a with a dynamic batch dimension (shape_signature [-1, 4])."""
    g = _Graph()
    a, out = g.tensor("a", [1, 4]), g.tensor("out", [1, 4])
    g.tensors[a].shapeSignature = [-1, 4]
    g.tensors[out].shapeSignature = [-1, 4]
    g.op(s.BuiltinOperator.ADD, [a, a], [out], s.BuiltinOptions.AddOptions, s.AddOptionsT())
    return g.write(path, [a], [out], "edgepack test: dynamic batch")


def write_yolo_head_model(path: Path, anchors_first: bool = False) -> Path:
    """A stand-in YOLO head: image input "images" float32 [1, 16, 16, 3] reshaped to "output0" [1, 6, 128]
    (attrs first: 4 box values + 2 class scores for 128 anchors) or [1, 128, 6] (anchors first). The values
    are the preprocessed pixels, so decode + NMS see data that depends on the frame."""
    g = _Graph()
    shape = [1, 128, 6] if anchors_first else [1, 6, 128]
    x = g.tensor("images", [1, 16, 16, 3])
    new_shape = g.tensor("new_shape", [3], "int32", data=np.array(shape, np.int32))
    out = g.tensor("output0", shape)
    opts = s.ReshapeOptionsT()
    opts.newShape = shape
    g.op(s.BuiltinOperator.RESHAPE, [x, new_shape], [out], s.BuiltinOptions.ReshapeOptions, opts)
    return g.write(path, [x], [out], "edgepack test: yolo head")
