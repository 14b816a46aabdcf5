"""Every engine adapter on real artifacts: ONNX names in and out, shapes, threads, close, registry."""

from __future__ import annotations

import numpy as np
import pytest

import edgepack
from edgepack.api import convert
from edgepack.errors import EngineUnavailableError, InputError
from edgepack.runtime.artifact import Artifact, load_artifacts, seeded_inputs
from edgepack.runtime.engines import ENGINES, engine_status, get_engine, list_engines


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    from conftest import conv_relu_model

    d = tmp_path_factory.mktemp("eng")
    model = conv_relu_model(d / "conv.onnx")
    return convert(model, to="ncnn,mnn,openvino", precision="fp32,fp16", out_dir=d / "out")


def _reference(result, feeds):
    art = Artifact("onnxruntime", "fp32", {"model": "model.onnx"}, str(result.out_dir), result.inputs,
                   result.outputs)
    with get_engine("onnxruntime").load(art) as eng:
        return eng.run(feeds)


@pytest.mark.parametrize("engine", ["ncnn", "mnn", "openvino"])
@pytest.mark.parametrize("precision", ["fp32", "fp16"])
def test_adapter_runs_with_onnx_names(converted, engine, precision):
    art = converted.artifact(engine, precision)
    feeds = seeded_inputs(art.inputs, seed=7)
    ref = _reference(converted, feeds)
    eng = get_engine(engine).load(art, threads=2)
    try:
        assert [t.name for t in eng.inputs] == ["input"]
        assert [t.name for t in eng.outputs] == ["logits", "features"]
        out = eng.run(feeds)
    finally:
        eng.close()
    assert set(out) == {"logits", "features"}
    tol = 1e-4 if precision == "fp32" else 2e-2
    for name in out:
        assert out[name].shape == ref[name].shape
        np.testing.assert_allclose(out[name], ref[name], atol=tol * max(1.0, np.abs(ref[name]).max()))


def test_ncnn_keeps_engine_names_inside(converted):
    art = converted.artifact("ncnn", "fp32")
    assert [t.engine_name for t in art.inputs] == ["in0"]
    assert [t.engine_name for t in art.outputs] == ["out0", "out1"]


def test_repeated_runs_are_identical(converted):
    art = converted.artifact("ncnn", "fp32")
    feeds = seeded_inputs(art.inputs, seed=3)
    with get_engine("ncnn").load(art) as eng:
        a, b = eng.run(feeds), eng.run({k: v.copy() for k, v in feeds.items()})
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


def test_run_rejects_wrong_shape_and_names(converted):
    art = converted.artifact("mnn", "fp32")
    with get_engine("mnn").load(art) as eng:
        with pytest.raises(InputError, match=r"expected \[1, 3, 16, 16\]"):
            eng.run({"input": np.zeros((1, 3, 8, 8), np.float32)})
        with pytest.raises(InputError, match="missing input 'input'"):
            eng.run({"in0": np.zeros((1, 3, 16, 16), np.float32)})


def test_onnxruntime_engine_is_reference(converted):
    feeds = seeded_inputs(converted.inputs)
    out = _reference(converted, feeds)
    assert out["logits"].shape == (1, 5)


def test_litert_engine_loads_a_real_tflite(tmp_path):
    """The LiteRT adapter on a .tflite built with the flatbuffers schema shipped in ai-edge-litert."""
    from tflite_builder import write_add_model

    path = write_add_model(tmp_path / "add.tflite")
    art = Artifact("litert", "fp32", {"model": path.name}, str(tmp_path),
                   [edgepack.runtime.artifact.TensorInfo("a", [1, 4], "float32", "a"),
                    edgepack.runtime.artifact.TensorInfo("b", [1, 4], "float32", "b")],
                   [edgepack.runtime.artifact.TensorInfo("sum", [1, 4], "float32", "sum")])
    a = np.arange(4, dtype=np.float32).reshape(1, 4)
    b = np.full((1, 4), 0.5, np.float32)
    with get_engine("litert").load(art) as eng:
        out = eng.run({"a": a, "b": b})
    np.testing.assert_array_equal(out["sum"], a + b)


def test_registry_lists_every_engine_with_versions():
    names = [s.name for s in list_engines()]
    assert names == list(ENGINES)
    for s in list_engines():
        assert s.installed and s.version, s


def test_unknown_engine_is_a_clear_error():
    with pytest.raises(EngineUnavailableError, match="unknown engine 'tensorrt'"):
        get_engine("tensorrt")


def test_missing_engine_package_reported_not_raised(monkeypatch):
    import edgepack.runtime.engines as reg

    monkeypatch.setitem(reg.ENGINES, "ghost",
                        ("edgepack.runtime.engines.ghost", "Ghost", "ghost-engine", "no_such_mod_x"))
    assert engine_status("ghost").installed is False
    with pytest.raises(EngineUnavailableError, match="pip install ghost-engine"):
        get_engine("ghost")


def test_import_edgepack_does_not_import_engines():
    import subprocess
    import sys

    code = ("import sys, edgepack; bad = [m for m in ('ncnn', 'MNN', 'onnxruntime', 'ai_edge_litert', 'openvino', "
            "'nncf', 'torch') if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_load_artifacts_reads_convert_json(converted):
    arts = load_artifacts(converted.out_dir)
    assert {a.key for a in arts} == {"ncnn-fp32", "ncnn-fp16", "mnn-fp32", "mnn-fp16", "openvino-fp32",
                                      "openvino-fp16"}
