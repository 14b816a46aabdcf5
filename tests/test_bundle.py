"""Bundles: format, manifest schema, integrity checks, atomic pack, info."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT, conv_relu_model, run_cli
from edgepack.errors import BundleError, InputError
from edgepack.pack import PackOptions, pack
from edgepack.runtime.bundle.manifest import SCHEMA_VERSION, check_relpath
from edgepack.runtime.bundle.reader import Bundle


def _rewrite(src: Path, dst: Path, edit=None, member_edit=None) -> Path:
    """Copy a bundle zip, optionally editing the manifest dict or replacing members {name: bytes|None}."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "manifest.json" and edit is not None:
                doc = json.loads(data)
                edit(doc)
                data = json.dumps(doc).encode()
            if member_edit and info.filename in member_edit:
                data = member_edit[info.filename]
                if data is None:
                    continue
            zout.writestr(info, data)
    return dst


def test_published_schema_is_the_one_the_reader_uses():
    pkg = (ROOT / "python/edgepack/runtime/bundle/manifest.schema.json").read_text()
    assert (ROOT / "docs/manifest-v1.schema.json").read_text() == pkg
    assert json.loads(pkg)["properties"]["schema_version"]["const"] == SCHEMA_VERSION


def test_packed_bundle_layout_and_manifest(digits_bundle):
    with zipfile.ZipFile(digits_bundle) as z:
        names = z.namelist()
        assert names[0] == "manifest.json"
        stored = {i.filename: i.compress_type for i in z.infolist()}
    doc = Bundle(digits_bundle).manifest.doc
    assert doc["task"] == "classify" and doc["labels"] == [str(i) for i in range(10)]
    assert doc["preprocess"]["mean"] == [127.5] * 3 and doc["preprocess"]["width"] == 32
    assert {(a["engine"], a["precision"]) for a in doc["artifacts"]} == {
        ("ncnn", "fp32"), ("ncnn", "fp16"), ("mnn", "fp32"), ("mnn", "fp16")}
    for a in doc["artifacts"]:
        assert a["verification"]["passed"] and a["verification"]["cosine"] > 0.999
        for rel in a["files"].values():
            assert rel in names and stored[rel] == zipfile.ZIP_STORED
    assert len(doc["benchmarks"]) == 4
    dev = doc["benchmarks"][0]["device"]
    assert dev["cores"] >= 1 and dev["class"].count("-") >= 2 and "ncnn" in dev["engines"]


def test_directory_bundle_is_accepted(digits_bundle, tmp_path):
    with zipfile.ZipFile(digits_bundle) as z:
        z.extractall(tmp_path / "unzipped")
    with Bundle(tmp_path / "unzipped") as b:
        assert b.verify() == []
        art = b.artifact("ncnn", "fp32")
        assert Path(art.path("param")).is_file()


def test_corrupt_artifact_is_named(digits_bundle, tmp_path):
    doc = Bundle(digits_bundle).manifest.doc
    target = doc["artifacts"][0]["files"]["bin"]
    with zipfile.ZipFile(digits_bundle) as z:
        data = bytearray(z.read(target))
    data[100] ^= 0xFF
    bad = _rewrite(digits_bundle, tmp_path / "bad.edgepack", member_edit={target: bytes(data)})
    with Bundle(bad) as b:
        with pytest.raises(BundleError, match=f"'{target}' is corrupt"):
            b.artifact("ncnn", "fp32")
        assert len(b.verify()) == 1
        b.artifact("mnn", "fp32")  # the other artifacts stay usable


def test_corrupt_file_in_directory_bundle(digits_bundle, tmp_path):
    with zipfile.ZipFile(digits_bundle) as z:
        z.extractall(tmp_path / "d")
    p = tmp_path / "d/artifacts/mnn-fp16/model.mnn"
    p.write_bytes(p.read_bytes()[:-10])
    with pytest.raises(BundleError, match="artifacts/mnn-fp16/model.mnn' is corrupt"):
        Bundle(tmp_path / "d").artifact("mnn", "fp16")


def test_missing_artifact_file(digits_bundle, tmp_path):
    bad = _rewrite(digits_bundle, tmp_path / "m.edgepack",
                   member_edit={"artifacts/mnn-fp32/model.mnn": None})
    with pytest.raises(BundleError, match="'artifacts/mnn-fp32/model.mnn' is missing"):
        Bundle(bad).artifact("mnn", "fp32")


@pytest.mark.parametrize("path", ["/etc/passwd", "../x.bin", "artifacts/../../x", "C:/x", "a\\b", "a//b", "./a"])
def test_unsafe_paths_refused(digits_bundle, tmp_path, path):
    with pytest.raises(BundleError, match="refusing file path"):
        check_relpath(path)

    def edit(doc):
        a = doc["artifacts"][0]
        old = a["files"]["bin"]
        a["files"]["bin"] = path
        a["sha256"][path] = a["sha256"].pop(old)

    with pytest.raises(BundleError, match="refusing file path"):
        Bundle(_rewrite(digits_bundle, tmp_path / "p.edgepack", edit))


@pytest.mark.parametrize("edit,match", [
    (lambda d: d.update(schema_version=2), "uses bundle schema 2.*upgrade edgepack"),
    (lambda d: d.update(task="pose"), "unknown task 'pose'"),
    (lambda d: d.pop("artifacts"), "does not match bundle schema 1 at \\(top level\\).*'artifacts'"),
    (lambda d: d["artifacts"][0].update(sha256={k: "00" for k in d["artifacts"][0]["sha256"]}),
     "artifacts/0/sha256"),
    (lambda d: d["postprocess"].update(output="nope"), "postprocess reads output 'nope'"),
    (lambda d: d.update(format="other"), "not an edgepack bundle manifest"),
])
def test_bad_manifests_are_refused_clearly(digits_bundle, tmp_path, edit, match):
    with pytest.raises(BundleError, match=match):
        Bundle(_rewrite(digits_bundle, tmp_path / "e.edgepack", edit))


def test_not_a_bundle(tmp_path):
    with pytest.raises(BundleError, match="not found"):
        Bundle(tmp_path / "none.edgepack")
    (tmp_path / "x.edgepack").write_bytes(b"hello")
    with pytest.raises(BundleError, match="not a zip"):
        Bundle(tmp_path / "x.edgepack")
    with zipfile.ZipFile(tmp_path / "z.edgepack", "w") as z:
        z.writestr("a.txt", "x")
    with pytest.raises(BundleError, match="no manifest.json"):
        Bundle(tmp_path / "z.edgepack")
    with pytest.raises(BundleError, match="no manifest.json"):
        Bundle(tmp_path)


def test_pack_refuses_bad_options_before_work(tmp_path, conv_model):
    out = tmp_path / "m.edgepack"
    with pytest.raises(InputError, match="calibration data '.*missing' not found"):  # without int8: parity inputs
        pack(conv_model, out, PackOptions(), precision="fp32", calib=tmp_path / "missing")
    with pytest.raises(InputError, match="parity data '.*missing' not found"):
        pack(conv_model, out, PackOptions(), precision="fp32", data=tmp_path / "missing")
    with pytest.raises(InputError, match="int8 needs calibration data"):
        pack(conv_model, out, PackOptions(), precision="fp32,int8")
    with pytest.raises(InputError, match="unknown task"):
        pack(conv_model, out, PackOptions(task="pose"))
    with pytest.raises(InputError, match="labels file has 3 labels.*5 classes"):
        pack(conv_model, out, PackOptions(labels=["a", "b", "c"], output="logits"), to="ncnn", bench_runs=0)
    with pytest.raises(InputError, match="--mean has 2 values"):
        pack(conv_model, out, PackOptions(mean=[1, 2]), to="ncnn", bench_runs=0)
    assert not out.exists() and list(tmp_path.iterdir()) == [conv_model]
    out.write_bytes(b"x")
    with pytest.raises(InputError, match="already exists"):
        pack(conv_model, out, PackOptions(), to="ncnn", bench_runs=0)


def test_pack_is_atomic_when_writing_fails(tmp_path, conv_model, monkeypatch):
    """A failure while the zip is being written leaves neither the bundle nor a temporary file."""
    import edgepack.runtime.bundle.writer as writer

    real = writer.check_relpath

    def fail_late(p, *a):
        if p.endswith(".bin"):
            raise OSError("disk full")
        return real(p, *a)

    monkeypatch.setattr(writer, "check_relpath", fail_late)
    with pytest.raises(OSError, match="disk full"):
        pack(conv_model, tmp_path / "m.edgepack", PackOptions(output="logits"), to="ncnn", bench_runs=0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["conv.onnx"]


def test_cli_pack_and_info(tmp_path):
    model = conv_relu_model(tmp_path / "conv.onnx")
    labels = tmp_path / "labels.txt"
    labels.write_text("a\nb\nc\nd\ne\n\n")
    out = tmp_path / "conv.edgepack"
    r = run_cli("pack", str(model), "--task", "classify", "--labels", str(labels), "--mean", "0.5", "--std", "2",
                "--output-name", "logits", "--to", "ncnn", "--precision", "fp32", "--bench-runs", "2", "--top-k", "3",
                "-o", str(out))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "ncnn" in r.stdout and "pass" in r.stdout and f"wrote {out}" in r.stdout
    doc = Bundle(out).manifest.doc
    assert doc["postprocess"] == {"kind": "topk", "output": "logits", "top_k": 3, "softmax": True}
    assert doc["labels"] == list("abcde") and doc["preprocess"]["std"] == [2.0]
    r = run_cli("info", str(out), "--explain")
    assert r.returncode == 0, r.stderr
    assert "chosen: ncnn-fp32" in r.stdout and "integrity: every artifact file matches" in r.stdout
    r = run_cli("pack", str(model), "--task", "classify", "--score-threshold", "0.3", "-o", str(tmp_path / "x"))
    assert r.returncode == 2 and "--score-threshold applies to --task detect" in r.stderr


def test_cli_info_reports_corruption(digits_bundle, tmp_path):
    bad = tmp_path / "c.edgepack"
    shutil.copy(digits_bundle, bad)
    with zipfile.ZipFile(digits_bundle) as z:
        info = z.getinfo("artifacts/ncnn-fp16/model.ncnn.bin")
    raw = bytearray(bad.read_bytes())
    raw[info.header_offset + 100] ^= 0x55  # inside the stored member's data
    bad.write_bytes(bytes(raw))
    r = run_cli("info", str(bad))
    assert r.returncode == 1 and "ncnn-fp16/model.ncnn.bin" in r.stderr
    r = run_cli("info", str(tmp_path / "missing.edgepack"))
    assert r.returncode == 2 and "not found" in r.stderr


def test_member_inflating_past_declared_size_is_refused_before_it_is_written(digits_bundle, tmp_path):
    """issue 14: a zip member that inflates far past the manifest's size_bytes was written out in full before
    the hash check. Here the ncnn .bin is swapped for 64 MB of zeros (64 KB deflated) with a matching sha256."""
    import hashlib
    import json
    import zipfile

    import edgepack

    big = bytes(64 << 20)
    out = tmp_path / "bomb.edgepack"
    with zipfile.ZipFile(digits_bundle) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        doc = json.loads(src.read("manifest.json"))
        art = next(a for a in doc["artifacts"] if a["engine"] == "ncnn" and a["precision"] == "fp32")
        bin_rel = art["files"]["bin"]
        art["sha256"][bin_rel] = hashlib.sha256(big).hexdigest()
        for info in src.infolist():
            if info.filename == "manifest.json":
                dst.writestr("manifest.json", json.dumps(doc))
            elif info.filename == bin_rel:
                dst.writestr(bin_rel, big)
            else:
                dst.writestr(info, src.read(info))
    assert out.stat().st_size < 2 << 20
    with pytest.raises(edgepack.BundleError, match="inflates"):
        edgepack.load(out, engine="ncnn", precision="fp32")
