"""Shared test helpers: tiny ONNX models built with onnx.helper inside the tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

ROOT = Path(__file__).resolve().parent.parent


def save_model(nodes, inputs, outputs, inits, path: Path, opset: int = 17) -> Path:
    g = helper.make_graph(nodes, "g", inputs, outputs, inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    onnx.save(m, str(path))
    return path


def conv_relu_model(path: Path, batch: int | str = 1, size: int | str = 16, seed: int = 0) -> Path:
    """input [B,3,S,S] -> Conv 3x3 (8) -> Relu -> 'features'; GlobalAveragePool -> Flatten -> Gemm -> 'logits'."""
    rng = np.random.default_rng(seed)
    inits = [numpy_helper.from_array(rng.standard_normal((8, 3, 3, 3)).astype(np.float32) * 0.3, "w"),
             numpy_helper.from_array(rng.standard_normal(8).astype(np.float32) * 0.1, "b"),
             numpy_helper.from_array(rng.standard_normal((5, 8)).astype(np.float32), "fc_w"),
             numpy_helper.from_array(rng.standard_normal(5).astype(np.float32), "fc_b")]
    nodes = [helper.make_node("Conv", ["input", "w", "b"], ["c"], pads=[1, 1, 1, 1], name="conv1"),
             helper.make_node("Relu", ["c"], ["features"], name="relu1"),
             helper.make_node("GlobalAveragePool", ["features"], ["gap"], name="gap"),
             helper.make_node("Flatten", ["gap"], ["flat"], name="flatten"),
             helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["logits"], transB=1, name="fc")]
    inp = helper.make_tensor_value_info("input", TensorProto.FLOAT, [batch, 3, size, size])
    outs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [batch, 5]),
            helper.make_tensor_value_info("features", TensorProto.FLOAT, [batch, 8, size, size])]
    return save_model(nodes, [inp], outs, inits, path)


def single_op_model(path: Path, op: str, shape=(1, 3, 8, 8), node_name: str | None = None, **attrs) -> Path:
    node = helper.make_node(op, ["x"], ["y"], name=node_name or f"the_{op.lower()}", **attrs)
    return save_model([node], [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(shape))], [], path)


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """`python -m edgepack ARGS` in a child process, as a user runs it (the same edgepack the tests import)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = package_root() + os.pathsep + env.get("PYTHONPATH", "")
    env["COLUMNS"] = "200"
    return subprocess.run([sys.executable, "-m", "edgepack", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=900)


def package_root() -> str:
    """The directory holding the edgepack package under test (installed or source)."""
    import edgepack

    return str(Path(edgepack.__file__).resolve().parent.parent)


@pytest.fixture
def conv_model(tmp_path: Path) -> Path:
    return conv_relu_model(tmp_path / "conv.onnx")


@pytest.fixture(scope="session")
def digits_bundle(tmp_path_factory) -> Path:
    """The demo digits classifier packed once per test session (ncnn + mnn, fp32 + fp16, short bench)."""
    from edgepack.demo import load_demo
    from edgepack.pack import PackOptions, pack

    d = load_demo()
    out = tmp_path_factory.mktemp("bundle") / "digits.edgepack"
    opts = PackOptions(task="classify", labels=d.spec["labels"], mean=d.spec["mean"], std=d.spec["std"])
    pack(d.model, out, opts, to="ncnn,mnn", precision="fp32,fp16", bench_runs=3)
    return out


DEMO = ROOT / "python" / "edgepack" / "demo" / "digits.onnx"


def digits_npz(tmp_path: Path, n: int = 100) -> Path:
    """The first n held-out demo digits, preprocessed, as a calibration .npz keyed by the input name."""
    from edgepack.demo import load_demo, preprocess

    d = load_demo()
    path = tmp_path / "calib.npz"
    np.savez(path, image=preprocess(d.images[:n], d.spec["mean"], d.spec["std"]))
    return path
