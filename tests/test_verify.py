"""edgepack verify: every artifact vs ONNX Runtime, ncnn Vulkan vs CPU, first divergent ncnn int8 layer,
report.json / report.md / report.png."""

from __future__ import annotations

import json

import numpy as np
import pytest

import edgepack
from conftest import DEMO, digits_npz, run_cli
from edgepack.formats.ncnn import read_model, write_model
from edgepack.quantize import QuantizeOptions
from edgepack.verify.run import verify


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    base = tmp_path_factory.mktemp("verify")
    calib = digits_npz(base, 60)
    edgepack.convert(DEMO, to="ncnn,mnn", precision="fp32,int8", out_dir=base / "out",
                     quant=QuantizeOptions(calib=calib, gate="top1>=0.9"))
    return base / "out", calib


def test_cli_verify_writes_reports(converted):
    out, calib = converted
    r = run_cli("verify", str(out), "--data", str(calib), "--limit", "12")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "first layer below cosine" in r.stdout
    doc = json.loads((out / "report.json").read_text())
    assert doc["schema"] == "edgepack.verify/1" and doc["samples"] == 12 and doc["ok"]
    cpu = [a for a in doc["artifacts"] if a["device"] == "cpu"]
    assert {(a["engine"], a["precision"]) for a in cpu} == {(e, p) for e in ("ncnn", "mnn") for p in ("fp32", "int8")}
    for a in cpu:
        m = a["outputs"]["logits"]
        assert set(m) >= {"cosine", "max_abs", "mean_rel", "top1", "top5"}
        assert m["cosine"] >= (0.9999 if a["precision"] == "fp32" else 0.99)
    import ncnn

    vulkan = [a for a in doc["artifacts"] if a["device"] == "vulkan"]
    if ncnn.get_gpu_count() > 0:
        assert len(vulkan) == 2 and all(a["ok"] and a["vs"] == "ncnn cpu" for a in vulkan)
    else:
        assert not vulkan and any("Vulkan skipped" in n for n in doc["notes"])
    md = (out / "report.md").read_text()
    assert "| ncnn | int8 | cpu |" in md and "layer by layer" in md
    assert (out / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    layers = doc["ncnn_int8_layers"]["layers"]
    assert [ly["layer"] for ly in layers if ly["int8"]] == ["convrelu_0", "convrelu_1", "convrelu_2", "linear_9"]


def test_first_divergent_layer_is_the_broken_one(converted, tmp_path):
    import shutil

    out, calib = converted
    broken = tmp_path / "broken"
    shutil.copytree(out, broken)
    d = broken / "ncnn-int8"
    m = read_model(d / "model.ncnn.param", d / "model.ncnn.bin")
    m.blob("convrelu_1", "bottom_scale").data[:] = np.float32(2000.0)  # saturate that layer's input
    write_model(m, d / "model.ncnn.param", d / "model.ncnn.bin")
    rep = verify(broken, data=calib, vulkan=False, limit=4)
    first = rep["ncnn_int8_layers"]["first_divergent"]
    assert first["layer"] == "convrelu_1" and first["cosine"] < 0.99
    assert not rep["ok"]
    assert any("--no-vulkan" in n for n in rep["notes"])


def test_verify_bad_dir(tmp_path):
    r = run_cli("verify", str(tmp_path))
    assert r.returncode == 2 and "has no convert.json" in r.stderr
