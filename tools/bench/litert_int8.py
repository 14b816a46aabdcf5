"""LiteRT int8 vs LiteRT fp32 (both written by edgepack) on the zoo models, in one process run.

    python tools/bench/litert_int8.py [--models resnet_bn,inverted_residual] [--threads 1] [--repeat 50]

Converts each model to tflite fp32 + int8 (calibrated on seeded normal tensors, gate cosine>=0.99), then
times both through edgepack's LiteRT engine (XNNPACK, the Interpreter's default) alternately, best of
--repeat after warm-up, and prints fp32 ms, int8 ms, the ratio and the int8 cosine vs ONNX Runtime.
"""

from __future__ import annotations

import argparse
import functools
import sys
import tempfile
from pathlib import Path

import numpy as np
from bench_kernels import best_ms  # same folder: best-of-N timing shared by the benchmarks

try:
    import edgepack
except ImportError:  # running from a source checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))
    import edgepack

ZOO = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "zoo"



def main() -> None:
    import onnx

    from edgepack.quantize import QuantizeOptions
    from edgepack.runtime.engines import get_engine

    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="resnet_bn,inverted_residual,se_hardswish")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=50)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="edgepack-bench-") as tmp:
        for name in a.models.split(","):
            src = ZOO / f"{name}.onnx"
            (inp,) = onnx.load(str(src), load_external_data=False).graph.input
            shape = [d.dim_value for d in inp.type.tensor_type.shape.dim]
            rng = np.random.default_rng(0)
            calib = Path(tmp) / f"{name}.npz"
            np.savez(calib, **{inp.name: rng.standard_normal([48, *shape]).astype(np.float32)})
            res = edgepack.convert(src, to="tflite", precision="fp32,int8", out_dir=Path(tmp) / name,
                                   quant=QuantizeOptions(calib=calib, gate="cosine>=0.99"))
            feeds = {inp.name: rng.standard_normal(shape).astype(np.float32)}
            cls = get_engine("litert")
            engs = {p: cls.load(res.artifact("litert", p), threads=a.threads) for p in ("fp32", "int8")}
            ms = {p: [] for p in engs}
            for _ in range(3):  # alternate, so drift on a shared machine hits both
                for p, e in engs.items():
                    ms[p].append(best_ms(functools.partial(e.run, feeds), a.repeat))
            f, q = min(ms["fp32"]), min(ms["int8"])
            cos = res.results[1].quant["metrics"]["cosine"]
            print(f"{name}: fp32 {f:.3f} ms, int8 {q:.3f} ms, speedup {f / q:.2f}x, int8 cosine {cos:.5f} "
                  f"({a.threads} thread{'s' if a.threads > 1 else ''})")


if __name__ == "__main__":
    main()
