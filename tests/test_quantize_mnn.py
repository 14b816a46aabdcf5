"""MNN int8 through mnnquant (child process) fed with our calibration tensors; weight-only int8."""

from __future__ import annotations

import json

import numpy as np

import edgepack
from conftest import DEMO, digits_npz
from edgepack.quantize import QuantizeOptions


def test_mnn_int8_from_our_calibration(tmp_path):
    from edgepack.demo import load_demo, preprocess

    d = load_demo()
    res = edgepack.convert(DEMO, to="mnn", precision="fp32,int8", out_dir=tmp_path / "o",
                           quant=QuantizeOptions(calib=digits_npz(tmp_path), gate="top1>=0.9"))
    fp32, int8 = (r.artifact for r in res.results)
    r8 = res.results[1]
    assert r8.ok and r8.quant["method"].startswith("MNN mnnquant")
    assert int8.size_bytes < fp32.size_bytes / 2
    assert sorted(p.name for p in (tmp_path / "o" / "mnn-int8").iterdir()) == ["model.mnn"]
    eng = edgepack.get_engine("mnn").load(int8)
    x = preprocess(d.images[200:300], d.spec["mean"], d.spec["std"])
    pred = np.array([eng.run({"image": x[i:i + 1]})["logits"].argmax() for i in range(len(x))])
    assert np.mean(pred == d.labels[200:300]) >= 0.95
    doc = json.loads((tmp_path / "o" / "convert.json").read_text())
    assert doc["artifacts"][1]["quant"]["int8_layers"]


def test_mnn_weight_only_int8(tmp_path):
    res = edgepack.convert(DEMO, to="mnn", precision="fp32,int8", out_dir=tmp_path / "o",
                           quant=QuantizeOptions(calib=digits_npz(tmp_path, 20), mnn_weight_only=True))
    fp32, int8 = (r.artifact for r in res.results)
    assert res.results[1].ok and "weight-only" in res.results[1].quant["method"]
    assert int8.size_bytes < fp32.size_bytes / 2
    assert res.results[1].parity.overall.cosine >= 0.999  # activations stay float


def folded_bn_model(path, tiny: float = 2e-5):
    """A conv whose BatchNorm-folded weights are tiny in half of its channels (per-channel scale max|w|/127
    below MNN's 1e-6) with real biases, between ordinary convs: PP-OCRv4 det's head in small. (With every
    channel tiny, MNN 3.6 did not damage the layer.)"""
    from onnx import TensorProto, helper, numpy_helper

    from conftest import save_model

    rng = np.random.default_rng(7)
    scale = np.repeat([tiny, 0.05], 8)[:, None, None, None]  # channels 0-7 tiny, 8-15 ordinary
    inits = [numpy_helper.from_array((rng.standard_normal((8, 8, 3, 3)) * 0.3).astype(np.float32), "w0"),
             numpy_helper.from_array((rng.standard_normal((16, 8, 3, 3)) * scale).astype(np.float32), "w1"),
             numpy_helper.from_array(rng.uniform(-0.5, 0.5, 16).astype(np.float32), "b1"),
             numpy_helper.from_array((rng.standard_normal((8, 16, 1, 1)) * 0.3).astype(np.float32), "w2"),
             numpy_helper.from_array(rng.standard_normal(8).astype(np.float32) * 0.1, "b2")]
    nodes = [helper.make_node("Conv", ["x", "w0"], ["c0"], pads=[1, 1, 1, 1], name="first_conv"),
             helper.make_node("Relu", ["c0"], ["r0"]),
             helper.make_node("Conv", ["r0", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1], name="folded_conv"),
             helper.make_node("Relu", ["c1"], ["r1"]),
             helper.make_node("Conv", ["r1", "w2", "b2"], ["y"], name="plain_conv")]
    return save_model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 12, 12])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, 12, 12])], inits, path)


def test_convs_whose_bias_mnn_would_zero_stay_float(tmp_path):
    from edgepack.quantize.mnn import MnnInt8
    from edgepack.quantize.mnn_limits import bias_dropping_convs
    from edgepack.runtime.metrics import agreement
    from edgepack.verify.parity import run_artifact_isolated

    model = folded_bn_model(tmp_path / "m.onnx")
    found = bias_dropping_convs(model)
    assert list(found) == ["c1"] and "zero their bias" in found["c1"]
    assert not bias_dropping_convs(folded_bn_model(tmp_path / "ok.onnx", tiny=0.05))
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "c.npz", x=rng.standard_normal((24, 1, 8, 12, 12)).astype(np.float32))
    res = edgepack.convert(model, to="mnn", precision="fp32,int8", out_dir=tmp_path / "o",
                           quant=QuantizeOptions(calib=tmp_path / "c.npz"))
    r8 = res.results[1]
    assert r8.quant["float_layers"] == ["c1"] and "zero" in r8.quant["method"]
    assert r8.quant["int8_layers"] == ["c0", "y"]
    assert r8.parity.overall.cosine >= 0.98  # measured 0.9962
    # the same quantizer run without keeping c1 in float: MNN drops the biases and the output is wrong
    fp32 = res.results[0].artifact
    feeds = [{"x": rng.standard_normal((1, 8, 12, 12)).astype(np.float32)} for _ in range(4)]
    b = MnnInt8(fp32, feeds * 4, QuantizeOptions())
    b.pinned_float = []
    bad = b.build(tmp_path / "bad", set())
    ref, got = run_artifact_isolated(fp32, feeds), run_artifact_isolated(bad, feeds)
    cos = agreement(np.concatenate([r["y"].ravel() for r in ref]), np.concatenate([g["y"].ravel() for g in got])).cosine
    print(f"int8 cosine vs fp32: c1 kept float {r8.parity.overall.cosine:.4f}, c1 int8 {cos:.4f}")
    assert cos < 0.95, f"MNN's quantizer no longer zeroes these biases (cosine {cos:.4f}): mnn_limits may be stale"
