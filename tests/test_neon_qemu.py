"""NEON kernels on an x86 machine: cross-compile ref + NEON + tests/cpp/kernel_test.cpp for aarch64
(tools/cross_neon.sh) and run it under qemu user-mode emulation. The test program checks NEON against
ref bit for bit (and ref against known values) and fails if NEON did not run.

Needs the Debian packages g++-aarch64-linux-gnu and qemu-user; skipped, with that reason, without them.
"""

from __future__ import annotations

import platform
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MISSING = [t for t in ("aarch64-linux-gnu-g++", "qemu-aarch64") if shutil.which(t) is None]


@pytest.mark.skipif(bool(MISSING), reason=f"{', '.join(MISSING)} not installed "
                    "(apt-get install g++-aarch64-linux-gnu qemu-user)")
@pytest.mark.skipif(platform.machine().lower() in ("aarch64", "arm64"),
                    reason="native aarch64: NEON is tested directly by test_kernels.py")
def test_neon_matches_ref_under_qemu(tmp_path):
    r = subprocess.run(["bash", str(ROOT / "tools/cross_neon.sh"), str(tmp_path)], capture_output=True, text=True,
                       timeout=600, check=False)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert "available ISAs: ref neon" in out
    assert "checking neon against ref" in out
    assert " 0 failed" in out, out
