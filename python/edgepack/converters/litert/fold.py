"""Graph passes before layout: fold constants, and move inputs that must be constant (axes, pads, scales,
split sizes, clip bounds) into attributes, so the layout pass and the lowerings see one spelling per op."""

from __future__ import annotations

import numpy as np

from edgepack.converters.litert.ir import Graph, Node, Tensor, unsupported

# Ops never evaluated at conversion time even with constant inputs (random, or not values).
_NO_FOLD = {"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial", "Bernoulli"}
_ALIAS = {"Identity", "Dropout"}

# input index -> attribute name, for inputs that the lowerings need as constants
_CONST_INPUTS: dict[str, dict[int, str]] = {
    "ReduceMean": {1: "axes"}, "ReduceSum": {1: "axes"}, "ReduceMax": {1: "axes"}, "ReduceMin": {1: "axes"},
    "ReduceProd": {1: "axes"}, "ReduceL1": {1: "axes"}, "ReduceL2": {1: "axes"}, "ReduceSumSquare": {1: "axes"},
    "ReduceLogSum": {1: "axes"}, "ReduceLogSumExp": {1: "axes"},
    "Squeeze": {1: "axes"}, "Unsqueeze": {1: "axes"},
    "Slice": {1: "starts", 2: "ends", 3: "axes", 4: "steps"},
    "Split": {1: "split"}, "Pad": {1: "pads", 2: "value", 3: "axes"}, "Clip": {1: "min", 2: "max"},
    "Resize": {1: "roi", 2: "scales", 3: "sizes"}, "Upsample": {1: "scales"}, "Reshape": {1: "shape"},
    "Expand": {1: "shape"}, "Tile": {1: "repeats"},
}


def fold(graph: Graph) -> Graph:
    """Fold constants (Constant, Shape of static tensors, nodes whose inputs are all constant), drop
    Identity/Dropout, fold BatchNormalization into Mul/Add and turn constant inputs into attributes."""
    alias: dict[str, str] = {}
    keep: list[Node] = []
    outputs = set(graph.outputs)
    for node in graph.nodes:
        node.inputs = [alias.get(i, i) for i in node.inputs]
        if node.op in _ALIAS and node.outputs[0] not in outputs and len(node.outputs) == 1:
            alias[node.outputs[0]] = node.inputs[0]
            continue
        if _try_fold(graph, node):
            continue
        if node.op == "BatchNormalization":
            keep.extend(_batchnorm(graph, node))
            continue
        if node.op in _WINDOWED and graph.tensors[node.inputs[0]].rank == 3:
            keep.extend(_to_2d(graph, node))
            continue
        _const_inputs_to_attrs(graph, node)
        keep.append(node)
    graph.nodes = keep
    return graph


def _try_fold(graph: Graph, node: Node) -> bool:
    if node.op == "Constant":
        _set_const(graph, node.outputs[0], _constant_value(node))
        return True
    if node.op == "Shape":
        shape = np.array(graph.tensors[node.inputs[0]].shape, dtype=np.int64)
        start, end = node.attrs.get("start", 0), node.attrs.get("end", None)
        _set_const(graph, node.outputs[0], shape[start:end])
        return True
    if node.op == "Size":
        _set_const(graph, node.outputs[0], np.array(int(np.prod(graph.tensors[node.inputs[0]].shape)), np.int64))
        return True
    ins = [i for i in node.inputs if i]
    if node.op in _NO_FOLD or not ins or any(graph.value(i) is None for i in ins) or "." in node.op:
        return False
    values = _evaluate(graph, node)
    for name, v in zip(node.outputs, values):
        if name:
            _set_const(graph, name, np.asarray(v))
    return True


def _evaluate(graph: Graph, node: Node) -> list[np.ndarray]:
    """Run one node with constant inputs through ONNX's reference evaluator."""
    from onnx import helper, numpy_helper
    from onnx.reference import ReferenceEvaluator

    ins = [i for i in node.inputs if i]
    inits = [numpy_helper.from_array(np.asarray(graph.value(i)), i) for i in ins]
    n = helper.make_node(node.op, node.inputs, node.outputs, **node.attrs)
    outs = [helper.make_empty_tensor_value_info(o) for o in node.outputs if o]
    g = helper.make_graph([n], "fold", [], outs, inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", graph.opset)])
    m.ir_version = 8
    return ReferenceEvaluator(m).run(None, {})


def _constant_value(node: Node) -> np.ndarray:
    from onnx import numpy_helper

    a = node.attrs
    if "value" in a:
        return numpy_helper.to_array(a["value"])
    for key, dt in (("value_float", np.float32), ("value_int", np.int64)):
        if key in a:
            return np.array(a[key], dtype=dt)
    for key, dt in (("value_floats", np.float32), ("value_ints", np.int64)):
        if key in a:
            return np.array(list(a[key]), dtype=dt)
    raise unsupported("Constant", node.name, f"constant kind {sorted(a)} is not supported")


def _set_const(graph: Graph, name: str, value: np.ndarray) -> None:
    graph.tensors[name] = Tensor(name, list(value.shape), value.dtype, value)


def _batchnorm(graph: Graph, node: Node) -> list[Node]:
    """Inference BatchNormalization = x * scale + shift with per-channel constants (channel axis 1)."""
    x, gamma, beta, mean, var = (node.inputs + [""] * 5)[:5]
    vals = [graph.value(v) for v in (gamma, beta, mean, var)]
    if any(v is None for v in vals) or (len(node.outputs) > 1 and any(node.outputs[1:])):
        raise unsupported(node.op, node.name, "only inference mode with constant statistics "
                                 "is supported")
    g, b, m, v = (np.asarray(a, np.float64) for a in vals)
    scale = g / np.sqrt(v + node.attrs.get("epsilon", 1e-5))
    shift = b - m * scale
    rank = graph.tensors[x].rank
    shape = [1, -1] + [1] * (rank - 2)
    dt = graph.tensors[x].dtype
    s = graph.add_const(scale.reshape(shape).astype(dt), f"{node.name}_scale")
    t = graph.add_const(shift.reshape(shape).astype(dt), f"{node.name}_shift")
    mid = graph.add_tensor(graph.tensors[x].shape, dt, f"{node.name}_mul")
    return [Node("Mul", f"{node.name}/mul", [x, s], [mid]), Node("Add", f"{node.name}/add", [mid, t],
                                                                  [node.outputs[0]])]


_WINDOWED = {"Conv", "ConvTranspose", "MaxPool", "AveragePool"}


def _to_2d(graph: Graph, node: Node) -> list[Node]:
    """A 1-D window op [N, C, L] becomes the 2-D op on [N, C, 1, L] between two reshapes (TFLite's
    convolutions and pools are 2-D)."""
    if len(node.outputs) > 1 and any(node.outputs[1:]):
        raise unsupported(node.op, node.name, "the second output of a 1-D window op")
    x, y = graph.tensors[node.inputs[0]], graph.tensors[node.outputs[0]]
    x4 = graph.add_tensor([x.shape[0], x.shape[1], 1, x.shape[2]], x.dtype, f"{node.name}_in2d")
    y4 = graph.add_tensor([y.shape[0], y.shape[1], 1, y.shape[2]], y.dtype, f"{node.name}_out2d")
    nodes = [Node("Unsqueeze", f"{node.name}/to2d", [node.inputs[0]], [x4], {"axes": [2]})]
    ins = [x4]
    for i in node.inputs[1:2]:  # the weight: [O, I, K] -> [O, I, 1, K]
        w = graph.tensors[i]
        if w.value is not None:
            ins.append(graph.add_const(w.value.reshape(w.shape[0], w.shape[1], 1, w.shape[2]), f"{node.name}_w2d"))
        else:
            w4 = graph.add_tensor([w.shape[0], w.shape[1], 1, w.shape[2]], w.dtype, f"{node.name}_w2d")
            nodes.append(Node("Unsqueeze", f"{node.name}/w2d", [i], [w4], {"axes": [2]}))
            ins.append(w4)
    ins += node.inputs[2:]
    a = dict(node.attrs)
    for key, pad in (("kernel_shape", 1), ("strides", 1), ("dilations", 1), ("output_padding", 0)):
        if key in a:
            a[key] = [pad, *a[key]]
    if "pads" in a:
        a["pads"] = [0, a["pads"][0], 0, a["pads"][1]]
    if "output_shape" in a:
        a["output_shape"] = [1, *a["output_shape"]]
    nodes.append(Node(node.op, node.name, ins, [y4], a))
    nodes.append(Node("Squeeze", f"{node.name}/to1d", [y4], [node.outputs[0]], {"axes": [2]}))
    return nodes


def _const_inputs_to_attrs(graph: Graph, node: Node) -> None:
    spec = _CONST_INPUTS.get(node.op)
    if node.op == "Resize" and graph.opset < 11:
        spec = {1: "scales"}
    if not spec:
        return
    if node.op in ("Split", "Squeeze", "Unsqueeze") and graph.opset < 13:
        return
    if node.op in ("Reduce" + s for s in ("Mean", "Max", "Min", "Prod", "L1", "L2", "SumSquare", "LogSum",
                                          "LogSumExp")) and graph.opset < 18:
        return
    if node.op == "Pad" and graph.opset < 11 or node.op == "Clip" and graph.opset < 11:
        return
    for idx, attr in spec.items():
        if idx >= len(node.inputs) or not node.inputs[idx]:
            continue
        v = graph.value(node.inputs[idx])
        if v is None:
            raise unsupported(node.op, node.name, f"input {idx} ({attr}) must be a constant "
                                     "after simplification; it is computed at run time")
        node.attrs[attr] = v.tolist() if v.ndim else v.item()
    node.inputs = node.inputs[: min(spec)]
    _normalize_axes(graph, node)


def _normalize_axes(graph: Graph, node: Node) -> None:
    """Axes become non-negative (relative to the data input rank; Unsqueeze: the output rank)."""
    if "axes" not in node.attrs or node.op == "Pad" and not node.inputs:
        return
    ref = node.outputs[0] if node.op == "Unsqueeze" else node.inputs[0]
    rank = graph.tensors[ref].rank
    axes = node.attrs["axes"]
    axes = [axes] if isinstance(axes, int) else list(axes)
    node.attrs["axes"] = [a + rank if a < 0 else a for a in axes]
