"""The generated Android project's native library and Android-free Kotlin, run on the host: the JNI library is
built by host CMake from the project's own app/src/main/cpp (edgepack's cpp/ tree + JNI + the LiteRT engine),
loaded with System.load into a JVM running the project's Kotlin (compiled with the Kotlin compiler inside the
kotlin-jupyter-kernel wheel), and fed YUV_420_888 frames (padded rows; NV21-, NV12-like, planar and
separate-buffer chroma; rotations; front-camera mirror). Inference is real LiteRT (libLiteRt.so of the installed
ai-edge-litert wheel, through edgepack's C API path). Every result must equal edgepack's Python runtime,
edgepack.load(bundle, engine="litert").run(edgepack.Frame(...)), on the same frame."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import edgepack
from android_bundles import TASKS, make_bundle, rgb_to_nv21, scene, yuv420888
from edgepack.runtime.engines.litert_native import litert_library_dir
from edgepack.templates.android.generate import generate
from edgepack.templates.render import write_project

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent
JAVA_HOME = Path(os.environ.get("JAVA_HOME", "/usr/lib/jvm/java-17-openjdk-amd64"))
SIZES = {"classify": (40, 30), "detect": (96, 64), "segment": (64, 48)}  # camera frame (width, height)
# (chroma layout, rotation, mirror): every YUV_420_888 layout, every rotation, both cameras
FRAMES = [("nv21", 90, True), ("i420", 0, False), ("nv12", 270, False), ("separate2", 180, True)]
VIEW = (1080, 2200)  # a portrait phone screen


def _kotlin_jars() -> tuple[Path, Path]:
    try:
        import run_kotlin_kernel
    except ImportError:
        pytest.skip("kotlin-jupyter-kernel not installed (pip install kotlin-jupyter-kernel): it carries the Kotlin "
                    "compiler these tests use")
    jars = Path(run_kotlin_kernel.__file__).parent / "jars"
    compiler = sorted(jars.glob("kotlin-jupyter-kernel-*-all.jar"))
    stdlib = sorted(jars.glob("kotlin-stdlib-*.jar"))
    if not compiler or not stdlib:
        pytest.skip(f"kotlin-jupyter-kernel has no compiler/stdlib jar in {jars}")
    return compiler[-1], stdlib[-1]


def _tools() -> None:
    for tool, pkg in (("java", "openjdk-17-jdk-headless"), ("cmake", "cmake (pip install cmake)"), ("g++", "g++")):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} not found: install {pkg}")
    if not (JAVA_HOME / "include" / "jni.h").is_file():
        pytest.skip(f"no jni.h under {JAVA_HOME}/include: install openjdk-17-jdk-headless or set JAVA_HOME")
    if not litert_library_dir():
        pytest.skip("ai-edge-litert not installed: it provides libLiteRt.so for the real LiteRT runs")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Bundles, their generated projects, the host-built JNI library and the compiled Kotlin (once per run)."""
    _tools()
    compiler, stdlib = _kotlin_jars()
    root = tmp_path_factory.mktemp("android_host")
    bundles = {t: make_bundle(t, root) for t in TASKS}
    projects = {}
    for t, b in bundles.items():
        projects[t] = write_project(generate(b, {"engine": "litert"}), root / f"app_{t}")
    cpp = projects["classify"] / "app/src/main/cpp"
    env = dict(os.environ, JAVA_HOME=str(JAVA_HOME))
    build = root / "jni_build"
    subprocess.run(["cmake", "-S", str(cpp), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release"], check=True, env=env,
                   capture_output=True, text=True)
    r = subprocess.run(["cmake", "--build", str(build), "-j2"], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    lib = build / "libedgepack_jni.so"
    kt_dir = projects["classify"] / "app/src/main/java/edgepack/runtime"
    pure = sorted(p for p in kt_dir.glob("*.kt") if "import android" not in p.read_text())
    classes = root / "classes"
    r = subprocess.run(["java", "-cp", str(compiler), "org.jetbrains.kotlin.cli.jvm.K2JVMCompiler", "-no-stdlib",
                        "-no-reflect", "-classpath", str(stdlib), "-d", str(classes), *map(str, pure),
                        str(HERE / "android_host" / "HostCheck.kt")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-4000:]
    return dict(root=root, bundles=bundles, projects=projects, lib=lib, classes=classes, stdlib=stdlib, pure=pure)


def _run_cases(built, lines: list[str]) -> dict[str, dict]:
    cases = built["root"] / f"cases_{len(list(built['root'].glob('cases_*')))}.tsv"
    cases.write_text("\n".join(lines) + "\n")
    env = dict(os.environ, EDGEPACK_LITERT_DIR=litert_library_dir())
    r = subprocess.run(["java", "-cp", f"{built['classes']}{os.pathsep}{built['stdlib']}", "HostCheckKt",
                        str(built["lib"]), str(cases)], capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stderr[-4000:]
    out = {}
    for line in r.stdout.splitlines():
        d = json.loads(line)
        out[d["name"]] = d
    return out


def _frame_line(built, name: str, task: str, data: bytes, planes: dict, w: int, h: int, rot: int, mirror: bool,
                root: Path | None = None) -> str:
    f = built["root"] / f"{name}.yuv"
    f.write_bytes(data)
    root = root or built["projects"][task] / "app/src/main/assets/edgepack"
    nums = [w, h, *planes["y"], *planes["u"], *planes["v"], planes["pixel"], rot, int(mirror), *VIEW]
    return "\t".join(["frame", name, str(root), "litert", str(f), *map(str, nums)])


@pytest.fixture(scope="module")
def frame_results(built):
    """Every task x FRAMES through the JNI library, and the Python runtime's result for the same frame."""
    lines, expected = [], {}
    for task in TASKS:
        w, h = SIZES[task]
        nv21 = rgb_to_nv21(scene(task, w, h))
        with edgepack.load(built["bundles"][task], engine="litert") as s:
            for layout, rot, mirror in FRAMES:
                name = f"{task}-{layout}-{rot}-{int(mirror)}"
                data, planes = yuv420888(nv21, w, h, layout)
                lines.append(_frame_line(built, name, task, data, planes, w, h, rot, mirror))
                frame = edgepack.Frame(nv21, w, h, "NV21", rotation=rot, mirror=mirror)
                expected[name] = (s.run(frame), frame)
    return _run_cases(built, lines), expected


def test_only_android_free_kotlin_is_compiled_for_the_host(built):
    names = {p.name for p in built["pure"]}
    assert {"Json.kt", "BundleManifest.kt", "NativeBridge.kt", "Results.kt", "ScreenMapping.kt", "FpsMeter.kt",
            "EdgepackSession.kt"} <= names
    assert "EdgepackModel.kt" not in names  # imports android.* / androidx.camera: parse-checked only


@pytest.mark.parametrize("task", TASKS)
def test_jni_results_equal_the_python_runtime(frame_results, task):
    got, expected = frame_results
    for layout, rot, mirror in FRAMES:
        name = f"{task}-{layout}-{rot}-{int(mirror)}"
        g, (want, _) = got[name], expected[name]
        assert g["ok"], g
        assert g["task"] == task and "LiteRT CPU" in g["description"]
        if task == "classify":
            assert g["ids"] == list(want.class_ids), name
            np.testing.assert_allclose(g["scores"], want.scores, rtol=1e-5, atol=1e-6, err_msg=name)
            assert g["labels"] == want.labels
        elif task == "detect":
            assert len(want) >= 2, "the toy detector must find boxes for the test to mean anything"
            assert g["classIds"] == [int(c) for c in want.class_ids], name
            np.testing.assert_allclose(np.array(g["boxes"]).reshape(-1, 4), want.boxes, atol=1e-3, err_msg=name)
            np.testing.assert_allclose(g["scores"], want.scores, rtol=1e-5, atol=1e-6, err_msg=name)
            assert g["labels"] == want.labels
        else:
            mask = np.frombuffer(bytes.fromhex(g["mask"]), np.uint8).reshape(g["maskH"], g["maskW"])
            assert mask.shape == want.mask.shape, name
            assert (mask == want.mask).all(), f"{name}: {int((mask != want.mask).sum())} pixels differ"
            assert g["maskInSource"] == (rot == 0 and not mirror)
            assert len(np.unique(mask)) == 3  # all three colour bands found


@pytest.mark.parametrize("task", TASKS)
def test_kotlin_geometry_maps_model_points_as_the_kernel_does(built, frame_results, task):
    """Geometry.toSource (Kotlin) equals the preprocess kernel's PreprocessInfo.map_points on the same frame."""
    from edgepack import kernels

    got, expected = frame_results
    with edgepack.load(built["bundles"][task], engine="litert") as s:
        spec = s.manifest.preprocess
    for layout, rot, mirror in FRAMES:
        name = f"{task}-{layout}-{rot}-{int(mirror)}"
        g, frame = got[name], expected[name][1]
        _, info = kernels.preprocess(frame.buffer(), format="nv21", width=frame.width, height=frame.height,
                                     out_size=(spec.width, spec.height), mode=spec.resize, rotate=rot, mirror=mirror)
        assert g["out"] == [spec.width, spec.height] and g["pad"] == list(info.pad)
        np.testing.assert_allclose(g["scale"], info.scale, rtol=1e-12)
        ow, oh = g["out"]
        pts = np.array([[0, 0], [ow, oh], [ow / 2, oh / 3]], np.float64)
        np.testing.assert_allclose(np.array(g["toSource"]), info.map_points(pts), atol=1e-9, err_msg=name)


def test_boxes_land_where_the_model_put_them_on_screen(built, frame_results):
    """The toy detector's boxes are constants in model-input pixels. C++ maps them back through letterbox,
    rotation and mirror to camera-buffer pixels; Kotlin's ScreenMapping turns those upright (and mirrored for
    the front camera) as the preview shows them: the composition must be the plain letterbox inverse of the
    model's boxes in the upright image, and FILL_CENTER scales and centres that on the screen."""
    from test_session_tasks import BOXES

    got, _ = frame_results
    cx, cy, bw, bh = BOXES.astype(np.float64)
    model_boxes = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], 1)
    for layout, rot, mirror in FRAMES:
        g = got[f"detect-{layout}-{rot}-{int(mirror)}"]
        (sx, sy), (px, py) = g["scale"], g["pad"]
        uw, uh = g["upright"]
        inv = (model_boxes - [px, py, px, py]) / [sx, sy, sx, sy]
        inv[:, 0::2] = inv[:, 0::2].clip(0, uw)
        inv[:, 1::2] = inv[:, 1::2].clip(0, uh)
        upright = np.array(g["uprightBoxes"])
        for b in upright:  # each kept box is one of the model's boxes
            assert np.abs(inv - b).max(axis=1).min() < 1e-3, (layout, rot, mirror, b, inv)
        s = g["screenScale"]
        assert s == pytest.approx(max(VIEW[0] / uw, VIEW[1] / uh))
        ox, oy = g["screenOffset"]
        assert (ox, oy) == pytest.approx(((VIEW[0] - uw * s) / 2, (VIEW[1] - uh * s) / 2))
        np.testing.assert_allclose(np.array(g["screenBoxes"]), upright * s + [ox, oy, ox, oy], rtol=1e-6)


def test_mask_covers_the_image_on_screen(frame_results):
    """Whether the mask is in buffer pixels (upright back camera) or on the model's grid (rotated/mirrored),
    its corners land on the corners of the image as FILL_CENTER shows it (the seg bundle stretches)."""
    got, _ = frame_results
    for layout, rot, mirror in FRAMES:
        g = got[f"segment-{layout}-{rot}-{int(mirror)}"]
        uw, uh = g["upright"]
        s, (ox, oy) = g["screenScale"], g["screenOffset"]
        want = np.array([[ox, oy], [ox + uw * s, oy], [ox + uw * s, oy + uh * s], [ox, oy + uh * s]])
        # in buffer pixels the corners go through rotation and mirror; on the model grid the mask is already
        # upright and mirrored like the preview: either way they must land on the image's corners
        np.testing.assert_allclose(np.array(g["maskCorners"]).reshape(4, 2), want, atol=1e-3,
                                   err_msg=f"{layout} {rot} {mirror} in_source={g['maskInSource']}")


def test_bad_frames_and_corrupt_files_give_one_line_errors(built):
    task = "classify"
    w, h = SIZES[task]
    nv21 = rgb_to_nv21(scene(task, w, h))
    data, planes = yuv420888(nv21, w, h, "nv21")
    short = dict(planes, y=(0, planes["y"][1], w - 10))  # row stride below the width
    broken = built["root"] / "broken_assets"
    shutil.copytree(built["projects"][task] / "app/src/main/assets/edgepack", broken)
    model = next(broken.rglob("*.tflite"))
    model.write_bytes(model.read_bytes()[:-8] + b"12345678")
    odd = dict(planes)
    lines = [_frame_line(built, "stride", task, data, short, w, h, 0, False),
             _frame_line(built, "rotation", task, data, planes, w, h, 45, False),
             _frame_line(built, "corrupt", task, data, planes, w, h, 0, False, root=broken),
             _frame_line(built, "odd", task, data, odd, w - 1, h, 0, False)]
    got = _run_cases(built, lines)
    assert "Y row stride" in got["stride"]["error"] and "less than the width" in got["stride"]["error"]
    assert "rotation 45" in got["rotation"]["error"]
    assert "sha256" in got["corrupt"]["error"] and "model.tflite" in got["corrupt"]["error"]
    assert "must be positive and even" in got["odd"]["error"]
    assert all(not g["ok"] and "\n" not in g["error"] for g in got.values())


def test_kotlin_json_reads_manifests_as_python_does(built, tmp_path):
    tricky = tmp_path / "tricky.json"
    tricky.write_text('{"a": [1, -2.5e3, true, false, null], "s": "q\\"\\u00e9\\n", "n": {"x": {}}, "e": []}')
    bad = tmp_path / "bad.json"
    bad.write_text('{"a": [1, 2}')
    assets = {t: built["projects"][t] / "app/src/main/assets/edgepack/manifest.json" for t in TASKS}
    lines = [f"json\tmanifest-{t}\t{assets[t]}" for t in TASKS]
    lines += [f"json\ttricky\t{tricky}", f"json\tbad\t{bad}", "fps\tfps"]
    got = _run_cases(built, lines)
    for t in TASKS:
        path = built["projects"][t] / "app/src/main/assets/edgepack/manifest.json"
        assert got[f"manifest-{t}"]["value"] == json.loads(path.read_text())
    assert got["tricky"]["value"] == json.loads(tricky.read_text())
    assert not got["bad"]["ok"] and "not valid JSON" in got["bad"]["error"]
    # frames every 25 ms: 4 in the window span 75 ms -> 40 fps; median of the last 4 latencies (30, 20, 40, 50) -> 40
    assert got["fps"]["fps"] == pytest.approx(40.0) and got["fps"]["latencyMs"] == pytest.approx(40.0)
