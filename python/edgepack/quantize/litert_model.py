"""Full-integer int8 rewrite of a float .tflite written by our LiteRT writer, following the TFLite
quantization spec: weights int8 symmetric per output channel (zero point 0; quantized_dimension 0 for
CONV_2D / FULLY_CONNECTED filters, 3 for DEPTHWISE_CONV_2D), biases int32 with scale input_scale x
weight_scale, activations int8 asymmetric per tensor. Ops with fixed or shared output parameters get them
(LOGISTIC / SOFTMAX: 1/256, -128; TANH: 1/128, 0; pooling, reshape-like ops and CONCATENATION: same as
their input). An op that is not quantized (unsupported, or kept in float by the gate) reads and writes
float; QUANTIZE / DEQUANTIZE (and int8 -> int8 QUANTIZE to requantize) are inserted where the two meet.

The rewrite works on the flatbuffer's object API, so tensor names are those of the float model: the
activation ranges gathered on the float model (by tensor name) apply without any mapping."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

import numpy as np

from edgepack.converters.litert.builder import _AlignedBuffer, schema
from edgepack.runtime.engines.litert import quantize_int8

QParams = tuple[float, int]  # (scale, zero point) of an int8 tensor

WEIGHTED = {"CONV_2D": 0, "DEPTHWISE_CONV_2D": 3, "FULLY_CONNECTED": 0}  # op -> filter's channel axis
FIXED = {"LOGISTIC": (1.0 / 256, -128), "SOFTMAX": (1.0 / 256, -128), "TANH": (1.0 / 128, 0)}
# output keeps the parameters of input 0 (the int8 kernels require it or it loses nothing)
SAME_AS_INPUT = {"MAX_POOL_2D", "AVERAGE_POOL_2D", "RESHAPE", "SQUEEZE", "TRANSPOSE", "SLICE", "STRIDED_SLICE",
                 "PAD", "RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR", "SPACE_TO_DEPTH", "DEPTH_TO_SPACE",
                 "GATHER", "SPLIT", "MAXIMUM", "MINIMUM", "EXPAND_DIMS"}
ALL_INPUTS_SAME = {"CONCATENATION", "MAXIMUM", "MINIMUM"}  # every activation input requantized to the output's
FREE = {"ADD", "SUB", "MUL", "MEAN", "RELU", "RELU6", "LEAKY_RELU", "RELU_N1_TO_1", "RELU_0_TO_1", "CONCATENATION"}
QUANTIZABLE = set(WEIGHTED) | set(FIXED) | SAME_AS_INPUT | FREE
VERSIONS = {"CONV_2D": 3, "DEPTHWISE_CONV_2D": 3, "FULLY_CONNECTED": 4}  # per-channel int8 versions


@dataclass
class Range:
    lo: float
    hi: float


def activation_params(r: Range) -> QParams:
    """Asymmetric int8 over [lo, hi] widened to hold 0 exactly (zero padding must stay exact)."""
    lo, hi = min(r.lo, 0.0), max(r.hi, 0.0)
    scale = max(hi - lo, 1e-6) / 255.0
    zp = int(np.clip(np.round(-128 - lo / scale), -128, 127))
    return float(scale), zp


def per_channel(w: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric int8 per channel of `axis`: values in [-127, 127], scales = max|w| / 127."""
    moved = np.moveaxis(w.astype(np.float64), axis, 0)
    absmax = np.abs(moved.reshape(moved.shape[0], -1)).max(axis=1)
    scales = np.where(absmax > 0, absmax / 127.0, 1.0)
    shape = [1] * w.ndim
    shape[axis] = -1
    q = np.clip(np.round(w / scales.reshape(shape)), -127, 127).astype(np.int8)
    return q, scales.astype(np.float32)


class Int8Rewriter:
    """One float model (bytes) + activation ranges by tensor name -> int8 model bytes, for any set of
    operators kept in float (`skip`, named by their first output tensor)."""

    def __init__(self, data: bytes, ranges: dict[str, Range]) -> None:
        self.data, self.ranges = data, ranges
        s = schema()
        self.s = s
        self.names = {v: k for k, v in vars(s.BuiltinOperator).items() if not k.startswith("_")}
        m = s.ModelT.InitFromPackedBuf(bytearray(data), 0)
        sg = m.subgraphs[0]
        self._fuse_activations(m, sg)
        self._info: dict[str, tuple[str, str]] = {}  # layer -> (op code, name of its data input)
        for op in sg.operators:
            if self._eligible(m, sg, op):
                x = next((i for i in op.inputs if i >= 0 and self._const(m, sg.tensors[i]) is None), -1)
                self._info[_n(sg.tensors[op.outputs[0]])] = (self._code(m, op), _n(sg.tensors[x]) if x >= 0 else "")
        self.layers = list(self._info)

    def op_of(self, layer: str) -> str:
        return self._info[layer][0]

    def input_of(self, layer: str) -> str:
        return self._info[layer][1]

    # -- what can be int8 ----------------------------------------------------------------------------------
    def _code(self, m, op) -> str:
        return self.names.get(m.operatorCodes[op.opcodeIndex].builtinCode, "?")

    def _const(self, m, t) -> np.ndarray | None:
        b = m.buffers[t.buffer]
        if t.buffer == 0 or b.data is None or len(b.data) == 0:
            return None
        dt = {self.s.TensorType.FLOAT32: np.float32, self.s.TensorType.INT32: np.int32,
              self.s.TensorType.INT64: np.int64}.get(t.type)
        if dt is None:
            return None
        shape = [int(d) for d in (t.shape if t.shape is not None else [])]
        return np.frombuffer(bytes(np.asarray(b.data, np.uint8)), dt).reshape(shape)

    def _eligible(self, m, sg, op) -> bool:
        code = self._code(m, op)
        if code not in QUANTIZABLE or not len(op.outputs):
            return False
        f32 = self.s.TensorType.FLOAT32
        for i in op.outputs:
            t = sg.tensors[i]
            if t.type != f32 or _n(t) not in self.ranges:
                return False
        for pos, i in enumerate(op.inputs):
            if i < 0:
                continue
            t = sg.tensors[i]
            const = self._const(m, t) is not None
            if code in WEIGHTED and pos in (1, 2) and not const:
                return False  # run-time weights or bias stay float
            if t.type == f32 and not const and _n(t) not in self.ranges:
                return False
        if code in SAME_AS_INPUT | ALL_INPUTS_SAME:  # their data input must be an activation
            t0 = sg.tensors[op.inputs[0]]
            if t0.type != f32 or self._const(m, t0) is not None:
                return False
        return True

    def _fuse_activations(self, m, sg) -> None:
        """RELU / RELU6 right after a CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED or ADD that alone reads its
        result becomes that op's fused activation. In int8 a separate activation is one more requantizing
        kernel outside XNNPACK's partitions: fusing made a small MobileNet-style block ~10x faster."""
        fused = {"RELU": self.s.ActivationFunctionType.RELU, "RELU6": self.s.ActivationFunctionType.RELU6}
        producer = {o: op for op in sg.operators for o in op.outputs}
        readers: dict[int, int] = {}
        for op in sg.operators:
            for i in op.inputs:
                readers[i] = readers.get(i, 0) + 1
        drop = set()
        for k, op in enumerate(sg.operators):
            code = self._code(m, op)
            if code not in fused or len(op.inputs) != 1:
                continue
            x = op.inputs[0]
            p = producer.get(x)
            if (p is None or self._code(m, p) not in (*WEIGHTED, "ADD") or readers.get(x) != 1 or x in sg.outputs
                    or p.builtinOptions is None or p.builtinOptions.fusedActivationFunction != 0):
                continue
            p.builtinOptions.fusedActivationFunction = fused[code]
            p.outputs = [op.outputs[0]]
            producer[op.outputs[0]] = p
            drop.add(k)
        sg.operators = [op for k, op in enumerate(sg.operators) if k not in drop]

    # -- the rewrite ---------------------------------------------------------------------------------------
    def build(self, skip: set[str], int8_io: bool = False, description: str = "") -> bytes:
        s = self.s
        m = s.ModelT.InitFromPackedBuf(bytearray(self.data), 0)
        sg = m.subgraphs[0]
        self._fuse_activations(m, sg)
        self.m, self.sg = m, sg
        f32 = s.TensorType.FLOAT32
        self.home: dict[int, str] = {}  # float tensor index -> "f" | "q" (what its index holds)
        self.qp: dict[int, QParams] = {}
        self.cache: dict[tuple, int] = {}
        self.new_ops: list = []
        consts = {i for i, t in enumerate(sg.tensors) if self._const(m, t) is not None}
        # float32 in the float model (types change as tensors become int8 during the rewrite)
        self.isf = {i for i, t in enumerate(sg.tensors) if t.type == f32}
        io_kind = "q" if int8_io else "f"
        for i in sg.inputs:
            if i in self.isf:
                self.home[i] = io_kind
                if int8_io:
                    self._set_int8(i, activation_params(self.ranges[_n(sg.tensors[i])]))
        outputs = set(sg.outputs)
        for op in sg.operators:
            code = self._code(m, op)
            key = _n(sg.tensors[op.outputs[0]]) if len(op.outputs) else ""
            q = key in self.layers and key not in skip
            ins = list(op.inputs)
            if q:
                out_p = self._quantized_inputs(op, code, ins, consts)
            else:
                for pos, i in enumerate(ins):
                    if i >= 0 and i not in consts and i in self.isf:
                        ins[pos] = self._float(i)
            op.inputs = ins
            self.new_ops.append(op)
            outs = list(op.outputs)
            for pos, i in enumerate(outs):
                if i not in self.isf:
                    continue
                kind = "q" if q else "f"
                home = io_kind if i in outputs else kind
                p = out_p if q else (activation_params(self.ranges[_n(sg.tensors[i])]) if home == "q" else None)
                if kind == home:
                    self.home[i] = kind
                    if kind == "q":
                        self._set_int8(i, p)
                    continue
                alt = self._new_tensor(i, "q" if kind == "q" else "f", p if kind == "q" else None)
                outs[pos] = alt
                self.home[i] = home
                if home == "q":
                    self._set_int8(i, p)
                self._emit("QUANTIZE" if home == "q" else "DEQUANTIZE", alt, i)
            op.outputs = outs
            if q and code in VERSIONS:  # other ops keep version 1 (the resolver maps it to the same kernel)
                self._bump(op, VERSIONS[code])
        sg.operators = self.new_ops
        self._compact(m, sg)
        m.description = description or m.description
        m.buffers = [_AlignedBuffer(bytes(np.asarray(b.data, np.uint8)) if b.data is not None and len(b.data)
                                    else None) for b in m.buffers]
        import flatbuffers

        total = sum(len(b.data or b"") for b in m.buffers)
        fb = flatbuffers.Builder(max(1024, total + (1 << 16)))
        fb.Finish(m.Pack(fb), file_identifier=b"TFL3")
        return _reattach_files(bytes(fb.Output()), self.data)

    def _quantized_inputs(self, op, code: str, ins: list[int], consts: set[int]) -> QParams:
        """Point the op's inputs at int8 tensors (weights/bias quantized, activations converted as needed);
        returns the output's quantization parameters."""
        sg = self.sg
        out_name = _n(sg.tensors[op.outputs[0]])
        x0 = ins[0]
        if code in FIXED:
            out_p = FIXED[code]
        elif code in ALL_INPUTS_SAME:
            out_p = activation_params(self.ranges[out_name])
        elif code in SAME_AS_INPUT:
            ins[0] = self._int8(x0)
            out_p = self.qp[ins[0]]
        else:
            out_p = activation_params(self.ranges[out_name])
        for pos, i in enumerate(ins):
            if i < 0 or (pos == 0 and code in SAME_AS_INPUT and code not in ALL_INPUTS_SAME):
                continue
            t = sg.tensors[i]
            if i not in self.isf:
                continue
            if code in WEIGHTED and pos in (1, 2):
                continue  # after the input: its scale sets the weight and bias scales
            need = out_p if code in ALL_INPUTS_SAME else None
            if i in consts:
                v = self._const(self.m, t)
                p = need or activation_params(Range(float(v.min()), float(v.max())))
                ins[pos] = self._const_tensor(t, quantize_int8(v, p), p)
            else:
                ins[pos] = self._int8(i, need)
        if code in WEIGHTED:
            axis = WEIGHTED[code]
            wt = sg.tensors[ins[1]]
            wq, ws = per_channel(self._const(self.m, wt), axis)
            ins[1] = self._const_tensor(wt, wq, (ws, np.zeros(len(ws), np.int64), axis))
            s_in = self.qp[ins[0]][0]
            if len(ins) > 2 and ins[2] >= 0:
                bt = sg.tensors[ins[2]]
                bs = (s_in * ws.astype(np.float64))
                bq = np.clip(np.round(self._const(self.m, bt) / bs), -2**31, 2**31 - 1).astype(np.int32)
                ins[2] = self._const_tensor(bt, bq, (bs.astype(np.float32), np.zeros(len(bs), np.int64), 0))
        return out_p

    # -- tensors and conversions ---------------------------------------------------------------------------
    def _set_int8(self, i: int, p: QParams) -> None:
        t = self.sg.tensors[i]
        t.type = self.s.TensorType.INT8
        t.quantization = self._qparams([p[0]], [p[1]])
        self.qp[i] = p

    def _qparams(self, scales, zps, axis: int = 0):
        qp = self.s.QuantizationParametersT()
        qp.scale = [float(x) for x in scales]
        qp.zeroPoint = [int(x) for x in zps]
        qp.quantizedDimension = int(axis)
        return qp

    def _new_tensor(self, like: int, kind: str, p: QParams | None, suffix: str = "") -> int:
        src = self.sg.tensors[like]
        t = self.s.TensorT()
        t.name = f"{_n(src)}/{suffix or ('int8' if kind == 'q' else 'float')}_{len(self.sg.tensors)}"
        t.shape = list(src.shape)
        t.buffer = 0
        t.type = self.s.TensorType.FLOAT32
        self.sg.tensors.append(t)
        idx = len(self.sg.tensors) - 1
        if kind == "q":
            self._set_int8(idx, p)
        return idx

    def _const_tensor(self, like, values: np.ndarray, params) -> int:
        t = self.s.TensorT()
        t.name = f"{_n(like)}/{'int32' if values.dtype == np.int32 else 'int8'}_{len(self.sg.tensors)}"
        t.shape = list(values.shape)
        t.type = self.s.TensorType.INT32 if values.dtype == np.int32 else self.s.TensorType.INT8
        b = self.s.BufferT()
        b.data = np.frombuffer(np.ascontiguousarray(values).tobytes(), np.uint8)
        self.m.buffers.append(b)
        t.buffer = len(self.m.buffers) - 1
        if isinstance(params, tuple) and len(params) == 3:
            t.quantization = self._qparams(*params)
        else:
            t.quantization = self._qparams([params[0]], [params[1]])
        self.sg.tensors.append(t)
        return len(self.sg.tensors) - 1

    def _int8(self, i: int, need: QParams | None = None) -> int:
        """An int8 version of activation tensor i (with parameters `need` when given)."""
        if self.home.get(i, "f") == "q" and (need is None or self.qp[i] == need):
            return i
        p = need or (self.qp[i] if self.home.get(i) == "q" else activation_params(self.ranges[_n(self.sg.tensors[i])]))
        key = ("q", i, p)
        if key not in self.cache:
            dst = self._new_tensor(i, "q", p)
            self._emit("QUANTIZE", i, dst)  # float -> int8, or int8 -> int8 (requantize)
            self.cache[key] = dst
        return self.cache[key]

    def _float(self, i: int) -> int:
        if self.home.get(i, "f") == "f":
            return i
        key = ("f", i)
        if key not in self.cache:
            dst = self._new_tensor(i, "f", None)
            self._emit("DEQUANTIZE", i, dst)
            self.cache[key] = dst
        return self.cache[key]

    def _opcode(self, code: str, version: int = 1) -> int:
        s, m = self.s, self.m
        builtin = getattr(s.BuiltinOperator, code)
        for k, oc in enumerate(m.operatorCodes):
            if oc.builtinCode == builtin:
                oc.version = max(oc.version, version)
                return k
        oc = s.OperatorCodeT()
        oc.builtinCode, oc.deprecatedBuiltinCode, oc.version = builtin, min(builtin, 127), version
        m.operatorCodes.append(oc)
        return len(m.operatorCodes) - 1

    def _emit(self, code: str, src: int, dst: int) -> None:
        o = self.s.OperatorT()
        o.opcodeIndex = self._opcode(code, 2)
        o.inputs, o.outputs = [src], [dst]
        self.new_ops.append(o)

    def _bump(self, op, version: int) -> None:
        oc = self.m.operatorCodes[op.opcodeIndex]
        oc.version = max(oc.version, version)

    @staticmethod
    def _compact(m, sg) -> None:
        """Drop tensors and buffers nothing uses any more (the float weights that were quantized)."""
        used = set(sg.inputs) | set(sg.outputs) | {i for op in sg.operators for i in (*op.inputs, *op.outputs)}
        used.discard(-1)
        keep = sorted(used)
        remap = {old: new for new, old in enumerate(keep)}
        sg.tensors = [sg.tensors[i] for i in keep]
        for op in sg.operators:
            op.inputs = [remap.get(i, -1) if i >= 0 else -1 for i in op.inputs]
            op.outputs = [remap[i] for i in op.outputs]
        sg.inputs = [remap[i] for i in sg.inputs]
        sg.outputs = [remap[i] for i in sg.outputs]
        for sig in m.signatureDefs or []:
            for tm in [*(sig.inputs or []), *(sig.outputs or [])]:
                tm.tensorIndex = remap[tm.tensorIndex]
        used_buf = {0} | {t.buffer for t in sg.tensors} | {md.buffer for md in (m.metadata or [])}
        bremap = {old: new for new, old in enumerate(sorted(used_buf))}
        m.buffers = [m.buffers[i] for i in sorted(used_buf)]
        for t in sg.tensors:
            t.buffer = bremap[t.buffer]
        for md in m.metadata or []:
            md.buffer = bremap[md.buffer]


def _n(t) -> str:
    """A tensor's name as str (the object API gives bytes)."""
    return t.name.decode() if isinstance(t.name, bytes) else str(t.name)


def _reattach_files(model: bytes, original: bytes) -> bytes:
    """Associated files (the labels zip MediaPipe reads after the flatbuffer) carried over from the float
    model."""
    try:
        src = zipfile.ZipFile(io.BytesIO(original))
        names = src.namelist()
    except zipfile.BadZipFile:
        return model
    buf = io.BytesIO()
    buf.write(model)
    with zipfile.ZipFile(buf, "a") as zf:
        for n in names:
            zf.writestr(n, src.read(n))
    return buf.getvalue()
