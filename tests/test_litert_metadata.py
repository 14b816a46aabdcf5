"""MediaPipe-ready metadata in the .tflite: the ModelMetadata buffer, the labels zip, bad specs, and
MediaPipe's own ImageClassifier on the demo model (in a throwaway venv: mediapipe is never a dependency)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile

import pytest

import edgepack
from conftest import ROOT, conv_relu_model, run_cli
from edgepack.demo import load_demo
from edgepack.errors import InputError

SPEC = {"mean": [127.5] * 3, "std": [127.5] * 3, "labels": [f"class{i}" for i in range(5)], "output": "logits"}


def _model_meta(path):
    from ai_edge_litert import schema_py_generated as s

    m = s.ModelT.InitFromPackedBuf(path.read_bytes(), 0)
    return {md.name.decode(): bytes(m.buffers[md.buffer].data) for md in m.metadata or []}


def test_metadata_buffer_and_labels_zip(tmp_path):
    model = conv_relu_model(tmp_path / "m.onnx")
    res = edgepack.convert(model, to="tflite", out_dir=tmp_path / "o",
                           converter_options={"tflite": {"metadata": SPEC, "io_layout": "nhwc"}})
    assert res.ok  # the appended zip does not disturb LiteRT
    art = res.artifact("tflite", "fp32")
    assert art.options == {"io_layout": "nhwc", "metadata": "mediapipe image classifier"}
    meta = _model_meta(art.path("model"))["TFLITE_METADATA"]
    assert meta[4:8] == b"M001"  # the metadata schema's file identifier
    assert b"labels.txt" in meta and b"logits" in meta and b"1.0.0" in meta
    data = art.path("model").read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.namelist() == ["labels.txt"]
        assert zf.read("labels.txt").decode().split() == SPEC["labels"]


def test_cli_litert_metadata_file(tmp_path):
    model = conv_relu_model(tmp_path / "m.onnx")
    spec = tmp_path / "spec.json"
    spec.write_text('{"mean": [0, 0, 0], "std": [255, 255, 255], "labels": ["a","b","c","d","e"], '
                    '"output": "logits", "unrelated": 1}')
    r = run_cli("convert", str(model), "--to", "tflite", "--litert-metadata", str(spec), "-o", str(tmp_path / "o"))
    assert r.returncode == 0, r.stderr
    assert "TFLITE_METADATA" in _model_meta(tmp_path / "o" / "litert-fp32" / "model.tflite")


@pytest.mark.parametrize("change,needle", [({"labels": ["a", "b"]}, "5 labels"), ({"std": [0, 1, 1]}, "zero"),
                                           ({"mean": [1, 2]}, "one per channel"), ({"output": "nope"}, "outputs")])
def test_bad_metadata_spec(tmp_path, change, needle):
    model = conv_relu_model(tmp_path / "m.onnx")
    with pytest.raises(InputError, match=needle):
        edgepack.convert(model, to="tflite", out_dir=tmp_path / "o",
                         converter_options={"tflite": {"metadata": {**SPEC, **change}}})
    assert not (tmp_path / "o").exists()


def test_demo_artifacts_carry_metadata(tmp_path):
    d = load_demo()
    res = edgepack.convert(d.model, to="tflite", out_dir=tmp_path / "o",
                           converter_options={"tflite": {"metadata": d.spec}})
    assert "TFLITE_METADATA" in _model_meta(res.artifact("tflite", "fp32").path("model"))


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("EDGEPACK_SKIP_MEDIAPIPE") == "1", reason="EDGEPACK_SKIP_MEDIAPIPE=1")
def test_mediapipe_image_classifier_agrees_on_heldout_digits(tmp_path):
    """tools/check_mediapipe.py: MediaPipe's ImageClassifier (its own venv, kept in ~/.cache/edgepack-tests,
    not $TMPDIR) vs edgepack's LiteRT."""
    default = os.path.expanduser("~/.cache/edgepack-tests/mediapipe-venv")
    venv_dir = os.environ.get("EDGEPACK_MEDIAPIPE_VENV", default)
    if not os.path.exists(os.path.join(venv_dir, "bin", "python")):
        probe = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(tmp_path),
                                "mediapipe"], capture_output=True, text=True, timeout=600)
        if probe.returncode != 0:
            pytest.skip(f"mediapipe cannot be downloaded here: {probe.stderr.strip().splitlines()[-1:]}")
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "check_mediapipe.py"), "--venv", venv_dir],
                       capture_output=True, text=True, timeout=1200)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    assert "top-1 = edgepack LiteRT: 100.00%" in r.stdout and "labels from metadata: yes" in r.stdout
