"""Build tiny .tflite files with the flatbuffers object API that ai-edge-litert ships (schema_py_generated)."""

from __future__ import annotations

from pathlib import Path

import flatbuffers
from ai_edge_litert import schema_py_generated as s


def _tensor(name: str, shape: list[int], buffer: int) -> s.TensorT:
    t = s.TensorT()
    t.name, t.shape, t.type, t.buffer = name, shape, s.TensorType.FLOAT32, buffer
    return t


def write_add_model(path: Path) -> Path:
    """sum = a + b on float32 [1, 4] tensors named a, b, sum."""
    model = s.ModelT()
    model.version = 3
    model.description = "edgepack test: add"
    code = s.OperatorCodeT()
    code.builtinCode = s.BuiltinOperator.ADD
    code.deprecatedBuiltinCode = s.BuiltinOperator.ADD
    code.version = 1
    model.operatorCodes = [code]
    empty = s.BufferT()
    model.buffers = [empty, s.BufferT(), s.BufferT(), s.BufferT()]
    sg = s.SubGraphT()
    sg.tensors = [_tensor("a", [1, 4], 1), _tensor("b", [1, 4], 2), _tensor("sum", [1, 4], 3)]
    sg.inputs, sg.outputs = [0, 1], [2]
    op = s.OperatorT()
    op.opcodeIndex, op.inputs, op.outputs = 0, [0, 1], [2]
    op.builtinOptionsType = s.BuiltinOptions.AddOptions
    op.builtinOptions = s.AddOptionsT()
    sg.operators = [op]
    sg.name = "main"
    model.subgraphs = [sg]
    b = flatbuffers.Builder(1024)
    b.Finish(model.Pack(b), file_identifier=b"TFL3")
    path.write_bytes(bytes(b.Output()))
    return path
