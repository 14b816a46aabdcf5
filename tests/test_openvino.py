"""OpenVINO end to end: `convert --to openvino` (IR fp32/fp16), the engine adapter (ONNX names, threads, the
inference precision it asks for), unsupported ops named with their node, bad artifacts, bundles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from onnx import TensorProto, helper

import edgepack
from conftest import conv_relu_model, run_cli, save_model
from edgepack.converters.prepare import seeded_inputs
from edgepack.errors import InputError, UnsupportedOpError
from edgepack.runtime.engines import get_engine

pytest.importorskip("openvino")


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    d = tmp_path_factory.mktemp("ov")
    return edgepack.convert(conv_relu_model(d / "conv.onnx"), to="openvino", precision="fp32,fp16",
                            out_dir=d / "out")


def _ort(result, feeds):
    import onnxruntime as ort

    sess = ort.InferenceSession(str(result.out_dir / "model.onnx"), providers=["CPUExecutionProvider"])
    return dict(zip([o.name for o in sess.get_outputs()], sess.run(None, feeds)))


def test_ir_files_names_and_parity(converted):
    assert converted.ok
    assert [(r.engine, r.precision) for r in converted.results] == [("openvino", "fp32"), ("openvino", "fp16")]
    for r in converted.results:
        art = r.artifact
        assert art.files == {"xml": "model.xml", "bin": "model.bin"}
        assert sorted(p.name for p in Path(art.directory).iterdir()) == ["model.bin", "model.xml"]
        assert [t.engine_name for t in art.inputs] == ["input"]  # the IR keeps the ONNX names
        assert [t.engine_name for t in art.outputs] == ["logits", "features"]
        assert art.converter == "openvino.convert_model" and art.converter_version
    f32, f16 = (r.artifact for r in converted.results)
    # compressed weights: f16 in the .bin (half the bytes of the f32 one, give or take the tiny header)
    assert f16.path("bin").stat().st_size <= f32.path("bin").stat().st_size * 0.55
    assert 'element_type="f16"' in f16.path("xml").read_text()


@pytest.mark.parametrize("precision", ["fp32", "fp16"])
@pytest.mark.parametrize("threads", [1, 2])
def test_adapter_runs_with_onnx_names(converted, precision, threads):
    art = converted.artifact("openvino", precision)
    feeds = seeded_inputs(art.inputs, seed=7)
    ref = _ort(converted, feeds)
    with get_engine("openvino").load(art, threads=threads) as eng:
        out = eng.run(feeds)
        again = eng.run({k: v.copy() for k, v in feeds.items()})
    assert set(out) == {"logits", "features"}
    tol = 1e-5 if precision == "fp32" else 2e-2
    for name in out:
        assert out[name].shape == ref[name].shape and out[name].dtype == np.float32
        np.testing.assert_allclose(out[name], ref[name], atol=tol * max(1.0, np.abs(ref[name]).max()))
        np.testing.assert_array_equal(out[name], again[name])


def test_fp32_is_not_computed_in_bf16(converted):
    """OpenVINO's CPU plugin defaults to bf16 on CPUs with AVX512-BF16/AMX (this machine): an fp32 artifact
    must still agree with ONNX Runtime to fp32 rounding, far below bf16's ~1e-2."""
    art = converted.artifact("openvino", "fp32")
    rng = np.random.default_rng(11)
    feeds = {"input": rng.uniform(-3, 3, (1, 3, 16, 16)).astype(np.float32)}
    ref = _ort(converted, feeds)
    with get_engine("openvino").load(art) as eng:
        got = eng.run(feeds)
    for name in ref:
        rel = np.abs(got[name] - ref[name]).max() / np.abs(ref[name]).max()
        assert rel < 1e-5, (name, rel)


def test_outputs_do_not_alias_the_next_run(converted):
    art = converted.artifact("openvino", "fp32")
    with get_engine("openvino").load(art) as eng:
        a = eng.run({"input": np.ones((1, 3, 16, 16), np.float32)})
        keep = a["logits"].copy()
        eng.run({"input": np.zeros((1, 3, 16, 16), np.float32)})
    np.testing.assert_array_equal(a["logits"], keep)


def test_non_cpu_device_is_refused(converted):
    with pytest.raises(InputError, match="device 'vulkan' is not supported"):
        get_engine("openvino").load(converted.artifact("openvino", "fp32"), device="vulkan")


def test_corrupt_ir_is_a_clean_error(converted, tmp_path):
    import shutil

    src = converted.artifact("openvino", "fp32")
    bad = tmp_path / "bad"
    shutil.copytree(src.directory, bad)
    (bad / "model.xml").write_text("<net><layers><layer id='0' type='Nope'/></layers>")
    art = edgepack.runtime.artifact.Artifact.from_dict(src.to_dict(), bad)
    with pytest.raises(InputError, match="openvino could not read .*reconvert"):
        get_engine("openvino").load(art)


def _det_model(path: Path) -> Path:
    nodes = [helper.make_node("Relu", ["x"], ["r"], name="relu0"),
             helper.make_node("Det", ["r"], ["y"], name="the_det")]
    return save_model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 3])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])], [], path)


def test_unsupported_op_names_node_and_op(tmp_path):
    model = _det_model(tmp_path / "det.onnx")
    with pytest.raises(UnsupportedOpError) as e:
        edgepack.convert(model, to="openvino", out_dir=tmp_path / "o")
    assert (e.value.engine, e.value.op_type, e.value.node) == ("openvino", "Det", "the_det")
    assert not (tmp_path / "o").exists()  # nothing half-written
    r = run_cli("convert", str(model), "--to", "openvino", "-o", str(tmp_path / "o2"))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "cannot convert node 'the_det' (op Det)" in r.stderr and "--to openvino" in r.stderr


def test_bundle_with_openvino_artifacts_loads_and_classifies(tmp_path):
    from edgepack.demo import load_demo
    from edgepack.pack import PackOptions, pack

    d = load_demo()
    opts = PackOptions(task="classify", labels=d.spec["labels"], mean=d.spec["mean"], std=d.spec["std"])
    b = pack(d.model, tmp_path / "ov.edgepack", opts, to="openvino", precision="fp32,fp16", bench_runs=3,
             threads=(1, 2))
    arts = {(a["engine"], a["precision"]): a for a in b.manifest["artifacts"]}
    assert set(arts) == {("openvino", "fp32"), ("openvino", "fp16")}
    assert all(a["verification"]["passed"] for a in arts.values())
    assert {(x["engine"], x["threads"]) for x in b.manifest["benchmarks"]} >= {("openvino", 1), ("openvino", 2)}
    for precision in ("fp32", "fp16"):
        with edgepack.load(b.path, engine="openvino", precision=precision) as s:
            top1 = [int(s.run(img).labels[0]) for img in d.images[:60]]
        assert np.mean(np.array(top1) == d.labels[:60]) >= 0.95
    with edgepack.load(b.path) as s:  # auto: the bundle's own benchmark from this machine decides
        assert s.choice.engine == "openvino" and "fastest measured" in s.choice.reason


def test_converter_child_sends_no_telemetry(tmp_path):
    """openvino.convert_model reports usage to Google Analytics (openvino_telemetry, opt-out: with no consent
    file it sends and writes ~/intel/openvino_ga_cid). In edgepack's child the package cannot be imported,
    so OpenVINO uses its no-op stub and nothing is written to HOME."""
    import subprocess
    import sys

    from conftest import package_root

    model = conv_relu_model(tmp_path / "m.onnx")
    home = tmp_path / "home"
    home.mkdir()
    code = ("import sys; from edgepack.converters.openvino import convert_in_child; "
            f"convert_in_child({str(model)!r}, {str(tmp_path / 'm.xml')!r}, False); "
            "import openvino.tools.ovc.telemetry_utils as t; print(t.tm.__name__)")
    env = {"PYTHONPATH": package_root(), "PATH": "/usr/bin:/bin", "HOME": str(home)}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "openvino.tools.ovc.telemetry_stub"
    assert (tmp_path / "m.xml").exists() and list(home.iterdir()) == []


def test_inference_precision_per_machine():
    """f16 arithmetic only where it pays (ARM); fp32 and int8 artifacts always compute in f32, never bf16."""
    from edgepack.runtime.engines.openvino import inference_precision

    assert [inference_precision(p, "x86_64") for p in ("fp32", "fp16", "int8")] == ["f32", "f32", "f32"]
    assert [inference_precision(p, "aarch64") for p in ("fp32", "fp16", "int8")] == ["f32", "f16", "f32"]
