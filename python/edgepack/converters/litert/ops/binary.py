"""Elementwise binary ops with numpy broadcasting (TFLite broadcasts the same way; the layout pass already
permuted constant operands). Variadic Sum/Max/Min/Mean chain the binary op."""

from __future__ import annotations

import numpy as np

from edgepack.converters.litert.lower import Context, lowers

_CODES = {"Add": "ADD", "Sub": "SUB", "Mul": "MUL", "Div": "DIV", "Max": "MAXIMUM", "Min": "MINIMUM",
          "Sum": "ADD", "Mean": "ADD", "Equal": "EQUAL", "Less": "LESS", "Greater": "GREATER",
          "LessOrEqual": "LESS_EQUAL", "GreaterOrEqual": "GREATER_EQUAL", "And": "LOGICAL_AND",
          "Or": "LOGICAL_OR", "PRelu": "PRELU"}


@lowers(*_CODES)
def binary(ctx: Context, node) -> None:
    code = _CODES[node.op]
    if node.op == "Div" and ctx.dtype(node.inputs[0]).kind in "iu" and ctx.dtype(node.inputs[0]) != np.int32:
        raise ctx.unsupported(f"integer division on {ctx.dtype(node.inputs[0])} (TFLite DIV takes int32)")
    ins = [ctx.t(i) for i in node.inputs if i]
    out = ctx.out()
    if len(ins) == 1:
        ctx.reshape(ins[0], ctx.shape(node.outputs[0]), out)
        return
    if node.op == "Mean":
        acc = ins[0]
        for x in ins[1:]:
            acc = ctx.binary(code, acc, x)
        ctx.binary("MUL", acc, ctx.const(np.array(1.0 / len(ins), ctx.dtype(node.outputs[0])), hint="n"), out)
        return
    acc = ins[0]
    for k, x in enumerate(ins[1:]):
        last = k == len(ins) - 2
        if code == "PRELU":
            ctx.op("PRELU", [acc, x], [out])
        else:
            acc = ctx.binary(code, acc, x, out if last else None)


@lowers("Pow")
def power(ctx: Context, node) -> None:
    """x**2 -> MUL (exact), x**0.5 -> SQRT, x**1 -> copy, else POW."""
    x, out = ctx.t(node.inputs[0]), ctx.out()
    e = ctx.value(node.inputs[1])
    if e is not None and e.size == 1 and list(ctx.shape(node.outputs[0])) == ctx.shape(node.inputs[0]):
        v = float(e.reshape(()))
        if v == 2.0:
            ctx.binary("MUL", x, x, out)
            return
        if v == 0.5:
            ctx.unary("SQRT", x, out)
            return
        if v == 1.0:
            ctx.reshape(x, ctx.shape(node.outputs[0]), out)
            return
    y = ctx.t(node.inputs[1])
    if ctx.tdtype(y) != ctx.tdtype(x):
        if e is None:
            raise ctx.unsupported("exponent and base of different types")
        y = ctx.const(e.astype(ctx.tdtype(x)), hint="exponent")
    ctx.op("POW", [x, y], [out])


@lowers("Where")
def where(ctx: Context, node) -> None:
    ctx.op("SELECT_V2", [ctx.t(i) for i in node.inputs], [ctx.out()])
