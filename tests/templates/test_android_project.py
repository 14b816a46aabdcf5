"""`edgepack template android`: the generated project for classify, detect and segment bundles with both
engines, checked statically (there is no Android SDK here): version catalog refs resolve, AGP <-> Gradle
minimum, no kotlin-android plugin on AGP 9, namespace/applicationId, manifest permissions and launcher,
noCompress covers the artifact, every ABI has its native inputs, assets byte-identical to the bundle, the C++
tree is edgepack's, every Kotlin file parses, output is deterministic, bad input is one line with exit 2."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import stat
import subprocess
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from android_bundles import TASKS, make_bundle
from conftest import run_cli
from edgepack.templates.android import versions as V
from edgepack.templates.android.generate import generate
from edgepack.templates.cpp_sources import cpp_source_dir, cpp_source_files
from edgepack.templates.render import write_project

tomllib = pytest.importorskip("tomllib")
ENGINES = ("litert", "ncnn")
ANDROID = "{http://schemas.android.com/apk/res/android}"
# ABIs each engine's prebuilt native part exists for: the LiteRT AAR's jni/ folders (arm64-v8a, x86_64 seen in
# google-ai-edge/LiteRT-LM#2351) and ncnn's Android release zip (one folder per ABI, Tencent/ncnn release.yml)
ENGINE_ABIS = {"litert": {"arm64-v8a", "x86_64"}, "ncnn": {"armeabi-v7a", "arm64-v8a", "x86", "x86_64", "riscv64"}}
# what the NDK's CMake sets CMAKE_SYSTEM_PROCESSOR to per ABI (edgepack's cpp/CMakeLists picks kernels from it)
NDK_PROCESSOR = {"arm64-v8a": "aarch64", "x86_64": "x86_64", "armeabi-v7a": "armv7-a", "x86": "i686"}


@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    d = tmp_path_factory.mktemp("android_bundles")
    return {t: make_bundle(t, d) for t in TASKS}


@pytest.fixture(scope="module")
def projects(bundles):
    return {(t, e): generate(bundles[t], {"engine": e}) for t in TASKS for e in ENGINES}


CASES = [(t, e) for t in TASKS for e in ENGINES]


def text(files, rel):
    return files[rel].decode("utf-8")


def _version_tuple(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", v))


@pytest.mark.parametrize("task,engine", CASES)
def test_version_catalog_and_toolchain(projects, task, engine):
    files = projects[(task, engine)]
    cat = tomllib.loads(text(files, "gradle/libs.versions.toml"))
    versions = cat["versions"]
    for section in ("libraries", "plugins"):
        for name, entry in cat[section].items():
            ref = entry.get("version", {}).get("ref") if isinstance(entry.get("version"), dict) else None
            ref = ref or entry.get("version.ref")
            assert ref in versions, f"{section}.{name} refers to version '{ref}', not in [versions]"
    # every alias the Gradle files use exists in the catalog
    gradle = text(files, "build.gradle.kts") + text(files, "app/build.gradle.kts")
    for alias in re.findall(r"libs\.plugins\.([a-z0-9.]+)", gradle):
        assert alias.replace(".", "-") in cat["plugins"], alias
    for alias in re.findall(r"implementation\(libs\.([a-z0-9.]+)\)", gradle):
        assert alias.replace(".", "-") in cat["libraries"], alias
    agp = versions["agp"]
    wrapper = text(files, "gradle/wrapper/gradle-wrapper.properties")
    url = re.search(r"distributionUrl=.*gradle-([0-9.]+)-bin\.zip", wrapper)
    gradle_version = url.group(1)
    minor = ".".join(agp.split(".")[:2])
    assert _version_tuple(gradle_version) >= _version_tuple(V.AGP_MIN_GRADLE[minor]), (agp, gradle_version)
    if _version_tuple(agp) >= (9,):  # built-in Kotlin: applying kotlin-android fails the build
        assert all(p["id"] != "org.jetbrains.kotlin.android" for p in cat["plugins"].values())
        for rel, data in files.items():
            if rel.endswith(".kts"):
                code = "\n".join(line.split("//")[0] for line in data.decode().splitlines())  # comments may name it
                assert not re.search(r'kotlin\.android|kotlin\("android"\)|org\.jetbrains\.kotlin\.android', code), rel
    app = text(files, "app/build.gradle.kts")
    assert re.search(r"version = release\((\d+)\)", app).group(1) == str(V.COMPILE_SDK)
    assert int(re.search(r"targetSdk = (\d+)", app).group(1)) >= 36
    assert "ANDROID_SUPPORT_FLEXIBLE_PAGE_SIZES=ON" in app
    assert "max-page-size=16384" in text(files, "app/src/main/cpp/CMakeLists.txt")


@pytest.mark.parametrize("task,engine", CASES)
def test_namespace_manifest_and_sources(projects, task, engine):
    files = projects[(task, engine)]
    app = text(files, "app/build.gradle.kts")
    package = re.search(r'namespace = "([^"]+)"', app).group(1)
    assert re.search(r'applicationId = "([^"]+)"', app).group(1) == package
    assert package == {"classify": "com.example.cls", "detect": "com.example.yolo", "segment": "com.example.seg"}[task]
    root = ET.fromstring(files["app/src/main/AndroidManifest.xml"])
    assert "package" not in root.attrib  # AGP uses namespace
    perms = [e.get(ANDROID + "name") for e in root.iter("uses-permission")]
    assert "android.permission.CAMERA" in perms
    feats = {e.get(ANDROID + "name"): e.get(ANDROID + "required") for e in root.iter("uses-feature")}
    assert feats.get("android.hardware.camera") == "false"
    launchers = [a for a in root.iter("activity")
                 if any(c.get(ANDROID + "name") == "android.intent.category.LAUNCHER" for c in a.iter("category"))]
    assert len(launchers) == 1 and launchers[0].get(ANDROID + "exported") == "true"
    activity = launchers[0].get(ANDROID + "name")
    main = f"app/src/main/java/{package.replace('.', '/')}/MainActivity.kt"
    assert activity == ".MainActivity" and text(files, main).startswith("//")
    assert f"package {package}\n" in text(files, main)
    ET.fromstring(files["app/src/main/res/values/strings.xml"])
    assert "local.properties" not in files
    for rel, data in files.items():
        if not rel.startswith("app/src/main/assets/"):
            assert not re.search(rb"\{\{[a-zA-Z_][a-zA-Z0-9_]*\}\}", data), f"unfilled placeholder in {rel}"


@pytest.mark.parametrize("task,engine", CASES)
def test_assets_are_the_bundles_bytes(bundles, projects, task, engine):
    files = projects[(task, engine)]
    with zipfile.ZipFile(bundles[task]) as z:
        raw = z.read("manifest.json")
        assert files["app/src/main/assets/edgepack/manifest.json"] == raw
        doc = json.loads(raw)
        art = next(a for a in doc["artifacts"] if a["engine"] == engine and a["precision"] == "fp32")
        assets = {r[len("app/src/main/assets/edgepack/"):] for r in files if r.startswith("app/src/main/assets/")}
        assert assets == {"manifest.json", *art["sha256"]}  # the chosen artifact only
        for rel, digest in art["sha256"].items():
            data = files[f"app/src/main/assets/edgepack/{rel}"]
            assert data == z.read(rel) and hashlib.sha256(data).hexdigest() == digest
    no_compress = set(re.findall(r'"([a-z0-9]+)"', re.search(r"noCompress \+= listOf\(([^)]*)\)",
                                                              text(files, "app/build.gradle.kts")).group(1)))
    for rel in art["sha256"]:
        assert Path(rel).suffix.lstrip(".") in no_compress, rel


@pytest.mark.parametrize("task,engine", CASES)
def test_every_abi_has_its_native_inputs(projects, task, engine, tmp_path):
    files = projects[(task, engine)]
    app = text(files, "app/build.gradle.kts")
    abis = set(re.findall(r'"([a-z0-9_-]+)"', re.search(r"abiFilters \+= listOf\(([^)]*)\)", app).group(1)))
    assert abis == set(V.ABIS)
    assert abis <= ENGINE_ABIS[engine]
    cmake = text(files, "app/src/main/cpp/edgepack/CMakeLists.txt")
    arm = re.search(r'_edgepack_arch MATCHES "([^"]+)"\)\n  set\(EDGEPACK_ARCH x86_64\)', cmake).group(1)
    aarch = re.search(r'_edgepack_arch MATCHES "([^"]+)"\)\n  set\(EDGEPACK_ARCH aarch64\)', cmake).group(1)
    if shutil.which("cmake") is None:
        pytest.skip("cmake not found (pip install cmake): it evaluates the core's architecture regexes")
    # CMake's own regex engine says which kernels each ABI gets (NEON on arm64, AVX2 on x86_64)
    script = tmp_path / "arch.cmake"
    lines = [f'if("{NDK_PROCESSOR[a]}" MATCHES "{arm}")\n message("{a}=x86_64")\n'
             f'elseif("{NDK_PROCESSOR[a]}" MATCHES "{aarch}")\n message("{a}=aarch64")\nendif()' for a in abis]
    script.write_text("\n".join(lines) + "\n")
    r = subprocess.run(["cmake", "-P", str(script)], capture_output=True, text=True)
    assert set(r.stderr.split()) == {"arm64-v8a=aarch64", "x86_64=x86_64"}, r.stderr
    engine_cmake = text(files, "app/src/main/cpp/engine.cmake")
    if engine == "litert":
        assert "implementation(libs.litert)" in app and "ncnn" not in engine_cmake
        assert 'litert = "' + V.LITERT + '"' in text(files, "gradle/libs.versions.toml")
    else:
        name = f"ncnn-{V.NCNN}-android-vulkan"
        assert f'set(EDGEPACK_NCNN_NAME "{name}")' in engine_cmake
        assert "${EDGEPACK_NCNN_NAME}/${ANDROID_ABI}/lib/cmake/ncnn" in engine_cmake
        assert "FATAL_ERROR" in engine_cmake and "find_package(ncnn REQUIRED)" in engine_cmake
        assert f'ncnnVersion = "{V.NCNN}"' in app and "fetchNcnn" in app and "libs.litert" not in app
        assert "MessageDigest" in app and "edgepack.ncnn.sha256" in app
        assert "edgepack.ncnn.sha256=" in text(files, "gradle.properties")
        assert "app/src/main/cpp/engine_ncnn.cpp" in files and "app/src/main/cpp/engine_litert.cpp" not in files


def test_cpp_tree_is_edgepacks(projects):
    files = projects[("detect", "litert")]
    prefix = "app/src/main/cpp/edgepack/"
    tree = {r[len(prefix):]: d for r, d in files.items() if r.startswith(prefix)}
    assert tree == cpp_source_files()
    root = cpp_source_dir()
    for rel, data in tree.items():
        assert (root / rel).read_bytes() == data
    assert not any(r.startswith("bindings/") for r in tree)  # the pybind11 module stays out of the app


def test_generation_is_deterministic(bundles, tmp_path):
    a = generate(bundles["segment"], {"engine": "litert", "package": "org.demo.seg", "name": "Seg & Co"})
    b = generate(bundles["segment"], {"engine": "litert", "package": "org.demo.seg", "name": "Seg & Co"})
    assert a == b and list(a) == sorted(a)
    write_project(a, tmp_path / "one")
    write_project(b, tmp_path / "two")
    for rel in a:
        p, q = tmp_path / "one" / rel, tmp_path / "two" / rel
        assert p.read_bytes() == q.read_bytes() and p.stat().st_mode == q.stat().st_mode
    assert (tmp_path / "one/gradlew").stat().st_mode & stat.S_IXUSR
    assert "Seg &amp; Co" in a["app/src/main/res/values/strings.xml"].decode()
    assert a["gradlew.bat"].count(b"\r\n") == a["gradlew.bat"].count(b"\n")


def test_gradlew_explains_the_missing_jar(projects, tmp_path):
    write_project(projects[("classify", "litert")], tmp_path / "p")
    assert subprocess.run(["sh", "-n", str(tmp_path / "p/gradlew")]).returncode == 0
    r = subprocess.run([str(tmp_path / "p/gradlew"), "tasks"], capture_output=True, text=True, cwd=tmp_path / "p")
    assert r.returncode == 1
    assert "gradle-wrapper.jar is missing" in r.stderr and f"gradle wrapper --gradle-version {V.GRADLE}" in r.stderr


def test_kotlin_sources_parse(projects):
    ts = pytest.importorskip("tree_sitter", reason="tree-sitter not installed (pip install tree-sitter)")
    tsk = pytest.importorskip("tree_sitter_kotlin", reason="tree-sitter-kotlin not installed "
                                                            "(pip install tree-sitter-kotlin)")
    parser = ts.Parser(ts.Language(tsk.language()))
    seen = 0
    for (task, engine), files in projects.items():
        for rel, data in files.items():
            if rel.endswith((".kt", ".kts")):
                tree = parser.parse(data)
                assert not tree.root_node.has_error, f"{task}/{engine}: {rel} does not parse as Kotlin"
                seen += 1
    assert seen >= 6 * 12


def test_cli_writes_the_project_and_refuses_bad_input(bundles, tmp_path):
    out = tmp_path / "MyApp"
    r = run_cli("template", "android", str(bundles["detect"]), "-o", str(out), "--package", "com.acme.det",
                "--name", "Detector")
    assert r.returncode == 0, r.stderr
    assert "open" in r.stdout and "./gradlew installDebug" in r.stdout
    assert (out / "app/src/main/java/com/acme/det/MainActivity.kt").is_file()
    again = run_cli("template", "android", str(bundles["detect"]), "-o", str(out))
    assert again.returncode == 2 and "--force" in again.stderr and "Traceback" not in again.stderr
    assert run_cli("template", "android", str(bundles["detect"]), "-o", str(out), "--force").returncode == 0

    # a bundle without the engine's artifact: one line naming the pack target that adds it
    only_ncnn = tmp_path / "only_ncnn"
    with zipfile.ZipFile(bundles["classify"]) as z:
        z.extractall(only_ncnn)
    doc = json.loads((only_ncnn / "manifest.json").read_text())
    doc["artifacts"] = [a for a in doc["artifacts"] if a["engine"] != "litert"]
    doc["benchmarks"] = [b for b in doc.get("benchmarks", []) if b.get("engine") != "litert"]
    (only_ncnn / "manifest.json").write_text(json.dumps(doc))
    for args, needle in [((str(only_ncnn),), "--to tflite"),
                         ((str(bundles["classify"]), "--engine", "mnn"), "choose from litert, ncnn"),
                         ((str(bundles["classify"]), "--package", "com.example.class"), "reserved word"),
                         ((str(bundles["classify"]), "--package", "app"), "two segments"),
                         ((str(tmp_path / "missing.edgepack"),), "not found")]:
        r = run_cli("template", "android", *args, "-o", str(tmp_path / "x"))
        lines = r.stderr.strip().splitlines()
        assert r.returncode == 2 and len(lines) == 1 and needle in lines[0], (args, r.stderr)
        assert not (tmp_path / "x").exists()
    ok = run_cli("template", "android", str(only_ncnn), "-o", str(tmp_path / "n"), "--engine", "ncnn")
    assert ok.returncode == 0, ok.stderr
