"""Build tests/cpp/kernel_test.cpp with the kernels for one target, without CMake.

Used by tools/cross_neon.sh (aarch64 under qemu) and by the sanitizer test. It follows the same file
rules as cpp/CMakeLists.txt: cpu.cpp, every kernels/<k>/<k>.cpp and <k>_ref.cpp, plus <k>_avx2.cpp
(with -mavx2 -mf16c -mfma on that file only) for x86_64 or <k>_neon.cpp for aarch64.

    python3 tests/cpp/build_kernel_test.py --cxx aarch64-linux-gnu-g++ --arch aarch64 --out build/x/kernel_test
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SIMD = {"x86_64": ("avx2", ["-mavx2", "-mf16c", "-mfma"]), "aarch64": ("neon", [])}
BASE_FLAGS = ["-std=c++17", "-Wall", "-Wextra", "-ffp-contract=off"]
SANITIZE_FLAGS = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer", "-g"]


def host_arch() -> str:
    m = platform.machine().lower()
    return {"amd64": "x86_64", "arm64": "aarch64"}.get(m, m)


def sources(arch: str, main: str = "kernel_test.cpp") -> list[tuple[Path, list[str]]]:
    """(source, extra flags) for the kernels of `arch` plus the test program tests/cpp/`main` and its parts."""
    out: list[tuple[Path, list[str]]] = [(ROOT / "cpp/src/cpu.cpp", [])]
    isa, isa_flags = SIMD.get(arch, ("", []))
    for src in sorted((ROOT / "cpp/src/kernels").glob("*/*.cpp")):
        variant = src.stem.rsplit("_", 1)[-1] if "_" in src.stem else ""
        if variant in ("avx2", "neon"):
            if variant == isa:
                out.append((src, isa_flags))
        else:
            out.append((src, []))
    # `main` + its parts; other programs with their own main() (e.g. vulkan_test.cpp) are built on their own
    parts = [src for src in sorted((ROOT / "tests/cpp").glob("*.cpp"))
             if src.name == main or "int main(" not in src.read_text()]
    out += [(src, []) for src in parts]
    return out


def build(cxx: str, arch: str, out: Path, sanitize: bool = False, jobs: int = 2,
          main: str = "kernel_test.cpp") -> Path:
    """Compiles and links the kernel test into `out`; raises CalledProcessError with the compiler output."""
    out.parent.mkdir(parents=True, exist_ok=True)
    objdir = out.parent / (out.name + ".obj")
    objdir.mkdir(exist_ok=True)
    isa = SIMD.get(arch, ("", []))[0]
    common = BASE_FLAGS + (["-O1"] + SANITIZE_FLAGS if sanitize else ["-O2"])
    common += [f"-I{ROOT / 'cpp/include'}"] + ([f"-DEDGEPACK_WITH_{isa.upper()}=1"] if isa else [])

    def compile_one(item: tuple[Path, list[str]]) -> Path:
        src, extra = item
        obj = objdir / (src.parent.name + "_" + src.stem + ".o")
        cmd = [cxx, *common, *extra, "-c", str(src), "-o", str(obj)]
        subprocess.run(cmd, check=True, capture_output=True, text=True)
        return obj

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        objs = list(pool.map(compile_one, sources(arch, main)))
    link = [cxx, *(SANITIZE_FLAGS if sanitize else []), *map(str, objs), "-o", str(out)]
    subprocess.run(link, check=True, capture_output=True, text=True)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cxx", default="g++")
    ap.add_argument("--arch", default=host_arch(), choices=["x86_64", "aarch64", "other"])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--sanitize", action="store_true", help="ASan + UBSan build")
    ap.add_argument("--main", default="kernel_test.cpp", help="test program in tests/cpp (default kernel_test.cpp)")
    args = ap.parse_args()
    try:
        build(args.cxx, args.arch, args.out, sanitize=args.sanitize, main=args.main)
    except subprocess.CalledProcessError as e:
        print(" ".join(e.cmd), file=sys.stderr)
        print(e.stdout, e.stderr, sep="\n", file=sys.stderr)
        return 1
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
