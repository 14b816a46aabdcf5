"""convert: API and CLI, convert.json, parity table, unsupported ops, keep-going, atomic output."""

from __future__ import annotations

import json

import numpy as np
import pytest

import edgepack
from conftest import conv_relu_model, run_cli, single_op_model
from edgepack.errors import UnsupportedOpError


def test_api_returns_parity_per_artifact(tmp_path, conv_model):
    res = edgepack.convert(conv_model, to=["ncnn", "mnn"], precision=["fp32", "fp16"], out_dir=tmp_path / "o")
    assert res.ok
    assert [(r.engine, r.precision) for r in res.results] == [("ncnn", "fp32"), ("ncnn", "fp16"),
                                                              ("mnn", "fp32"), ("mnn", "fp16")]
    for r in res.results:
        limit = 0.9999 if r.precision == "fp32" else 0.999
        assert r.parity.overall.cosine >= limit
        assert set(r.parity.per_output) == {"logits", "features"}
        assert r.artifact.size_bytes > 0 and r.artifact.sha256
        assert r.artifact.converter in ("pnnx", "mnnconvert") and r.artifact.converter_version


def test_fp16_artifacts_are_smaller(tmp_path):
    model = conv_relu_model(tmp_path / "m.onnx", size=8)
    res = edgepack.convert(model, to="ncnn,mnn", precision="fp32,fp16", out_dir=tmp_path / "o")
    for eng in ("ncnn", "mnn"):
        assert res.artifact(eng, "fp16").size_bytes < res.artifact(eng, "fp32").size_bytes


def test_cli_convert_writes_table_and_json(tmp_path, conv_model):
    out = tmp_path / "out"
    r = run_cli("convert", str(conv_model), "--to", "ncnn,mnn", "--precision", "fp32,fp16", "-o", str(out))
    assert r.returncode == 0, r.stderr
    for col in ("engine", "cosine", "max abs err", "convert s", "size"):
        assert col in r.stdout
    assert r.stdout.count("pass") == 4
    doc = json.loads((out / "convert.json").read_text())
    assert doc["schema"] == "edgepack.convert/1"
    assert [a["dir"] for a in doc["artifacts"]] == ["ncnn-fp32", "ncnn-fp16", "mnn-fp32", "mnn-fp16"]
    assert all(a["ok"] for a in doc["artifacts"])
    for a in doc["artifacts"]:
        for name, digest in a["artifact"]["sha256"].items():
            import hashlib

            assert hashlib.sha256((out / a["dir"] / name).read_bytes()).hexdigest() == digest
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.tmp")]


def test_unsupported_op_names_node_op_and_engine(tmp_path):
    model = single_op_model(tmp_path / "hm.onnx", "Hardmax", node_name="pick_max", axis=1)
    for engine in ("ncnn", "mnn"):
        with pytest.raises(UnsupportedOpError) as ei:
            edgepack.convert(model, to=engine, out_dir=tmp_path / f"o_{engine}")
        msg = str(ei.value)
        assert "pick_max" in msg and "Hardmax" in msg and engine in msg
        assert not (tmp_path / f"o_{engine}").exists()


def test_engine_that_computes_wrong_values_fails_parity(tmp_path):
    """MNN 3.6.1 computes Shrink wrongly: the parity check must catch it, never pass it silently."""
    model = single_op_model(tmp_path / "shrink.onnx", "Shrink", bias=0.5, lambd=0.5)
    res = edgepack.convert(model, to="ncnn,mnn", out_dir=tmp_path / "o")
    by = {r.engine: r for r in res.results}
    assert by["ncnn"].ok
    if by["mnn"].ok:  # a newer MNN may have fixed it; then the check must agree with ONNX Runtime exactly
        assert by["mnn"].parity.overall.max_abs < 1e-4
    else:
        assert by["mnn"].parity.overall.cosine < 0.9999


def test_keep_going_keeps_what_converted(tmp_path):
    model = single_op_model(tmp_path / "ss.onnx", "Softsign")  # MNN has it, pnnx->ncnn does not
    res = edgepack.convert(model, to="ncnn,mnn", out_dir=tmp_path / "o", keep_going=True)
    by = {r.engine: r for r in res.results}
    assert by["ncnn"].error and "Softsign" in by["ncnn"].error
    assert by["mnn"].ok
    doc = json.loads((tmp_path / "o" / "convert.json").read_text())
    assert [a["ok"] for a in doc["artifacts"]] == [False, True]


def test_cli_parity_failure_exits_1(tmp_path):
    model = single_op_model(tmp_path / "shrink.onnx", "Shrink", bias=0.5, lambd=0.5)
    r = run_cli("convert", str(model), "--to", "mnn", "-o", str(tmp_path / "o"))
    expected = 0 if "pass" in r.stdout and "FAIL" not in r.stdout else 1
    assert r.returncode == expected
    if expected == 1:
        assert "FAIL" in r.stdout


def test_multi_input_model_maps_names(tmp_path):
    from onnx import TensorProto, helper

    from conftest import save_model

    nodes = [helper.make_node("Mul", ["b_second", "a_first"], ["prod"], name="mul"),
             helper.make_node("Sub", ["a_first", "b_second"], ["diff"], name="sub")]
    ins = [helper.make_tensor_value_info("a_first", TensorProto.FLOAT, [1, 4, 6, 6]),
           helper.make_tensor_value_info("b_second", TensorProto.FLOAT, [1, 4, 6, 6])]
    outs = [helper.make_tensor_value_info("diff", TensorProto.FLOAT, [1, 4, 6, 6]),
            helper.make_tensor_value_info("prod", TensorProto.FLOAT, [1, 4, 6, 6])]
    model = save_model(nodes, ins, outs, [], tmp_path / "two.onnx")
    res = edgepack.convert(model, to="ncnn,mnn", out_dir=tmp_path / "o")
    assert res.ok, [(r.engine, r.parity and r.parity.to_dict()) for r in res.results]
    # Sub is not symmetric: a swapped input mapping would fail parity
    assert np.isclose(res.results[0].parity.per_output["diff"].cosine, 1.0, atol=1e-6)


def test_ncnn_input_without_batch_dim(tmp_path):
    """Regression: the ncnn adapter refused inputs whose first dim is not 1 (coverage found 108 such cases)."""
    model = single_op_model(tmp_path / "relu3.onnx", "Relu", shape=(3, 4, 5))
    res = edgepack.convert(model, to="ncnn", out_dir=tmp_path / "o")
    assert res.ok, res.results[0].parity.to_dict()


def test_mnn_bool_input(tmp_path):
    """Regression: bool inputs reached MNN's const() as float and raised SystemError."""
    from onnx import TensorProto, helper

    from conftest import save_model

    nodes = [helper.make_node("Not", ["a"], ["na"], name="not"),
             helper.make_node("Cast", ["na"], ["y"], to=TensorProto.FLOAT, name="cast")]
    model = save_model(nodes, [helper.make_tensor_value_info("a", TensorProto.BOOL, [1, 6])],
                       [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 6])], [], tmp_path / "b.onnx")
    res = edgepack.convert(model, to="mnn", out_dir=tmp_path / "o")
    assert res.ok


def test_ncnn_non_float_input_refused_before_pnnx(tmp_path):
    from onnx import TensorProto, helper

    from conftest import save_model

    nodes = [helper.make_node("Cast", ["ids"], ["y"], to=TensorProto.FLOAT, name="to_float")]
    model = save_model(nodes, [helper.make_tensor_value_info("ids", TensorProto.UINT32, [1, 4])],
                       [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])], [], tmp_path / "u.onnx")
    with pytest.raises(UnsupportedOpError, match="float inputs only"):
        edgepack.convert(model, to="ncnn", out_dir=tmp_path / "o")


def test_data_dependent_output_shape_is_a_model_error(tmp_path):
    from onnx import TensorProto, helper

    from conftest import save_model
    from edgepack.errors import ModelError

    nodes = [helper.make_node("Slice", ["x", "starts", "ends"], ["y"], name="dyn_slice")]
    ins = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [20, 10]),
           helper.make_tensor_value_info("starts", TensorProto.INT64, [1]),
           helper.make_tensor_value_info("ends", TensorProto.INT64, [1])]
    model = save_model(nodes, ins, [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 10])], [],
                       tmp_path / "s.onnx")
    with pytest.raises(ModelError, match="depends on the input values"):
        edgepack.convert(model, to="mnn", out_dir=tmp_path / "o")
    assert not (tmp_path / "o").exists()


def test_parity_catches_a_wrong_small_slice_next_to_large_values(tmp_path):
    """Regression: pnnx->ncnn mis-broadcast the score half of a detector-like output; the whole-output cosine
    stayed 0.99994 because large box values dominate it. The element-wise check must fail it."""
    from edgepack.runtime.metrics import agreement, passes

    ref = np.concatenate([np.linspace(10, 600, 240), np.full(120, 0.5)])
    got = ref.copy()
    got[240:] = 0.5 + 0.6 * np.sin(np.arange(120))  # scores wrong by up to 0.6
    a = agreement(ref, got, "fp32")
    assert a.cosine > 0.9999 and a.mismatch > 0.1
    assert not passes(a, "fp32") and not passes(a, "fp16")
    assert passes(agreement(ref, ref + 1e-6, "fp32"), "fp32")
