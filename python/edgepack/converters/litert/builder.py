"""Builds a .tflite flatbuffer with the object API of the TFLite schema that the ai-edge-litert wheel ships
(`schema_py_generated`). Constant data goes into buffers aligned to 16 bytes (what LiteRT's own writer does,
so kernels can read weights in place)."""

from __future__ import annotations

import numpy as np

from edgepack.converters.litert.ir import MAX_TENSOR_BYTES
from edgepack.errors import ConversionError


def schema():
    from ai_edge_litert import schema_py_generated

    return schema_py_generated


_TYPES = {np.dtype(np.float32): "FLOAT32", np.dtype(np.float16): "FLOAT16", np.dtype(np.int32): "INT32",
          np.dtype(np.int64): "INT64", np.dtype(np.uint8): "UINT8", np.dtype(np.int8): "INT8",
          np.dtype(np.bool_): "BOOL", np.dtype(np.int16): "INT16", np.dtype(np.float64): "FLOAT64",
          np.dtype(np.uint32): "UINT32", np.dtype(np.uint16): "UINT16", np.dtype(np.uint64): "UINT64"}


def tensor_type(dtype: np.dtype) -> int:
    name = _TYPES.get(np.dtype(dtype))
    if name is None:
        raise ConversionError(f"litert: tensor type {np.dtype(dtype)} has no TFLite equivalent")
    return getattr(schema().TensorType, name)


class _AlignedBuffer:
    """A Buffer whose data vector is 16-byte aligned (the object API's own Pack aligns to the item size)."""

    def __init__(self, data: bytes | None) -> None:
        self.data = data

    def Pack(self, builder):  # noqa: N802 - called by the generated ModelT.Pack
        s = schema()
        off = None
        if self.data:
            builder.StartVector(1, len(self.data), 16)
            builder.head = builder.head - len(self.data)
            builder.Bytes[builder.head:builder.head + len(self.data)] = self.data
            try:
                off = builder.EndVector()
            except TypeError:  # flatbuffers < 2 wants the element count
                off = builder.EndVector(len(self.data))
        s.BufferStart(builder)
        if off is not None:
            s.BufferAddData(builder, off)
        return s.BufferEnd(builder)


class ModelBuilder:
    """Tensors, buffers, operator codes and operators of one subgraph, then `finish()` -> bytes."""

    def __init__(self) -> None:
        self.s = schema()
        self.tensors: list = []
        self.buffers: list = [_AlignedBuffer(None)]  # buffer 0: the empty sentinel
        self.opcodes: dict[int, int] = {}
        self.codes: list = []
        self.operators: list = []
        self.index: dict[str, int] = {}
        self.data: dict[int, np.ndarray] = {}  # tensor index -> constant value

    # -- tensors ------------------------------------------------------------------------------------------
    def tensor(self, name: str, shape: list[int], dtype: np.dtype, value: np.ndarray | None = None) -> int:
        if name in self.index:
            return self.index[name]
        t = self.s.TensorT()
        t.name, t.shape, t.type = name, [int(d) for d in shape], tensor_type(dtype)
        t.buffer = 0
        if value is not None:
            nbytes = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
            if nbytes > MAX_TENSOR_BYTES:  # checked before any copy is made
                raise ConversionError(f"litert: tensor '{name}' holds {nbytes / 2**30:.2f} GB; a .tflite "
                                      "flatbuffer cannot address tensors over 2 GB; split the weight or convert "
                                      "to another target")
            a = np.ascontiguousarray(np.asarray(value, dtype=dtype))
            t.buffer = len(self.buffers)
            self.buffers.append(_AlignedBuffer(a.tobytes()))
            self.data[len(self.tensors)] = a
        self.tensors.append(t)
        self.index[name] = len(self.tensors) - 1
        return self.index[name]

    def shape(self, idx: int) -> list[int]:
        return list(self.tensors[idx].shape)

    # -- operators ----------------------------------------------------------------------------------------
    def op(self, code: str, inputs: list[int], outputs: list[int], options: str | None = None,
           **fields) -> None:
        """Append operator `code` (a BuiltinOperator name); `options` names the BuiltinOptions table (e.g.
        "Conv2DOptions") and `fields` set its members (object API names, e.g. strideW=2)."""
        builtin = getattr(self.s.BuiltinOperator, code)
        if builtin not in self.opcodes:
            oc = self.s.OperatorCodeT()
            oc.builtinCode = builtin
            oc.deprecatedBuiltinCode = min(builtin, 127)  # 127 = PLACEHOLDER_FOR_GREATER_OP_CODES
            oc.version = 1
            self.opcodes[builtin] = len(self.codes)
            self.codes.append(oc)
        o = self.s.OperatorT()
        o.opcodeIndex = self.opcodes[builtin]
        o.inputs, o.outputs = [int(i) for i in inputs], [int(i) for i in outputs]
        if options:
            opt = getattr(self.s, f"{options}T")()
            for k, v in fields.items():
                if not hasattr(opt, k):
                    raise AttributeError(f"{options} has no field {k}")
                setattr(opt, k, v)
            o.builtinOptionsType = getattr(self.s.BuiltinOptions, options)
            o.builtinOptions = opt
        self.operators.append(o)

    # -- output -------------------------------------------------------------------------------------------
    def finish(self, inputs: list[int], outputs: list[int], description: str,
               metadata: dict[str, bytes] | None = None) -> bytes:
        import flatbuffers

        s = self.s
        total = sum(len(b.data or b"") for b in self.buffers)
        if total > MAX_TENSOR_BYTES - (1 << 24):
            raise ConversionError(f"litert: the model's constants total {total / 2**30:.2f} GB; a .tflite "
                                  "flatbuffer is limited to 2 GB")
        sg = s.SubGraphT()
        sg.tensors, sg.inputs, sg.outputs, sg.operators, sg.name = self.tensors, inputs, outputs, \
            self.operators, "main"
        model = s.ModelT()
        model.version = 3
        model.description = description
        model.operatorCodes = self.codes
        model.subgraphs = [sg]
        sig = s.SignatureDefT()
        sig.signatureKey, sig.subgraphIndex = "serving_default", 0
        sig.inputs = [_tensor_map(s, self.tensors[i].name, i) for i in inputs]
        sig.outputs = [_tensor_map(s, self.tensors[i].name, i) for i in outputs]
        model.signatureDefs = [sig]
        model.metadata = []
        for name, blob in (metadata or {}).items():
            m = s.MetadataT()
            m.name, m.buffer = name, len(self.buffers)
            self.buffers.append(_AlignedBuffer(blob))
            model.metadata.append(m)
        model.buffers = self.buffers
        b = flatbuffers.Builder(max(1024, total + (1 << 16)))
        b.Finish(model.Pack(b), file_identifier=b"TFL3")
        return bytes(b.Output())


def _tensor_map(s, name: str, idx: int):
    tm = s.TensorMapT()
    tm.name, tm.tensorIndex = name, idx
    return tm
