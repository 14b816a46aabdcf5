"""`edgepack template ios`: the generated Xcode project, checked as far as a machine without Xcode allows.

- The C++ part of the app's Objective-C++ bridge (BGRA buffer with padded rows -> preprocess -> engine ->
  post-processing), compiled from the generated project's own Edgepack/ sources with the host g++ and run
  with a real engine (LiteRT's C API, libLiteRt.so from the ai-edge-litert wheel), must equal
  `edgepack.load(bundle, engine="litert").run(image)` on the same frame: classify, detect, segment.
- project.pbxproj parsed with real parsers (PyPI pbxproj and openstep-parser): every file reference exists,
  every source is in the target's Sources phase, the model files are resources, the camera usage string and
  the chosen settings are there. Swift sources pass tree-sitter-swift's parser.
- Output is byte-identical for the same input; bad options give one line and exit 2.
Not verified here (no Xcode, Swift or iOS SDK): that Xcode builds it, the Swift/Objective-C type checks, the
ncnn and TensorFlow Lite C engine adapters (no headers or libraries here), the camera, orientation and overlay."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import edgepack
from conftest import conv_relu_model, run_cli
from edgepack.errors import InputError
from edgepack.pack import PackOptions, pack
from edgepack.templates.ios import generate as ios
from edgepack.templates.render import write_project
from test_session_tasks import seg_model, yolo_model

ROOT = Path(__file__).resolve().parents[2]
TASKS = ("classify", "detect", "segment")


@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    d = tmp_path_factory.mktemp("ios_bundles")
    out = {}
    out["classify"] = pack(conv_relu_model(d / "cls.onnx", size=32), d / "cls.edgepack", PackOptions(
        task="classify", labels=["cat", "dog", "fox", "owl", "bee"], mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375], resize="center_crop", crop_fraction=0.875), to="ncnn,tflite", precision="fp32",
        bench_runs=0).path
    out["detect"] = pack(yolo_model(d / "yolo.onnx"), d / "yolo.edgepack", PackOptions(
        task="detect", labels=["cat", "dog"], mean=[0.0], std=[255.0], resize="letterbox"), to="ncnn,tflite",
        precision="fp32", bench_runs=0).path
    out["segment"] = pack(seg_model(d / "seg.onnx"), d / "seg.edgepack", PackOptions(
        task="segment", labels=["red", "green", "blue"]), to="ncnn,tflite", precision="fp32", bench_runs=0).path
    return out


@pytest.fixture(scope="module")
def projects(bundles, tmp_path_factory):
    d = tmp_path_factory.mktemp("ios_projects")
    out = {}
    for task in TASKS:
        for engine in ios.ENGINES:
            files = ios.generate(str(bundles[task]), {"engine": engine, "name": f"Edgepack {task}"})
            out[task, engine] = (write_project(files, d / f"{task}-{engine}"), files)
    return out


def _frame(task: str) -> np.ndarray:
    """A BGRA frame with some structure (uint8 H x W x 4)."""
    rng = np.random.default_rng(7)
    if task == "classify":
        rgb = rng.integers(0, 256, (40, 56, 3), dtype=np.uint8)
    elif task == "detect":
        rgb = np.full((64, 128, 3), 150, np.uint8)
        rgb[:, :40] = 30
        rgb[10:30, 60:90] = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)
    else:
        rgb = np.zeros((48, 64, 3), np.uint8)
        rgb[:, :20] = (255, 0, 0)
        rgb[:, 20:44] = (0, 255, 0)
        rgb[:, 44:] = (0, 0, 255)
    bgra = np.concatenate([rgb[..., ::-1], np.full(rgb.shape[:2] + (1,), 255, np.uint8)], axis=2)
    return np.ascontiguousarray(bgra)


def _litert_lib_dir() -> str:
    ai_edge_litert = pytest.importorskip("ai_edge_litert", reason="ai-edge-litert (LiteRT) is not installed")
    d = Path(ai_edge_litert.__file__).parent
    if not (d / "libLiteRt.so").is_file():
        pytest.skip("ai-edge-litert ships no libLiteRt.so on this platform")
    return str(d)


@pytest.fixture(scope="module")
def host_runner(projects, tmp_path_factory):
    """The generated project's C++ (scalar kernels: this host is not arm64) + the LiteRT engine adapter + the
    driver, built with g++."""
    gxx = shutil.which("g++")
    if gxx is None:
        pytest.skip("g++ is not installed (Debian package g++)")
    proj = projects["detect", "litert"][0] / "Edgepack"
    sources = [p for p in sorted(proj.rglob("*.cpp")) if not p.name.endswith("_neon.cpp")
               and p.name != "engine_tflite.cpp"]
    sources += [ROOT / "cpp/src/app/engine_litert.cpp", ROOT / "cpp/src/engines/litert.cpp",
                Path(__file__).parent / "ios_host/run_frame.cpp"]
    build = tmp_path_factory.mktemp("ios_host_build")
    flags = ["-std=c++17", "-O1", "-ffp-contract=off", "-Wall", f"-I{proj / 'include'}", f"-I{ROOT / 'cpp/include'}"]

    def compile_one(i_src):
        i, src = i_src
        obj = build / f"{i:03d}_{src.stem}.o"
        r = subprocess.run(["nice", gxx, *flags, "-c", str(src), "-o", str(obj)], capture_output=True, text=True)
        assert r.returncode == 0, f"{src}: {r.stderr[-3000:]}"
        return obj

    with ThreadPoolExecutor(max_workers=2) as pool:
        objs = list(pool.map(compile_one, enumerate(sources)))
    exe = build / "run_frame"
    r = subprocess.run([gxx, *map(str, objs), "-o", str(exe), "-ldl", "-lpthread"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    return exe


def _run_host(exe, project: Path, bgra: np.ndarray, tmp_path: Path, rotate=0, pad=48, model=None):
    h, w = bgra.shape[:2]
    stride = w * 4 + pad  # CVPixelBuffers pad their rows; the pad bytes must never be read as pixels
    padded = np.full((h, stride), 0xEE, np.uint8)
    padded[:, : w * 4] = bgra.reshape(h, w * 4)
    frame, mask = tmp_path / "frame.bgra", tmp_path / "mask.bin"
    frame.write_bytes(padded.tobytes())
    args = [str(exe), str(project / "Model/edgepack_model.cfg"), str(project / "Model"), _litert_lib_dir(),
            str(frame), str(w), str(h), str(stride), str(rotate), "0", str(mask)] + ([str(model)] if model else [])
    r = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    mw, mh, _ = out["mask"]
    out["mask_array"] = np.frombuffer(mask.read_bytes(), np.uint8).reshape(mh, mw) if mw else None
    return out


def _python(bundle, rgb):
    with edgepack.load(bundle, engine="litert", threads=1) as s:
        return s.run(rgb)


def _compare(task, host, py):
    if task == "classify":
        assert host["class_ids"] == list(py.class_ids)
        np.testing.assert_allclose(host["scores"], py.scores, rtol=1e-5, atol=1e-6)
        assert host["labels"] == list(py.labels)
    elif task == "detect":
        assert len(py) >= 2, "the frame must give detections for the comparison to mean something"
        assert host["class_ids"] == [int(i) for i in py.class_ids]
        np.testing.assert_allclose(np.reshape(host["boxes"], (-1, 4)), py.boxes, atol=1e-3)
        np.testing.assert_allclose(host["scores"], py.scores, atol=1e-5)
    else:
        assert host["mask"][2] == 1  # unrotated, uncropped frame: mask in source pixels, as Python gives it
        np.testing.assert_array_equal(host["mask_array"], py.mask)
        assert len(np.unique(py.mask)) == 3


@pytest.mark.parametrize("task", TASKS)
def test_host_bridge_equals_python_runtime(task, bundles, projects, host_runner, tmp_path):
    bgra = _frame(task)
    host = _run_host(host_runner, projects[task, "litert"][0], bgra, tmp_path)
    assert host["task"] == task and host["engine"].startswith("LiteRT")
    _compare(task, host, _python(bundles[task], np.ascontiguousarray(bgra[..., 2::-1])))


def test_host_bridge_rotated_frame_maps_boxes_to_the_unrotated_buffer(bundles, projects, host_runner, tmp_path):
    """A sensor-oriented 64x64 frame turned 90 degrees clockwise: boxes come back in the buffer's pixels."""
    bgra = np.zeros((64, 64, 4), np.uint8)
    bgra[..., :3] = 200
    bgra[:, :20, :3] = 20
    upright = np.rot90(bgra[..., 2::-1], k=-1)  # what the model sees (rotated clockwise)
    host = _run_host(host_runner, projects["detect", "litert"][0], bgra, tmp_path, rotate=90)
    py = _python(bundles["detect"], np.ascontiguousarray(upright))
    assert len(py) >= 1 and host["class_ids"] == [int(i) for i in py.class_ids]
    b = py.boxes  # upright (x1, y1, x2, y2) -> buffer (y1, 64 - x2, y2, 64 - x1)
    np.testing.assert_allclose(np.reshape(host["boxes"], (-1, 4)),
                               np.stack([b[:, 1], 64 - b[:, 2], b[:, 3], 64 - b[:, 0]], 1), atol=1e-3)


def test_ncnn_project_config_drives_the_same_pipeline(bundles, projects, host_runner, tmp_path):
    """The ncnn project's edgepack_model.cfg (pre/post from the same manifest) through the LiteRT engine with the
    bundle's .tflite: the config, not the engine, decides the pre/post-processing."""
    with edgepack.runtime.bundle.reader.Bundle(bundles["detect"]) as b:
        tflite = Path(b.artifact("litert", "fp32").path("model"))
        bgra = _frame("detect")
        host = _run_host(host_runner, projects["detect", "ncnn"][0], bgra, tmp_path, model=tflite)
    _compare("detect", host, _python(bundles["detect"], np.ascontiguousarray(bgra[..., 2::-1])))


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("engine", ios.ENGINES)
def test_pbxproj_parses_and_lists_every_file(task, engine, projects):
    pbx = pytest.importorskip("pbxproj", reason="PyPI package pbxproj is not installed (pip install pbxproj)")
    openstep = pytest.importorskip("openstep_parser", reason="PyPI package openstep-parser is not installed")
    out, files = projects[task, engine]
    path = next(out.glob("*.xcodeproj")) / "project.pbxproj"
    assert path.parent.name == f"Edgepack{task.capitalize()}.xcodeproj"
    doc = openstep.OpenStepDecoder.ParseFromFile(open(path))
    assert doc["objectVersion"] == "56" and doc["objects"][doc["rootObject"]]["compatibilityVersion"] == "Xcode 14.0"
    project = pbx.XcodeProject.load(str(path))
    objs = doc["objects"]
    parent = {c: k for k, o in objs.items() if o["isa"] == "PBXGroup" for c in o["children"]}

    def full_path(ref):
        parts = [objs[ref]["path"]]
        while ref in parent and "path" in objs[parent[ref]]:
            ref = parent[ref]
            parts.append(objs[ref]["path"])
        return "/".join(reversed(parts))

    refs = {k: full_path(k) for k, o in objs.items() if o["isa"] == "PBXFileReference" and
            o.get("sourceTree") == "<group>"}
    fetched = set(ios.XCFRAMEWORKS) if engine == "ncnn" else set()
    for p in refs.values():  # every reference exists, except the xcframeworks fetch_ncnn.sh places
        assert (out / p).exists() or p in fetched, p
    assert fetched <= set(refs.values())
    if fetched:
        script = (out / "scripts/fetch_ncnn.sh").read_text()
        assert all(Path(f).name in script for f in fetched)
    target = next(o for o in objs.values() if o["isa"] == "PBXNativeTarget")
    phases = {objs[p]["isa"]: [refs[objs[b]["fileRef"]] for b in objs[p]["files"]] for p in target["buildPhases"]}
    on_disk = [p for p in files if p.endswith((".swift", ".mm", ".cpp"))]
    assert sorted(phases["PBXSourcesBuildPhase"]) == sorted(on_disk)
    assert f"Edgepack/src/app/{ios.ENGINE_FILE[engine]}" in on_disk
    assert not any(p.endswith("_avx2.cpp") for p in on_disk)
    models = sorted(p for p in files if p.startswith("Model/"))
    assert sorted(phases["PBXResourcesBuildPhase"]) == models
    assert sorted(phases["PBXFrameworksBuildPhase"]) == sorted(fetched)
    assert ("PBXShellScriptBuildPhase" in phases) == (engine == "ncnn")
    settings = [objs[c]["buildSettings"] for c in objs[target["buildConfigurationList"]]["buildConfigurations"]]
    for s in settings:
        assert s["GENERATE_INFOPLIST_FILE"] == "YES" and s["INFOPLIST_KEY_NSCameraUsageDescription"]
        assert s["IPHONEOS_DEPLOYMENT_TARGET"] == ios.DEPLOYMENT_TARGET and s["CLANG_CXX_LANGUAGE_STANDARD"] == "c++17"
        assert (out / s["SWIFT_OBJC_BRIDGING_HEADER"]).is_file()
        assert "-ffp-contract=off" in s["OTHER_CPLUSPLUSFLAGS"]
    assert project.get_target_by_name(target["name"]) is not None  # the pbxproj library reads it too
    assert len(project.objects.get_objects_in_section("PBXFileReference")) == len(refs) + 1  # + the .app product


@pytest.mark.parametrize("engine", ios.ENGINES)
def test_model_files_are_the_bundles_bytes(engine, bundles, projects):
    out, _ = projects["classify", engine]
    cfg = (out / "Model/edgepack_model.cfg").read_text().splitlines()
    with edgepack.runtime.bundle.reader.Bundle(bundles["classify"]) as b:
        entry = b.manifest.artifact_entry(engine, "fp32")
    want = {Path(rel).name: sha for rel, sha in entry["sha256"].items()}
    for name, sha in want.items():
        assert hashlib.sha256((out / "Model" / name).read_bytes()).hexdigest() == sha
        assert f"sha256 {name} {sha}" in cfg
    assert "label fox" in cfg and "pre.resize center_crop" in cfg


def test_swift_sources_parse(projects):
    tree_sitter = pytest.importorskip("tree_sitter", reason="PyPI package tree-sitter is not installed")
    swift = pytest.importorskip("tree_sitter_swift", reason="PyPI package tree-sitter-swift is not installed")
    parser = tree_sitter.Parser(tree_sitter.Language(swift.language()))
    files = {**projects["classify", "ncnn"][1], **projects["detect", "litert"][1]}
    swift_files = {p: d for p, d in files.items() if p.endswith(".swift")}
    assert len(swift_files) >= 6
    for p, data in swift_files.items():
        tree = parser.parse(data)
        assert not tree.root_node.has_error, f"{p}: syntax error"
    assert parser.parse(b"struct A { var x: = 1 }").root_node.has_error  # the check can fail


def test_deterministic_output(bundles, tmp_path):
    a = ios.generate(str(bundles["segment"]), {"engine": "ncnn", "bundle_id": "com.example.seg"})
    b = ios.generate(str(bundles["segment"]), {"engine": "ncnn", "bundle_id": "com.example.seg"})
    assert a == b
    write_project(a, tmp_path / "one")
    write_project(b, tmp_path / "two")
    for p in a:
        assert (tmp_path / "one" / p).read_bytes() == (tmp_path / "two" / p).read_bytes()
        assert os.stat(tmp_path / "one" / p).st_mode == os.stat(tmp_path / "two" / p).st_mode
    assert os.access(tmp_path / "one/scripts/fetch_ncnn.sh", os.X_OK)
    pbxproj = next(d for p, d in a.items() if p.endswith(".xcodeproj/project.pbxproj"))
    assert b"PRODUCT_BUNDLE_IDENTIFIER = com.example.seg;" in pbxproj


def test_bad_options(bundles):
    with pytest.raises(InputError, match="--package is for android"):
        ios.generate(str(bundles["classify"]), {"package": "com.x"})
    with pytest.raises(InputError, match="bundle identifier"):
        ios.generate(str(bundles["classify"]), {"bundle_id": "not a bundle id"})
    with pytest.raises(InputError, match="unknown iOS engine"):
        ios.generate(str(bundles["classify"]), {"engine": "mnn"})


def test_cli_one_line_errors_and_refuses_non_empty_dir(bundles, tmp_path):
    r = run_cli("template", "ios", str(bundles["classify"]), "-o", str(tmp_path / "a"), "--package", "com.x")
    assert r.returncode == 2 and "Traceback" not in r.stderr and "--package is for android" in r.stderr
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "keep.txt").write_text("x")
    r = run_cli("template", "ios", str(bundles["classify"]), "-o", str(tmp_path / "b"))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    r = run_cli("template", "ios", str(bundles["classify"]), "-o", str(tmp_path / "c"), "--engine", "litert")
    assert r.returncode == 0, r.stderr
    assert "pod install" in r.stdout and (tmp_path / "c/Podfile").is_file()


def test_host_bridge_refuses_a_bad_config_line(projects, host_runner, tmp_path):
    project = projects["classify", "litert"][0]
    cfg = (project / "Model/edgepack_model.cfg").read_text().replace("pre.color RGB", "pre.colour RGB")
    bad = tmp_path / "Model"
    shutil.copytree(project / "Model", bad)
    (bad / "edgepack_model.cfg").write_text(cfg)
    bgra = _frame("classify")
    (tmp_path / "frame.bgra").write_bytes(bgra.tobytes())
    r = subprocess.run([str(host_runner), str(bad / "edgepack_model.cfg"), str(bad), _litert_lib_dir(),
                        str(tmp_path / "frame.bgra"), "56", "40", str(56 * 4), "0", "0", str(tmp_path / "m")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "(pre.colour): unknown key" in r.stderr and r.stderr.count("\n") == 1


def test_project_cpp_compiles_for_arm64_with_neon(projects):
    """The project's C++ as Xcode compiles it for an iPhone (arm64, EDGEPACK_WITH_NEON=1: the NEON kernels
    and the dispatch to them), with Debian's aarch64 cross g++ (syntax and types; the ncnn adapter needs
    ncnn's headers, so it is left out)."""
    gxx = shutil.which("aarch64-linux-gnu-g++")
    if gxx is None:
        pytest.skip("aarch64-linux-gnu-g++ is not installed (Debian package g++-aarch64-linux-gnu)")
    proj = projects["segment", "ncnn"][0] / "Edgepack"
    sources = [p for p in sorted(proj.rglob("*.cpp")) if p.name != "engine_ncnn.cpp"]
    assert any(p.name.endswith("_neon.cpp") for p in sources)
    flags = ["-std=c++17", "-fsyntax-only", "-ffp-contract=off", "-DEDGEPACK_WITH_NEON=1", "-Wall", "-Werror",
             f"-I{proj / 'include'}"]

    def check(src):
        r = subprocess.run(["nice", gxx, *flags, str(src)], capture_output=True, text=True)
        assert r.returncode == 0, f"{src}: {r.stderr[-3000:]}"

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(check, sources))
