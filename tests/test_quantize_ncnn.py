"""ncnn int8: the written model runs in ncnn and computes exactly the int8 arithmetic ncnn2int8 models
describe (checked against ONNX Runtime on dequantized weights and inputs); convert --precision int8 with
the gate; bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import edgepack
from conftest import DEMO, digits_npz, run_cli, save_model
from edgepack.converters import get_converter
from edgepack.converters.prepare import prepare
from edgepack.errors import InputError, ModelError
from edgepack.formats.ncnn import read_model, write_model
from edgepack.quantize import QuantizeOptions
from edgepack.quantize.calib import image_spec
from edgepack.quantize.gate import GateError
from edgepack.quantize.ncnn import quantizable_layers, quantize_model, to_int8, weight_scales
from edgepack.runtime.artifact import TensorInfo
from edgepack.verify.parity import run_artifact_isolated


def one_layer(path: Path, kind: str, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 12, 12] if kind != "gemm" else [1, 24])
    if kind == "gemm":
        w, b = rng.standard_normal((10, 24)).astype(np.float32), rng.standard_normal(10).astype(np.float32)
        node = helper.make_node("Gemm", ["x", "w", "b"], ["y"], transB=1)
        y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])
    else:
        groups, cout = (8, 8) if kind == "dw" else (1, 16)
        stride = 2 if kind == "conv_s2" else 1
        w = rng.standard_normal((cout, 8 // groups, 3, 3)).astype(np.float32)
        b = rng.standard_normal(cout).astype(np.float32)
        node = helper.make_node("Conv", ["x", "w", "b"], ["y"], pads=[1, 1, 1, 1], strides=[stride] * 2, group=groups)
        y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, cout, 12 // stride, 12 // stride])
    return save_model([node], [x], [y], [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")], path)


@pytest.mark.parametrize("kind", ["conv", "conv_s2", "dw", "gemm"])
def test_int8_layer_computes_ncnn_int8_arithmetic(tmp_path, kind):
    import onnxruntime as ort

    src = one_layer(tmp_path / "m.onnx", kind)
    prepared = prepare(src, tmp_path / "prep")
    fp32 = get_converter("ncnn").convert(prepared, tmp_path / "fp32", "fp32")
    model = read_model(fp32.path("param"), fp32.path("bin"))
    (ly,) = quantizable_layers(model)
    s_in = 127.0 / 2.5
    q = quantize_model(model, {ly.name: s_in})
    qly = q.param.layer(ly.name)
    assert qly.get(8) == (1 if kind == "dw" else 2)
    assert q.blob(ly.name, "weight").data.dtype == np.int8
    out = tmp_path / "int8"
    out.mkdir()
    write_model(q, out / "model.ncnn.param", out / "model.ncnn.bin")
    assert read_model(out / "model.ncnn.param", out / "model.ncnn.bin").bin_bytes() == q.bin_bytes()
    art = fp32.__class__(**{**vars(fp32), "precision": "int8", "directory": str(out)})
    x = np.random.default_rng(1).uniform(-3, 3, prepared.inputs[0].shape).astype(np.float32)
    got = run_artifact_isolated(art, [{"x": x}])[0]["y"]

    # The same arithmetic in float: dequantized weights and dequantized input through ONNX Runtime.
    onnx_model = onnx.load(str(prepared.path))
    w = next(numpy_helper.to_array(i) for i in onnx_model.graph.initializer if i.name == "w")
    ws = weight_scales(qly, model.blob(ly.name, "weight").data)
    rows = len(ws)
    wq = to_int8(w.reshape(rows, -1), ws[:, None]).astype(np.float32) / ws[:, None]
    for init in onnx_model.graph.initializer:
        if init.name == "w":
            init.CopyFrom(numpy_helper.from_array(wq.reshape(w.shape).astype(np.float32), "w"))
    xq = to_int8(x, s_in).astype(np.float32) / np.float32(s_in)
    sess = ort.InferenceSession(onnx_model.SerializeToString(), providers=["CPUExecutionProvider"])
    want = sess.run(None, {"x": xq})[0]
    np.testing.assert_allclose(got.reshape(want.shape), want, rtol=1e-4, atol=1e-4 * np.abs(want).max())
    plain = sess.run(None, {"x": x})[0]
    assert not np.allclose(plain, want, atol=1e-6)  # the int8 rounding is really there


def test_winograd_convs_get_six_bit_weights(tmp_path):
    prepared = prepare(one_layer(tmp_path / "m.onnx", "conv"), tmp_path / "p")
    fp32 = get_converter("ncnn").convert(prepared, tmp_path / "fp32", "fp32")
    model = read_model(fp32.path("param"), fp32.path("bin"))
    (ly,) = quantizable_layers(model)
    q = quantize_model(model, {ly.name: 10.0})
    assert np.abs(q.blob(ly.name, "weight").data.astype(int)).max() == 31
    prepared = prepare(one_layer(tmp_path / "m2.onnx", "conv_s2"), tmp_path / "p2")
    fp32 = get_converter("ncnn").convert(prepared, tmp_path / "fp32b", "fp32")
    model = read_model(fp32.path("param"), fp32.path("bin"))
    (ly,) = quantizable_layers(model)
    assert np.abs(quantize_model(model, {ly.name: 10.0}).blob(ly.name, "weight").data.astype(int)).max() == 127


def test_convert_int8_digits_passes_gate_and_is_int8(tmp_path):
    res = edgepack.convert(DEMO, to="ncnn", precision="fp32,int8", out_dir=tmp_path / "o",
                           quant=QuantizeOptions(calib=digits_npz(tmp_path), gate="top1>=0.97"))
    r8 = next(r for r in res.results if r.precision == "int8")
    assert r8.ok and r8.quant["metrics"]["top1"] >= 0.97
    assert r8.artifact.size_bytes < res.artifact("ncnn", "fp32").size_bytes / 2
    m = read_model(r8.artifact.path("param"), r8.artifact.path("bin"))
    int8_layers = [ly.name for ly in m.param.layers if ly.get(8, 0)]
    assert sorted(int8_layers) == sorted(r8.quant["int8_layers"]) and len(int8_layers) == 4
    doc = json.loads((tmp_path / "o" / "convert.json").read_text())
    q = next(a for a in doc["artifacts"] if a["precision"] == "int8")["quant"]
    assert q["calibration_samples"] == 80 and q["eval_samples"] == 20 and "activations: kl" in q["method"]
    assert not (tmp_path / "o" / ".work").exists()


def test_gate_keeps_sensitive_layers_in_float(tmp_path):
    res = edgepack.convert(DEMO, to="ncnn", precision="int8", out_dir=tmp_path / "o",
                           quant=QuantizeOptions(calib=digits_npz(tmp_path), gate="cosine>=0.9995"))
    q = res.results[0].quant
    assert q["metrics"]["cosine"] >= 0.9995
    assert q["float_layers"] and q["int8_layers"]
    m = read_model(res.results[0].artifact.path("param"), res.results[0].artifact.path("bin"))
    for name in q["float_layers"]:
        assert not m.param.layer(name).get(8, 0) and m.blob(name, "weight").data.dtype == np.float32


def test_failed_gate_leaves_no_int8_artifact(tmp_path):
    calib = digits_npz(tmp_path)
    with pytest.raises(GateError, match="misses the gate cosine>=1: best cosine="):
        edgepack.convert(DEMO, to="ncnn", precision="fp32,int8", out_dir=tmp_path / "o",
                         quant=QuantizeOptions(calib=calib, gate="cosine>=1.0"))
    assert not (tmp_path / "o").exists()
    res = edgepack.convert(DEMO, to="ncnn", precision="fp32,int8", out_dir=tmp_path / "k", keep_going=True,
                           quant=QuantizeOptions(calib=calib, gate="cosine>=1.0"))
    assert [r.ok for r in res.results] == [True, False] and "misses the gate" in res.results[1].error
    assert sorted(p.name for p in (tmp_path / "k").iterdir()) == ["convert.json", "model.onnx", "ncnn-fp32"]


def test_cli_refuses_int8_without_calibration(tmp_path, conv_model):
    r = run_cli("convert", str(conv_model), "--to", "ncnn", "--precision", "int8", "-o", str(tmp_path / "o"))
    assert r.returncode == 2 and "int8 needs calibration data" in r.stderr
    assert not (tmp_path / "o").exists()
    r = run_cli("convert", str(conv_model), "--to", "ncnn", "--precision", "int8", "--calib", str(tmp_path),
                "--gate", "acc>0.5", "-o", str(tmp_path / "o"))
    assert r.returncode == 2 and "bad --gate" in r.stderr


def test_cli_int8_from_image_folder(tmp_path):
    from PIL import Image

    from edgepack.demo import load_demo

    d = load_demo()
    (tmp_path / "imgs").mkdir()
    for i in range(30):
        Image.fromarray(d.images[i]).save(tmp_path / "imgs" / f"{i:02d}.png")
    r = run_cli("convert", str(DEMO), "--to", "ncnn", "--precision", "int8", "--calib", str(tmp_path / "imgs"),
                "--mean", "127.5", "--std", "127.5", "--gate", "top1>=0.8", "-o", str(tmp_path / "o"))
    assert r.returncode == 0, r.stderr
    assert "int8" in r.stdout and "pass" in r.stdout


def test_bad_calibration_input(tmp_path, conv_model):
    def convert(calib, model=conv_model):
        return edgepack.convert(model, to="ncnn", precision="int8", out_dir=tmp_path / "o", force=True,
                                quant=QuantizeOptions(calib=calib))

    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="has no images"):
        convert(tmp_path / "empty")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "a.png").write_bytes(b"not a png")
    with pytest.raises(InputError, match="cannot read image .*a.png"):
        convert(tmp_path / "bad")
    np.savez(tmp_path / "c1.npz", input=np.zeros((4, 1, 1, 16, 16), np.float32))
    with pytest.raises(InputError, match="channel count or size does not match"):
        convert(tmp_path / "c1.npz")
    np.savez(tmp_path / "other.npz", pixels=np.zeros((4, 1, 3, 16, 16), np.float32))
    with pytest.raises(InputError, match="lacks tensors for input"):
        convert(tmp_path / "other.npz")
    from PIL import Image

    (tmp_path / "imgs").mkdir()
    Image.new("RGB", (20, 20), (10, 200, 30)).save(tmp_path / "imgs" / "a.png")
    with pytest.raises(InputError, match="color order GRAY gives 1 channels, the model's input has 3"):
        edgepack.convert(conv_model, to="ncnn", precision="int8", out_dir=tmp_path / "o", force=True,
                         quant=QuantizeOptions(calib=tmp_path / "imgs", preprocess={"color": "GRAY"}))
    with pytest.raises(InputError, match=r"images give 1 \(GRAY\) or 3"):
        image_spec(TensorInfo("x", [1, 5, 16, 16], "float32"))
    with pytest.raises(InputError, match="needs a 4-D image input"):
        image_spec(TensorInfo("x", [1, 16, 16], "float32"))
    assert not (tmp_path / "o").exists()


def test_already_quantized_model_is_refused(tmp_path):
    rng = np.random.default_rng(0)
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["xq"]),
             helper.make_node("DequantizeLinear", ["xq", "s", "z"], ["y"])]
    inits = [numpy_helper.from_array(np.float32(0.1), "s"), numpy_helper.from_array(np.int8(0), "z")]
    model = save_model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                       [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 8, 8])], inits,
                       tmp_path / "qdq.onnx")
    np.savez(tmp_path / "c.npz", x=rng.standard_normal((4, 1, 3, 8, 8)).astype(np.float32))
    with pytest.raises(ModelError, match="already quantized"):
        edgepack.convert(model, to="ncnn", precision="int8", out_dir=tmp_path / "o",
                         quant=QuantizeOptions(calib=tmp_path / "c.npz"))
    assert not (tmp_path / "o").exists()


def test_zero_and_denormal_weight_channels_quantize_to_zero_without_nan():
    """A channel whose absmax is 0 or so small that 127 / absmax overflows float32 (denormal weights, seen in
    PP-OCRv4 rec) got an infinite scale: 0 * inf = NaN, cast to int8. It must get scale 1 and round to 0."""
    import warnings

    class Conv1x1:
        type = "Convolution"

        def get(self, key, default=0):
            return {0: 3, 1: 1}.get(key, default)

    w = np.array([[0, 0, 0, 0], [1e-42, -1e-41, 0, 3e-39], [0.5, -1, 0.25, 0]], np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a NaN cast warns: fail on it
        ws = weight_scales(Conv1x1(), w)
        q = to_int8(w, ws[:, None])
    assert np.isfinite(ws).all() and ws[0] == ws[1] == 1 and ws[2] == 127
    assert (q[:2] == 0).all() and q[2].tolist() == [64, -127, 32, 0]
