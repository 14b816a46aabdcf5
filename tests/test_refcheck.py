"""On-device verification: pack stores reference samples, `edgepack verify BUNDLE` runs them through every
installed engine (real ncnn and MNN) without ONNX Runtime, and says when an artifact disagrees."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from conftest import package_root, run_cli
from edgepack.errors import BundleError
from edgepack.runtime.artifact import TensorInfo
from edgepack.runtime.bundle import references as refs
from edgepack.runtime.bundle.reader import Bundle
from edgepack.runtime.bundle.refcheck import NoReferencesError, check_bundle


def _rewrite(src: Path, dst: Path, edit=None, members=None) -> Path:
    """Copy a bundle zip, editing the manifest dict and replacing members {name: bytes | None (drop)}."""
    members = members or {}
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "manifest.json" and edit is not None:
                doc = json.loads(data)
                edit(doc)
                data = json.dumps(doc).encode()
            if info.filename in members:
                data = members[info.filename]
                if data is None:
                    continue
            zout.writestr(info, data)
    return dst


def _npz(bundle: Path) -> dict[str, np.ndarray]:
    with zipfile.ZipFile(bundle) as z, np.load(io.BytesIO(z.read(refs.REFERENCES_FILE))) as f:
        return {k: f[k] for k in f.files}


def test_pack_stores_reference_samples(digits_bundle):
    with Bundle(digits_bundle) as b:
        entry = b.manifest.references
        assert entry["file"] == refs.REFERENCES_FILE and entry["samples"] == refs.DEFAULT_SAMPLES
        assert entry["size_bytes"] <= refs.MAX_REFERENCE_BYTES
        assert entry["inputs"]["stored_as"] == "float16" and entry["outputs"]["stored_as"] == "float32"
        arrays = _npz(digits_bundle)
        assert arrays["input_0"].shape == (2, *b.manifest.inputs[0].shape)
        assert arrays["output_0"].shape == (2, *b.manifest.outputs[0].shape)
        assert b.verify() == []  # info's integrity check covers the references too


def test_every_installed_engine_agrees_with_the_references(digits_bundle):
    report = check_bundle(digits_bundle, threads=1)
    assert {c.key for c in report.checks} == {"ncnn-fp32", "ncnn-fp16", "mnn-fp32", "mnn-fp16"}
    for c in report.checks:
        assert c.status == "pass", (c.key, c.note)
        assert c.agreement.cosine >= c.tolerance
        assert c.top1 == (2, 2)
    assert report.ok


def test_cli_verify_bundle_prints_agreement_and_exits_0(digits_bundle):
    r = run_cli("verify", str(digits_bundle), "--engine", "ncnn")
    assert r.returncode == 0, r.stderr
    assert "ncnn-fp32" in r.stdout and "pass" in r.stdout and "mnn-fp32" not in r.stdout
    assert "every checked artifact agrees" in r.stdout
    j = run_cli("verify", str(digits_bundle), "--json", "--engine", "mnn")
    doc = json.loads(j.stdout)
    assert j.returncode == 0 and doc["ok"] and {a["artifact"] for a in doc["artifacts"]} == {"mnn-fp32", "mnn-fp16"}


def _with_references(src: Path, dst: Path, arrays: dict[str, np.ndarray]) -> Path:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    data = buf.getvalue()

    def edit(doc):
        doc["verification"]["references"].update(size_bytes=len(data), sha256=hashlib.sha256(data).hexdigest())

    return _rewrite(src, dst, edit, {refs.REFERENCES_FILE: data})


def test_disagreement_exits_1_naming_the_artifacts(digits_bundle, tmp_path):
    """References that the engines do not reproduce (here: other outputs, consistently re-hashed) fail."""
    arrays = _npz(digits_bundle)
    arrays["output_0"] = arrays["output_0"][::-1].copy()  # sample 1's outputs under sample 0 and vice versa
    bad = _with_references(digits_bundle, tmp_path / "swapped.edgepack", arrays)
    report = check_bundle(bad, engine="ncnn")
    assert not report.ok and all(c.status == "FAIL" for c in report.checks)
    r = run_cli("verify", str(bad), "--engine", "mnn")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "FAIL" in r.stdout and "DISAGREEMENT" in r.stdout


def test_bundle_without_references_exits_2_saying_repack(digits_bundle, tmp_path):
    def drop(doc):
        del doc["verification"]["references"]

    old = _rewrite(digits_bundle, tmp_path / "old.edgepack", drop, {refs.REFERENCES_FILE: None})
    with pytest.raises(NoReferencesError, match="repack it with edgepack >="):
        check_bundle(old)
    r = run_cli("verify", str(old))
    assert r.returncode == 2 and "carries no reference samples" in r.stderr and "Traceback" not in r.stderr
    import edgepack

    with edgepack.load(old, engine="ncnn") as s:  # old bundles stay readable
        assert s.engine == "ncnn"


def test_corrupt_or_malformed_references_are_refused(digits_bundle, tmp_path):
    with zipfile.ZipFile(digits_bundle) as z:
        data = bytearray(z.read(refs.REFERENCES_FILE))
    data[len(data) // 2] ^= 0xFF
    bad = _rewrite(digits_bundle, tmp_path / "flipped.edgepack", members={refs.REFERENCES_FILE: bytes(data)})
    with pytest.raises(BundleError, match=f"'{refs.REFERENCES_FILE}' is corrupt"):
        check_bundle(bad)
    arrays = _npz(digits_bundle)
    arrays["input_0"] = arrays["input_0"][..., :4]  # wrong shape, consistently hashed
    wrong = _with_references(digits_bundle, tmp_path / "shape.edgepack", arrays)
    r = run_cli("verify", str(wrong))
    assert r.returncode == 2 and "expected shape" in r.stderr and "Traceback" not in r.stderr


def test_references_fit_the_cap_or_are_left_out():
    inputs = [TensorInfo("x", [1, 3, 64, 64], "float32")]
    outputs = [TensorInfo("y", [1, 3, 64, 64], "float32")]

    def run(feeds):  # a deterministic stand-in for ONNX Runtime: doubles its input
        return [{"y": f["x"] * 2} for f in feeds]

    data, entry = refs.build(inputs, outputs, run, samples=4)
    assert entry["samples"] == 4 and entry["outputs"]["stored_as"] == "float32"
    assert len(data) <= refs.MAX_REFERENCE_BYTES
    # one sample is 24 KiB of fp16 input + 48 KiB of fp32 output: a 100 KiB cap keeps one sample
    data, entry = refs.build(inputs, outputs, run, samples=4, cap=100 << 10)
    assert entry["samples"] == 1 and len(data) <= 100 << 10
    decoded = refs.decode(data, entry, inputs, outputs, "test")
    np.testing.assert_array_equal(decoded.outputs[0]["y"], decoded.inputs[0]["x"] * 2)  # computed on the rounded inputs
    # 60 KiB: float32 outputs no longer fit, float16 ones do
    data, entry = refs.build(inputs, outputs, run, samples=2, cap=60 << 10)
    assert entry["samples"] == 1 and entry["outputs"]["stored_as"] == "float16"
    reason = refs.build(inputs, outputs, run, samples=2, cap=10 << 10)
    assert isinstance(reason, str) and "cap" in reason


def test_verify_bundle_needs_no_onnxruntime(digits_bundle):
    """The device path imports neither ONNX Runtime nor onnx nor rich (they are blocked in the child)."""
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('onnxruntime', 'onnx', 'onnxslim', 'rich', 'matplotlib'):\n"
        "            raise ImportError('blocked: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "from edgepack.cli import main\n"
        f"rc = main(['verify', {str(digits_bundle)!r}, '--engine', 'ncnn'])\n"
        "sys.exit(rc)\n")
    env = dict(os.environ, PYTHONPATH=package_root() + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "pass" in r.stdout


def test_options_of_the_other_kind_are_refused(digits_bundle, tmp_path):
    r = run_cli("verify", str(digits_bundle), "--no-vulkan")
    assert r.returncode == 2 and "applies to a convert output directory" in r.stderr
    r = run_cli("verify", str(tmp_path), "--engine", "ncnn")
    assert r.returncode == 2 and "applies to a bundle" in r.stderr
    r = run_cli("verify", str(tmp_path / "nope.edgepack"))
    assert r.returncode == 2 and "not found" in r.stderr
