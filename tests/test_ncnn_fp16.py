"""converters/ncnn_fp16: ncnn fp16 artifacts whose weights edgepack stores itself, keeping in fp32 the layers
fp16 would damage. The model is the PP-OCRv4 det head's situation in small: a conv with BatchNorm-folded
weights almost all below fp16's normal range, then an ordinary conv. Raw pnnx fp16 ruins it (checked here, so
the test shows the failure it guards against); edgepack's fp16 artifact passes and names the layer."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

import edgepack
from conftest import save_model
from edgepack.converters.base import run_tool
from edgepack.converters.ncnn import pnnx_executable
from edgepack.converters.ncnn_fp16 import FEATMASK_KEY, NO_FP16_ARITHMETIC, fp16_weight_error, ncnn_fp16
from edgepack.formats.ncnn import read_model
from edgepack.runtime.artifact import Artifact

pytest.importorskip("ncnn")


def tiny_weight_model(path):
    rng = np.random.default_rng(3)
    w1 = (rng.standard_normal((8, 3, 3, 3)) * 3e-5).astype(np.float32)  # ~95 % below 2**-14
    w2 = (rng.standard_normal((4, 8, 1, 1)) * 0.5).astype(np.float32)
    inits = [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(np.full(8, 1e-4, np.float32), "b1"),
             numpy_helper.from_array(w2, "w2")]
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1], name="folded_head_conv"),
             helper.make_node("Relu", ["c1"], ["r1"]),
             helper.make_node("Conv", ["r1", "w2"], ["y"], name="plain_conv")]
    return save_model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 16, 16])], inits, path)


def cosine(a, b):
    a, b = np.ravel(a).astype(np.float64), np.ravel(b).astype(np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    d = tmp_path_factory.mktemp("fp16")
    res = edgepack.convert(tiny_weight_model(d / "m.onnx"), to="ncnn", precision="fp32,fp16", out_dir=d / "out")
    return d, res


def test_fp16_keeps_the_layer_fp16_would_flush(converted):
    _, res = converted
    assert res.ok, [(r.precision, r.parity and r.parity.to_dict()) for r in res.results]
    art = res.artifact("ncnn", "fp16")
    kept = art.options["fp32_layers"]
    assert "Convolution" in kept and "below fp16's normal range" in kept and ";" not in kept  # one layer only
    model = read_model(art.path("param"), art.path("bin"))
    masks = {ly.name: ly.get(FEATMASK_KEY, 0) for ly in model.param.layers if ly.type == "Convolution"}
    assert sorted(masks.values()) == [0, NO_FP16_ARITHMETIC]
    dtypes = {ly: model.blob(ly, "weight").data.dtype for ly in masks}
    assert sorted(str(v) for v in dtypes.values()) == ["float16", "float32"]
    assert {dtypes[ly] for ly, m in masks.items() if m} == {np.dtype(np.float32)}


def test_raw_pnnx_fp16_ruins_it_and_edgepack_matches_its_rounding(converted, tmp_path):
    d, res = converted
    fp32, fp16 = res.artifact("ncnn", "fp32"), res.artifact("ncnn", "fp16")
    shutil.copyfile(res.prepared.path, tmp_path / "model.onnx")
    run_tool([str(pnnx_executable()), "model.onnx", "inputshape=[1,3,16,16]", "fp16=1", "device=cpu"], tmp_path,
             "pnnx")
    raw = Artifact("ncnn", "fp16", {"param": "model.ncnn.param", "bin": "model.ncnn.bin"}, str(tmp_path),
                   fp16.inputs, fp16.outputs)
    x = {"x": np.random.default_rng(0).standard_normal((1, 3, 16, 16)).astype(np.float32) * 50}
    with edgepack.get_engine("ncnn").load(fp32) as e:
        want = e.run(x)["y"]
    for art, ok in ((raw, False), (fp16, True)):
        with edgepack.get_engine("ncnn").load(art) as e:
            c = cosine(want, e.run(x)["y"])
        assert (c > 0.9999) == ok, f"{art.directory}: cosine {c}"
    # the error model is pnnx's conversion, bit for bit, on every weight blob
    ours, theirs = read_model(fp32.path("param"), fp32.path("bin")), read_model(raw.path("param"), raw.path("bin"))
    for name, blobs in theirs.weights.items():
        for b in blobs:
            if b.data.dtype == np.float16:
                mine = ncnn_fp16(ours.blob(name, b.role).data)
                np.testing.assert_array_equal(mine.view(np.uint16), b.data.view(np.uint16))


def test_weight_error_model():
    w = np.random.default_rng(1).standard_normal(4096).astype(np.float32)
    assert fp16_weight_error(w) < 3e-4  # ordinary weights: fp16 rounding only
    assert fp16_weight_error(np.array([1e5, 1.0], np.float32)) == float("inf")  # overflow
    assert fp16_weight_error(w * 1e-6) > 0.5  # flushed
    assert fp16_weight_error(np.zeros(3, np.float32)) == 0.0
    q = ncnn_fp16(np.array([-1e-6, 1e-6, 3.0], np.float32))
    assert q.tolist() == [0.0, 0.0, 3.0] and np.signbit(q[0])
