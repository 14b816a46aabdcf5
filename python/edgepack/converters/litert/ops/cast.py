"""Cast -> CAST."""

from __future__ import annotations

from edgepack.converters.litert.builder import tensor_type
from edgepack.converters.litert.lower import Context, lowers


@lowers("Cast")
def cast(ctx: Context, node) -> None:
    ctx.op("CAST", [ctx.t(node.inputs[0])], [ctx.out()], "CastOptions",
           inDataType=tensor_type(ctx.dtype(node.inputs[0])), outDataType=tensor_type(ctx.dtype(node.outputs[0])))
