"""Elementwise unary ops that are one TFLite builtin each."""

from __future__ import annotations

import numpy as np

from edgepack.converters.litert.lower import Context, lowers

_CODES = {"Relu": "RELU", "Sigmoid": "LOGISTIC", "Tanh": "TANH", "Exp": "EXP", "Log": "LOG", "Sqrt": "SQRT",
          "Neg": "NEG", "Abs": "ABS", "Floor": "FLOOR", "Ceil": "CEIL", "Round": "ROUND", "Sign": "SIGN",
          "Sin": "SIN", "Cos": "COS", "Not": "LOGICAL_NOT", "HardSwish": "HARD_SWISH"}


@lowers(*_CODES)
def unary(ctx: Context, node) -> None:
    ctx.op(_CODES[node.op], [ctx.t(node.inputs[0])], [ctx.out()])


@lowers("Identity", "Dropout")
def identity(ctx: Context, node) -> None:
    if len(node.outputs) > 1 and node.outputs[1]:
        raise ctx.unsupported("the Dropout mask output")
    ctx.reshape(ctx.t(node.inputs[0]), ctx.shape(node.outputs[0]), ctx.out())


@lowers("Reciprocal")
def reciprocal(ctx: Context, node) -> None:
    one = ctx.const(np.array(1, ctx.dtype(node.inputs[0])), hint="one")
    ctx.binary("DIV", one, ctx.t(node.inputs[0]), ctx.out())


@lowers("Elu")
def elu(ctx: Context, node) -> None:
    alpha = float(ctx.attr("alpha", 1.0))
    x = ctx.t(node.inputs[0])
    if alpha == 1.0:
        ctx.op("ELU", [x], [ctx.out()])
        return
    # alpha * (exp(min(x,0)) - 1) + max(x,0)
    zero = ctx.const(np.array(0, np.float32), hint="zero")
    neg = ctx.binary("MINIMUM", x, zero)
    e = ctx.binary("SUB", ctx.unary("EXP", neg), ctx.const(np.array(1, np.float32), hint="one"))
    ctx.binary("ADD", ctx.binary("MUL", e, ctx.const(np.array(alpha, np.float32), hint="alpha")),
               ctx.binary("MAXIMUM", x, zero), ctx.out())


@lowers("Softplus")
def softplus(ctx: Context, node) -> None:
    """log(1 + exp(x)) written as max(x,0) + log(1 + exp(-|x|)) so that large x does not overflow."""
    x = ctx.t(node.inputs[0])
    f = np.float32
    tail = ctx.unary("LOG", ctx.binary("ADD", ctx.unary("EXP", ctx.unary("NEG", ctx.unary("ABS", x))),
                                       ctx.const(np.array(1, f), hint="one")))
    ctx.binary("ADD", ctx.binary("MAXIMUM", x, ctx.const(np.array(0, f), hint="zero")), tail, ctx.out())
