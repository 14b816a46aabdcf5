"""`edgepack template android BUNDLE -o DIR`: an Android Studio project that runs the bundle on the camera.

The project is the template tree ``files/common`` plus the engine's overlay (``files/litert`` or ``files/ncnn``),
with ``{{placeholders}}`` filled from the bundle and the pinned toolchain (versions.py); edgepack's C++ core
(cpp_sources.cpp_source_dir) is copied to ``app/src/main/cpp/edgepack`` and the bundle's manifest.json and the
chosen artifact's files to ``app/src/main/assets/edgepack`` byte for byte. The app reads the manifest at run
time, so the Kotlin and C++ sources are the same for every bundle of a task-agnostic kind.
"""

from __future__ import annotations

import hashlib
import keyword
import re
import zipfile
from pathlib import Path, PurePosixPath

from edgepack.errors import BundleError, InputError
from edgepack.runtime.bundle.manifest import MANIFEST, check_relpath
from edgepack.runtime.bundle.reader import Bundle
from edgepack.templates.android import versions as V
from edgepack.templates.cpp_sources import cpp_source_files
from edgepack.templates.render import render_tree, substitute

FILES = Path(__file__).resolve().parent / "files"
ENGINES = ("litert", "ncnn")
PACK_TARGET = {"litert": "tflite", "ncnn": "ncnn"}  # the `edgepack pack --to` name that makes the artifact
PRECISION_ORDER = ("fp32", "fp16", "int8")
TASKS = ("classify", "detect", "segment")
ASSET_DIR = "app/src/main/assets/edgepack"
CPP_DIR = "app/src/main/cpp/edgepack"

# Kotlin hard keywords and Java reserved words cannot be package segments
_RESERVED = set(keyword.kwlist) | {
    "abstract", "as", "boolean", "break", "byte", "case", "catch", "char", "class", "const", "continue", "default",
    "do", "double", "else", "enum", "extends", "false", "final", "finally", "float", "for", "fun", "goto", "if",
    "implements", "import", "in", "instanceof", "int", "interface", "is", "long", "native", "new", "null", "object",
    "package", "private", "protected", "public", "return", "short", "static", "strictfp", "super", "switch",
    "synchronized", "this", "throw", "throws", "transient", "true", "try", "typealias", "typeof", "val", "var",
    "void", "volatile", "when", "while"}
ENGINE_README = {
    "litert": f"\nLiteRT comes from Google Maven (`com.google.ai.edge.litert:litert:{V.LITERT}`): nothing to "
              "download by hand.\n",
    "ncnn": (f"\n**ncnn**: the first build downloads `ncnn-{V.NCNN}-android-vulkan.zip` from Tencent/ncnn's GitHub "
             "release (task `fetchNcnn`) and checks it against `edgepack.ncnn.sha256` in `gradle.properties`. That "
             "value is empty in a fresh project: the first build stops and prints the file's sha256; compare it with "
             f"the digest on https://github.com/Tencent/ncnn/releases/tag/{V.NCNN}, put it in `gradle.properties` "
             "and build again. Offline, unzip the release into `app/src/main/cpp/third_party/` yourself.\n"),
}
_SEGMENT = re.compile(r"^[a-z][a-z0-9_]*$")


def generate(bundle_path: str | Path, options: dict) -> dict[str, bytes]:
    """Bundle + options (engine, package, name, precision) -> {relative path: bytes} of the project."""
    engine = (options.get("engine") or "litert").lower()
    if engine not in ENGINES:
        raise InputError(f"--engine {engine!r} is not an Android engine here; choose from {', '.join(ENGINES)}")
    with Bundle(bundle_path) as bundle:
        manifest = bundle.manifest
        if manifest.task not in TASKS:
            raise InputError(f"the bundle's task is '{manifest.task}'; the camera app runs {', '.join(TASKS)} bundles")
        entry = _artifact(manifest.artifacts, engine, options.get("precision"), bundle.path)
        raw_manifest, assets = _bundle_files(bundle, entry)
    model_name = manifest.name
    package = _package(options.get("package"), model_name)
    app_name = _app_name(options.get("name"), model_name)
    values = _values(engine, entry, package, app_name, model_name, manifest.task)

    files = render_tree(FILES / "common", values)
    overlay = FILES / engine
    for rel, data in render_tree(overlay, values).items():
        if not rel.startswith("snippets/"):
            files[rel] = data
    files["gradlew.bat"] = files["gradlew.bat"].replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")  # cmd wants CRLF
    for rel, data in cpp_source_files().items():
        files[f"{CPP_DIR}/{rel}"] = data
    files[f"{ASSET_DIR}/{MANIFEST}"] = raw_manifest
    for rel, data in assets.items():
        files[f"{ASSET_DIR}/{rel}"] = data
    return dict(sorted(files.items()))


def next_step(out_dir: str | Path) -> str:
    return (f"next: open {out_dir} in Android Studio (Otter 3 Feature Drop / Panda or newer) and run 'app' on a "
            f"device; or, with the Gradle wrapper jar created (see {out_dir}/README.md), "
            f"cd {out_dir} && ./gradlew installDebug")


def _artifact(artifacts: list[dict], engine: str, precision: str | None, path: Path) -> dict:
    mine = [a for a in artifacts if a["engine"] == engine]
    if precision:
        mine = [a for a in mine if a["precision"] == precision]
    if not mine:
        have = ", ".join(f"{a['engine']}-{a['precision']}" for a in artifacts) or "none"
        want = f"{engine}-{precision}" if precision else engine
        raise InputError(f"bundle '{path.name}' has no {want} artifact (it has {have}); add one with "
                         f"`edgepack pack MODEL.onnx --to {PACK_TARGET[engine]} ...` or choose --engine "
                         f"{'ncnn' if engine == 'litert' else 'litert'}")
    passed = [a for a in mine if (a.get("verification") or {}).get("passed", True)] or mine
    return min(passed, key=lambda a: PRECISION_ORDER.index(a["precision"]) if a["precision"] in PRECISION_ORDER
               else len(PRECISION_ORDER))


def _bundle_files(bundle: Bundle, entry: dict) -> tuple[bytes, dict[str, bytes]]:
    """manifest.json exactly as stored, and the artifact's files (each sha256-checked) by bundle path."""
    if bundle.path.is_dir():
        raw = (bundle.path / MANIFEST).read_bytes()
        read = lambda rel: (bundle.path / rel).read_bytes()  # noqa: E731
    else:
        zf = zipfile.ZipFile(bundle.path)
        raw = zf.read(MANIFEST)
        read = zf.read
    try:
        out = {}
        for rel, want in sorted(entry["sha256"].items()):
            check_relpath(rel)
            try:
                data = read(rel)
            except (KeyError, FileNotFoundError):
                raise BundleError(f"bundle '{bundle.path}': artifact file '{rel}' is missing; repack the "
                                  "bundle") from None
            got = hashlib.sha256(data).hexdigest()
            if got != want:
                raise BundleError(f"bundle '{bundle.path}': '{rel}' has sha256 {got}, the manifest says {want}; "
                                  "the bundle is corrupt, re-copy or repack it")
            out[rel] = data
    finally:
        if not bundle.path.is_dir():
            zf.close()
    return raw, out


def _package(package: str | None, model_name: str) -> str:
    if package is None:
        seg = re.sub(r"[^a-z0-9_]", "", model_name.lower().replace("-", "_")) or "app"
        if not seg[0].isalpha() or seg in _RESERVED:
            seg = "app_" + seg
        return f"com.example.{seg}"
    parts = package.split(".")
    bad = [p for p in parts if not _SEGMENT.match(p) or p in _RESERVED]
    if len(parts) < 2 or bad:
        why = f"segment '{bad[0]}' is not a lower-case identifier or is a reserved word" if bad else \
            "it needs at least two segments"
        raise InputError(f"--package {package!r} is not an Android application id ({why}); use e.g. "
                         "com.example.myapp")
    if package == "edgepack.runtime" or package.startswith("edgepack.runtime."):
        raise InputError("--package must not be edgepack.runtime (the library package inside the app); use e.g. "
                         "com.example.myapp")
    return package


def _app_name(name: str | None, model_name: str) -> str:
    text = name if name is not None else f"edgepack {model_name}"
    text = "".join(ch for ch in text if ch.isprintable()).strip()  # the bundle's text ends up in XML and Kotlin
    if not text:
        raise InputError("--name is empty; give the app name shown under its icon")
    return text[:50]


def _xml_string(s: str) -> str:
    """Android string-resource text: XML escapes plus the resource escapes for quotes, @ and ?."""
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    s = s.replace("\\", "\\\\").replace("'", "\\'").replace('"', '\\"')
    return "\\" + s if s[:1] in ("@", "?") else s


def _code_text(s: str) -> str:
    """Text safe inside a Kotlin string literal and a // comment (no quotes, backslashes, $ or newlines)."""
    return re.sub(r"[^A-Za-z0-9 ._+-]", "_", s)


def _values(engine: str, entry: dict, package: str, app_name: str, model_name: str, task: str) -> dict[str, str]:
    snippet = lambda name: (FILES / engine / "snippets" / name).read_text(encoding="utf-8")  # noqa: E731
    exts = {PurePosixPath(p).suffix.lstrip(".") for p in entry["sha256"]} - {""}
    no_compress = sorted(set(V.NO_COMPRESS) | exts)
    v = {
        "agp": V.AGP, "gradle": V.GRADLE, "compile_sdk": str(V.COMPILE_SDK), "target_sdk": str(V.TARGET_SDK),
        "min_sdk": str(V.MIN_SDK), "ndk": V.NDK, "cmake": V.CMAKE, "camerax": V.CAMERAX, "activity": V.ACTIVITY,
        "litert": V.LITERT, "ncnn_version": V.NCNN, "java": str(V.JAVA),
        "abi_filters": ", ".join(f'"{a}"' for a in V.ABIS),
        "no_compress": ", ".join(f'"{e}"' for e in no_compress),
        "package": package, "package_path": package.replace(".", "/"),
        "app_name_xml": _xml_string(app_name), "project_name": _code_text(app_name),
        "bundle_name": _code_text(model_name), "task": task, "engine": engine,
        "precision": entry["precision"], "artifact": f"{entry['engine']}-{entry['precision']}",
        "engine_readme": ENGINE_README[engine],
        "engine_properties": ("# sha256 of ncnn's release zip (see app/build.gradle.kts, task fetchNcnn)\n"
                              "edgepack.ncnn.sha256=\n" if engine == "ncnn" else ""),
    }
    for key, name in (("catalog_engine_versions", "catalog_versions.toml"),
                      ("catalog_engine_libraries", "catalog_libraries.toml"),
                      ("engine_dependencies", "dependencies.kts"), ("engine_gradle", "gradle.kts")):
        v[key] = substitute(snippet(name), v, f"{engine}/snippets/{name}")
    return v
