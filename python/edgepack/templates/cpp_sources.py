"""Where edgepack's C++ core sources are, for generated app projects that compile them (Android's CMake,
Xcode). One place decides: an installed wheel carries them as ``edgepack/cpp/``; a source checkout has the
repository's ``cpp/`` two levels above the package. The Python runtime's ``_core`` is built from the same tree,
so an app and ``edgepack.load`` run the same kernels."""

from __future__ import annotations

from pathlib import Path

from edgepack.errors import InputError

_MARKER = Path("include") / "edgepack" / "preprocess.h"
# what an app needs: the CMake entry point, the headers and the sources; not the pybind11 bindings
_APP_PARTS = ("CMakeLists.txt", "include", "src")


def cpp_source_dir() -> Path:
    """The directory holding edgepack's cpp/ tree (CMakeLists.txt, include/, src/)."""
    package = Path(__file__).resolve().parent.parent  # .../edgepack
    for candidate in (package / "cpp", package.parent.parent / "cpp"):
        if (candidate / _MARKER).is_file() and (candidate / "CMakeLists.txt").is_file():
            return candidate
    raise InputError(f"edgepack's C++ sources are not part of this installation (looked in {package / 'cpp'} and "
                     f"{package.parent.parent / 'cpp'}); install edgepack from a wheel that carries edgepack/cpp "
                     "or run from a source checkout")


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
