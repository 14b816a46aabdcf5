"""edgepack.load / Session on the packed digits bundle: every artifact, every input kind, thread safety."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import edgepack
from conftest import run_cli
from edgepack import kernels
from edgepack.demo import load_demo, preprocess

HAS_TOPK = hasattr(kernels, "topk")
needs_topk = pytest.mark.skipif(not HAS_TOPK, reason="postprocess kernels (kernels.topk) not in this build")
DEMO = load_demo()


def rgb_to_nv21(rgb: np.ndarray) -> bytes:
    """Test data: BT.601 video-range encoding, 2x2 chroma average, V/U interleaved."""
    f = rgb.astype(np.float64)
    r, g, b = f[..., 0], f[..., 1], f[..., 2]
    y = 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255
    u = 128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255
    v = 128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255
    h, w = y.shape
    sub = lambda c: c.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))  # noqa: E731
    vu = np.stack([sub(v), sub(u)], axis=2).reshape(h // 2, w)
    return np.concatenate([y, vu]).round().clip(0, 255).astype(np.uint8).tobytes()


def test_load_chooses_and_matches_the_engine_on_the_same_tensor(digits_bundle):
    with edgepack.load(digits_bundle) as s:
        assert s.task == "classify" and s.labels == [str(i) for i in range(10)]
        assert s.choice.key in {"ncnn-fp32", "ncnn-fp16", "mnn-fp32", "mnn-fp16"}
        x = preprocess(DEMO.images[:1], DEMO.spec["mean"], DEMO.spec["std"])  # the normalize kernel, another path
        got = s.run(DEMO.images[0], raw=True)["logits"]
        np.testing.assert_array_equal(got, s.infer({"image": x})["logits"])


@pytest.mark.parametrize("key", ["ncnn-fp32", "ncnn-fp16", "mnn-fp32", "mnn-fp16"])
def test_every_artifact_classifies_heldout_digits(digits_bundle, key):
    engine, precision = key.split("-")
    n = 60
    with edgepack.load(digits_bundle, engine=engine, precision=precision, threads=1) as s:
        assert s.choice.key == key
        logits = np.concatenate([s.run(img, raw=True)["logits"] for img in DEMO.images[:n]])
        assert np.mean(logits.argmax(1) == DEMO.labels[:n]) >= 0.95
        if HAS_TOPK:
            res = [s.run(img) for img in DEMO.images[:n]]
            assert [int(r.labels[0]) for r in res] == list(logits.argmax(1))
            assert all(len(r.scores) == 5 and r.scores == sorted(r.scores, reverse=True) for r in res)
            assert all(0.0 <= r.scores[0] <= 1.0 for r in res)


def test_input_kinds_agree(digits_bundle, tmp_path):
    img = DEMO.images[7]
    with edgepack.load(digits_bundle, engine="ncnn", precision="fp32") as s:
        ref = s.run(img, raw=True)["logits"]
        np.testing.assert_array_equal(s.run(np.ascontiguousarray(img[:, :, ::-1]), color="BGR", raw=True)["logits"],
                                      ref)
        Image.fromarray(img).save(tmp_path / "d.png")
        np.testing.assert_array_equal(s.run(tmp_path / "d.png", raw=True)["logits"], ref)
        np.testing.assert_array_equal(s.run(str(tmp_path / "d.png"), raw=True)["logits"], ref)
        big = np.asarray(Image.fromarray(img).resize((96, 96), Image.NEAREST))  # resized by the kernel
        assert s.run(big, raw=True)["logits"].argmax() == ref.argmax()


def test_nv21_frames_with_rotation(digits_bundle):
    with edgepack.load(digits_bundle, engine="ncnn", precision="fp32") as s:
        agree = 0
        for img in DEMO.images[:40]:
            ref = s.run(img, raw=True)["logits"].argmax()
            turned = np.ascontiguousarray(np.rot90(img, k=1))  # 90 deg counter-clockwise: rotation=90 undoes it
            frame = edgepack.Frame(rgb_to_nv21(turned), 32, 32, "NV21", rotation=90)
            agree += int(s.run(frame, raw=True)["logits"].argmax() == ref)
            nv12 = bytearray(rgb_to_nv21(img))
            uv = np.frombuffer(nv12, np.uint8)[32 * 32:].reshape(-1, 2)[:, ::-1].tobytes()
            agree += int(s.run(edgepack.Frame(bytes(nv12[:1024]) + uv, 32, 32, "NV12"), raw=True)["logits"].argmax()
                         == ref)
        assert agree >= 76  # YUV 4:2:0 loses chroma detail; the digits are near-gray, so almost all agree


def test_bad_inputs(digits_bundle):
    with edgepack.load(digits_bundle, engine="mnn", precision="fp32") as s:
        with pytest.raises(edgepack.InputError, match="uint8"):
            s.run(DEMO.images[0].astype(np.float32))
        with pytest.raises(edgepack.InputError, match="not found"):
            s.run("no_such_image.png")
        with pytest.raises(edgepack.InputError, match="takes a uint8 image array"):
            s.run([1, 2, 3])
    with pytest.raises(edgepack.InputError, match="closed"):
        s.run(DEMO.images[0])
    with pytest.raises(edgepack.InputError, match="even"):
        edgepack.Frame(b"\0" * 100, 7, 8)
    with pytest.raises(edgepack.InputError, match="needs 96 bytes"):
        edgepack.Frame(b"\0" * 95, 8, 8)
    with pytest.raises(edgepack.InputError, match="rotation"):
        edgepack.Frame(b"\0" * 96, 8, 8, rotation=45)


@pytest.mark.parametrize("key", ["ncnn-fp32", "mnn-fp32"])
def test_run_is_thread_safe_8_threads_x_200_calls(digits_bundle, key):
    engine, precision = key.split("-")
    images = DEMO.images[:16]
    with edgepack.load(digits_bundle, engine=engine, precision=precision, threads=1) as s:
        def call(img):
            return s.run(img) if HAS_TOPK else s.run(img, raw=True)["logits"]

        def same(a, b):
            return a == b if HAS_TOPK else np.array_equal(a, b)

        expected = [call(img) for img in images]
        bad: list[str] = []

        def worker(t: int) -> None:
            for i in range(200):
                j = (t * 7 + i) % len(images)
                if not same(call(images[j]), expected[j]):
                    bad.append(f"thread {t} call {i} image {j}")

        threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert bad == []


@needs_topk
def test_cli_run_prints_and_saves(digits_bundle, tmp_path):
    paths = []
    for i in range(2):
        p = tmp_path / f"digit{i}.png"
        Image.fromarray(DEMO.images[i]).save(p)
        paths.append(str(p))
    r = run_cli("run", str(digits_bundle), *paths, "--engine", "ncnn", "--save", str(tmp_path / "out.png"))
    assert r.returncode == 0, r.stderr
    for i, p in enumerate(paths):
        line = next(ln for ln in r.stdout.splitlines() if ln.startswith(p))
        assert line.split(": ", 1)[1].startswith(str(DEMO.labels[i]))
        saved = Path(tmp_path / f"out_digit{i}.png")
        assert Image.open(saved).size[0] >= 256


def _corrupt_copy(src: Path, dst: Path, member: str, compress: int | None = None) -> Path:
    import zipfile

    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == member:
                data = data[:50] + bytes([data[50] ^ 0xFF]) + data[51:]
            if compress is not None:
                info.compress_type = compress
            zout.writestr(info, data)
    return dst


@pytest.mark.parametrize("compress", [None, 8])  # as packed (stored) and re-zipped with deflate
def test_load_refuses_a_corrupt_artifact_naming_it(digits_bundle, tmp_path, compress):
    import zipfile

    member = "artifacts/ncnn-fp32/model.ncnn.bin"
    bad = _corrupt_copy(digits_bundle, tmp_path / "bad.edgepack", member, compress)
    with pytest.raises(edgepack.BundleError, match=f"'{member}' is corrupt"):
        edgepack.load(bad, engine="ncnn", precision="fp32")
    with edgepack.load(bad, engine="mnn", precision="fp32") as s:  # the intact artifacts still load
        assert s.run(DEMO.images[0], raw=True)["logits"].shape == (1, 10)
    with zipfile.ZipFile(bad) as z:
        z.extractall(tmp_path / "dir")
    with pytest.raises(edgepack.BundleError, match=f"'{member}' is corrupt"):
        edgepack.load(tmp_path / "dir", engine="ncnn", precision="fp32")
    (tmp_path / "dir" / member).unlink()
    with pytest.raises(edgepack.BundleError, match=f"'{member}' is missing"):
        edgepack.load(tmp_path / "dir", engine="ncnn", precision="fp32")


def test_truncated_bundle_is_refused(digits_bundle, tmp_path):
    raw = digits_bundle.read_bytes()
    (tmp_path / "t.edgepack").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(edgepack.BundleError):
        edgepack.load(tmp_path / "t.edgepack")


def test_raw_bundle_returns_the_output_arrays(tmp_path, conv_model):
    import onnxruntime as ort

    from edgepack.pack import PackOptions, pack

    bundle = pack(conv_model, tmp_path / "raw.edgepack", PackOptions(task="raw"), to="mnn", precision="fp32",
                  bench_runs=0).path
    x = np.random.default_rng(3).standard_normal((1, 3, 16, 16)).astype(np.float32)
    ref = ort.InferenceSession(str(conv_model)).run(None, {"input": x})
    with edgepack.load(bundle) as s:
        assert s.task == "raw" and s.manifest.doc["preprocess"] is None
        for out in (s.run(x), s.run({"input": x})):
            np.testing.assert_allclose(out["logits"], ref[0], rtol=1e-4, atol=1e-4)
            np.testing.assert_allclose(out["features"], ref[1], rtol=1e-4, atol=1e-4)


def test_int8_and_litert_bundles_classify(tmp_path):
    """int8 calibrated through the bundle's own preprocessing (a folder of images), and LiteRT artifacts."""
    from edgepack.pack import PackOptions, pack

    calib = tmp_path / "calib"
    calib.mkdir()
    for i in range(40):
        Image.fromarray(DEMO.images[100 + i]).save(calib / f"{i}.png")
    opts = PackOptions(task="classify", labels=DEMO.spec["labels"], mean=DEMO.spec["mean"], std=DEMO.spec["std"])
    b8 = pack(DEMO.model, tmp_path / "d8.edgepack", opts, to="ncnn", precision="int8", calib=calib, bench_runs=0)
    assert b8.manifest["artifacts"][0]["verification"]["int8"]["calibration_samples"] > 0
    bt = pack(DEMO.model, tmp_path / "dt.edgepack", opts, to="tflite", precision="fp32", bench_runs=0)
    for path, key in ((b8.path, "ncnn-int8"), (bt.path, "litert-fp32")):
        with edgepack.load(path) as s:
            assert s.choice.key == key
            top1 = [int(s.run(img).labels[0]) for img in DEMO.images[:60]]
        assert np.mean(np.array(top1) == DEMO.labels[:60]) >= 0.95


def _damage_in_place(src: Path, dst: Path, member: str) -> Path:
    """A copy of the bundle with one byte of a stored member flipped where it lies: the zip's CRC-32 is stale,
    as after a bad copy or a failing SD card."""
    import shutil
    import zipfile

    from edgepack.runtime.bundle.integrity import stored_span

    shutil.copyfile(src, dst)
    with zipfile.ZipFile(dst) as z:
        offset, size = stored_span(dst, z.getinfo(member))
    with open(dst, "r+b") as f:
        f.seek(offset + size // 2)
        byte = f.read(1)
        f.seek(offset + size // 2)
        f.write(bytes([byte[0] ^ 0xFF]))
    return dst


def test_structure_files_are_checked_before_the_engine_sees_them(digits_bundle, tmp_path):
    """A damaged .mnn or .tflite (flatbuffers the engine parses) or ncnn .param is refused before any engine
    loads it (the zip's CRC-32, in the pass that copies it); a member altered and re-zipped with a fresh CRC is
    refused by its sha256 before load() returns."""
    from edgepack.runtime.bundle.integrity import DEFERRABLE_ROLES
    from edgepack.runtime.bundle.reader import Bundle
    from edgepack.runtime.engines import get_engine

    assert DEFERRABLE_ROLES == {"bin"}
    for engine, member in (("mnn", "artifacts/mnn-fp32/model.mnn"), ("ncnn", "artifacts/ncnn-fp32/model.ncnn.param")):
        bad = _damage_in_place(digits_bundle, tmp_path / f"{engine}.edgepack", member)
        for roles in (frozenset(), get_engine(engine).memory_roles()):  # written out, or handed over in memory
            with Bundle(bad) as b, pytest.raises(edgepack.BundleError, match=f"'{member}' is corrupt \\(CRC-32"):
                b.artifact_deferred(engine, "fp32", roles)  # raises before returning: nothing was loaded
        rezipped = _corrupt_copy(digits_bundle, tmp_path / f"{engine}-rezipped.edgepack", member)
        with pytest.raises(edgepack.BundleError, match=f"'{member}' is corrupt \\(sha256"):
            edgepack.load(rezipped, engine=engine, precision="fp32")


def test_close_while_threads_run_gives_session_closed_not_a_crash(digits_bundle):
    """issue 14: a Session closed while other threads run raised AttributeError from inside infer()."""
    import threading

    import edgepack

    img = DEMO.images[0]
    sess = edgepack.load(digits_bundle, engine="ncnn")
    errors: list[BaseException] = []
    started = threading.Barrier(5)

    def worker() -> None:
        started.wait()
        for _ in range(200):
            try:
                sess.run(img)
            except edgepack.InputError as e:
                assert "closed" in str(e)
                return
            except BaseException as e:  # noqa: BLE001 - recorded and asserted below
                errors.append(e)
                return

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    started.wait()
    sess.close()
    for t in threads:
        t.join()
    assert errors == []
    assert [t.name for t in sess.inputs]  # still describable after close


def test_ncnn_loads_from_the_bundle_in_memory_with_the_same_outputs(digits_bundle):
    """ncnn gets .param and .bin from the bundle's memory map (nothing written to disk), and computes exactly
    what it computes from the extracted files; MNN's member is written out (hashed in the same pass)."""
    from edgepack.runtime.bundle.reader import Bundle
    from edgepack.runtime.engines import get_engine

    ncnn_cls = get_engine("ncnn")
    assert ncnn_cls.memory_roles() == {"param", "bin"}
    with Bundle(digits_bundle) as b:
        name = b.manifest.inputs[0].name
        x = np.random.default_rng(3).standard_normal(b.manifest.inputs[0].shape).astype(np.float32)
        art, check = b.artifact_deferred("ncnn", "fp32", ncnn_cls.memory_roles())
        assert set(art.memory) == {"param", "bin"}
        assert not any(Path(art.directory).rglob("*.ncnn.*"))  # no file written for ncnn
        eng = ncnn_cls.load(art, threads=1)
        art.memory.clear()
        check.wait()
        from_memory = eng.run({name: x})
        eng.close()
        files = b.artifact("ncnn", "fp32")  # extracted and checked, loaded by path
        eng = ncnn_cls.load(files, threads=1)
        from_files = eng.run({name: x})
        eng.close()
        mnn_art, mnn_check = b.artifact_deferred("mnn", "fp32", get_engine("mnn").memory_roles())
        mnn_check.wait()
        assert not mnn_art.memory and mnn_art.path("model").read_bytes() == b._zip.read(mnn_art.files["model"])
    for k in from_files:
        np.testing.assert_array_equal(from_memory[k], from_files[k])
