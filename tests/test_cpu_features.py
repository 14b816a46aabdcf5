"""CPU feature detection of the C++ core (cpp/src/cpu.cpp), as `edgepack doctor` reports it.

AArch64: cpu.cpp and tests/cpp/cpu_features_test.cpp cross-compiled and run under qemu with CPU models whose
features are known (Pi 3/4 cores have none of the v8.2 extensions; a76 adds fp16 + dotprod; a64fx has SVE
without dotprod; qemu's max has everything). Needs g++-aarch64-linux-gnu and qemu-user (skipped without).
x86-64: the core's view must match the kernel's /proc/cpuinfo flags."""

from __future__ import annotations

import platform
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MISSING = [t for t in ("aarch64-linux-gnu-g++", "qemu-aarch64") if shutil.which(t) is None]

ARM_MODELS = {  # qemu -cpu model -> expected (neon, asimdhp, asimddp, i8mm, sve)
    "cortex-a53": (1, 0, 0, 0, 0),   # Pi 3, Zero 2
    "cortex-a72": (1, 0, 0, 0, 0),   # Pi 4
    "cortex-a76": (1, 1, 1, 0, 0),   # Pi 5, Jetson Orin class
    "a64fx": (1, 1, 0, 0, 1),
    "max": (1, 1, 1, 1, 1),
}


def _parse(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.split())


@pytest.fixture(scope="module")
def aarch64_program(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cpu") / "cpu_features_test"
    sources = [str(ROOT / "cpp/src/cpu.cpp"), str(ROOT / "tests/cpp/cpu_features_test.cpp")]
    subprocess.run(["aarch64-linux-gnu-g++", "-std=c++17", "-O2", "-Wall", "-Wextra", f"-I{ROOT / 'cpp/include'}",
                    "-DEDGEPACK_WITH_NEON=1", *sources, "-o", str(out)], check=True, capture_output=True, timeout=300)
    return out


@pytest.mark.skipif(bool(MISSING), reason=f"{', '.join(MISSING)} not installed "
                    "(apt-get install g++-aarch64-linux-gnu qemu-user)")
@pytest.mark.parametrize("model", sorted(ARM_MODELS))
def test_arm_features_from_hwcap_under_qemu(aarch64_program, model):
    r = subprocess.run(["qemu-aarch64", "-cpu", model, "-L", "/usr/aarch64-linux-gnu", str(aarch64_program)],
                       capture_output=True, text=True, timeout=120, check=True)
    got = _parse(r.stdout)
    names = ("neon", "asimdhp", "asimddp", "i8mm", "sve")
    assert tuple(int(got[n]) for n in names) == ARM_MODELS[model], r.stdout
    assert got["active"] == "neon" and got["avx2"] == got["avx512f"] == "0"


@pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64"), reason="x86-64 host only")
def test_x86_features_match_proc_cpuinfo():
    from edgepack import _core

    flags = set()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("flags"):
            flags = set(line.split(":", 1)[1].split())
            break
    f = _core.cpu_features()
    for name, flag in (("avx2", "avx2"), ("f16c", "f16c"), ("fma", "fma"), ("avx512f", "avx512f")):
        assert f[name] == (flag in flags), name
    assert not any(f[n] for n in ("neon", "asimdhp", "asimddp", "i8mm", "sve"))
