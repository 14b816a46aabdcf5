"""OpenVINO int8 through NNCF (child processes) fed with our calibration tensors, behind the gate, with the
float fallback through NNCF's ignored scope; nncf runs without torch and without telemetry."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import edgepack
from conftest import DEMO, digits_npz, package_root
from edgepack.quantize import QuantizeOptions
from edgepack.quantize.gate import GateError

pytest.importorskip("openvino")
pytest.importorskip("nncf")


def _int8_weights(xml) -> dict[str, bool]:
    """Per weighted op of the IR: are its weights stored int8 (NNCF compresses the weights of the layers it
    quantizes; layers in the ignored scope keep float weights)?"""
    import openvino as ov

    from edgepack.quantize.openvino import WEIGHTED_OPS

    def constant_type(node):
        while node.get_type_name() != "Constant":
            node = node.input_value(0).get_node()
        return node.get_element_type().get_type_name()

    out = {}
    for op in ov.Core().read_model(str(xml)).get_ordered_ops():
        if op.get_type_name() in WEIGHTED_OPS:
            out[op.get_friendly_name()] = constant_type(op.input_value(1).get_node()) == "i8"
    return out


def test_openvino_int8_from_our_calibration(tmp_path):
    from edgepack.demo import load_demo, preprocess

    d = load_demo()
    res = edgepack.convert(DEMO, to="openvino", precision="fp32,int8", out_dir=tmp_path / "o",
                           quant=QuantizeOptions(calib=digits_npz(tmp_path), gate="top1>=0.99"))
    fp32, int8 = (r.artifact for r in res.results)
    r8 = res.results[1]
    assert r8.ok and r8.quant["method"].startswith("NNCF post-training quantization")
    assert r8.quant["float_layers"] == [] and len(r8.quant["int8_layers"]) == 4  # 3 convs + the classifier
    assert all(_int8_weights(int8.path("xml")).values())
    assert int8.path("bin").stat().st_size < fp32.path("bin").stat().st_size / 2  # int8 weights
    assert sorted(p.name for p in (tmp_path / "o" / "openvino-int8").iterdir()) == ["model.bin", "model.xml"]
    x = preprocess(d.images[200:300], d.spec["mean"], d.spec["std"])
    with edgepack.get_engine("openvino").load(int8) as eng:
        pred = np.array([eng.run({"image": x[i:i + 1]})["logits"].argmax() for i in range(len(x))])
    assert np.mean(pred == d.labels[200:300]) >= 0.95
    doc = json.loads((tmp_path / "o" / "convert.json").read_text())
    assert doc["artifacts"][1]["artifact"]["converter"] == "openvino.convert_model+nncf"


def test_gate_keeps_sensitive_layers_float_through_the_ignored_scope(tmp_path):
    """A gate the all-int8 model misses: the most sensitive layers go to NNCF's ignored scope (their weights
    stay float in the IR) until it passes."""
    res = edgepack.convert(DEMO, to="openvino", precision="int8", out_dir=tmp_path / "o",
                           quant=QuantizeOptions(calib=digits_npz(tmp_path), gate="cosine>=0.9995"))
    r = res.results[0]
    assert r.ok and r.quant["metrics"]["cosine"] >= 0.9995
    assert r.quant["float_layers"] and r.quant["builds"] == len(r.quant["float_layers"]) + 1
    fq = _int8_weights(r.artifact.path("xml"))
    assert {n for n, q in fq.items() if not q} == set(r.quant["float_layers"])
    assert r.artifact.options["float_layers"] == sorted(r.quant["float_layers"])


def test_unreachable_gate_removes_the_int8_directory(tmp_path):
    with pytest.raises(GateError, match="openvino int8 misses the gate cosine>=1"):
        edgepack.convert(DEMO, to="openvino", precision="int8", out_dir=tmp_path / "o",
                         quant=QuantizeOptions(calib=digits_npz(tmp_path, 30), gate="cosine>=1.0"))
    assert not (tmp_path / "o").exists()


def test_observer_maps_to_nncf_range_estimator(tmp_path):
    res = edgepack.convert(DEMO, to="openvino", precision="int8", out_dir=tmp_path / "o",
                           quant=QuantizeOptions(calib=digits_npz(tmp_path, 30), observer="minmax"))
    assert "MINMAX range estimator" in res.results[0].quant["method"]
    assert res.results[0].ok


def test_nncf_child_imports_neither_torch_nor_telemetry():
    """torch is installed here (the shared venv has it); nncf would import it, and its telemetry object would
    be a real sender (NNCFTelemetry) instead of nncf's stub."""
    code = ("import sys; from edgepack.quantize.openvino import _import_nncf; _import_nncf(); "
            "bad = [m for m in ('torch', 'openvino_telemetry') if sys.modules.get(m) is not None]; "
            "import nncf.telemetry.wrapper as w; real = isinstance(w.telemetry, w.NNCFTelemetry); "
            "print(bad, type(w.telemetry).__name__); sys.exit(1 if bad or real else 0)")
    env = {"PYTHONPATH": package_root(), "PATH": "/usr/bin:/bin"}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr


ZOO = DEMO.parents[3] / "tests" / "fixtures" / "zoo"


@pytest.mark.slow
@pytest.mark.parametrize("model", sorted(p.stem for p in ZOO.glob("*.onnx")))
def test_zoo_converts_to_fp32_fp16_int8(model, tmp_path):
    """`--precision fp32,fp16,int8 --calib` on every zoo architecture (attention, LSTM, shuffles, transposed
    convs...). Calibrated on seeded standard-normal tensors (the zoo's weights are random too); measured int8
    cosine vs ONNX Runtime 0.9996-0.99999 with no layer kept in float; the gate leaves room for other CPUs."""
    import onnx

    g = onnx.load(str(ZOO / f"{model}.onnx"), load_external_data=False).graph
    rng = np.random.default_rng(5)
    calib = tmp_path / "calib.npz"
    np.savez(calib, **{i.name: rng.standard_normal((40, *[d.dim_value for d in i.type.tensor_type.shape.dim]))
                       .astype(np.float32) for i in g.input})
    res = edgepack.convert(ZOO / f"{model}.onnx", to="openvino", precision="fp32,fp16,int8", out_dir=tmp_path / "o",
                           quant=QuantizeOptions(calib=calib, gate="cosine>=0.995"))
    assert res.ok, [(r.precision, r.error, r.parity and r.parity.overall) for r in res.results]
    r8 = res.results[2]
    assert r8.quant["int8_layers"] and r8.parity.overall.cosine >= 0.995
