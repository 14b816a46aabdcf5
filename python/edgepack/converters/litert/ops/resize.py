"""Resize / Upsample. ONNX's coordinate modes are many; TFLite's RESIZE_NEAREST_NEIGHBOR and RESIZE_BILINEAR
have two flags. Resize is separable, so per spatial axis ONNX's exact interpolation matrix is measured (ONNX
Runtime resizing one-hot rows) and compared with the matrices TFLite's kernels compute for each flag setting:
a match uses the builtin, otherwise the resize is two BATCH_MATMULs with those exact matrices."""

from __future__ import annotations

import numpy as np

from edgepack.converters.litert.lower import Context, lowers


@lowers("Resize", "Upsample")
def resize(ctx: Context, node) -> None:
    if not node.nhwc:
        raise ctx.unsupported("only 4-D (N, C, H, W) resize is supported")
    n, h, w, c = ctx.shape(node.inputs[0])
    on, oh, ow, oc = ctx.shape(node.outputs[0])
    if (on, oc) != (n, c):
        raise ctx.unsupported("resizing the batch or channel axis")
    mode = ctx.attr("mode", "nearest")
    if mode not in ("nearest", "linear", "bilinear", "cubic"):
        raise ctx.unsupported(f"mode {mode}")
    if ctx.attr("coordinate_transformation_mode", "") == "tf_crop_and_resize":
        raise ctx.unsupported("coordinate_transformation_mode tf_crop_and_resize")
    scales = list(ctx.attr("scales") or [])
    mh = _onnx_matrix(ctx, node, h, oh, scales[2] if scales else None)
    mw = _onnx_matrix(ctx, node, w, ow, scales[3] if scales else None)
    x, out = ctx.t(node.inputs[0]), ctx.out()
    if mode in ("nearest", "linear", "bilinear"):
        for align, half in ((False, False), (False, True), (True, False)):
            kind = "nearest" if mode == "nearest" else "linear"
            if _close(mh, _tflite_matrix(kind, h, oh, align, half)) and \
                    _close(mw, _tflite_matrix(kind, w, ow, align, half)):
                code, opts = (("RESIZE_NEAREST_NEIGHBOR", "ResizeNearestNeighborOptions") if kind == "nearest"
                              else ("RESIZE_BILINEAR", "ResizeBilinearOptions"))
                ctx.op(code, [x, ctx.const(np.array([oh, ow], np.int32), hint="size")], [out], opts,
                       alignCorners=align, halfPixelCenters=half)
                return
    # exact fallback: rows then columns as matrix products with ONNX's own interpolation weights
    y = ctx.reshape(x, [n, h, w * c])
    yh = ctx.temp([n, oh, w * c], np.float32, "rows")
    ctx.op("BATCH_MATMUL", [ctx.const(mh[None], hint="rows_w"), y], [yh], "BatchMatMulOptions")
    y = ctx.reshape(yh, [n * oh, w, c])
    yw = ctx.temp([n * oh, ow, c], np.float32, "cols")
    ctx.op("BATCH_MATMUL", [ctx.const(mw[None], hint="cols_w"), y], [yw], "BatchMatMulOptions")
    ctx.reshape(yw, [n, oh, ow, c], out)


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and np.allclose(a, b, atol=1e-6)


def _onnx_matrix(ctx: Context, node, size: int, out: int, scale: float | None) -> np.ndarray:
    """[out, size] weights of one axis: ONNX Runtime resizing the rows of an identity matrix."""
    import onnxruntime as ort
    from onnx import TensorProto, helper

    attrs = {k: v for k, v in node.attrs.items() if k not in ("scales", "sizes", "roi", "axes", "_logical_axes")}
    if node.op == "Upsample":
        attrs = {"mode": attrs.get("mode", "nearest"), "coordinate_transformation_mode": "asymmetric",
                 "nearest_mode": "floor"}
        if scale is None:
            scale = out / size
    inits = [helper.make_tensor("roi", TensorProto.FLOAT, [0], [])]
    if scale is not None:
        inits.append(helper.make_tensor("scales", TensorProto.FLOAT, [4], [1.0, 1.0, float(scale), 1.0]))
        ins = ["x", "roi", "scales"]
    else:
        inits += [helper.make_tensor("scales", TensorProto.FLOAT, [0], []),
                  helper.make_tensor("sizes", TensorProto.INT64, [4], [size, 1, out, 1])]
        ins = ["x", "roi", "scales", "sizes"]
    n = helper.make_node("Resize", ins, ["y"], **attrs)
    g = helper.make_graph([n], "axis", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [size, 1, size, 1])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    opset = max(ctx.graph.opset, 11)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8  # the oldest IR that every opset we meet allows; newer onnx writes IRs ORT may not know
    sess = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    eye = np.eye(size, dtype=np.float32).reshape(size, 1, size, 1)
    y = sess.run(None, {"x": eye})[0].reshape(size, -1)  # y[i, j] = weight of input i in output j
    if y.shape[1] != out:
        raise ValueError(f"resize axis: expected {out} outputs, ONNX Runtime gave {y.shape[1]}")
    return np.ascontiguousarray(y.T.astype(np.float32))


def _tflite_matrix(kind: str, size: int, out: int, align: bool, half: bool) -> np.ndarray:
    """What TFLite's reference kernels compute for one axis (tensorflow/lite/kernels/internal semantics)."""
    m = np.zeros((out, size), np.float32)
    scale = (size - 1) / (out - 1) if align and out > 1 else size / out
    for x in range(out):
        if kind == "nearest":
            if align:
                i = int(np.round(x * scale))
            else:
                i = int(np.floor((x + (0.5 if half else 0.0)) * scale))
            m[x, max(0, min(i, size - 1))] = 1.0
        else:
            src = (x + 0.5) * scale - 0.5 if half else x * scale
            lo = int(np.floor(src))
            frac = src - lo
            i0, i1 = max(lo, 0), min(int(np.ceil(src)), size - 1)
            m[x, i0] += 1.0 - frac
            m[x, i1] += frac
    return m
