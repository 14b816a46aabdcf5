"""Where edgepack's C++ core sources are, for generated app projects that compile them (Android's CMake,
Xcode). One place decides: an installed wheel carries them as ``edgepack/cpp/``; a source checkout has the
repository's ``cpp/`` two levels above the package. The Python runtime's ``_core`` is built from the same tree,
so an app and ``edgepack.load`` run the same kernels."""

from __future__ import annotations

import re
from pathlib import Path

from edgepack.cpp_sources import cpp_dir
from edgepack.errors import InputError

# what an app needs: the CMake entry point, the headers and the sources; not the pybind11 bindings
_APP_PARTS = ("CMakeLists.txt", "include", "src")


def cpp_source_dir() -> Path:
    """The directory holding edgepack's cpp/ tree (CMakeLists.txt, include/, src/): edgepack.cpp_sources decides."""
    return cpp_dir()


def cpp_source_files() -> dict[str, bytes]:
    """{path relative to cpp/: content} of the files an app compiles, in sorted order."""
    root = cpp_source_dir()
    files: dict[str, bytes] = {}
    for part in _APP_PARTS:
        p = root / part
        paths = [p] if p.is_file() else sorted(q for q in p.rglob("*") if q.is_file())
        for q in paths:
            rel = q.relative_to(root).as_posix()
            if "__pycache__" in rel or rel.endswith((".pyc", ".orig", ".rej", "~")):
                continue
            files[rel] = q.read_bytes()
    return dict(sorted(files.items()))


_INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
SIMD_VARIANTS = ("neon", "avx2")  # ISA variant files: src/kernels/<k>/<k>_<isa>.cpp


def app_sources(engine_file: str, simd: str | None = "neon") -> dict[str, bytes]:
    """{path relative to cpp/: content} for an app that compiles its C++ file by file (Xcode): the CPU core,
    every kernel's dispatch and scalar reference plus the `simd` variant (None: scalar only), the app runner
    (src/app/config.cpp, runner.cpp) and the engine adapter src/app/<engine_file>; headers are the
    transitive closure of what those files include."""
    root = cpp_source_dir()
    picked: list[Path] = [root / "src" / "cpu.cpp"]
    for f in sorted((root / "src" / "kernels").glob("*/*.cpp")):
        isa = next((i for i in SIMD_VARIANTS if f.stem.endswith("_" + i)), None)
        if isa is None or isa == simd:
            picked.append(f)
    app = root / "src" / "app"
    picked += [app / "config.cpp", app / "runner.cpp", app / engine_file]
    missing = [p for p in picked if not p.is_file()]
    if missing:
        raise InputError(f"edgepack's C++ tree ({root}) lacks {missing[0].relative_to(root).as_posix()}; reinstall "
                         "edgepack (the app runner lives in cpp/src/app)")
    files: dict[str, bytes] = {}
    todo = list(picked)
    while todo:
        f = todo.pop()
        rel = f.relative_to(root).as_posix()
        if rel in files:
            continue
        data = f.read_bytes()
        files[rel] = data
        for inc in _INCLUDE.findall(data.decode("utf-8")):
            for base in (f.parent, root / "include"):
                if (base / inc).is_file():
                    todo.append((base / inc).resolve())
                    break
    return dict(sorted(files.items()))
