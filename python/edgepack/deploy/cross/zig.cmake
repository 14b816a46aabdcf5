# CMake toolchain for cross builds with zig (PyPI `ziglang`), used by tools/build_wheels.py.
#
# The environment names the target, so one file serves every architecture:
#   EDGEPACK_ZIG             the zig binary
#   EDGEPACK_ZIG_TARGET      zig target triple with the glibc floor, e.g. aarch64-linux-gnu.2.17
#   EDGEPACK_CROSS_PROCESSOR CMAKE_SYSTEM_PROCESSOR (aarch64, armv7l, x86_64)
#   EDGEPACK_CROSS_FLAGS     ISA baseline flags, e.g. "-march=armv8-a -mno-outline-atomics"
#   EDGEPACK_PY_INCLUDE      the target Python's include directory (Python.h, pyconfig.h)
# zig links libc++ statically and its libc stubs have the requested glibc version, so the module needs
# nothing but libc/libm/libpthread/libdl of that version.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR "$ENV{EDGEPACK_CROSS_PROCESSOR}")

set(CMAKE_C_COMPILER "${CMAKE_CURRENT_LIST_DIR}/zig-cc")
set(CMAKE_CXX_COMPILER "${CMAKE_CURRENT_LIST_DIR}/zig-c++")
set(CMAKE_AR "${CMAKE_CURRENT_LIST_DIR}/zig-ar" CACHE FILEPATH "" FORCE)
set(CMAKE_RANLIB "${CMAKE_CURRENT_LIST_DIR}/zig-ranlib" CACHE FILEPATH "" FORCE)
set(CMAKE_STRIP "${CMAKE_CURRENT_LIST_DIR}/zig-strip" CACHE FILEPATH "" FORCE)
set(CMAKE_C_FLAGS_INIT "$ENV{EDGEPACK_CROSS_FLAGS}")
set(CMAKE_CXX_FLAGS_INIT "$ENV{EDGEPACK_CROSS_FLAGS}")
# strip at link time: the host's binutils strip does not know the target's ELF, zig's objcopy cannot strip
set(CMAKE_MODULE_LINKER_FLAGS_INIT "-s")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-s")

# Headers and libraries come from zig and the target Python only: the host's /usr/include (its glibc, its
# Vulkan headers) must never reach a cross compile. Programs (glslangValidator) and CMake packages that are
# architecture-independent (pybind11's config) still come from the host.
set(CMAKE_FIND_ROOT_PATH "${CMAKE_CURRENT_LIST_DIR}/no-sysroot")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)

# Python: the target's headers; the extension suffix comes from SKBUILD_SOABI (SETUPTOOLS_EXT_SUFFIX).
set(Python_INCLUDE_DIR "$ENV{EDGEPACK_PY_INCLUDE}" CACHE PATH "" FORCE)
set(PYBIND11_USE_CROSSCOMPILING ON CACHE BOOL "" FORCE)

# No LTO: pybind11 would probe -flto, and every LTO link makes zig build (and cache) a second libc++.
set(CMAKE_INTERPROCEDURAL_OPTIMIZATION OFF)
