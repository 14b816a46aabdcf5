"""Benchmark the C++ kernels: every available ISA vs ref vs numpy, in one process, as ratios.

    python tools/bench/bench_kernels.py [--repeat 15] [--height 1080 --width 1920]

Timings on shared machines are noisy; each number is the best of --repeat runs and the ratios
(speed-up over ref and over numpy) are what to compare. Not used by any test.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

try:
    from edgepack import kernels
except ImportError:  # running from a source checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))
    from edgepack import kernels

MEAN = [123.675, 116.28, 103.53]
STD = [58.395, 57.12, 57.375]


def best_ms(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm up: page-fault the output, load code
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best * 1e3


def report(title: str, nbytes_in: int, results: dict[str, float]) -> None:
    print(f"\n{title}")
    ref, base = results["ref"], results["numpy"]
    for name, ms in results.items():
        gbs = nbytes_in / ms / 1e6
        print(f"  {name:>6}: {ms:8.2f} ms  {gbs:6.2f} GB/s in   x{ref / ms:5.2f} vs ref   x{base / ms:5.2f} vs numpy")


def bench_normalize(h: int, w: int, repeat: int) -> None:
    img = np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8)
    out = np.empty((3, h, w), np.float32)
    m = np.asarray(MEAN, np.float32).reshape(3, 1, 1)
    s = (np.float32(1) / np.asarray(STD, np.float32)).reshape(3, 1, 1)
    tmp = np.empty((3, h, w), np.float32)

    def numpy_normalize() -> None:  # the same float32 spec, written as fast as plain numpy allows
        np.copyto(tmp, img.transpose(2, 0, 1), casting="unsafe")
        np.subtract(tmp, m, out=out)
        np.multiply(out, s, out=out)

    results = {isa: best_ms(lambda isa=isa: kernels.normalize(img, MEAN, STD, out=out, isa=isa), repeat)
               for isa in kernels.available_isas()}
    results["numpy"] = best_ms(numpy_normalize, repeat)
    report(f"normalize {h}x{w} RGB uint8 HWC -> float32 CHW", img.nbytes, results)


def bench_fp16(n: int, repeat: int) -> None:
    x = np.random.default_rng(1).standard_normal(n).astype(np.float32)
    h = x.astype(np.float16)
    out16 = np.empty(n, np.float16)
    out32 = np.empty(n, np.float32)
    to16 = {isa: best_ms(lambda isa=isa: kernels.fp32_to_fp16(x, out=out16, isa=isa), repeat)
            for isa in kernels.available_isas()}
    to16["numpy"] = best_ms(lambda: np.copyto(out16, x, casting="same_kind"), repeat)
    report(f"fp32 -> fp16, {n} values", x.nbytes, to16)
    to32 = {isa: best_ms(lambda isa=isa: kernels.fp16_to_fp32(h, out=out32, isa=isa), repeat)
            for isa in kernels.available_isas()}
    to32["numpy"] = best_ms(lambda: np.copyto(out32, h), repeat)
    report(f"fp16 -> fp32, {n} values", h.nbytes, to32)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--height", type=int, default=1080)
    ap.add_argument("--width", type=int, default=1920)
    args = ap.parse_args()
    info = kernels.isa_info()
    print(f"edgepack kernels: active={info['active']} available={info['available']} numpy={np.__version__}")
    bench_normalize(args.height, args.width, args.repeat)
    bench_fp16(3 * args.height * args.width, args.repeat)


if __name__ == "__main__":
    main()
