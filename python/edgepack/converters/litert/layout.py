"""The layout pass: TFLite's spatial kernels are channels-last, ONNX is channels-first. One pass over the graph
decides, per tensor, the permutation it is physically stored in:

- spatial ops (Conv, pools, Resize...) want their data input channels-last and produce channels-last;
- layout-agnostic ops (elementwise, broadcasting binaries, Concat/Split/Slice/Pad/reductions/Softmax) take
  whatever permutation their input has, and their axis attributes are rewritten here, once;
- Transpose nodes become free: the output is just recorded in a different permutation;
- every other op wants the ONNX layout.

A Transpose is materialised only where a consumer wants a permutation its producer did not give, and once
per (tensor, permutation): an NHWC conv chain keeps NHWC throughout, and inverse transposes cancel because
they are never written. Constants are permuted at conversion time. The graph's inputs and outputs keep the
ONNX layout and names, or are channels-last for rank-4 tensors with io_layout="nhwc".
"""

from __future__ import annotations

import numpy as np

from edgepack.converters.litert.ir import Graph, Node, Tensor

Perm = tuple[int, ...]

SPATIAL = {"Conv", "ConvTranspose", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "Resize",
           "Upsample", "DepthToSpace", "SpaceToDepth", "InstanceNormalization", "LpPool", "LRN"}
UNARY = {"Relu", "Sigmoid", "Tanh", "Exp", "Log", "Sqrt", "Neg", "Abs", "Floor", "Ceil", "Round", "Sign", "Sin",
         "Cos", "Erf", "Reciprocal", "Not", "Clip", "LeakyRelu", "Elu", "Selu", "HardSigmoid", "HardSwish", "Gelu",
         "Softplus", "Softsign", "Mish", "Cast", "Identity", "Dropout", "IsNaN", "IsInf", "Celu", "ThresholdedRelu"}
BROADCAST = {"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum", "Mean", "PRelu", "Where", "Equal", "Less",
             "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor", "Mod", "BitShift"}
REDUCE = {"ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
          "ReduceSumSquare", "ReduceLogSum", "ReduceLogSumExp", "ArgMax", "ArgMin"}
AXIS = {"Concat", "Split", "Softmax", "LogSoftmax", "Slice", "Pad"} | REDUCE


def identity(rank: int) -> Perm:
    return tuple(range(rank))


def channels_last(rank: int) -> Perm:
    return (0, *range(2, rank), 1)


def inverse(p: Perm) -> Perm:
    inv = [0] * len(p)
    for i, a in enumerate(p):
        inv[a] = i
    return tuple(inv)


class _Pass:
    def __init__(self, graph: Graph, io_layout: str) -> None:
        self.g = graph
        self.io_layout = io_layout
        self.nodes: list[Node] = []
        self.tensors: dict[str, Tensor] = {}
        self.produced: dict[str, Perm] = {}  # logical name -> permutation it was produced in
        self.phys: dict[tuple[str, Perm], str] = {}  # (logical name, permutation) -> physical tensor name

    # -- physical tensors -------------------------------------------------------------------------------
    def home(self, name: str) -> Perm:
        """The permutation under which a tensor keeps its own name: the io layout for graph I/O."""
        rank = self.g.tensors[name].rank
        if self.io_layout == "nhwc" and rank == 4 and (name in self.g.outputs or name in self.g.inputs):
            return channels_last(4)
        return identity(rank)

    def name_for(self, name: str, perm: Perm) -> str:
        if perm == self.home(name):
            return name
        return f"{name}__perm{''.join(map(str, perm))}"

    def declare(self, name: str, perm: Perm) -> str:
        """Record that `name` is produced in `perm`; returns its physical name."""
        t = self.g.tensors[name]
        phys = self.name_for(name, perm)
        self.tensors[phys] = Tensor(phys, [t.shape[a] for a in perm], t.dtype)
        self.produced[name] = perm
        self.phys[(name, perm)] = phys
        return phys

    def get(self, name: str, perm: Perm) -> str:
        """The physical name of `name` in `perm`, transposing (once) if it was produced otherwise."""
        if not name:
            return ""
        if (name, perm) in self.phys:
            return self.phys[(name, perm)]
        t = self.g.tensors[name]
        if t.value is not None:
            phys = self.name_for(name, perm)
            v = np.transpose(t.value, perm) if t.value.ndim else t.value
            self.tensors[phys] = Tensor(phys, list(v.shape), v.dtype, v)
        else:
            have = self.produced[name]
            src = self.phys[(name, have)]
            inv = inverse(have)
            r = [inv[q] for q in perm]
            phys = self.name_for(name, perm)
            self.tensors[phys] = Tensor(phys, [t.shape[a] for a in perm], t.dtype)
            self.nodes.append(Node("Transpose", f"{name}/layout", [src], [phys], {"perm": r}))
        self.phys[(name, perm)] = phys
        return phys

    def perm_of(self, name: str) -> Perm | None:
        if not name or self.g.tensors[name].value is not None:
            return None
        return self.produced.get(name)

    # -- the pass ---------------------------------------------------------------------------------------
    def run(self) -> Graph:
        for name in self.g.inputs:
            self.declare(name, self.home(name))
        for node in self.g.nodes:
            self.visit(node)
        outputs = []
        for o in self.g.outputs:
            src = self.get(o, self.home(o))
            if src != o:  # the output is an alias (free Transpose, or a graph input): copy it into its name
                self.tensors[o] = Tensor(o, list(self.tensors[src].shape), self.tensors[src].dtype,
                                         self.tensors[src].value)
                if self.tensors[src].value is None:
                    self.nodes.append(Node("Identity", f"{o}/output", [src], [o]))
            outputs.append(o)
        for t in self.g.tensors.values():  # untouched constants keep their layout
            if t.value is not None and t.name not in self.tensors:
                self.tensors[t.name] = t
        return Graph(self.tensors, self.nodes, [self.phys[(i, self.home(i))] for i in self.g.inputs], outputs,
                     self.g.opset, self.g._counter)

    def visit(self, node: Node) -> None:
        data_rank = self.g.tensors[node.inputs[0]].rank if node.inputs and node.inputs[0] else 0
        if node.op in SPATIAL and data_rank == 4:
            node.nhwc = True
            self.emit(node, channels_last(4), data_inputs=1)
        elif node.op == "Transpose":
            self.transpose(node)
        elif node.op in UNARY or node.op in BROADCAST:
            self.emit(node, self.choose(node), data_inputs=len(node.inputs))
        elif node.op in AXIS and self.axis_rule_ok(node):
            self.emit(node, self.choose(node), data_inputs=1 if node.op not in ("Concat",) else len(node.inputs))
        else:
            self.emit(node, None, data_inputs=0)

    def choose(self, node: Node) -> Perm | None:
        """The permutation of the first non-identity, full-rank data input, if all data inputs can follow."""
        out_rank = self.g.tensors[node.outputs[0]].rank
        pick = None
        for i in node.inputs:
            p = self.perm_of(i)
            if p is not None and p != identity(len(p)) and len(p) == out_rank:
                pick = p
                break
        if pick is None:
            return None
        for i in node.inputs:
            if i and self.g.tensors[i].value is None and self.g.tensors[i].rank not in (out_rank,):
                return None  # a lower-rank runtime tensor would need a reshape first: keep ONNX layout
        return pick

    def axis_rule_ok(self, node: Node) -> bool:
        if node.op in ("Softmax", "LogSoftmax") and self.g.opset < 13:
            return False  # before opset 13 these flatten from `axis`: not a per-axis op
        if node.op == "Pad" and "pads" not in node.attrs:
            return False
        return True

    def emit(self, node: Node, perm: Perm | None, data_inputs: int) -> None:
        ins = []
        for k, i in enumerate(node.inputs):
            if not i:
                ins.append("")
                continue
            rank = self.g.tensors[i].rank
            if perm is not None and k < data_inputs:
                ins.append(self.follow(i, perm))
            else:
                ins.append(self.get(i, identity(rank)))
        reduced = None
        if node.op in REDUCE and perm is not None:
            reduced = reduced_perm(perm, reduce_axes(node, len(perm)))
        if perm is not None and not node.nhwc:
            rewrite_axes(node, perm, self.g)
        node.inputs = ins
        outs = []
        for o in node.outputs:
            if not o:
                outs.append("")
                continue
            rank = self.g.tensors[o].rank
            p = perm if perm is not None and rank == len(perm) else identity(rank)
            if reduced is not None and rank != len(perm):
                p = reduced
            outs.append(self.declare(o, p))
        node.outputs = outs
        self.nodes.append(node)

    def follow(self, name: str, perm: Perm) -> str:
        """A data input in `perm`: constants are broadcast to full rank first so that they permute too."""
        t = self.g.tensors[name]
        if t.value is not None and t.rank < len(perm):
            v = t.value.reshape([1] * (len(perm) - t.rank) + list(t.value.shape))
            phys = self.g.unique(f"{name}_nhwc")
            v = np.transpose(v, perm)
            self.tensors[phys] = Tensor(phys, list(v.shape), v.dtype, v)
            return phys
        return self.get(name, perm)

    def transpose(self, node: Node) -> None:
        """Y = transpose(X, q) costs nothing here: Y is recorded in the permutation that makes the stored
        bytes of X already be Y. A consumer that wants another permutation gets a real transpose."""
        x, y = node.inputs[0], node.outputs[0]
        if self.g.tensors[x].value is not None:
            self.emit(node, None, 0)
            return
        p = self.produced[x]
        q = tuple(node.attrs.get("perm") or reversed(range(len(p))))
        inv_q = inverse(q)
        s = tuple(inv_q[a] for a in p)
        self.produced[y] = s
        self.phys[(y, s)] = self.phys[(x, p)]


def reduced_perm(perm: Perm, axes: list[int]) -> Perm:
    """Output permutation of a keepdims=0 reduction whose input is stored in `perm` (axes are logical)."""
    kept = [a for a in perm if a not in set(axes)]
    order = sorted(kept)
    return tuple(order.index(a) for a in kept)


def reduce_axes(node: Node, rank: int) -> list[int]:
    """The logical axes a reduction reduces (ONNX defaults: all axes unless noop_with_empty_axes)."""
    a = node.attrs
    if node.op in ("ArgMax", "ArgMin"):
        ax = a.get("axis", 0)
        return [ax + rank if ax < 0 else ax]
    axes = a.get("axes")
    if axes is None or (isinstance(axes, list) and not axes):
        return [] if a.get("noop_with_empty_axes", 0) else list(range(rank))
    axes = [axes] if isinstance(axes, int) else axes
    return [x + rank if x < 0 else x for x in axes]


def rewrite_axes(node: Node, perm: Perm, graph: Graph) -> None:
    """Logical axis a is physical axis inverse(perm)[a]. Applied once, here, for every axis-carrying op."""
    inv = inverse(perm)
    a = node.attrs
    rank = len(perm)
    if node.op in ("Concat", "Split", "Softmax", "LogSoftmax", "ArgMax", "ArgMin"):
        ax = a.get("axis", -1 if node.op in ("Softmax", "LogSoftmax") else 0)
        a["axis"] = inv[ax + rank if ax < 0 else ax]
    elif node.op in REDUCE:
        a["axes"] = sorted(inv[x] for x in reduce_axes(node, rank))
    elif "axes" in a and node.op not in ("Pad", "Slice"):
        a["axes"] = sorted(inv[x + rank if x < 0 else x] for x in a["axes"])
    if node.op == "Slice":
        axes = a.get("axes") or list(range(len(a["starts"])))
        # starts/ends/steps follow their axes; sorting the axes above must carry them along
        logical = node.attrs.get("_logical_axes") or axes
        order = sorted(range(len(logical)), key=lambda k: inv[logical[k]])
        for key in ("starts", "ends", "steps"):
            if key in a:
                a[key] = [a[key][k] for k in order]
        a["axes"] = [inv[logical[k]] for k in order]
    if node.op == "Pad":
        pads = list(a["pads"])
        axes = a.pop("axes", None) or list(range(rank))
        full = [0] * (2 * rank)
        for k, ax in enumerate(axes):
            ax = ax + rank if ax < 0 else ax
            full[ax], full[ax + rank] = pads[k], pads[k + len(axes)]
        a["pads"] = [full[p] for p in perm] + [full[p + rank] for p in perm]


def to_physical(graph: Graph, io_layout: str = "onnx") -> Graph:
    """Run the layout pass; returns a new graph whose tensor shapes are the physical (stored) shapes."""
    for node in graph.nodes:  # Slice axes are rewritten with their starts/ends: remember the ONNX order
        if node.op == "Slice" and "axes" in node.attrs:
            node.attrs["_logical_axes"] = list(node.attrs["axes"])
    return _Pass(graph, io_layout).run()
