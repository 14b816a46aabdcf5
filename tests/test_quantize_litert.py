"""LiteRT int8: the .tflite our writer produces for --precision int8 is full-integer by the TFLite spec (int8
per-channel weights with zero point 0, int32 biases with scale input x weight, int8 activations), runs in
the Interpreter and CompiledModel, matches ONNX Runtime fp32 on held-out data, honours --litert-int8-io, and
a failed gate leaves nothing behind."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest

import edgepack
from conftest import DEMO, ROOT, digits_npz, run_cli
from edgepack.quantize import QuantizeOptions
from edgepack.quantize.calib import split
from edgepack.quantize.gate import GateError

ZOO = ROOT / "tests" / "fixtures" / "zoo"


def read_tflite(path: Path):
    """(model, ops) with ops as (code name, input tensors, output tensors) of subgraph 0."""
    from ai_edge_litert import schema_py_generated as s

    m = s.ModelT.InitFromPackedBuf(bytearray(Path(path).read_bytes()), 0)
    names = {v: k for k, v in vars(s.BuiltinOperator).items() if not k.startswith("_")}
    sg = m.subgraphs[0]
    ops = [(names[m.operatorCodes[o.opcodeIndex].builtinCode], [sg.tensors[i] if i >= 0 else None for i in o.inputs],
            [sg.tensors[i] for i in o.outputs]) for o in sg.operators]
    return m, ops


def check_integer_spec(path: Path) -> dict[str, int]:
    """Every CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED that reads int8 has int8 per-channel weights
    (zero point 0, the spec's channel axis) and an int32 bias with scale = input scale x weight scale.
    Returns how many ops of each kind are int8."""
    from ai_edge_litert import schema_py_generated as s

    _, ops = read_tflite(path)
    tt = s.TensorType
    counts: dict[str, int] = {}
    for code, ins, outs in ops:
        if code not in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED") or ins[0].type != tt.INT8:
            continue
        counts[code] = counts.get(code, 0) + 1
        x, w, b = ins[0], ins[1], ins[2]
        assert outs[0].type == tt.INT8 and w.type == tt.INT8
        axis = 3 if code == "DEPTHWISE_CONV_2D" else 0
        wq = w.quantization
        assert wq.quantizedDimension == axis and len(wq.scale) == w.shape[axis] > 1
        assert not np.any(wq.zeroPoint) and np.all(np.asarray(wq.scale) > 0)
        assert b.type == tt.INT32 and not np.any(b.quantization.zeroPoint)
        np.testing.assert_allclose(b.quantization.scale, x.quantization.scale[0] * np.asarray(wq.scale), rtol=1e-5)
        assert len(x.quantization.scale) == 1 and -128 <= x.quantization.zeroPoint[0] <= 127
    return counts


def run_interpreter(path: Path, x: np.ndarray) -> np.ndarray:
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_path=str(path))
    it.allocate_tensors()
    i, o = it.get_input_details()[0], it.get_output_details()[0]
    it.set_tensor(i["index"], x)
    it.invoke()
    return it.get_tensor(o["index"]).copy()


def run_compiled(path: Path, x: np.ndarray, like: np.ndarray) -> np.ndarray:
    from ai_edge_litert.compiled_model import CompiledModel

    cm = CompiledModel.from_file(str(path))
    ins, outs = cm.create_input_buffers(0), cm.create_output_buffers(0)
    ins[0].write(np.ascontiguousarray(x))
    cm.run_by_index(0, ins, outs)
    return outs[0].read(like.size, like.dtype).reshape(like.shape)


def held_out_digits(n_calib: int = 200, n_eval: int = 300):
    from edgepack.demo import load_demo, preprocess

    d = load_demo()
    x = preprocess(d.images[n_calib:n_calib + n_eval], d.spec["mean"], d.spec["std"])
    return x, d.labels[n_calib:n_calib + n_eval]


def test_digits_int8_is_full_integer_and_accurate(tmp_path):
    import onnxruntime as ort

    res = edgepack.convert(DEMO, to="tflite", precision="fp32,int8", out_dir=tmp_path / "o",
                           quant=QuantizeOptions(calib=digits_npz(tmp_path, 200), gate="top1>=0.97"))
    r8 = next(r for r in res.results if r.precision == "int8")
    assert r8.ok and r8.quant["metrics"]["top1"] >= 0.97 and "per channel" in r8.quant["method"]
    path = r8.artifact.path("model")
    assert path.stat().st_size < res.artifact("litert", "fp32").path("model").stat().st_size / 2
    assert check_integer_spec(path) == {"CONV_2D": 3, "FULLY_CONNECTED": 1}
    _, ops = read_tflite(path)
    assert ops[0][0] == "QUANTIZE" and ops[-1][0] == "DEQUANTIZE"  # float I/O, int8 inside
    assert not {"RELU", "RELU6"} & {c for c, _, _ in ops}  # fused into the convolutions
    assert all(code in ("QUANTIZE", "DEQUANTIZE") or outs[0].type == 9 for code, _, outs in ops)  # 9 = INT8

    x, labels = held_out_digits()
    sess = ort.InferenceSession(str(DEMO), providers=["CPUExecutionProvider"])
    ref = np.concatenate([sess.run(None, {"image": x[i:i + 1]})[0] for i in range(len(x))])
    got = np.concatenate([run_interpreter(path, x[i:i + 1]) for i in range(len(x))])
    assert np.mean(got.argmax(1) == labels) >= 0.97
    cos = float(np.sum(ref * got) / (np.linalg.norm(ref) * np.linalg.norm(got)))
    assert cos >= 0.99, cos
    cm = run_compiled(path, x[:1], got[:1])
    np.testing.assert_allclose(cm, got[:1], atol=1e-5)


@pytest.mark.parametrize("name,kinds", [("resnet_bn", {"CONV_2D"}), ("inverted_residual",
                                                                    {"CONV_2D", "DEPTHWISE_CONV_2D"}),
                                        ("se_hardswish", {"CONV_2D"})])
def test_zoo_int8_matches_onnx_runtime(tmp_path, name, kinds):
    import onnxruntime as ort

    src = ZOO / f"{name}.onnx"
    m = onnx.load(str(src))
    (inp,) = m.graph.input
    shape = [d.dim_value for d in inp.type.tensor_type.shape.dim]
    rng = np.random.default_rng(1)
    np.savez(tmp_path / "calib.npz", **{inp.name: rng.standard_normal([48, *shape]).astype(np.float32)})
    res = edgepack.convert(src, to="tflite", precision="int8", out_dir=tmp_path / "o",
                           quant=QuantizeOptions(calib=tmp_path / "calib.npz", gate="cosine>=0.99"))
    r = res.results[0]
    assert r.ok, r.error
    path = r.artifact.path("model")
    assert kinds <= set(check_integer_spec(path))
    x = rng.standard_normal([8, *shape]).astype(np.float32)  # fresh held-out samples
    sess = ort.InferenceSession(str(src), providers=["CPUExecutionProvider"])
    ref = np.stack([sess.run(None, {inp.name: x[i]})[0] for i in range(len(x))])
    got = np.stack([run_interpreter(path, x[i]) for i in range(len(x))])
    cos = float(np.sum(ref * got) / (np.linalg.norm(ref) * np.linalg.norm(got)))
    assert cos >= 0.99, cos
    np.testing.assert_allclose(run_compiled(path, x[0], got[0]), got[0], atol=1e-5)


def test_int8_io(tmp_path):
    from ai_edge_litert import schema_py_generated as s

    calib = digits_npz(tmp_path, 200)
    res = edgepack.convert(DEMO, to="tflite", precision="int8", out_dir=tmp_path / "o",
                           quant=QuantizeOptions(calib=calib, gate="top1>=0.97", litert_int8_io=True,
                                                 observer="minmax"))
    path = res.results[0].artifact.path("model")
    m, ops = read_tflite(path)
    sg = m.subgraphs[0]
    i, o = sg.tensors[sg.inputs[0]], sg.tensors[sg.outputs[0]]
    assert i.type == o.type == s.TensorType.INT8
    assert "QUANTIZE" not in [c for c, _, _ in ops] and "DEQUANTIZE" not in [c for c, _, _ in ops]
    # minmax: the input's 255 steps span exactly the calibration split's range
    with np.load(calib) as z:
        cal, _ = split([{"image": a} for a in z["image"]])
    lo, hi = min(float(f["image"].min()) for f in cal), max(float(f["image"].max()) for f in cal)
    scale, zp = i.quantization.scale[0], i.quantization.zeroPoint[0]
    assert scale == pytest.approx((hi - lo) / 255, rel=1e-3)
    assert abs(zp - (-128 - lo / scale)) <= 0.5 + 1e-3  # lo maps to -128
    x, labels = held_out_digits()
    q = np.clip(np.round(x / scale) + zp, -128, 127).astype(np.int8)
    got = np.concatenate([run_interpreter(path, q[k:k + 1]) for k in range(len(q))])
    assert got.dtype == np.int8
    logits = (got.astype(np.float32) - o.quantization.zeroPoint[0]) * o.quantization.scale[0]
    assert np.mean(logits.argmax(1) == labels) >= 0.97
    np.testing.assert_array_equal(run_compiled(path, q[:1], got[:1]), got[:1])


def test_gate_keeps_sensitive_layers_in_float_and_failed_gate_leaves_nothing(tmp_path):
    from ai_edge_litert import schema_py_generated as s

    calib = digits_npz(tmp_path, 200)
    res = edgepack.convert(DEMO, to="tflite", precision="int8", out_dir=tmp_path / "o",
                           quant=QuantizeOptions(calib=calib, gate="cosine>=0.9995"))
    q = res.results[0].quant
    assert q["metrics"]["cosine"] >= 0.9995 and q["float_layers"] and q["int8_layers"]
    _, ops = read_tflite(res.results[0].artifact.path("model"))
    produced = {outs[0].name.decode(): outs[0].type for _, _, outs in ops}
    assert all(produced[n] == s.TensorType.FLOAT32 for n in q["float_layers"])
    with pytest.raises(GateError, match="litert int8 misses the gate cosine>=1"):
        edgepack.convert(DEMO, to="tflite", precision="fp32,int8", out_dir=tmp_path / "f",
                         quant=QuantizeOptions(calib=calib, gate="cosine>=1.0"))
    assert not (tmp_path / "f").exists()


def test_cli_int8_tflite(tmp_path):
    r = run_cli("convert", str(DEMO), "--to", "tflite", "--precision", "int8", "--calib",
                str(digits_npz(tmp_path, 120)), "--litert-int8-io", "--gate", "top1>=0.95", "-o", str(tmp_path / "o"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "int8" in r.stdout and "pass" in r.stdout
    assert check_integer_spec(tmp_path / "o" / "litert-int8" / "model.tflite")


def test_fully_connected_computes_tflite_int8_arithmetic(tmp_path):
    """int8 I/O on one Gemm: the Interpreter's int8 result equals the spec's integer arithmetic on the
    written tensors (sum((x - zx) * w) + bias_q, rescaled by sx * sw[c] / sy) to within one step."""
    from onnx import TensorProto, helper, numpy_helper

    from conftest import save_model

    rng = np.random.default_rng(3)
    w, b = rng.standard_normal((10, 24)).astype(np.float32), rng.standard_normal(10).astype(np.float32)
    src = save_model([helper.make_node("Gemm", ["x", "w", "b"], ["y"], transB=1)],
                     [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 24])],
                     [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])],
                     [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")], tmp_path / "fc.onnx")
    np.savez(tmp_path / "c.npz", x=(rng.random((40, 1, 24)) * 3 - 1).astype(np.float32))
    res = edgepack.convert(src, to="tflite", precision="int8", out_dir=tmp_path / "o",
                           quant=QuantizeOptions(calib=tmp_path / "c.npz", observer="minmax", litert_int8_io=True))
    path = res.results[0].artifact.path("model")
    m, ops = read_tflite(path)
    ((code, (x, wt, bt), (y,)),) = ops
    assert code == "FULLY_CONNECTED" and check_integer_spec(path) == {"FULLY_CONNECTED": 1}
    buf = {id(t): np.frombuffer(bytes(np.asarray(m.buffers[t.buffer].data, np.uint8)), d).reshape(t.shape)
           for t, d in ((wt, np.int8), (bt, np.int32))}
    wq, bq = buf[id(wt)].astype(np.int64), buf[id(bt)].astype(np.int64)
    sx, zx = x.quantization.scale[0], x.quantization.zeroPoint[0]
    sy, zy = y.quantization.scale[0], y.quantization.zeroPoint[0]
    sw = np.asarray(wt.quantization.scale, np.float64)
    np.testing.assert_allclose(wq * sw[:, None], w, atol=float(sw.max()) / 2 + 1e-7)  # per-row symmetric
    xq = np.clip(np.round((rng.random((1, 24)) * 3 - 1) / sx) + zx, -128, 127).astype(np.int8)
    acc = (xq.astype(np.int64) - zx) @ wq.T + bq
    want = np.clip(np.round(acc * sx * sw / sy) + zy, -128, 127)
    got = run_interpreter(path, xq)
    assert got.dtype == np.int8 and np.abs(got.astype(np.int64) - want).max() <= 1
