"""Bad input: one line naming the problem and the fix, exit 2, no traceback, no partial output."""

from __future__ import annotations

import os

import pytest

from conftest import conv_relu_model, run_cli, single_op_model


def _assert_clean_error(r, *needles: str) -> None:
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout
    lines = [ln for ln in r.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("error:")
    for n in needles:
        assert n in lines[0], lines[0]


def _no_output(tmp_path, name="out"):
    assert not (tmp_path / name).exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(f".{name}.tmp")]


def test_missing_file(tmp_path):
    r = run_cli("convert", str(tmp_path / "nope.onnx"), "-o", str(tmp_path / "out"))
    _assert_clean_error(r, "not found", "nope.onnx")
    _no_output(tmp_path)


def test_not_onnx(tmp_path):
    p = tmp_path / "photo.onnx"
    p.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(200))
    r = run_cli("convert", str(p), "-o", str(tmp_path / "out"))
    _assert_clean_error(r, "photo.onnx", "ONNX")
    _no_output(tmp_path)


def test_truncated_onnx(tmp_path):
    good = conv_relu_model(tmp_path / "good.onnx").read_bytes()
    p = tmp_path / "cut.onnx"
    p.write_bytes(good[: len(good) // 2])
    r = run_cli("convert", str(p), "-o", str(tmp_path / "out"))
    _assert_clean_error(r, "cut.onnx")
    _no_output(tmp_path)


def test_empty_file(tmp_path):
    p = tmp_path / "empty.onnx"
    p.write_bytes(b"")
    _assert_clean_error(run_cli("convert", str(p), "-o", str(tmp_path / "out")), "empty")


def test_unsupported_op(tmp_path):
    model = single_op_model(tmp_path / "hm.onnx", "Hardmax", node_name="argmax_onehot", axis=1)
    r = run_cli("convert", str(model), "--to", "ncnn", "-o", str(tmp_path / "out"))
    _assert_clean_error(r, "argmax_onehot", "Hardmax", "ncnn")
    _no_output(tmp_path)


def test_dynamic_dims_without_input_shape(tmp_path):
    model = conv_relu_model(tmp_path / "dyn.onnx", batch="batch", size="side")
    r = run_cli("convert", str(model), "-o", str(tmp_path / "out"))
    _assert_clean_error(r, "input", "batch", "side", "--input-shape input=")
    _no_output(tmp_path)


def test_dynamic_dims_fixed_by_input_shape(tmp_path):
    model = conv_relu_model(tmp_path / "dyn.onnx", batch="batch", size="side")
    r = run_cli("convert", str(model), "--input-shape", "input=1,3,24,24", "-o", str(tmp_path / "out"))
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("pass") == 2


@pytest.mark.parametrize("spec,needle", [("input=1,3,x,24", "bad --input-shape"),
                                         ("other=1,3,24,24", "the model's inputs are"),
                                         ("input=1,3,24", "has 3 dims")])
def test_bad_input_shape(tmp_path, spec, needle):
    model = conv_relu_model(tmp_path / "dyn.onnx", batch="batch", size="side")
    _assert_clean_error(run_cli("convert", str(model), "--input-shape", spec, "-o", str(tmp_path / "out")), needle)


def test_unknown_target_and_precision(tmp_path, conv_model):
    _assert_clean_error(run_cli("convert", str(conv_model), "--to", "tensorrt"), "unknown target 'tensorrt'")
    _assert_clean_error(run_cli("convert", str(conv_model), "--precision", "int4"), "unknown precision 'int4'")


def test_unwritable_output_dir(tmp_path, conv_model):
    if os.geteuid() == 0:
        locked = "/proc/edgepack-out"  # root ignores file modes; /proc refuses new entries even to root
    else:
        d = tmp_path / "ro"
        d.mkdir(mode=0o500)
        locked = str(d / "out")
    _assert_clean_error(run_cli("convert", str(conv_model), "-o", locked), "cannot write")


def test_existing_output_needs_force(tmp_path, conv_model):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    _assert_clean_error(run_cli("convert", str(conv_model), "-o", str(out)), "--force")
    assert (out / "keep.txt").read_text() == "mine"
    r = run_cli("convert", str(conv_model), "--to", "mnn", "-o", str(out), "--force")
    assert r.returncode == 0 and not (out / "keep.txt").exists() and (out / "convert.json").exists()


def test_engine_not_installed(tmp_path, conv_model, monkeypatch):
    """A registered target whose engine package is absent: clear error naming the pip package."""
    code = ("import sys, edgepack.runtime.engines as e; e.ENGINES['ncnn'] = ("
            "'edgepack.runtime.engines.ncnn', 'NcnnEngine', "
            "'ncnn', 'ncnn_not_here'); import edgepack.cli as c; sys.exit(c.main(sys.argv[1:]))")
    import subprocess
    import sys

    from conftest import package_root

    env = dict(os.environ, PYTHONPATH=package_root())
    r = subprocess.run([sys.executable, "-c", code, "convert", str(conv_model), "--to", "ncnn", "-o",
                        str(tmp_path / "out")], capture_output=True, text=True, env=env)
    _assert_clean_error(r, "pip install ncnn")
    _no_output(tmp_path)
