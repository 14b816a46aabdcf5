"""LSTM, unrolled over the (static) sequence: one FULLY_CONNECTED projects every time step's input at once,
then per step a recurrent FULLY_CONNECTED, the four gates (ONNX order i, o, f, c) and the cell update.
Unrolling keeps the model stateless: TFLite's sequence-LSTM kernel keeps its state in variable tensors that
persist across invocations, which would make two runs of the same input disagree."""

from __future__ import annotations

import numpy as np

from edgepack.converters.litert.lower import Context, lowers

_DEFAULT_ACTS = ["Sigmoid", "Tanh", "Tanh"]


@lowers("LSTM")
def lstm(ctx: Context, node) -> None:
    a = node.attrs
    dirs = {"forward": [False], "reverse": [True], "bidirectional": [False, True]}[a.get("direction", "forward")]
    acts = list(a.get("activations") or _DEFAULT_ACTS * len(dirs))
    if acts != _DEFAULT_ACTS * len(dirs) or a.get("clip") or a.get("input_forget", 0) or a.get("layout", 0):
        raise ctx.unsupported("only default activations, no clip, input_forget=0 and layout=0 are supported")
    if ctx.input(7):
        raise ctx.unsupported("peephole weights (input P)")
    t_len, batch, n_in = ctx.shape(node.inputs[0])
    w = ctx.const_input(1, "W").astype(np.float32)
    r = ctx.const_input(2, "R").astype(np.float32)
    hid = int(a.get("hidden_size", r.shape[-1]))
    bias = ctx.value(ctx.input(3)) if ctx.input(3) else np.zeros((len(dirs), 8 * hid), np.float32)
    if bias is None:
        raise ctx.unsupported("bias B must be a constant")
    if ctx.input(4):
        lens = ctx.value(ctx.input(4))
        if lens is None or np.any(lens != t_len):
            raise ctx.unsupported("sequence_lens shorter than the sequence")
    x2 = ctx.reshape(ctx.t(node.inputs[0]), [t_len * batch, n_in])
    ys, hs, cs = [], [], []
    for d, reverse in enumerate(dirs):
        h = _state(ctx, 5, d, batch, hid)
        c = _state(ctx, 6, d, batch, hid)
        b = (bias[d, :4 * hid] + bias[d, 4 * hid:]).astype(np.float32)
        xp = ctx.temp([t_len * batch, 4 * hid], np.float32, "xproj")
        ctx.op("FULLY_CONNECTED", [x2, ctx.const(w[d], hint="W"), ctx.const(b, hint="B")], [xp],
               "FullyConnectedOptions")
        steps = [ctx.temp([1, batch, 4 * hid], np.float32, f"x{t}") for t in range(t_len)]
        xp3 = ctx.reshape(xp, [t_len, batch, 4 * hid])
        if t_len == 1:
            steps = [xp3]
        else:
            ctx.op("SPLIT", [ctx.const(np.array(0, np.int32), hint="axis"), xp3], steps, "SplitOptions",
                   numSplits=t_len)
        rd = ctx.const(r[d], hint="R")
        out_h = [None] * t_len
        for t in (reversed(range(t_len)) if reverse else range(t_len)):
            g = ctx.reshape(steps[t], [batch, 4 * hid])
            if h is not None:
                rec = ctx.temp([batch, 4 * hid], np.float32, "rec")
                ctx.op("FULLY_CONNECTED", [h, rd, -1], [rec], "FullyConnectedOptions")
                g = ctx.binary("ADD", g, rec)
            gates = [ctx.temp([batch, hid], np.float32, n) for n in "iofc"]
            ctx.op("SPLIT", [ctx.const(np.array(1, np.int32), hint="axis"), g], gates, "SplitOptions", numSplits=4)
            i, o, f = (ctx.unary("LOGISTIC", gt) for gt in gates[:3])
            cand = ctx.unary("TANH", gates[3])
            ic = ctx.binary("MUL", i, cand)
            c = ic if c is None else ctx.binary("ADD", ctx.binary("MUL", f, c), ic)
            h = ctx.binary("MUL", o, ctx.unary("TANH", c))
            out_h[t] = h
        ys.append([ctx.reshape(x, [1, 1, batch, hid]) for x in out_h])
        hs.append(ctx.reshape(h, [1, batch, hid]))
        cs.append(ctx.reshape(c, [1, batch, hid]))
    outs = list(node.outputs) + [""] * 3
    if outs[0]:
        per_dir = [ctx.concat(y, 0) if len(y) > 1 else y[0] for y in ys]
        _join(ctx, per_dir, 1, ctx.out(0))
    if outs[1]:
        _join(ctx, hs, 0, ctx.out(1))
    if outs[2]:
        _join(ctx, cs, 0, ctx.out(2))


def _join(ctx: Context, xs: list[int], axis: int, out: int) -> None:
    if len(xs) == 1:
        ctx.reshape(xs[0], ctx.tshape(out), out)
    else:
        ctx.concat(xs, axis, out)


def _state(ctx: Context, idx: int, d: int, batch: int, hid: int) -> int | None:
    """Initial h or c of direction d: None when absent or all zero (the first step then skips it)."""
    name = ctx.input(idx)
    if not name:
        return None
    v = ctx.value(name)
    if v is not None:
        return None if not np.any(v[d]) else ctx.const(v[d].astype(np.float32), hint="state")
    return ctx.reshape(ctx.slice(ctx.t(name), [d, 0, 0], [1, batch, hid]), [batch, hid])
