"""edgepack.cpp_sources.cpp_dir finds the core's sources (the repository's cpp/ here; edgepack/cpp/ in a wheel,
checked by tests/test_board_emulated.py on the built wheel)."""

from __future__ import annotations

from edgepack.cpp_sources import cpp_dir


def test_cpp_dir_has_the_core_sources():
    d = cpp_dir()
    assert (d / "CMakeLists.txt").read_text().count("edgepack_core") >= 1
    assert (d / "src" / "cpu.cpp").is_file() and (d / "include" / "edgepack" / "cpu.h").is_file()
