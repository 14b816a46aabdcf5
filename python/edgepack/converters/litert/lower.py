"""Lowering: each ONNX op is turned into TFLite operators by one function registered by op name
(`@lowers("Conv")`), one file per op under ops/. The functions read the physical graph (after the layout
pass: `node.nhwc` tells a spatial op that its data is channels-last) and write through a Context."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from typing import Any

import numpy as np

from edgepack.converters.litert.builder import ModelBuilder
from edgepack.converters.litert.ir import Graph, Node, unsupported
from edgepack.errors import UnsupportedOpError

Lowering = Callable[["Context", Node], None]
LOWERINGS: dict[str, Lowering] = {}


def lowers(*ops: str) -> Callable[[Lowering], Lowering]:
    """Register a lowering for ONNX op types `ops`."""

    def deco(fn: Lowering) -> Lowering:
        for op in ops:
            LOWERINGS[op] = fn
        return fn

    return deco


def load_lowerings() -> dict[str, Lowering]:
    """Import every module under ops/ (each registers itself); a new op is a new file there."""
    from edgepack.converters.litert import ops

    for mod in pkgutil.iter_modules(ops.__path__):
        importlib.import_module(f"{ops.__name__}.{mod.name}")
    return LOWERINGS


class Context:
    """What a lowering sees: the physical graph's tensors and a way to add TFLite tensors and operators."""

    def __init__(self, graph: Graph, builder: ModelBuilder) -> None:
        self.graph = graph
        self.b = builder
        self.node: Node | None = None

    # -- reading the graph --------------------------------------------------------------------------------
    def shape(self, name: str) -> list[int]:
        return list(self.graph.tensors[name].shape)

    def dtype(self, name: str) -> np.dtype:
        return self.graph.tensors[name].dtype

    def value(self, name: str) -> np.ndarray | None:
        return self.graph.value(name)

    def attr(self, key: str, default: Any = None) -> Any:
        return self.node.attrs.get(key, default)

    def input(self, i: int) -> str:
        """Name of input i, '' when absent."""
        ins = self.node.inputs
        return ins[i] if i < len(ins) else ""

    def unsupported(self, detail: str) -> UnsupportedOpError:
        return unsupported(self.node.op, self.node.name, detail)

    def const_input(self, i: int, what: str) -> np.ndarray:
        v = self.value(self.input(i))
        if v is None:
            raise self.unsupported(f"{what} (input {i}) must be a constant")
        return v

    # -- writing TFLite tensors ---------------------------------------------------------------------------
    def t(self, name: str) -> int:
        """The TFLite tensor index of graph tensor `name` (created on first use; constants carry data)."""
        if not name:
            return -1
        t = self.graph.tensors[name]
        return self.b.tensor(name, t.shape, t.dtype, t.value)

    def out(self, i: int = 0) -> int:
        return self.t(self.node.outputs[i])

    def const(self, value: Any, dtype: Any = None, hint: str = "const") -> int:
        a = np.asarray(value, dtype=dtype)
        name = self.graph.unique(f"{self.node.name}/{hint}")
        return self.b.tensor(name, list(a.shape), a.dtype, a)

    def temp(self, shape: list[int], dtype: Any, hint: str = "tmp") -> int:
        name = self.graph.unique(f"{self.node.name}/{hint}")
        return self.b.tensor(name, list(shape), np.dtype(dtype))

    def tshape(self, idx: int) -> list[int]:
        return self.b.shape(idx)

    def tdtype(self, idx: int) -> np.dtype:
        from edgepack.converters.litert.builder import _TYPES

        want = self.b.tensors[idx].type
        return next(dt for dt, n in _TYPES.items() if getattr(self.b.s.TensorType, n) == want)

    def op(self, code: str, inputs: list[int], outputs: list[int], options: str | None = None, **fields) -> None:
        self.b.op(code, inputs, outputs, options, **fields)

    # -- common small patterns ----------------------------------------------------------------------------
    def unary(self, code: str, x: int, out: int | None = None, options: str | None = None, **fields) -> int:
        out = self.temp(self.tshape(x), self.tdtype(x), code.lower()) if out is None else out
        self.op(code, [x], [out], options, **fields)
        return out

    def binary(self, code: str, a: int, b: int, out: int | None = None) -> int:
        if out is None:
            shape = list(np.broadcast_shapes(tuple(self.tshape(a)), tuple(self.tshape(b))))
            out = self.temp(shape, self.tdtype(a), code.lower())
        opts = {"ADD": "AddOptions", "SUB": "SubOptions", "MUL": "MulOptions", "DIV": "DivOptions"}.get(code)
        self.op(code, [a, b], [out], opts)
        return out

    def reshape(self, x: int, shape: list[int], out: int | None = None) -> int:
        out = self.temp(shape, self.tdtype(x), "reshape") if out is None else out
        self.op("RESHAPE", [x, self.const(np.array(shape, np.int32), hint="shape")], [out], "ReshapeOptions",
                newShape=[int(d) for d in shape])
        return out

    def transpose(self, x: int, perm: list[int], out: int | None = None) -> int:
        shape = [self.tshape(x)[p] for p in perm]
        out = self.temp(shape, self.tdtype(x), "transpose") if out is None else out
        self.op("TRANSPOSE", [x, self.const(np.array(perm, np.int32), hint="perm")], [out], "TransposeOptions")
        return out

    def slice(self, x: int, begin: list[int], size: list[int], out: int | None = None) -> int:
        out = self.temp(size, self.tdtype(x), "slice") if out is None else out
        self.op("SLICE", [x, self.const(np.array(begin, np.int32), hint="begin"),
                          self.const(np.array(size, np.int32), hint="size")], [out], "SliceOptions")
        return out

    def concat(self, xs: list[int], axis: int, out: int | None = None) -> int:
        if out is None:
            shape = self.tshape(xs[0])
            shape[axis] = sum(self.tshape(x)[axis] for x in xs)
            out = self.temp(shape, self.tdtype(xs[0]), "concat")
        self.op("CONCATENATION", xs, [out], "ConcatenationOptions", axis=axis)
        return out


def lower(graph: Graph, builder: ModelBuilder) -> None:
    """Lower every node of the physical graph in order; an op without a lowering is an UnsupportedOpError."""
    table = load_lowerings()
    ctx = Context(graph, builder)
    for node in graph.nodes:
        fn = table.get(node.op)
        if fn is None:
            raise unsupported(node.op, node.name, "edgepack's LiteRT writer has no lowering "
                                     "for this op")
        ctx.node = node
        fn(ctx, node)
