"""Concat -> CONCATENATION (axis already physical)."""

from __future__ import annotations

from edgepack.converters.litert.lower import Context, lowers


@lowers("Concat")
def concat(ctx: Context, node) -> None:
    rank = len(ctx.shape(node.outputs[0]))
    ins = [ctx.t(i) for i in node.inputs if i and 0 not in ctx.shape(i)]
    axis = int(ctx.attr("axis")) % rank
    if len(ins) == 1:
        ctx.reshape(ins[0], ctx.shape(node.outputs[0]), ctx.out())
        return
    ctx.concat(ins, axis, ctx.out())
