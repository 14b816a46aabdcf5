"""project.pbxproj, written by edgepack: an Xcode project for one iOS app target, deterministic.

Choices (docs/ios.md):
- objectVersion 56 ("Xcode 14.0" compatibility): opens in Xcode 14 and every later Xcode. Every file is
  listed explicitly (no Xcode 16 buildable folders, objectVersion 77), so the project opens in older Xcodes
  too and tests can check that each file exists and is in the right build phase.
- Object IDs are 24 hex digits of sha1 of a stable key (the file path, the phase name ...), so the same
  input gives the same project byte for byte.
The writer emits the OpenStep plist dialect Xcode writes: sections by isa, objects sorted by ID."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

OBJECT_VERSION = 56
COMPATIBILITY = "Xcode 14.0"
_BARE = re.compile(r"[A-Za-z0-9_$/.]+")

# file extension -> (lastKnownFileType, build phase or None)
FILE_TYPES = {
    ".swift": ("sourcecode.swift", "sources"),
    ".mm": ("sourcecode.cpp.objcpp", "sources"),
    ".cpp": ("sourcecode.cpp.cpp", "sources"),
    ".h": ("sourcecode.c.h", None),
    ".xcframework": ("wrapper.xcframework", "frameworks"),
    ".sh": ("text.script.sh", None),
    ".md": ("net.daringfireball.markdown", None),
    ".json": ("text.json", "resources"),
    ".txt": ("text", "resources"),
    ".cfg": ("text", "resources"),
    ".tflite": ("file", "resources"),
    ".param": ("text", "resources"),
    ".bin": ("archive.macbinary", "resources"),
}


def object_id(key: str) -> str:
    return hashlib.sha1(f"edgepack-pbxproj:{key}".encode()).hexdigest()[:24].upper()


def quote(s: str) -> str:
    if _BARE.fullmatch(s) and not s.startswith("//"):
        return s
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t") + '"'


def _key_order(k: str) -> tuple[bool, str]:
    return k != "isa", k  # isa first, as Xcode writes it


def _value(v, indent: int) -> str:
    pad = "\t" * indent
    if isinstance(v, Mapping):
        inner = "".join(f"{pad}\t{quote(k)} = {_value(v[k], indent + 1)};\n" for k in sorted(v, key=_key_order))
        return "{\n" + inner + pad + "}"
    if isinstance(v, (list, tuple)):
        inner = "".join(f"{pad}\t{_value(x, indent + 1)},\n" for x in v)
        return "(\n" + inner + pad + ")"
    return quote(str(v))


def file_type(path: str) -> tuple[str, str | None]:
    p = PurePosixPath(path)
    if p.suffix == ".bin" or p.name.endswith(".ncnn.bin"):
        return "file", "resources"
    return FILE_TYPES.get(p.suffix, ("file", None))


@dataclass
class AppTarget:
    name: str                      # target and product name (an identifier)
    files: Sequence[str]           # every project file, relative POSIX paths (groups follow directories)
    resources: Sequence[str]       # files copied into the app bundle
    frameworks: Sequence[str] = ()  # xcframeworks linked (static: not embedded)
    build_settings: Mapping[str, object] = field(default_factory=dict)  # target settings, both configurations
    scripts: Sequence[tuple[str, str]] = ()  # (phase name, shell script) run before compiling


def _project_settings(debug: bool) -> dict:
    s = {
        "ALWAYS_SEARCH_USER_PATHS": "NO", "CLANG_ANALYZER_NONNULL": "YES", "CLANG_ENABLE_MODULES": "YES",
        "CLANG_ENABLE_OBJC_ARC": "YES", "CLANG_WARN_DOCUMENTATION_COMMENTS": "YES", "COPY_PHASE_STRIP": "NO",
        "ENABLE_STRICT_OBJC_MSGSEND": "YES", "ENABLE_USER_SCRIPT_SANDBOXING": "NO", "GCC_C_LANGUAGE_STANDARD": "gnu17",
        "GCC_NO_COMMON_BLOCKS": "YES", "IPHONEOS_DEPLOYMENT_TARGET": "17.0", "SDKROOT": "iphoneos",
        "MTL_FAST_MATH": "YES",
    }
    if debug:
        s.update({"DEBUG_INFORMATION_FORMAT": "dwarf", "ENABLE_TESTABILITY": "YES", "GCC_OPTIMIZATION_LEVEL": "0",
                  "GCC_PREPROCESSOR_DEFINITIONS": ["DEBUG=1", "$(inherited)"], "ONLY_ACTIVE_ARCH": "YES",
                  "SWIFT_ACTIVE_COMPILATION_CONDITIONS": "DEBUG $(inherited)", "SWIFT_OPTIMIZATION_LEVEL": "-Onone"})
    else:
        s.update({"DEBUG_INFORMATION_FORMAT": "dwarf-with-dsym", "ENABLE_NS_ASSERTIONS": "NO",
                  "SWIFT_COMPILATION_MODE": "wholemodule", "VALIDATE_PRODUCT": "YES"})
    return s


def write_pbxproj(t: AppTarget) -> str:
    objs: dict[str, dict] = {}
    ref = {p: object_id(f"file:{p}") for p in t.files}
    # groups: one per directory, children sorted (groups first, then files)
    children: dict[str, set[str]] = {"": set()}
    for p in t.files:
        parts = PurePosixPath(p).parts
        for i in range(len(parts)):
            parent, node = "/".join(parts[:i]), "/".join(parts[: i + 1])
            children.setdefault(parent, set()).add(node)
            if i < len(parts) - 1:
                children.setdefault(node, set())
    product = object_id("product")
    for g, kids in children.items():
        dirs = sorted(k for k in kids if k in children and k not in ref)
        leaves = sorted(k for k in kids if k in ref)
        ids = [object_id(f"group:{k}") for k in dirs] + [ref[k] for k in leaves]
        if g == "":
            ids.append(object_id("group:Products"))
            objs[object_id("group:")] = {"isa": "PBXGroup", "children": ids, "sourceTree": "<group>"}
        else:
            objs[object_id(f"group:{g}")] = {"isa": "PBXGroup", "children": ids, "path": PurePosixPath(g).name,
                                             "sourceTree": "<group>"}
    objs[object_id("group:Products")] = {"isa": "PBXGroup", "children": [product], "name": "Products",
                                         "sourceTree": "<group>"}
    for p in t.files:
        kind, _ = file_type(p)
        objs[ref[p]] = {"isa": "PBXFileReference", "lastKnownFileType": kind, "path": PurePosixPath(p).name,
                        "sourceTree": "<group>"}
    objs[product] = {"isa": "PBXFileReference", "explicitFileType": "wrapper.application", "includeInIndex": "0",
                     "path": f"{t.name}.app", "sourceTree": "BUILT_PRODUCTS_DIR"}

    def phase(name: str, isa: str, paths: Sequence[str]) -> str:
        files = []
        for p in sorted(paths):
            bid = object_id(f"build:{name}:{p}")
            objs[bid] = {"isa": "PBXBuildFile", "fileRef": ref[p]}
            files.append(bid)
        pid = object_id(f"phase:{name}")
        objs[pid] = {"isa": isa, "buildActionMask": "2147483647", "files": files,
                     "runOnlyForDeploymentPostprocessing": "0"}
        return pid

    phases = []
    for name, script in t.scripts:
        pid = object_id(f"phase:script:{name}")
        objs[pid] = {"isa": "PBXShellScriptBuildPhase", "alwaysOutOfDate": "1", "buildActionMask": "2147483647",
                     "files": [], "inputPaths": [], "name": name, "outputPaths": [],
                     "runOnlyForDeploymentPostprocessing": "0", "shellPath": "/bin/sh", "shellScript": script}
        phases.append(pid)
    sources = [p for p in t.files if file_type(p)[1] == "sources"]
    phases.append(phase("sources", "PBXSourcesBuildPhase", sources))
    phases.append(phase("frameworks", "PBXFrameworksBuildPhase", list(t.frameworks)))
    phases.append(phase("resources", "PBXResourcesBuildPhase", list(t.resources)))

    def config_list(owner: str, settings: dict[str, dict]) -> str:
        ids = []
        for cfg in ("Debug", "Release"):
            cid = object_id(f"config:{owner}:{cfg}")
            objs[cid] = {"isa": "XCBuildConfiguration", "buildSettings": settings[cfg], "name": cfg}
            ids.append(cid)
        lid = object_id(f"configlist:{owner}")
        objs[lid] = {"isa": "XCConfigurationList", "buildConfigurations": ids, "defaultConfigurationIsVisible": "0",
                     "defaultConfigurationName": "Release"}
        return lid

    target = object_id("target")
    objs[target] = {"isa": "PBXNativeTarget", "buildConfigurationList": config_list(
        "target", {c: dict(t.build_settings) for c in ("Debug", "Release")}),
        "buildPhases": phases, "buildRules": [], "dependencies": [], "name": t.name, "productName": t.name,
        "productReference": product, "productType": "com.apple.product-type.application"}
    root = object_id("project")
    objs[root] = {"isa": "PBXProject", "attributes": {
        "BuildIndependentTargetsInParallel": "1", "LastSwiftUpdateCheck": "1500", "LastUpgradeCheck": "1500",
        "TargetAttributes": {target: {"CreatedOnToolsVersion": "15.0"}}},
        "buildConfigurationList": config_list("project", {"Debug": _project_settings(True),
                                                          "Release": _project_settings(False)}),
        "compatibilityVersion": COMPATIBILITY, "developmentRegion": "en", "hasScannedForEncodings": "0",
        "knownRegions": ["en", "Base"], "mainGroup": object_id("group:"),
        "productRefGroup": object_id("group:Products"),
        "projectDirPath": "", "projectRoot": "", "targets": [target]}

    out = ["// !$*UTF8*$!", "{", "\tarchiveVersion = 1;", "\tclasses = {", "\t};",
           f"\tobjectVersion = {OBJECT_VERSION};", "\tobjects = {"]
    for isa in sorted({o["isa"] for o in objs.values()}):
        out.append(f"\n/* Begin {isa} section */")
        for oid in sorted(k for k, o in objs.items() if o["isa"] == isa):
            out.append(f"\t\t{oid} = {_value(objs[oid], 2)};")
        out.append(f"/* End {isa} section */")
    out += ["\t};", f"\trootObject = {root};", "}", ""]
    return "\n".join(out)
