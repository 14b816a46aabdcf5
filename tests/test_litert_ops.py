"""Per-op tests of edgepack's LiteRT writer: small ONNX graphs built with onnx.helper, converted, run with
LiteRT's Interpreter AND CompiledModel, compared with ONNX Runtime. Ops marked `nhwc` sit behind a 1x1 Conv
so that they see a channels-last producer and the layout pass has to rewrite their axes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from edgepack.converters.litert import build_tflite

RNG = np.random.default_rng(7)
F = TensorProto.FLOAT


def arr(*shape, scale=0.5):
    return (RNG.standard_normal(shape) * scale).astype(np.float32)


def build(path: Path, nodes, inputs: dict[str, list[int]], outputs: list[str], inits: dict, opset=17,
          nhwc: bool = False) -> Path:
    """inputs {name: shape}; with nhwc, input 'x' first goes through a 1x1 Conv (channels kept)."""
    nodes = list(nodes)
    inits = dict(inits)
    if nhwc:
        c = inputs["x"][1]
        inits["pre_w"] = np.eye(c, dtype=np.float32).reshape(c, c, 1, 1) * 1.5
        nodes.insert(0, helper.make_node("Conv", ["x_in", "pre_w"], ["x"], name="pre_conv"))
        inputs = {("x_in" if k == "x" else k): v for k, v in inputs.items()}
    vis = [helper.make_tensor_value_info(k, F, v) for k, v in inputs.items()]
    outs = [helper.make_tensor_value_info(o, F, None) for o in outputs]
    g = helper.make_graph(nodes, "t", vis, outs, [numpy_helper.from_array(v, k) for k, v in inits.items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    m = onnx.shape_inference.infer_shapes(m, data_prop=True)
    onnx.save(m, str(path))
    return path


def run_both(onnx_path: Path, tmp: Path, precision: str = "fp32") -> tuple[list, list]:
    """ONNX Runtime and LiteRT (Interpreter; CompiledModel must agree with it) on the same seeded inputs."""
    from ai_edge_litert.interpreter import Interpreter

    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    feeds = {i.name: RNG.standard_normal(i.shape).astype(np.float32) for i in sess.get_inputs()}
    ref = sess.run(None, feeds)
    data, _ = build_tflite(onnx_path, precision)
    tfl = tmp / "m.tflite"
    tfl.write_bytes(data)
    it = Interpreter(model_path=str(tfl))
    it.allocate_tensors()
    by_name = {d["name"]: d["index"] for d in it.get_input_details()}
    for k, v in feeds.items():
        it.set_tensor(by_name[k], v)
    it.invoke()
    outs = {d["name"]: d["index"] for d in it.get_output_details()}
    got = [it.get_tensor(outs[o.name]) for o in sess.get_outputs()]
    cm = compiled_model_run(tfl, feeds, [o.name for o in sess.get_outputs()],
                            {o.name: g for o, g in zip(sess.get_outputs(), got)})
    for o, g in zip(sess.get_outputs(), got):
        np.testing.assert_allclose(cm[o.name], g.ravel(), rtol=1e-4, atol=1e-5,
                                   err_msg=f"CompiledModel and Interpreter disagree on {o.name}")
    return ref, got


def compiled_model_run(path: Path, feeds: dict, out_names: list[str], like: dict) -> dict:
    from ai_edge_litert.compiled_model import CompiledModel

    cm = CompiledModel.from_file(str(path))
    sig = cm.get_signature_list()["serving_default"]
    ins = cm.create_input_buffers(0)
    for name, buf in zip(sig["inputs"], ins):
        buf.write(np.ascontiguousarray(feeds[name]))
    outs = cm.create_output_buffers(0)
    cm.run_by_index(0, ins, outs)
    return {name: buf.read(like[name].size, like[name].dtype) for name, buf in zip(sig["outputs"], outs)}


def check(path: Path, tmp: Path, precision: str = "fp32") -> None:
    ref, got = run_both(path, tmp, precision)
    for r, g in zip(ref, got):
        assert r.shape == g.shape, (r.shape, g.shape)
        if np.asarray(r).dtype.kind == "f":
            tol = 1e-4 if precision == "fp32" else 2e-2
            np.testing.assert_allclose(g, r, rtol=tol, atol=tol)
        else:
            np.testing.assert_array_equal(g, r)


def node(op, ins, outs=("y",), **attrs):
    return helper.make_node(op, list(ins), list(outs), name=f"the_{op.lower()}_{outs[0]}", **attrs)


X4 = {"x": [1, 4, 9, 9]}

# name -> (nodes, inputs, outputs, inits, opset, nhwc)
CASES = {
    "conv_pads_asym": ([node("Conv", ["x", "w", "b"], pads=[1, 0, 2, 1])], X4, ["y"],
                       {"w": arr(6, 4, 3, 3), "b": arr(6)}, 17, False),
    "conv_stride2_same": ([node("Conv", ["x", "w"], strides=[2, 2], auto_pad="SAME_UPPER")], X4, ["y"],
                          {"w": arr(5, 4, 3, 3)}, 17, False),
    "conv_dilated": ([node("Conv", ["x", "w", "b"], dilations=[2, 2], pads=[2, 2, 2, 2])], X4, ["y"],
                     {"w": arr(3, 4, 3, 3), "b": arr(3)}, 17, False),
    "conv_depthwise_mult2": ([node("Conv", ["x", "w", "b"], group=4, pads=[1, 1, 1, 1])], X4, ["y"],
                             {"w": arr(8, 1, 3, 3), "b": arr(8)}, 17, False),
    "conv_runtime_weights_and_bias": ([node("Conv", ["x", "w", "b"], pads=[1, 1, 1, 1])],
                                      {"x": [1, 4, 9, 9], "w": [5, 4, 3, 3], "b": [5]}, ["y"], {}, 17, False),
    "conv1d_and_pools1d": ([node("Conv", ["x", "w", "b"], ["c"], pads=[1, 2], strides=[2]),
                            node("MaxPool", ["c"], ["m"], kernel_shape=[2], pads=[0, 1]),
                            node("AveragePool", ["m"], ["y"], kernel_shape=[3], pads=[1, 1])], {"x": [1, 4, 17]},
                           ["y"], {"w": arr(6, 4, 4), "b": arr(6)}, 17, False),
    "convtranspose1d": ([node("ConvTranspose", ["x", "w"], strides=[2], pads=[1, 0])], {"x": [1, 4, 7]}, ["y"],
                        {"w": arr(4, 3, 4)}, 17, False),
    "conv_grouped": ([node("Conv", ["x", "w", "b"], group=2)], X4, ["y"], {"w": arr(6, 2, 1, 1), "b": arr(6)},
                     17, False),
    "convtranspose_k4s2p1": ([node("ConvTranspose", ["x", "w", "b"], strides=[2, 2], pads=[1, 1, 1, 1])], X4,
                             ["y"], {"w": arr(4, 3, 4, 4), "b": arr(3)}, 17, False),
    "convtranspose_outpad": ([node("ConvTranspose", ["x", "w", "b"], strides=[2, 2], pads=[1, 1, 1, 1],
                                   output_padding=[1, 1])], X4, ["y"], {"w": arr(4, 3, 3, 3), "b": arr(3)}, 17,
                             False),
    "convtranspose_valid": ([node("ConvTranspose", ["x", "w"], strides=[3, 2])], X4, ["y"],
                            {"w": arr(4, 2, 3, 2)}, 17, False),
    "gemm_transA_alpha_beta": ([node("Gemm", ["x", "w", "c"], transA=1, alpha=0.5, beta=2.0)], {"x": [6, 3]},
                               ["y"], {"w": arr(6, 5), "c": arr(3, 5)}, 17, False),
    "gemm_runtime_b": ([node("Gemm", ["x", "z"], transB=1)], {"x": [2, 6], "z": [4, 6]}, ["y"], {}, 17, False),
    "matmul_const": ([node("MatMul", ["x", "w"])], {"x": [2, 3, 6]}, ["y"], {"w": arr(6, 5)}, 17, False),
    "matmul_batched_broadcast": ([node("MatMul", ["x", "z"])], {"x": [2, 3, 4, 6], "z": [3, 6, 5]}, ["y"], {},
                                 17, False),
    "add_channel_bias": ([node("Add", ["x", "b"])], X4, ["y"], {"b": arr(4, 1, 1)}, 17, True),
    "mul_div_sub_runtime": ([node("Mul", ["x", "z"], ["m"]), node("Div", ["m", "d"], ["q"]),
                             node("Sub", ["q", "x"], ["y"])], {"x": [1, 4, 9, 9], "z": [1, 4, 1, 9]}, ["y"],
                            {"d": np.full((1,), 1.7, np.float32)}, 17, True),
    "unary_chain": ([node("Abs", ["x"], ["a"]), node("Add", ["a", "one"], ["a1"]), node("Log", ["a1"], ["l"]),
                     node("Sqrt", ["a1"], ["s"]), node("Exp", ["l"], ["e"]), node("Tanh", ["s"], ["t"]),
                     node("Sigmoid", ["x"], ["g"]), node("Add", ["e", "t"], ["u"]), node("Mul", ["u", "g"], ["y"])],
                    X4, ["y"], {"one": np.ones((1,), np.float32)}, 17, True),
    "clip_relu6_and_range": ([node("Mul", ["x", "k"], ["x8"]), node("Clip", ["x8", "lo", "hi"], ["c"]),
                              node("Clip", ["x", "lo2", "hi2"], ["d"]), node("Add", ["c", "d"], ["y"])], X4, ["y"],
                             {"k": np.array(8, np.float32), "lo": np.array(0, np.float32),
                              "hi": np.array(6, np.float32),
                              "lo2": np.array(-0.3, np.float32), "hi2": np.array(0.4, np.float32)}, 17, True),
    "leaky_prelu": ([node("LeakyRelu", ["x"], ["l"], alpha=0.2), node("PRelu", ["l", "s"], ["y"])], X4, ["y"],
                    {"s": arr(4, 1, 1)}, 17, True),
    "hardsigmoid_hardswish": ([node("HardSigmoid", ["x"], ["h"], alpha=0.3, beta=0.4), node("HardSwish", ["x"], ["s"]),
                               node("Add", ["h", "s"], ["y"])], X4, ["y"], {}, 17, True),
    "gelu_erf": ([node("Erf", ["x"], ["e"]), node("Gelu", ["x"], ["g"]), node("Add", ["e", "g"], ["y"])],
                 {"x": [2, 5, 7]}, ["y"], {}, 20, False),
    "maxpool_pads_ceil": ([node("MaxPool", ["x"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
                                ceil_mode=1)], {"x": [1, 4, 10, 10]}, ["y"], {}, 17, True),
    "avgpool_exclude_pad": ([node("AveragePool", ["x"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])],
                            X4, ["y"], {}, 17, True),
    "avgpool_include_pad": ([node("AveragePool", ["x"], kernel_shape=[3, 2], strides=[1, 2], pads=[1, 0, 1, 1],
                                  count_include_pad=1)], X4, ["y"], {}, 17, True),
    "global_pools": ([node("GlobalAveragePool", ["x"], ["a"]), node("GlobalMaxPool", ["x"], ["m"]),
                      node("Add", ["a", "m"], ["y"])], X4, ["y"], {}, 17, True),
    "reduce_keepdims0": ([node("ReduceMean", ["x"], ["a"], axes=[1], keepdims=0),
                          node("ReduceMax", ["x"], ["m"], axes=[1], keepdims=0), node("Add", ["a", "m"], ["y"])],
                         X4, ["y"], {}, 13, True),
    "reduce_sum_axes_input": ([node("ReduceSum", ["x", "ax"], ["y"], keepdims=1)], X4, ["y"],
                              {"ax": np.array([2, 3], np.int64)}, 17, True),
    "concat_split_channels": ([node("Relu", ["x"], ["r"]), node("Concat", ["x", "r"], ["c"], axis=1),
                               node("Split", ["c", "sp"], ["a", "b"], axis=1), node("Add", ["a", "b"], ["d"]),
                               node("Concat", ["d", "x"], ["y"], axis=-3)],
                              {"x": [1, 3, 5, 5]}, ["y"], {"sp": np.array([3, 3], np.int64)}, 17, True),
    "slice_negative_step": ([node("Slice", ["x", "st", "en", "ax", "sp"])], X4, ["y"],
                            {"st": np.array([-1, 1], np.int64), "en": np.array([-100, 8], np.int64),
                             "ax": np.array([1, 3], np.int64), "sp": np.array([-1, 2], np.int64)}, 17, True),
    "reshape_flatten_squeeze": ([node("Flatten", ["x"], ["f"], axis=2), node("Reshape", ["f", "s"], ["r"]),
                                 node("Unsqueeze", ["r", "ax"], ["u"]), node("Squeeze", ["u", "ax"], ["y"])], X4,
                                ["y"], {"s": np.array([4, 81], np.int64), "ax": np.array([0], np.int64)}, 17, True),
    "transpose_after_conv": ([node("Transpose", ["x"], ["t"], perm=[0, 2, 3, 1]), node("Relu", ["t"], ["y"])],
                             X4, ["y"], {}, 17, True),
    "softmax_channel_and_last": ([node("Softmax", ["x"], ["a"], axis=1), node("LogSoftmax", ["x"], ["b"], axis=-1),
                                  node("Add", ["a", "b"], ["y"])], X4, ["y"], {}, 17, True),
    "softmax_opset11_flatten": ([node("Softmax", ["x"], axis=1)], {"x": [2, 3, 4]}, ["y"], {}, 11, False),
    "pad_constant_reflect_edge": ([node("Pad", ["x", "p1", "v"], ["a"]), node("Pad", ["x", "p1"], ["b"],
                                                                               mode="reflect"),
                                   node("Pad", ["x", "p1"], ["c"], mode="edge"), node("Add", ["a", "b"], ["ab"]),
                                   node("Add", ["ab", "c"], ["y"])], X4, ["y"],
                                  {"p1": np.array([0, 0, 1, 2, 0, 0, 2, 1], np.int64),
                                   "v": np.array(0.5, np.float32)}, 17, True),
    "batchnorm": ([node("BatchNormalization", ["x", "g", "b", "m", "v"])], X4, ["y"],
                  {"g": arr(4), "b": arr(4), "m": arr(4), "v": np.abs(arr(4)) + 0.5}, 17, False),
    "layernorm": ([node("LayerNormalization", ["x", "g", "b"], axis=-1, epsilon=1e-5)], {"x": [2, 5, 16]}, ["y"],
                  {"g": arr(16), "b": arr(16)}, 17, False),
    "pow_square_and_cube": ([node("Pow", ["x", "two"], ["a"]), node("Pow", ["x", "three"], ["b"]),
                             node("Add", ["a", "b"], ["y"])], {"x": [2, 7]}, ["y"],
                            {"two": np.array(2, np.float32), "three": np.array(3, np.float32)}, 17, False),
    "gather_const_negative": ([node("Gather", ["x", "i"], axis=1)], {"x": [2, 6, 3]}, ["y"],
                              {"i": np.array([[0, -1], [2, 3]], np.int64)}, 17, False),
    "cast_round_trip": ([node("Cast", ["x"], ["i"], to=TensorProto.INT32), node("Cast", ["i"], ["y"], to=F)],
                        {"x": [3, 4]}, ["y"], {}, 17, False),
    "lstm_bidirectional_states": ([node("LSTM", ["x", "W", "R", "B", "", "h0", "c0"], ["Y", "Yh", "Yc"],
                                        hidden_size=5, direction="bidirectional")], {"x": [4, 2, 3]},
                                  ["Y", "Yh", "Yc"], {"W": arr(2, 20, 3), "R": arr(2, 20, 5), "B": arr(2, 40),
                                                      "h0": arr(2, 2, 5), "c0": arr(2, 2, 5)}, 17, False),
}

RESIZE = {  # name -> (attrs, scales or None, sizes or None)
    "nearest_asymmetric_x2": (dict(mode="nearest", coordinate_transformation_mode="asymmetric",
                                   nearest_mode="floor"), [1, 1, 2, 2], None),
    "nearest_half_pixel_down": (dict(mode="nearest"), None, [1, 4, 4, 5]),
    "bilinear_half_pixel": (dict(mode="linear"), [1, 1, 2, 2], None),
    "bilinear_align_corners": (dict(mode="linear", coordinate_transformation_mode="align_corners"), None,
                               [1, 4, 13, 7]),
    "bilinear_pytorch_half_pixel_1_5": (dict(mode="linear", coordinate_transformation_mode="pytorch_half_pixel"),
                                        [1, 1, 1.5, 1.5], None),
    "cubic_fallback": (dict(mode="cubic"), [1, 1, 2, 2], None),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_op(case, tmp_path):
    nodes, inputs, outputs, inits, opset, nhwc = CASES[case]
    check(build(tmp_path / "m.onnx", nodes, inputs, outputs, inits, opset, nhwc), tmp_path)


@pytest.mark.parametrize("case", sorted(RESIZE))
def test_resize(case, tmp_path):
    attrs, scales, sizes = RESIZE[case]
    inits = {"roi": np.zeros(0, np.float32), "scales": np.array(scales or [], np.float32)}
    ins = ["x", "roi", "scales"]
    if sizes:
        inits["sizes"] = np.array(sizes, np.int64)
        ins.append("sizes")
    check(build(tmp_path / "m.onnx", [node("Resize", ins, **attrs)], X4, ["y"], inits, 17, True), tmp_path)


@pytest.mark.parametrize("case", ["conv_depthwise_mult2", "convtranspose_outpad", "lstm_bidirectional_states",
                                  "layernorm"])
def test_op_fp16(case, tmp_path):
    nodes, inputs, outputs, inits, opset, nhwc = CASES[case]
    check(build(tmp_path / "m.onnx", nodes, inputs, outputs, inits, opset, nhwc), tmp_path, "fp16")
