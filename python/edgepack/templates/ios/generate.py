"""Bundle -> Xcode project files: {relative path: bytes}, deterministic (same bundle and options, same bytes).

Layout of the project (docs/ios.md):
  <Target>.xcodeproj/project.pbxproj   written by pbxproj.py (objectVersion 56, IDs from paths)
  App/                                 SwiftUI app, camera, overlay, EdgepackModel Swift API, ObjC++ bridge
  Edgepack/                            edgepack's C++ core (kernels, app runner, one engine adapter) from cpp/
  Model/                               edgepack_model.cfg + the artifact's files (sha256 as in the bundle)
  ncnn:   scripts/fetch_ncnn.sh (download + sha256 check), scripts/check_ncnn.sh (build phase), Frameworks/
  litert: Podfile (TensorFlowLiteSwift, whose C core TensorFlowLiteC the bridge calls)"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path, PurePosixPath

from edgepack.errors import InputError
from edgepack.runtime.bundle.reader import Bundle
from edgepack.templates.app_config import app_config
from edgepack.templates.cpp_sources import app_sources
from edgepack.templates.ios.pbxproj import AppTarget, write_pbxproj
from edgepack.templates.render import render_tree

FILES = Path(__file__).parent / "files"
ENGINES = ("ncnn", "litert")
TASKS = ("classify", "detect", "segment")
PRECISION_ORDER = ("fp32", "fp16", "int8")  # fp32 first: the app then gives what `edgepack run` gives
DEPLOYMENT_TARGET = "17.0"  # AVCaptureDevice.RotationCoordinator, videoRotationAngle and @Observable
NCNN_VERSION = "20260113"  # the ncnn release the fetch script downloads (ncnn-<version>-apple.zip)
TFLITE_POD_VERSION = "2.17.0"
ENGINE_FILE = {"ncnn": "engine_ncnn.cpp", "litert": "engine_tflite.cpp"}
ENGINE_FACTORY = {"ncnn": "make_ncnn_engine", "litert": "make_tflite_engine"}
XCFRAMEWORKS = ("Frameworks/ncnn.xcframework", "Frameworks/openmp.xcframework")
CONFIG = "edgepack_model.cfg"
_BUNDLE_ID = re.compile(r"[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+")


def _target_name(display: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", display)
    name = "".join(w[:1].upper() + w[1:] for w in words)
    if not name or not name[0].isalpha():
        name = "Edgepack" + name
    return name[:64]


def _options(options: dict, manifest_name: str) -> dict:
    if options.get("package"):
        raise InputError("--package is for android; an iOS app takes --bundle-id (e.g. com.example.myapp)")
    engine = options.get("engine") or "ncnn"
    if engine not in ENGINES:
        raise InputError(f"unknown iOS engine '{engine}'; choose from {', '.join(ENGINES)}")
    display = (options.get("name") or manifest_name or "Edgepack App").strip()
    if not display or re.search(r"[\x00-\x1f\x7f\"\\]", display) or len(display) > 64:
        raise InputError("--name must be 1-64 printable characters without quotes or backslashes")
    target = _target_name(display)
    bundle_id = options.get("bundle_id") or f"com.example.{target.lower()}"
    if not _BUNDLE_ID.fullmatch(bundle_id):
        raise InputError(f"--bundle-id '{bundle_id[:80]}' is not a bundle identifier; use reverse-DNS letters, "
                         "digits, '-' and '.', e.g. com.example.myapp")
    return {"engine": engine, "display": display, "target": target, "bundle_id": bundle_id}


def _pick_precision(manifest, engine: str) -> str:
    have = [a["precision"] for a in manifest.artifacts if a["engine"] == engine]
    if not have:
        kinds = ", ".join(sorted({a["engine"] for a in manifest.artifacts}))
        hint = "ncnn" if engine == "ncnn" else "tflite"
        raise InputError(f"the bundle has no {engine} artifact (it has {kinds}); pack it with --to {hint} or pass "
                         f"--engine {'litert' if engine == 'ncnn' else 'ncnn'}")
    return sorted(have, key=lambda p: PRECISION_ORDER.index(p) if p in PRECISION_ORDER else 99)[0]


def _model_files(bundle: Bundle, engine: str, precision: str) -> tuple[dict, dict[str, str], dict[str, bytes]]:
    """The artifact entry, {role: shipped file name}, {file name: bytes} (each re-hashed against the bundle)."""
    entry = bundle.manifest.artifact_entry(engine, precision)
    art = bundle.artifact(engine, precision)  # extracts and sha256-checks every file
    names: dict[str, str] = {}
    data: dict[str, bytes] = {}
    for role, rel in sorted(entry["files"].items()):
        name = PurePosixPath(rel).name
        if name in data or name in (CONFIG, "manifest.json"):
            raise InputError(f"the bundle's {engine} artifact has two files named '{name}'; repack it")
        raw = Path(art.path(role)).read_bytes()
        if hashlib.sha256(raw).hexdigest() != entry["sha256"][rel]:
            raise InputError(f"'{rel}' changed while it was being copied; run the command again")
        names[role], data[name] = name, raw
    return entry, names, data


def _build_settings(o: dict) -> dict:
    s = {
        "PRODUCT_NAME": "$(TARGET_NAME)", "PRODUCT_BUNDLE_IDENTIFIER": o["bundle_id"], "MARKETING_VERSION": "1.0",
        "CURRENT_PROJECT_VERSION": "1", "GENERATE_INFOPLIST_FILE": "YES",
        "INFOPLIST_KEY_CFBundleDisplayName": o["display"],
        "INFOPLIST_KEY_NSCameraUsageDescription": "The camera feeds the on-device model; frames never leave the phone.",
        "INFOPLIST_KEY_UIApplicationSceneManifest_Generation": "YES", "INFOPLIST_KEY_UILaunchScreen_Generation": "YES",
        "INFOPLIST_KEY_UISupportedInterfaceOrientations": "UIInterfaceOrientationPortrait "
        "UIInterfaceOrientationLandscapeLeft UIInterfaceOrientationLandscapeRight",  # iPhone only (device family 1)
        "IPHONEOS_DEPLOYMENT_TARGET": DEPLOYMENT_TARGET, "SDKROOT": "iphoneos", "TARGETED_DEVICE_FAMILY": "1",
        "SWIFT_VERSION": "5.0", "SWIFT_OBJC_BRIDGING_HEADER": "App/Bridging-Header.h",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17", "CLANG_CXX_LIBRARY": "libc++",
        "HEADER_SEARCH_PATHS": ["$(inherited)", "$(PROJECT_DIR)/Edgepack/include"],
        # the kernels round exactly like their scalar spec only without FMA contraction (clang contracts by default)
        "OTHER_CPLUSPLUSFLAGS": ["$(OTHER_CFLAGS)", "-ffp-contract=off"],
        "GCC_OPTIMIZATION_LEVEL": "2",  # the C++ core runs optimized in Debug too (Swift stays -Onone there)
        "GCC_PREPROCESSOR_DEFINITIONS[arch=arm64]": ["$(inherited)", "EDGEPACK_WITH_NEON=1"],
        "EXCLUDED_SOURCE_FILE_NAMES[arch=x86_64]": "*_neon.cpp",  # Intel-Mac simulators have no NEON
        "CODE_SIGN_STYLE": "Automatic", "ENABLE_PREVIEWS": "YES",
        "LD_RUNPATH_SEARCH_PATHS": ["$(inherited)", "@executable_path/Frameworks"],
    }
    return s


def generate(bundle_path: str, options: dict) -> dict[str, bytes]:
    bundle = Bundle(bundle_path)
    try:
        m = bundle.manifest
        if m.task not in TASKS:
            raise InputError(f"the bundle's task is '{m.task}'; the iOS template runs {', '.join(TASKS)} bundles")
        o = _options(options, m.name)
        engine = o["engine"]
        precision = _pick_precision(m, engine)
        entry, names, model_data = _model_files(bundle, engine, precision)
        manifest_bytes = (json.dumps(m.doc, indent=1, sort_keys=True) + "\n").encode("utf-8")  # for reference
        config = app_config(m, entry, names)
    finally:
        bundle.close()
    values = {"target": o["target"], "display_name": o["display"], "bundle_id": o["bundle_id"], "engine": engine,
              "precision": precision, "task": m.task, "model_name": re.sub(r"[^A-Za-z0-9_.\- ]", "_", m.name),
              "deployment_target": DEPLOYMENT_TARGET, "ncnn_version": NCNN_VERSION,
              "tflite_pod_version": TFLITE_POD_VERSION, "engine_factory": ENGINE_FACTORY[engine],
              "config_name": CONFIG.rsplit(".", 1)[0]}
    files = render_tree(FILES / "common", values)
    files.update(render_tree(FILES / engine, values))
    for rel, data in app_sources(ENGINE_FILE[engine], simd="neon").items():
        files[f"Edgepack/{rel}"] = data
    files[f"Model/{CONFIG}"] = config.encode("utf-8")
    files["Model/manifest.json"] = manifest_bytes
    for name, data in model_data.items():
        files[f"Model/{name}"] = data
    project_files = sorted(p for p in files if not p.startswith((".", "README")) and "/." not in p)
    frameworks = list(XCFRAMEWORKS) if engine == "ncnn" else []
    scripts = [("Check ncnn frameworks", '/bin/sh "$PROJECT_DIR/scripts/check_ncnn.sh"\n')] if engine == "ncnn" else []
    target = AppTarget(name=o["target"], files=project_files + frameworks,
                       resources=sorted(p for p in files if p.startswith("Model/")), frameworks=frameworks,
                       build_settings=_build_settings(o), scripts=scripts)
    files[f"{o['target']}.xcodeproj/project.pbxproj"] = write_pbxproj(target).encode("utf-8")
    return dict(sorted(files.items()))


def next_step(out_dir: str) -> str:
    d = Path(out_dir)
    projects = sorted(d.glob("*.xcodeproj"))
    proj = projects[0].name if projects else "the .xcodeproj"
    if (d / "Podfile").is_file():
        ws = proj.replace(".xcodeproj", ".xcworkspace")
        return (f"next: cd {d} && pod install, then open {ws} in Xcode 15+, pick your team under Signing and run on "
                "an iPhone (see README.md there)")
    return (f"next: cd {d} && ./scripts/fetch_ncnn.sh (or place ncnn.xcframework + openmp.xcframework in "
            f"Frameworks/), then open {proj} in Xcode 15+, pick your team under Signing and run on an iPhone")
