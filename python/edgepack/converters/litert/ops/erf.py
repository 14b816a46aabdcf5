"""Erf has no TFLite builtin: Abramowitz & Stegun 7.1.26, |error| < 1.5e-7 (below float32 resolution of
the results that matter). GELU written with Erf is fused into the GELU builtin before this (fuse.py)."""

from __future__ import annotations

import numpy as np

from edgepack.converters.litert.lower import Context, lowers

_P = 0.3275911
_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)


@lowers("Erf")
def erf(ctx: Context, node) -> None:
    x = ctx.t(node.inputs[0])

    def c(v: float) -> int:
        return ctx.const(np.array(v, np.float32), hint="c")

    ax = ctx.unary("ABS", x)
    t = ctx.binary("DIV", c(1.0), ctx.binary("ADD", ctx.binary("MUL", ax, c(_P)), c(1.0)))
    poly = c(_A[4])
    for a in reversed(_A[:4]):
        poly = ctx.binary("ADD", ctx.binary("MUL", poly, t), c(a))
    poly = ctx.binary("MUL", poly, t)
    e = ctx.unary("EXP", ctx.unary("NEG", ctx.binary("MUL", ax, ax)))
    y = ctx.binary("SUB", c(1.0), ctx.binary("MUL", poly, e))
    ctx.binary("MUL", y, ctx.unary("SIGN", x), ctx.out())
