"""edgepack's LiteRT writer end to end: `convert --to tflite`, fp16 layout, NHWC io, bad input, and no
TensorFlow anywhere in edgepack's dependency tree."""

from __future__ import annotations

import importlib.metadata
import json
import re
from pathlib import Path

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

import edgepack
from conftest import ROOT, conv_relu_model, run_cli, save_model, single_op_model
from edgepack.converters.litert.builder import ModelBuilder
from edgepack.errors import ConversionError, UnsupportedOpError


def _ops(path: Path) -> list[str]:
    from ai_edge_litert import schema_py_generated as s

    names = {v: k for k, v in vars(s.BuiltinOperator).items() if not k.startswith("_")}
    m = s.ModelT.InitFromPackedBuf(path.read_bytes(), 0)
    return [names[m.operatorCodes[o.opcodeIndex].builtinCode] for o in m.subgraphs[0].operators]


def _assert_clean_error(r, *needles: str) -> None:
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    for n in needles:
        assert n in r.stderr, r.stderr


def test_convert_to_tflite_names_and_parity(tmp_path, conv_model):
    res = edgepack.convert(conv_model, to="tflite", precision="fp32,fp16", out_dir=tmp_path / "o")
    assert res.ok
    assert [(r.engine, r.target, r.precision) for r in res.results] == [("litert", "tflite", "fp32"),
                                                                         ("litert", "tflite", "fp16")]
    art = res.artifact("tflite", "fp32")
    assert art is res.artifact("litert", "fp32")
    assert art.converter == "edgepack-litert" and art.options == {"io_layout": "onnx"}
    assert [t.name for t in art.inputs] == ["input"] and [t.engine_name for t in art.outputs] == ["logits",
                                                                                                   "features"]
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_path=str(art.path("model")))
    assert [d["name"] for d in it.get_input_details()] == ["input"]
    assert sorted(d["name"] for d in it.get_output_details()) == ["features", "logits"]
    assert list(it.get_input_details()[0]["shape"]) == [1, 3, 16, 16]  # ONNX layout by default


def test_fp16_stores_weights_half_with_dequantize(tmp_path, conv_model):
    res = edgepack.convert(conv_model, to="tflite", precision="fp32,fp16", out_dir=tmp_path / "o")
    f32, f16 = res.artifact("tflite", "fp32"), res.artifact("tflite", "fp16")
    assert f16.size_bytes < f32.size_bytes
    ops16, ops32 = _ops(f16.path("model")), _ops(f32.path("model"))
    assert "DEQUANTIZE" not in ops32
    assert ops16.count("DEQUANTIZE") == 4  # conv weight + bias, fc weight + bias
    assert [o for o in ops16 if o != "DEQUANTIZE"] == ops32
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_path=str(f16.path("model")))
    dtypes = {d["name"]: d["dtype"] for d in it.get_tensor_details()}
    assert sum(dt == np.float16 for dt in dtypes.values()) == 4
    assert it.get_input_details()[0]["dtype"] == np.float32  # activations stay float32


def test_io_layout_nhwc(tmp_path, conv_model):
    res = edgepack.convert(conv_model, to="tflite", precision="fp32", out_dir=tmp_path / "o",
                           converter_options={"tflite": {"io_layout": "nhwc"}})
    assert res.ok
    art = res.artifact("tflite", "fp32")
    assert art.inputs[0].shape == [1, 16, 16, 3] and art.inputs[0].layout == "NHWC"
    assert art.outputs[1].shape == [1, 16, 16, 8] and art.outputs[1].layout == "NHWC"
    assert art.outputs[0].shape == [1, 5] and art.outputs[0].layout == ""
    assert "TRANSPOSE" not in _ops(art.path("model"))  # NHWC end to end: the layout pass wrote none
    doc = json.loads((tmp_path / "o" / "convert.json").read_text())
    assert doc["artifacts"][0]["artifact"]["options"] == {"io_layout": "nhwc"}
    # the user feeds NHWC to the engine and gets NHWC back
    from edgepack.runtime.engines import get_engine

    x = np.random.default_rng(0).standard_normal((1, 3, 16, 16)).astype(np.float32)
    ref = edgepack.api.reference_outputs(res.prepared, [{"input": x}])[0]
    with get_engine("litert").load(art) as eng:
        got = eng.run({"input": x.transpose(0, 2, 3, 1)})
    np.testing.assert_allclose(got["features"].transpose(0, 3, 1, 2), ref["features"], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got["logits"], ref["logits"], rtol=1e-4, atol=1e-5)


def test_cli_litert_io_layout(tmp_path, conv_model):
    out = tmp_path / "out"
    r = run_cli("convert", str(conv_model), "--to", "ncnn,tflite", "--litert-io-layout", "nhwc", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert re.search(r"litert\s*│\s*fp32", r.stdout), r.stdout
    doc = json.loads((out / "convert.json").read_text())
    lite = [a for a in doc["artifacts"] if a["engine"] == "litert"][0]
    assert lite["target"] == "tflite" and lite["artifact"]["options"]["io_layout"] == "nhwc"
    assert (out / lite["dir"] / "model.tflite").exists()


def test_unsupported_op_names_node_and_writes_nothing(tmp_path):
    model = single_op_model(tmp_path / "hm.onnx", "Hardmax", node_name="argmax_onehot", axis=1)
    with pytest.raises(UnsupportedOpError, match="argmax_onehot.*Hardmax") as e:
        edgepack.convert(model, to="tflite", out_dir=tmp_path / "o")
    assert e.value.engine == "litert" and "--to tflite" in str(e.value)
    assert not (tmp_path / "o").exists()
    r = run_cli("convert", str(model), "--to", "tflite", "-o", str(tmp_path / "out"))
    _assert_clean_error(r, "argmax_onehot", "Hardmax", "litert")
    assert not (tmp_path / "out").exists()


def test_unsupported_attribute_combination(tmp_path):
    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array(rng.standard_normal(s).astype(np.float32), n)
             for n, s in (("W", (1, 8, 3)), ("R", (1, 8, 2)))]
    node = helper.make_node("LSTM", ["x", "W", "R"], ["y"], hidden_size=2, clip=0.5, name="clipped_lstm")
    model = save_model([node], [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 1, 3])],
                       [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 1, 1, 2])], inits,
                       tmp_path / "lstm.onnx")
    with pytest.raises(UnsupportedOpError, match="clipped_lstm.*clip"):
        edgepack.convert(model, to="tflite", out_dir=tmp_path / "o")
    assert not (tmp_path / "o").exists()


def test_grouped_conv_with_runtime_weights_is_refused(tmp_path):
    node = helper.make_node("Conv", ["x", "w"], ["y"], group=2, name="dynamic_conv")
    model = save_model([node], [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 5, 5]),
                                helper.make_tensor_value_info("w", TensorProto.FLOAT, [6, 2, 3, 3])],
                       [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 6, 3, 3])], [],
                       tmp_path / "c.onnx")
    with pytest.raises(UnsupportedOpError, match="dynamic_conv.*grouped convolution with run-time weights"):
        edgepack.convert(model, to="tflite", out_dir=tmp_path / "o")


def test_dynamic_shape_is_refused_before_writing(tmp_path):
    model = conv_relu_model(tmp_path / "dyn.onnx", batch="batch")
    r = run_cli("convert", str(model), "--to", "tflite", "-o", str(tmp_path / "out"))
    _assert_clean_error(r, "batch", "--input-shape")
    assert not (tmp_path / "out").exists()


def test_tensor_over_2gb_is_refused_without_copying():
    b = ModelBuilder()
    huge = np.broadcast_to(np.float32(0), (2**29 + 1,))  # 2 GB + 4 bytes, a view: no memory is used
    with pytest.raises(ConversionError, match="over 2 GB"):
        b.tensor("huge_weight", list(huge.shape), np.float32, huge)


def test_every_zoo_model_loads_in_compiled_model(tmp_path):
    """LiteRT's CompiledModel (the newer API) loads and runs what the writer produced, same as Interpreter."""
    from ai_edge_litert.compiled_model import CompiledModel

    from edgepack.converters.litert import build_tflite

    for m in sorted((ROOT / "tests" / "fixtures" / "zoo").glob("*.onnx")):
        prepared = edgepack.converters.prepare.prepare(m, tmp_path / m.stem)
        for prec in ("fp32", "fp16"):
            data, _ = build_tflite(prepared.path, prec)
            cm = CompiledModel.from_buffer(data)
            ins, outs = cm.create_input_buffers(0), cm.create_output_buffers(0)
            for buf, t in zip(ins, prepared.inputs):
                buf.write(np.zeros(t.shape, np.float32))
            cm.run_by_index(0, ins, outs)
            assert cm.get_signature_list()["serving_default"]["inputs"] == [t.name for t in prepared.inputs]


def _requirement_names(reqs: list[str], extras: tuple[str, ...] = ()) -> list[str]:
    names = []
    for r in reqs:
        marker = r.split(";", 1)[1] if ";" in r else ""
        if "extra" in marker and not any(f'"{e}"' in marker or f"'{e}'" in marker for e in extras):
            continue  # other optional extras are not part of the install tree
        names.append(re.split(r"[\s\[<>=!~;(]", r.strip(), maxsplit=1)[0])
    return names


def test_no_tensorflow_in_dependency_tree():
    """edgepack's requirements with the workstation toolchain (`edgepack[toolchain]`, where the LiteRT writer and
    its reference runtime live), walked recursively through the installed distributions."""
    try:
        roots = importlib.metadata.requires("edgepack") or []
    except importlib.metadata.PackageNotFoundError:  # running from a source tree
        tomllib = pytest.importorskip("tomllib")
        project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
        roots = project["dependencies"] + project["optional-dependencies"]["toolchain"]
    seen: set[str] = set()
    todo = _requirement_names(roots, extras=("toolchain",))
    while todo:
        name = todo.pop().lower().replace("_", "-")
        if name in seen:
            continue
        seen.add(name)
        try:
            todo += _requirement_names(importlib.metadata.requires(name) or [])
        except importlib.metadata.PackageNotFoundError:
            pass  # a platform-conditional requirement not installed here
    assert "ai-edge-litert" in seen and "onnx" in seen
    assert not [n for n in seen if n.startswith(("tensorflow", "tf-", "onnx2tf", "tf-keras", "keras"))], seen
