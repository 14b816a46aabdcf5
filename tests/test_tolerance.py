"""The parity tolerance model (runtime/metrics.py, docs/parity.md): an absolute floor float32 rounding
cannot trip, an element tolerance scaled by the reference's rms, per-output verdicts, fp32 never stricter in
effect than fp16, and parity on real inputs (--data / --calib) recorded in convert.json."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

import edgepack
from conftest import conv_relu_model, run_cli
from edgepack.errors import InputError
from edgepack.runtime.metrics import FLOOR, agreement, passes, within
from edgepack.verify.parity import compare


def test_rounding_on_an_almost_zero_output_passes():
    """PP-OCRv4 det on noise: output rms 2e-6, fp32 engines differ by 1.4e-7 (rounding). A peak-relative
    tolerance failed it; the floor does not, at any precision."""
    rng = np.random.default_rng(0)
    ref = np.zeros(409600)
    ref[rng.choice(ref.size, 300, replace=False)] = rng.random(300) * 7.5e-4
    got = ref + rng.standard_normal(ref.size) * 3e-8 * (ref > 0)
    got[:50] += 1.4e-7
    for p in ("fp32", "fp16"):
        assert passes(agreement(ref, got, p), p)


def test_the_floor_does_not_hide_real_errors():
    ref = np.linspace(-1, 1, 1000)
    wrong = ref.copy()
    wrong[::3] = 0.0
    assert not passes(agreement(ref, wrong, "fp32"), "fp32")
    assert not passes(agreement(ref, wrong, "fp16"), "fp16")


def test_scale_comes_from_the_distribution_not_the_peak():
    """One huge value must not make every small element's error acceptable."""
    ref = np.full(10000, 0.1)
    ref[0] = 1e4
    got = ref.copy()
    got[1:] += 0.05  # every small element 50 % off
    a = agreement(ref, got, "fp32")
    assert a.atol < 0.05 and a.mismatch > 0.9 and not passes(a, "fp32")


def test_wrong_small_slice_beside_large_values_still_fails():
    """The element check's reason to exist (also tests/test_convert.py's regression)."""
    ref = np.concatenate([np.linspace(10, 600, 240), np.full(120, 0.5)])
    got = ref.copy()
    got[240:] = 0.5 + 0.6 * np.sin(np.arange(120))
    assert not passes(agreement(ref, got, "fp32"), "fp32")


def test_every_output_is_judged_on_its_own_scale():
    ref = [{"boxes": np.linspace(0, 600, 400), "scores": np.full(40, 0.3)}]
    got = [{"boxes": ref[0]["boxes"] + 1e-5, "scores": np.full(40, 0.9)}]
    p = compare(ref, got, "fp32")
    assert p.per_output["boxes"].cosine > 0.99999 and not p.passed


def test_fp32_is_never_stricter_than_a_passing_fp16():
    """api.convert applies `within`: an fp32 result no worse than a passing fp16 one passes too."""
    rng = np.random.default_rng(1)
    ref = rng.standard_normal(5000)
    noise = rng.standard_normal(5000)
    a32, a16 = agreement(ref, ref + 2e-3 * noise, "fp32"), agreement(ref, ref + 4e-3 * noise, "fp16")
    assert passes(a16, "fp16") and within(a32, a16)
    assert not within(agreement(ref, ref + 8e-3 * noise, "fp32"), a16)


def test_convert_records_the_tolerance_model_and_seeded_inputs(tmp_path):
    m = conv_relu_model(tmp_path / "m.onnx")
    res = edgepack.convert(m, to="ncnn", out_dir=tmp_path / "o")
    doc = json.loads((tmp_path / "o" / "convert.json").read_text())
    assert doc["parity_inputs"] == {"kind": "seeded standard normal", "seed": 0, "samples": 2}
    assert doc["tolerance"]["fp32"]["floor"] == FLOOR["fp32"]
    assert res.ok and doc["artifacts"][0]["parity"]["overall"]["atol"] > 0


def test_convert_data_npz_is_the_parity_input(tmp_path):
    m = conv_relu_model(tmp_path / "m.onnx")
    x = np.random.default_rng(3).random((5, 1, 3, 16, 16)).astype(np.float32)
    np.savez(tmp_path / "d.npz", input=x)
    res = edgepack.convert(m, to="ncnn,mnn", out_dir=tmp_path / "o", data=tmp_path / "d.npz")
    assert res.ok
    doc = json.loads((tmp_path / "o" / "convert.json").read_text())
    assert doc["parity_inputs"]["kind"] == "data" and doc["parity_inputs"]["samples"] == 5
    assert doc["parity_inputs"]["format"] == "npz"


def test_convert_data_errors_name_the_problem(tmp_path):
    m = conv_relu_model(tmp_path / "m.onnx")
    with pytest.raises(InputError, match="not found"):
        edgepack.convert(m, to="ncnn", out_dir=tmp_path / "o", data=tmp_path / "nope.npz")
    np.savez(tmp_path / "bad.npz", other=np.zeros((1, 3, 16, 16), np.float32))
    with pytest.raises(InputError, match="lacks tensors for input"):
        edgepack.convert(m, to="ncnn", out_dir=tmp_path / "o", data=tmp_path / "bad.npz")
    assert not (tmp_path / "o").exists()


def test_cli_convert_data_images_and_report(tmp_path):
    pytest.importorskip("PIL", reason="needs Pillow for image files: pip install Pillow")
    from PIL import Image

    m = conv_relu_model(tmp_path / "m.onnx")
    imgs = tmp_path / "imgs"
    imgs.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        Image.fromarray(rng.integers(0, 255, (20, 24, 3), dtype=np.uint8)).save(imgs / f"{i}.png")
    proc = run_cli("convert", str(m), "--to", "ncnn", "-o", str(tmp_path / "o"), "--data", str(imgs),
                   "--mean", "127.5,127.5,127.5", "--std", "64,64,64")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "parity inputs: 3 samples of data" in " ".join(proc.stdout.split())
    doc = json.loads((tmp_path / "o" / "convert.json").read_text())
    assert doc["parity_inputs"]["format"] == "images" and doc["parity_inputs"]["preprocess"]["mean"]


def test_calibration_data_is_the_parity_input_without_data(tmp_path):
    m = conv_relu_model(tmp_path / "m.onnx")
    np.savez(tmp_path / "c.npz", input=np.random.default_rng(4).random((6, 1, 3, 16, 16)).astype(np.float32))
    edgepack.convert(m, to="ncnn", out_dir=tmp_path / "o", quant=edgepack.api.QuantizeOptions(calib=tmp_path / "c.npz"))
    doc = json.loads((tmp_path / "o" / "convert.json").read_text())
    assert doc["parity_inputs"]["kind"] == "calibration data" and doc["parity_inputs"]["samples"] == 6


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("rapidocr_onnxruntime") is None,
                    reason="needs the rapidocr-onnxruntime package (PP-OCRv4 models): pip install rapidocr-onnxruntime")
def test_ppocrv4_det_fp32_passes_on_every_engine(tmp_path):
    spec = importlib.util.find_spec("rapidocr_onnxruntime")
    det = Path(list(spec.submodule_search_locations)[0]) / "models" / "ch_PP-OCRv4_det_infer.onnx"
    res = edgepack.convert(det, to="ncnn,mnn,tflite", precision="fp32", out_dir=tmp_path / "o",
                           input_shapes={"x": [1, 3, 640, 640]})
    for r in res.results:
        assert r.ok, (r.engine, r.form, r.parity.overall)
        assert r.form == "slim"  # passing on the first form: no retry was needed


def test_convert_passes_fp32_within_a_passing_fp16_of_the_same_engine():
    from edgepack.api import ArtifactResult, _fp32_not_stricter_than_fp16

    rng = np.random.default_rng(2)
    ref = [{"y": rng.standard_normal(4000)}]
    noise = rng.standard_normal(4000)
    r32 = ArtifactResult("mnn", "fp32", parity=compare(ref, [{"y": ref[0]["y"] + 2e-3 * noise}], "fp32"))
    r16 = ArtifactResult("mnn", "fp16", parity=compare(ref, [{"y": ref[0]["y"] + 3e-3 * noise}], "fp16"))
    assert not r32.parity.passed and r16.ok
    notes: list[str] = []
    _fp32_not_stricter_than_fp16([r32, r16], notes)
    assert r32.ok and "within" in r32.parity.note and notes
    worse = ArtifactResult("mnn", "fp32", parity=compare(ref, [{"y": ref[0]["y"] + 5e-3 * noise}], "fp32"))
    _fp32_not_stricter_than_fp16([worse, r16], [])
    assert not worse.ok
