"""The converter's graph: ONNX nodes with static shapes and constants as numpy arrays. Loaded once from the
prepared ONNX file; the passes (fold, layout) rewrite it and the lowerings read it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edgepack.errors import ConversionError, UnsupportedOpError

MAX_TENSOR_BYTES = 2**31 - 1  # a flatbuffer cannot address more than 2 GB


@dataclass
class Tensor:
    name: str
    shape: list[int]
    dtype: np.dtype
    value: np.ndarray | None = None  # set for constants

    @property
    def rank(self) -> int:
        return len(self.shape)


@dataclass
class Node:
    op: str
    name: str
    inputs: list[str]  # "" marks an omitted optional input
    outputs: list[str]
    attrs: dict[str, Any] = field(default_factory=dict)
    nhwc: bool = False  # set by the layout pass: the data input and outputs are channels-last


@dataclass
class Graph:
    tensors: dict[str, Tensor]
    nodes: list[Node]
    inputs: list[str]
    outputs: list[str]
    opset: int = 17
    _counter: int = 0

    def value(self, name: str) -> np.ndarray | None:
        t = self.tensors.get(name) if name else None
        return None if t is None else t.value

    def unique(self, hint: str) -> str:
        while True:
            self._counter += 1
            name = f"{hint}__{self._counter}"
            if name not in self.tensors:
                return name

    def add_const(self, array: np.ndarray, hint: str) -> str:
        name = self.unique(hint)
        a = np.asarray(array)
        self.tensors[name] = Tensor(name, list(a.shape), a.dtype, a)
        return name

    def add_tensor(self, shape: list[int], dtype: np.dtype, hint: str) -> str:
        name = self.unique(hint)
        self.tensors[name] = Tensor(name, list(shape), np.dtype(dtype))
        return name


def unsupported(op: str, name: str, detail: str) -> UnsupportedOpError:
    """The error for a node the LiteRT writer cannot express (the CLI target is `tflite`)."""
    return UnsupportedOpError("litert", op, name, detail, target="tflite")


def load_graph(path: str | Path) -> Graph:
    """Read the prepared ONNX model into a Graph. Shapes come from ONNX shape inference; where it left a dim
    open, ONNX Runtime is asked once (every intermediate exposed as an output) for the exact shapes."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(path))
    g = model.graph
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 17)
    tensors: dict[str, Tensor] = {}
    for init in g.initializer:
        a = numpy_helper.to_array(init)
        tensors[init.name] = Tensor(init.name, list(a.shape), a.dtype, a)
    open_dims = []
    for vi in [*g.input, *g.value_info, *g.output]:
        if vi.name in tensors or not vi.type.HasField("tensor_type"):
            continue
        tt = vi.type.tensor_type
        dims = [d.dim_value if d.HasField("dim_value") else -1 for d in tt.shape.dim]
        if not tt.HasField("shape") or any(d < 0 for d in dims):
            open_dims.append(vi.name)
        dtype = helper.tensor_dtype_to_np_dtype(tt.elem_type) if tt.elem_type else np.dtype(np.float32)
        tensors[vi.name] = Tensor(vi.name, dims, np.dtype(dtype))
    nodes = []
    for i, n in enumerate(g.node):
        if n.domain not in ("", "ai.onnx"):
            nodes.append(Node(f"{n.domain}.{n.op_type}", n.name or f"{n.op_type}_{i}", list(n.input),
                              list(n.output)))
            continue
        attrs = {a.name: _attr(helper.get_attribute_value(a)) for a in n.attribute}
        nodes.append(Node(n.op_type, n.name or f"{n.op_type}_{i}", list(n.input), list(n.output), attrs))
    produced = {o for n in nodes for o in n.outputs if o}
    missing = [o for o in produced if o not in tensors]
    inputs = [i.name for i in g.input if i.name not in {x.name for x in g.initializer}]
    graph = Graph(tensors, nodes, inputs, [o.name for o in g.output], opset)
    if open_dims or missing:
        _shapes_from_runtime(model, graph)
    for t in graph.tensors.values():
        if t.value is not None and t.value.nbytes > MAX_TENSOR_BYTES:
            raise ConversionError(f"litert: tensor '{t.name}' holds {t.value.nbytes / 2**30:.2f} GB; a .tflite "
                                  "flatbuffer cannot address tensors over 2 GB; split the weight or convert to "
                                  "another target")
    return graph


def _attr(v: Any) -> Any:
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, list) and v and isinstance(v[0], bytes):
        return [x.decode("utf-8", "replace") for x in v]
    return v


def _shapes_from_runtime(model, graph: Graph) -> None:
    """Run ONNX Runtime once with every node output exposed and record the exact shapes and dtypes."""
    import onnx
    import onnxruntime as ort

    from edgepack.runtime.artifact import TensorInfo, seeded_inputs

    m = onnx.ModelProto()
    m.CopyFrom(model)
    known = {o.name for o in m.graph.output}
    for n in m.graph.node:
        for o in n.output:
            if o and o not in known:
                m.graph.output.append(onnx.ValueInfoProto(name=o))
                known.add(o)
    infos = [TensorInfo(n, graph.tensors[n].shape, str(graph.tensors[n].dtype)) for n in graph.inputs]
    open_names = [t.name for t in graph.tensors.values() if t.value is None and any(d < 0 for d in t.shape)]
    try:
        sess = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
        names = [o.name for o in sess.get_outputs()]
        values = sess.run(names, seeded_inputs(infos))
    except Exception as e:
        raise ConversionError(f"litert: the shapes of {open_names[:5] or 'some tensors'} are not static (they "
                              "depend on input values, e.g. a Resize whose scales are a model input); a LiteRT "
                              f"model needs static shapes: make those inputs constants "
                              f"({str(e).splitlines()[0][:160]})") from e
    for name, arr in zip(names, values):
        arr = np.asarray(arr)
        graph.tensors[name] = Tensor(name, list(arr.shape), arr.dtype)
