"""The standalone C++ post-processing test (tests/cpp/postprocess_test.cpp): on the host under
ASan + UBSan (every SIMD path here against ref, out-of-bounds access and UB fatal), and cross-compiled
for aarch64 and run under qemu so the NEON paths are checked against ref on this x86 machine."""

from __future__ import annotations

import importlib.util
import platform
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("build_kernel_test", ROOT / "tests/cpp/build_kernel_test.py")
build_kernel_test = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build_kernel_test)

CXX = shutil.which("g++") or shutil.which("c++")
CROSS_MISSING = [t for t in ("aarch64-linux-gnu-g++", "qemu-aarch64") if shutil.which(t) is None]
MAIN = "postprocess_test.cpp"


def run(cmd: list[str]) -> str:
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert " 0 failed" in out, out
    return out


@pytest.mark.skipif(CXX is None, reason="no host C++ compiler (g++/c++)")
def test_postprocess_test_under_asan_ubsan(tmp_path):
    probe = tmp_path / "probe.cpp"
    probe.write_text("int main() { return 0; }\n")
    ok = subprocess.run([CXX, *build_kernel_test.SANITIZE_FLAGS, str(probe), "-o", str(tmp_path / "probe")],
                        capture_output=True, check=False).returncode == 0
    if not ok or subprocess.run([str(tmp_path / "probe")], check=False).returncode != 0:
        pytest.skip(f"{CXX} cannot build and run -fsanitize=address,undefined programs here")
    exe = build_kernel_test.build(CXX, build_kernel_test.host_arch(), tmp_path / "pp", sanitize=True, main=MAIN)
    out = run([str(exe)])
    if "avx2" in out.splitlines()[0]:
        assert "checking avx2 against ref" in out


@pytest.mark.skipif(bool(CROSS_MISSING), reason=f"{', '.join(CROSS_MISSING)} not installed "
                    "(apt-get install g++-aarch64-linux-gnu qemu-user)")
@pytest.mark.skipif(platform.machine().lower() in ("aarch64", "arm64"),
                    reason="native aarch64: NEON is tested directly by test_postprocess.py")
def test_postprocess_neon_matches_ref_under_qemu(tmp_path):
    exe = build_kernel_test.build("aarch64-linux-gnu-g++", "aarch64", tmp_path / "pp", main=MAIN)
    out = run(["qemu-aarch64", "-L", "/usr/aarch64-linux-gnu", str(exe), "--require", "neon"])
    assert "available ISAs: ref neon" in out
    assert "checking neon against ref" in out
