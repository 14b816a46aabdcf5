"""Transpose -> TRANSPOSE; a permutation that only moves size-1 dims is a RESHAPE (no data movement).
Most ONNX Transposes never get here: the layout pass absorbs them."""

from __future__ import annotations

from edgepack.converters.litert.lower import Context, lowers


@lowers("Transpose")
def transpose(ctx: Context, node) -> None:
    shape = ctx.shape(node.inputs[0])
    perm = list(ctx.attr("perm") or reversed(range(len(shape))))
    x, out = ctx.t(node.inputs[0]), ctx.out()
    moved = [p for p in perm if shape[p] != 1]
    if moved == sorted(moved):
        ctx.reshape(x, ctx.shape(node.outputs[0]), out)
    else:
        ctx.transpose(x, perm, out)
