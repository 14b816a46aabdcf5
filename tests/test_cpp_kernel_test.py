"""The standalone C++ kernel test (tests/cpp/kernel_test.cpp) on the host, built with ASan + UBSan:
every SIMD path here against ref, with out-of-bounds reads/writes and undefined behaviour fatal."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("build_kernel_test", ROOT / "tests/cpp/build_kernel_test.py")
build_kernel_test = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build_kernel_test)

CXX = shutil.which("g++") or shutil.which("c++")


def sanitizers_work(tmp: Path) -> bool:
    src = tmp / "probe.cpp"
    src.write_text("int main() { return 0; }\n")
    r = subprocess.run([CXX, *build_kernel_test.SANITIZE_FLAGS, str(src), "-o", str(tmp / "probe")],
                       capture_output=True, check=False)
    return r.returncode == 0 and subprocess.run([str(tmp / "probe")], check=False).returncode == 0


@pytest.mark.skipif(CXX is None, reason="no host C++ compiler (g++/c++)")
def test_kernel_test_under_asan_ubsan(tmp_path):
    if not sanitizers_work(tmp_path):
        pytest.skip(f"{CXX} cannot build and run -fsanitize=address,undefined programs here")
    exe = build_kernel_test.build(CXX, build_kernel_test.host_arch(), tmp_path / "kernel_test", sanitize=True)
    r = subprocess.run([str(exe)], capture_output=True, text=True, timeout=600, check=False)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert " 0 failed" in out, out
