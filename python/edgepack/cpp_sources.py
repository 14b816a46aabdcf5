"""Where the C++ core's sources are: `edgepack/cpp/` inside an installed wheel (CMakeLists.txt installs them
there), or the repository's `cpp/` in a source checkout or editable install. The app templates and cross
builds compile the core from this folder (`add_subdirectory(<cpp_dir>)` builds the `edgepack_core` target)."""

from __future__ import annotations

from pathlib import Path

from edgepack.errors import InputError


def cpp_dir() -> Path:
    """The folder holding the core's CMakeLists.txt, include/ and src/."""
    here = Path(__file__).resolve().parent
    for cand in (here / "cpp", here.parent.parent / "cpp"):
        if (cand / "CMakeLists.txt").is_file() and (cand / "include" / "edgepack").is_dir():
            return cand
    raise InputError(f"the C++ sources of edgepack are not installed beside {here}; reinstall edgepack from its "
                     f"wheel or a source checkout")
