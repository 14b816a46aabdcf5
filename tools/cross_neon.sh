#!/usr/bin/env bash
# Cross-compile the ref + NEON kernels and tests/cpp/kernel_test.cpp for aarch64, then run the test
# under qemu user-mode emulation. It checks NEON against ref bit for bit and fails if NEON did not run.
# Needs (Debian): apt-get install g++-aarch64-linux-gnu qemu-user
#
#   tools/cross_neon.sh [OUT_DIR]        (default build/cross-aarch64)
# Overrides: CXX_AARCH64, QEMU_AARCH64, AARCH64_SYSROOT, PYTHON.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$ROOT/build/cross-aarch64}
CXX=${CXX_AARCH64:-aarch64-linux-gnu-g++}
QEMU=${QEMU_AARCH64:-qemu-aarch64}
SYSROOT=${AARCH64_SYSROOT:-/usr/aarch64-linux-gnu}
PY=${PYTHON:-python3}

for tool in "$CXX" "$QEMU"; do
  command -v "$tool" >/dev/null || { echo "cross_neon.sh: $tool not found (apt-get install g++-aarch64-linux-gnu qemu-user)" >&2; exit 3; }
done
"$PY" "$ROOT/tests/cpp/build_kernel_test.py" --cxx "$CXX" --arch aarch64 --out "$OUT/kernel_test" >/dev/null
exec "$QEMU" -L "$SYSROOT" "$OUT/kernel_test" --require neon
