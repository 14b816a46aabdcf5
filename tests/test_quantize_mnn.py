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
