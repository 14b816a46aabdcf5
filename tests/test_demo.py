"""The main job: `edgepack demo` on the bundled digits model and its held-out images."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from conftest import run_cli
from edgepack.demo import load_demo, preprocess


def test_demo_data_is_small_and_consistent():
    d = load_demo()
    pkg = Path(d.model).parent
    assert sum(p.stat().st_size for p in pkg.iterdir() if p.suffix in (".onnx", ".npz", ".json")) < 2_000_000
    assert d.images.dtype == np.uint8 and d.images.shape[1:] == (32, 32, 3)
    assert len(d.images) == len(d.labels) >= 300
    assert set(np.unique(d.labels)) == set(range(10))


def test_demo_model_reaches_97_percent_with_onnxruntime():
    import onnxruntime as ort

    d = load_demo()
    sess = ort.InferenceSession(str(d.model), providers=["CPUExecutionProvider"])
    x = preprocess(d.images, d.spec["mean"], d.spec["std"])
    logits = np.concatenate([sess.run(None, {d.spec["input"]: x[i:i + 1]})[0] for i in range(len(x))])
    assert np.mean(logits.argmax(1) == d.labels) >= 0.97


def test_preprocess_matches_numpy_formula():
    d = load_demo()
    x = preprocess(d.images[:3], d.spec["mean"], d.spec["std"])
    ref = ((d.images[:3].astype(np.float64) - 127.5) / 127.5).transpose(0, 3, 1, 2)
    assert x.shape == (3, 3, 32, 32) and x.dtype == np.float32
    np.testing.assert_allclose(x, ref, rtol=1e-5, atol=1e-6)


def test_edgepack_demo_command(tmp_path):
    r = run_cli("demo", "-o", str(tmp_path / "demo"))
    assert r.returncode == 0, r.stdout + r.stderr
    rows = [ln for ln in r.stdout.splitlines() if ln.startswith("│")]
    got = {(c[0], c[1]): c for c in ([x.strip() for x in ln.strip("│").split("│")] for ln in rows)}
    keys = [(e, p) for e in ("ncnn", "mnn") for p in ("fp32", "fp16", "int8")]
    keys += [("litert", "fp32"), ("litert", "fp16"), ("litert", "int8")]
    keys += [("openvino", "fp32"), ("openvino", "fp16"), ("openvino", "int8")]
    for key in keys:
        assert key in got, r.stdout
        accuracy = float(got[key][2].rstrip("%")) / 100
        assert accuracy >= 0.97 and got[key][-1] == "pass"
    for target in ("ncnn", "mnn", "tflite", "openvino"):
        assert (tmp_path / "demo" / target / "convert.json").exists()
    line = next(ln for ln in r.stdout.splitlines() if "edgepack.load chose" in ln)  # the demo ends with a bundle
    assert (tmp_path / "demo" / "digits.edgepack").exists() and f"true label {load_demo().labels[0]}) -> " in line
