"""Vulkan kernels vs the CPU paths, in one process: P1's preprocess (1080p NV21 -> 640x640 letterbox,
float32 CHW, mean/std) with interp auto (area) and bilinear, and normalize of a 1080p RGB image.

    python tools/bench/bench_vulkan.py [--repeat 10]

Each number is the best of --repeat runs, including the upload and readback a call makes (host-visible
buffers, one copy each way). Ratios are CPU time / Vulkan time (> 1: Vulkan faster). On Mesa's
software device (lavapipe, the "cpu" device type) this measures the Vulkan path's overhead, not a GPU.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from bench_kernels import best_ms  # same folder
from p1_preprocess import MEAN, OUT, STD, make_frame

try:
    from edgepack import kernels
except ImportError:  # running from a source checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))
    from edgepack import kernels


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=10)
    args = ap.parse_args()
    info = kernels.vulkan_info()
    if not info["available"]:
        print(f"no Vulkan device: {info['note']}")
        return 1
    dev = next(d for d in kernels.vulkan_devices() if d["selected"])
    isa = kernels.available_isas()[-1]
    print(f"Vulkan device: {dev['name']} ({dev['type']}); CPU path: {isa}, 1 thread")
    frame = make_frame()
    out = np.empty((3, OUT, OUT), np.float32)
    for interp in ("auto", "bilinear"):
        def run(interp: str = interp, **where: str) -> object:
            return kernels.preprocess(frame, format="nv21", out_size=(OUT, OUT), mode="letterbox", mean=MEAN,
                                      std=STD, interp=interp, out=out, **where)
        cpu = best_ms(lambda: run(isa=isa), args.repeat)
        gpu = best_ms(lambda: run(device="vulkan"), args.repeat)
        print(f"  preprocess P1 interp={interp:8}: cpu {cpu:8.2f} ms  vulkan {gpu:8.2f} ms  ratio x{cpu / gpu:5.2f}")
    img = np.random.default_rng(0).integers(0, 256, (1080, 1920, 3), dtype=np.uint8)
    nout = np.empty((3, 1080, 1920), np.float32)
    cpu = best_ms(lambda: kernels.normalize(img, MEAN, STD, out=nout, isa=isa), args.repeat)
    gpu = best_ms(lambda: kernels.normalize(img, MEAN, STD, out=nout, device="vulkan"), args.repeat)
    print(f"  normalize 1080p RGB          : cpu {cpu:8.2f} ms  vulkan {gpu:8.2f} ms  ratio x{cpu / gpu:5.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
